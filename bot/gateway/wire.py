"""JSON encoded once: a stored message goes to the HTTP answer, the buyer's socket, every console
socket and (with several gateways) Redis. Each of them used to encode it again; an `Encoded`
object carries its JSON text, so it is encoded once and the envelopes around it are joined as
text.

`Encoded` is a dict (handlers and subscribers read it as before) that must not be changed after
it is made: its text would no longer match. `as_json(x)` is the text of either kind.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, Optional

from aiohttp import web

_dumps = json.dumps


class Encoded(dict):
    """A JSON object and its text (json.dumps' default separators, like web.json_response)."""

    __slots__ = ("json",)

    def __init__(self, value: Dict[str, Any], text: Optional[str] = None):
        super().__init__(value)
        self.json = _dumps(value) if text is None else text


def as_json(obj: Any) -> str:
    return obj.json if type(obj) is Encoded else _dumps(obj)


def message_event(msg: Encoded, conversation_id: Optional[str] = None) -> Encoded:
    """{"type": "message", ["conversation_id": ...,] "message": msg}, around the message's text."""
    if conversation_id is None:
        return Encoded({"type": "message", "message": msg}, '{"type": "message", "message": ' + msg.json + "}")
    return Encoded({"type": "message", "conversation_id": conversation_id, "message": msg},
                   '{"type": "message", "conversation_id": ' + _dumps(conversation_id) + ', "message": ' + msg.json + "}")


def json_list(items: Iterable[Any]) -> str:
    return "[" + ", ".join(as_json(i) for i in items) + "]"


def json_object(**fields: Any) -> str:
    """An object whose values may be Encoded (their text is reused) or lists of them."""
    parts = []
    for key, value in fields.items():
        text = json_list(value) if isinstance(value, list) else as_json(value)
        parts.append(_dumps(key) + ": " + text)
    return "{" + ", ".join(parts) + "}"


def json_response(text: str, status: int = 200) -> web.Response:
    """web.json_response for text that is already JSON."""
    return web.Response(text=text, status=status, content_type="application/json")
