"""python -m bot.backend [--host 127.0.0.1] [--port 8000]"""
from __future__ import annotations

import argparse
import os
import logging
import sys

from aiohttp import web

from bot.config import Settings

from .app import create_app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Pay Later payments backend API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.umask(0o077)  # files this process creates are private
    logging.basicConfig(level=logging.INFO)
    try:
        app = create_app(Settings.from_env())
    except RuntimeError as e:
        print(f"backend API not started: {e}", file=sys.stderr)
        raise SystemExit(2)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
