"""Black-box re-run of the outside probe of issue 17 against a running stack (loopback only,
every loop bounded):

    python -m bench.probe                 # starts its own stack (demo mode, free ports, temp dir)

Each of the eight findings is tried again the way the probe did it; the result says whether it
still reproduces. Different loopback source addresses (127.0.0.11 ...) stand in for different
clients. The probe knows the stack's secrets only to look for them (command lines) and to read
a tracker back (was the card number stored?), never to get past a check.

tests/stack/test_probe.py runs the same probe against the test session's stack.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from bot.auth import mint_buyer_token

NESTED = "[" * 8000 + "]" * 8000
SECRETS_TYPED = [  # (message, what must not be stored or forwarded)
    ("card 4111/1111/1111/1111", "1111/1111/1111"),
    ("card 4111_1111_1111_1111", "1111_1111_1111"),
    ("ssn 123.45.6789", "45.6789"),
    ("my social is 123456789", "123456789"),
    ("my pw is Tr0ub4dor&3", "Tr0ub4dor"),
    ("my passwd is Tr0ub4dor&3", "Tr0ub4dor"),
]
MARKER = "probe-marker-93f1"


@dataclass
class Target:
    gateway: str
    rasa: str
    actions: str
    backend: str
    env: Dict[str, str]
    pgids: List[int] = field(default_factory=list)  # the stack's process groups (command lines)
    private_paths: List[Path] = field(default_factory=list)  # logs and databases it wrote


@dataclass
class Result:
    finding: int
    title: str
    reproduced: bool
    detail: str


def _session(address: str, **kw) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)),
                                 cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 timeout=aiohttp.ClientTimeout(total=60), **kw)


async def _json(resp: aiohttp.ClientResponse):
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return None


# ------------------------------------------------------------------ the findings
async def f1_redaction(t: Target) -> Result:
    leaks = []
    notices = 0
    async with _session("127.0.0.11") as s:
        async with s.post(f"{t.gateway}/v1/conversations", json={}) as r:
            conv = await r.json()
        h = {"X-Conversation-Token": conv["conversation_token"]}
        for text, secret in SECRETS_TYPED:
            async with s.post(f"{t.gateway}/v1/conversations/{conv['id']}/messages", json={"text": text}, headers=h) as r:
                body = await _json(r)
            msgs = (body or {}).get("messages", [])
            notices += sum(1 for m in msgs if m.get("kind") == "redacted")
            if any(secret in m.get("text", "") for m in msgs):
                leaks.append(f"reply to {text!r}")
        async with s.get(f"{t.gateway}/v1/conversations/{conv['id']}/messages", headers=h) as r:
            history = json.dumps(await r.json())
        async with s.get(f"{t.rasa}/conversations/{conv['id']}/tracker",
                         params={"token": t.env["PAYLATER_RASA_TOKEN"]}) as r:
            tracker = await r.text()
    for text, secret in SECRETS_TYPED:
        if secret in history:
            leaks.append(f"stored: {text!r}")
        if secret in tracker:
            leaks.append(f"in Rasa's tracker: {text!r}")
    return Result(1, "redaction of the six formats", bool(leaks) or notices < len(SECRETS_TYPED),
                  f"leaks: {leaks or 'none'}; removal notices: {notices}/{len(SECRETS_TYPED)}")


def f2_command_lines(t: Target) -> Result:
    secrets = [t.env[k] for k in ("PAYLATER_RASA_TOKEN", "PAYLATER_ACTION_TOKEN", "PAYLATER_JWT_SECRET",
                                  "PAYLATER_SERVICE_TOKEN") if t.env.get(k)]
    found, seen = [], 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if t.pgids and os.getpgid(int(entry.name)) not in t.pgids:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
        seen += 1
        if "--auth-token" in cmd or any(s in cmd for s in secrets):
            found.append(cmd[:80])
    return Result(2, "secrets on command lines", bool(found), f"{seen} processes checked; with a secret: {found or 'none'}")


async def f3_abuse(t: Target) -> Result:
    created = 0
    async with _session("127.0.0.12") as s:
        for _ in range(100):
            async with s.post(f"{t.gateway}/v1/conversations", json={}) as r:
                created += r.status == 201
    turns = 0
    async with _session("127.0.0.13") as s:
        convs = []
        for _ in range(3):
            async with s.post(f"{t.gateway}/v1/conversations", json={}) as r:
                c = await r.json()
                convs.append((c["id"], {"X-Conversation-Token": c["conversation_token"]}))
        for i in range(30):
            cid, h = convs[i % 3]
            async with s.post(f"{t.gateway}/v1/conversations/{cid}/messages", json={"text": "hello"}, headers=h) as r:
                turns += r.status == 200
    return Result(3, "conversation creation and message limits", created >= 100 or turns >= 30,
                  f"anonymous conversations created: {created}/100; Rasa turns across 3 conversations: {turns}/30")


async def _login(s: aiohttp.ClientSession, base: str, password: str) -> int:
    async with s.get(f"{base}/console/api/csrf") as r:
        pre = (await r.json())["csrf_token"]
    async with s.post(f"{base}/console/api/login", json={"username": "agent", "password": password},
                      headers={"X-CSRF-Token": pre}) as r:
        return r.status


async def f4_lockout(t: Target) -> Result:
    async with _session("127.0.0.14") as attacker:
        wrong = [await _login(attacker, t.gateway, f"wrong-{i}") for i in range(8)]
    async with _session("127.0.0.15") as agent:
        right = await _login(agent, t.gateway, "agent-demo-password")
    return Result(4, "agent lock-out by an attacker", right != 200,
                  f"attacker (8 wrong passwords): {sorted(set(wrong))}; agent's right password from its own address: {right}")


async def f5_hostile_input(t: Target) -> Result:
    got = {}
    hdr = {"Content-Type": "application/json"}
    async with _session("127.0.0.16") as s:
        async with s.post(f"{t.backend}/v1/buyers/buyer-001/quotes", data=NESTED,
                          headers={**hdr, "Authorization": f"Bearer {t.env['PAYLATER_SERVICE_TOKEN']}"}) as r:
            got["backend quotes"] = (r.status, r.content_type)
        async with s.post(f"{t.gateway}/v1/conversations", data=NESTED, headers=hdr) as r:
            got["gateway conversations"] = (r.status, r.content_type)
        async with s.post(f"{t.gateway}/demo/api/token", data=NESTED, headers=hdr) as r:
            got["demo token"] = (r.status, r.content_type)
        async with s.post(f"{t.gateway}/v1/conversations", json={}) as r:
            conv = await r.json()
        h = {**hdr, "X-Conversation-Token": conv["conversation_token"]}
        async with s.post(f"{t.gateway}/v1/conversations/{conv['id']}/messages", data=NESTED, headers=h) as r:
            got["gateway messages"] = (r.status, r.content_type)
        async with s.get(f"{t.gateway}/v1/conversations/{conv['id']}/messages",
                         params={"after": "99999999999999999999999"}, headers=h) as r:
            got["after=99999999999999999999999"] = (r.status, r.content_type)
    bad = {k: v for k, v in got.items() if v[0] >= 500 or v[1] != "application/json"}
    return Result(5, "hostile input gives 500", bool(bad), "; ".join(f"{k}: {v[0]}" for k, v in got.items()))


async def f6_action_server(t: Target) -> Result:
    call = {"next_action": "action_session_start", "sender_id": "probe", "domain": {},
            "tracker": {"sender_id": "probe", "slots": {}, "events": [], "latest_message": {"text": MARKER}}}
    async with _session("127.0.0.17") as s:
        async with s.post(f"{t.actions}/webhook", data="{" + MARKER, headers={"Content-Type": "application/json"}) as r:
            malformed = (r.status, MARKER in await r.text())
        async with s.post(f"{t.actions}/webhook", json=call) as r:
            forged = r.status
    return Result(6, "action server: 500 with echo, and any caller's tracker", malformed[0] >= 500 or malformed[1] or forged == 200,
                  f"malformed: {malformed[0]} (echoed: {malformed[1]}); hand-built tracker without the secret: {forged}")


async def f7_rasa_channel(t: Target) -> Result:
    async with _session("127.0.0.18") as s:
        async with s.post(f"{t.rasa}/webhooks/rest/webhook", json={"sender": "someone-elses-conversation",
                                                                   "message": "hello"}) as r:
            status = r.status
        async with s.get(f"{t.rasa}/socket.io/", params={"EIO": "4", "transport": "polling"}) as r:
            socketio = r.status
    return Result(7, "Rasa REST channel without authentication", status == 200 or socketio == 200,
                  f"REST channel without the secret: {status}; socket.io: {socketio}")


async def f8_origin_tokens_slow_files(t: Target, header_wait_s: float) -> Result:
    notes, bad = [], False
    async with _session("127.0.0.19") as s:
        async with s.post(f"{t.gateway}/v1/conversations", json={}) as r:
            conv = await r.json()
        try:
            ws = await s.ws_connect(f"{t.gateway}/v1/conversations/{conv['id']}/ws",
                                    headers={"Host": "evil.example:8080", "Origin": "http://evil.example:8080"})
            await ws.close()
            bad = True
            notes.append("rebinding Host+Origin: accepted")
        except aiohttp.WSServerHandshakeError as exc:
            notes.append(f"rebinding Host+Origin: {exc.status}")
        secret = t.env["PAYLATER_JWT_SECRET"]
        for label, token in [("20 s past exp", mint_buyer_token("buyer-001", secret, 60, int(time.time()) - 80)),
                             ("7-day token", mint_buyer_token("buyer-001", secret, 7 * 24 * 3600))]:
            async with s.post(f"{t.gateway}/v1/conversations", json={},
                              headers={"Authorization": f"Bearer {token}"}) as r:
                notes.append(f"{label}: {r.status}")
                bad |= r.status == 201
    host, port = t.gateway.split("//")[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=("127.0.0.20", 0))
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()
    try:
        closed = await asyncio.wait_for(reader.read(), timeout=header_wait_s) == b""
    except asyncio.TimeoutError:
        closed = False
    writer.close()
    notes.append(f"trickled headers: {'closed by the server' if closed else 'still open'}")
    bad |= not closed
    readable = [str(p) for p in t.private_paths if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077]
    notes.append(f"group/world-readable files: {readable or 'none'}")
    bad |= bool(readable)
    return Result(8, "origin check, token lifetime, slow clients, file modes", bad, "; ".join(notes))


async def probe(t: Target, header_wait_s: float = 25.0) -> List[Result]:
    results = [await f1_redaction(t), f2_command_lines(t), await f3_abuse(t), await f4_lockout(t),
               await f5_hostile_input(t), await f6_action_server(t), await f7_rasa_channel(t),
               await f8_origin_tokens_slow_files(t, header_wait_s)]
    return results


def report(results: List[Result]) -> str:
    lines = [f"{'#':>2}  {'result':<12} finding", ""]
    for r in results:
        lines.append(f"{r.finding:>2}  {'REPRODUCED' if r.reproduced else 'fixed':<12} {r.title}\n    {r.detail}")
    lines.append("")
    lines.append(f"{sum(not r.reproduced for r in results)}/{len(results)} findings no longer reproduce")
    return "\n".join(lines)


def target_for_stack(stack, ports, env: Dict[str, str], var_paths: List[Path]) -> Target:
    return Target(gateway=f"http://127.0.0.1:{ports.gateway}", rasa=f"http://127.0.0.1:{ports.rasa}",
                  actions=f"http://127.0.0.1:{ports.actions}", backend=f"http://127.0.0.1:{ports.backend}",
                  env=env, pgids=[p.pid for p in stack.procs.values()], private_paths=var_paths)


def main(argv: Optional[List[str]] = None) -> int:
    from bot.config import PROJECT_ROOT
    from bot.stack import Ports, Stack, default_specs, stack_env

    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("--model", default=str(PROJECT_ROOT / "models" / "paylater.tar.gz"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="paylater-probe-") as tmp_name:
        tmp = Path(tmp_name)
        ports = Ports.free()
        env = stack_env(demo=True, ports=ports)
        env["PAYLATER_DATABASE_URL"] = f"sqlite:///{tmp / 'var' / 'paylater.db'}"
        env["PAYLATER_TRACKER_DB"] = str(tmp / "var" / "tracker.db")
        subprocess.run([sys.executable, "-m", "bot.demo_data"], env=env, cwd=PROJECT_ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        stack = Stack(default_specs(env, ports, model=args.model), env, tmp / "var" / "log")
        print("starting the stack ...", flush=True)
        stack.start(timeout_s=300)
        try:
            paths = [tmp / "var", tmp / "var" / "paylater.db", tmp / "var" / "tracker.db", tmp / "var" / "log",
                     *sorted((tmp / "var" / "log").glob("*.log"))]
            results = asyncio.run(probe(target_for_stack(stack, ports, env, paths)))
        finally:
            stack.stop()
    print(report(results))
    return 1 if any(r.reproduced for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
