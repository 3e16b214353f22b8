"""deploy/grafana/paylater.json uses only metric families the gateway and backend export."""
from __future__ import annotations

import json
import re

from prometheus_client.exposition import generate_latest

from bot.config import PROJECT_ROOT
from bot.metrics import BackendMetrics, GatewayMetrics


def test_every_panel_queries_an_exported_family():
    dash = json.loads((PROJECT_ROOT / "deploy" / "grafana" / "paylater.json").read_text())
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    exported = set()
    for m in (GatewayMetrics(), BackendMetrics()):
        text = generate_latest(m.registry).decode()
        for name, kind in re.findall(r"^# TYPE (paylater_\w+) (\w+)$", text, re.M):
            base = name[:-len("_total")] if kind == "counter" and name.endswith("_total") else name
            exported |= {base + s for s in suffixes[kind]}
    used = {name for p in dash["panels"] for t in p["targets"] for name in re.findall(r"paylater_\w+", t["expr"])}
    assert used and used <= exported, used - exported
    assert len(dash["panels"]) >= 8
