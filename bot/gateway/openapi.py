"""OpenAPI 3 description of the buyer/app API (served at /openapi.json)."""
from __future__ import annotations

from typing import Any, Dict

from .settings import GatewaySettings


def _err(desc: str) -> Dict[str, Any]:
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document(gw: GatewaySettings) -> Dict[str, Any]:
    cid = {"name": "cid", "in": "path", "required": True, "schema": {"type": "string"}}
    conv_token = {"name": "X-Conversation-Token", "in": "header", "required": False, "schema": {"type": "string"},
                  "description": "Anonymous conversations only: the `conversation_token` returned at creation."}
    security = [{"buyerJwt": []}, {}]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Pay Later chat gateway — app API",
            "version": "1.0.0",
            "description": (
                "Conversations with the Pay Later assistant and, after a handoff, with a support agent. "
                "Signed-in buyers send their marketplace JWT as `Authorization: Bearer <jwt>`; a conversation "
                "created with a token belongs to that buyer only. Anonymous conversations are bound to the "
                "`conversation_token` returned once at creation. Mobile apps create conversations with "
                "`client: \"app\"` so the assistant gives the app's steps.\n\n"
                "Live updates: open `GET /v1/conversations/{cid}/ws` (WebSocket) and send "
                "`{\"type\":\"auth\",\"token\":\"<jwt>\"}` or `{\"type\":\"auth\",\"conversation_token\":\"...\"}` "
                "first (optional `after`: last message id you have). The server answers "
                "`{\"type\":\"ready\",\"conversation\":{...},\"messages\":[...]}` then pushes "
                "`{\"type\":\"message\",\"message\":Message}` and `{\"type\":\"state\",\"conversation\":Conversation}`; "
                "you may send `{\"type\":\"message\",\"text\":...,\"payload\"?:...,\"client_message_id\"?:...}` "
                "(with an id the server answers `{\"type\":\"ack\",\"client_message_id\":...,\"messages\":[...]}`) "
                "and `{\"type\":\"ping\"}`. "
                "Errors arrive as `{\"type\":\"error\",\"error\":code,\"message\":text[,\"retry_after\":s]}`. "
                "Messages may be delivered twice around (re)connection: de-duplicate by `id`. "
                "See docs/GATEWAY.md."
            ),
        },
        "paths": {
            "/v1/conversations": {"post": {
                "summary": "Start a conversation",
                "security": security,
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"client": {"type": "string", "enum": ["web", "app"], "default": "web"}}}}}},
                "responses": {
                    "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewConversation"}}}},
                    "400": _err("Bad client value, or JSON that is malformed / nested deeper than 32 levels"),
                    "401": _err("Token present but invalid or expired"),
                    "429": _err("Too many new conversations from this address or buyer (PAYLATER_LIMIT_CONVERSATIONS_*); see Retry-After"),
                },
            }},
            "/v1/buyers/me/conversation": {"get": {
                "summary": "The signed-in buyer's latest conversation (e.g. the one the gateway opened for a "
                           "proactive message: money arrived, payment late, application decided)",
                "security": [{"buyerJwt": []}],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Conversation"}}}},
                              "401": _err("No, invalid or expired token"), "404": _err("No conversation yet")},
            }},
            "/v1/events": {"post": {
                "summary": "An event from the backend's outbox (an external relay; bearer PAYLATER_EVENTS_TOKEN): "
                           "written once per event_id into the buyer's chat as a message with kind \"proactive\" "
                           "(docs/CONTRACT.md, Events)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "required": [
                    "event_id", "type", "buyer_id"], "properties": {"event_id": {"type": "string"}, "type": {"type": "string"},
                    "buyer_id": {"type": "string"}, "order_id": {"type": "string", "nullable": True}}}}}},
                "responses": {"202": {"description": "{\"status\": \"delivered\" | \"duplicate\"}"},
                              "400": _err("Not a valid event"), "401": _err("Missing or wrong events token")},
            }},
            "/v1/conversations/{cid}": {"get": {
                "summary": "Conversation state", "security": security, "parameters": [cid, conv_token],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Conversation"}}}},
                              "401": _err("Invalid or expired token"), "404": _err("Unknown, or not this caller's")},
            }},
            "/v1/conversations/{cid}/messages": {
                "get": {
                    "summary": "History (oldest first)", "security": security,
                    "parameters": [cid, conv_token, {"name": "after", "in": "query", "schema": {"type": "integer", "default": 0, "minimum": 0, "maximum": 2147483647},
                                                      "description": "only messages with a larger id"}],
                    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageList"}}}},
                                  "400": _err("`after` is not a whole number from 0 to 2147483647 (invalid_after)"),
                                  "401": _err("Invalid or expired token"), "404": _err("Unknown, or not this caller's")},
                },
                "post": {
                    "summary": "Send a message (typed text, or a button: `text` = its title, `payload` = its payload)",
                    "description": "While a conversation waits for an agent or is with an agent, messages go to the agent only. "
                                   "When the assistant cannot answer (down, timeout, empty answer) the gateway answers with an "
                                   "apology and a \"Talk to a person\" button. Card numbers, SSNs, bank numbers and passwords "
                                   "are redacted before anything is stored or forwarded. Send a `client_message_id` (a UUID) "
                                   "with each message and send it again with the same id after a network error: a repeat "
                                   "returns the replies already produced, and the assistant never answers the same message twice.",
                    "security": security, "parameters": [cid, conv_token],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SendMessage"}}}},
                    "responses": {
                        "200": {"description": "The buyer's message and the replies produced now",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageList"}}}},
                        "400": _err("Empty message or bad payload"), "401": _err("Invalid or expired token"),
                        "404": _err("Unknown, or not this caller's"),
                        "409": _err("This `client_message_id` was already used for a different text"),
                        "413": _err(f"Longer than {gw.max_message_chars} characters"),
                        "429": {"description": "Too many messages (per conversation, buyer or address; see PAYLATER_LIMIT_*); see Retry-After",
                                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    },
                },
            },
            "/v1/conversations/{cid}/csat": {"post": {
                "summary": "The buyer's optional rating (CSAT 1-5 and a comment) when one was asked for",
                "description": "Asked by a message whose `data.type` is `csat`: the `closed` notice after an agent "
                               "closes the chat, or kind `csat` after the buyer said the bot's answer helped (at most "
                               "once a day per buyer). One rating per prompt; never required (docs/ANALYTICS.md).",
                "security": security, "parameters": [cid, conv_token],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["score"],
                    "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 5},
                                   "comment": {"type": "string", "maxLength": 500}}}}}},
                "responses": {"201": {"description": "Stored: {\"rating\": {\"score\", \"comment\"}}"},
                              "400": _err("`score` is not 1-5 (invalid_score)"),
                              "401": _err("Invalid or expired token"), "404": _err("Unknown, or not this caller's"),
                              "409": _err("No rating asked for right now (not_asked)")},
            }},
            "/v1/conversations/{cid}/read": {"post": {
                "summary": "Read state: the widget has shown the buyer every message up to `up_to`",
                "description": "The mark never moves back and is clamped to the conversation's last message. "
                               "`unread` counts the bot's and agents' messages after it (the launcher badge); "
                               "the same object comes back as `read` with the history, so it survives a reload. "
                               "Agents see \"Seen\" under their reply once the buyer's mark reaches it.",
                "security": security, "parameters": [cid, conv_token],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["up_to"],
                    "properties": {"up_to": {"type": "integer", "minimum": 0, "maximum": 2147483647}}}}}},
                "responses": {"200": {"description": "The stored mark", "content": {"application/json": {"schema": {
                                  "$ref": "#/components/schemas/ReadState"}}}},
                              "400": _err("`up_to` is not a message id (invalid_up_to)"),
                              "401": _err("Invalid or expired token"), "404": _err("Unknown, or not this caller's")},
            }},
            "/v1/conversations/{cid}/ws": {"get": {
                "summary": "WebSocket for live updates (see the description above)",
                "parameters": [cid],
                "responses": {"101": {"description": "Switching protocols"}, "403": {"description": "Origin not allowed"}},
            }},
            "/health": {"get": {"summary": "Liveness", "responses": {"200": {"description": "OK"}}}},
        },
        "components": {
            "securitySchemes": {"buyerJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (HS256; sub, iat, exp)"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
                "Conversation": {"type": "object", "properties": {
                    "id": {"type": "string"}, "client": {"type": "string", "enum": ["web", "app"]},
                    "state": {"type": "string", "enum": ["bot", "queued", "agent", "closed"]},
                    "signed_in": {"type": "boolean"},
                    "agent": {"type": "object", "nullable": True, "properties": {"name": {"type": "string"}}},
                    "agents_online": {"type": "boolean"},
                    "created_at": {"type": "string", "format": "date-time"}}},
                "NewConversation": {"allOf": [{"$ref": "#/components/schemas/Conversation"}, {"type": "object", "properties": {
                    "conversation_token": {"type": "string", "description": "anonymous conversations only; keep it secret"}}}]},
                "Button": {"type": "object", "properties": {"title": {"type": "string"}, "payload": {"type": "string"}}},
                "Message": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "conversation_id": {"type": "string"},
                    "sender": {"type": "string", "enum": ["buyer", "bot", "agent", "system"]},
                    "text": {"type": "string", "description": "plain text: render as text, never as HTML"},
                    "buttons": {"type": "array", "items": {"$ref": "#/components/schemas/Button"}},
                    "agent_name": {"type": "string"},
                    "kind": {"type": "string", "description": "system notices: queued, agent_joined, handed_back, closed, redacted; bot: bot_unavailable, proactive (an event the buyer did not ask about), late_apology"},
                    "data": {"$ref": "#/components/schemas/Table"},
                    "created_at": {"type": "string", "format": "date-time"}}},
                "Table": {"type": "object", "required": ["type", "columns", "rows"],
                          "description": ("Optional structured version of a bot message (the loan schedule: kind loan_schedule). "
                                          "`text` of the same message is the whole answer as plain text: show it when you "
                                          "cannot draw the table or do not know `type`. Show `before`, then `title` and the "
                                          "table, then `after`. Every string is plain text; every row has one cell per column."),
                          "properties": {
                              "type": {"type": "string", "enum": ["table"]},
                              "kind": {"type": "string", "example": "loan_schedule"},
                              "title": {"type": "string", "maxLength": 300,
                                        "example": "Borrowing $20,000.00 over 3 months (fee tier B)"},
                              "before": {"type": "array", "maxItems": 12, "items": {"type": "string"},
                                         "description": "sentences shown before the table"},
                              "columns": {"type": "array", "minItems": 1, "maxItems": 12,
                                          "items": {"type": "string", "maxLength": 200},
                                          "example": ["Month", "Statement", "Due", "Principal", "Fee", "Credit", "You pay"]},
                              "rows": {"type": "array", "maxItems": 60,
                                       "items": {"type": "array", "items": {"type": "string", "maxLength": 200}},
                                       "example": [["1", "Thu, Dec 10", "Thu, Dec 31", "$6,666.67", "$400.00", "\u2212$50.00", "$7,016.67"]]},
                              "after": {"type": "array", "maxItems": 12, "items": {"type": "string"},
                                        "description": "sentences shown after the table"}}},
                "ReadState": {"type": "object", "properties": {
                    "last_read_id": {"type": "integer", "description": "the last message the buyer has been shown (0: none)"},
                    "unread": {"type": "integer", "description": "bot and agent messages after it"}}},
                "MessageList": {"type": "object", "properties": {
                    "conversation": {"$ref": "#/components/schemas/Conversation"},
                    "read": {"$ref": "#/components/schemas/ReadState"},
                    "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}}},
                "SendMessage": {"type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "maxLength": gw.max_message_chars},
                    "payload": {"type": "string", "maxLength": 500, "description": "a button's payload; `text` is its title"},
                    "client_message_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$",
                                          "description": "the client's id of this message (a UUID): a retry with the same id is the same message"}}},
            },
        },
    }
