import jwt
import pytest

from bot.auth import InvalidToken, buyer_from_token, mint_buyer_token, verify_buyer_token

SECRET = "test-secret-that-is-at-least-32-bytes-long"


def test_valid_token_gives_the_buyer():
    assert verify_buyer_token(mint_buyer_token("buyer-001", SECRET), SECRET).buyer_id == "buyer-001"


@pytest.mark.parametrize("token", [None, "", "not.a.jwt", "x" * 5000, 42])
def test_missing_or_garbage_tokens_are_rejected(token):
    assert buyer_from_token(token, SECRET) is None


def test_wrong_secret_is_rejected():
    assert buyer_from_token(mint_buyer_token("buyer-001", "another-secret-also-32-bytes-long!!"), SECRET) is None


def test_expired_token_is_rejected_after_leeway():
    token = mint_buyer_token("buyer-001", SECRET, ttl_s=-120)
    with pytest.raises(InvalidToken, match="expired"):
        verify_buyer_token(token, SECRET)


def test_alg_none_is_rejected():
    token = jwt.encode({"sub": "buyer-001", "iat": 1, "exp": 9999999999}, None, algorithm="none")
    assert buyer_from_token(token, SECRET) is None


def test_claims_are_required():
    token = jwt.encode({"sub": "buyer-001"}, SECRET, algorithm="HS256")
    assert buyer_from_token(token, SECRET) is None


def test_empty_subject_is_rejected():
    token = jwt.encode({"sub": " ", "iat": 1, "exp": 9999999999}, SECRET, algorithm="HS256")
    assert buyer_from_token(token, SECRET) is None


def test_no_secret_configured_means_nobody_is_signed_in():
    assert buyer_from_token(mint_buyer_token("buyer-001", SECRET), None) is None
