"""The layers import downwards only (docs/CONTRACT.md): domain <- service layer <- adapters <-
backend API / actions / gateway. Read from the source, so a new upward import fails here."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

BOT = PROJECT_ROOT / "bot"


def imports_of(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def modules(package: str):
    files = sorted((BOT / package).rglob("*.py"))
    assert files, f"bot/{package} has no modules"
    return files


@pytest.mark.parametrize("package, forbidden", [
    ("domain", ("bot.", "rasa", "rasa_sdk", "sqlalchemy", "aiohttp", "alembic")),
    ("service_layer", ("bot.adapters", "bot.backend", "bot.actions", "bot.gateway", "rasa", "aiohttp")),
    ("adapters", ("bot.backend", "bot.actions", "bot.gateway", "rasa", "rasa_sdk")),
])
def test_no_upward_imports(package, forbidden):
    bad = []
    for f in modules(package):
        for name in imports_of(f):
            if any(name == x.rstrip(".") or name.startswith(x if x.endswith(".") else x + ".") for x in forbidden):
                bad.append(f"{f.relative_to(PROJECT_ROOT)} imports {name}")
    # the domain may import itself only relatively; bot.* absolute imports would be upward
    assert bad == []


def test_the_http_adapter_takes_the_token_helper_from_below():
    assert "bot.service_token" in imports_of(BOT / "adapters" / "http_backend.py")
