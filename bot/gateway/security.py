"""Passwords (hashlib.scrypt + per-password salt), session/CSRF tokens, rate limiting."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

# scrypt cost: OWASP's Password Storage Cheat Sheet (2024): N=2**17, r=8, p=1. That needs
# 128 * N * r = 128 MiB per hash (hashlib's default maxmem of 32 MiB refuses it, so MAXMEM is
# raised) and ~0.7 s of one core here: the console's PASSWORD_CHECKS semaphore keeps sign-ins to
# two at a time. Hashes made with weaker parameters (N=2**14 before) still verify, and sign-in
# rehashes them (`needs_rehash`).
SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN = 2**17, 8, 1, 32
MAXMEM = 256 * 1024 * 1024
MIN_PASSWORD_LEN = 10


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=DKLEN, maxmem=MAXMEM)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(dk)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, dk = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(_unb64(dk)), maxmem=MAXMEM)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(dk))


def needs_rehash(stored: str) -> bool:
    """True for a hash made with other parameters than today's (an older, cheaper scrypt): the
    sign-in that just verified the password stores a new hash."""
    try:
        scheme, n, r, p, _salt, dk = stored.split("$")
        return (scheme, int(n), int(r), int(p), len(_unb64(dk))) != ("scrypt", SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN)
    except (ValueError, TypeError):
        return True


@functools.lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password at today's cost: verifying against it for unknown usernames
    keeps the timing equal. Made on first use, not at import (it takes ~0.7 s)."""
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: Optional[str], b: Optional[str]) -> bool:
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token bucket per key: `capacity` messages, refilled evenly over `window_s` seconds."""

    def __init__(self, capacity: int, window_s: float, clock=time.monotonic):
        self.capacity = capacity
        self.rate = capacity / window_s
        self.clock = clock
        self._buckets: Dict[str, _Bucket] = {}

    def take(self, key: str) -> Tuple[bool, float]:
        """(allowed, seconds to wait before the next message is allowed)."""
        now = self.clock()
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(self.capacity, now)
        b.tokens = min(self.capacity, b.tokens + (now - b.updated) * self.rate)
        b.updated = now
        if b.tokens >= 1:
            b.tokens -= 1
            return True, 0.0
        return False, (1 - b.tokens) / self.rate

    def peek(self, key: str) -> Tuple[bool, float]:
        """Would `take` allow one now? (nothing is taken)"""
        now = self.clock()
        b = self._buckets.get(key)
        if b is None:
            return True, 0.0
        tokens = min(self.capacity, b.tokens + (now - b.updated) * self.rate)
        return (True, 0.0) if tokens >= 1 else (False, (1 - tokens) / self.rate)

    def purge(self, idle_s: float = 3600) -> None:
        now = self.clock()
        for k in [k for k, b in self._buckets.items() if now - b.updated > idle_s]:
            del self._buckets[k]
