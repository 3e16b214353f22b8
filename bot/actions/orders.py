"""Orders: the list, one order, and whether Pay Later can pay it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Text

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import Buyer, BuyerAction, order_id_from, remember_order
from bot.actions.formatting import STAGES, bullet_lines, money, order_text, orders_text
from bot.ports import EligibilityView

REASON_FALLBACKS = {
    "currency_not_usd": "Pay Later pays in USD only, and this order is not in USD.",
    "not_trade_assurance": "Pay Later can only pay Trade Assurance orders.",
    "insufficient_credit": "The payment is more than your available credit.",
    "no_credit_line": "You don't have an approved Pay Later credit line yet.",
    "initial_not_arrived": "The balance can be paid only after the initial payment has arrived.",
    "already_paid": "This order has nothing left to pay.",
}
ADVICE = {
    "currency_not_usd": "You can pay it with T/T or a card instead.",
    "not_trade_assurance": "You can pay it with T/T or a card instead.",
    "no_credit_line": "You can apply for Pay Later here in the chat: just say \"apply for pay later\".",
    "insufficient_credit": "You can pay it with T/T or a card, or wait until you have repaid part of your line.",
    "initial_not_arrived": "Once the initial payment has arrived, you can pay the balance with Pay Later.",
}


class OrderAction(BuyerAction, ABC):
    """An action about one order (slot/entity `order_id`, else the message text). Without an
    order id it lists the buyer's orders and asks which; afterwards the order is remembered."""

    which_order_question: Text = "Which order would you like to know about?"

    async def act(self, buyer, dispatcher, tracker, domain):
        order_id = order_id_from(tracker)
        if not order_id:
            orders = await buyer.call("list_orders")
            parts = [self.general_answer, orders_text(orders), self.which_order_question]
            dispatcher.utter_message(text="\n".join(p for p in parts if p))
            return []
        await self.act_on_order(buyer, dispatcher, order_id)
        return remember_order(order_id)

    @abstractmethod
    async def act_on_order(self, buyer: Buyer, dispatcher: CollectingDispatcher, order_id: str) -> None:
        """Answer about `order_id`; NotFound and backend errors are handled by BuyerAction."""


class ActionListOrders(BuyerAction):
    action_name = "action_list_orders"

    async def act(self, buyer, dispatcher, tracker, domain):
        dispatcher.utter_message(text=orders_text(await buyer.call("list_orders")))


class ActionOrderStatus(OrderAction):
    action_name = "action_order_status"

    async def act_on_order(self, buyer, dispatcher, order_id):
        dispatcher.utter_message(text=order_text(await buyer.call("get_order", order_id)))


def eligibility_text(e: EligibilityView) -> str:
    if e.eligible:
        stage = STAGES.get(e.stage or "", "payment")
        text = (
            f"Yes, Pay Later can pay the {stage} of {money(e.amount, e.currency)} for {e.order_id}. "
            f"Your available credit is {money(e.available_credit)}."
        )
    else:
        reasons = [r.message or REASON_FALLBACKS.get(r.code, r.code) for r in e.reasons]
        text = f"No, Pay Later can't pay {e.order_id}:\n{bullet_lines(reasons)}"
    advice = e.advice or " ".join(dict.fromkeys(ADVICE[r.code] for r in e.reasons if r.code in ADVICE))
    return f"{text}\n{advice}" if advice else text


class ActionCheckPayLater(OrderAction):
    action_name = "action_check_pay_later"
    which_order_question = "Which order would you like to pay with Pay Later?"
    general_answer = (
        "Pay Later can pay the initial payment or the balance of a Trade Assurance order in USD, "
        "up to your available credit, with no processing fee."
    )

    async def act_on_order(self, buyer, dispatcher, order_id):
        dispatcher.utter_message(text=eligibility_text(await buyer.call("pay_later_eligibility", order_id)))
