"""What a Pay Later draw would cost, month by month (backend's quote_draw)."""
from __future__ import annotations

from bot.actions.base import BuyerAction
from bot.actions.formatting import quote_text
from bot.parsing import find_amount, parse_amount

ASK_AMOUNT = "How much would you like to borrow? For example: \"what would $20,000 cost?\""


def amount_from(tracker):
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "amount":
            value = parse_amount(str(entity.get("value", "")))
            if value:
                return value
    text = (tracker.latest_message or {}).get("text")
    return find_amount(text) or parse_amount(tracker.get_slot("amount"))


class ActionLoanCost(BuyerAction):
    action_name = "action_loan_cost"
    general_answer = (
        "A Pay Later draw is repaid in equal monthly parts over up to six months, with a monthly fee "
        "set by your business's risk tier, no processing fee and no prepayment penalty."
    )

    async def act(self, buyer, dispatcher, tracker, domain):
        amount = amount_from(tracker)
        if amount is None:
            dispatcher.utter_message(text=ASK_AMOUNT)
            return []
        dispatcher.utter_message(text=quote_text(await buyer.call("quote_draw", amount)))
