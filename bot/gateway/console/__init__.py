"""The agent console: sign-in and the live queue (`session`), and the agent workspace
(`routes` -> `service` -> `store`): pass a chat on, private notes, canned replies, the team."""
from __future__ import annotations

from aiohttp import web

from . import routes, session
from .session import agent_required, current_agent  # noqa: F401


def setup(app: web.Application) -> None:
    session.setup(app)
    routes.setup(app)
