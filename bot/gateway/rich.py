"""Structured bot messages: Rasa `custom` payloads the gateway passes on to clients.

Only known shapes pass, each checked and bounded; anything else is dropped and the message's
text stands alone. Every structured message keeps a plain-text version in `text` (console
transcript, old clients, anything that only shows text). Clients render every string as text.

The loan schedule (docs/GATEWAY.md, "Structured messages"):
  {"type": "table", "kind": "loan_schedule", "title": str, "before": [str], "columns": [str],
   "rows": [[str]], "after": [str], "text": str}
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

MAX_COLUMNS = 12
MAX_ROWS = 60
MAX_CELL_CHARS = 200
MAX_LINES = 12  # sentences before / after the table
MAX_LINE_CHARS = 1000
MAX_TITLE_CHARS = 300
MAX_TEXT_CHARS = 20_000


def _string(value: Any, limit: int) -> Optional[str]:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value)[:limit]


def _lines(value: Any) -> Optional[List[str]]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_LINES:
        return None
    lines = [_string(v, MAX_LINE_CHARS) for v in value]
    return None if any(line is None for line in lines) else [line for line in lines if line]


def table_from_custom(custom: Any) -> Optional[Dict[str, Any]]:
    """The table in a `custom` payload, checked and bounded; None when it is not a valid table."""
    if not isinstance(custom, dict) or custom.get("type") != "table":
        return None
    columns = custom.get("columns")
    rows = custom.get("rows")
    if not isinstance(columns, list) or not 1 <= len(columns) <= MAX_COLUMNS:
        return None
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        return None
    header = [_string(c, MAX_CELL_CHARS) for c in columns]
    if any(c is None for c in header):
        return None
    body: List[List[str]] = []
    for row in rows:
        if not isinstance(row, list) or len(row) != len(header):
            return None
        cells = [_string(c, MAX_CELL_CHARS) for c in row]
        if any(c is None for c in cells):
            return None
        body.append(cells)
    title = _string(custom.get("title", ""), MAX_TITLE_CHARS)
    kind = _string(custom.get("kind", "table"), 32)
    before, after = _lines(custom.get("before")), _lines(custom.get("after"))
    if title is None or kind is None or before is None or after is None:
        return None
    return {"type": "table", "kind": kind, "title": title, "before": before, "columns": header,
            "rows": body, "after": after}


def table_text(table: Dict[str, Any]) -> str:
    """A plain-text version of a table, for a payload that came without one."""
    parts: List[str] = []
    if table["title"]:
        parts.append(table["title"])
    parts.extend(table["before"])
    columns = table["columns"]
    for row in table["rows"]:
        parts.append(" · ".join(f"{c}: {v}" for c, v in zip(columns, row) if v))
    parts.extend(table["after"])
    return "\n".join(parts)


def custom_message(custom: Any) -> Optional[Dict[str, Any]]:
    """`{"text", "data"?}` for a custom payload the buyer should see, or None (ignored).
    A table's own `text` is its fallback; an unknown payload counts only by its `text`."""
    if not isinstance(custom, dict):
        return None
    text = custom.get("text") if isinstance(custom.get("text"), str) else ""
    table = table_from_custom(custom)
    if table is not None:
        return {"text": (text or table_text(table))[:MAX_TEXT_CHARS], "data": table}
    return {"text": text[:MAX_TEXT_CHARS]} if text else None
