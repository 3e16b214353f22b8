"""A bot message with a custom table payload (the loan schedule): stored with its text version,
returned to the app as data, pushed live, and shown to agents as text."""
from __future__ import annotations

import json

import pytest
from fake_rasa import EVIL_TABLE, LOAN_TABLE
from gw_helpers import login, new_conversation, next_of, open_buyer_ws, say

from bot.gateway.rasa import parse_reply
from bot.gateway.rich import MAX_ROWS, table_from_custom

TABLE_KEYS = {"type", "kind", "title", "before", "columns", "rows", "after"}


async def test_table_reply_is_returned_as_data_with_its_text(gateway, fake_rasa):
    conv, h = await new_conversation(gateway, "buyer-001", "app")
    body = await (await say(gateway, conv, h, "loan table")).json()
    assert [m["sender"] for m in body["messages"]] == ["buyer", "bot"]
    bot = body["messages"][1]
    assert bot["text"] == LOAN_TABLE["text"]  # the whole answer, for clients that only show text
    data = bot["data"]
    assert set(data) == TABLE_KEYS and data["type"] == "table" and data["kind"] == "loan_schedule"
    assert data["title"] == "Borrowing $20,000.00 over 3 months (fee tier B)"
    assert data["columns"] == ["Month", "Statement", "Due", "Principal", "Fee", "Credit", "You pay"]
    assert data["rows"][0] == ["1", "Thu, Dec 10", "Thu, Dec 31", "$6,666.67", "$400.00", "\u2212$50.00", "$7,016.67"]
    assert len(data["rows"]) == 3 and data["before"] == LOAN_TABLE["before"] and data["after"] == LOAN_TABLE["after"]

    # the same message in the history (a reload, or an app that was offline)
    history = await (await gateway.get(f"/v1/conversations/{conv['id']}/messages", headers=h)).json()
    assert history["messages"][-1] == bot
    # plain messages carry no data
    assert "data" not in history["messages"][0]


async def test_table_reply_is_pushed_live(gateway):
    conv, h = await new_conversation(gateway)
    ws = await open_buyer_ws(gateway, conv, token=h["Authorization"][7:])
    await next_of(ws, "ready")
    await ws.send_json({"type": "message", "text": "loan table"})
    e = await next_of(ws, "message", pred=lambda e: e["message"]["sender"] == "bot")
    assert e["message"]["data"]["rows"][2][-1] == "$6,766.66"
    assert e["message"]["text"].startswith("Borrowing $20,000.00 over 3 months")
    await ws.close()
    # a reconnecting client gets it in `ready` too
    ws = await open_buyer_ws(gateway, conv, token=h["Authorization"][7:])
    ready = await next_of(ws, "ready")
    assert ready["messages"][-1]["data"]["kind"] == "loan_schedule"
    await ws.close()


async def test_agents_see_the_table_as_text_in_the_transcript(gateway):
    conv, h = await new_conversation(gateway)
    await say(gateway, conv, h, "loan table")
    await login(gateway)
    transcript = await (await gateway.get(f"/console/api/conversations/{conv['id']}")).json()
    bot = transcript["messages"][-1]
    assert bot["text"] == LOAN_TABLE["text"]


async def test_html_in_a_table_is_kept_as_text(gateway):
    conv, h = await new_conversation(gateway)
    body = await (await say(gateway, conv, h, "evil table")).json()
    data = body["messages"][1]["data"]
    # stored and returned verbatim as strings: the clients render them with textContent
    assert data["title"] == EVIL_TABLE["title"] and data["rows"] == EVIL_TABLE["rows"]
    assert data["after"] == ["<b>after</b>"]


def rasa_item(custom):
    return [{"recipient_id": "c", "custom": custom}]


@pytest.mark.parametrize("broken", [
    {**LOAN_TABLE, "rows": [["1", "too short"]]},
    {**LOAN_TABLE, "rows": "not a list"},
    {**LOAN_TABLE, "columns": []},
    {**LOAN_TABLE, "rows": [[{"html": "<b>"}] * 7]},
    {**LOAN_TABLE, "before": [["nested"]]},
    {**LOAN_TABLE, "rows": [["1"] * 7] * (MAX_ROWS + 1)},
])
def test_a_malformed_table_falls_back_to_its_text(broken):
    reply = parse_reply(rasa_item(broken))
    assert reply.messages == [{"text": LOAN_TABLE["text"], "buttons": []}]


def test_a_table_without_text_gets_one_and_unknown_custom_payloads_are_ignored():
    no_text = {k: v for k, v in LOAN_TABLE.items() if k != "text"}
    (msg,) = parse_reply(rasa_item(no_text)).messages
    assert msg["data"] == table_from_custom(LOAN_TABLE)
    lines = msg["text"].split("\n")
    assert lines[0] == LOAN_TABLE["title"] and lines[1] == LOAN_TABLE["before"][0]
    assert "Month: 1 · Statement: Thu, Dec 10" in lines[2] and lines[-1] == LOAN_TABLE["after"][-1]
    assert parse_reply(rasa_item({"type": "carousel", "items": []})).messages == []
    assert parse_reply(rasa_item({"type": "carousel", "text": "as text"})).messages == [{"text": "as text", "buttons": []}]
    # the handoff payload is still taken out of what the buyer sees
    reply = parse_reply(rasa_item({"handoff": {"reason": "requested"}}))
    assert reply.messages == [] and reply.handoff == {"reason": "requested"}


def test_table_strings_are_bounded():
    huge = {**LOAN_TABLE, "title": "x" * 5000, "rows": [["y" * 5000] * 7]}
    t = table_from_custom(huge)
    assert len(t["title"]) == 300 and len(t["rows"][0][0]) == 200
    assert len(json.dumps(t)) < 5000


async def test_openapi_describes_the_table_the_api_returns(gateway):
    import jsonschema

    doc = await (await gateway.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    assert schemas["Message"]["properties"]["data"] == {"$ref": "#/components/schemas/Table"}
    conv, h = await new_conversation(gateway)
    body = await (await say(gateway, conv, h, "loan table")).json()
    jsonschema.validate(body["messages"][1]["data"], schemas["Table"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "table", "columns": [], "rows": []}, schemas["Table"])
