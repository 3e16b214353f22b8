"""bench/report.py targets (issue 14): CPU per message against the plain bot, message 150 against
message 5, the retired throughput target keeps its figure. Arithmetic on recorded results only:
no timing is measured or asserted here."""
from __future__ import annotations

from bench import report


def results(product_cpu, baseline_cpu, points):
    return {
        "product": {"c20": {"throughput_mps": 30.0, "p95_ms": 700.0, "cpu_ms_per_message": product_cpu},
                    "sequential": {"p50_ms": 40.0}, "memory_mb": {"total": 1500.0}, "start_s": 30.0},
        "baseline": {"c20": {"throughput_mps": 40.0, "p95_ms": 800.0, "cpu_ms_per_message": baseline_cpu}},
        "session": {"points": points},
        "train": {"seconds": 200.0},
    }


def by_name(rows):
    return {r["name"]: r for r in rows}


def test_new_targets_and_the_retired_one():
    r = results({"rasa": 15.0, "gateway": 3.0, "actions": 2.0}, {"baseline-rasa": 22.0},
                [{"turn": 5, "cpu_ms_total": 20.0, "p50_ms": 40.0}, {"turn": 150, "cpu_ms_total": 22.0, "p50_ms": 41.0}])
    t = by_name(report.targets(r))
    assert t["CPU per message vs plain rasa init"] == {"name": "CPU per message vs plain rasa init", "value": 0.91,
                                                        "target": "<= 1 x", "ok": True}
    assert t["message 150 vs message 5"]["value"] == 1.1 and t["message 150 vs message 5"]["ok"] is True
    assert t["p95 at 20 conv. vs plain Rasa"]["value"] == 0.88 and t["p95 at 20 conv. vs plain Rasa"]["ok"] is True
    thr = t["throughput at 20 conv. vs plain Rasa"]
    assert thr["value"] == 0.75 and thr["ok"] is None and thr["retired"] is True
    _, rows = report.target_rows({**r, "targets": list(t.values())})
    assert ["throughput at 20 conv. vs plain Rasa", "0.75", "retired (was >= 2 x)", "figure only"] in rows


def test_targets_missing_when_not_measured():
    r = results({"rasa": 30.0}, {"baseline-rasa": 20.0}, [{"turn": 5, "cpu_ms_total": 20.0, "p50_ms": 40.0}])
    t = by_name(report.targets(r))
    assert t["CPU per message vs plain rasa init"]["ok"] is False
    assert t["message 150 vs message 5"]["value"] is None and t["message 150 vs message 5"]["ok"] is None
