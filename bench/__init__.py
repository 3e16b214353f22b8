"""Benchmarks for the Pay Later assistant (`make bench` -> `python -m bench`).

Understanding (intent accuracy, macro F1, confusion, out-of-scope fallback rate, FAQ facts end to
end), speed (sequential latency, throughput and p95 at 20/50 concurrent conversations) and memory
of the whole stack, measured in the same run against the plain `rasa init` bot. Results go to
bench/results/ (JSON, PNG chart, SUMMARY.md). Timings are reported, never asserted.
"""
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"        # git-ignored: baseline project, cached models, logs
RESULTS_DIR = BENCH_DIR / "results"
