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
