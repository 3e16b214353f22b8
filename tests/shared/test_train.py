"""bot/train.py: `make train` trains the ResponseSelector in a second process while DIET trains in
the first. The model must be the one the sequential training (Rasa's own runner) makes: the same
parses, confidences and FAQ answers, trained from the same seeds. A small assistant with the
product's kinds of data (intents, a retrieval intent with answers, an entity) and few epochs, so
that each training takes seconds."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

DOMAIN = """\
version: "3.1"
intents: [greet, goodbye, faq, check_order]
entities: [order_id]
responses:
  utter_faq/what_is:
  - text: "Pay Later is trade credit from a lender."
  utter_faq/fees:
  - text: "There is no processing fee."
  utter_faq/currency:
  - text: "USD only."
"""

NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
    - hi, anyone around?
- intent: goodbye
  examples: |
    - bye
    - see you later
    - that's all, thanks
    - goodbye
- intent: check_order
  examples: |
    - where is my order [TA-100245](order_id)
    - status of [TA-100198](order_id) please
    - can I pay [TA-100212](order_id) with it
    - check order [TA-100777](order_id)
- intent: faq/what_is
  examples: |
    - what is pay later
    - explain pay later to me
    - how does pay later work
    - what's this pay later thing
- intent: faq/fees
  examples: |
    - are there any fees
    - is there a processing fee
    - how much does pay later cost
    - what does it cost me
- intent: faq/currency
  examples: |
    - which currencies can I use
    - can I pay in euros
    - is it only dollars
    - do you support other currencies
"""

CONFIG = """\
recipe: default.v1
assistant_id: train-test
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 3
  - name: DIETClassifier
    epochs: 8
    number_of_transformer_layers: 1
    transformer_size: 32
    random_seed: 42
  - name: ResponseSelector
    retrieval_intent: faq
    epochs: 8
    random_seed: 42
policies:
  - name: RulePolicy
"""

TEXTS = ["hello there", "what is pay later?", "any fee for this", "can I use euros",
         "where is TA-100245", "bye bye", "the weather today"]


def train(tmp: Path, name: str, concurrent: bool) -> Path:
    env = {**os.environ, "PAYLATER_CONCURRENT_TRAINING": "1" if concurrent else "0",
           "RASA_CACHE_DIRECTORY": str(tmp / f"cache-{name}"), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run(
        [sys.executable, "-m", "bot.train", "train", "nlu", "--config", "config.yml", "--nlu", "nlu.yml",
         "--domain", "domain.yml", "--fixed-model-name", name, "--out", "models", "--quiet"],
        cwd=tmp, env=env, check=True, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return tmp / "models" / f"{name}.tar.gz"


def parses(model: Path):
    import asyncio

    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    try:
        return [loop.run_until_complete(agent.parse_message(text)) for text in TEXTS]
    finally:
        loop.close()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    for name, text in (("domain.yml", DOMAIN), ("nlu.yml", NLU), ("config.yml", CONFIG)):
        (tmp / name).write_text(textwrap.dedent(text))
    return {"sequential": train(tmp, "sequential", False), "concurrent": train(tmp, "concurrent", True)}


def test_concurrent_training_gives_the_sequential_model(models):
    sequential, concurrent = parses(models["sequential"]), parses(models["concurrent"])
    assert concurrent == sequential
    # (8 epochs: the answers need not be right, only the same; the selector did answer)
    assert all(p["response_selector"]["faq"]["response"]["intent_response_key"] for p in concurrent)
    assert all(p["intent_ranking"] for p in concurrent)


def test_both_models_hold_the_same_components(models):
    def members(path):
        with tarfile.open(path) as tar:
            return sorted(m.name for m in tar.getmembers())

    assert members(models["concurrent"]) == members(models["sequential"])
    assert any("train_ResponseSelector" in name for name in members(models["concurrent"]))


def test_the_products_selector_trains_in_the_second_process():
    """Exactly the product's selector node, and no other (DIET is the subclass
    bot.nlu.components.BucketedDIETClassifier), is the one `make train` runs in the second process;
    a subclass of the selector would be too (its node is named after its module path)."""
    import rasa.shared.utils.io
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType

    from rasa.nlu.selectors.response_selector import ResponseSelector

    from bot.nlu.components import BucketedDIETClassifier
    from bot.train import offloaded

    config = rasa.shared.utils.io.read_model_configuration(PROJECT_ROOT / "config.yml")
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    schema = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH).train_schema
    names = sorted(name for name, node in schema.nodes.items() if offloaded(node.fn, node.uses))
    assert len(names) == 1 and names[0].startswith("train_ResponseSelector")

    class OurSelector(ResponseSelector):
        pass

    assert offloaded("train", OurSelector) and not offloaded("process", OurSelector)
    assert not offloaded("train", BucketedDIETClassifier)
