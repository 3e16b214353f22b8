"""bot/rasa_server.py `install_sequential_graph_runner`: Rasa's model graph run without dask,
nodes called in an order worked out once. With the product model, the same parses (intents,
confidences, rankings, entities, response selections) and, through Rasa's processor, the same
conversations (actions, policies, confidences, slots) as through dask."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rasa.engine.runner.dask import DaskGraphRunner

from bot import rasa_server

sys.path.insert(0, str(Path(__file__).parent))
from test_flat_states import agent, assert_same_conversations  # noqa: E402,F401  (agent: the product model, fake action server)
from test_rasa_message_path import NLU_TEXTS  # noqa: E402


@pytest.fixture
def runners(monkeypatch):
    """Switch between dask (Rasa's own) and the sequential runner within one test."""
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)  # restored after the test
    dask_run = DaskGraphRunner.run
    rasa_server.install_sequential_graph_runner()
    sequential_run = DaskGraphRunner.run
    assert getattr(sequential_run, "_paylater", False)

    def use(name):
        DaskGraphRunner.run = {"dask": dask_run, "sequential": sequential_run}[name]

    return use


def test_parses_are_the_same(agent, runners):
    out = {}
    for name in ("dask", "sequential", "dask"):
        runners(name)
        out.setdefault(name, []).append([agent._test_loop.run_until_complete(agent.parse_message(t))
                                         for t in NLU_TEXTS])
    assert out["sequential"][0] == out["dask"][0] == out["dask"][1]
    assert any(p["intent"]["name"] == "faq" and p.get("response_selector") for p in out["sequential"][0])
    assert any(p["entities"] for p in out["sequential"][0])


@pytest.mark.parametrize("seed", [1, 2])
def test_conversations_through_rasa_give_the_same_events(agent, runners, tmp_path, seed):
    assert_same_conversations(agent, tmp_path, seed, runners, ("dask", "sequential"))



def test_an_input_named_like_a_node_is_refused_as_rasa_does(agent, runners):
    from rasa.engine.exceptions import GraphRunError

    runner = agent.processor.graph_runner
    node = next(iter(runner._graph_schema.nodes))
    for name in ("dask", "sequential"):
        runners(name)
        with pytest.raises(GraphRunError):
            runner.run(inputs={"__message__": node}, targets=[node])
