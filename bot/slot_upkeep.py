"""The per-message slot upkeep: `client` in step with the message metadata, `order_id`
normalised. Pure (no framework imports): Rasa runs it in-process after its slot extraction
(bot/rasa_server.py `install_slot_upkeep`), so a message costs no action-server round trip for
it; the action `action_validate_slot_mappings` (bot/actions/session.py) runs the same function
for a model trained when the domain still listed that action.

What the buyer says beats the metadata for that answer: "how do I pay in the app" asked in the
web widget sets `client` to app (both named: unset, so the answer covers both); the next
message without a mention puts the metadata's client back.

A proactive message's context (the slots `proactive_event` / `proactive_context` the gateway sets,
bot/actions/proactive.py) lasts PROACTIVE_TURNS buyer messages after it, the current one included:
"thanks" an hour of other questions later is not about the money any more.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from bot.nlu.decide import client_mentioned
from bot.parsing import normalize_order_id

CLIENTS = ("web", "app")
PROACTIVE_EVENT_SLOT = "proactive_event"
PROACTIVE_CONTEXT_SLOT = "proactive_context"
PROACTIVE_TURNS = 3


def client_from(meta: Optional[Dict[str, Any]]) -> Optional[str]:
    client = (meta or {}).get("client")
    return client if client in CLIENTS else None


def slot_upkeep(metadata: Optional[Dict[str, Any]], text: Optional[str], current_client: Optional[str],
                extracted_order_id: Any = None, proactive_active: bool = False,
                messages_since_proactive: Optional[int] = None) -> Dict[str, Optional[str]]:
    """The slots to set after this user message: {"client": ..., "order_id": ...} (only changes).
    `proactive_active`: a proactive message's context is set; `messages_since_proactive`: buyer
    messages since it was set (this one included; None when the tracker does not show it)."""
    out: Dict[str, Optional[str]] = {}
    client = client_from(metadata)
    said = client_mentioned(text or "")
    if said:
        client = None if said == "both" else said
        if client != current_client:
            out["client"] = client
    elif client and client != current_client:
        out["client"] = client
    if extracted_order_id:
        out["order_id"] = normalize_order_id(str(extracted_order_id))
    if proactive_active and (messages_since_proactive is None or messages_since_proactive > PROACTIVE_TURNS):
        out[PROACTIVE_EVENT_SLOT] = None
        out[PROACTIVE_CONTEXT_SLOT] = None
    return out
