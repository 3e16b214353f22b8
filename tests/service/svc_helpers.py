"""Helpers of the service tests (imported by conftest.py and the tests)."""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Optional

START_TIMEOUT_S = 600  # Rasa loads its model; on a shared 2-core machine this varies a lot


def listening_addresses(pid: int) -> set:
    """The local addresses `pid` listens on, read from /proc (its socket inodes, then
    /proc/net/tcp and tcp6 rows in state LISTEN)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, v6 in (("tcp", False), ("tcp6", True)):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] != "0A" or cols[9] not in inodes:  # 0A = LISTEN
                continue
            hex_addr, hex_port = cols[1].split(":")
            found.add((_address(hex_addr, v6), int(hex_port, 16)))
    return found


def _address(hex_addr: str, v6: bool) -> str:
    raw = bytes.fromhex(hex_addr)
    if not v6:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def bot_text(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages if m.get("sender") == "bot").lower()


def apology(messages) -> Optional[dict]:
    return next((m for m in messages if m.get("kind") == "bot_unavailable"), None)
