"""Rasa custom actions (`rasa run actions --actions bot.actions`): importing the modules
registers every Action subclass with the action server."""
from bot.actions import (  # noqa: F401
    application_form, cost, credit, disbursement, fallback, faq, handoff, orders, proactive, refunds, session,
)
