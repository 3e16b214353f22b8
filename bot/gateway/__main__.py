"""`python -m bot.gateway [--host 127.0.0.1] [--port 8080]` (host default: PAYLATER_LISTEN_HOST)."""
from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from bot.config import Settings
from bot.logging_setup import configure
from bot.startup_checks import check_or_exit, demo_agent_still_open, listen_host

from .app import create_app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway")
    parser.add_argument("--host", default=os.environ.get("PAYLATER_GATEWAY_HOST") or listen_host())
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    args = parser.parse_args(argv)
    check_or_exit("gateway")
    configure("gateway")
    settings = Settings.from_env()
    from .settings import GatewaySettings

    gw = GatewaySettings.from_env(settings)
    if settings.demo_mode:
        from .demo import load_demo_agent

        load_demo_agent(gw.database_url, gw.schema)
    elif demo_agent_still_open(gw.database_url):
        logging.getLogger(__name__).error("demo agent refused outside demo mode")
        raise SystemExit("gateway not started: the demo agent 'agent' still signs in with its published password; "
                         "disable it (python -m bot.gateway.agents disable agent) or set PAYLATER_DEMO_MODE=1 for a demo.")
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
