"""Checking a buyer on every message without redoing the same work: a verified-token cache and
a cache of who may use a conversation.

Buyer tokens (bot/auth.py) are HS256 JWTs the marketplace mints; verifying one (base64, HMAC,
claims) was a visible part of the gateway's CPU per message, and a buyer sends the same token
with every message. `TokenCache` keeps the identity of a token that verified, keyed by the
SHA-256 of the whole token (header, claims and signature: a token changed in any byte is another
key and is verified from scratch), bounded (LRU). A cached identity is used only while
`exp` (+ bot.auth's 5 s leeway) has not passed: the cache never makes a token live longer than
verification would. Failures are never cached. There is no revocation list for buyer tokens
(they are stateless and live at most 24 h, bot/auth.py); the cache belongs to one app and so to
one `PAYLATER_JWT_SECRET`. Should revocation arrive, `forget(token)` / `clear()` are where it
plugs in.

`ConversationAccess` remembers, per conversation, the two columns that decide who may use it:
`buyer_id` and `access_key_hash`. Neither ever changes after the conversation is created (no
update touches them and conversations are never deleted), so the cache cannot go stale; the
conversation's state is still read afresh, inside the message's own transaction.
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Callable, Dict, Optional, Tuple

from bot.auth import LEEWAY_S, BuyerIdentity, InvalidToken, verify_buyer_token


class TokenCache:
    def __init__(self, secret: Optional[str], max_entries: int = 4096, clock: Callable[[], float] = time.time):
        self.secret = secret
        self.max_entries = max_entries
        self.clock = clock
        self._ids: "OrderedDict[bytes, BuyerIdentity]" = OrderedDict()

    def verify(self, token: Optional[str]) -> BuyerIdentity:
        """As bot.auth.verify_buyer_token (raises InvalidToken), cached while the token is live."""
        if not token or not isinstance(token, str) or len(token) > 4096:
            raise InvalidToken("no token")
        key = hashlib.sha256(token.encode()).digest()
        ident = self._ids.get(key)
        if ident is not None:
            self._ids.move_to_end(key)
            if ident.expires_at > self.clock() - LEEWAY_S:  # as PyJWT: exp <= now - leeway is expired
                return ident
            raise InvalidToken("expired")  # kept: refused again at no cost until it ages out
        ident = verify_buyer_token(token, self.secret)
        self._ids[key] = ident
        if len(self._ids) > self.max_entries:
            self._ids.popitem(last=False)
        return ident

    def forget(self, token: str) -> None:
        self._ids.pop(hashlib.sha256(token.encode()).digest(), None)

    def clear(self) -> None:
        self._ids.clear()

    def __len__(self) -> int:
        return len(self._ids)


class ConversationAccess:
    """conversation id -> (buyer_id, access_key_hash), the immutable columns of access; LRU."""

    def __init__(self, max_entries: int = 20000):
        self.max_entries = max_entries
        self._rows: "OrderedDict[str, Tuple[Optional[str], Optional[str]]]" = OrderedDict()

    def get(self, cid: str) -> Optional[Tuple[Optional[str], Optional[str]]]:
        row = self._rows.get(cid)
        if row is not None:
            self._rows.move_to_end(cid)
        return row

    def remember(self, conv: Dict) -> None:
        self._rows[conv["id"]] = (conv["buyer_id"], conv["access_key_hash"])
        self._rows.move_to_end(conv["id"])
        if len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)
