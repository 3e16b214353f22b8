"""What happens to a conversation: buyer messages, Rasa replies, handoff, agents.

The HTTP and WebSocket handlers only authenticate and validate; every state change goes
through `ConversationService`, which stores first and then publishes the live update, so a
client that was offline finds everything in the history.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol, Tuple

from bot.logging_setup import REQUEST_ID_KEY, bind, current_request_id, new_request_id
from bot.sensitive import redact, removal_notice

from bot.domain.analytics import kind_for_intent

from .broadcast import Broadcaster
from .db import AsyncStore, NewMessage, utcnow
from .rasa import RasaClient, RasaUnavailable
from .settings import GatewaySettings
from .wire import Encoded, message_event

log = logging.getLogger(__name__)

# The button the gateway offers when the bot cannot answer; the gateway handles it itself
# (Rasa may be the thing that is down).
GATEWAY_HANDOFF_PAYLOAD = "/gateway_handoff"

APOLOGY = ("Sorry, I can't answer right now: our assistant is having a technical problem. "
           "Your message is saved. You can try again in a minute, or talk to a person from our support team.")
QUEUED_ONLINE = "You're in the queue. A support agent will join this chat shortly."
QUEUED_OFFLINE = ("No support agent is signed in right now. Leave your question here: an agent will reply in "
                  "this chat, and you'll see the answer when you come back.")
HANDED_BACK = "You're back with the Pay Later assistant. Ask me anything about Pay Later."
AGENTS_ONLINE_TTL_S = 2.0
CLOSED = "This conversation was closed by our support team. Send a message any time to start again."
CSAT_QUESTION = "How would you rate this conversation? (optional)"
# a rating prompt on a message (the widget shows 1-5 and a comment box; the app API takes POST .../csat)
CSAT_DATA = {"type": "csat", "question": CSAT_QUESTION, "scale": [1, 5]}


def turn_events(conv: Dict[str, Any], turn: Optional[Dict[str, Any]], shown: str) -> List[Dict[str, Any]]:
    """The analytics event of a buyer message the bot answered (docs/ANALYTICS.md)."""
    intent = (turn or {}).get("intent")
    kind = kind_for_intent(intent)
    if kind is None:
        return []
    ev: Dict[str, Any] = {"kind": kind, "buyer_id": conv["buyer_id"]}
    if kind == "answer":
        ev.update(topic=(turn or {}).get("topic") or intent, text=shown)
    elif kind == "fallback":
        ev["text"] = shown
    return [ev]


@dataclass
class Turn:
    """What one buyer message did: the conversation as it now is (the buyer's view is built from
    it, no further read) and every message it stored, in order."""
    conversation: Dict[str, Any]
    messages: List[Dict[str, Any]]
    claim_done: bool = False


class TurnClaim(Protocol):
    """Client message id bookkeeping (client_ids.py), written inside the turn's own transactions
    (`tx`: a hot_sql.HotTx)."""

    def stored(self, tx: Any, message_id: int) -> None:
        """With the buyer's message; raises (rolling that transaction back) when the id is taken."""

    def done(self, tx: Any, message_ids: List[int]) -> None:
        """With the turn's last messages: every message id the turn stored."""


class ConversationError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def buyer_view(conv: Dict[str, Any], agent_name: Optional[str] = None, agents_online: Optional[bool] = None) -> Dict[str, Any]:
    view = {
        "id": conv["id"],
        "client": conv["client"],
        "state": conv["state"],
        "signed_in": conv["buyer_id"] is not None,
        "agent": {"name": agent_name} if conv["state"] == "agent" and agent_name else None,
        "created_at": conv["created_at"],
    }
    if agents_online is not None:
        view["agents_online"] = agents_online
    return view


def console_view(conv: Dict[str, Any], now: Optional[dt.datetime] = None) -> Dict[str, Any]:
    now = now or utcnow()
    wait_s = None
    if conv["state"] == "queued" and conv["queued_at"]:
        queued = dt.datetime.fromisoformat(conv["queued_at"].rstrip("Z"))
        wait_s = max(0, int((now - queued).total_seconds()))
    summary = conv.get("handoff_summary")
    return {
        "id": conv["id"],
        "buyer_id": conv["buyer_id"],
        "client": conv["client"],
        "state": conv["state"],
        "assigned_agent": conv["assigned_agent"],
        "handoff": None if not conv["handoff_reason"] else {
            "reason": conv["handoff_reason"], "reason_text": conv["handoff_reason_text"], "summary": summary,
        },
        "queued_at": conv["queued_at"],
        "wait_seconds": wait_s,
        "created_at": conv["created_at"],
        "last_message_at": conv["last_message_at"],
    }


class ConversationService:
    def __init__(self, store: AsyncStore, broadcaster: Broadcaster, rasa: RasaClient, gw: GatewaySettings,
                 analytics: Optional[Any] = None, metrics: Optional[Any] = None):
        self.store = store
        self.analytics = analytics  # AsyncStore(AnalyticsStore): CSAT checks
        self.metrics = metrics  # bot.gateway.metrics.GatewayMetrics
        self.bus = broadcaster
        self.rasa = rasa
        self.gw = gw
        self._locks: Dict[str, asyncio.Lock] = {}
        self._agents_online: Optional[tuple] = None  # (monotonic time, answer)
        self._agent_names: Dict[str, tuple] = {}  # username -> (monotonic time, display name)

    def lock(self, cid: str) -> asyncio.Lock:
        lock = self._locks.get(cid)
        if lock is None:
            lock = self._locks[cid] = asyncio.Lock()
        return lock

    def purge_locks(self) -> None:
        for cid in [c for c, l in self._locks.items() if not l.locked()]:
            self._locks.pop(cid, None)

    async def agents_online(self, max_age_s: float = 0.0) -> bool:
        """Whether an agent is signed in. `max_age_s`: an answer that old may be reused — the
        answer to every buyer message carries it (AGENTS_ONLINE_TTL_S there, presence itself is
        counted in minutes); state changes and the queue notice ask afresh."""
        now = time.monotonic()
        if max_age_s > 0 and self._agents_online is not None and now - self._agents_online[0] < max_age_s:
            return self._agents_online[1]
        since = utcnow() - dt.timedelta(minutes=self.gw.agent_presence_minutes)
        online = (await self.store.agents_online(since)) > 0
        self._agents_online = (now, online)
        return online

    async def agent_name(self, username: Optional[str], max_age_s: float = 0.0) -> Optional[str]:
        """The agent's display name; `max_age_s` as agents_online (a buyer writing to an agent
        gets the name with every answer; a renamed agent shows at most that late)."""
        if not username:
            return None
        now = time.monotonic()
        known = self._agent_names.get(username)
        if max_age_s > 0 and known is not None and now - known[0] < max_age_s:
            return known[1]
        agent = await self.store.get_agent(username)
        name = agent["display_name"] if agent else username
        if len(self._agent_names) > 1000:
            self._agent_names.clear()
        self._agent_names[username] = (now, name)
        return name

    async def view_for_buyer(self, conv: Dict[str, Any], max_age_s: float = 0.0) -> Dict[str, Any]:
        return buyer_view(conv, await self.agent_name(conv["assigned_agent"], max_age_s),
                          await self.agents_online(max_age_s))

    # ------------------------------------------------------------------ publishing
    async def _publish(self, channel: str, event: Dict[str, Any]) -> None:
        """Live updates are best-effort: the message is already stored, and clients re-read
        history on reconnect, so a broker failure (Redis down) must not fail the request."""
        try:
            await self.bus.publish(channel, event)
        except Exception:
            log.exception("publishing to %s failed; the message is stored and shows on reload", channel)

    async def _message(self, cid: str, sender: str, text: str, buttons: Optional[list] = None,
                       agent_name: Optional[str] = None, kind: Optional[str] = None,
                       data: Optional[Dict[str, Any]] = None,
                       events: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        msg = await self.store.add_message(cid, sender, text, buttons, agent_name, kind, data, events)
        return await self._published(cid, msg)

    async def _published(self, cid: str, stored: Dict[str, Any]) -> Encoded:
        """Count and publish a stored message; its JSON is encoded here once (wire.py) and reused
        by the HTTP answer, the sockets and Redis."""
        msg = Encoded(stored)
        if self.metrics is not None:
            self.metrics.message(msg["sender"])
        await self._publish(f"conv:{cid}", message_event(msg))
        await self._publish("console", message_event(msg, cid))
        return msg

    async def _state_changed(self, cid: str, conv: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Publish the conversation's state (read afresh unless the caller just read it)."""
        if conv is None:
            conv = await self.store.get_conversation(cid)
        view = await self.view_for_buyer(conv)
        await self._publish(f"conv:{cid}", {"type": "state", "conversation": view})
        await self._publish("console", {"type": "conversation", "conversation": console_view(conv)})
        return conv

    # ------------------------------------------------------------------ typing (never stored)
    async def buyer_typing(self, cid: str) -> None:
        conv = await self.store.get_conversation(cid)
        if conv and conv["state"] in ("queued", "agent"):
            await self._publish("console", {"type": "typing", "conversation_id": cid, "who": "buyer"})

    async def agent_typing(self, cid: str, username: str, display_name: str) -> bool:
        """Only the agent who has the chat: the buyer sees "<name> is typing…"."""
        conv = await self.store.get_conversation(cid)
        if not conv or conv["state"] != "agent" or conv["assigned_agent"] != username:
            return False
        await self._publish(f"conv:{cid}", {"type": "typing", "who": "agent", "name": display_name})
        await self._publish("console", {"type": "typing", "conversation_id": cid, "who": "agent", "username": username})
        return True

    # ------------------------------------------------------------------ buyers
    async def buyer_message(self, cid: str, text: str, payload: Optional[str], auth_token: Optional[str],
                            claim: Optional["TurnClaim"] = None,
                            redacted: Optional[Tuple[str, List[str]]] = None) -> "Turn":
        """Store the buyer's message, then route it: to Rasa (bot), or to the agents only
        (queued / with an agent). Returns the conversation as it now is and the new messages in
        order. `redacted`: `redact(text)` if the caller already has it.

        Database work, the common case (bench/profile_gateway.py): one transaction before Rasa
        (read the conversation, reopen it if closed, store the buyer's message and any removal
        notice, `claim.stored`), one after (store the replies with their analytics event, read the
        conversation, `claim.done`). Rarer turns (handoff, rating prompt) add their own."""
        shown, removed = redacted if redacted is not None else redact(text)
        new = [NewMessage("buyer", shown)]
        if removed:  # say so: the buyer sees the label, and why
            new.append(NewMessage("system", removal_notice(removed), kind="redacted"))
        async with self.lock(cid):

            def stored_hook(c, conv: Dict[str, Any], msgs: List[Dict[str, Any]]) -> None:
                if claim is not None:
                    claim.stored(c, msgs[0]["id"])
                    if conv["state"] != "bot":  # the turn ends here: the agents get it, Rasa does not
                        claim.done(c, [m["id"] for m in msgs])

            conv, stored, reopened = await self.store.write_turn(cid, new, reopen=True, hook=stored_hook)
            if conv is None:
                raise ConversationError(404, "not_found", "No such conversation.")
            if reopened:
                await self._state_changed(cid, conv)
            out: List[Dict[str, Any]] = [await self._published(cid, m) for m in stored]
            turn = Turn(conv, out, claim_done=conv["state"] != "bot")
            if conv["state"] != "bot":
                return turn  # the agent sees it in the console; Rasa does not (claim done above)
            if payload == GATEWAY_HANDOFF_PAYLOAD:
                # the button is only offered with the "assistant unavailable" apology
                turn.messages += await self._handoff(conv, "backend_down",
                                                     "The assistant could not answer; the buyer asked for a person",
                                                     None, turn=turn)
            else:
                forward = shown if payload is None else redact(payload)[0]
                await self._ask_rasa(conv, shown, forward, auth_token, turn, claim)
            if claim is not None and not turn.claim_done:  # a handoff or a rating prompt came last
                ids = [m["id"] for m in turn.messages]
                await self.store.run_in_transaction(lambda c: claim.done(c, ids))
                turn.claim_done = True
            return turn

    async def _ask_rasa(self, conv: Dict[str, Any], shown: str, forward: str, auth_token: Optional[str],
                        turn: "Turn", claim: Optional["TurnClaim"]) -> None:
        cid = conv["id"]
        rid = current_request_id() or new_request_id()
        bind(rid, cid)
        metadata: Dict[str, Any] = {"client": conv["client"], REQUEST_ID_KEY: rid}
        if auth_token:
            metadata["auth_token"] = auth_token
        started = time.perf_counter()
        try:
            reply = await self.rasa.send(cid, forward, metadata)
            if self.metrics is not None:
                self.metrics.rasa_seconds.observe(time.perf_counter() - started)
                self.metrics.replies.inc()
        except RasaUnavailable as exc:
            log.warning("rasa unavailable for %s: %s", cid, exc)
            if self.metrics is not None:
                self.metrics.error("rasa_unavailable")
            await self._write_replies(cid, [NewMessage("bot", APOLOGY, [{"title": "Talk to a person",
                                                                         "payload": GATEWAY_HANDOFF_PAYLOAD}],
                                                       kind="bot_unavailable")], turn, claim)
            return
        h = reply.handoff
        announce = str(h.get("announce") or "")[:500] if h is not None else ""
        events: Optional[List[Dict[str, Any]]] = turn_events(conv, reply.turn, shown)
        replies = []
        for m in reply.messages:
            if announce and m["text"] == announce and not m["buttons"] and not m.get("data"):
                continue  # said once, in the queue notice below
            replies.append(NewMessage("bot", m["text"], m["buttons"] or None, data=m.get("data"), events=events))
            events = None  # with the first reply
        last = h is None and (reply.turn or {}).get("intent") != "feedback_helpful"
        if replies:
            await self._write_replies(cid, replies, turn, claim if last else None)
        if h is not None:
            summary = h.get("summary") if isinstance(h.get("summary"), dict) else None
            turn.messages += await self._handoff(turn.conversation, str(h.get("reason") or "requested")[:32],
                                                 str(h.get("reason_text") or "")[:500], summary, announce, events,
                                                 turn=turn)
        elif not last:
            turn.messages += await self._ask_csat_once_a_day(turn.conversation)

    async def _write_replies(self, cid: str, replies: List[NewMessage], turn: "Turn",
                             claim: Optional["TurnClaim"]) -> None:
        """The bot's replies in one transaction; with `claim`, the turn's last write (claim done)."""
        ids = [m["id"] for m in turn.messages]

        def done_hook(c, conv, msgs) -> None:
            if claim is not None:
                claim.done(c, ids + [m["id"] for m in msgs])

        conv, stored, _ = await self.store.write_turn(cid, replies, hook=done_hook if claim is not None else None)
        turn.conversation = conv or turn.conversation
        turn.claim_done = claim is not None
        turn.messages += [await self._published(cid, m) for m in stored]

    async def _ask_csat_once_a_day(self, conv: Dict[str, Any]) -> List[Dict[str, Any]]:
        """After a bot-resolved conversation (the buyer said it helped): the rating prompt, at
        most once a day per buyer (per conversation for an anonymous one)."""
        if self.analytics is None:
            return []
        since = utcnow() - dt.timedelta(hours=24)
        if await self.analytics.csat_asked_recently(conv["id"], conv["buyer_id"], since):
            return []
        return [await self._message(conv["id"], "system", CSAT_QUESTION, kind="csat", data=dict(CSAT_DATA),
                                    events=[{"kind": "csat_asked", "buyer_id": conv["buyer_id"]}])]

    async def rate(self, cid: str, buyer_id: Optional[str], score: Any, comment: Any) -> Dict[str, Any]:
        """The buyer's 1-5 rating and optional comment; only when one was asked for, once per ask."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ConversationError(400, "invalid_score", "`score` is a whole number from 1 to 5.")
        if comment is not None and not isinstance(comment, str):
            raise ConversationError(400, "invalid_comment", "`comment` is text (optional).")
        shown = redact(comment.strip()[:500])[0] if comment and comment.strip() else None
        if self.analytics is None or not await self.analytics.add_csat(cid, buyer_id, score, shown):
            raise ConversationError(409, "not_asked", "There is no rating to give for this conversation right now.")
        return {"score": score, "comment": shown}

    async def _handoff(self, conv, reason: str, reason_text: str, summary: Optional[dict],
                       announce: str = "", events: Optional[List[Dict[str, Any]]] = None,
                       turn: Optional["Turn"] = None) -> List[Dict[str, Any]]:
        cid = conv["id"]
        if summary is not None and summary.get("buyer_id") not in (None, conv["buyer_id"]):
            # the summary must describe the buyer whose verified token opened this conversation
            log.warning("handoff summary for %s names another buyer; dropped", cid)
            summary = None
        if summary is None and conv["buyer_id"]:
            summary = {"buyer_id": conv["buyer_id"]}
        events = [*(events or []), {"kind": "handoff", "reason": reason, "buyer_id": conv["buyer_id"]}]
        if not await self.store.queue(cid, reason, reason_text, summary, events):
            return []
        if self.metrics is not None:
            self.metrics.handoff(reason)
        await self.rasa.tracker_event(cid, "pause")
        hours, now = self.gw.business_hours, dt.datetime.now(dt.timezone.utc)
        if hours is not None and not hours.is_open(now):
            text = hours.away_notice(now)  # when the team is back; the message waits in the queue
        else:
            text = QUEUED_ONLINE if await self.agents_online() else QUEUED_OFFLINE
        notice = await self._message(cid, "system", f"{announce} {text}" if announce else text, kind="queued")
        conv = await self._state_changed(cid)
        if turn is not None:
            turn.conversation = conv
        return [notice]

    # ------------------------------------------------------------------ proactive (events room)
    async def notify_buyer(self, buyer_id: str, text: str, kind: str = "proactive",
                           handoff: Optional[Dict[str, Any]] = None, order_id: Optional[str] = None,
                           slots: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A message the buyer did not ask for (money arrived, payment late, ...): written into
        the buyer's latest conversation (one is created, client "app", when there is none),
        pushed to any open widget/app socket, kept in the history for an offline buyer.
        `handoff` ({"reason", "reason_text", "summary"}) also queues the conversation for a person.
        Rasa's tracker gets the sentence (a `bot` event), the `order_id` slot and `slots` (the
        events room sets `proactive_event` / `proactive_context`, docs/CONTRACT.md), so "when
        exactly?" / "which order?" / "thanks" next are answered about that message."""
        conv = await self.store.latest_conversation_for_buyer(buyer_id)
        if conv is None:
            conv = await self.store.create_conversation(buyer_id, "app", None)
        cid = conv["id"]
        async with self.lock(cid):
            conv = await self.store.get_conversation(cid)
            msg = await self._message(cid, "bot", text, kind=kind)
            context: List[Dict[str, Any]] = [{"event": "slot", "name": name, "value": value}
                                             for name, value in {**({"order_id": order_id} if order_id else {}),
                                                                 **(slots or {})}.items()]
            context.append({"event": "bot", "text": text})
            await self.rasa.append_events(cid, context)
            if handoff is not None and conv["state"] in ("bot", "closed"):
                if conv["state"] == "closed":
                    await self.store.reopen(cid)
                    conv = await self.store.get_conversation(cid)
                await self._handoff(conv, handoff["reason"], handoff.get("reason_text", ""), handoff.get("summary"))
        return {"conversation_id": cid, "message": msg}

    # ------------------------------------------------------------------ agents
    async def claim(self, cid: str, username: str, display_name: str) -> Dict[str, Any]:
        async with self.lock(cid):
            prev = await self.store.claim(cid, username)
            if prev is None:
                conv = await self.store.get_conversation(cid)
                if conv is None:
                    raise ConversationError(404, "not_found", "No such conversation.")
                owner = conv["assigned_agent"]
                raise ConversationError(409, "already_taken" if owner else "not_claimable",
                                        f"{owner} already took this conversation." if owner
                                        else f"This conversation is {conv['state']} and cannot be taken.")
            if prev == "bot":  # taken over from the bot: Rasa must stop answering
                await self.rasa.tracker_event(cid, "pause")
            await self._message(cid, "system", f"{display_name} from our support team joined the chat.",
                                agent_name=display_name, kind="agent_joined",
                                events=[{"kind": "agent_joined", "agent": username}])
            return await self._state_changed(cid)

    async def _owned(self, cid: str, username: str) -> Dict[str, Any]:
        conv = await self.store.get_conversation(cid)
        if conv is None:
            raise ConversationError(404, "not_found", "No such conversation.")
        if conv["state"] != "agent" or conv["assigned_agent"] != username:
            raise ConversationError(409, "not_yours", "Take over the conversation first (another agent may own it).")
        return conv

    async def agent_message(self, cid: str, username: str, display_name: str, text: str) -> Dict[str, Any]:
        async with self.lock(cid):
            await self._owned(cid, username)
            shown, _ = redact(text)
            return await self._message(cid, "agent", shown, agent_name=display_name,
                                       events=[{"kind": "agent_reply", "agent": username}])

    async def hand_back(self, cid: str, username: str) -> Dict[str, Any]:
        async with self.lock(cid):
            await self._owned(cid, username)
            if not await self.store.release_to_bot(cid, username):
                raise ConversationError(409, "not_yours", "The conversation changed meanwhile.")
            await self.rasa.tracker_event(cid, "resume")
            await self._message(cid, "system", HANDED_BACK, kind="handed_back")
            return await self._state_changed(cid)

    async def close(self, cid: str, username: str, closing_line: Optional[str] = None,
                    display_name: Optional[str] = None) -> Dict[str, Any]:
        async with self.lock(cid):
            if closing_line:
                await self._owned(cid, username)  # only the agent who has the chat speaks to the buyer
                shown, _ = redact(closing_line)
                await self._message(cid, "agent", shown, agent_name=display_name or username,
                                    events=[{"kind": "agent_reply", "agent": username}])
            prev = await self.store.close(cid, username)
            if prev is None:
                conv = await self.store.get_conversation(cid)
                if conv is None:
                    raise ConversationError(404, "not_found", "No such conversation.")
                raise ConversationError(409, "not_yours", "Another agent owns this conversation, or it is closed.")
            if prev in ("queued", "agent"):  # the tracker was paused: the next chat must reach the bot
                await self.rasa.tracker_event(cid, "resume")
            # the closing notice asks for the optional rating (its `closed` event is the ask)
            await self._message(cid, "system", CLOSED, kind="closed", data=dict(CSAT_DATA),
                                events=[{"kind": "closed", "agent": username}])
            return await self._state_changed(cid)
