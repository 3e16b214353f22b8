"""The agent workspace's queries: notes, canned replies, the team (roles, who is signed in),
transfer and release. Synchronous SQLAlchemy Core; `AsyncStore` runs them in worker threads."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import _conv_row, write_tx, agent_sessions, agents, canned_replies, conversations, iso, messages, notes, utcnow

ROLES = ("agent", "supervisor")


@dataclass(frozen=True)
class Note:
    id: int
    conversation_id: str
    author: str
    author_name: str
    text: str
    created_at: Optional[str]

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CannedReply:
    id: str  # "12" for the team's replies, "faq/<name>" for the bot's FAQ answers
    shortcut: str
    title: str
    text: str
    source: str  # team | faq
    updated_by: Optional[str] = None
    updated_at: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchHit:
    conversation: Dict[str, Any]  # the stored row (bot.gateway.db._conv_row)
    matched: str  # buyer | order | text
    snippet: Optional[str]  # the first message (or note) that matched


@dataclass(frozen=True)
class TeamMember:
    username: str
    display_name: str
    role: str
    active: bool
    online: bool
    status: str  # available | away

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


def _note(row) -> Note:
    return Note(row.id, row.conversation_id, row.author, row.author_name, row.text, iso(row.created_at))


def _canned(row) -> CannedReply:
    return CannedReply(str(row.id), row.shortcut, row.title, row.text, "team", row.updated_by, iso(row.updated_at))


class WorkspaceStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # ---------------------------------------------------------------- notes
    def add_note(self, cid: str, author: str, author_name: str, text: str) -> Note:
        with write_tx(self.engine) as c:
            nid = c.execute(sa.insert(notes).values(conversation_id=cid, author=author, author_name=author_name,
                                                    text=text, created_at=utcnow())).inserted_primary_key[0]
            return _note(c.execute(sa.select(notes).where(notes.c.id == nid)).first())

    def notes(self, cid: str) -> List[Note]:
        with self.engine.connect() as c:
            rows = c.execute(sa.select(notes).where(notes.c.conversation_id == cid).order_by(notes.c.id)).all()
        return [_note(r) for r in rows]

    # ---------------------------------------------------------------- canned replies
    def canned(self, query: str = "") -> List[CannedReply]:
        stmt = sa.select(canned_replies).order_by(canned_replies.c.shortcut)
        if query:
            like = f"%{query.lower()}%"
            stmt = stmt.where(sa.or_(sa.func.lower(canned_replies.c.shortcut).like(like),
                                     sa.func.lower(canned_replies.c.title).like(like),
                                     sa.func.lower(canned_replies.c.text).like(like)))
        with self.engine.connect() as c:
            return [_canned(r) for r in c.execute(stmt.limit(200)).all()]

    def get_canned(self, rid: int) -> Optional[CannedReply]:
        with self.engine.connect() as c:
            row = c.execute(sa.select(canned_replies).where(canned_replies.c.id == rid)).first()
        return _canned(row) if row else None

    def save_canned(self, rid: Optional[int], shortcut: str, title: str, text: str, by: str) -> Optional[CannedReply]:
        """Insert (rid None) or update; None when the shortcut is taken or the reply is gone."""
        values = dict(shortcut=shortcut, title=title, text=text, updated_by=by, updated_at=utcnow())
        try:
            with write_tx(self.engine) as c:
                if rid is None:
                    rid = c.execute(sa.insert(canned_replies).values(**values)).inserted_primary_key[0]
                elif c.execute(sa.update(canned_replies).where(canned_replies.c.id == rid).values(**values)).rowcount != 1:
                    return None
        except sa.exc.IntegrityError:
            raise ValueError("shortcut_taken")
        return self.get_canned(rid)

    def delete_canned(self, rid: int) -> bool:
        with write_tx(self.engine) as c:
            return c.execute(sa.delete(canned_replies).where(canned_replies.c.id == rid)).rowcount == 1

    # ---------------------------------------------------------------- search (open and closed)
    def open_for_buyer(self, buyer_id: str, exclude: str, limit: int = 5) -> List[Dict[str, Any]]:
        """The verified buyer's other conversations that are not closed (e.g. the app's beside
        the website's), most recently active first."""
        active = sa.func.coalesce(conversations.c.last_message_at, conversations.c.created_at)
        with self.engine.connect() as c:
            rows = c.execute(sa.select(conversations).where(
                conversations.c.buyer_id == buyer_id, conversations.c.id != exclude,
                conversations.c.state != "closed").order_by(active.desc()).limit(limit)).all()
        return [_conv_row(r) for r in rows]

    def search(self, terms: List[str], since: Optional[dt.datetime], until: Optional[dt.datetime],
               limit: int = 50) -> List[SearchHit]:
        """Conversations whose buyer id is one of `terms`, or whose messages, notes or handoff
        summary contain one (case-insensitive), active between `since` and `until`; newest first."""
        def like(col, term):
            esc = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return sa.func.lower(col).like(f"%{esc}%", escape="\\")

        cond = []
        if terms:
            in_msgs = sa.select(messages.c.conversation_id).where(sa.or_(*(like(messages.c.text, t) for t in terms)))
            in_notes = sa.select(notes.c.conversation_id).where(sa.or_(*(like(notes.c.text, t) for t in terms)))
            cond.append(sa.or_(conversations.c.buyer_id.in_(terms),
                               sa.or_(*(like(conversations.c.handoff_summary, t) for t in terms)),
                               conversations.c.id.in_(in_msgs), conversations.c.id.in_(in_notes)))
        active = sa.func.coalesce(conversations.c.last_message_at, conversations.c.created_at)
        if since is not None:
            cond.append(active >= since)
        if until is not None:
            cond.append(conversations.c.created_at < until)
        with self.engine.connect() as c:
            rows = c.execute(sa.select(conversations).where(*cond).order_by(active.desc()).limit(limit)).all()
            hits = []
            for r in rows:
                snippet, matched = None, "text"
                if terms:
                    if r.buyer_id in terms:
                        matched = "buyer"
                    first = c.execute(sa.select(messages.c.text).where(
                        messages.c.conversation_id == r.id, sa.or_(*(like(messages.c.text, t) for t in terms))
                    ).order_by(messages.c.id).limit(1)).scalar()
                    if first is None:
                        first = c.execute(sa.select(notes.c.text).where(
                            notes.c.conversation_id == r.id, sa.or_(*(like(notes.c.text, t) for t in terms))
                        ).order_by(notes.c.id).limit(1)).scalar()
                    snippet = first[:200] if first else None
                    if matched != "buyer" and any(t[:3] in ("TA-", "PO-") for t in terms):
                        matched = "order"
                hits.append(SearchHit(_conv_row(r), matched, snippet))
        return hits

    # ---------------------------------------------------------------- the team
    def team(self, online_since: dt.datetime) -> List[TeamMember]:
        now = utcnow()
        online = sa.select(agent_sessions.c.username).where(
            agent_sessions.c.revoked.is_(False), agent_sessions.c.last_seen_at >= online_since,
            agent_sessions.c.expires_at > now)
        with self.engine.connect() as c:
            names = {r.username for r in c.execute(online).all()}
            rows = c.execute(sa.select(agents).order_by(agents.c.username)).all()
        return [TeamMember(r.username, r.display_name, r.role or "agent", bool(r.active),
                           bool(r.active) and r.username in names, "away" if r.away else "available") for r in rows]

    def update_agent(self, username: str, **values: Any) -> bool:
        """Role, display name, password hash or active; disabling or a new password ends every
        session of that agent (the console socket closes at its next session check)."""
        with write_tx(self.engine) as c:
            n = c.execute(sa.update(agents).where(agents.c.username == username).values(**values)).rowcount
            if n and (values.get("active") is False or "password_hash" in values):
                c.execute(sa.update(agent_sessions).where(agent_sessions.c.username == username).values(revoked=True))
            return n == 1

    # ---------------------------------------------------------------- passing a conversation on
    def transfer(self, cid: str, from_agent: Optional[str], to_agent: str) -> bool:
        """The owner's (or, for a supervisor, any live or queued) conversation becomes `to_agent`'s."""
        cond = [conversations.c.id == cid]
        if from_agent is None:
            cond.append(conversations.c.state.in_(("agent", "queued")))
        else:
            cond += [conversations.c.state == "agent", conversations.c.assigned_agent == from_agent]
        with write_tx(self.engine) as c:
            return c.execute(sa.update(conversations).where(*cond).values(
                state="agent", assigned_agent=to_agent, queued_at=None, updated_at=utcnow())).rowcount == 1

    def assigned_to(self, username: str) -> List[str]:
        """The conversations this agent has open (state agent)."""
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(sa.select(conversations.c.id).where(
                conversations.c.state == "agent", conversations.c.assigned_agent == username)).all()]

    def release(self, cid: str, from_agent: Optional[str]) -> bool:
        """agent -> queued: back to the queue, first in line: it keeps the time the buyer first
        asked for a person (oldest first), so the buyer does not queue again from the back."""
        cond = [conversations.c.id == cid, conversations.c.state == "agent"]
        if from_agent is not None:
            cond.append(conversations.c.assigned_agent == from_agent)
        now = utcnow()
        with write_tx(self.engine) as c:
            return c.execute(sa.update(conversations).where(*cond).values(
                state="queued", assigned_agent=None, queued_at=sa.func.coalesce(conversations.c.queued_at, now),
                updated_at=now)).rowcount == 1
