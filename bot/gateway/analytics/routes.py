"""The supervisor's analytics: the dashboard page, its JSON and CSV (docs/ANALYTICS.md).

    GET /console/analytics                                   the dashboard (console sign-in)
    GET /console/api/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD  every figure + a per-day series
    GET /console/api/analytics.csv?table=<name>&from=&to=     one table as CSV (TABLES)

Supervisors only: an agent gets 403 `supervisors_only`, nobody signed in 401."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any, Dict, List, Tuple

from aiohttp import web

from ..common import ANALYTICS, ApiError
from ..console.session import agent_required
from ..db import utcnow

STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_DAYS = 400
DEFAULT_DAYS = 30
HANDOFF_REASONS = ("requested", "misunderstood", "late_disbursement", "dispute", "backend_down")


def period(query) -> Tuple[dt.date, dt.date]:
    today = utcnow().date()

    def day(name: str, default: dt.date) -> dt.date:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            if len(raw) != 10:  # exactly YYYY-MM-DD
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ApiError(400, "invalid_date", f"`{name}` is a date as YYYY-MM-DD (for example {today.isoformat()}).")

    last = day("to", today)
    first = day("from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise ApiError(400, "invalid_period", "`from` must not be after `to`.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(400, "period_too_long", f"Choose at most {MAX_DAYS} days.")
    return first, last


@agent_required(state_changing=False, supervisor=True)
async def analytics_json(request: web.Request, agent) -> web.Response:
    first, last = period(request.query)
    return web.json_response(await request.app[ANALYTICS].figures(first, last))


def tables(f: Dict[str, Any]) -> Dict[str, Tuple[List[str], List[List[Any]]]]:
    """Every table of the dashboard, as (header, rows): the CSV export and the tests read these."""
    series_cols = ["day", "conversations", "involved", "resolved_confirmed", "resolved_assumed",
                   "bot_resolution_rate", "handed_off", "handoff_rate", "csat_count", "csat_average",
                   "first_response_seconds_p50", "handling_seconds_p50", "unanswered"]
    reasons = sorted(set(HANDOFF_REASONS) | set(f["handoffs"]))
    return {
        "summary": (["figure", "value"], [[k, f[k]] for k in (
            "conversations", "involved", "resolved_confirmed", "resolved_assumed", "bot_resolution_rate",
            "resolutions_withdrawn", "pending", "handed_off", "handoff_rate", "csat_count", "csat_average",
            "first_response_seconds_p50", "handling_seconds_p50", "unanswered_total")]),
        "series": (series_cols + [f"handoffs_{r}" for r in reasons],
                   [[s[c] for c in series_cols] + [s["handoffs"].get(r, 0) for r in reasons] for s in f["series"]]),
        "handoffs": (["reason", "count"], [[r, f["handoffs"].get(r, 0)] for r in reasons]),
        "agents": (["agent", "handed_off_conversations_answered"], [[a, n] for a, n in f["agents"].items()]),
        "csat": (["score", "count"], [[s, n] for s, n in f["csat_scores"].items()]),
        "topics": (["topic", "volume", "resolved", "resolution_rate"],
                   [[t["topic"], t["volume"], t["resolved"], t["resolution_rate"]] for t in f["topics"]]),
        "unanswered": (["text", "count"], [[u["text"], u["count"]] for u in f["unanswered"]]),
    }


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # a spreadsheet must not run a buyer's text as a formula
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@agent_required(state_changing=False, supervisor=True)
async def analytics_csv(request: web.Request, agent) -> web.Response:
    first, last = period(request.query)
    name = request.query.get("table", "summary")
    all_tables = tables(await request.app[ANALYTICS].figures(first, last))
    if name not in all_tables:
        raise ApiError(400, "invalid_table", "`table` is one of: " + ", ".join(all_tables) + ".")
    header, rows = all_tables[name]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    filename = f"paylater-{name}-{first.isoformat()}-{last.isoformat()}.csv"
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def dashboard_page(request: web.Request) -> web.FileResponse:
    resp = web.FileResponse(STATIC / "analytics.html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/analytics", dashboard_page)
    r.add_get("/console/api/analytics", analytics_json)
    r.add_get("/console/api/analytics.csv", analytics_csv)
