"""Console passwords: scrypt at OWASP's parameters, older hashes rehashed at sign-in, Secure
cookies by default outside demo mode."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from gw_helpers import AGENT_PASSWORD, login

from bot.config import Settings
from bot.gateway.db import Store, agents, make_engine
from bot.gateway.security import hash_password, needs_rehash, verify_password
from bot.gateway.settings import GatewaySettings


def test_new_hashes_use_owasp_scrypt_parameters():
    stored = hash_password("a-long-enough-password")
    scheme, n, r, p, _salt, _dk = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert verify_password("a-long-enough-password", stored) and not needs_rehash(stored)
    assert not verify_password("a-long-enough-passwore", stored)


async def test_an_older_hash_signs_in_and_is_rehashed(make_gateway, db_url):
    engine = make_engine(db_url)
    old = hash_password(AGENT_PASSWORD, n=2**14)  # what the console stored before
    assert needs_rehash(old)
    with engine.begin() as c:
        c.execute(sa.update(agents).where(agents.c.username == "alice").values(password_hash=old))
    gateway = await make_gateway()
    await login(gateway, "alice", AGENT_PASSWORD)
    now = Store(engine).get_agent("alice")["password_hash"]
    engine.dispose()
    assert now != old and now.startswith("scrypt$131072$8$1$") and verify_password(AGENT_PASSWORD, now)
    await login(gateway, "alice", AGENT_PASSWORD)  # and it still signs in


@pytest.mark.parametrize("demo, env, secure", [(False, None, True), (True, None, False), (False, "0", False),
                                               (True, "1", True)])
def test_cookie_secure_by_default_outside_demo_mode(monkeypatch, demo, env, secure):
    if env is None:
        monkeypatch.delenv("PAYLATER_COOKIE_SECURE", raising=False)
    else:
        monkeypatch.setenv("PAYLATER_COOKIE_SECURE", env)
    gw = GatewaySettings.from_env(Settings(database_url="sqlite://", demo_mode=demo))
    assert gw.cookie_secure is secure
