"""Prometheus metrics for operators: one registry per app, `GET /metrics` in the text format.

Who may read /metrics: with PAYLATER_METRICS_TOKEN set, whoever sends
`Authorization: Bearer <token>`; without it, clients on the loopback interface only (every
part listens on 127.0.0.1 by default; a Prometheus elsewhere needs the token), and not through a
proxy on the same host (a request with X-Forwarded-For / Forwarded is refused). Metrics carry
no buyer data: counts, reasons, durations.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Awaitable, Callable, Optional

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# seconds: a bot answer takes ~50 ms when idle, seconds under load; the apology comes at 10 s
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def metrics_token(environ=os.environ) -> Optional[str]:
    return environ.get("PAYLATER_METRICS_TOKEN") or None


def may_read(request: web.Request, token: Optional[str]) -> bool:
    if token:
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        return bool(given) and hmac.compare_digest(given.encode(), token.encode())
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False  # a proxy on the same host: the caller is not local
    try:
        return ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def metrics_handler(registry: CollectorRegistry, token: Optional[str],
                    before: Optional[Callable[[web.Application], Awaitable[None]]] = None):
    async def handler(request: web.Request) -> web.Response:
        if not may_read(request, token):
            return web.json_response({"error": "forbidden", "message": "Metrics need the metrics token "
                                      "(Authorization: Bearer ...) or a loopback client."}, status=403)
        if before is not None:
            await before(request.app)
        resp = web.Response(body=generate_latest(registry))
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp
    return handler


class GatewayMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.messages = Counter("paylater_gateway_messages", "Messages stored, by sender (buyer, bot, agent, system)",
                                ["sender"], registry=r)
        self.replies = Counter("paylater_gateway_bot_replies", "Buyer messages Rasa answered", registry=r)
        self.rasa_seconds = Histogram("paylater_gateway_rasa_seconds", "Gateway -> Rasa: one buyer message, "
                                      "from sending to the whole answer", buckets=LATENCY_BUCKETS, registry=r)
        self.handoffs = Counter("paylater_gateway_handoffs", "Conversations queued for a person, by reason",
                                ["reason"], registry=r)
        self.queue_length = Gauge("paylater_gateway_queue_length", "Conversations waiting for an agent", registry=r)
        self.queue_oldest = Gauge("paylater_gateway_queue_oldest_wait_seconds",
                                  "How long the longest-waiting queued conversation has waited", registry=r)
        self.websockets = Gauge("paylater_gateway_websocket_connections", "Open WebSocket connections "
                                "(buyers and consoles)", registry=r)
        self.errors = Counter("paylater_gateway_errors", "Failures, by kind (rasa_unavailable, internal_error)",
                              ["kind"], registry=r)
        # the labelled children, looked up once (counting a message is a dict lookup and an add)
        self._by_sender = {sender: self.messages.labels(sender) for sender in ("buyer", "bot", "agent", "system")}
        for reason in ("requested", "misunderstood", "late_disbursement", "dispute", "backend_down"):
            self.handoffs.labels(reason)
        for kind in ("rasa_unavailable", "internal_error"):
            self.errors.labels(kind)

    def message(self, sender: str) -> None:
        child = self._by_sender.get(sender)
        (child if child is not None else self.messages.labels(sender)).inc()

    def handoff(self, reason: str) -> None:
        self.handoffs.labels(reason).inc()

    def error(self, kind: str) -> None:
        self.errors.labels(kind).inc()


class BackendMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("paylater_backend_requests", "Backend API requests, by route and status",
                                ["route", "status"], registry=r)
        self.seconds = Histogram("paylater_backend_request_seconds", "Backend API request time by route "
                                 "(the action -> backend hop, as the backend sees it)", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.errors = Counter("paylater_backend_errors", "Backend API answers of 500 and above", registry=r)

    def middleware(self):
        import time

        @web.middleware
        async def measure(request: web.Request, handler):
            if request.path == "/metrics":
                return await handler(request)
            route = request.match_info.route.resource.canonical if request.match_info.route.resource else "other"
            started = time.perf_counter()
            status = 500
            try:
                resp = await handler(request)
                status = resp.status
                return resp
            except web.HTTPException as exc:
                status = exc.status
                raise
            finally:
                self.seconds.labels(route).observe(time.perf_counter() - started)
                self.requests.labels(route, str(status)).inc()
                if status >= 500:
                    self.errors.inc()
        return measure
