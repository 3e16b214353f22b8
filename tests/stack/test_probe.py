"""Issue 17, "done when": a fresh black-box run of the outside probe (bench/probe.py) against
the real stack finds none of the eight findings."""
from pathlib import Path

from bench.probe import probe, report, target_for_stack


async def test_black_box_probe_finds_none_of_the_eight_findings(stack):
    db = Path(stack.env["PAYLATER_DATABASE_URL"].split("sqlite:///", 1)[1])
    paths = [stack.log_dir, *stack.log_dir.glob("*.log"), db, Path(stack.env["PAYLATER_TRACKER_DB"])]
    results = await probe(target_for_stack(stack, stack.ports, stack.env, paths))
    print(report(results))
    assert [r.finding for r in results if r.reproduced] == [], report(results)
