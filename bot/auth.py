"""Buyer identity: HS256 JWTs minted by the marketplace (claims `sub`, `iat`, `exp`).

Shared by the gateway (verifies before forwarding) and the actions (verify again on every
call). A missing, malformed, forged or expired token is simply "not signed in".
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import jwt

ALGORITHM = "HS256"
# Clock skew allowed between the marketplace and us (on `exp` and `iat`).
LEEWAY_S = 5
# Tokens may live at most this long (`exp` - `iat`): a leaked long-lived token is refused.
MAX_LIFETIME_S = 24 * 3600


@dataclass(frozen=True)
class BuyerIdentity:
    buyer_id: str
    expires_at: int


class InvalidToken(Exception):
    """Why a token was rejected (for logs, never shown to the buyer verbatim)."""


def mint_buyer_token(buyer_id: str, secret: str, ttl_s: int = 3600, now: Optional[int] = None) -> str:
    issued = int(time.time() if now is None else now)
    return jwt.encode({"sub": buyer_id, "iat": issued, "exp": issued + ttl_s}, secret, algorithm=ALGORITHM)


def verify_buyer_token(token: Optional[str], secret: Optional[str]) -> BuyerIdentity:
    """Return the verified identity or raise InvalidToken."""
    if not secret:
        raise InvalidToken("PAYLATER_JWT_SECRET is not set: no buyer token can be verified")
    if not token or not isinstance(token, str) or len(token) > 4096:
        raise InvalidToken("no token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # never trust the header's alg ("none", RS/HS confusion)
            options={"require": ["sub", "exp", "iat"]},
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid: {exc}") from exc
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, (int, float)) or isinstance(iat, bool) or exp - iat > MAX_LIFETIME_S:
        raise InvalidToken("lifetime longer than 24 h")
    if iat > time.time() + LEEWAY_S:
        raise InvalidToken("issued in the future")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise InvalidToken("empty subject")
    return BuyerIdentity(buyer_id=sub, expires_at=int(claims["exp"]))


def buyer_from_token(token: Optional[str], secret: Optional[str]) -> Optional[BuyerIdentity]:
    """The identity, or None when the buyer is not (validly) signed in."""
    try:
        return verify_buyer_token(token, secret)
    except InvalidToken:
        return None
