"""One buyer's web and app conversations are linked in the console: opening one lists the
buyer's other open conversation (verified buyer id only; closed ones and other buyers' are not)."""
from __future__ import annotations

from gw_helpers import login, new_conversation, say
from test_workspace_api import post


async def test_the_console_links_the_buyer_s_web_and_app_chats(gateway):
    web, hw = await new_conversation(gateway, "buyer-001", "web")
    app, ha = await new_conversation(gateway, "buyer-001", "app")
    await say(gateway, web, hw, "talk to a person")
    await say(gateway, app, ha, "how do I repay early?")
    other, _ = await new_conversation(gateway, "buyer-002", "app")
    csrf = await login(gateway)
    detail = await (await gateway.get(f"/console/api/conversations/{web['id']}")).json()
    assert [(c["id"], c["client"], c["state"]) for c in detail["linked"]] == [(app["id"], "app", "bot")]
    back = await (await gateway.get(f"/console/api/conversations/{app['id']}")).json()
    assert [c["id"] for c in back["linked"]] == [web["id"]]
    assert other["id"] not in [c["id"] for c in back["linked"]]
    # once the web chat is closed it is no longer "open beside" the app one (search still finds it)
    assert (await post(gateway, csrf, f"/console/api/conversations/{web['id']}/claim")).status == 200
    assert (await post(gateway, csrf, f"/console/api/conversations/{web['id']}/close", json={})).status == 200
    back = await (await gateway.get(f"/console/api/conversations/{app['id']}")).json()
    assert back["linked"] == []


async def test_anonymous_visitors_are_never_linked(gateway):
    anon, h = await new_conversation(gateway, None)
    await new_conversation(gateway, None, "app")
    await login(gateway)
    detail = await (await gateway.get(f"/console/api/conversations/{anon['id']}")).json()
    assert detail["linked"] == []


async def test_linked_chats_need_a_signed_in_agent(gateway):
    web, _ = await new_conversation(gateway, "buyer-001", "web")
    assert (await gateway.get(f"/console/api/conversations/{web['id']}")).status == 401
