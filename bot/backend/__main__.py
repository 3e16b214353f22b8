"""python -m bot.backend [--host 127.0.0.1] [--port 8000]"""
from __future__ import annotations

import argparse
import os
import logging
import sys

from bot.config import Settings
from bot.logging_setup import configure
from bot.serving import run
from bot.startup_checks import check_or_exit, listen_host

from .app import create_app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Pay Later payments backend API")
    parser.add_argument("--host", default=listen_host())
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.umask(0o077)  # files this process creates are private
    check_or_exit("backend")
    configure("backend")
    try:
        app = create_app(Settings.from_env())
    except RuntimeError as e:
        print(f"backend API not started: {e}", file=sys.stderr)
        raise SystemExit(2)
    # slow clients are cut off: 10 s for a new connection's headers, 15 s idle keep-alive
    run(app, args.host, args.port, header_timeout_s=10.0, keepalive_timeout_s=15.0)


if __name__ == "__main__":
    main()
