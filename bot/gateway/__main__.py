"""`python -m bot.gateway [--host 127.0.0.1] [--port 8080]` (host default: PAYLATER_LISTEN_HOST)."""
from __future__ import annotations

import argparse
import logging
import os

from bot.config import Settings
from bot.logging_setup import configure
from bot.profiling import maybe_start
from bot.startup_checks import check_or_exit, demo_agent_still_open, listen_host

from .app import create_app
from bot.serving import run
from .settings import GatewaySettings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.gateway")
    parser.add_argument("--host", default=os.environ.get("PAYLATER_GATEWAY_HOST") or listen_host())
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8080)))
    args = parser.parse_args(argv)
    os.umask(0o077)  # databases and logs this process creates are readable by its user only
    check_or_exit("gateway")
    configure("gateway")
    maybe_start("gateway")  # PAYLATER_PROFILE_DIR: where its CPU goes (bench/stack_cpu.py)
    settings = Settings.from_env()
    try:
        gw = GatewaySettings.from_env(settings)
    except ValueError as exc:  # e.g. PAYLATER_BUSINESS_HOURS: one sentence, no traceback
        raise SystemExit(f"gateway not started: {exc}")
    if settings.demo_mode:
        from .demo import load_demo_agent

        load_demo_agent(gw.database_url, gw.schema)
    elif (open_account := demo_agent_still_open(gw.database_url)):
        logging.getLogger(__name__).error("demo agent refused outside demo mode")
        raise SystemExit(f"gateway not started: the demo agent '{open_account}' still signs in with its published "
                         f"password; disable it (python -m bot.gateway.agents disable {open_account}) or set "
                         "PAYLATER_DEMO_MODE=1 for a demo.")
    run(create_app(settings, gw), args.host, args.port,
        header_timeout_s=gw.header_timeout_s, keepalive_timeout_s=gw.keepalive_timeout_s)


if __name__ == "__main__":
    main()
