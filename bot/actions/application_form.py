"""The Pay Later application form: validation, confirmation summary and idempotent submission.

Bank credentials, SSNs and card numbers are never asked for here: the buyer gives them on the
lender's secure page (the link given after submitting)."""
from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import BuyerAction, ask_to_sign_in, backend_down, verified_buyer
from bot.actions.credit import application_text, line_text
from bot.actions.form_base import CustomFormValidationAction
from bot.actions.formatting import bullet_lines, money
from bot.domain.credit import CREDIT_CAP, LENDER, MIN_REVENUE, MIN_YEARS
from bot.parsing import decimal_str, find_amount, parse_amount, parse_correction, parse_us_based, parse_years, parse_yes_no
from bot.ports import ApplicationRequest, BackendError

logger = logging.getLogger(__name__)

FORM = "pay_later_application_form"
FORM_SLOTS = ["business_name", "us_based", "years_in_business", "annual_revenue", "requested_limit", "application_confirmed"]
LABELS = {
    "business_name": "business name", "us_based": "US location", "years_in_business": "years in business",
    "annual_revenue": "annual revenue", "requested_limit": "requested credit limit",
}
RESTART = "If I got that wrong, just say \"apply for pay later\" to start again."


def _amount(text: Any) -> Optional[Decimal]:
    return parse_amount(str(text)) or find_amount(str(text))


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class ValidatePayLaterApplicationForm(CustomFormValidationAction):
    form_slots = FORM_SLOTS
    slot_labels = LABELS

    def name(self) -> Text:
        return f"validate_{FORM}"

    async def guard(self, dispatcher, tracker, domain) -> Optional[List[EventType]]:
        """Signed in on every turn; on activation, no second application when one exists."""
        end = [SlotSet(k, v) for k, v in self.end_form().items()]
        buyer = verified_buyer(tracker)
        if buyer is None:
            ask_to_sign_in(dispatcher)
            return end
        if tracker.get_slot("requested_slot") is not None:
            return None
        try:
            line = await buyer.call("credit_line")
            app = None if line else await buyer.call("application_status")
        except BackendError as exc:
            backend_down(dispatcher, exc)
            return end
        if line is not None:
            dispatcher.utter_message(text=f"You already have an approved credit line, no need to apply again.\n{line_text(line)}")
            return end
        if app is not None and app.state != "declined":
            dispatcher.utter_message(text=f"You've already applied.\n{application_text(app, buyer.settings.application_link_base)}")
            return end
        return None

    def ineligible(self, dispatcher, why: str) -> Dict[str, Any]:
        dispatcher.utter_message(text=f"{why} So {LENDER} can't offer a Pay Later line for now. {RESTART}")
        return self.end_form()

    def validate_business_name(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        name = " ".join(str(value or "").split()).strip(" .,!")
        name = re.sub(r"^(?:(?:sorry|actually|oops|ok|it'?s|it is|we are|we're|our (?:business|company)(?: name)? is|"
                      r"the name is|called|name is)[,:\s]+)+", "", name, flags=re.I)
        if not (2 <= len(name) <= 120) or not any(c.isalpha() for c in name) or parse_yes_no(name) is not None:
            dispatcher.utter_message(text="Please tell me your business's legal name, e.g. \"Acme Outdoor Supply LLC\".")
            return {"business_name": None}
        return {"business_name": name}

    def validate_us_based(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        answer = value if isinstance(value, bool) else parse_us_based(str(value or ""))
        if answer is None:
            dispatcher.utter_message(text="Sorry, I didn't get that. Is your business based in the US? (yes or no)")
            return {"us_based": None}
        if not answer:
            return self.ineligible(dispatcher, "Pay Later credit is only for businesses based in the US.")
        return {"us_based": True}

    def validate_years_in_business(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        years = parse_years(str(value or ""))
        if years is None:
            dispatcher.utter_message(text="How long has your business been operating? For example \"3 years\", \"18 months\" or \"since 2019\".")
            return {"years_in_business": None}
        if years < MIN_YEARS:
            return self.ineligible(dispatcher, f"The lender needs a business that has operated for at least {MIN_YEARS} year.")
        return {"years_in_business": decimal_str(years)}

    def validate_annual_revenue(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        revenue = _amount(value)
        if revenue is None:
            dispatcher.utter_message(text="What is your business's annual revenue in US dollars? For example \"$250,000\" or \"1.5 million\".")
            return {"annual_revenue": None}
        if revenue < MIN_REVENUE:
            return self.ineligible(dispatcher, f"The lender needs at least {money(MIN_REVENUE)} in annual revenue.")
        return {"annual_revenue": f"{revenue:.2f}"}

    def validate_requested_limit(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        limit = _amount(value)
        if limit is None:
            dispatcher.utter_message(text=f"How much credit would you like, in US dollars? Up to {money(CREDIT_CAP)}, e.g. \"50k\".")
            return {"requested_limit": None}
        if limit > CREDIT_CAP:
            dispatcher.utter_message(
                text=f"The most {LENDER} offers is {money(CREDIT_CAP)}, so I've put down {money(CREDIT_CAP)} instead of {money(limit)}."
            )
            limit = CREDIT_CAP
        return {"requested_limit": f"{limit:.2f}"}

    def validate_application_confirmed(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        answer = value if isinstance(value, bool) else parse_yes_no(str(value or ""))
        # no / unclear: stays empty; action_ask_application_confirmed asks what to change or re-asks
        return {"application_confirmed": True if answer else None}


def summary_text(tracker: Tracker) -> str:
    s = tracker.get_slot
    lines = [
        f"Business name: {s('business_name')}",
        f"Based in the US: {'yes' if _truthy(s('us_based')) else 'no'}",
        f"Years in business: {s('years_in_business')}",
        f"Annual revenue: {money(Decimal(s('annual_revenue') or 0))}",
        f"Requested credit limit: {money(Decimal(s('requested_limit') or 0))}",
    ]
    return f"Here is your Pay Later application to {LENDER}:\n{bullet_lines(lines)}\nShall I submit it? (yes to submit, no to change something)"


class ActionAskApplicationConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_application_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        if parse_yes_no(text) is False and parse_correction(text, need_trigger=False) is None:
            buttons = [{"title": label.capitalize(), "payload": f"change the {label}"} for label in LABELS.values()]
            dispatcher.utter_message(text="No problem. What would you like to change?", buttons=buttons)
        else:
            buttons = [{"title": "Yes, submit", "payload": "yes"}, {"title": "No, change something", "payload": "no"}]
            dispatcher.utter_message(text=summary_text(tracker), buttons=buttons)
        return []


class ActionSubmitApplication(BuyerAction):
    action_name = "action_submit_application"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        if not _truthy(tracker.get_slot("application_confirmed")):
            return []  # the form was stopped or ended early: nothing to submit
        events = await super().run(dispatcher, tracker, domain)
        return events + [SlotSet(slot, None) for slot in FORM_SLOTS]

    async def act(self, buyer, dispatcher, tracker, domain):
        s = tracker.get_slot
        request = ApplicationRequest(
            business_name=str(s("business_name")), us_based=_truthy(s("us_based")),
            years_in_business=Decimal(str(s("years_in_business"))), annual_revenue=Decimal(str(s("annual_revenue"))),
            requested_limit=Decimal(str(s("requested_limit"))),
        )
        app = await buyer.call("start_application", request)
        head = "Thank you, your application is submitted." if app.created else "You've already applied, so I didn't start a new application."
        dispatcher.utter_message(text=f"{head}\n{application_text(app, buyer.settings.application_link_base)}")
        return []
