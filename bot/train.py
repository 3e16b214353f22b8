"""The training entry point of the product: `rasa train` with its two neural trainings at once.

    python -m bot.train train --fixed-model-name paylater --out models (same arguments as `rasa`)

Rasa 3.6 runs the training graph through dask's synchronous scheduler: one node after another
in one thread. DIETClassifier and the ResponseSelector both train only from the featurized
training data, need nothing from each other, and were ~90 % of `make train` (docs/ADDING_AN_FAQ.md
"Training time (trainfast)"); TensorFlow keeps about 1.4 of the 2 cores busy with one of them. Here the
ResponseSelector's training node (`CONCURRENT_COMPONENTS`) starts in a second process as soon as its
inputs are ready, while the rest of the graph (DIET included) goes on in this one; nodes that
need its output wait for it. A process, not a thread: each of Rasa's models sets the process's
global random seeds (Python, NumPy, TensorFlow) when it is built and draws from them while it
trains (batch shuffling, initial weights), so two models in one process would interleave their
draws and train differently from run to run. In its own process the selector sees exactly the
seeds and inputs it sees in the sequential run: the same model (tests/shared/test_train.py
trains both ways and compares the parses).

The second process gets the node (without its hooks) and its inputs pickled, trains into the
same model storage directory and returns the node's output (a `Resource`); the node's hooks
(Rasa's training cache, logging) run here before and after, as in `GraphNode.__call__`.
Everything else is Rasa's: the same nodes, the same order of the nodes left in this process.
PAYLATER_CONCURRENT_TRAINING=0 trains sequentially (Rasa's own runner).
"""
from __future__ import annotations

import copy
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

# training nodes of these components run in a second process; chosen by class, not node name, so a
# subclass named by module path in config.yml (node `train_bot.nlu.components.X5`) is one too
CONCURRENT_COMPONENTS = ("ResponseSelector",)


def offloaded(fn_name: str, component_class: type) -> bool:
    """Whether a graph node runs in the second process: the `train` of a CONCURRENT_COMPONENTS class."""
    return fn_name == "train" and any(cls.__name__ in CONCURRENT_COMPONENTS
                                      for cls in getattr(component_class, "__mro__", ()))


def _run_node_in_child(payload: bytes) -> Tuple[str, Any]:
    """In the second process: the node as `GraphNode.__call__` runs it (hooks stripped)."""
    node, args = pickle.loads(payload)
    return node(*args)


def _plan(schema, targets, offload) -> List[Tuple[str, List[str]]]:
    """Nodes in Rasa's order (dask's), each offloaded node moved up to just after the last node
    it needs, so that it starts as early as it can."""
    from dask.order import order

    from bot.rasa_server import _run_order

    plan = _run_order(schema, targets)
    # in the priorities dask.get orders by (dask.order), as under Rasa's runner; each node's
    # result does not depend on the order anyway: the featurizers form one chain, and each
    # model sets its own seeds when it is built
    graph = {name: (lambda *a: None, *needs) for name, needs in plan}
    priority = order(graph)
    plan.sort(key=lambda item: priority[item[0]])
    moved = [item for item in plan if item[0] in offload]
    rest = [item for item in plan if item[0] not in offload]
    for item in moved:
        needs = set(item[1])
        at = 0
        for i, (name, _) in enumerate(rest):
            if name in needs:
                at = i + 1
        rest.insert(at, item)
    return rest


def install_concurrent_training() -> None:
    """Patch Rasa's graph runner so that the `CONCURRENT_COMPONENTS` train in a second process."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot.rasa_server import _input_values

    if getattr(DaskGraphRunner.run, "_paylater_concurrent", False):
        return
    original = DaskGraphRunner.run

    def run(self, inputs=None, targets=None):
        run_targets = targets if targets else self._graph_schema.target_names
        nodes = self._instantiated_nodes
        offload = {name for name, node in nodes.items() if offloaded(node._fn_name, node._component_class)}
        if not offload:  # e.g. the fingerprint run before training, or a model's parse
            return original(self, inputs, targets)
        plan = _plan(self._graph_schema.minimal_graph_schema(run_targets), run_targets, offload)
        values: Dict[str, Any] = _input_values(inputs, plan)

        def value(need):
            got = values.get(need, need)
            if isinstance(got, _Elsewhere):
                got = values[need] = got.result()
            return got

        pending: List[_Elsewhere] = []
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as processes:
            try:
                for name, needs in plan:
                    args = [value(need) for need in needs]
                    if name in offload:
                        values[name] = _Elsewhere(nodes[name], args, processes)
                        pending.append(values[name])
                    else:
                        values[name] = nodes[name](*args)
                result = {target: value(target) for target in run_targets}
            except RuntimeError as e:
                raise GraphRunError("Error running runner.") from e
            finally:
                for item in pending:
                    item.future.exception()  # wait: never leave the second process training
        return dict(result.values())

    run._paylater_concurrent = True
    run._original = original
    DaskGraphRunner.run = run


class _Elsewhere:
    """A node's `GraphNode.__call__` with the component's own work done in the second process.
    Its inputs are pickled here, at once, in this thread: the nodes that run next in this
    process read the same training data (and Rasa fills lazy caches on it while they do). The
    node's hooks run in this thread too: before, and after when its output is first needed."""

    def __init__(self, node, args, processes: ProcessPoolExecutor) -> None:
        from rasa.engine.exceptions import GraphRunError

        received = {arg[0]: arg[1] for arg in args if isinstance(arg, tuple)}
        kwargs = {}
        for input_name, provider in node._inputs.items():
            if provider not in received:
                raise GraphRunError(f"Missing input to run node '{node._node_name}'. Expected input "
                                    f"'{provider}' to provide parameter '{input_name}'.")
            kwargs[input_name] = received[provider]
        self.node = node
        self.hook_data = node._run_before_hooks(kwargs)
        bare = copy.copy(node)
        bare._hooks = []
        self.future: Future = processes.submit(_run_node_in_child, pickle.dumps((bare, args), pickle.HIGHEST_PROTOCOL))

    def result(self) -> Tuple[str, Any]:
        name, output = self.future.result()
        self.node._run_after_hooks(self.hook_data, output)
        return name, output


def main(argv: Optional[List[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get("PAYLATER_CONCURRENT_TRAINING", "1") != "0":
        install_concurrent_training()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
