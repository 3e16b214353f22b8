"""A dataset of analytics events whose figures are worked out by hand (docs/ANALYTICS.md):
tests/gateway/test_analytics.py checks the JSON and CSV against EXPECTED, the browser test
shows it on the dashboard."""
from __future__ import annotations

import datetime as dt

from bot.gateway.db import utcnow

TODAY = utcnow().date()
D1 = TODAY - dt.timedelta(days=10)
D2 = D1 + dt.timedelta(days=1)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = hhmm.split(":")
    return dt.datetime(day.year, day.month, day.day, int(h), int(m))


def E(cid, kind, when, buyer=None, topic=None, reason=None, agent=None, value=None, text=None):
    return dict(conversation_id=cid, kind=kind, at=when, buyer_id=buyer, topic=topic, reason=reason, agent=agent,
                value=value, text=text)


# Each conversation, and what the definitions (docs/ANALYTICS.md) say of it:
DATASET = [
    # c1: answered, then "yes, it helped"                       -> involved, confirmed; CSAT 5
    E("c1", "answer", at(D1, "09:00"), "b1", "faq/fee", text="Is there a fee?"),
    E("c1", "helpful", at(D1, "09:01"), "b1"),
    E("c1", "csat_asked", at(D1, "09:01"), "b1"),
    E("c1", "csat", at(D1, "09:02"), "b1", value=5),
    # c2: anonymous, answered, then a thank-you right after      -> involved, confirmed
    E("c2", "answer", at(D1, "09:10"), None, "faq/currency", text="Which currency?"),
    E("c2", "thanks", at(D1, "09:11")),
    # c3: answered, then silence ... but b2 asks about the fee again 5 h later (c9) -> withdrawn
    E("c3", "answer", at(D1, "10:00"), "b2", "faq/fee", text="what does it cost"),
    # c4: answered, then not understood within 24 h               -> involved, not resolved; unanswered "blorp zzz"
    E("c4", "answer", at(D1, "10:00"), "b3", "list_orders", text="my orders"),
    E("c4", "fallback", at(D1, "10:05"), "b3", text="blorp zzz"),
    # c5: answered, then "not really"                             -> involved, not resolved; unanswered: its question
    E("c5", "answer", at(D1, "11:00"), "b4", "faq/term", text="How long can I borrow?"),
    E("c5", "not_helpful", at(D1, "11:01"), "b4"),
    # c6: only a message the bot did not understand               -> not involved; unanswered
    E("c6", "fallback", at(D1, "12:00"), "b5", text="what's the weather"),
    # c7: answered, handed off (late disbursement), alice replies after 300 s, closes after 1080 s; CSAT 4
    E("c7", "answer", at(D1, "12:00"), "b6", "disbursement_status", text="where is my money"),
    E("c7", "handoff", at(D1, "12:00"), "b6", reason="late_disbursement"),
    E("c7", "agent_joined", at(D1, "12:02"), agent="alice"),
    E("c7", "agent_reply", at(D1, "12:05"), agent="alice"),
    E("c7", "agent_reply", at(D1, "12:06"), agent="alice"),
    E("c7", "closed", at(D1, "12:20"), agent="alice"),
    E("c7", "csat", at(D1, "12:21"), value=4),
    # c8: anonymous, asked for a person at once (not involved); bob: first response 120 s, handling 540 s; CSAT 2
    E("c8", "handoff", at(D1, "13:00"), reason="requested"),
    E("c8", "agent_joined", at(D1, "13:01"), agent="bob"),
    E("c8", "agent_reply", at(D1, "13:02"), agent="bob"),
    E("c8", "closed", at(D1, "13:10"), agent="bob"),
    E("c8", "csat", at(D1, "13:11"), value=2, text="took a while"),
    # c9: b2 back on the fee (withdraws c3), says it helped     -> involved, confirmed
    E("c9", "answer", at(D1, "15:00"), "b2", "faq/fee", text="fee again?"),
    E("c9", "helpful", at(D1, "15:02"), "b2"),
    # c10: answered; b7 returns on the same topic 26 h later (c11): outside 24 h -> assumed
    E("c10", "answer", at(D1, "16:00"), "b7", "faq/fee", text="fee?"),
    # day 2
    E("c11", "answer", at(D2, "18:00"), "b7", "faq/fee", text="and the fee?"),                  # assumed
    E("c12", "answer", at(D2, "09:00"), "b8", "loan_cost", text="cost of 10000"),               # not resolved
    E("c12", "fallback", at(D2, "09:02"), "b8", text="Blorp, zzz!"),                            # groups with "blorp zzz"
    E("c13", "answer", at(D2, "10:00"), "b9", "faq/fee", text="fee"),                           # handed off
    E("c13", "fallback", at(D2, "10:01"), "b9", text="asdf"),
    E("c13", "fallback", at(D2, "10:02"), "b9", text="asdf"),
    E("c13", "handoff", at(D2, "10:02"), "b9", reason="misunderstood"),
]

# Worked out by hand from the comments above.
EXPECTED = {
    "conversations": 13,
    "involved": 11,                  # all but c6 and c8
    "resolved_confirmed": 3,         # c1, c2, c9
    "resolved_assumed": 2,           # c10, c11 (c3 withdrawn)
    "bot_resolution_rate": round(5 / 11, 4),
    "resolutions_withdrawn": 1,
    "pending": 0,
    "handed_off": 3,                 # c7, c8, c13
    "handoff_rate": round(3 / 13, 4),
    "handoffs": {"requested": 1, "misunderstood": 1, "late_disbursement": 1, "dispute": 0, "backend_down": 0},
    "csat_count": 3,
    "csat_average": 3.67,            # (5 + 4 + 2) / 3
    "csat_scores": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
    "first_response_seconds_p50": 210.0,   # median of 300 and 120
    "handling_seconds_p50": 810.0,         # median of 1080 and 540
    "agents": {"alice": 1, "bob": 1},
    "unanswered_total": 6,
    "unanswered": [{"text": "asdf", "count": 2}, {"text": "blorp zzz", "count": 2},
                   {"text": "How long can I borrow?", "count": 1}, {"text": "what's the weather", "count": 1}],
    "topics": [
        {"topic": "faq/fee", "volume": 6, "resolved": 4, "resolution_rate": round(4 / 6, 4)},  # c1 c3 c9 c10 c11 c13
        {"topic": "disbursement_status", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
        {"topic": "faq/currency", "volume": 1, "resolved": 1, "resolution_rate": 1.0},
        {"topic": "faq/term", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
        {"topic": "list_orders", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
        {"topic": "loan_cost", "volume": 1, "resolved": 0, "resolution_rate": 0.0},
    ],
}
EXPECTED_DAYS = {
    D1.isoformat(): {"conversations": 10, "involved": 8, "resolved_confirmed": 3, "resolved_assumed": 1,
                     "handed_off": 2, "csat_count": 3, "unanswered": 3},
    D2.isoformat(): {"conversations": 3, "involved": 3, "resolved_confirmed": 0, "resolved_assumed": 1,
                     "handed_off": 1, "csat_count": 0, "unanswered": 3},
}
