"""Issue 17, finding 8: buyer tokens were accepted 30 s past `exp`, with no cap on lifetime."""
import time

import jwt
import pytest

from bot.auth import LEEWAY_S, MAX_LIFETIME_S, InvalidToken, mint_buyer_token, verify_buyer_token

SECRET = "token-lifetime-test-secret-0123456789abcdef"


def test_a_day_is_the_longest_lifetime_accepted():
    assert verify_buyer_token(mint_buyer_token("b1", SECRET, ttl_s=MAX_LIFETIME_S), SECRET).buyer_id == "b1"
    with pytest.raises(InvalidToken):
        verify_buyer_token(mint_buyer_token("b1", SECRET, ttl_s=MAX_LIFETIME_S + 1), SECRET)
    with pytest.raises(InvalidToken):
        verify_buyer_token(mint_buyer_token("b1", SECRET, ttl_s=365 * 24 * 3600), SECRET)


def test_leeway_is_a_few_seconds_not_thirty():
    assert LEEWAY_S <= 5
    now = int(time.time())
    with pytest.raises(InvalidToken, match="expired"):
        verify_buyer_token(mint_buyer_token("b1", SECRET, ttl_s=60, now=now - 60 - 20), SECRET)


def test_tokens_issued_in_the_future_are_refused():
    now = int(time.time())
    future = jwt.encode({"sub": "b1", "iat": now + 3600, "exp": now + 7200}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_buyer_token(future, SECRET)


def test_iat_is_required():
    now = int(time.time())
    no_iat = jwt.encode({"sub": "b1", "exp": now + 60}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_buyer_token(no_iat, SECRET)
