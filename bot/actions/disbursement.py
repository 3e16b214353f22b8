"""Where the lender's money for an order is; a late or failed one is apologised for and handed
off. Without an approved line no money has moved at all, and the buyer is told so first."""
from __future__ import annotations

import logging

from bot.actions.credit import application_text, without_line_text
from bot.actions.formatting import disbursement_text
from bot.actions.orders import OrderAction
from bot.actions.payloads import send_handoff, summary_payload
from bot.actions.wording import join
from bot.ports import BackendError

logger = logging.getLogger(__name__)


async def summary_or_none(buyer, orders_mentioned):
    """The agent's summary; a backend error here must not stop the handoff."""
    try:
        return summary_payload(await buyer.call("buyer_summary"), orders_mentioned)
    except BackendError:
        logger.exception("buyer_summary failed during handoff")
        return None


class ActionDisbursementStatus(OrderAction):
    action_name = "action_disbursement_status"
    which_order_question = "utter_disbursement_which"
    general_answer = "utter_general_disbursement"
    covers = "faq/payment_arrival"

    async def without_order(self, buyer, dispatcher, w):
        if await buyer.call("credit_line") is None:
            # no approved line -> no loan agreement -> no money can have moved
            app = await buyer.call("application_status")
            status = application_text(w, app, buyer.settings.application_link_base) if app else await without_line_text(w, buyer)
            dispatcher.utter_message(text=join(w("utter_disbursement_no_agreement"), status))
            return
        await super().without_order(buyer, dispatcher, w)

    async def act_on_order(self, buyer, dispatcher, order_id, w):
        views = await buyer.call("disbursement_status", order_id)
        if not views:
            dispatcher.utter_message(text=w("utter_disbursement_none", order_id=order_id))
            return
        dispatcher.utter_message(text=join(*(disbursement_text(w, v) for v in views)))
        if any(v.needs_human or v.state in ("late", "failed") for v in views):
            summary = await summary_or_none(buyer, [order_id])
            send_handoff(dispatcher, "late_disbursement", summary)
