"""bot.rasa_server's cached validation gives the same verdicts and errors as jsonschema's own."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_server

SCHEMA = RemoteAction.action_response_format_spec()
GOOD = {"events": [{"event": "slot", "name": "order_id", "value": "TA-100231"}],
        "responses": [{"text": "Your order TA-100231 ..."}]}
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "slot", "timestamp": "not a number"}]},
    {"responses": [42]},
]


@pytest.fixture
def cached(monkeypatch):
    original = jsonschema.validate
    monkeypatch.setattr(jsonschema, "validate", original)  # restored after the test
    rasa_server.install_cached_validation()
    assert jsonschema.validate is not original
    return original


def test_valid_response_passes(cached):
    jsonschema.validate(GOOD, SCHEMA)


@pytest.mark.parametrize("bad", BAD)
def test_invalid_responses_fail_with_the_same_error(cached, bad):
    with pytest.raises(jsonschema.ValidationError) as ours:
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(jsonschema.ValidationError) as theirs:
        cached(bad, SCHEMA)
    assert ours.value.message == theirs.value.message
    assert list(ours.value.path) == list(theirs.value.path)


def test_installing_twice_keeps_one_wrapper(cached):
    first = jsonschema.validate
    rasa_server.install_cached_validation()
    assert jsonschema.validate is first


# ---------------------------------------------------------------- faster model load
FAST_LOAD_MESSAGES = [
    "what is pay later", "show my orders", "when does the supplier receive the money", "I want to talk to a person",
    "how much does it cost to borrow 5000", "is TA-100231 eligible", "hello", "weather in chicago",
    "apply for credit", "what's my credit limit", "where is my money for order TA-100232", "is there a fee",
]


def _parse_with_loaded_model(model_path):
    import asyncio
    import gc

    from rasa.core.agent import load_agent

    async def run():
        agent = await load_agent(model_path=str(model_path))
        out = []
        for text in FAST_LOAD_MESSAGES:
            r = await agent.parse_message(text)
            out.append((
                r["intent"]["name"], round(r["intent"]["confidence"], 5),
                sorted((k, v["response"]["intent_response_key"], round(v["response"]["confidence"], 5))
                       for k, v in r.get("response_selector", {}).items() if k != "all_retrieval_intents"),
                [(e["entity"], e["value"]) for e in r["entities"]],
            ))
        return out

    result = asyncio.run(run())
    gc.collect()
    return result


@pytest.mark.stack
def test_fast_model_load_predicts_exactly_as_rasa_loads():
    """The eager weight-building step and the prediction graph traced without AutoGraph change how
    fast the model loads, not what it predicts."""
    from rasa.utils.tensorflow import models

    from bot.config import PROJECT_ROOT

    model = PROJECT_ROOT / "models" / "paylater.tar.gz"
    if not model.exists():
        pytest.skip("no trained model: run `make train` (make test does)")
    original, original_predict = models.RasaModel.__dict__["load"], models.RasaModel._rasa_predict
    try:
        plain = _parse_with_loaded_model(model)
        rasa_server.install_fast_model_load()
        assert getattr(models.RasaModel.load.__func__, "_paylater", False)
        fast = _parse_with_loaded_model(model)
    finally:
        models.RasaModel.load, models.RasaModel._rasa_predict = original, original_predict
    assert fast == plain


# ---------------------------------------------------------------- debug-only deep copies
def _deepcopy_calls_outside_debug_logging(module_name):
    """`copy.deepcopy(...)` calls of a Rasa module that are not inside a `structlogger.debug(...)` call."""
    import ast
    import importlib
    import inspect

    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    outside = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "deepcopy"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "copy"):
            up = parents.get(node)
            while up is not None and not (isinstance(up, ast.Call) and isinstance(up.func, ast.Attribute)
                                          and up.func.attr == "debug"
                                          and getattr(up.func.value, "id", None) == "structlogger"):
                up = parents.get(up)
            if up is None:
                outside.append(node.lineno)
    return outside


@pytest.mark.parametrize("module_name", rasa_server.DEBUG_COPY_MODULES)
def test_the_patched_modules_deep_copy_only_for_debug_lines(module_name):
    assert _deepcopy_calls_outside_debug_logging(module_name) == []


def test_deep_copies_are_skipped_only_while_debug_logging_is_off(monkeypatch):
    import copy
    import logging

    import structlog
    from rasa.core import processor
    from rasa.utils.log_utils import configure_structlog

    monkeypatch.setattr(processor, "copy", copy)
    rasa_server.install_debug_only_copies()
    value = {"events": [{"a": 1}]}
    try:
        configure_structlog(logging.INFO)
        assert processor.copy.deepcopy(value) is value
        configure_structlog(logging.DEBUG)
        copied = processor.copy.deepcopy(value)
        assert copied == value and copied is not value
    finally:
        structlog.reset_defaults()
    assert processor.copy.copy is copy.copy  # everything else is the copy module's own
