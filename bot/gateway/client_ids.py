"""Client message ids: a retry of a buyer message is the same message, never a second one.

The widget and the app send `client_message_id` (8-64 of A-Z a-z 0-9 _ -, a UUID fits) with
each buyer message, over REST or the WebSocket. The first time an id is seen in a
conversation the gateway claims it (a row in `gateway_client_messages`, primary key
(conversation, id): the database's unique constraint decides between two gateways) in the same
transaction that stores the buyer's message, and runs it as usual (Rasa, or the agents). The
transaction that stores the answer's last messages records the ids of every message the answer
produced (`TurnClaim` in service.py: no transaction of its own). A retry with the same id:

- after the first finished: gets the same messages back; Rasa is not asked again;
- while the first is still running in this gateway: waits for it and gets its messages;
- while another gateway runs it: polls until that one finishes;
- after the gateway that had it died (kill -9, its claim older than `stale_after_s`, or it
  failed with an exception here): if the buyer's message was never stored, the claim is
  dropped and the message runs now; if it was stored (Rasa may have run), the buyer gets the
  "assistant unavailable" apology with the "Talk to a person" button instead of a second run.

The same id with another text is a 409 (`client_message_id_reused`). Messages without an id
(older clients) go straight to `ConversationService.buyer_message` as before.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.sensitive import redact

from .db import AsyncStore, messages, metadata, utcnow, write_tx, _msg_row
from bot.adapters.hot_sql import insert_stmt
from .service import APOLOGY, GATEWAY_HANDOFF_PAYLOAD, ConversationError, ConversationService, Turn

log = logging.getLogger(__name__)

CLIENT_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

client_messages = sa.Table(
    "gateway_client_messages",
    metadata,
    sa.Column("conversation_id", sa.String(64), sa.ForeignKey("gateway_conversations.id"), primary_key=True),
    sa.Column("client_message_id", sa.String(64), primary_key=True),
    # sha256 of the redacted text and the payload: "same id, other text" is a 409
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("message_id", sa.Integer, nullable=True),  # the buyer's stored message (None: not stored yet)
    sa.Column("reply_ids", sa.Text, nullable=True),  # JSON list of every message id the answer stored; None: running
    sa.Column("owner", sa.String(32), nullable=False),  # the gateway process running it ("" when it failed)
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
TABLES = (client_messages,)


def check_client_message_id(value: Any) -> Optional[str]:
    """None (no id: an older client) or a valid id; anything else is a ConversationError 400."""
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_MESSAGE_ID.match(value):
        raise ConversationError(400, "invalid_client_message_id",
                                "`client_message_id` must be 8-64 letters, digits, '-' or '_' (a UUID fits).")
    return value


def digest(text: str, payload: Optional[str]) -> str:
    return _digest(redact(text)[0], payload)  # never a hash of a card number


def _digest(shown: str, payload: Optional[str]) -> str:
    """`digest` of text already redacted."""
    return hashlib.sha256(json.dumps([shown, payload or ""]).encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    digest: str
    message_id: Optional[int]
    reply_ids: Optional[List[int]]
    owner: str
    updated_at: dt.datetime


def _claim(row) -> Claim:
    return Claim(row.digest, row.message_id, json.loads(row.reply_ids) if row.reply_ids is not None else None,
                 row.owner, row.updated_at)


def _reused() -> ConversationError:
    return ConversationError(409, "client_message_id_reused", "This message id was already used for a different "
                             "message. Send a new message with a new id.")


class ClaimTaken(Exception):
    """The id was claimed first (by another attempt); nothing of this attempt was stored."""


_CLAIM_WHERE = (client_messages.c.conversation_id == sa.bindparam("cid")) & (
    client_messages.c.client_message_id == sa.bindparam("cmid"))
_INSERT_CLAIM = insert_stmt(client_messages, "conversation_id", "client_message_id", "digest", "message_id", "owner",
                            "created_at", "updated_at")
_FINISH_CLAIM = sa.update(client_messages).where(_CLAIM_WHERE, client_messages.c.owner == sa.bindparam("if_owner")).values(
    reply_ids=sa.bindparam("reply_ids"), updated_at=sa.bindparam("now"))


class ClaimInTurn:
    """The claim of one attempt, written inside the turn's transactions (service.TurnClaim)."""

    def __init__(self, cid: str, cmid: str, dig: str, owner: str):
        self.cid, self.cmid, self.digest, self.owner = cid, cmid, dig, owner

    def stored(self, tx, message_id: int) -> None:
        now = utcnow()
        try:
            tx.execute(_INSERT_CLAIM, dict(conversation_id=self.cid, client_message_id=self.cmid, digest=self.digest,
                                           message_id=message_id, owner=self.owner, created_at=now, updated_at=now))
        except sa.exc.IntegrityError:  # the whole transaction rolls back: the buyer's message too
            raise ClaimTaken() from None

    def done(self, tx, message_ids: List[int]) -> None:
        tx.execute(_FINISH_CLAIM, {"cid": self.cid, "cmid": self.cmid, "if_owner": self.owner,
                                   "reply_ids": json.dumps(message_ids), "now": utcnow()})


class ClientIdStore:
    """Synchronous queries on `gateway_client_messages` (run through `AsyncStore`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, cid: str, cmid: str) -> Optional[Claim]:
        with self.engine.connect() as c:
            row = c.execute(sa.select(client_messages).where(
                client_messages.c.conversation_id == cid, client_messages.c.client_message_id == cmid)).first()
        return _claim(row) if row else None

    def _update(self, cid: str, cmid: str, if_owner: str, **values: Any) -> bool:
        cond = [client_messages.c.conversation_id == cid, client_messages.c.client_message_id == cmid,
                client_messages.c.owner == if_owner]
        with write_tx(self.engine) as c:
            return c.execute(sa.update(client_messages).where(*cond)
                             .values(updated_at=utcnow(), **values)).rowcount == 1

    def done(self, cid: str, cmid: str, owner: str, reply_ids: List[int]) -> bool:
        return self._update(cid, cmid, owner, reply_ids=json.dumps(reply_ids))

    def abandon(self, cid: str, cmid: str, owner: str) -> bool:
        return self._update(cid, cmid, owner, owner="")

    def take_over(self, cid: str, cmid: str, old_owner: str, new_owner: str) -> bool:
        """Only one gateway recovers a dead claim: compare-and-swap on the owner."""
        return self._update(cid, cmid, old_owner, owner=new_owner)

    def drop(self, cid: str, cmid: str, owner: str) -> bool:
        with write_tx(self.engine) as c:
            return c.execute(sa.delete(client_messages).where(
                client_messages.c.conversation_id == cid, client_messages.c.client_message_id == cmid,
                client_messages.c.owner == owner, client_messages.c.message_id.is_(None))).rowcount == 1

    def messages(self, cid: str, ids: List[int]) -> List[Dict[str, Any]]:
        if not ids:
            return []
        with self.engine.connect() as c:
            rows = c.execute(sa.select(messages).where(messages.c.conversation_id == cid, messages.c.id.in_(ids))
                             .order_by(messages.c.id.asc())).all()
        return [_msg_row(r) for r in rows]


class IdempotentMessages:
    """`send(...)`: a buyer message with an optional client id, run at most once."""

    def __init__(self, store: AsyncStore, service: ConversationService, stale_after_s: float,
                 poll_s: float = 0.1):
        self.store = store
        self.svc = service
        self.stale_after_s = stale_after_s
        self.poll_s = poll_s
        self.owner = uuid.uuid4().hex  # this gateway process
        # (conversation, client id) -> (digest, future of its Turn): attempts running in this gateway
        self._inflight: Dict[Tuple[str, str], Tuple[str, asyncio.Future]] = {}

    async def send(self, cid: str, text: str, payload: Optional[str], auth_token: Optional[str],
                   client_message_id: Optional[str]) -> Turn:
        cmid = check_client_message_id(client_message_id)
        redacted = redact(text)  # once: the stored text, what Rasa gets and the digest
        if cmid is None:
            return await self.svc.buyer_message(cid, text, payload, auth_token, redacted=redacted)
        dig = _digest(redacted[0], payload)
        while True:
            running = self._inflight.get((cid, cmid))
            if running is not None:  # the first attempt runs in this gateway: its answer is ours
                if running[0] != dig:
                    raise _reused()
                outcome = (await asyncio.gather(running[1], return_exceptions=True))[0]
                if not isinstance(outcome, BaseException):
                    return outcome
            else:  # the usual case: claim it with the buyer's message and run it
                try:
                    return await self._run(cid, cmid, dig, text, payload, auth_token, redacted)
                except ClaimTaken:
                    pass
            existing = await self.store.get(cid, cmid)
            if existing is None:
                continue  # dropped meanwhile (its message was never stored): claim it again
            if existing.digest != dig:
                raise _reused()
            result = await self._wait(cid, cmid, existing)
            if result is not None:
                return Turn(await self.svc.store.get_conversation(cid), result, claim_done=True)
            # the claim was dropped (its message was never stored): claim it again

    async def _run(self, cid, cmid, dig, text, payload, auth_token, redacted) -> Turn:
        key = (cid, cmid)
        fut = asyncio.get_running_loop().create_future()
        self._inflight[key] = (dig, fut)
        try:
            turn = await self.svc.buyer_message(cid, text, payload, auth_token,
                                                claim=ClaimInTurn(cid, cmid, dig, self.owner), redacted=redacted)
            fut.set_result(turn)
            return turn
        except ClaimTaken:  # another attempt has it; nothing of ours was stored
            fut.set_exception(ClaimTaken())
            fut.exception()
            raise
        except BaseException as exc:
            fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            fut.exception()  # retrieved: no "never retrieved" warning when nobody waits
            try:
                await self.store.abandon(cid, cmid, self.owner)  # a retry recovers at once
            except Exception:
                log.exception("could not mark client message %s of %s failed; it recovers when stale", cmid, cid)
            raise
        finally:
            self._inflight.pop(key, None)

    async def _wait(self, cid: str, cmid: str, claim: Optional[Claim]) -> Optional[List[Dict[str, Any]]]:
        """The first attempt's messages, once it has finished (or been recovered); None when
        the claim was dropped and the caller should run the message itself."""
        while True:
            if claim is None:
                return None
            if claim.reply_ids is not None:
                return await self.store.messages(cid, claim.reply_ids)
            running = self._inflight.get((cid, cmid))
            if running is not None:  # running here: wait for it (its failure is recovered below)
                outcome = (await asyncio.gather(running[1], return_exceptions=True))[0]
                if not isinstance(outcome, BaseException):
                    return outcome.messages
            elif claim.owner == "" or (utcnow() - claim.updated_at).total_seconds() > self.stale_after_s:
                recovered = await self._recover(cid, cmid, claim)
                if recovered is not False:
                    return recovered
            else:
                await asyncio.sleep(self.poll_s)  # another gateway is running it
            claim = await self.store.get(cid, cmid)

    async def _recover(self, cid: str, cmid: str, claim: Claim):
        """The attempt that had the claim is gone. Returns the messages, None (claim dropped:
        run it again) or False (another gateway recovered it first: look again)."""
        if not await self.store.take_over(cid, cmid, claim.owner, self.owner):
            return False
        if claim.message_id is None:  # never stored, so Rasa never saw it: run it as new
            await self.store.drop(cid, cmid, self.owner)
            return None
        log.warning("client message %s of %s: the attempt that stored it is gone; answering with the apology",
                    cmid, cid)
        out = await self.store.messages(cid, [claim.message_id])
        async with self.svc.lock(cid):
            conv = await self.svc.store.get_conversation(cid)
            if conv is not None and conv["state"] == "bot":  # with people, the agents have it already
                out.append(await self.svc._message(cid, "bot", APOLOGY,
                                                   [{"title": "Talk to a person", "payload": GATEWAY_HANDOFF_PAYLOAD}],
                                                   kind="bot_unavailable"))
        await self.store.done(cid, cmid, self.owner, [m["id"] for m in out])
        return out


CLIENT_IDS = web.AppKey("client_ids", IdempotentMessages)


def setup(app: web.Application, store_key, service_key, gw_key) -> None:
    async def _client_ids(app: web.Application):
        gw = app[gw_key]
        # a claim older than this is an attempt that died with its gateway (Rasa's timeout, the
        # tracker calls and a margin)
        stale = max(15.0, 2 * gw.rasa_timeout_s + 5)
        app[CLIENT_IDS] = IdempotentMessages(AsyncStore(ClientIdStore(app[store_key].sync.engine)),
                                             app[service_key], stale)
        yield

    app.cleanup_ctx.append(_client_ids)  # after the gateway's resources (STORE, SERVICE)
