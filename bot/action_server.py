"""The action server of the product, started instead of `rasa run actions`:

    python -m bot.action_server [--port 5055] [--actions bot.actions]

Differences from rasa_sdk's endpoint (same /webhook protocol, same executor):

* Calls must carry `X-Paylater-Action-Token: <PAYLATER_ACTION_TOKEN>`; Rasa sends it from
  `endpoints.yml` (action_endpoint.headers). Anyone else gets 401 and no action runs, so a
  hand-built tracker from whoever can reach the port is refused. It will not start without
  PAYLATER_ACTION_TOKEN.
* A malformed call (not JSON, too deep or too large, not an action call) is a 400 that does not
  echo the request; an action that fails is a 500 `internal_error`, logged, never echoing either
  (rasa_sdk answers `{"error": str(exc), "request_body": <the whole tracker>}`).
* Binds to SANIC_HOST, default 127.0.0.1 (rasa_sdk: 0.0.0.0); no CORS (browsers never call it).
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import zlib
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

from bot import jsonsafe

log = logging.getLogger(__name__)

HEADER = "X-Paylater-Action-Token"
MAX_CALL_BYTES = 16 * 1024 * 1024  # a long tracker plus the domain
MAX_DEPTH = 64


def _error(status: int, code: str, message: str):
    return response.json({"error": code, "message": message}, status=status)


def _inflate(body: bytes) -> Optional[bytes]:
    d = zlib.decompressobj()
    try:
        out = d.decompress(body, MAX_CALL_BYTES + 1)
    except zlib.error:
        return None
    return None if len(out) > MAX_CALL_BYTES or d.unconsumed_tail else out


def _is_action_call(call) -> bool:
    if not isinstance(call, dict) or not isinstance(call.get("next_action"), str):
        return False
    if not isinstance(call.get("version"), (str, type(None))):
        return False
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        return False
    if not isinstance(tracker.get("slots", {}), dict) or not isinstance(tracker.get("events", []), list):
        return False
    if not isinstance(tracker.get("latest_message", {}) or {}, dict):
        return False
    return isinstance(call.get("domain", {}) or {}, dict)


def create_app(token: str, package: str = "bot.actions", name: str = "paylater_actions") -> Sanic:
    if not token:
        raise ValueError("an action token is required")
    from rasa_sdk import utils
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    app = Sanic(name, configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_CALL_BYTES + 1024
    app.config.REQUEST_TIMEOUT = 15  # slow clients are cut off
    app.config.RESPONSE_TIMEOUT = 60
    executor = ActionExecutor()
    executor.register_package(package)

    @app.get("/health")
    async def health(_request: Request):
        return response.json({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request: Request):
        supplied = request.headers.get(HEADER) or ""
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return _error(401, "unauthorized", f"Calls need the {HEADER} header.")
        raw = request.body or b""
        if request.headers.get("Content-Encoding") == "deflate":
            raw = _inflate(raw)
            if raw is None:
                return _error(400, "invalid_body", "The body is not valid deflate data (or inflates too large).")
        try:
            call = jsonsafe.loads(raw, max_bytes=MAX_CALL_BYTES, max_depth=MAX_DEPTH)
        except jsonsafe.JSONInputError as exc:
            return _error(413 if exc.code == "body_too_large" else 400, exc.code, exc.message)
        if not _is_action_call(call):
            return _error(400, "invalid_request", "Not an action call: next_action, tracker and domain are required.")
        utils.check_version_compatibility(call.get("version"))
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as e:
            return response.json({"error": e.message, "action_name": e.action_name}, status=400)
        except ActionNotFoundException as e:
            return response.json({"error": e.message, "action_name": e.action_name}, status=404)
        except Exception:
            log.exception("action %s failed", str(call.get("next_action"))[:64])
            return _error(500, "internal_error", "The action failed; see the action server's log.")
        return response.json(result)

    @app.exception(Exception)
    async def on_error(request: Request, exc: Exception):
        status = getattr(exc, "status_code", 500) or 500
        if status >= 500:
            log.error("%s %s failed: %r", request.method, request.path, exc)
        return _error(status, "internal_error" if status >= 500 else "bad_request",
                      "Something went wrong." if status >= 500 else "The request was not understood.")

    return app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    parser.add_argument("--actions", default="bot.actions")
    args = parser.parse_args(argv)
    os.umask(0o077)
    from bot.logging_setup import configure
    from bot.rasa_server import install_action_context
    from bot.startup_checks import check_or_exit

    check_or_exit("actions")
    configure("actions")  # PAYLATER_LOG_FORMAT, request and conversation ids on every line
    install_action_context()
    from bot.profiling import maybe_start

    maybe_start("actions")  # PAYLATER_PROFILE_DIR (bench/stack_cpu.py)
    token = os.environ.get("PAYLATER_ACTION_TOKEN")
    if not token:
        print("action server not started: PAYLATER_ACTION_TOKEN is not set (Rasa sends it with every call, "
              "see endpoints.yml)", file=sys.stderr)
        return 2
    host = os.environ.get("SANIC_HOST") or "127.0.0.1"
    app = create_app(token, args.actions)
    log.info("action server on http://%s:%s", host, args.port)
    app.run(host=host, port=args.port, workers=1, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
