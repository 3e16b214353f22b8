"""JSON parsing with bounds, shared by the gateway, the backend API and the action server.

`json.loads` recurses once per nesting level: 16 KB of `[[[[...` raises RecursionError (a 500
wherever it was not expected). `loads` refuses documents nested deeper than `max_depth` before
parsing them, and turns every parse failure into `JSONInputError` (a ValueError).
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class JSONInputError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def nesting_depth(text: str) -> int:
    """Deepest nesting of arrays/objects, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}":
            depth -= 1
    return deepest


def loads(text: Any, *, max_bytes: int, max_depth: int = MAX_DEPTH, **kwargs) -> Any:
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_bytes:
            raise JSONInputError("body_too_large", "The request body is too large.")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONInputError("invalid_json", "The body must be UTF-8 JSON.") from None
    if not isinstance(text, str):
        raise JSONInputError("invalid_json", "The body must be JSON.")
    if len(text) > max_bytes:
        raise JSONInputError("body_too_large", "The request body is too large.")
    # counting is cheap; the character scan runs only when the brackets could be that deep
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise JSONInputError("too_deeply_nested", f"JSON may be nested at most {max_depth} levels deep.")
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        raise JSONInputError("too_deeply_nested", f"JSON may be nested at most {max_depth} levels deep.") from None
    except ValueError:
        raise JSONInputError("invalid_json", "The body is not valid JSON.") from None
