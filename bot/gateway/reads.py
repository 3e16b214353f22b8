"""Read state per message: how far the buyer (the widget) and each agent (the console) have
read a conversation. The widget's unread badge, the console's unread counts and its "Seen"
come from here, so they survive a reload. Synchronous SQLAlchemy Core behind `AsyncStore`."""
from __future__ import annotations

from typing import Dict, Iterable, Optional

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine

from .db import AsyncStore, messages, read_marks, utcnow, write_tx

BUYER = "buyer"
# what counts as unread: for the buyer the bot's and agents' messages (not their own, not system
# lines); for an agent the buyer's messages
UNREAD_FOR_BUYER = ("agent", "bot")
UNREAD_FOR_AGENT = ("buyer",)


def agent_reader(username: str) -> str:
    return f"agent:{username}"


class ReadStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def mark(self, cid: str, reader: str, up_to: int) -> int:
        """Read up to message `up_to` (clamped to the conversation's last message; never moves
        back, also under concurrent calls: a conditional UPDATE). Returns the stored mark."""
        where = (read_marks.c.conversation_id == cid) & (read_marks.c.reader == reader)
        for _ in range(2):  # a concurrent first mark of the same reader: the retry updates it
            try:
                with write_tx(self.engine) as c:  # SQLite: BEGIN IMMEDIATE (no failing lock upgrade)
                    top = c.execute(sa.select(sa.func.max(messages.c.id))
                                    .where(messages.c.conversation_id == cid)).scalar() or 0
                    target = max(0, min(up_to, top))
                    c.execute(sa.update(read_marks).where(where, read_marks.c.last_read_id < target)
                              .values(last_read_id=target, updated_at=utcnow()))
                    stored = c.execute(sa.select(read_marks.c.last_read_id).where(where)).scalar()
                    if stored is None:
                        c.execute(sa.insert(read_marks).values(conversation_id=cid, reader=reader,
                                                               last_read_id=target, updated_at=utcnow()))
                        stored = target
                    return stored
            except sa.exc.IntegrityError:
                continue
        return self.last_read(cid, reader)

    def last_read(self, cid: str, reader: str) -> int:
        with self.engine.connect() as c:
            return c.execute(sa.select(read_marks.c.last_read_id).where(
                read_marks.c.conversation_id == cid, read_marks.c.reader == reader)).scalar() or 0

    def unread(self, cids: Iterable[str], reader: str, senders: Iterable[str]) -> Dict[str, int]:
        """Per conversation: messages from `senders` after the reader's mark (only non-zero counts)."""
        cids = list(cids)
        if not cids:
            return {}
        r = read_marks.alias("r")
        j = messages.outerjoin(r, sa.and_(r.c.conversation_id == messages.c.conversation_id, r.c.reader == reader))
        stmt = (sa.select(messages.c.conversation_id, sa.func.count()).select_from(j)
                .where(messages.c.conversation_id.in_(cids), messages.c.sender.in_(list(senders)),
                       messages.c.id > sa.func.coalesce(r.c.last_read_id, 0))
                .group_by(messages.c.conversation_id))
        with self.engine.connect() as c:
            return {row[0]: int(row[1]) for row in c.execute(stmt).all()}

    def buyer_state(self, cid: str) -> Dict[str, int]:
        """What the widget needs after a reload: the buyer's mark and how many replies are unread."""
        last = self.last_read(cid, BUYER)
        return {"last_read_id": last, "unread": self.unread([cid], BUYER, UNREAD_FOR_BUYER).get(cid, 0)}


READS = web.AppKey("reads", AsyncStore)


def setup(app: web.Application, store_key) -> None:
    async def _reads(app: web.Application):
        app[READS] = AsyncStore(ReadStore(app[store_key].sync.engine))  # type: ignore[arg-type]
        yield

    app.cleanup_ctx.append(_reads)  # after the gateway's resources (STORE)


def read_up_to(body: dict) -> Optional[int]:
    """The `up_to` message id of a read call, or None when it is not a usable id."""
    value = body.get("up_to")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        return None
    return value
