"""Orders: the list, one order, and whether Pay Later can pay it."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Text

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import Buyer, BuyerAction, order_id_from, remember_order
from bot.actions.formatting import eligibility_text, order_text, orders_text
from bot.actions.credit import applicant_answer
from bot.actions.wording import Wording, join


class OrderAction(BuyerAction, ABC):
    """An action about one order (slot/entity `order_id`, else the message text). Without an
    order id it gives the general answer, lists the buyer's orders and asks which; afterwards
    the order is remembered."""

    which_order_question: Text = "utter_order_which"

    async def act(self, buyer, dispatcher, tracker, domain):
        w = Wording(domain)
        order_id = order_id_from(tracker)
        if not order_id:
            await self.without_order(buyer, dispatcher, w)
            return []
        await self.act_on_order(buyer, dispatcher, order_id, w)
        return remember_order(order_id)

    async def without_order(self, buyer: Buyer, dispatcher: CollectingDispatcher, w: Wording) -> None:
        orders = await buyer.call("list_orders")
        general = w(self.general_answer) if self.general_answer else ""
        dispatcher.utter_message(text=join(general, orders_text(w, orders), w(self.which_order_question)))

    @abstractmethod
    async def act_on_order(self, buyer: Buyer, dispatcher: CollectingDispatcher, order_id: str, w: Wording) -> None:
        """Answer about `order_id`; NotFound and backend errors are handled by BuyerAction."""


class ActionListOrders(BuyerAction):
    action_name = "action_list_orders"
    general_answer = "utter_general_orders"

    async def act(self, buyer, dispatcher, tracker, domain):
        dispatcher.utter_message(text=orders_text(Wording(domain), await buyer.call("list_orders")))


class ActionOrderStatus(OrderAction):
    action_name = "action_order_status"
    general_answer = "utter_general_orders"

    async def without_order(self, buyer, dispatcher, w):
        # "what's happening with my order": the list is the answer, then which one
        orders = await buyer.call("list_orders")
        dispatcher.utter_message(text=join(orders_text(w, orders), w(self.which_order_question)))

    async def act_on_order(self, buyer, dispatcher, order_id, w):
        dispatcher.utter_message(text=order_text(w, await buyer.call("get_order", order_id)))


class ActionCheckPayLater(OrderAction):
    action_name = "action_check_pay_later"
    which_order_question = "utter_pay_later_which"
    general_answer = "utter_general_check_pay_later"

    async def act_on_order(self, buyer, dispatcher, order_id, w):
        e = await buyer.call("pay_later_eligibility", order_id)
        advice = None
        if not e.eligible and any(r.code == "no_credit_line" for r in e.reasons):
            # no line: whether they can apply at all (the one eligibility function), not a
            # blanket "apply" that a German business or a declined buyer cannot follow
            check = await buyer.call("applicant_check")
            advice = applicant_answer(w, check, buyer.settings.application_link_base)
        dispatcher.utter_message(text=eligibility_text(w, e, advice))
