"""Credit line and application status."""
from __future__ import annotations

from typing import Optional

from bot.actions.base import BuyerAction
from bot.actions.formatting import bullet_lines, money
from bot.ports import ApplicationView, CreditLineView

APPLY_HINT = "You can apply here in the chat: just say \"apply for pay later\"."
OPEN_STATES = ("started", "waiting_for_account_linking")


def line_text(line: CreditLineView) -> str:
    return (
        f"Your Pay Later credit line with {line.lender}: limit {money(line.limit, line.currency)}, "
        f"used {money(line.used, line.currency)}, available {money(line.available, line.currency)}."
    )


def application_text(app: ApplicationView, link_base: str) -> str:
    lines = [f"Your Pay Later application {app.application_id} with {app.lender}: {app.state_text}"]
    if app.offered_limit is not None:
        lines.append(f"Credit limit applied for: {money(app.offered_limit)}.")
    if app.reasons:
        lines.append(bullet_lines(r.message for r in app.reasons))
    if app.state in OPEN_STATES:
        lines.append(
            "Next step: on the secure page, link your business checking and other online accounts and "
            f"give your personal information: {app.link_url or link_base}\n"
            "Never type bank logins, your SSN or card numbers in this chat."
        )
    return "\n".join(lines)


class ActionCreditLine(BuyerAction):
    action_name = "action_credit_line"
    general_answer = "Pay Later lines of credit from Kabbage go up to $150,000, for up to six months."

    async def act(self, buyer, dispatcher, tracker, domain):
        line: Optional[CreditLineView] = await buyer.call("credit_line")
        if line is not None:
            dispatcher.utter_message(text=line_text(line))
            return []
        app = await buyer.call("application_status")
        if app is not None and app.state != "declined":
            text = "You don't have an approved credit line yet.\n" + application_text(app, buyer.settings.application_link_base)
        else:
            text = f"You don't have a Pay Later credit line yet. Lines go up to $150,000.00. {APPLY_HINT}"
        dispatcher.utter_message(text=text)


class ActionApplicationStatus(BuyerAction):
    action_name = "action_application_status"

    async def act(self, buyer, dispatcher, tracker, domain):
        app: Optional[ApplicationView] = await buyer.call("application_status")
        if app is None:
            line = await buyer.call("credit_line")
            text = line_text(line) if line else f"You haven't applied for Pay Later yet. {APPLY_HINT}"
        else:
            text = application_text(app, buyer.settings.application_link_base)
        dispatcher.utter_message(text=text)
