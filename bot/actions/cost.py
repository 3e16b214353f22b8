"""What a Pay Later draw would cost, month by month, over the term the buyer names (backend's
quote_draw), sent as the chat's table payload with the text version inside."""
from __future__ import annotations

from typing import List, Optional

from rasa_sdk.events import SlotSet

from bot.actions.base import BuyerAction
from bot.actions.formatting import money, quote_payload, term_words
from bot.actions.wording import Wording, join
from bot.domain.loans import MAX_TERM_MONTHS
from bot.parsing import find_amount, find_term, parse_amount


def amount_from(tracker):
    """The buyer's words first (bot.parsing reads "twenty five thousand" and "USD 50,000" whole),
    then DIET's amount entity, then the slot: DIET can tag a spelled-out amount in pieces
    ("twenty" / "thousand"), and the first piece must never become a $20.00 quote."""
    text = (tracker.latest_message or {}).get("text")
    found = find_amount(text)
    if found:
        return found
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "amount":
            value = parse_amount(str(entity.get("value", "")))
            if value:
                return value
    return parse_amount(tracker.get_slot("amount"))


def term_and_notes(w: Wording, asked: Optional[int], amount_text: str):
    """(term to quote, sentences before the table, sentences after it)."""
    if asked is None:
        return MAX_TERM_MONTHS, [], [w("utter_loan_cost_default_term", amount=amount_text)]
    if asked > MAX_TERM_MONTHS:
        return MAX_TERM_MONTHS, [w("utter_loan_cost_term_too_long", asked=term_words(w, asked))], []
    if asked < 1:
        return MAX_TERM_MONTHS, [w("utter_loan_cost_term_too_short")], []
    return asked, [], []


class ActionLoanCost(BuyerAction):
    action_name = "action_loan_cost"
    general_answer = "utter_general_loan_cost"
    covers = "faq/loan_fees"

    async def act(self, buyer, dispatcher, tracker, domain):
        w = Wording(domain)
        amount = amount_from(tracker)
        if amount is None:  # answer first (how the cost works), then ask for the amount
            dispatcher.utter_message(text=join(w(self.general_answer), w("utter_loan_cost_ask_amount")))
            return []
        asked = find_term((tracker.latest_message or {}).get("text"))
        term, before, after = term_and_notes(w, asked, money(amount))
        quote = await buyer.call("quote_draw", amount, term)
        first: List[str] = []
        if quote.available_credit is not None and quote.amount > quote.available_credit:
            first.append(w("utter_loan_cost_over_available", amount=money(quote.amount),
                           available=money(quote.available_credit)))
        payload = quote_payload(w, quote, before=first + before, extra_after=after)
        dispatcher.utter_message(json_message=payload)
        return [SlotSet("amount", f"{amount:.2f}")]
