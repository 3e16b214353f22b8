"""Private files: `var/` (databases, logs) is readable by the user who runs the product only.

Directories we create are 0700 and files 0600; SQLite gives its -wal / -shm / -journal files the
database file's mode, so creating the database 0600 covers those too. Every entry point also
sets umask 077 for whatever else its process creates (Rasa's tracker database, logs).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Union

PathLike = Union[str, Path]


def private_dir(path: PathLike) -> Path:
    """Create `path` (and parents) as 0700; an existing directory we own loses group/other access."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True, mode=0o700)
    _restrict(p, 0o700)
    return p


def private_file(path: PathLike) -> Path:
    """Create an empty `path` as 0600 if it does not exist; an existing one we own becomes 0600."""
    p = Path(path)
    try:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _restrict(p, 0o600)
    return p


def secure_tree(path: PathLike) -> None:
    """`path` 0700 and everything below it 0700 (directories) / 0600 (files), where we own them."""
    root = Path(path)
    if not root.exists():
        return
    _restrict(root, 0o700)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            _restrict(Path(dirpath) / d, 0o700)
        for f in filenames:
            _restrict(Path(dirpath) / f, 0o600)


def _restrict(p: Path, mode: int) -> None:
    try:
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid():
            return
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(p, stat.S_IMODE(st.st_mode) & ~0o077 & 0o7777 | (mode & 0o700))
    except FileNotFoundError:
        pass
