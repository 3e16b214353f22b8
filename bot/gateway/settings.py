"""Gateway settings: the shared `bot.config.Settings` plus what only the gateway reads.

    PAYLATER_GATEWAY_DATABASE_URL   gateway tables (default: Settings.database_url)
    PAYLATER_ALLOWED_ORIGINS        exact origins allowed to embed the widget / open WebSockets,
                                    comma-separated (same-origin is always allowed; no regex)
    PAYLATER_RASA_TIMEOUT           seconds to wait for Rasa's reply (default 10)
    PAYLATER_AGENT_PRESENCE_MINUTES an agent counts as signed in if seen in the last N minutes (5)
    PAYLATER_GATEWAY_REDIS_URL      use Redis pub/sub between gateway replicas (default: in-process)
    PAYLATER_COOKIE_SECURE          1 = agent session cookie only over HTTPS (default 1; demo mode 0)
    PAYLATER_GATEWAY_SCHEMA         auto (migrate, else create tables) | none
    PAYLATER_PUBLIC_ORIGIN          the gateway's own origin as browsers see it, e.g.
                                    https://chat.example.com (same-origin checks use it, never the
                                    Host header; unset: only loopback origins count as same-origin)
    PAYLATER_LIMIT_<NAME>           abuse limits "N/S" (N per S seconds), see bot/gateway/limits.py:
                                    CONVERSATIONS_PER_ADDRESS, CONVERSATIONS_PER_BUYER,
                                    MESSAGES_PER_CONVERSATION, MESSAGES_PER_BUYER, MESSAGES_PER_ADDRESS,
                                    SIGNIN_FAILURES (per username and address), SIGNIN_PER_ADDRESS
    PAYLATER_LIMIT_REDIS_PREFIX     key prefix of the limits in Redis (default paylater:limit:)
    PAYLATER_HEADER_TIMEOUT         seconds a client may take to send a request's headers (10)
    PAYLATER_BODY_TIMEOUT           seconds a client may take to send a request's body (10)
    PAYLATER_KEEPALIVE_TIMEOUT      seconds an idle keep-alive connection stays open (15)
    PAYLATER_BUSINESS_HOURS         support team hours, e.g. "mon-fri 09:00-18:00; sat 10:00-14:00"
                                    (empty: always open); outside them a buyer asking for a person
                                    is told when the team is back, and the message waits in the queue
    PAYLATER_BUSINESS_TZ            the hours' time zone, e.g. America/New_York (default UTC)
    PAYLATER_QUEUE_SLA_WARN_SECONDS   a buyer waiting this long in the queue turns amber (120)
    PAYLATER_QUEUE_SLA_BREACH_SECONDS a buyer waiting this long turns red: the SLA is missed (300)
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from bot.config import Settings

from .hours import BusinessHours
from .limits import DEFAULT_LIMITS, Limit


def _env(name: str, default: Optional[str] = None) -> Optional[str]:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str
    allowed_origins: Tuple[str, ...] = ()
    rasa_timeout_s: float = 10.0
    # Rasa replicas in a fixed order; each conversation is pinned to one (rendezvous hash).
    rasa_urls: Tuple[str, ...] = ()
    tracker_timeout_s: float = 5.0
    max_message_chars: int = 2000
    # abuse limits by name (bot/gateway/limits.py DEFAULT_LIMITS); missing names use the defaults
    limits: Dict[str, Limit] = field(default_factory=dict)
    limits_redis_prefix: str = "paylater:limit:"
    public_origin: Optional[str] = None
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    keepalive_timeout_s: float = 15.0
    agent_presence_minutes: float = 5.0
    session_ttl_hours: float = 12.0
    # How often an open console socket re-checks its agent session (logout, disable, expiry).
    session_check_s: float = 15.0
    redis_url: Optional[str] = None
    cookie_secure: bool = False
    schema: str = "auto"
    live_window_minutes: float = 30.0  # "live" conversations shown in the console
    business_hours: Optional[BusinessHours] = None  # None: always open
    # events room (bot/gateway/events): POST /v1/events token, the outbox relay and late job, the app webhook
    events_token: Optional[str] = None
    events_relay: bool = False
    events_poll_s: float = 2.0
    late_check_s: float = 300.0
    webhook_url: Optional[str] = None
    webhook_secret: Optional[str] = None
    # queue waiting-time SLA: amber from warn, red from breach (seconds in the queue)
    queue_sla_warn_s: int = 120
    queue_sla_breach_s: int = 300
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.queue_sla_warn_s < self.queue_sla_breach_s:
            raise ValueError("PAYLATER_QUEUE_SLA_WARN_SECONDS must be above 0 and below "
                             f"PAYLATER_QUEUE_SLA_BREACH_SECONDS (got {self.queue_sla_warn_s} and {self.queue_sla_breach_s})")

    def sla_level(self, wait_s: Optional[int]) -> Optional[str]:
        """ok | warn | breach for a buyer waiting `wait_s` seconds in the queue (None: not waiting)."""
        if wait_s is None:
            return None
        return "breach" if wait_s >= self.queue_sla_breach_s else "warn" if wait_s >= self.queue_sla_warn_s else "ok"

    @classmethod
    def from_env(cls, settings: Settings) -> "GatewaySettings":
        origins = tuple(o.strip().rstrip("/") for o in (_env("PAYLATER_ALLOWED_ORIGINS", "") or "").split(",") if o.strip())
        return cls(
            database_url=_env("PAYLATER_GATEWAY_DATABASE_URL", settings.database_url),
            allowed_origins=origins,
            rasa_timeout_s=float(_env("PAYLATER_RASA_TIMEOUT", "10")),
            rasa_urls=tuple(
                u.strip().rstrip("/") for u in (_env("PAYLATER_RASA_URLS", settings.rasa_url) or "").split(",") if u.strip()
            ),
            agent_presence_minutes=float(_env("PAYLATER_AGENT_PRESENCE_MINUTES", "5")),
            redis_url=_env("PAYLATER_GATEWAY_REDIS_URL"),
            # Secure cookies by default; demo mode runs on http://127.0.0.1 and keeps plain ones
            cookie_secure=_env("PAYLATER_COOKIE_SECURE", "0" if settings.demo_mode else "1") == "1",
            schema=_env("PAYLATER_GATEWAY_SCHEMA", "auto"),
            limits={name: Limit.parse(_env(f"PAYLATER_LIMIT_{name.upper()}"))
                    for name in DEFAULT_LIMITS if _env(f"PAYLATER_LIMIT_{name.upper()}")},
            limits_redis_prefix=_env("PAYLATER_LIMIT_REDIS_PREFIX", "paylater:limit:"),
            public_origin=(_env("PAYLATER_PUBLIC_ORIGIN") or "").rstrip("/") or None,
            header_timeout_s=float(_env("PAYLATER_HEADER_TIMEOUT", "10")),
            body_timeout_s=float(_env("PAYLATER_BODY_TIMEOUT", "10")),
            keepalive_timeout_s=float(_env("PAYLATER_KEEPALIVE_TIMEOUT", "15")),
            queue_sla_warn_s=int(_env("PAYLATER_QUEUE_SLA_WARN_SECONDS", "120")),
            queue_sla_breach_s=int(_env("PAYLATER_QUEUE_SLA_BREACH_SECONDS", "300")),
            business_hours=BusinessHours.parse(_env("PAYLATER_BUSINESS_HOURS", ""), _env("PAYLATER_BUSINESS_TZ", "UTC")),
            events_token=_env("PAYLATER_EVENTS_TOKEN"),
            events_relay=_env("PAYLATER_EVENTS_RELAY", "0") == "1",
            events_poll_s=float(_env("PAYLATER_EVENTS_POLL_S", "2")),
            late_check_s=float(_env("PAYLATER_LATE_CHECK_S", "300")),
            webhook_url=_env("PAYLATER_APP_WEBHOOK_URL"),
            webhook_secret=_env("PAYLATER_APP_WEBHOOK_SECRET"),
        )
