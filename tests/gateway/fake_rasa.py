"""A fake Rasa for the gateway tests: the REST channel and the tracker events endpoint.

Answers by message text:
  "talk to a person"  -> a text + the handoff custom payload (docs/CONTRACT.md)
  "boom"              -> HTTP 500
  "slow"              -> sleeps longer than the gateway's timeout
  "empty"             -> []   (what Rasa returns when the action server was down)
  "loan table"        -> the loan schedule as one custom table payload (docs/GATEWAY.md)
  "loan table 6"      -> the 6-month schedule of an amount above the available credit (said first)
  "evil table"        -> a table whose strings are HTML (must be shown as text)
  "long answer"       -> one long text answer (many lines)
  "[intent] text"      -> "Answer to: text", with Rasa's reading of the turn as the real channel
                         appends it (bot/rasa_channel.py): "[faq/fee] ..." is intent faq, topic faq/fee
  "/feedback_helpful"  -> a thank-you, read as intent feedback_helpful (likewise /feedback_not_helpful)
  anything else       -> "You said: <text>" with a "Pay Later facts" button
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import jwt
from aiohttp import web

STATE = web.AppKey("state", dict)
SLOW_S = 3.0


BUSINESSES = {"buyer-001": ("Acme Outdoor Supply LLC", "US"), "buyer-002": ("Blue Harbor Imports Inc", "US")}


TAKEOVER = "I'm connecting you with a person from our support team."


def handoff_payload(metadata: Dict[str, Any]) -> Dict[str, Any]:
    token = metadata.get("auth_token")
    if not token:  # anonymous: the real action sends no summary
        return {"custom": {"handoff": {"reason": "requested", "reason_text": "Buyer asked for a person", "summary": None,
                                       "announce": TAKEOVER}}}
    buyer_id = jwt.decode(token, options={"verify_signature": False})["sub"]  # the real actions verify it
    business, country = BUSINESSES.get(buyer_id, ("Unknown Co", "US"))
    return {"custom": {"handoff": {
        "reason": "requested",
        "reason_text": "Buyer asked for a person",
        "announce": TAKEOVER,
        "summary": {
            "buyer_id": buyer_id, "business_name": business, "country": country,
            "orders_mentioned": ["TA-100212"],
            "application": {"state": "approved"},
            "credit_line": {"limit": "50000.00", "used": "18380.00", "available": "31620.00"},
        },
    }}}


LOAN_TABLE = {
    "type": "table",
    "kind": "loan_schedule",
    "title": "Borrowing $20,000.00 over 3 months (fee tier B)",
    "before": ["Here is what a Pay Later draw of $20,000.00 would cost if you took it today."],
    "columns": ["Month", "Statement", "Due", "Principal", "Fee", "Credit", "You pay"],
    "rows": [
        ["1", "Thu, Dec 10", "Thu, Dec 31", "$6,666.67", "$400.00", "−$50.00", "$7,016.67"],
        ["2", "Sun, Jan 10", "Sun, Jan 31", "$6,666.67", "$400.00", "$0.00", "$7,066.67"],
        ["3", "Wed, Feb 10", "Sun, Feb 28", "$6,666.66", "$100.00", "$0.00", "$6,766.66"],
    ],
    "after": ["Total fees $900.00, less the first-month credit of $50.00: $850.00. You repay $20,850.00 in all.",
              "No processing fee. You can repay early at any time."],
    "text": ("Borrowing $20,000.00 over 3 months (fee tier B)\n"
             "Here is what a Pay Later draw of $20,000.00 would cost if you took it today.\n"
             "Month 1 (statement Thu, Dec 10, due Thu, Dec 31): principal $6,666.67 + fee $400.00 − credit $50.00 = $7,016.67\n"
             "Month 2 (statement Sun, Jan 10, due Sun, Jan 31): principal $6,666.67 + fee $400.00 = $7,066.67\n"
             "Month 3 (statement Wed, Feb 10, due Sun, Feb 28): principal $6,666.66 + fee $100.00 = $6,766.66\n"
             "Total fees $900.00, less the first-month credit of $50.00: $850.00. You repay $20,850.00 in all.\n"
             "No processing fee. You can repay early at any time."),
}
# The payload action_loan_cost (rules-bot) produces for $40,000 over 6 months on the demo data.
LOAN_TABLE_6 = {
    "type": "table",
    "kind": "loan_schedule",
    "title": "Borrowing $40,000.00 over 6 months (fee tier B)",
    "before": ["$40,000.00 is more than your available credit of $31,620.00, so you couldn't draw all of it today. Here is what it would cost:"],
    "columns": ["Month", "Statement", "Due", "Principal", "Fee", "Credit", "You pay"],
    "rows": [
        ["1", "Sat, Mar 22", "Sat, Apr 12", "$6,666.66", "$800.00", "\u2212$50.00", "$7,416.66"],
        ["2", "Tue, Apr 22", "Tue, May 13", "$6,666.66", "$800.00", "\u2014", "$7,466.66"],
        ["3", "Thu, May 22", "Thu, Jun 12", "$6,666.66", "$200.00", "\u2014", "$6,866.66"],
        ["4", "Sun, Jun 22", "Sun, Jul 13", "$6,666.66", "$200.00", "\u2014", "$6,866.66"],
        ["5", "Tue, Jul 22", "Tue, Aug 12", "$6,666.66", "$200.00", "\u2014", "$6,866.66"],
        ["6", "Fri, Aug 22", "Fri, Sep 12", "$6,666.70", "$200.00", "\u2014", "$6,866.70"],
    ],
    "after": [
        "Total fees $2,400.00, first-month credit \u2212$50.00, total to repay $42,350.00.",
        "Your available credit: $31,620.00.",
        "There is no processing fee and no prepayment penalty.",
    ],
    "text": (
        "$40,000.00 is more than your available credit of $31,620.00, so you couldn't draw all of it today. Here is what it would cost:\n"
        "Borrowing $40,000.00 over 6 months (fee tier B):\n"
        "Month 1 (statement Saturday, March 22, due Saturday, April 12): principal $6,666.66 + fee $800.00 \u2212 first-month credit $50.00 = $7,416.66\n"
        "Month 2 (statement Tuesday, April 22, due Tuesday, May 13): principal $6,666.66 + fee $800.00 = $7,466.66\n"
        "Month 3 (statement Thursday, May 22, due Thursday, June 12): principal $6,666.66 + fee $200.00 = $6,866.66\n"
        "Month 4 (statement Sunday, June 22, due Sunday, July 13): principal $6,666.66 + fee $200.00 = $6,866.66\n"
        "Month 5 (statement Tuesday, July 22, due Tuesday, August 12): principal $6,666.66 + fee $200.00 = $6,866.66\n"
        "Month 6 (statement Friday, August 22, due Friday, September 12): principal $6,666.70 + fee $200.00 = $6,866.70\n"
        "Total fees $2,400.00, first-month credit \u2212$50.00, total to repay $42,350.00.\n"
        "Your available credit: $31,620.00.\n"
        "There is no processing fee and no prepayment penalty."
    ),
}
EVIL = '<img src=x onerror="window.__pwned=1">'
EVIL_TABLE = {"type": "table", "kind": "loan_schedule", "title": EVIL + " title", "before": [EVIL + " before"],
              "columns": ["Month", EVIL], "rows": [["1", EVIL + " cell"]], "after": ["<b>after</b>"],
              "text": "evil table as text"}
LONG_ANSWER = "\n".join(["How Pay Later works, step by step:"] +
                         [f"{i}. A step of the explanation that takes a whole line to say." for i in range(1, 41)] +
                         ["That is the end of the answer."])


async def webhook(request: web.Request) -> web.Response:
    body = await request.json()
    state = request.app[STATE]
    state["messages"].append(body)
    text = (body.get("message") or "").strip()
    sender = body.get("sender")
    low = text.lower()
    if low == "boom":
        return web.Response(status=500, text="internal error")
    if low == "slow":
        await asyncio.sleep(SLOW_S)
        return web.json_response([{"recipient_id": sender, "text": "too late"}])
    if low == "empty":
        return web.json_response([])
    if low == "loan table":
        return web.json_response([{"recipient_id": sender, "custom": LOAN_TABLE}])
    if low == "loan table 6":
        return web.json_response([{"recipient_id": sender, "custom": LOAN_TABLE_6}])
    if low == "evil table":
        return web.json_response([{"recipient_id": sender, "custom": EVIL_TABLE}])
    if low == "long answer":
        return web.json_response([{"recipient_id": sender, "text": LONG_ANSWER},
                                  {"recipient_id": sender, "text": "Anything else?"}])
    if text.startswith("/feedback_"):  # the quick replies' payloads, read as their intent
        return web.json_response([{"recipient_id": sender, "text": "Thanks for telling us."},
                                  {"recipient_id": sender, "custom": {"turn": {"intent": text[1:]}}}])
    if text.startswith("[") and "]" in text:
        name, rest = text[1:].split("]", 1)
        intent, _, _ = name.partition("/")
        turn = {"intent": intent, **({"topic": name} if "/" in name else {})}
        return web.json_response([{"recipient_id": sender, "text": f"Answer to: {rest.strip()}"},
                                  {"recipient_id": sender, "custom": {"turn": turn}}])
    if low == "talk to a person":
        return web.json_response([
            {"recipient_id": sender, "text": TAKEOVER},
            {"recipient_id": sender, **handoff_payload(body.get("metadata") or {})},
        ])
    return web.json_response([{
        "recipient_id": sender,
        "text": f"You said: {text}",
        "buttons": [{"title": "Pay Later facts", "payload": "/faq"}],
    }])


async def tracker_events(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.query.get("token") != state["token"]:
        return web.json_response({"message": "unauthorized"}, status=401)
    body = await request.json()
    if isinstance(body, list):  # appended context (a proactive message): kept apart from pause/resume
        state.setdefault("appended", []).append((request.match_info["sender"], body))
    else:
        state["events"].append((request.match_info["sender"], body["event"]))
    return web.json_response({"sender_id": request.match_info["sender"], "events": []})


async def status(request: web.Request) -> web.Response:
    """Rasa's /status with a model loaded (the gateway's /health/ready reads it)."""
    if request.query.get("token") != request.app[STATE]["token"]:
        return web.json_response({"message": "unauthorized"}, status=401)
    return web.json_response({"model_file": "fake.tar.gz", "model_id": "fake"})


def make_fake_rasa(token: str = "rasa-test-token") -> web.Application:
    app = web.Application()
    app[STATE] = {"messages": [], "events": [], "token": token}
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", tracker_events)
    app.router.add_get("/status", status)
    return app


def state_of(app: web.Application) -> Dict[str, List]:
    return app[STATE]
