"""`python -m bot.gateway [--host 127.0.0.1] [--port 8080]`."""
from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from bot.config import Settings

from .app import create_app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway")
    parser.add_argument("--host", default=os.environ.get("PAYLATER_GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if settings.demo_mode:
        from .demo import load_demo_agent
        from .settings import GatewaySettings

        gw = GatewaySettings.from_env(settings)
        load_demo_agent(gw.database_url, gw.schema)
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
