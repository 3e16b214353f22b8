"""Rasa's SQL tracker store, made flat in session length and free of bearer tokens at rest.

endpoints.yml:   tracker_store: {type: bot.tracker_store.PayLaterTrackerStore, dialect: sqlite, db: ...}
(deploy/endpoints.scale.yml: the same class on PostgreSQL). Same table, same rows, same
`retrieve` semantics as Rasa's `SQLTrackerStore` (the events of the latest session), so the two
can be swapped either way on a live database.

**Why.** Rasa's store reads and deserialises every event of the session on every message
(rasa#6334, #11828): at 150 events that was 134 ms of a 239 ms message (docs/SCALING.md).

**How.** The trackers this process used recently stay in memory, each with what it knows of
the database: the number of the conversation's rows and the highest row id it has seen.
`retrieve` asks the database one cheap question — `count(*)` and `max(id)` of the
conversation's rows — and then:

* both unchanged: the cached tracker is current (one indexed query, nothing deserialised);
* `max(id)` grew and the count grew by exactly the rows above the old `max(id)`: another replica
  (failover, hand-back through another Rasa) wrote them; only those rows are read and applied;
* anything else (rows deleted, a row committed out of id order, a new session written by
  another replica, a tracker left with unsaved events by a failed turn, a cache miss): a full
  load, exactly as Rasa does it. In doubt, load.

`save` writes only the events after the ones it knows are stored (Rasa's store also appends
only, but counts the stored rows with a query first). A save that starts a new session drops
the cached tracker (the next retrieve loads the new session, as Rasa would). The cache is an
LRU bounded by an estimate of the trackers' size in memory (`cache_mb`, default 128: about
400 conversations of 20 turns at ~660 bytes of JSON per event).

Several replicas stay correct because every retrieve validates against the database; what the
cache saves is deserialising and replaying events, not the round trip.

**No bearer token at rest** (issue 15). The gateway puts the buyer's JWT in each message's
metadata (`auth_token`, bot/gateway/service.py); the actions verify it from the tracker's
latest message (bot/actions/base.py `verified_buyer`). Every event is written with credential
keys (`CREDENTIAL_KEYS`, at any depth: the message's metadata, `parse_data.metadata`, the
`session_started_metadata` slot) removed and any JWT-shaped string replaced, so the database
never holds a usable token. The tracker of the running turn is the in-memory object Rasa hands
to the actions, so this turn's actions still see this turn's token; a later turn's actions see
the token of *that* turn's message. Tokens of earlier turns are removed from the cached
tracker's events too (when it is next handed out), so a cached tracker and one loaded from the
database look the same. Chosen over a per-conversation signed claim: nothing to mint, rotate
or verify, and the token never outlives the turn that carried it.
"""
from __future__ import annotations

import itertools
import json
import logging
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import SESSION_START_METADATA_SLOT
from rasa.shared.core.events import Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.adapters.hot_sql import HotPath, insert_stmt

log = logging.getLogger(__name__)

# Metadata keys that carry a credential, removed at any depth before an event is stored.
CREDENTIAL_KEYS = frozenset({
    "auth_token", "access_token", "id_token", "refresh_token", "token", "authorization", "password",
    "secret", "api_key", "apikey", "cookie",
})
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")
_JWT_REMOVED = "[token removed]"
# Python objects of a deserialised event take several times its JSON size (measured with
# tracemalloc on FAQ turns like this product's: 5.2x); the LRU budget counts that estimate.
_MEMORY_PER_JSON_BYTE = 5
DEFAULT_CACHE_MB = 128


def without_credentials(value: Any) -> Any:
    """A copy of a JSON-like value with credential keys removed at any depth and JWT-shaped
    strings replaced."""
    if isinstance(value, dict):
        return {k: without_credentials(v) for k, v in value.items()
                if not (isinstance(k, str) and k.lower() in CREDENTIAL_KEYS)}
    if isinstance(value, list):
        return [without_credentials(v) for v in value]
    if isinstance(value, str) and "eyJ" in value:
        return _JWT.sub(_JWT_REMOVED, value)
    return value


def _may_hold_credentials(text: str) -> bool:
    return "eyJ" in text or any(f'"{k}"' in text.lower() for k in CREDENTIAL_KEYS)


def stored_form(data: Dict[str, Any]) -> str:
    """An event's dict (`Event.as_dict()`) as its database row stores it: JSON, without credentials."""
    text = json.dumps(data)
    if _may_hold_credentials(text):
        text = json.dumps(without_credentials(data))
    return text


def _scrub_in_place(event: Event) -> None:
    """Remove credentials from an in-memory event that is already stored (the cached tracker
    then matches what a load from the database gives)."""
    dicts: List[Dict] = []
    if isinstance(event, UserUttered):
        dicts += [event.metadata, (event.parse_data or {}).get("metadata")]
    elif isinstance(event, SlotSet) and event.key == SESSION_START_METADATA_SLOT:
        dicts.append(event.value)
    else:
        dicts.append(event.metadata)
    for d in dicts:
        if isinstance(d, dict):
            for key in [k for k in d if isinstance(k, str) and k.lower() in CREDENTIAL_KEYS]:
                d.pop(key, None)  # the slot's value is this same dict: it is cleaned too


@dataclass
class _Entry:
    tracker: DialogueStateTracker
    saved: int  # len(tracker.events) known to be stored
    scrubbed: int  # events [:scrubbed] hold no credential in memory
    rows: int  # count(*) of this conversation's rows, as last seen
    last_id: int  # max(id) of this conversation's rows, as last seen
    session_start: Optional[float]  # timestamp of the session's SessionStarted (Rasa's filter)
    size: int  # estimated bytes in memory


class TrackerCache:
    """LRU of trackers bounded by their estimated size in memory."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: "OrderedDict[str, _Entry]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, sender_id: str) -> Optional[_Entry]:
        entry = self._entries.get(sender_id)
        if entry is not None:
            self._entries.move_to_end(sender_id)
        return entry

    def put(self, sender_id: str, entry: _Entry) -> None:
        self.drop(sender_id)
        if entry.size > self.max_bytes:
            return
        self._entries[sender_id] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes and self._entries:
            _, old = self._entries.popitem(last=False)
            self.bytes -= old.size

    def grow(self, sender_id: str, entry: _Entry, extra: int) -> None:
        entry.size += extra
        self.bytes += extra
        if self.bytes > self.max_bytes:
            self.put(sender_id, entry)  # re-evaluates the bound, oldest out first

    def drop(self, sender_id: str) -> None:
        old = self._entries.pop(sender_id, None)
        if old is not None:
            self.bytes -= old.size


class PayLaterTrackerStore(SQLTrackerStore):
    """See the module docstring. Extra endpoints.yml key: `cache_mb` (0 turns the cache off)."""

    def __init__(self, *args: Any, cache_mb: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool_sqlite_connections()
        # the per-message statements on the DBAPI connection (bot/adapters/hot_sql.py): the
        # row summary of every retrieve and the rows of every save; the rare paths (a catch-up,
        # a full load, a tracker this process did not hand out) stay Rasa's ORM queries
        # (PAYLATER_TRACKER_HOT_SQL=0: the ORM as before, for comparison)
        table = self.SQLEvent.__table__
        self.hot = HotPath(self.engine) if os.environ.get("PAYLATER_TRACKER_HOT_SQL", "1") != "0" else None
        self._summary_stmt = sa.select(sa.func.count(table.c.id), sa.func.max(table.c.id)).where(
            table.c.sender_id == sa.bindparam("sender_id"))
        self._insert_stmt = insert_stmt(table, "sender_id", "type_name", "timestamp", "intent_name", "action_name",
                                        "data")
        mb = DEFAULT_CACHE_MB if cache_mb is None else float(cache_mb)
        self.cache = TrackerCache(int(mb * 1024 * 1024))
        # counters for tests and bench.profile: how each retrieve was answered
        self.stats = {"hit": 0, "incremental": 0, "full": 0, "none": 0}

    def _pool_sqlite_connections(self) -> None:
        """SQLAlchemy 1.4 gives a SQLite file a NullPool: every retrieve and save opened the
        file, ran the connect PRAGMAs (bot/rasa_server.py: WAL) and closed it again — ~5% of a
        message's time in Rasa (bench.profile --sample). A small pool keeps the connections
        open; transactions, locking and what each one reads are SQLite's as before (several
        processes on one file included). PostgreSQL keeps Rasa's pool."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return
        from sqlalchemy.pool import QueuePool

        old = self.engine
        self.engine = sa.create_engine(url, poolclass=QueuePool, pool_size=2, max_overflow=8,
                                       connect_args={"check_same_thread": False})
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        old.dispose()

    # ------------------------------------------------------------------ reading
    def _none(self, sender_id: Text) -> None:
        """No stored events for this conversation (any more): forget it, count it."""
        self.cache.drop(sender_id)
        self.stats["none"] += 1
        return None

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if self.cache.max_bytes <= 0:
            return await super().retrieve(sender_id)
        entry = self.cache.get(sender_id)
        if self.hot is not None:
            with self.hot.read() as tx:  # count(*), max(id): one indexed query, no ORM
                rows, last_id = tx.row(self._summary_stmt, {"sender_id": sender_id})
        else:
            with self.session_scope() as session:
                rows, last_id = session.execute(self._summary_stmt, {"sender_id": sender_id}).one()
        rows, last_id = int(rows or 0), int(last_id or 0)
        if rows == 0:
            return self._none(sender_id)
        if entry is not None and entry.saved == len(entry.tracker.events) \
                and rows == entry.rows and last_id == entry.last_id:
            self.stats["hit"] += 1
            return self._handed_out(entry)
        with self.session_scope() as session:
            # a miss (rare): the row summary again, in the transaction that reads the rows, so the
            # figures the entry keeps are those of the rows it holds even when another replica
            # appends between the two reads (the hot read above is its own transaction)
            rows, last_id = session.execute(self._summary_stmt, {"sender_id": sender_id}).one()
            rows, last_id = int(rows or 0), int(last_id or 0)
            if rows == 0:
                return self._none(sender_id)
            if entry is not None and entry.saved == len(entry.tracker.events):
                if last_id > entry.last_id and self._catch_up(session, sender_id, entry, rows, last_id):
                    self.stats["incremental"] += 1
                    return self._handed_out(entry)
            self.stats["full"] += 1
            return self._full_load(session, sender_id, rows, last_id)

    @staticmethod
    def _handed_out(entry: _Entry) -> DialogueStateTracker:
        """The cached tracker, its stored events without credentials (earlier turns' tokens)."""
        if entry.scrubbed < entry.saved:
            for event in itertools.islice(entry.tracker.events, entry.scrubbed, entry.saved):
                _scrub_in_place(event)
            entry.scrubbed = entry.saved
        return entry.tracker

    def _catch_up(self, session, sender_id: str, entry: _Entry, rows: int, last_id: int) -> bool:
        """Apply the rows another replica appended; False when they do not add up (then load)."""
        new = (session.query(self.SQLEvent)
               .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > entry.last_id)
               .order_by(self.SQLEvent.id).all())
        if entry.rows + len(new) != rows or not new or new[-1].id != last_id:
            return False
        if any(r.type_name == SessionStarted.type_name for r in new):
            return False  # a new session: load it as Rasa would
        self._handed_out(entry)  # scrub this replica's own stored events first
        size = 0
        for r in new:
            if entry.session_start is not None and r.timestamp is not None and r.timestamp < entry.session_start:
                continue  # Rasa's query leaves out rows stamped before the session start
            entry.tracker.update(Event.from_parameters(json.loads(r.data)))
            size += len(r.data or "")
        entry.saved = entry.scrubbed = len(entry.tracker.events)
        entry.rows, entry.last_id = rows, last_id
        self.cache.grow(sender_id, entry, size * _MEMORY_PER_JSON_BYTE)
        return True

    def _full_load(self, session, sender_id: str, rows: int, last_id: int) -> Optional[DialogueStateTracker]:
        records = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not records:
            self.cache.drop(sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(r.data) for r in records], self.domain.slots)
        starts = [r.timestamp for r in records if r.type_name == SessionStarted.type_name]
        if records[-1].id == last_id:  # nothing was committed between the two queries
            size = sum(len(r.data or "") for r in records) * _MEMORY_PER_JSON_BYTE
            n = len(tracker.events)
            self.cache.put(sender_id, _Entry(tracker, n, n, rows, last_id, starts[-1] if starts else None, size))
        else:
            self.cache.drop(sender_id)
        return tracker

    # ------------------------------------------------------------------ writing
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events (without credentials) and keep it cached."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        entry = self.cache.get(sender_id) if self.cache.max_bytes > 0 else None
        known = entry is not None and entry.tracker is tracker and entry.saved <= len(tracker.events)
        if known:
            new_events = list(itertools.islice(tracker.events, entry.saved, None))
        else:
            with self.session_scope() as session:  # Rasa's count of the stored rows
                new_events = list(self._additional_events(session, tracker))
        rows, size = [], 0
        for event in new_events:
            parsed = event.as_dict()
            data = stored_form(parsed)
            size += len(data)
            rows.append(dict(sender_id=sender_id, type_name=event.type_name, timestamp=parsed.get("timestamp"),
                             intent_name=(parsed.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                             action_name=parsed.get("name"), data=data))
        ids: List[int] = []
        if rows and self.hot is not None:  # one transaction, the rows Rasa's ORM would write (hot_sql.py)
            with self.hot.transaction() as tx:
                ids = [tx.insert(self._insert_stmt, row) for row in rows]
        elif rows:
            with self.session_scope() as session:
                added = [self.SQLEvent(**row) for row in rows]
                session.add_all(added)
                session.flush()
                ids = [row.id for row in added]
                session.commit()
        log.debug("tracker %s: %d new events stored", sender_id, len(new_events))
        if self.cache.max_bytes <= 0:
            return
        if not known or any(isinstance(e, SessionStarted) for e in new_events):
            # a tracker we did not hand out, or a new session: the next retrieve loads it
            self.cache.drop(sender_id)
            return
        entry.saved = len(tracker.events)
        if ids:
            entry.rows += len(ids)
            entry.last_id = max(entry.last_id, *ids)  # an interleaved writer shows as a count mismatch
            self.cache.grow(sender_id, entry, size * _MEMORY_PER_JSON_BYTE)
