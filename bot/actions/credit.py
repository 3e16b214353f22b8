"""Credit line and application status."""
from __future__ import annotations

from typing import Optional

from bot.actions.base import BuyerAction
from bot.actions.formatting import bullet_lines, money
from bot.actions.wording import Wording, join
from bot.domain.credit import LENDER
from bot.ports import ApplicantCheckView, ApplicationView, CreditLineView


def line_text(w: Wording, line: CreditLineView) -> str:
    c = line.currency
    return w("utter_credit_line_view", lender=line.lender, limit=money(line.limit, c), used=money(line.used, c),
             available=money(line.available, c))


def application_text(w: Wording, app: ApplicationView, link_base: str) -> str:
    """The application's state, every reason the backend gives (declined, limit reduced to the
    cap), the next step while it is open, and what to do instead when declined."""
    lines = [w("utter_application_head", application_id=app.application_id, lender=app.lender,
               state_text=app.state_text)]
    if app.offered_limit is not None:
        lines.append(w("utter_application_limit", limit=money(app.offered_limit)))
    if app.reasons:
        lines.append(bullet_lines(r.message for r in app.reasons))
    if app.state in ("started", "waiting_for_account_linking"):
        lines.append(w("utter_application_next_step", link=app.link_url or link_base))
    if app.state == "declined":
        lines.append(w("utter_application_instead"))
    return join(*lines)


def applicant_answer(w: Wording, check: ApplicantCheckView, link_base: str) -> Optional[str]:
    """Why this buyer cannot start an application now (and what instead), or None if they can."""
    if check.credit_line is not None:
        return join(w("utter_applicant_has_line"), line_text(w, check.credit_line))
    app = check.application
    if app is not None and app.state == "declined":
        reasons = bullet_lines(r.message for r in app.reasons) if app.reasons else ""
        return join(w("utter_applicant_declined"), reasons, w("utter_application_instead"))
    if app is not None:
        return join(w("utter_applicant_open_application"), application_text(w, app, link_base))
    if not check.can_apply:
        return join(w("utter_applicant_cannot", lender=LENDER), bullet_lines(r.message for r in check.reasons),
                    w("utter_application_instead"))
    return None


async def without_line_text(w: Wording, buyer) -> str:
    """No approved line: the application if there is one, why the business cannot apply
    (every reason, and what instead), or how to apply."""
    check = await buyer.call("applicant_check")
    if check.application is not None:
        return join(w("utter_credit_line_not_yet"), application_text(w, check.application, buyer.settings.application_link_base))
    if not check.can_apply:
        return join(w("utter_credit_line_not_yet"), w("utter_applicant_cannot", lender=LENDER),
                    bullet_lines(r.message for r in check.reasons), w("utter_application_instead"))
    return join(w("utter_credit_line_none"), w("utter_apply_hint"), sep=" ")


class ActionCreditLine(BuyerAction):
    action_name = "action_credit_line"
    general_answer = "utter_general_credit_line"
    covers = "faq/credit_limit"

    async def act(self, buyer, dispatcher, tracker, domain):
        w = Wording(domain)
        line: Optional[CreditLineView] = await buyer.call("credit_line")
        if line is not None:
            dispatcher.utter_message(text=line_text(w, line))
            return []
        dispatcher.utter_message(text=await without_line_text(w, buyer))


class ActionApplicationStatus(BuyerAction):
    action_name = "action_application_status"
    general_answer = "utter_general_application"
    sign_in_offer = "utter_offer_sign_in_to_apply"

    async def act(self, buyer, dispatcher, tracker, domain):
        w = Wording(domain)
        app: Optional[ApplicationView] = await buyer.call("application_status")
        if app is None:
            line = await buyer.call("credit_line")
            text = line_text(w, line) if line else await without_line_text(w, buyer)
        else:
            text = application_text(w, app, buyer.settings.application_link_base)
        dispatcher.utter_message(text=text)
