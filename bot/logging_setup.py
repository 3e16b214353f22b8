"""One log format for the four processes, with the request id and conversation id on every line.

The gateway gives every buyer message a request id (`X-Request-ID`, or the one the client
sent if it is sane) and passes it on: Rasa message metadata `request_id` -> the action server
(the tracker's latest message) -> the backend API (`X-Request-ID` header of the HTTP adapter).
Each process keeps the pair in context variables, so concurrent conversations never mix ids,
and a filter on every handler writes them into each record.

    PAYLATER_LOG_FORMAT   text (default) | json  (one JSON object per line)
    LOG_LEVEL             INFO (default), DEBUG, WARNING ...

Rotation: `python -m bot.stack run` writes each process's output to var/log/<part>.log and
rotates it (PAYLATER_LOG_MAX_BYTES, default 10 MB, 5 old files kept); in containers the
platform keeps stdout.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import uuid
from typing import Any, Dict, Optional

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_KEY = "request_id"  # in Rasa message metadata
LOG_FORMATS = ("text", "json")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("paylater_request_id", default="-")
conversation_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("paylater_conversation_id", default="-")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s conv=%(conversation_id)s] %(message)s"


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: Any) -> Optional[str]:
    """A caller's id is kept only if it is short and plain (it ends up in every log line)."""
    return value if isinstance(value, str) and _SANE_ID.match(value) else None


def bind(request_id: Optional[str] = None, conversation_id: Optional[str] = None) -> None:
    """Set both ids for the rest of this task; a missing one becomes "-". Both are always set:
    requests on one keep-alive connection share a task, and must not inherit the last ids."""
    request_id_var.set(str(request_id)[:64] if request_id else "-")
    conversation_id_var.set(str(conversation_id)[:64] if conversation_id else "-")


def bind_from_metadata(metadata: Any, conversation_id: Optional[str] = None) -> None:
    rid = sane_request_id(metadata.get(REQUEST_ID_KEY)) if isinstance(metadata, dict) else None
    bind(rid, conversation_id)


def current_request_id() -> Optional[str]:
    rid = request_id_var.get()
    return None if rid == "-" else rid


class ContextFilter(logging.Filter):
    """Adds request_id / conversation_id / part to every record that reaches the handler."""

    def __init__(self, part: str):
        super().__init__()
        self.part = part

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "conversation_id"):
            record.conversation_id = conversation_id_var.get()
        record.part = self.part
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: Dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "part": getattr(record, "part", "-"),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "conversation_id": getattr(record, "conversation_id", "-"),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class SettingsError(ValueError):
    """A setting is missing or invalid; its message is one sentence for the operator."""


def log_format() -> str:
    value = (os.environ.get("PAYLATER_LOG_FORMAT") or "text").strip().lower()
    if value not in LOG_FORMATS:
        raise SettingsError(f"PAYLATER_LOG_FORMAT must be 'text' or 'json', not {value!r}.")
    return value


def _formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def _apply(handler: logging.Handler, part: str, fmt: str) -> None:
    if not any(isinstance(f, ContextFilter) for f in handler.filters):
        handler.addFilter(ContextFilter(part))
    handler.setFormatter(_formatter(fmt))


def configure(part: str, level: Optional[str] = None) -> None:
    """Idempotent: the root logger gets one stderr handler if it has none; every handler of
    every logger (Rasa's coloredlogs, Sanic's own) gets the id filter and the chosen format."""
    fmt = log_format()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    if level or not root.level or root.level == logging.WARNING:
        root.setLevel((level or os.environ.get("LOG_LEVEL") or "INFO").upper())
    for handler in root.handlers:
        _apply(handler, part, fmt)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and not logger.name.startswith("bot.stack.output."):
            for handler in logger.handlers:
                _apply(handler, part, fmt)


def aiohttp_middleware(conversation_header: Optional[str] = None):
    """aiohttp middleware: bind the caller's X-Request-ID (or a new one) and the conversation id
    (the `cid` path part, or `conversation_header`) for the request, and echo the request id."""
    import time

    from aiohttp import web

    access = logging.getLogger("bot.access")

    @web.middleware
    async def request_context(request, handler):
        rid = sane_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
        cid = request.match_info.get("cid") or (
            sane_request_id(request.headers.get(conversation_header)) if conversation_header else None)
        bind(rid, cid)
        started, status = time.monotonic(), 500
        try:
            resp = await handler(request)
            status = resp.status
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if not request.path.startswith(("/health", "/static/")):  # probes and assets would drown the rest
                access.info("%s %s %s %.0f ms", request.method, request.path, status, (time.monotonic() - started) * 1000)
        if not getattr(resp, "prepared", False):
            resp.headers.setdefault(REQUEST_ID_HEADER, rid)
        return resp

    return request_context


CONVERSATION_ID_HEADER = "X-Conversation-ID"


def outgoing_headers() -> Dict[str, str]:
    """Headers that carry this task's ids to the next service (the backend API)."""
    headers = {}
    rid, cid = request_id_var.get(), conversation_id_var.get()
    if rid != "-":
        headers[REQUEST_ID_HEADER] = rid
    if cid != "-":
        headers[CONVERSATION_ID_HEADER] = cid
    return headers
