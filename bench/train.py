"""`make train` time: measured on demand (a cold-cache `rasa train` of the product into
bench/work, not touching models/), recorded in bench/results/train.json and reported from there."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

from bench import RESULTS_DIR, WORK_DIR
from bot.config import PROJECT_ROOT
from bot.stack import BIN, stack_env

RECORD = RESULTS_DIR / "train.json"


def measure(config: str = "config.yml", name: str = "paylater-train-timing", log=print, out_dir: Optional[Path] = None) -> dict:
    """Train from scratch (own empty Rasa cache) and record wall-clock seconds: the command of
    `make train` (bot/train.py, DIET and the ResponseSelector at the same time)."""
    out_dir = out_dir or WORK_DIR / "models"
    cache = WORK_DIR / "rasa-cache-cold"
    shutil.rmtree(cache, ignore_errors=True)
    env = stack_env(demo=False)
    env["RASA_CACHE_DIRECTORY"] = str(cache)
    started = time.monotonic()
    with open(WORK_DIR / f"train-{name}.log", "wb") as out:
        proc = subprocess.run(
            [str(BIN / "python"), "-m", "bot.train", "train", "--config", config, "--fixed-model-name", name, "--out", str(out_dir), "--quiet"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=3600,
        )
    seconds = round(time.monotonic() - started, 1)
    shutil.rmtree(cache, ignore_errors=True)
    record = {"seconds": seconds, "ok": proc.returncode == 0, "config": config,
              "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %z"),
              "load_before": round(os.getloadavg()[0], 2),
              "cpus": os.cpu_count(), "source": "python -m bench --measure-train (cold Rasa cache)"}
    if config == "config.yml" and proc.returncode == 0:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        RECORD.write_text(json.dumps(record, indent=1))
    log(f"rasa train ({config}): {seconds} s, exit {proc.returncode}")
    return record


def last() -> Optional[dict]:
    return json.loads(RECORD.read_text()) if RECORD.exists() else None
