"""Chat gateway (port 8080): website widget, app API (REST + WebSocket), agent console,
handoff routing. `python -m bot.gateway [--port 8080]`; see docs/GATEWAY.md."""
from __future__ import annotations


def create_app(*args, **kwargs):
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
