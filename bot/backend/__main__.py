"""python -m bot.backend [--host 127.0.0.1] [--port 8000]"""
from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from bot.config import Settings
from bot.logging_setup import configure
from bot.startup_checks import check_or_exit, listen_host

from .app import create_app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Pay Later payments backend API")
    parser.add_argument("--host", default=listen_host())
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    check_or_exit("backend")
    configure("backend")
    try:
        app = create_app(Settings.from_env())
    except RuntimeError as e:
        print(f"backend API not started: {e}", file=sys.stderr)
        raise SystemExit(2)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
