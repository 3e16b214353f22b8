"""Events -> what the buyer sees. `EventService.handle(event)` acts once per event id (a repeat
delivery does nothing), writes the sentence (domain.yml `utter_event_*`, rendered by
bot.actions.wording) into the buyer's conversation through ConversationService, and hands the
event to the app's outgoing webhook. `LateJob` finds payments more than 3 working days after the
agreement without arrival and tells the buyer once per payment, with a queued handoff."""
from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Dict, Optional

from bot.actions.formatting import day
from bot.actions.wording import Wording, join
from bot.domain.money import format_money

log = logging.getLogger(__name__)

EVENT_TYPES = ("agreement_completed", "disbursement_sent", "disbursement_arrived", "application_approved",
               "application_declined", "refund_booked", "statement_issued")


# what Rasa's tracker keeps of an event (slot `proactive_context`, docs/CONTRACT.md): the facts
# a follow-up ("when exactly?", "which order?") is answered from (bot/actions/proactive.py)
CONTEXT_FIELDS = ("order_id", "stage", "amount", "currency", "on", "expected_from", "expected_by",
                  "agreement_completed_on", "statement_date", "due_date", "amount_due", "limit")
LATE_PAYMENT = "late_payment"  # the late job's apology: not an outbox event, the same context


class InvalidEvent(ValueError):
    pass


def rasa_slots(kind: str, facts: Dict[str, Any]) -> Dict[str, Any]:
    """The slots the gateway sets in Rasa's tracker with a proactive message: `proactive_event`
    (its type; the rules in data/rules/proactive.yml are conditioned on it) and
    `proactive_context` (plain strings only: ids, ISO dates, amounts)."""
    ctx = {k: str(facts[k])[:64] for k in CONTEXT_FIELDS if isinstance(facts.get(k), str) and facts[k]}
    if "on" not in ctx and isinstance(facts.get("occurred_at"), str):
        ctx["on"] = facts["occurred_at"][:10]
    return {"proactive_event": kind, "proactive_context": {"type": kind, **ctx}}


def _date(value: Any) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _money(value: Any, currency: str) -> str:
    try:
        return format_money(Decimal(str(value)), currency or "USD")
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidEvent(f"not an amount: {value!r}") from None


def check_event(event: Any) -> Dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidEvent("an event is a JSON object")
    for field in ("event_id", "type", "buyer_id"):
        value = event.get(field)
        if not isinstance(value, str) or not value or len(value) > 128:
            raise InvalidEvent(f"{field} is missing or malformed")
    if event["type"] not in EVENT_TYPES:
        raise InvalidEvent(f"unknown event type {event['type']!r}")
    return event


class EventWording:
    """The buyer's sentence for an event, from domain.yml; money through format_money, dates
    through bot.actions.formatting.day ("Monday, November 30")."""

    def __init__(self, today: Callable[[], dt.date], wording: Optional[Wording] = None):
        self.today = today
        self.w = wording or Wording()

    def when(self, d: Optional[dt.date]) -> str:
        if d is None:
            return ""
        return f"today, {day(d)}" if d == self.today() else f"on {day(d)}"

    def render(self, e: Dict[str, Any]) -> str:
        cur = e.get("currency") or "USD"
        t = e["type"]
        common = dict(order_id=e.get("order_id") or "")
        if t == "agreement_completed":
            return self.w("utter_event_agreement_completed", amount=_money(e["amount"], cur),
                          expected_from=day(_date(e.get("expected_from"))), expected_by=day(_date(e.get("expected_by"))),
                          **common)
        if t == "disbursement_sent":
            return self.w("utter_event_disbursement_sent", amount=_money(e["amount"], cur), when=self.when(_date(e.get("on"))),
                          expected_by=day(_date(e.get("expected_by"))), **common)
        if t == "disbursement_arrived":
            return self.w("utter_event_disbursement_arrived", amount=_money(e["amount"], cur),
                          when=self.when(_date(e.get("on"))), **common)
        if t == "application_approved":
            return self.w("utter_event_application_approved", limit=_money(e["limit"], cur))
        if t == "application_declined":
            reasons = [r.get("message", "") for r in e.get("reasons") or [] if isinstance(r, dict)]
            return self.w("utter_event_application_declined", reasons=join(*reasons, sep=" ") if reasons else "")
        if t == "refund_booked":
            return self.w("utter_event_refund_booked", amount=_money(e["amount"], cur), when=self.when(_date(e.get("on"))),
                          outstanding=_money(e.get("loan_outstanding", "0"), cur), **common)
        if t == "statement_issued":
            return self.w("utter_event_statement_issued", amount_due=_money(e["amount_due"], cur),
                          due=day(_date(e.get("due_date"))), **common)
        raise InvalidEvent(f"unknown event type {t!r}")

    def late_apology(self, late: Dict[str, Any]) -> str:
        return self.w("utter_event_late_apology", amount=_money(late["amount"], late.get("currency", "USD")),
                      order_id=late["order_id"], expected_by=day(_date(late.get("expected_by"))))


class EventService:
    def __init__(self, store, conversations, wording: EventWording, webhook=None):
        self.store = store  # AsyncStore(EventStore)
        self.conversations = conversations  # ConversationService
        self.wording = wording
        self.webhook = webhook

    async def handle(self, event: Any) -> str:
        """"delivered" the first time, "duplicate" for an event id already acted on. A failure
        forgets the event id, so the relay's next delivery tries again (at least once)."""
        e = check_event(event)
        text = self.wording.render(e)  # a bad event fails before anything is written
        if not await self.store.claim_event(e["event_id"], e["type"], e["buyer_id"]):
            return "duplicate"
        try:
            res = await self.conversations.notify_buyer(e["buyer_id"], text, order_id=e.get("order_id"),
                                                        slots=rasa_slots(e["type"], e))
            await self.store.set_conversation(e["event_id"], res["conversation_id"])
        except Exception:
            await self.store.release_event(e["event_id"])
            raise
        if self.webhook is not None:
            self.webhook.enqueue(e, text, res["conversation_id"])
        return "delivered"


class LateJob:
    """Every `interval`: if this gateway holds the lease, ask the backend for payments late on
    `today()` (more than 3 working days after the agreement, not arrived) and, once per payment,
    apologise to the buyer and queue the conversation for a person with the context."""

    LEASE = "late_detection"

    def __init__(self, store, conversations, wording: EventWording, source, today: Callable[[], dt.date],
                 holder: str, lease_ttl: dt.timedelta = dt.timedelta(minutes=5)):
        self.store, self.conversations, self.wording = store, conversations, wording
        self.source = source  # late_disbursements(today) and buyer_summary(buyer_id)
        self.today, self.holder, self.lease_ttl = today, holder, lease_ttl

    async def settle_quietly(self) -> int:
        """Demo mode, once at start: payments already late count as told (no apology, no
        handoff). The demo data's TA-100212 has been late for two working days in its story; the
        buyer would have heard then. Telling them at every fresh `make run` put an unasked apology
        in a new app chat (the demo page's widget starts its own web chat, so it never showed it)
        and a queued chat in the console before anyone did anything. Asking the bot about
        TA-100212 still apologises and hands off; payments that become late later are told."""
        settled = 0
        for late in await self.source.late_disbursements(self.today()):
            settled += await self.store.claim_late_notice(f"{late['order_id']}:{late['stage']}", late["buyer_id"])
        return settled

    async def run_once(self) -> int:
        if not await self.store.take_lease(self.LEASE, self.holder, self.lease_ttl):
            return 0
        told = 0
        for late in await self.source.late_disbursements(self.today()):
            key = f"{late['order_id']}:{late['stage']}"
            if not await self.store.claim_late_notice(key, late["buyer_id"]):
                continue
            try:
                summary = await self.source.summary_json(late["buyer_id"])
                summary = {**(summary or {"buyer_id": late["buyer_id"]}), "orders_mentioned": [late["order_id"]],
                           "late_payment": late}
                await self.conversations.notify_buyer(
                    late["buyer_id"], self.wording.late_apology(late), kind="late_apology", order_id=late["order_id"],
                    slots=rasa_slots(LATE_PAYMENT, late),
                    handoff={"reason": "late_disbursement",
                             "reason_text": f"Pay Later payment for {late['order_id']} is late (not arrived by "
                                            f"{late['expected_by']})",
                             "summary": summary})
                told += 1
            except Exception:
                log.exception("telling %s about the late payment %s failed; will retry", late["buyer_id"], key)
                await self.store.release_late_notice(key)
        return told
