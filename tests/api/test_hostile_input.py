"""Issue 17, finding 5: hostile input to the backend API is a clear 400 in the API's error
shape {"error": {"code", "message"}}, never a text/plain 500."""
import pytest

from tests.api.conftest import AUTH

NESTED = "[" * 8000 + "]" * 8000


@pytest.mark.parametrize("body", [
    NESTED,
    '{"amount": ' + "[" * 100 + "]" * 100 + "}",
    '{"a": ' * 40 + "1" + "}" * 40,
], ids=["16KB-of-brackets", "deep-amount", "deep-objects"])
@pytest.mark.parametrize("path", ["/v1/buyers/buyer-001/quotes", "/v1/buyers/buyer-001/applications"])
async def test_deeply_nested_json_is_400(client, path, body):
    r = await client.post(path, data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status == 400
    assert r.content_type == "application/json"
    err = (await r.json())["error"]
    assert err["code"] == "too_deeply_nested" and err["message"]


async def test_not_utf8_is_400(client):
    r = await client.post("/v1/buyers/buyer-001/quotes", data=b'{"amount": "\xff\xfe"}',
                          headers={**AUTH, "Content-Type": "application/json; charset=utf-8"})
    assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_json"


async def test_too_large_is_413_in_the_error_shape(client):
    r = await client.post("/v1/buyers/buyer-001/quotes", data="[" + "1," * 20000 + "1]", headers=AUTH)
    assert r.status == 413
    assert (await r.json())["error"]["code"]


async def test_moderate_nesting_is_still_parsed(client):
    r = await client.post("/v1/buyers/buyer-001/quotes", json={"amount": "100", "x": [[[1]]]}, headers=AUTH)
    assert r.status != 500
