"""Async load generator: N concurrent conversations, each sending its M messages one after
another (a conversation never has two messages in flight, as with a real user), recording the
latency of every message. When a conversation ends its slot starts the next one (new sender id)
until `conversations` have run, so N stays constant. Bounded in count (conversations * M) and in
time (deadline); loopback only."""
from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence
from urllib.parse import urlparse

import aiohttp

# A conversation script: the messages one simulated user sends, in order.
Script = Sequence[str]


@dataclass
class Request:
    url: str
    json: dict
    headers: Dict[str, str] = field(default_factory=dict)


class Target:
    """Where messages go. `open` starts conversation i (untimed: e.g. the gateway's
    POST /v1/conversations) and returns its state; `request` builds one message's request;
    `ok` says whether the answer is a real bot reply."""

    async def open(self, session: aiohttp.ClientSession, i: int, sender: str) -> Any:
        return sender

    def request(self, conv: Any, text: str) -> Request:
        raise NotImplementedError

    def ok(self, body: Any) -> bool:
        return isinstance(body, list) and len(body) > 0


class RasaRestTarget(Target):
    """Rasa's REST channel (POST /webhooks/rest/webhook), with the gateway's metadata."""

    def __init__(self, base_url: str, metadata_for: Callable[[int], dict] = lambda i: {},
                 channel_token: Optional[str] = None):
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.metadata_for = metadata_for
        # the product's channel takes messages from the gateway only (bot/rasa_channel.py)
        self.headers = {"X-Paylater-Channel-Token": channel_token} if channel_token else {}

    async def open(self, session, i, sender):
        return sender, self.metadata_for(i)

    def request(self, conv, text):
        sender, meta = conv
        body = {"sender": sender, "message": text}
        if meta:
            body["metadata"] = meta
        return Request(self.url, body, dict(self.headers))


@dataclass
class LoadResult:
    label: str
    concurrency: int
    messages_per_conversation: int
    sent: int
    ok: int
    errors: int
    timeouts: int
    duration_s: float
    throughput_mps: float
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    mean_ms: Optional[float]
    max_ms: Optional[float]
    empty_replies: int
    latencies_ms: List[float] = field(default_factory=list, repr=False)
    # (script index, position in the script, latency ms) of every answered message
    samples: List[tuple] = field(default_factory=list, repr=False)
    error_samples: List[str] = field(default_factory=list)

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("latencies_ms")
        d.pop("samples")
        return d

    def by_message(self, scripts: Sequence[Script]) -> List[dict]:
        """Latency per script position (which messages make the tail): count, p50, p95, max, and
        how many of the run's messages slower than its p95 each position holds."""
        cut = percentile(self.latencies_ms, 95)
        groups: Dict[tuple, List[float]] = {}
        for script, pos, ms in self.samples:
            groups.setdefault((script, pos), []).append(ms)
        rows = []
        for (script, pos), values in sorted(groups.items()):
            rows.append({"script": script, "position": pos, "text": scripts[script][pos], "n": len(values),
                         "p50_ms": _r(percentile(values, 50)), "p95_ms": _r(percentile(values, 95)),
                         "max_ms": _r(max(values)), "over_run_p95": sum(1 for v in values if cut is not None and v > cut)})
        return rows


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _loopback(url: str) -> None:
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load generator only targets loopback addresses, not {host!r}")


async def run_load(
    label: str,
    target: Target,
    scripts: Sequence[Script],
    concurrency: int,
    sender_prefix: str,
    conversations: Optional[int] = None,
    deadline_s: float = 300.0,
    request_timeout_s: float = 60.0,
) -> LoadResult:
    """Keep `concurrency` conversations running at once, `conversations` in all (default: one
    per slot); conversation i uses scripts[i % len(scripts)].

    Every conversation has its own sender id, so no two in-flight messages share a tracker.
    Stops starting new messages at the deadline (messages in flight still finish or time out).
    """
    latencies: List[float] = []
    samples: List[tuple] = []
    errors: List[str] = []
    counters = {"sent": 0, "ok": 0, "errors": 0, "timeouts": 0, "empty": 0}
    stop_at = time.monotonic() + deadline_s
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    connector = aiohttp.TCPConnector(limit=concurrency + 4, force_close=False)

    total = conversations or concurrency
    next_index = iter(range(total))

    async def slot(session: aiohttp.ClientSession) -> None:
        for i in next_index:  # shared iterator: each conversation runs once
            if time.monotonic() > stop_at:
                return
            await conversation(i, session)

    async def conversation(i: int, session: aiohttp.ClientSession) -> None:
        try:
            conv = await target.open(session, i, f"{sender_prefix}-{i}")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
            counters["errors"] += 1
            if len(errors) < 5:
                errors.append(f"open: {exc!r}"[:200])
            return
        for pos, text in enumerate(scripts[i % len(scripts)]):
            if time.monotonic() > stop_at:
                return
            req = target.request(conv, text)
            _loopback(req.url)
            counters["sent"] += 1
            t0 = time.perf_counter()
            try:
                async with session.post(req.url, json=req.json, headers=req.headers) as resp:
                    body = await resp.json(content_type=None)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if resp.status != 200:
                        counters["errors"] += 1
                        if len(errors) < 5:
                            errors.append(f"HTTP {resp.status}: {str(body)[:200]}")
                        continue
            except asyncio.TimeoutError:
                counters["timeouts"] += 1
                continue
            except (aiohttp.ClientError, ValueError) as exc:
                counters["errors"] += 1
                if len(errors) < 5:
                    errors.append(repr(exc)[:200])
                continue
            counters["ok"] += 1
            latencies.append(elapsed)
            samples.append((i % len(scripts), pos, round(elapsed, 2)))
            if not target.ok(body):
                counters["empty"] += 1

    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(slot(session) for _ in range(concurrency)))
    duration = time.perf_counter() - started
    return LoadResult(
        label=label,
        concurrency=concurrency,
        messages_per_conversation=max(len(s) for s in scripts),
        sent=counters["sent"],
        ok=counters["ok"],
        errors=counters["errors"],
        timeouts=counters["timeouts"],
        duration_s=round(duration, 3),
        throughput_mps=round(counters["ok"] / duration, 2) if duration else 0.0,
        p50_ms=_r(percentile(latencies, 50)),
        p95_ms=_r(percentile(latencies, 95)),
        p99_ms=_r(percentile(latencies, 99)),
        mean_ms=_r(sum(latencies) / len(latencies)) if latencies else None,
        max_ms=_r(max(latencies)) if latencies else None,
        empty_replies=counters["empty"],
        latencies_ms=[round(x, 2) for x in latencies],
        samples=samples,
        error_samples=errors,
    )


def _r(x: Optional[float]) -> Optional[float]:
    return None if x is None else round(x, 1)
