"""After a proactive message the gateway has set the `order_id` slot in Rasa's tracker: the short
follow-ups "when exactly?" and "which order?" are answered about that order."""
from __future__ import annotations

from bot.actions.formatting import day
from bot.actions.disbursement import ActionDisbursementStatus
from bot.actions.orders import ActionOrderStatus
from bot.domain.calendar import add_working_days, working_days_before

from .conftest import TODAY, make_tracker, run, texts

AFTER_PROACTIVE = [{"event": "slot", "name": "order_id", "value": "TA-100245"},
                   {"event": "bot", "text": "The lender sent the $8,680.00 for TA-100245 to your supplier today."}]


async def test_when_exactly_gives_the_dates_of_that_order(backend):
    tracker = make_tracker("when exactly?", "disbursement_status", slots={"order_id": "TA-100245"}, events=AFTER_PROACTIVE)
    dispatcher, _ = await run(ActionDisbursementStatus(), tracker)
    text = texts(dispatcher)
    completed = working_days_before(TODAY, 1)
    assert "TA-100245" in text
    assert f"between {day(add_working_days(completed, 1))} and {day(add_working_days(completed, 3))}" in text


async def test_which_order_names_that_order(backend):
    tracker = make_tracker("which order was that?", "order_status", slots={"order_id": "TA-100245"}, events=AFTER_PROACTIVE)
    dispatcher, _ = await run(ActionOrderStatus(), tracker)
    assert "TA-100245" in texts(dispatcher) and "TA-100231" not in texts(dispatcher)
