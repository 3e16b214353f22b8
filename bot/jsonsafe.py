"""JSON parsing with bounds, shared by the gateway, the backend API and the action server.

`json.loads` recurses once per nesting level: 16 KB of `[[[[...` raises RecursionError (a 500
wherever it was not expected). `loads` refuses documents nested deeper than `max_depth` before
parsing them, and turns every parse failure into `JSONInputError` (a ValueError).
"""
from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32


class JSONInputError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# Escape sequences (backslash and the next byte), every byte but brackets and quotes, a string
# (no escapes left in it) and an innermost pair of brackets.
_ESCAPE = re.compile(rb"\\.", re.S)
_KEEP_ONLY_BRACKETS_AND_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')
_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"[\[{][\]}]")


def deeper_than(text, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` deep, brackets inside strings not counted.

    At C speed (the action server checks every call, 25-90 KB; a character loop in Python took
    ~4 ms for 32 KB, this ~0.6): escape sequences go, then every byte but brackets and quotes,
    then the strings (what is left of them: two quotes, or brackets between two quotes), and
    each pass removes every innermost pair, so a document `d` deep is empty after `d` passes.
    Brackets or quotes that never pair up mean invalid JSON, which the parser refuses anyway."""
    b = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if b"\\" in b:
        b = _ESCAPE.sub(b"", b)
    # adjacent quotes: an empty string, or the end of one and the start of the next with no
    # bracket between them; either way no bracket changes sides
    b = b.translate(None, _KEEP_ONLY_BRACKETS_AND_QUOTES).replace(b'""', b"")
    if b'"' in b:
        b = _STRING.sub(b"", b)
    for _ in range(limit):
        if not b:
            return False
        b, removed = _INNERMOST.subn(b"", b)
        if not removed:
            return False
    return bool(b)


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
    if text.count("[") + text.count("{") > max_depth and deeper_than(text, max_depth):
        raise JSONInputError("too_deeply_nested", f"JSON may be nested at most {max_depth} levels deep.")
    try:
        return json.loads(text, **kwargs)
    except RecursionError:
        raise JSONInputError("too_deeply_nested", f"JSON may be nested at most {max_depth} levels deep.") from None
    except ValueError:
        raise JSONInputError("invalid_json", "The body is not valid JSON.") from None
