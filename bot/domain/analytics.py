"""The analytics definitions of docs/ANALYTICS.md, computed from the gateway's recorded events.

Pure functions over `Event` values (no database, no HTTP): the gateway's store reads the events,
this module says what they mean. Every figure belongs to a UTC day: the day the conversation
started (its first recorded event). A day's figures depend only on events up to two days later
(the 24 h assumption window, then the 24 h withdrawal window), so a day is *settled* once
`SETTLE_DAYS` have passed and its figures never change again (the daily roll-up keeps them).

Event kinds (what the gateway records as it happens):
  answer        the bot answered a question (topic = the intent, "faq/<key>" for FAQ answers;
                text = the buyer's question, redacted)
  fallback      the bot did not understand (text = the buyer's message, redacted)
  helpful       the buyer said the answer helped (the quick reply or typed)
  thanks        the buyer thanked the bot
  not_helpful   the buyer said the answer did not help ("not really")
  handoff       the conversation was queued for a person (reason)
  agent_joined  an agent took the conversation (agent)
  agent_reply   an agent wrote to the buyer (agent)
  closed        an agent closed the conversation (agent)
  csat_asked    the buyer was asked to rate the conversation
  csat          the buyer rated it (value 1-5, text = optional comment, redacted)
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

WINDOW = dt.timedelta(hours=24)  # issue 12: assumed after 24 h of quiet; withdrawn on a return within 24 h
SETTLE_DAYS = 3  # a conversation's own day + 24 h + 24 h, rounded up to whole days

# Intents that are not questions: greetings alone do not make a conversation "involved".
NOT_QUESTIONS = frozenset({"greet", "goodbye", "bot_challenge", "what_can_you_do", "affirm", "deny", "stop",
                           "inform", "human_handoff", "report_problem"})
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})

HANDOFF_REASONS = ("requested", "misunderstood", "late_disbursement", "dispute", "backend_down")


@dataclass(frozen=True)
class Event:
    conversation_id: str
    kind: str
    at: dt.datetime  # naive UTC
    buyer_id: Optional[str] = None
    topic: Optional[str] = None
    reason: Optional[str] = None
    agent: Optional[str] = None
    value: Optional[int] = None
    text: Optional[str] = None


def kind_for_intent(intent: Optional[str]) -> Optional[str]:
    """The event a buyer turn answered by the bot records, from the intent Rasa read (None: nothing)."""
    if not intent:
        return None
    if intent in FALLBACK_INTENTS:
        return "fallback"
    if intent == "feedback_helpful":
        return "helpful"
    if intent == "feedback_not_helpful":
        return "not_helpful"
    if intent == "thank":
        return "thanks"
    if intent in NOT_QUESTIONS:
        return None
    return "answer"


def topic_of(topic: Optional[str]) -> str:
    return topic or "other"


# ---------------------------------------------------------------------------- one conversation
@dataclass
class Outcome:
    """What the definitions say of one conversation."""
    conversation_id: str
    day: dt.date
    involved: bool = False
    resolution: Optional[str] = None  # confirmed | assumed | None
    withdrawn: bool = False
    pending: bool = False  # the 24 h window after the last answer has not passed yet
    handoffs: List[str] = field(default_factory=list)
    topic: Optional[str] = None  # of the first answer
    csat: List[int] = field(default_factory=list)
    first_response_s: List[int] = field(default_factory=list)
    handling_s: List[int] = field(default_factory=list)
    agents: List[str] = field(default_factory=list)  # who answered handed-off chats
    unanswered: List[str] = field(default_factory=list)


def outcome(events: List[Event], returns: List[Event], now: dt.datetime) -> Outcome:
    """`events`: one conversation's events in time order. `returns`: the same buyer's `answer`
    events in their other conversations (for the withdrawal rule)."""
    ev = sorted(events, key=lambda e: e.at)
    out = Outcome(ev[0].conversation_id, ev[0].at.date())
    answers = [e for e in ev if e.kind == "answer"]
    out.involved = bool(answers)
    out.topic = answers[0].topic if answers else None
    out.handoffs = [e.reason or "requested" for e in ev if e.kind == "handoff"]
    out.csat = [int(e.value) for e in ev if e.kind == "csat" and e.value is not None]
    # unanswered: every fallback (its text) and every "not really" (the question it answered)
    last_question: Optional[str] = None
    for e in ev:
        if e.kind == "answer":
            last_question = e.text
        elif e.kind == "fallback" and e.text:
            out.unanswered.append(e.text)
        elif e.kind == "not_helpful" and last_question:
            out.unanswered.append(last_question)
    # agents: first response after each handoff, handling from joining to closing
    waiting_since: Optional[dt.datetime] = None
    joined_at: Optional[dt.datetime] = None
    for e in ev:
        if e.kind == "handoff" and waiting_since is None:
            waiting_since = e.at
        elif e.kind == "agent_joined":
            joined_at = joined_at or e.at
            if e.agent and e.agent not in out.agents:
                out.agents.append(e.agent)
        elif e.kind == "agent_reply":
            if waiting_since is not None:
                out.first_response_s.append(int((e.at - waiting_since).total_seconds()))
                waiting_since = None
            if e.agent and e.agent not in out.agents:
                out.agents.append(e.agent)
        elif e.kind == "closed" and joined_at is not None:
            out.handling_s.append(int((e.at - joined_at).total_seconds()))
            joined_at = None
    if not answers or out.handoffs:
        return out  # not involved, or handed off: the bot did not resolve it
    last = answers[-1]
    after = [e for e in ev if e.at >= last.at and e is not last]
    if any(e.kind == "not_helpful" for e in after):
        return out
    confirmed = any(e.kind == "helpful" for e in after) or (bool(after) and after[0].kind == "thanks")
    if confirmed:
        out.resolution = "confirmed"
    else:
        # assumed: no further question (a fallback counts) within 24 h of the bot's last answer
        if any(e.kind == "fallback" and e.at - last.at <= WINDOW for e in after):
            return out
        if now - last.at < WINDOW:
            out.pending = True
            return out
        out.resolution = "assumed"
    topic = last.topic
    if any(r.at > last.at and r.at - last.at <= WINDOW and r.topic == topic for r in returns):
        out.withdrawn = True
        out.resolution = None
    return out


# ---------------------------------------------------------------------------- a day's figures
def normalize(text: str) -> str:
    """Similar wording groups together: case, punctuation and spacing do not matter."""
    return " ".join(re.sub(r"[^\w\[\]]+", " ", text.lower()).split())


def day_figures(outcomes: Iterable[Outcome]) -> Dict[str, Any]:
    """The counters of one day's conversations (what the roll-up keeps; they add up over days)."""
    f: Dict[str, Any] = {
        "conversations": 0, "involved": 0, "resolved_confirmed": 0, "resolved_assumed": 0, "withdrawn": 0,
        "pending": 0, "handed_off": 0, "handoffs": {}, "csat_count": 0, "csat_sum": 0, "csat_scores": {},
        "first_response_seconds": [], "handling_seconds": [], "agents": {}, "topics": {}, "unanswered": {},
    }
    for o in outcomes:
        f["conversations"] += 1
        f["involved"] += int(o.involved)
        f["resolved_confirmed"] += int(o.resolution == "confirmed")
        f["resolved_assumed"] += int(o.resolution == "assumed")
        f["withdrawn"] += int(o.withdrawn)
        f["pending"] += int(o.pending)
        f["handed_off"] += int(bool(o.handoffs))
        for r in o.handoffs:
            f["handoffs"][r] = f["handoffs"].get(r, 0) + 1
        for s in o.csat:
            f["csat_count"] += 1
            f["csat_sum"] += s
            f["csat_scores"][str(s)] = f["csat_scores"].get(str(s), 0) + 1
        f["first_response_seconds"] += o.first_response_s
        f["handling_seconds"] += o.handling_s
        for a in o.agents:
            f["agents"][a] = f["agents"].get(a, 0) + 1
        if o.involved:
            t = f["topics"].setdefault(topic_of(o.topic), {"volume": 0, "resolved": 0})
            t["volume"] += 1
            t["resolved"] += int(o.resolution is not None)
        for text in o.unanswered:
            key = normalize(text)
            g = f["unanswered"].setdefault(key, {"text": text, "count": 0})
            g["count"] += 1
    return f


def outcomes_by_day(events: Iterable[Event], now: dt.datetime) -> Dict[dt.date, List[Outcome]]:
    """Group events by conversation, find each conversation's outcome, file it under its day."""
    by_conv: Dict[str, List[Event]] = defaultdict(list)
    answers_by_buyer: Dict[str, List[Event]] = defaultdict(list)
    for e in events:
        by_conv[e.conversation_id].append(e)
        if e.kind == "answer" and e.buyer_id:
            answers_by_buyer[e.buyer_id].append(e)
    days: Dict[dt.date, List[Outcome]] = defaultdict(list)
    for cid, evs in by_conv.items():
        buyer = next((e.buyer_id for e in evs if e.buyer_id), None)
        returns = [e for e in answers_by_buyer.get(buyer, []) if e.conversation_id != cid] if buyer else []
        o = outcome(evs, returns, now)
        days[o.day].append(o)
    return days


# ---------------------------------------------------------------------------- a period's figures
def _median(values: List[int]) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    n = len(s)
    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _merge(a: Dict[str, int], b: Dict[str, int]) -> None:
    for k, v in b.items():
        a[k] = a.get(k, 0) + v


def period_figures(days: List[Tuple[dt.date, Dict[str, Any]]], top_unanswered: int = 20) -> Dict[str, Any]:
    """Totals, rates and a per-day series from each day's counters (`day_figures`)."""
    total = day_figures([])
    series: List[Dict[str, Any]] = []
    for day, f in sorted(days, key=lambda d: d[0]):
        for k in ("conversations", "involved", "resolved_confirmed", "resolved_assumed", "withdrawn", "pending",
                  "handed_off", "csat_count", "csat_sum"):
            total[k] += f[k]
        for k in ("handoffs", "csat_scores", "agents"):
            _merge(total[k], f[k])
        total["first_response_seconds"] += f["first_response_seconds"]
        total["handling_seconds"] += f["handling_seconds"]
        for t, v in f["topics"].items():
            tt = total["topics"].setdefault(t, {"volume": 0, "resolved": 0})
            tt["volume"] += v["volume"]
            tt["resolved"] += v["resolved"]
        for key, g in f["unanswered"].items():
            tg = total["unanswered"].setdefault(key, {"text": g["text"], "count": 0})
            tg["count"] += g["count"]
        series.append(_headline(day.isoformat(), f))
    out = _headline(None, total)
    out.update({
        "resolutions_withdrawn": total["withdrawn"],
        "pending": total["pending"],
        "csat_scores": {str(s): total["csat_scores"].get(str(s), 0) for s in range(1, 6)},
        "handling_seconds_p50": _median(total["handling_seconds"]),
        "agents": dict(sorted(total["agents"].items())),
        "topics": [{"topic": t, "volume": v["volume"], "resolved": v["resolved"],
                    "resolution_rate": _rate(v["resolved"], v["volume"])}
                   for t, v in sorted(total["topics"].items(), key=lambda kv: (-kv[1]["volume"], kv[0]))],
        "unanswered": [{"text": g["text"], "count": g["count"]}
                       for _, g in sorted(total["unanswered"].items(), key=lambda kv: (-kv[1]["count"], kv[0]))
                       ][:top_unanswered],
        "unanswered_total": sum(g["count"] for g in total["unanswered"].values()),
        "series": series,
    })
    return out


def _rate(num: int, den: int) -> Optional[float]:
    return round(num / den, 4) if den else None


def _headline(day: Optional[str], f: Dict[str, Any]) -> Dict[str, Any]:
    resolved = f["resolved_confirmed"] + f["resolved_assumed"]
    h: Dict[str, Any] = {
        "conversations": f["conversations"],
        "involved": f["involved"],
        "resolved_confirmed": f["resolved_confirmed"],
        "resolved_assumed": f["resolved_assumed"],
        "bot_resolution_rate": _rate(resolved, f["involved"]),
        "handed_off": f["handed_off"],
        "handoff_rate": _rate(f["handed_off"], f["conversations"]),
        "handoffs": {r: f["handoffs"].get(r, 0) for r in sorted(set(HANDOFF_REASONS) | set(f["handoffs"]))},
        "csat_count": f["csat_count"],
        "csat_average": round(f["csat_sum"] / f["csat_count"], 2) if f["csat_count"] else None,
        "first_response_seconds_p50": _median(f["first_response_seconds"]),
    }
    if day is not None:
        h = {"day": day, **h, "handling_seconds_p50": _median(f["handling_seconds"]),
             "unanswered": sum(g["count"] for g in f["unanswered"].values())}
    return h
