"""The training entry point of the product: `rasa train` with its trainings in two processes.

    python -m bot.train train --fixed-model-name paylater --out models (same arguments as `rasa`)

Rasa 3.6 runs the training graph through dask's synchronous scheduler: one node after another
in one thread. DIETClassifier and the ResponseSelector both train only from the featurized
training data, need nothing from each other, and were ~90 % of `make train` (docs/ADDING_AN_FAQ.md
"Training time (trainfast)"); TensorFlow keeps about 1.4 of the 2 cores busy with one of them. Here the
training nodes of `CONCURRENT_COMPONENTS` run in a second process, one after the other, while the
rest of the graph (DIET included) goes on in this one; nodes that need their output wait for it.
Each is handed over as soon as its inputs are ready, in the tuple's order: the policies first
(they need only the stories and the domain), then the linear second opinion (two logistic
regressions and the sentence encoder over every example, ~60 s; it reads only texts and labels,
so since round 11 it is handed the NLU data as read from the files: `TEXT_ONLY_COMPONENTS`), both
while this process featurizes the NLU data; then the ResponseSelector, beside DIET. A process, not a thread: each of Rasa's models sets the process's global random seeds
(Python, NumPy, TensorFlow) when it is built and draws from them while it trains (batch
shuffling, initial weights), so two models in one process would interleave their draws and train
differently from run to run. In its own process each sees exactly the seeds and inputs it sees
in the sequential run: the same model (tests/shared/test_train.py trains both ways and compares
the parses and the replies).

The second process gets the node (without its hooks) and its inputs pickled, trains into the
same model storage directory and returns the node's output (a `Resource`); the node's hooks
(Rasa's training cache, logging) run here before and after, as in `GraphNode.__call__`.
Everything else is Rasa's: the same nodes; the nodes left in this process keep their order,
except that the ones an offloaded node needs come before it. PAYLATER_CONCURRENT_TRAINING=0
trains sequentially (Rasa's own runner).
"""
from __future__ import annotations

import copy
import multiprocessing
import os
import pickle
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

# training nodes of these components run in a second process; chosen by class, not node name, so a
# subclass named by module path in config.yml (node `train_bot.nlu.components.X5`) is one too
CONCURRENT_COMPONENTS = ("RulePolicy", "MemoizationPolicy", "LinearSecondOpinion", "ResponseSelector")
# components whose training reads only the examples' texts and labels (and the responses): their
# train node is handed the NLU training data as read from the files, not the featurized copy, so it
# starts in the second process while this one tokenizes and featurizes (round 11). Same texts, same
# labels, same model (tests/shared/test_train.py compares the parses and replies).
TEXT_ONLY_COMPONENTS = ("LinearSecondOpinion",)
RAW_NLU_DATA = "nlu_training_data_provider"


def _class_names(component_class: type) -> List[str]:
    """The names of the class and its bases: a subclass of a listed component counts as it."""
    return [cls.__name__ for cls in getattr(component_class, "__mro__", ())]


def rank(component_class: type) -> int:
    """The place of a component's class in CONCURRENT_COMPONENTS (len() if it is not there)."""
    names = _class_names(component_class)
    return min((CONCURRENT_COMPONENTS.index(n) for n in names if n in CONCURRENT_COMPONENTS),
               default=len(CONCURRENT_COMPONENTS))


def offloaded(fn_name: str, component_class: type) -> bool:
    """Whether a graph node runs in the second process: the `train` of a CONCURRENT_COMPONENTS class."""
    return fn_name == "train" and rank(component_class) < len(CONCURRENT_COMPONENTS)


def reads_text_only(component_class: type) -> bool:
    return any(name in TEXT_ONLY_COMPONENTS for name in _class_names(component_class))


def on_raw_data(schema, offload: Sequence[str]):
    """(the schema as `_plan` reads it: `.nodes[name].needs`, the names of the nodes rerouted):
    the training data of each offloaded text-only node taken from the NLU data provider instead
    of the last featurizer. Unchanged when the schema has no provider (a core-only training)."""
    import dataclasses
    from types import SimpleNamespace

    graph = dict(schema.nodes)
    if RAW_NLU_DATA not in graph:
        return schema, []
    rerouted = [name for name in offload
                if reads_text_only(graph[name].uses) and "training_data" in graph[name].needs]
    for name in rerouted:
        graph[name] = dataclasses.replace(graph[name], needs={**graph[name].needs, "training_data": RAW_NLU_DATA})
    return SimpleNamespace(nodes=graph), rerouted


def child_tf_threads() -> int:
    """TensorFlow's threads (each of its two pools) in the second process; 0: TensorFlow's own
    choice, as many as the cores. Each process's TensorFlow would size its pools to every core,
    so while the selector and DIET train side by side, four pools of two threads share two cores;
    the second process gets half the cores, DIET keeps TensorFlow's default. On 2 cores, `make
    train` 280-297 s -> 254 s, DIET 211-246 s -> 165 s, the same parses (tests/shared/test_train.py).
    PAYLATER_CHILD_TF_THREADS overrides (0: TensorFlow's default)."""
    value = os.environ.get("PAYLATER_CHILD_TF_THREADS")
    if value is not None and value.strip():
        return max(0, int(value))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 2
    return max(1, cores // 2)


def _run_node_in_child(payload: bytes) -> Tuple[str, Any]:
    """In the second process: the node as `GraphNode.__call__` runs it (hooks stripped)."""
    from rasa.constants import ENV_CPU_INTER_OP_CONFIG, ENV_CPU_INTRA_OP_CONFIG
    from rasa.utils.tensorflow.environment import setup_tf_environment

    threads = child_tf_threads()
    if threads:  # before TensorFlow starts its pools (this process is spawned: it has not yet)
        for name in (ENV_CPU_INTRA_OP_CONFIG, ENV_CPU_INTER_OP_CONFIG):
            os.environ.setdefault(name, str(threads))  # Rasa's own variables, if set, win
    setup_tf_environment()  # TensorFlow's thread pools (Rasa's __main__ does it in the first process)
    node, args = pickle.loads(payload)
    return node(*args)


def _plan(schema, targets, offload: Sequence[str]) -> List[Tuple[str, List[str]]]:
    """Nodes in Rasa's order (dask's), except that the offloaded nodes come first, in the order
    given, each right after the nodes it needs (and theirs): each starts as early as it can, and
    the second process takes them in that order (the policies need only the stories and the
    domain, so they train there while this process featurizes the NLU data)."""
    from dask.order import order

    from bot.rasa_server import _run_order

    plan = _run_order(schema, targets)
    # in the priorities dask.get orders by (dask.order), as under Rasa's runner; each node's
    # result does not depend on the order anyway: the featurizers form one chain, and each
    # model sets its own seeds when it is built
    graph = {name: (lambda *a: None, *needs) for name, needs in plan}
    priority = order(graph)
    plan.sort(key=lambda item: priority[item[0]])
    needs_of = dict(plan)
    out: List[Tuple[str, List[str]]] = []
    done: set = set()

    def emit(name: str) -> None:
        if name in done or name not in needs_of:
            return
        done.add(name)
        for need in needs_of[name]:
            emit(need)
        out.append((name, needs_of[name]))

    for name in offload:
        emit(name)
    for name, _ in plan:
        emit(name)
    return out


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
        offload = sorted((name for name, node in nodes.items() if offloaded(node._fn_name, node._component_class)),
                         key=lambda name: (rank(nodes[name]._component_class), name))
        if not offload:  # e.g. the fingerprint run before training, or a model's parse
            return original(self, inputs, targets)
        schema, rerouted = on_raw_data(self._graph_schema.minimal_graph_schema(run_targets), offload)
        nodes = dict(nodes)
        for name in rerouted:  # the node reads its inputs where the rerouted schema says
            nodes[name] = copy.copy(nodes[name])
            nodes[name]._inputs = dict(schema.nodes[name].needs)
        plan = _plan(schema, run_targets, offload)
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
