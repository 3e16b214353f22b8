"""Where the lender's money for an order is; a late or failed one is apologised for and handed off."""
from __future__ import annotations

import logging

from bot.actions.formatting import disbursement_text
from bot.actions.orders import OrderAction
from bot.actions.payloads import send_handoff, summary_payload
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
    which_order_question = "Which order's Pay Later payment should I check?"
    general_answer = "With Pay Later, the money reaches the supplier 1-3 working days after the loan agreement is completed."

    async def act_on_order(self, buyer, dispatcher, order_id):
        views = await buyer.call("disbursement_status", order_id)
        if not views:
            dispatcher.utter_message(
                text=f"{order_id} has no Pay Later payment, so there is no lender payout to track for it."
            )
            return
        dispatcher.utter_message(text="\n".join(disbursement_text(v) for v in views))
        if any(v.needs_human or v.state in ("late", "failed") for v in views):
            summary = await summary_or_none(buyer, [order_id])
            send_handoff(dispatcher, "late_disbursement", summary)
