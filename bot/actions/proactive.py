"""After a proactive message (the lender's money arrived, a payment is late, a statement is out,
...) the gateway sets two slots in Rasa's tracker with the message (bot/gateway/events/service.py,
`rasa_slots`): `proactive_event` (the event type; data/rules/proactive.yml is conditioned on it)
and `proactive_context` (its facts: order id, stage, amount, ISO dates).

`action_proactive_followup` answers the buyer's short reply in that context, from those facts:
"thanks" / "ok great" -> a welcome that names what it was about; "when exactly?" -> the date(s) of
that event in working days (PRODUCT.md rule 8: 1-3 working days after the agreement, late after
3); "which order?" / "which one?" -> the order (or the application) the message was about. The
facts were already told to this conversation, so no backend call and no sign-in is needed to
repeat them.

The context lasts for CONTEXT_TURNS buyer messages after the proactive message
(bot/slot_upkeep.py, run inside Rasa after every message) and survives a new session only when
the buyer has not written since the message arrived (`carry_context`, action_session_start)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.formatting import day, money
from bot.actions.wording import Wording

from bot.slot_upkeep import PROACTIVE_CONTEXT_SLOT as CONTEXT_SLOT  # noqa: E402
from bot.slot_upkeep import PROACTIVE_EVENT_SLOT as EVENT_SLOT  # noqa: E402
from bot.slot_upkeep import PROACTIVE_TURNS as CONTEXT_TURNS  # noqa: E402  buyer messages read in its context

# what the buyer's reply asks, by the intent NLU gave it (the rules only send these here)
QUESTION_OF_INTENT = {
    "thank": "thanks", "affirm": "ok", "feedback_helpful": "ok",
    "ask_when": "when",
    "ask_which": "which",
}

ORDER_EVENTS = ("agreement_completed", "disbursement_sent", "disbursement_arrived", "refund_booked",
                "statement_issued", "late_payment")


def _date(value: Any) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _money(value: Any, currency: str) -> str:
    try:
        return money(Decimal(str(value)), currency or "USD") if value not in (None, "") else ""
    except InvalidOperation:
        return ""


def facts(w: Wording, ctx: Dict[str, Any]) -> Dict[str, str]:
    """The context's values as the sentences show them."""
    cur = ctx.get("currency") or "USD"
    return {
        "order_id": ctx.get("order_id") or "",
        "stage": w.label("stage", ctx.get("stage")) if ctx.get("stage") else "",
        "amount": _money(ctx.get("amount"), cur),
        "amount_due": _money(ctx.get("amount_due"), cur),
        "limit": _money(ctx.get("limit"), cur),
        "on": day(_date(ctx.get("on"))),
        "completed": day(_date(ctx.get("agreement_completed_on") or ctx.get("on"))),
        "expected_from": day(_date(ctx.get("expected_from"))),
        "expected_by": day(_date(ctx.get("expected_by"))),
        "due": day(_date(ctx.get("due_date"))),
        "statement_date": day(_date(ctx.get("statement_date"))),
    }


def answer(w: Wording, question: str, kind: str, ctx: Dict[str, Any]) -> str:
    """The reply to `question` ("thanks" | "ok" | "when" | "which") about an event of type `kind`."""
    f = facts(w, ctx)
    about_order = kind in ORDER_EVENTS and f["order_id"]
    if question in ("thanks", "ok"):
        if kind == "late_payment":
            return w("utter_proactive_thanks_late", **f)
        name = "utter_proactive_thanks" if question == "thanks" else "utter_proactive_ok"
        return w(f"{name}_order" if about_order else name, **f)
    if question == "which":
        if not about_order:
            return w("utter_proactive_which_application")
        if f["stage"] and f["amount"]:
            return w("utter_proactive_which_payment", **f)
        return w("utter_proactive_which_order", **f)
    # "when"
    name = f"utter_proactive_when_{kind}"
    return w(name, **f) if w.has(name) else w("utter_proactive_when_unknown", **f)


def _last_context_index(events: List[Dict[str, Any]]) -> Optional[int]:
    for i in range(len(events) - 1, -1, -1):
        e = events[i]
        if e.get("event") == "slot" and e.get("name") == EVENT_SLOT:
            return i if e.get("value") else None
    return None


def buyer_messages_since_context(tracker: Tracker) -> Optional[int]:
    """How many buyer messages came after the gateway set the context; None without one."""
    i = _last_context_index(tracker.events)
    if i is None:
        return None
    return sum(1 for e in tracker.events[i + 1:] if e.get("event") == "user")


def carry_context(tracker: Tracker) -> bool:
    """At a new session: keep the context only if the buyer has not written since it was set
    (the message came while they were away; their first words back are about it)."""
    return buyer_messages_since_context(tracker) == 0


class ActionProactiveFollowup(Action):
    def name(self) -> Text:
        return "action_proactive_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        w = Wording(domain)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        question = QUESTION_OF_INTENT.get(intent or "", "when")
        kind = tracker.get_slot(EVENT_SLOT) or ""
        ctx = tracker.get_slot(CONTEXT_SLOT)
        ctx = ctx if isinstance(ctx, dict) else {}
        dispatcher.utter_message(text=answer(w, question, kind, ctx))
        return []
