"""Refunds on Pay Later orders (PRODUCT.md rule 9): the general rule to anyone first, then, for
a signed-in buyer's order, what the backend says a refund did or would do to that loan and its
fees (`refund_status`)."""
from __future__ import annotations

import datetime as dt
from typing import Callable, Optional

from bot.actions.base import BuyerAction, order_id_from, remember_order
from bot.actions.formatting import day, money
from bot.actions.wording import Wording, join
from bot.parsing import find_order_ids
from bot.ports import NotFound, RefundView

# the action server's clock (UTC); tests replace it
clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)  # noqa: E731


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def moment_text(moment: dt.datetime) -> str:
    """"Tuesday, March 11 at 14:00 UTC"."""
    moment = _utc(moment)
    return f"{day(moment.date())} at {moment:%H:%M} UTC"


def refund_text(w: Wording, r: RefundView, now: dt.datetime) -> str:
    if not r.pay_later:
        return w("utter_refund_not_pay_later", order_id=r.order_id)
    c = r.currency
    lines = [w("utter_refund_loan", order_id=r.order_id, loan=money(r.loan_amount, c),
               outstanding=money(r.loan_outstanding, c), fees=money(r.fees_billed, c))]
    if r.refunded:
        name = "utter_refund_booked_reversed" if r.fees_reversed > 0 else "utter_refund_booked_kept"
        lines.append(w(name, refunded=money(r.refunded_amount, c), refunded_on=day(r.refunded_on),
                       reversed=money(r.fees_reversed, c)))
    elif r.reversal_window_ends is not None:
        open_ = _utc(now) < _utc(r.reversal_window_ends)
        lines.append(w("utter_refund_window_open" if open_ else "utter_refund_window_closed",
                       until=moment_text(r.reversal_window_ends)))
    return join(*lines)


def refund_order_id(tracker) -> Optional[str]:
    """The order named in this message; the remembered one only when the buyer just answers
    "which order?" (intent inform), so a general question stays general."""
    message = tracker.latest_message or {}
    if ((message.get("intent") or {}).get("name")) == "inform":
        return order_id_from(tracker)
    for entity in message.get("entities") or []:
        if entity.get("entity") == "order_id":
            ids = find_order_ids(str(entity.get("value", "")))
            if ids:
                return ids[0]
    ids = find_order_ids(message.get("text"))
    return ids[0] if ids else None


class ActionRefund(BuyerAction):
    action_name = "action_refund"
    general_answer = "utter_general_refund"

    async def act(self, buyer, dispatcher, tracker, domain):
        w = Wording(domain)
        order_id = refund_order_id(tracker)
        if not order_id:
            dispatcher.utter_message(text=join(w(self.general_answer), w("utter_refund_which")))
            return []
        try:
            view = await buyer.call("refund_status", order_id)
        except NotFound:
            dispatcher.utter_message(text=join(w(self.general_answer), w("utter_order_not_found")))
            return []
        dispatcher.utter_message(text=join(w(self.general_answer), refund_text(w, view, clock())))
        return remember_order(order_id)
