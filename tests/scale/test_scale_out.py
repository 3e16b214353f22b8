"""Several Rasa replicas on PostgreSQL (trackers) and Redis (locks): a conversation keeps its
state whichever replica answers, and survives the loss of a replica. The gateway pins each
conversation to one replica (stable hash, PAYLATER_RASA_URLS) and fails over to the next one when
its replica is down; these tests do what it does, replica by replica.

Needs PostgreSQL and Redis (skipped with the reason when absent) and a trained model."""
from __future__ import annotations

import urllib.error
import uuid

import pytest

from bot.auth import mint_buyer_token

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]

FORM = "pay_later_application_form"
FORM_SLOTS = ["business_name", "us_based", "years_in_business", "annual_revenue", "requested_limit", "application_confirmed"]


def is_product(cluster) -> bool:
    return FORM in (cluster.domain().get("forms") or {})


def script(cluster):
    if is_product(cluster):
        return ["hi", "what is pay later?", "is there a processing fee?", "which currency can I pay in?", "thanks"]
    return ["hello", "I am sad", "yes", "are you a bot?", "bye"]  # the `rasa init` moodbot


def user_texts(tracker: dict) -> list:
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def bot_count(tracker: dict) -> int:
    return sum(1 for e in tracker["events"] if e["event"] == "bot")


def new_sender(tag: str) -> str:
    return f"scale-{tag}-{uuid.uuid4().hex[:10]}"


def test_replicas_share_one_tracker_store(cluster):
    sender = new_sender("alt")
    messages = script(cluster)
    for n, text in enumerate(messages):
        reply = cluster.send(n % 2, sender, text)  # alternate replica 0, 1, 0, ...
        assert reply, f"no answer to {text!r} from replica {n % 2}"
    t0, t1 = cluster.tracker(0, sender), cluster.tracker(1, sender)
    assert user_texts(t0) == messages
    assert user_texts(t1) == messages
    assert [e["event"] for e in t0["events"]] == [e["event"] for e in t1["events"]]
    assert bot_count(t1) >= len(messages)


def test_application_form_continues_across_replicas(cluster):
    if not is_product(cluster):
        pytest.skip(f"the model has no {FORM} (not the product model)")
    meta = {"client": "web", "auth_token": mint_buyer_token("buyer-002", cluster.env["PAYLATER_JWT_SECRET"])}
    sender = new_sender("form")
    cluster.send(0, sender, "I want to apply for pay later", meta)
    tracker = cluster.tracker(1, sender)
    assert (tracker.get("active_loop") or {}).get("name") == FORM
    assert tracker["slots"]["requested_slot"] == FORM_SLOTS[0]
    answers = ["Blue Harbor Imports Inc", "yes, we are in New Jersey", "6 years", "$800,000 a year"]
    for n, answer in enumerate(answers):
        replica = (n + 1) % 2  # the answer to a question asked by one replica goes to the other
        assert cluster.send(replica, sender, answer, meta), f"no answer from replica {replica}"
        tracker = cluster.tracker(1 - replica, sender)  # and is read back from the first
        assert (tracker.get("active_loop") or {}).get("name") == FORM, f"form lost after {answer!r}"
        assert tracker["slots"]["requested_slot"] == FORM_SLOTS[n + 1], f"after {answer!r}"
    slots = cluster.tracker(0, sender)["slots"]
    assert "blue harbor" in str(slots["business_name"]).lower()
    assert slots["us_based"] not in (None, False, "False", "false")
    assert slots["years_in_business"] and slots["annual_revenue"]


def test_no_message_lost_when_a_replica_stops(cluster):
    """Must run last: it stops replica 0 for good."""
    sender = new_sender("failover")
    messages = script(cluster)
    for text in messages[:3]:
        assert cluster.send(0, sender, text)  # the conversation's own replica
    before = cluster.tracker(0, sender)
    cluster.stop_replica(0)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        cluster.send(0, sender, messages[3])  # gone: the gateway fails over to the next replica
    for text in messages[3:]:
        assert cluster.send(1, sender, text), f"no answer from the surviving replica to {text!r}"
    after = cluster.tracker(1, sender)
    assert user_texts(after) == messages, "every message, before and after the failover, is in the tracker"
    assert after["events"][: len(before["events"])] == before["events"], "earlier events kept as they were"
    assert bot_count(after) >= len(messages)
