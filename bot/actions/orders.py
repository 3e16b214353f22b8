"""Orders: the list, one order, and whether Pay Later can pay it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Text

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import Buyer, BuyerAction, order_id_from, remember_order
from bot.actions.formatting import STAGES, bullet_lines, money, order_text, orders_text
from bot.ports import EligibilityView


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
        # reasons and advice are the backend's sentences: the rules live there, not here
        text = f"No, Pay Later can't pay {e.order_id}:\n{bullet_lines([r.message for r in e.reasons])}"
    return f"{text}\n{e.advice}" if e.advice else text


class ActionCheckPayLater(OrderAction):
    action_name = "action_check_pay_later"
    which_order_question = "Which order would you like to pay with Pay Later?"
    general_answer = (
        "Pay Later can pay the initial payment or the balance of a Trade Assurance order in USD, "
        "up to your available credit, with no processing fee."
    )

    async def act_on_order(self, buyer, dispatcher, order_id):
        dispatcher.utter_message(text=eligibility_text(await buyer.call("pay_later_eligibility", order_id)))
