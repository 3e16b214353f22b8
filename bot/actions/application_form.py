"""The Pay Later application form: eligibility first, then the answers, a confirmation summary
and idempotent submission.

Before any question, `applicant_check` (the domain's one eligibility function, through the port)
says whether this buyer can apply at all: a business on file that fails a rule, a declined,
open or approved application, or a credit line each get their answer and no questions. The
validators only parse answers; they neither stop at a failed criterion nor cap the limit:
`start_application` on the backend judges every rule at once and says every reason.

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

from bot.actions.base import BuyerAction, answer_then_sign_in, backend_down, verified_buyer
from bot.actions.credit import applicant_answer, application_text
from bot.actions.form_base import CustomFormValidationAction
from bot.actions.formatting import bullet_lines, money
from bot.actions.wording import Wording, join
from bot.domain.credit import CREDIT_CAP, LENDER
from bot.parsing import decimal_str, find_amount, parse_amount, parse_correction, parse_us_based, parse_years, parse_yes_no
from bot.ports import ApplicationRequest, BackendError

logger = logging.getLogger(__name__)

FORM = "pay_later_application_form"
FORM_SLOTS = ["business_name", "us_based", "years_in_business", "annual_revenue", "requested_limit", "application_confirmed"]
LABELS = {slot: f"utter_label_field_{slot}" for slot in FORM_SLOTS[:-1]}


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
        """Signed in on every turn; on activation, the applicant check before any question."""
        w = Wording(domain)
        end = [SlotSet(k, v) for k, v in self.end_form().items()]
        buyer = verified_buyer(tracker)
        if buyer is None:
            answer_then_sign_in(dispatcher, w, "utter_general_application", "utter_offer_sign_in_to_apply")
            return end
        if tracker.get_slot("requested_slot") is not None:
            return None
        try:
            check = await buyer.call("applicant_check")
        except BackendError as exc:
            backend_down(dispatcher, exc, w)
            return end
        answer = applicant_answer(w, check, buyer.settings.application_link_base)
        if answer:
            dispatcher.utter_message(text=answer)
            return end
        return None

    async def extract_requested_limit(self, dispatcher, tracker, domain) -> Dict[str, Any]:
        """"I want a Pay Later line of 200,000 dollars": the limit asked for when starting."""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") is None and intent == "apply_pay_later" and not tracker.get_slot("requested_limit"):
            limit = find_amount((tracker.latest_message or {}).get("text"))
            if limit is not None:
                said = "utter_form_prefilled_limit_above_cap" if limit > CREDIT_CAP else "utter_form_prefilled_limit"
                dispatcher.utter_message(text=Wording(domain)(said, limit=money(limit)))
                return {"requested_limit": f"{limit:.2f}"}
        return {}

    def _reask(self, dispatcher, domain, slot: str) -> Dict[str, Any]:
        dispatcher.utter_message(text=Wording(domain)(f"utter_form_invalid_{slot}"))
        return {slot: None}

    def validate_business_name(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        name = " ".join(str(value or "").split()).strip(" .,!")
        name = re.sub(r"^(?:(?:sorry|actually|oops|ok|it'?s|it is|we are|we're|our (?:business|company)(?: name)? is|"
                      r"the name is|called|name is)[,:\s]+)+", "", name, flags=re.I)
        if not (2 <= len(name) <= 120) or not any(c.isalpha() for c in name) or parse_yes_no(name) is not None:
            return self._reask(dispatcher, domain, "business_name")
        return {"business_name": name}

    def validate_us_based(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        answer = value if isinstance(value, bool) else parse_us_based(str(value or ""))
        if answer is None:
            return self._reask(dispatcher, domain, "us_based")
        return {"us_based": bool(answer)}  # a "no" is kept: the backend says every reason at once

    def validate_years_in_business(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        years = parse_years(str(value or ""))
        if years is None:
            return self._reask(dispatcher, domain, "years_in_business")
        return {"years_in_business": decimal_str(years)}

    def validate_annual_revenue(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        revenue = _amount(value)
        if revenue is None:
            return self._reask(dispatcher, domain, "annual_revenue")
        return {"annual_revenue": f"{revenue:.2f}"}

    def validate_requested_limit(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        limit = _amount(value)
        if limit is None:
            return self._reask(dispatcher, domain, "requested_limit")
        return {"requested_limit": f"{limit:.2f}"}  # as said: the backend caps it and says so

    def validate_application_confirmed(self, value, dispatcher, tracker, domain) -> Dict[str, Any]:
        answer = value if isinstance(value, bool) else parse_yes_no(str(value or ""))
        # no / unclear: stays empty; action_ask_application_confirmed asks what to change or re-asks
        return {"application_confirmed": True if answer else None}


def summary_text(w: Wording, tracker: Tracker) -> str:
    s = tracker.get_slot
    return w(
        "utter_form_summary", lender=LENDER, business_name=s("business_name"),
        us_based=w("utter_label_yes") if _truthy(s("us_based")) else w("utter_label_no"),
        years_in_business=s("years_in_business"), annual_revenue=money(Decimal(s("annual_revenue") or 0)),
        requested_limit=money(Decimal(s("requested_limit") or 0)),
    )


class ActionAskApplicationConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_application_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[EventType]:
        w = Wording(domain)
        text = (tracker.latest_message or {}).get("text") or ""
        if parse_yes_no(text) is False and parse_correction(text, need_trigger=False) is None:
            labels = [w(name) for name in LABELS.values()]
            buttons = [{"title": label.capitalize(), "payload": f"change the {label}"} for label in labels]
            dispatcher.utter_message(text=w("utter_form_what_to_change"), buttons=buttons)
        else:
            buttons = [{"title": w("utter_label_button_submit"), "payload": "yes"},
                       {"title": w("utter_label_button_change"), "payload": "no"}]
            dispatcher.utter_message(text=summary_text(w, tracker), buttons=buttons)
        return []


class ActionSubmitApplication(BuyerAction):
    action_name = "action_submit_application"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        if not _truthy(tracker.get_slot("application_confirmed")):
            return []  # the form was stopped or ended early: nothing to submit
        events = await self._answer(dispatcher, tracker, domain)  # a form's last answer: no second question
        return events + [SlotSet(slot, None) for slot in FORM_SLOTS]

    async def act(self, buyer, dispatcher, tracker, domain):
        w = Wording(domain)
        s = tracker.get_slot
        request = ApplicationRequest(
            business_name=str(s("business_name")), us_based=_truthy(s("us_based")),
            years_in_business=Decimal(str(s("years_in_business"))), annual_revenue=Decimal(str(s("annual_revenue"))),
            requested_limit=Decimal(str(s("requested_limit"))),
        )
        app = await buyer.call("start_application", request)
        link_base = buyer.settings.application_link_base
        if not app.created:
            text = join(w("utter_application_already"), application_text(w, app, link_base))
        elif app.state == "declined":
            reasons = bullet_lines(r.message for r in app.reasons)
            text = join(w("utter_application_declined_now", lender=app.lender), reasons, w("utter_application_instead"))
        else:
            text = join(w("utter_application_submitted"), application_text(w, app, link_base))
        dispatcher.utter_message(text=text)
        return []
