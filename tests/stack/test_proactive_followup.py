"""Issue 13, "the bot knows", on the real stack (trained model, action server, backend API,
gateway with its outbox relay, demo mode): the lender issues a statement for TA-100198 through
the backend's API; the relay writes it into buyer-001's chat and tells Rasa what it was about; the
buyer's short replies "when exactly?", "which order?", "thanks" are answered about it. The same
short questions with no proactive message before them get asked what they are about.

The statement changes nothing else in the demo data, so the session's other stack tests are not
disturbed."""
from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
import uuid

import pytest

from bot.actions.formatting import day
from bot.auth import mint_buyer_token
from bot.service_token import DEMO_LENDER_TOKEN

pytestmark = pytest.mark.stack


def call(url: str, body=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


class GatewayChat:
    def __init__(self, stack, buyer_id: str):
        self.base = f"http://127.0.0.1:{stack.ports.gateway}"
        self.auth = {"Authorization": f"Bearer {mint_buyer_token(buyer_id, stack.env['PAYLATER_JWT_SECRET'])}"}
        self.id = call(self.base + "/v1/conversations", {"client": "web"}, self.auth)["id"]

    def say(self, text: str) -> str:
        out = call(f"{self.base}/v1/conversations/{self.id}/messages", {"text": text}, self.auth)
        return "\n".join(m["text"] for m in out["messages"] if m["sender"] == "bot")

    def history(self) -> list:
        return call(f"{self.base}/v1/conversations/{self.id}/messages", headers=self.auth)["messages"]


def test_short_replies_after_a_proactive_message_are_about_it(stack):
    chat = GatewayChat(stack, "buyer-001")
    assert chat.say("hello")
    today = dt.date.today()
    due = today + dt.timedelta(days=21)
    call(f"http://127.0.0.1:{stack.ports.backend}/v1/lender/agreements/AGR-TA-100198/statements",
         {"statement_date": today.isoformat(), "due_date": due.isoformat(), "amount_due": "1105.00"},
         {"Authorization": f"Bearer {DEMO_LENDER_TOKEN}", "Idempotency-Key": f"stmt-{uuid.uuid4().hex}"})
    deadline = time.monotonic() + 30
    while not any(m.get("kind") == "proactive" for m in chat.history()):
        assert time.monotonic() < deadline, "the relay did not deliver the statement"
        time.sleep(0.5)
    told = [m["text"] for m in chat.history() if m.get("kind") == "proactive"]
    assert told == [f"Your Pay Later statement for TA-100198 is out: $1,105.00 is due on {day(due)}."]

    assert chat.say("when exactly?") == (f"$1,105.00 for TA-100198 is due on {day(due)}; "
                                         f"the statement is dated {day(today)}.")
    assert chat.say("which order?") == "That was about your order TA-100198."
    assert chat.say("thanks") == "You're welcome! Anything else about TA-100198 or Pay Later?"
    # the context has lasted three messages: a fourth "which one?" is no longer read as about it
    assert "which order do you mean?" in chat.say("which one?").lower()


def test_the_same_short_questions_without_a_proactive_message_ask_what_is_meant(stack):
    chat = GatewayChat(stack, "buyer-002")
    assert "which order do you mean?" in chat.say("which order?").lower()
    assert chat.say("when exactly?").startswith("When what, exactly?")


def test_a_real_question_after_a_proactive_message_gets_its_usual_answer(stack):
    chat = GatewayChat(stack, "buyer-001")
    assert chat.say("hello")
    today = dt.date.today()
    call(f"http://127.0.0.1:{stack.ports.backend}/v1/lender/agreements/AGR-TA-100198/statements",
         {"statement_date": today.isoformat(), "due_date": (today + dt.timedelta(days=21)).isoformat(),
          "amount_due": "1105.00"},
         {"Authorization": f"Bearer {DEMO_LENDER_TOKEN}", "Idempotency-Key": f"stmt-{uuid.uuid4().hex}"})
    deadline = time.monotonic() + 30
    while not any(m.get("kind") == "proactive" for m in chat.history()):
        assert time.monotonic() < deadline, "the relay did not deliver the statement"
        time.sleep(0.5)
    answer = chat.say("is there a processing fee for pay later?")
    assert "free" in answer.lower() and "Did this answer your question?" in answer
    # the "yes" answers the feedback question, not the proactive message
    assert chat.say("yes") == "Glad it helped! Anything else about Pay Later, your orders or your credit line?"
