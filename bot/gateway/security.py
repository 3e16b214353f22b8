"""Passwords (hashlib.scrypt + per-password salt), session/CSRF tokens, rate limiting."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

# scrypt cost: n=2**14, r=8, p=1 uses 16 MiB and ~50 ms: fine for a sign-in form.
SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN = 2**14, 8, 1, 32
MIN_PASSWORD_LEN = 10


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=DKLEN, maxmem=64 * 1024 * 1024)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(dk)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, dk = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(_unb64(dk)), maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(dk))


# A hash of a random password: verifying against it for unknown usernames keeps the timing equal.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16), n=SCRYPT_N)


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
