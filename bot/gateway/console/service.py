"""The agent workspace: pass a conversation on (transfer / release), private notes, canned
replies with variables (the team's and the bot's own FAQ answers), and the team itself.

Notes live in their own table and are published on the console channel only: the buyer's
history, the buyer's socket and Rasa never see them.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.parsing import find_order_ids
from bot.sensitive import redact

from ..db import AsyncStore, utcnow
from ..security import MIN_PASSWORD_LEN, hash_password
from ..service import ConversationError, ConversationService
from ..settings import GatewaySettings
from .store import ROLES, CannedReply, Note, SearchHit, TeamMember

DOMAIN = Path(__file__).resolve().parents[3] / "domain.yml"
TRANSFERRED = "{name} from our support team is taking over this chat."
RELEASED = "A colleague from our support team will take over shortly. You're back in the queue, first in line."
VARIABLES = ("buyer_name", "order_id", "agent_name")
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@functools.lru_cache(maxsize=4)
def faq_answers(path: Path = DOMAIN) -> Tuple[Tuple[str, str, Tuple[Tuple[Optional[str], str], ...]], ...]:
    """(name, title, ((client or None, text), ...)) for every `utter_faq/*` response of the bot."""
    try:
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
    except OSError:
        return ()
    out = []
    for key, variants in responses.items():
        if not key.startswith("utter_faq/"):
            continue
        name = key.split("/", 1)[1]
        texts = []
        for v in variants or []:
            client = next((c.get("value") for c in v.get("condition") or [] if c.get("name") == "client"), None)
            if v.get("text"):
                texts.append((client, v["text"]))
        if texts:
            out.append((name, name.replace("_", " ").capitalize(), tuple(texts)))
    return tuple(out)


def fill(text: str, values: Dict[str, Optional[str]]) -> Tuple[str, List[str]]:
    """{buyer_name}, {order_id}, {agent_name}; a value we do not know stays visible as
    "[order id]" for the agent to fill in (and is listed as missing)."""
    missing: List[str] = []

    def sub(m: re.Match) -> str:
        value = values.get(m.group(1))
        if value:
            return value
        missing.append(m.group(1))
        return "[" + m.group(1).replace("_", " ") + "]"

    return re.sub(r"\{(" + "|".join(VARIABLES) + r")\}", sub, text), missing


class WorkspaceService:
    def __init__(self, store: AsyncStore, conversations: ConversationService, gw: GatewaySettings):
        self.store = store  # AsyncStore(WorkspaceStore)
        self.conv = conversations
        self.gw = gw

    # ------------------------------------------------------------------ the team
    async def team(self) -> List[TeamMember]:
        return await self.store.team(utcnow() - dt.timedelta(minutes=self.gw.agent_presence_minutes))

    async def add_agent(self, username: Any, display_name: Any, password: Any, role: Any) -> TeamMember:
        if not isinstance(username, str) or not USERNAME.match(username):
            raise ConversationError(400, "invalid_username", "Username: letters, digits, '.', '-', '_' (at most 64).")
        self._check_password(password)
        role = self._check_role(role or "agent")
        name = display_name.strip()[:128] if isinstance(display_name, str) and display_name.strip() else username
        if any(m.username == username for m in await self.team()):
            raise ConversationError(409, "agent_exists", f"An agent called {username} already exists.")
        pw_hash = await asyncio.to_thread(hash_password, password)
        await self.conv.store.add_agent(username, name, pw_hash, role)
        return next(m for m in await self.team() if m.username == username)

    async def update_agent(self, actor: Dict[str, Any], username: str, body: Dict[str, Any]) -> TeamMember:
        values: Dict[str, Any] = {}
        if "role" in body:
            values["role"] = self._check_role(body["role"])
        if "active" in body:
            if not isinstance(body["active"], bool):
                raise ConversationError(400, "invalid_active", "`active` must be true or false.")
            values["active"] = body["active"]
        if "display_name" in body:
            if not isinstance(body["display_name"], str) or not body["display_name"].strip():
                raise ConversationError(400, "invalid_display_name", "Give the name buyers see.")
            values["display_name"] = body["display_name"].strip()[:128]
        if "password" in body:
            self._check_password(body["password"])
            values["password_hash"] = await asyncio.to_thread(hash_password, body["password"])
        if not values:
            raise ConversationError(400, "nothing_to_change", "Send role, active, display_name or password.")
        if username == actor["username"] and (values.get("active") is False or values.get("role") == "agent"):
            raise ConversationError(409, "not_yourself", "You cannot disable yourself or take away your own supervisor role.")
        if not await self.store.update_agent(username, **values):
            raise ConversationError(404, "no_such_agent", f"No agent called {username}.")
        if values.get("active") is False or "password_hash" in values:
            await self.conv._publish("console", {"type": "session_ended", "username": username})
        if values.get("active") is False:
            await self._requeue_chats_of(username)
        return next(m for m in await self.team() if m.username == username)

    async def set_status(self, actor: Dict[str, Any], status: Any) -> TeamMember:
        if status not in ("available", "away"):
            raise ConversationError(400, "invalid_status", "`status` is \"available\" or \"away\".")
        await self.store.update_agent(actor["username"], away=status == "away")
        await self.conv._publish("console", {"type": "team"})  # colleagues' transfer lists follow
        return next(m for m in await self.team() if m.username == actor["username"])

    @staticmethod
    def _check_role(role: Any) -> str:
        if role not in ROLES:
            raise ConversationError(400, "invalid_role", "`role` is \"agent\" or \"supervisor\".")
        return role

    @staticmethod
    def _check_password(password: Any) -> None:
        if not isinstance(password, str) or not MIN_PASSWORD_LEN <= len(password) <= 1024:
            raise ConversationError(400, "weak_password", f"The password needs at least {MIN_PASSWORD_LEN} characters.")

    # ------------------------------------------------------------------ passing it on
    async def transfer(self, cid: str, actor: Dict[str, Any], to: Any) -> Dict[str, Any]:
        supervisor = actor.get("role") == "supervisor"
        if not isinstance(to, str) or not to:
            raise ConversationError(400, "invalid_agent", "Say who takes over: `to` is an agent's username.")
        async with self.conv.lock(cid):
            conv = await self._conversation(cid)
            if not supervisor and (conv["state"] != "agent" or conv["assigned_agent"] != actor["username"]):
                raise ConversationError(409, "not_yours", "Take over the conversation first (another agent may own it).")
            if to == conv["assigned_agent"]:
                raise ConversationError(409, "already_theirs", "That agent already has this conversation.")
            target = next((m for m in await self.team() if m.username == to), None)
            if target is None or not target.active:
                raise ConversationError(404, "no_such_agent", f"No active agent called {to}.")
            if not target.online:
                raise ConversationError(409, "agent_offline", f"{target.display_name} is not signed in right now.")
            if target.status == "away" and to != actor["username"]:
                raise ConversationError(409, "agent_away", f"{target.display_name} is away and takes no new chats.")
            frm = None if supervisor else actor["username"]
            if not await self.store.transfer(cid, frm, to):
                raise ConversationError(409, "not_yours", "The conversation changed meanwhile.")
            if conv["state"] != "agent":  # a supervisor assigned it from the queue: the bot must stay quiet
                await self.conv.rasa.tracker_event(cid, "pause")
            await self.conv._message(cid, "system", TRANSFERRED.format(name=target.display_name),
                                     agent_name=target.display_name, kind="transferred",
                                     events=[{"kind": "agent_joined", "agent": to}])
            await self.conv._publish("console", {"type": "transferred", "conversation_id": cid, "to": to,
                                                 "from": conv["assigned_agent"], "by": actor["username"],
                                                 "by_name": actor["display_name"]})
            return await self.conv._state_changed(cid)

    async def release(self, cid: str, actor: Dict[str, Any]) -> Dict[str, Any]:
        supervisor = actor.get("role") == "supervisor"
        async with self.conv.lock(cid):
            conv = await self._conversation(cid)
            if conv["state"] != "agent" or not (supervisor or conv["assigned_agent"] == actor["username"]):
                raise ConversationError(409, "not_yours", "Only the agent who has this conversation can release it.")
            if not await self.store.release(cid, None if supervisor else actor["username"]):
                raise ConversationError(409, "not_yours", "The conversation changed meanwhile.")
            await self.conv._message(cid, "system", RELEASED, kind="released")
            return await self.conv._state_changed(cid)

    async def _requeue_chats_of(self, username: str) -> None:
        """A disabled agent's open chats go back to the queue (the buyer is told), instead of
        staying with someone who can no longer answer."""
        for cid in await self.store.assigned_to(username):
            async with self.conv.lock(cid):
                if await self.store.release(cid, username):
                    await self.conv._message(cid, "system", RELEASED, kind="released")
                    await self.conv._state_changed(cid)

    async def _conversation(self, cid: str) -> Dict[str, Any]:
        conv = await self.conv.store.get_conversation(cid)
        if conv is None:
            raise ConversationError(404, "not_found", "No such conversation.")
        return conv

    # ------------------------------------------------------------------ search
    async def search(self, q: str, since: Optional[str], until: Optional[str]) -> List[SearchHit]:
        """By buyer id, order id ("ta100231" finds "TA-100231"), any text, and/or dates (YYYY-MM-DD,
        both included)."""
        q = q.strip()
        if len(q) > 100:
            raise ConversationError(400, "query_too_long", "Search for at most 100 characters.")
        start, end = self._day(since, "from"), self._day(until, "to")
        if not q and start is None and end is None:
            raise ConversationError(400, "empty_search", "Type a buyer id, an order id or some words, or pick dates.")
        if start and end and end < start:
            raise ConversationError(400, "bad_dates", "The end date is before the start date.")
        terms = [q] if q else []
        for oid in find_order_ids(q):  # the way buyers type it: TA-100231, TA100231, TA 100231
            terms += [t for t in (oid, oid.replace("-", ""), oid.replace("-", " ")) if t not in terms]
        until_dt = None if end is None else dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        since_dt = None if start is None else dt.datetime.combine(start, dt.time())
        return await self.store.search(terms, since_dt, until_dt)

    @staticmethod
    def _day(value: Optional[str], name: str) -> Optional[dt.date]:
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ConversationError(400, "bad_date", f"`{name}` is a date like 2026-11-30.")

    # ------------------------------------------------------------------ notes (agents only)
    async def add_note(self, cid: str, actor: Dict[str, Any], text: str) -> Note:
        await self._conversation(cid)
        shown, _ = redact(text)  # card numbers and the like are never stored, not even for colleagues
        note = await self.store.add_note(cid, actor["username"], actor["display_name"], shown)
        await self.conv._publish("console", {"type": "note", "conversation_id": cid, "note": note.to_json()})
        return note

    async def notes(self, cid: str) -> List[Note]:
        return await self.store.notes(cid)

    # ------------------------------------------------------------------ canned replies
    async def canned(self, query: str, conv: Optional[Dict[str, Any]], actor: Dict[str, Any]) -> List[Dict[str, Any]]:
        q = query.strip().lower()
        client = conv["client"] if conv else None
        replies = list(await self.store.canned(q))
        for name, title, texts in faq_answers():
            text = next((t for c, t in texts if c == client), None) or next((t for c, t in texts if c is None), texts[0][1])
            r = CannedReply(f"faq/{name}", f"faq-{name.replace('_', '-')}", title, text, "faq")
            if not q or q in r.shortcut or q in title.lower() or q in text.lower():
                replies.append(r)
        values = self._values(conv, actor)
        out = []
        for r in replies:
            d = r.to_json()
            if conv is not None:
                d["rendered"], d["missing"] = fill(r.text, values)
            out.append(d)
        return out

    @staticmethod
    def _values(conv: Optional[Dict[str, Any]], actor: Dict[str, Any]) -> Dict[str, Optional[str]]:
        summary = (conv or {}).get("handoff_summary") or {}
        orders = summary.get("orders_mentioned") or []
        return {"buyer_name": summary.get("business_name") or (conv or {}).get("buyer_id"),
                "order_id": orders[0] if orders and isinstance(orders[0], str) else None,
                "agent_name": actor["display_name"]}

    async def save_canned(self, rid: Optional[int], actor: Dict[str, Any], body: Dict[str, Any]) -> CannedReply:
        shortcut, title, text = body.get("shortcut"), body.get("title"), body.get("text")
        if not isinstance(shortcut, str) or not SHORTCUT.match(shortcut.strip().lower()) or shortcut.startswith("faq-"):
            raise ConversationError(400, "invalid_shortcut",
                                    "Shortcut: lower-case letters, digits, '-' or '_' (at most 40), not starting with faq-.")
        if not isinstance(title, str) or not title.strip() or len(title) > 120:
            raise ConversationError(400, "invalid_title", "Give the reply a title (at most 120 characters).")
        if not isinstance(text, str) or not text.strip() or len(text) > self.gw.max_message_chars:
            raise ConversationError(400, "invalid_text", f"The reply's text: 1 to {self.gw.max_message_chars} characters.")
        try:
            saved = await self.store.save_canned(rid, shortcut.strip().lower(), title.strip(), text.strip(), actor["username"])
        except ValueError:
            raise ConversationError(409, "shortcut_taken", f"Another reply already uses the shortcut {shortcut}.")
        if saved is None:
            raise ConversationError(404, "not_found", "No such canned reply.")
        return saved
