"""bot/rasa_server.py, the per-message path of Rasa (issue 14, CPU and p95 under load):
- `install_local_followup_check`: `action_faq_followup` is not sent to the action server for a
  message of one question; the answer is the one the action server would give (nothing);
- `install_pooled_action_connections`: action calls reuse a kept connection, answers and errors
  are Rasa's own;
- `install_local_actions`: `action_session_start` runs inside Rasa with the events the action
  server would answer."""
from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.actions.faq import ActionFaqFollowup, has_second_question
from bot.actions.session import ActionSessionStart
from bot.config import PROJECT_ROOT
from bot.rasa_server import (
    install_local_actions,
    install_local_followup_check,
    install_pooled_action_connections,
)


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def tracker_after(domain, text):
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered(text, {"name": "faq", "confidence": 0.9}, []))
    tracker.update(ActionExecuted("utter_faq"))
    return tracker


class RecordingEndpoint(EndpointConfig):
    def __init__(self):
        super().__init__("http://127.0.0.1:1/webhook")
        self.calls = []

    async def request(self, **kwargs):
        self.calls.append(kwargs["json"]["next_action"])
        return {"events": [], "responses": [{"text": "and the second answer"}]}


@pytest.fixture
def followup_check(monkeypatch):
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)  # restored after the test
    install_local_followup_check()


@pytest.mark.parametrize("text", ["what is pay later?", "is there a processing fee", "", "hi"])
async def test_a_one_question_message_gets_the_actions_empty_answer_without_a_call(domain, followup_check, text):
    endpoint = RecordingEndpoint()
    events = await RemoteAction("action_faq_followup", endpoint).run(None, None, tracker_after(domain, text), domain)
    assert events == []
    assert endpoint.calls == []
    # ... which is what the action itself answers for that message
    assert not has_second_question({"text": text})


async def test_a_two_question_message_still_goes_to_the_action_server(domain, followup_check):
    endpoint = RecordingEndpoint()
    text = "what is pay later and who is the lender?"
    assert has_second_question({"text": text})
    tracker = tracker_after(domain, text)

    class Nlg:
        async def generate(self, *a, **k):
            return None

    events = await RemoteAction("action_faq_followup", endpoint).run(None, Nlg(), tracker, domain)
    assert endpoint.calls == ["action_faq_followup"]
    assert [e.text for e in events] == ["and the second answer"]


async def test_other_actions_are_always_called(domain, followup_check):
    endpoint = RecordingEndpoint()
    await RemoteAction("action_order_status", endpoint).run(None, None, tracker_after(domain, "hi"), domain)
    assert endpoint.calls == ["action_order_status"]


async def test_the_action_agrees_with_the_check():
    class Tracker:
        latest_message = {"text": "what is pay later?"}

    calls = []

    async def parser(parts, settings):
        calls.append(parts)
        return []

    action = ActionFaqFollowup()
    action.parser = parser
    assert await action.run(None, Tracker(), {}) == []
    assert calls == []  # nothing parsed: one question, as the check says


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    install_pooled_action_connections()


async def test_action_calls_reuse_one_connection_and_keep_rasas_answers_and_errors(pooled, aiohttp_server):
    peers = []

    async def webhook(request):
        peers.append(request.transport.get_extra_info("peername"))
        body = await request.json()
        if body.get("next_action") == "rejected":
            return web.json_response({"action_name": "rejected", "error": "no"}, status=400)
        return web.json_response({"events": [], "responses": [{"text": f"ran {body['next_action']}"}],
                                  "token": request.query.get("token")})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    server = await aiohttp_server(app)
    endpoint = EndpointConfig(str(server.make_url("/webhook")), token="secret")
    for name in ("a", "b", "c"):
        answer = await endpoint.request(json={"next_action": name}, method="post")
        assert answer["responses"] == [{"text": f"ran {name}"}]
        assert answer["token"] == "secret"
    assert len(peers) == 3 and len(set(peers)) == 1  # one kept connection
    with pytest.raises(Exception) as err:
        await endpoint.request(json={"next_action": "rejected"}, method="post")
    assert getattr(err.value, "status", None) == 400  # Rasa's ClientResponseError, as before
    await server.close()
    with pytest.raises(aiohttp.ClientConnectionError):  # the server gone: what Rasa handles as before
        await endpoint.request(json={"next_action": "d"}, method="post")


async def test_a_remote_action_with_no_server_fails_as_in_rasa(domain, pooled):
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook")
    with pytest.raises(RasaException):
        await RemoteAction("action_order_status", endpoint).run(None, None, tracker_after(domain, "hi"), domain)


@pytest.fixture
def local_actions(monkeypatch):
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    install_local_actions()


def session_tracker(domain, *events):
    tracker = DialogueStateTracker("c", domain.slots)
    for e in events:
        tracker.update(e)
    return tracker


def untimed(event):
    d = event.as_dict()
    d.pop("timestamp", None)  # each event is stamped when it is made
    return d


async def over_the_wire(action, tracker, domain):
    """What the action server answers for this call, and Rasa's events from that answer."""
    from rasa.shared.core import events as core_events
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_action(ActionSessionStart)
    body = json.loads(json.dumps(action._action_call_format(tracker, domain)))  # sent as JSON
    return core_events.deserialise_events(json.loads(json.dumps(await executor.run(body)))["events"])


@pytest.mark.parametrize("case", ["new", "expired_with_slots", "context_unread", "context_read"])
async def test_session_start_runs_in_rasa_with_the_action_servers_events(domain, local_actions, case):
    from rasa.shared.core.events import SessionStarted, SlotSet

    md = {"client": "whatsapp"}
    events = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet", "confidence": 1.0}, [], metadata=md)]
    if case != "new":
        events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
                  SlotSet("order_id", "TA-100231"), SlotSet("client", "web"), SlotSet("requested_slot", "amount")]
        if case.startswith("context"):
            events += [SlotSet("proactive_event", "disbursed"), SlotSet("proactive_context", {"order_id": "TA-100231"})]
        if case == "context_read":
            events += [UserUttered("when exactly?", {"name": "faq", "confidence": 0.9}, [])]
        events += [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet", "confidence": 1.0}, [], metadata=md)]
    tracker = session_tracker(domain, *events)
    endpoint = RecordingEndpoint()
    action = RemoteAction("action_session_start", endpoint)
    got = await action.run(None, None, tracker, domain)
    assert endpoint.calls == []  # no HTTP call
    want = await over_the_wire(action, tracker, domain)
    assert [untimed(e) for e in got] == [untimed(e) for e in want]
    assert isinstance(got[0], SessionStarted) and got[-1] == ActionExecuted("action_listen")
    if case != "new":
        assert SlotSet("order_id", "TA-100231") in got  # carried over, as the action does


async def test_other_actions_still_go_to_the_action_server(domain, local_actions):
    endpoint = RecordingEndpoint()
    await RemoteAction("action_order_status", endpoint).run(None, None, tracker_after(domain, "hi"), domain)
    assert endpoint.calls == ["action_order_status"]


# our own texts (not from any evaluation set): short, long, two questions, entities, off topic
NLU_TEXTS = [
    "hi", "thanks a lot", "what does pay later cost me", "is there a fee if I pay late?",
    "where is my money for TA-100231", "status of order TA-100245", "can I use pay later for TA-100198?",
    "how much credit do I have left", "I want to talk to a person", "what's the weather in Paris",
    "what is pay later and who lends the money?", "my supplier says they never got paid for TA-100212, "
    "it has been two weeks and I am getting worried. when will they receive it?", "refund for ta100231 please",
    "bye", "which currencies are supported?", "I paid by bank transfer yesterday, when will the deposit show up?",
    "ok", "no", "yes please", "asdf qwer",
]


@pytest.mark.stack
def test_nlu_in_its_thread_parses_exactly_as_on_the_loop(monkeypatch):
    """install_nlu_off_loop moves the parse, not its result: intents, confidences, rankings,
    entities and response selections are identical, also with parses running side by side."""
    from rasa.core.agent import load_agent
    from rasa.core.processor import MessageProcessor
    from rasa.utils.tensorflow import models

    from bot import rasa_server

    model = PROJECT_ROOT / "models" / "paylater.tar.gz"
    if not model.exists():
        pytest.skip("no trained model: run `make train` (make test does)")
    monkeypatch.setattr(models.RasaModel, "load", models.RasaModel.__dict__["load"])
    monkeypatch.setattr(models.RasaModel, "_rasa_predict", models.RasaModel._rasa_predict)
    monkeypatch.setattr(MessageProcessor, "parse_message", MessageProcessor.parse_message)
    rasa_server.install_fast_model_load()

    async def run():
        agent = await load_agent(model_path=str(model))
        on_loop = [await agent.parse_message(t) for t in NLU_TEXTS]
        rasa_server.install_nlu_off_loop()
        assert getattr(MessageProcessor.parse_message, "_paylater", False)
        in_thread = [await agent.parse_message(t) for t in NLU_TEXTS]
        side_by_side = await asyncio.gather(*(agent.parse_message(t) for t in NLU_TEXTS))
        return on_loop, in_thread, list(side_by_side)

    on_loop, in_thread, side_by_side = asyncio.new_event_loop().run_until_complete(run())
    assert in_thread == on_loop
    assert side_by_side == on_loop
