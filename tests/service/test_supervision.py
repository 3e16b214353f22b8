"""`make run` as a service: kill -9 of any one part leaves the others answering, the part is back
by itself and the buyer's conversation goes on; a hung part is restarted; a part that keeps
crashing is given up loudly; every part listens on 127.0.0.1 only; readiness shows a stopped
part as down at once; one request id runs through all four logs; Ctrl-C stops everything.

Restart times are printed (`pytest -s`), not asserted beyond the issue's bound for the light
parts: Rasa's restart is dominated by loading its model and depends on the machine's load."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import requests

from bot.config import PROJECT_ROOT
from svc_helpers import START_TIMEOUT_S, apology, bot_text, listening_addresses

pytestmark = pytest.mark.stack

PARTS = ["backend", "actions", "gateway", "rasa"]
BACK_WITHIN_S = {"backend": 15, "actions": 15, "gateway": 15, "rasa": START_TIMEOUT_S}


def health_url(runner, part: str) -> str:
    port = getattr(runner.ports, part)
    return f"http://127.0.0.1:{port}/" if part == "rasa" else f"http://127.0.0.1:{port}/health"


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def conversation(runner):
    headers = runner.buyer_headers()
    r = requests.post(f"{runner.gateway}/v1/conversations", json={"client": "web"}, headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"], headers


def say(runner, cid, headers, text, **extra_headers):
    r = requests.post(f"{runner.gateway}/v1/conversations/{cid}/messages", json={"text": text},
                      headers={**headers, **extra_headers}, timeout=60)
    assert r.status_code == 200, r.text
    return r


def agent_session(runner) -> requests.Session:
    s = requests.Session()
    pre = s.get(f"{runner.gateway}/console/api/csrf", timeout=10).json()["csrf_token"]
    r = s.post(f"{runner.gateway}/console/api/login", json={"username": "agent", "password": "agent-demo-password"},
               headers={"X-CSRF-Token": pre}, timeout=10)
    assert r.status_code == 200, r.text
    return s


def wait_all_up(runner):
    runner.wait_for(lambda: runner.ready().get("status") == "ready", START_TIMEOUT_S, "every part ready", every_s=1)


def test_every_part_listens_on_127_0_0_1_only(runner):
    for part in PARTS:
        addresses = listening_addresses(runner.pid(part))
        assert (("127.0.0.1", getattr(runner.ports, part))) in addresses, (part, addresses)
        assert {host for host, _ in addresses} == {"127.0.0.1"}, (part, addresses)


def test_readiness_reports_every_part_with_its_latency(runner):
    ready = runner.ready()
    assert ready["status"] == "ready", ready
    assert {"rasa", "actions", "backend", "database"} <= set(ready["parts"]), ready
    for name, part in ready["parts"].items():
        assert part["status"] == "up" and isinstance(part["latency_ms"], (int, float)), (name, part)


def test_one_request_id_runs_through_all_four_json_logs(runner):
    cid, headers = conversation(runner)
    rid = f"svc-{uuid.uuid4().hex[:16]}"
    r = say(runner, cid, headers, "show my orders", **{"X-Request-ID": rid})
    assert r.headers.get("X-Request-ID") == rid
    assert "ta-100231" in bot_text(r.json()["messages"]), r.json()

    def lines_with_rid():
        found = {}
        for part in PARTS:
            path = runner.log_dir / f"{part}.log"
            lines = [ln for ln in path.read_text(errors="replace").splitlines() if rid in ln] if path.exists() else []
            if lines:
                found[part] = lines
        return found if set(found) == set(PARTS) else None

    found = runner.wait_for(lines_with_rid, 10, "the request id in the logs of all four parts")
    for part, lines in found.items():
        for line in lines:
            record = json.loads(line)  # PAYLATER_LOG_FORMAT=json: one JSON object per line
            assert record["request_id"] == rid and record["conversation_id"] == cid, (part, record)
            assert record["part"] == part


@pytest.mark.parametrize("part", PARTS)
def test_kill_9_of_one_part_leaves_the_others_serving_and_it_comes_back(runner, part, capsys):
    wait_all_up(runner)
    cid, headers = conversation(runner)
    assert "kabbage" in bot_text(say(runner, cid, headers, "what is pay later").json()["messages"])
    agents = agent_session(runner)
    old_pid = runner.pid(part)

    os.kill(old_pid, signal.SIGKILL)
    killed_at = time.monotonic()
    # readiness shows it down at once (the gateway's own outage: nothing answers /health/ready)
    runner.wait_for(lambda: runner.ready()["parts"].get(part, {}).get("status") == "down", 5, f"{part} shown down")

    if runner.state()[part]["pid"] == old_pid or runner.state()[part]["status"] != "up":
        # the others keep answering while it is away
        for other in PARTS:
            if other != part:
                assert answers(health_url(runner, other)), f"{other} stopped answering while {part} was down"
        if part != "gateway":
            # FAQ answers never need the backend; orders need the action server, Rasa needs itself
            during = say(runner, cid, headers, "what is pay later" if part == "backend" else "show my orders").json()["messages"]
            assert [m for m in during if m["sender"] in ("bot", "system")], during  # an answer or an apology
            if part == "rasa":
                assert apology(during), during
            if part == "backend":
                assert "kabbage" in bot_text(during), during
            conversations = agents.get(f"{runner.gateway}/console/api/conversations", timeout=10)
            assert conversations.status_code == 200  # agents keep working

    def back():
        st = runner.state().get(part, {})
        return st.get("status") == "up" and st.get("pid") != old_pid and answers(health_url(runner, part))

    runner.wait_for(back, BACK_WITHIN_S[part], f"{part} back after kill -9")
    elapsed = time.monotonic() - killed_at
    with capsys.disabled():
        print(f"\n[measured] {part}: back and answering {elapsed:.1f} s after kill -9")

    # the buyer's conversation goes on where it was (for the backend: with the backend in the path)
    question, fact = ("show my orders", "ta-100231") if part == "backend" else ("what is pay later", "kabbage")

    def answered():
        return fact in bot_text(say(runner, cid, headers, question).json()["messages"])

    runner.wait_for(answered, 60, "the conversation answered again", every_s=2)
    assert runner.state()[part]["restarts"] >= 1


def test_a_hung_part_is_shown_down_then_restarted(runner):
    wait_all_up(runner)
    old_pid = runner.pid("actions")
    os.killpg(old_pid, signal.SIGSTOP)  # alive, but answers nothing
    try:
        runner.wait_for(lambda: runner.ready()["parts"]["actions"]["status"] == "down", 5, "hung actions shown down")
        status = subprocess.run(
            [sys.executable, "-m", "bot.stack", "status", "--gateway-port", str(runner.ports.gateway),
             "--state-file", str(runner.state_file)],
            cwd=PROJECT_ROOT, env=runner.env, capture_output=True, text=True, timeout=30,
        )
        assert status.returncode == 1, status.stdout + status.stderr
        line = next(ln for ln in status.stdout.splitlines() if ln.startswith("actions"))
        assert "down" in line, status.stdout
        # PAYLATER_HANG_SECONDS=6: the supervisor kills it and starts a new one
        runner.wait_for(lambda: runner.state()["actions"]["pid"] != old_pid and runner.state()["actions"]["status"] == "up",
                        60, "hung actions restarted")
        assert "no answer to its health check" in runner.output.read_text()
    finally:
        try:
            os.killpg(old_pid, signal.SIGCONT)
        except ProcessLookupError:
            pass


def test_a_part_that_keeps_crashing_is_given_up_loudly_and_the_rest_serve(runner):
    wait_all_up(runner)
    for _ in range(4):  # PAYLATER_MAX_RESTARTS=2 within 60 s
        st = runner.state()["backend"]
        if st["status"] == "failed":
            break
        pid = runner.wait_for(lambda: runner.state()["backend"]["status"] == "up" and runner.state()["backend"]["pid"],
                              30, "backend up before the next kill")
        os.kill(pid, signal.SIGKILL)
        runner.wait_for(lambda: runner.state()["backend"]["pid"] != pid or runner.state()["backend"]["status"] == "failed",
                        30, "backend noticed")
    runner.wait_for(lambda: runner.state()["backend"]["status"] == "failed", 30, "backend given up")
    out = runner.output.read_text()
    assert "backend FAILED" in out and "not restarting it" in out, out[-2000:]
    ready = runner.ready()
    assert ready["parts"]["backend"]["status"] == "down"
    assert ready["parts"]["rasa"]["status"] == "up" and ready["parts"]["actions"]["status"] == "up", ready
    cid, headers = conversation(runner)
    assert "kabbage" in bot_text(say(runner, cid, headers, "what is pay later").json()["messages"])


def test_ctrl_c_stops_every_part(runner):
    pids = [p["pid"] for p in runner.state().values() if p.get("pid")]
    runner.proc.send_signal(signal.SIGINT)
    assert runner.proc.wait(timeout=90) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    for part in PARTS:
        assert not answers(health_url(runner, part)), part
