"""`python -m bot.gateway [--host 127.0.0.1] [--port 8080]`."""
from __future__ import annotations

import argparse
import logging
import os

from bot.config import Settings

from .app import create_app
from bot.serving import run
from .settings import GatewaySettings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway")
    parser.add_argument("--host", default=os.environ.get("PAYLATER_GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.umask(0o077)  # databases and logs this process creates are readable by its user only
    settings = Settings.from_env()
    gw = GatewaySettings.from_env(settings)
    if settings.demo_mode:
        from .demo import load_demo_agent

        load_demo_agent(gw.database_url, gw.schema)
    run(create_app(settings, gw), args.host, args.port,
        header_timeout_s=gw.header_timeout_s, keepalive_timeout_s=gw.keepalive_timeout_s)


if __name__ == "__main__":
    main()
