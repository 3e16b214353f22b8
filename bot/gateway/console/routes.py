"""The agent workspace's HTTP API under /console/api/ (sign-in, CSRF and role checks in
`agent_required`; every rule in WorkspaceService)."""
from __future__ import annotations

import asyncio
from typing import Optional

from aiohttp import web

from bot.adapters.backend_client import make_backend

from ..common import GW, SERVICE, SETTINGS, STORE, ApiError, read_json, validate_text
from ..db import AsyncStore
from ..reads import BUYER, READS, agent_reader, read_up_to
from ..service import console_view
from .context import BuyerContextReader
from .service import WorkspaceService
from .session import agent_required, conv_or_404
from .store import WorkspaceStore

WORKSPACE = web.AppKey("workspace", WorkspaceService)
CONTEXT = web.AppKey("buyer_context", BuyerContextReader)


def _ws(request: web.Request) -> WorkspaceService:
    return request.app[WORKSPACE]


def _canned_id(request: web.Request) -> int:
    raw = request.match_info["rid"]
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError(404, "not_found", "No such canned reply (the bot's FAQ answers cannot be changed here).")
    return int(raw)


# ---------------------------------------------------------------------------- conversations
@agent_required(state_changing=False)
async def get_conversation(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    msgs, notes, buyer_read = await asyncio.gather(request.app[STORE].history(conv["id"], 0, 2000),
                                                   _ws(request).notes(conv["id"]),
                                                   request.app[READS].last_read(conv["id"], BUYER))
    # one buyer's web and app chats are linked: their other open conversations (verified buyer id only)
    linked = await _ws(request).store.open_for_buyer(conv["buyer_id"], conv["id"]) if conv["buyer_id"] else []
    return web.json_response({"conversation": console_view(conv), "messages": msgs,
                              "notes": [n.to_json() for n in notes], "buyer_last_read_id": buyer_read,
                              "linked": [console_view(c) for c in linked]})


@agent_required(state_changing=True)
async def mark_read(request: web.Request, agent) -> web.Response:
    """This agent has seen the conversation up to `up_to` (their unread count survives a reload)."""
    conv = await conv_or_404(request)
    up_to = read_up_to(await read_json(request))
    if up_to is None:
        raise ApiError(400, "invalid_up_to", "Send {\"up_to\": <message id>}: the last message you have seen.")
    mark = await request.app[READS].mark(conv["id"], agent_reader(agent["username"]), up_to)
    return web.json_response({"last_read_id": mark})


@agent_required(state_changing=False)
async def buyer_context(request: web.Request, agent) -> web.Response:
    """Live from the backend, for the verified buyer of this conversation only."""
    conv = await conv_or_404(request)
    if not conv["buyer_id"]:
        return web.json_response({"context": None, "message": "The buyer is not signed in: there is no account to show."})
    ctx = await request.app[CONTEXT].read(conv["buyer_id"])
    return web.json_response({"context": ctx.to_json()})


@agent_required(state_changing=True)
async def transfer(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    body = await read_json(request)
    conv = await _ws(request).transfer(conv["id"], agent, body.get("to"))
    return web.json_response({"conversation": console_view(conv)})


@agent_required(state_changing=True)
async def release(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    conv = await _ws(request).release(conv["id"], agent)
    return web.json_response({"conversation": console_view(conv)})


@agent_required(state_changing=False)
async def list_notes(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    return web.json_response({"notes": [n.to_json() for n in await _ws(request).notes(conv["id"])]})


@agent_required(state_changing=True)
async def add_note(request: web.Request, agent) -> web.Response:
    conv = await conv_or_404(request)
    text = validate_text((await read_json(request)).get("text"), request.app[GW].max_message_chars)
    note = await _ws(request).add_note(conv["id"], agent, text)
    return web.json_response({"note": note.to_json()}, status=201)


# ---------------------------------------------------------------------------- search
@agent_required(state_changing=False)
async def search(request: web.Request, agent) -> web.Response:
    q = request.query
    hits = await _ws(request).search(q.get("q", ""), q.get("from"), q.get("to"))
    return web.json_response({"results": [{"conversation": console_view(h.conversation), "matched": h.matched,
                                           "snippet": h.snippet} for h in hits]})


# ---------------------------------------------------------------------------- canned replies
@agent_required(state_changing=False)
async def list_canned(request: web.Request, agent) -> web.Response:
    q = request.query.get("q", "")[:100]
    cid: Optional[str] = request.query.get("conversation")
    conv = None
    if cid:
        conv = await request.app[STORE].get_conversation(cid) if len(cid) <= 64 else None
        if conv is None:
            raise ApiError(404, "not_found", "No such conversation.")
    return web.json_response({"replies": await _ws(request).canned(q, conv, agent)})


@agent_required(state_changing=True, supervisor=True)
async def create_canned(request: web.Request, agent) -> web.Response:
    saved = await _ws(request).save_canned(None, agent, await read_json(request))
    return web.json_response({"reply": saved.to_json()}, status=201)


@agent_required(state_changing=True, supervisor=True)
async def update_canned(request: web.Request, agent) -> web.Response:
    rid = _canned_id(request)
    saved = await _ws(request).save_canned(rid, agent, await read_json(request))
    return web.json_response({"reply": saved.to_json()})


@agent_required(state_changing=True, supervisor=True)
async def delete_canned(request: web.Request, agent) -> web.Response:
    if not await _ws(request).store.delete_canned(_canned_id(request)):
        raise ApiError(404, "not_found", "No such canned reply.")
    return web.json_response({"deleted": True})


# ---------------------------------------------------------------------------- the team
@agent_required(state_changing=False)
async def list_team(request: web.Request, agent) -> web.Response:
    """Every agent sees who is signed in (to pass a chat on); supervisors manage them."""
    return web.json_response({"agents": [m.to_json() for m in await _ws(request).team()]})


@agent_required(state_changing=True)
async def set_status(request: web.Request, agent) -> web.Response:
    """Available or away (an away agent gets no transfers and does not count as "an agent will join")."""
    member = await _ws(request).set_status(agent, (await read_json(request)).get("status"))
    return web.json_response({"agent": member.to_json()})


@agent_required(state_changing=True, supervisor=True)
async def add_agent(request: web.Request, agent) -> web.Response:
    body = await read_json(request)
    member = await _ws(request).add_agent(body.get("username"), body.get("display_name"), body.get("password"),
                                          body.get("role"))
    return web.json_response({"agent": member.to_json()}, status=201)


@agent_required(state_changing=True, supervisor=True)
async def update_agent(request: web.Request, agent) -> web.Response:
    member = await _ws(request).update_agent(agent, request.match_info["username"][:64], await read_json(request))
    return web.json_response({"agent": member.to_json()})


async def _workspace(app: web.Application):
    store = app[STORE]
    app[WORKSPACE] = WorkspaceService(AsyncStore(WorkspaceStore(store.sync.engine)), app[SERVICE], app[GW])
    backend = make_backend(app[SETTINGS])  # the same port and adapters the bot's actions use
    app[CONTEXT] = BuyerContextReader(backend, app[SETTINGS].backend_timeout_s)
    yield
    await backend.close()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_workspace)  # after the gateway's resources (STORE, SERVICE)
    r = app.router
    base = "/console/api/conversations/{cid}"
    r.add_get(base, get_conversation)
    r.add_get(base + "/context", buyer_context)
    r.add_post(base + "/read", mark_read)
    r.add_post(base + "/transfer", transfer)
    r.add_post(base + "/release", release)
    r.add_get(base + "/notes", list_notes)
    r.add_post(base + "/notes", add_note)
    r.add_get("/console/api/search", search)
    r.add_get("/console/api/canned-replies", list_canned)
    r.add_post("/console/api/canned-replies", create_canned)
    r.add_put("/console/api/canned-replies/{rid}", update_canned)
    r.add_delete("/console/api/canned-replies/{rid}", delete_canned)
    r.add_post("/console/api/me/status", set_status)
    r.add_get("/console/api/agents", list_team)
    r.add_post("/console/api/agents", add_agent)
    r.add_patch("/console/api/agents/{username}", update_agent)
