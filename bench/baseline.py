"""The plain bot of `rasa init` (moodbot), trained once and cached by fingerprint, run with
`rasa run` on a free loopback port. Same machine, same run, same load generator as the product."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import List, Optional, Tuple

import rasa

from bench import WORK_DIR
from bot.rasa_status import rasa_has_model
from bot.stack import BIN, ProcessSpec, Stack, free_port, stack_env

PROJECT = WORK_DIR / "rasa_init"
CACHE = WORK_DIR / "models"
TOKEN = "bench-baseline-token"

# Moodbot's own intents (greet, mood_great, mood_unhappy, affirm, deny, bot_challenge, goodbye).
SCRIPTS: List[List[str]] = [
    ["hello", "I am sad", "yes", "are you a bot?", "bye"],
    ["hi", "great", "am I talking to a human?", "hello", "goodbye"],
    ["hey", "very sad", "no", "I am happy", "see you"],
    ["good morning", "perfect", "are you a bot?", "great", "bye"],
]


def fingerprint() -> str:
    """Rasa version + the scaffold's config, domain and data: what the trained model depends on."""
    src = Path(rasa.__file__).parent / "cli" / "initial_project"
    h = hashlib.sha256(rasa.__version__.encode())
    for path in sorted([src / "config.yml", src / "domain.yml", *(src / "data").glob("*.yml")]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def ensure_model(log=print) -> Tuple[Path, Optional[float]]:
    """The cached baseline model, training it with `rasa init --no-prompt` if needed.

    Returns (model path, seconds `rasa init` took when it trained it, if known)."""
    model = CACHE / f"rasa-init-{fingerprint()}.tar.gz"
    meta = model.with_suffix("").with_suffix(".json")
    if model.exists():
        cached = json.loads(meta.read_text()) if meta.exists() else {}
        return model, cached.get("train_s")
    log("baseline: `rasa init --no-prompt` (creates and trains the moodbot, ~2-4 min on 2 cores) ...")
    shutil.rmtree(PROJECT, ignore_errors=True)
    PROJECT.mkdir(parents=True)
    started = time.monotonic()
    with open(WORK_DIR / "rasa-init.log", "wb") as out:
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(PROJECT)],
            cwd=WORK_DIR, env=stack_env(demo=False), stdout=out, stderr=subprocess.STDOUT,
            check=True, timeout=1800,
        )
    seconds = time.monotonic() - started
    trained = sorted((PROJECT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not trained:
        raise RuntimeError(f"rasa init produced no model, see {WORK_DIR / 'rasa-init.log'}")
    CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copy2(trained[-1], model)
    meta.write_text(json.dumps({"train_s": round(seconds, 1), "source": trained[-1].name}))
    return model, round(seconds, 1)


def start(model: Path, log_dir: Path) -> Tuple[Stack, str]:
    """`rasa run` of the baseline model (in-memory tracker store, no action server needed:
    moodbot has no custom actions). Returns the started Stack and its base URL."""
    port = free_port()
    env = stack_env(demo=False)
    spec = ProcessSpec(
        "baseline-rasa",
        [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", TOKEN, "--model", str(model),
         "--interface", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/status?token={TOKEN}",
        healthy=rasa_has_model,
    )
    stack = Stack([spec], env, log_dir, cwd=PROJECT if PROJECT.exists() else WORK_DIR)
    # plain `rasa run` loads the model the slow way (no bot.rasa_server): 4 min were not enough at
    # load average ~10 on the shared 2 cores
    stack.start(timeout_s=600)
    return stack, f"http://127.0.0.1:{port}"
