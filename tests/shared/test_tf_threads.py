"""bot/rasa_server.py `single_threaded_inference`: `rasa run` gets one thread per TensorFlow
operation unless the operator set otherwise, and the product model reads every message as with
TensorFlow's default thread pools (each setting in its own process: TensorFlow reads it once):
the same intents, FAQ topics and entities in the same order, every confidence equal to 1e-6. Not
bit for bit: the sentence encoder's matrix products (bot/nlu/minilm.py) sum in another order
with another number of threads, and on some CPUs that moves a confidence in its 8th digit."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot import rasa_server
from bot.config import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"
TEXTS = ["hi", "thanks a lot", "what does pay later cost me", "is there a fee if I pay late?",
         "where is my money for TA-100231", "status of order TA-100245", "how much credit do I have left",
         "I want to talk to a person", "what's the weather in Paris", "what is pay later and who lends the money?"]

PARSE = r"""
import asyncio, json, sys
from bot import rasa_server
rasa_server.install_fast_model_load()
from rasa.utils.tensorflow.environment import setup_tf_environment
setup_tf_environment()  # as rasa's __main__ does
from rasa.core.agent import load_agent

async def main():
    agent = await load_agent(model_path=sys.argv[1])
    return [await agent.parse_message(t) for t in json.loads(sys.argv[2])]

print(json.dumps(asyncio.run(main())))
"""


def assert_same_reading(got, expected, where="parse"):
    """Equal structure, keys, strings and order; numbers equal to 1e-6."""
    if isinstance(expected, float) or isinstance(got, float):
        assert got == pytest.approx(expected, abs=1e-6), where
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(expected), where
        for key in expected:
            assert_same_reading(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same_reading(g, e, f"{where}[{i}]")
    else:
        assert got == expected, where


def test_serving_defaults_to_one_thread_per_operation_unless_set():
    env = {}
    rasa_server.single_threaded_inference(env)
    assert env == {"TF_INTER_OP_PARALLELISM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "1"}
    env = {"TF_INTRA_OP_PARALLELISM_THREADS": "4"}
    rasa_server.single_threaded_inference(env)
    assert env["TF_INTRA_OP_PARALLELISM_THREADS"] == "4"


@pytest.mark.stack
def test_the_product_model_parses_the_same_with_one_thread():
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL} (make train)")
    parses = {}
    for name, threads in (("default", None), ("one", "1")):
        env = {k: v for k, v in os.environ.items() if k not in rasa_server.TF_THREAD_VARS}
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        if threads:
            env.update({k: threads for k in rasa_server.TF_THREAD_VARS})
        out = subprocess.run([sys.executable, "-c", PARSE, str(MODEL), json.dumps(TEXTS)], env=env, cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=600, check=True)
        parses[name] = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(parses["one"]) == len(TEXTS)
    for one, default in zip(parses["one"], parses["default"]):
        assert_same_reading(one, default, repr(default["text"]))
