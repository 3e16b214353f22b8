"""`make demo-events`: plays buyer-001's events through the backend's lender API (demo lender
token) while `make run` is up; the gateway's relay writes them into buyer-001's chat, so a person
signed in as buyer-001 on the demo page sees the messages arrive. Reset with `make demo-data`."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

from bot.config import Settings
from bot.service_token import partner_token

STEPS = (
    ("The lender sends the money for TA-100245", "/v1/lender/agreements/AGR-TA-100245/disbursement/sent", {}),
    ("The money for TA-100245 reaches the supplier", "/v1/lender/agreements/AGR-TA-100245/disbursement/arrived", {}),
    ("A statement for TA-100198", "/v1/lender/agreements/AGR-TA-100198/statements", None),
)


def _post(base: str, path: str, body: dict, token: str) -> tuple:
    req = urllib.request.Request(base.rstrip("/") + path, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Idempotency-Key": f"demo-{uuid.uuid4().hex}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("PAYLATER_BACKEND_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between events (default 2)")
    args = parser.parse_args(argv)
    token = partner_token(Settings.from_env(), "lender")
    if not token:
        print("Set PAYLATER_LENDER_TOKEN (or PAYLATER_DEMO_MODE=1 for the demo token).", file=sys.stderr)
        return 2
    today = dt.date.today()
    for title, path, body in STEPS:
        if body is None:
            body = {"statement_date": today.isoformat(), "due_date": (today + dt.timedelta(days=21)).isoformat(),
                    "amount_due": "1105.00"}
        try:
            status, answer = _post(args.backend, path, body, token)
        except (urllib.error.URLError, OSError) as e:
            print(f"The backend at {args.backend} does not answer ({e}). Start it with `make run`.", file=sys.stderr)
            return 1
        if status < 300:
            print(f"✓ {title} (event {answer.get('event_id')})")
        else:
            err = answer.get("error", {})
            print(f"· {title}: {err.get('message', status)} — `make demo-data` resets the demo.")
        time.sleep(args.pause)
    print("Open the demo page signed in as buyer-001: the messages are in the chat.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
