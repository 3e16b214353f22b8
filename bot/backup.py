"""Backups of the embedded SQLite databases, consistent while the stack runs.

    python -m bot.backup backup [--dir var/backups]      # make backup
    python -m bot.backup restore DIR                      # make restore BACKUP=DIR (stack stopped)

Two files: the product database (PAYLATER_DATABASE_URL: orders, credit, gateway conversations
and agents) and Rasa's tracker store (PAYLATER_TRACKER_DB). Each is copied with SQLite's online
backup API, which takes a consistent snapshot while the processes keep writing (WAL or not),
then checked with `PRAGMA integrity_check`. A backup is a directory var/backups/<UTC time>/.

Restore refuses while any part of the stack still answers on its port (the restored file would
be overwritten by the running processes' next commit), then copies each file back with the same
API. PostgreSQL: use its own tools instead, e.g.
    pg_dump --format=custom --file paylater.dump "$PAYLATER_DATABASE_URL"
    pg_restore --clean --if-exists --dbname "$PAYLATER_DATABASE_URL" paylater.dump
(the same for the tracker store's database when it is PostgreSQL, deploy/endpoints.scale.yml).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Dict, List, Optional

from bot.config import DEFAULT_DATABASE_URL, PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "var" / "backups"
DEFAULT_PORTS = {"rasa": 5005, "actions": 5055, "backend": 8000, "gateway": 8080}


class BackupError(Exception):
    """One sentence for the operator."""


def sqlite_files(env: Optional[Dict[str, str]] = None) -> Dict[str, Path]:
    """The SQLite files of this configuration, by name; PostgreSQL URLs are left out."""
    env = dict(os.environ if env is None else env)
    files: Dict[str, Path] = {}
    url = env.get("PAYLATER_DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.startswith("sqlite:///"):
        files["paylater.db"] = Path(url[len("sqlite:///"):])
    elif not url.startswith(("postgresql", "postgres")):
        raise BackupError(f"PAYLATER_DATABASE_URL is neither SQLite nor PostgreSQL: {url.split(':')[0]}.")
    tracker = env.get("PAYLATER_TRACKER_DB") or str(PROJECT_ROOT / "var" / "rasa-tracker.db")
    files["rasa-tracker.db"] = Path(tracker)
    return files


def _copy(src: Path, dest: Path, standalone: bool = False) -> None:
    source = sqlite3.connect(src)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)  # online backup API: a consistent snapshot while others write
        if standalone:  # a backup is one self-contained file, whatever the live journal mode
            target.execute("PRAGMA journal_mode=DELETE")
        ok = target.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"the copy of {src} failed its integrity check: {ok}")
    finally:
        target.close()
        source.close()


def backup(out_dir: Path = DEFAULT_DIR, env: Optional[Dict[str, str]] = None) -> Path:
    files = sqlite_files(env)
    dest = out_dir / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest.mkdir(parents=True, exist_ok=False)
    done = {}
    for name, path in files.items():
        if not path.exists():
            continue  # e.g. Rasa never started: no tracker store yet
        _copy(path, dest / name, standalone=True)
        done[name] = str(path)
    if not done:
        dest.rmdir()
        raise BackupError("no SQLite database to back up (PostgreSQL? use pg_dump, see `python -m bot.backup -h`).")
    (dest / "manifest.json").write_text(json.dumps({"created": dest.name, "files": done}, indent=1))
    return dest


def _listening(ports: List[int]) -> List[int]:
    busy = []
    for port in ports:
        with socket.socket() as s:
            s.settimeout(0.3)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def restore(src_dir: Path, env: Optional[Dict[str, str]] = None, ports: Optional[List[int]] = None) -> List[Path]:
    if not (src_dir / "manifest.json").exists():
        raise BackupError(f"{src_dir} is not a backup made by `make backup` (no manifest.json).")
    busy = _listening(list(DEFAULT_PORTS.values()) if ports is None else ports)
    if busy:
        raise BackupError(f"the stack is still running (ports {', '.join(map(str, busy))} answer): stop `make run` first.")
    restored = []
    for name, path in sqlite_files(env).items():
        copy = src_dir / name
        if not copy.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _copy(copy, path)
        restored.append(path)
    return restored


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.backup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup")
    b.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    r = sub.add_parser("restore")
    r.add_argument("source", type=Path, help="a backup directory, e.g. var/backups/20260101T120000Z")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            print(f"backup written to {backup(args.dir)}")
        else:
            for path in restore(args.source):
                print(f"restored {path}")
    except (BackupError, sqlite3.Error, OSError) as exc:
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
