"""The per-message slot upkeep runs inside Rasa (bot/rasa_server.py install_slot_upkeep) with
the product's domain, which no longer lists action_validate_slot_mappings: the same answers as
the action gave (tests/actions/test_handoff_fallback_session.py), without an action-server call."""
from __future__ import annotations

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_VALIDATE_SLOT_MAPPINGS
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import PROJECT_ROOT
from bot.rasa_server import install_slot_upkeep


@pytest.fixture(scope="module")
def domain():
    install_slot_upkeep()
    d = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    assert ACTION_VALIDATE_SLOT_MAPPINGS not in d.user_actions
    return d


async def extract(domain, text, meta, slot=None, entities=()):
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    if slot:
        tracker.update(SlotSet("client", slot))
    tracker.update(UserUttered(text, {"name": "faq", "confidence": 0.9}, list(entities), metadata={"client": meta}))
    events = await ActionExtractSlots(None).run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
                                                tracker, domain)
    return {e.key: e.value for e in events if isinstance(e, SlotSet)}


@pytest.mark.parametrize("text, meta, slot, expected", [
    ("how do I pay in the app", "web", "web", {"client": "app"}),
    ("and on the website instead?", "app", "app", {"client": "web"}),
    ("in the app or on the website, how do I pay", "web", "web", {"client": None}),
    ("how do I apply", "web", "app", {"client": "web"}),  # no mention: the metadata is back
    ("can I apply for pay later", "app", "app", {}),  # "apply" is not "app"
    ("hi", "evil", "web", {}),
])
async def test_what_the_buyer_says_beats_the_metadata(domain, text, meta, slot, expected):
    assert await extract(domain, text, meta, slot) == expected


async def test_order_id_is_normalised(domain):
    entity = {"entity": "order_id", "value": "ta100231", "start": 0, "end": 8}
    assert await extract(domain, "ta100231", "web", "web", [entity]) == {"order_id": "TA-100231"}


async def _after_proactive(domain, buyer_messages):
    """A tracker where the gateway set the proactive context, then `buyer_messages` buyer messages."""
    tracker = DialogueStateTracker("c", domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(SlotSet("proactive_event", "disbursement_arrived"))
    tracker.update(SlotSet("proactive_context", {"order_id": "TA-100245"}))
    for i in range(buyer_messages):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"message {i}", {"name": "thank", "confidence": 0.9}, metadata={"client": "web"}))
    events = await ActionExtractSlots(None).run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
                                                tracker, domain)
    return {e.key: e.value for e in events if isinstance(e, SlotSet)}


@pytest.mark.parametrize("messages, cleared", [(1, False), (3, False), (4, True)])
async def test_a_proactive_message_context_lasts_three_buyer_messages(domain, messages, cleared):
    """The expiry runs inside Rasa too (it lived in action_validate_slot_mappings before)."""
    changes = await _after_proactive(domain, messages)
    if cleared:
        assert changes.get("proactive_event", "kept") is None and changes.get("proactive_context", "kept") is None
    else:
        assert "proactive_event" not in changes and "proactive_context" not in changes
