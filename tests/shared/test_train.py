"""bot/train.py: `make train` trains the policies, the ResponseSelector and the linear second
opinion in a second process while DIET trains in the first. The model must be the one the
sequential training (Rasa's own runner) makes: the same parses, confidences, FAQ answers and next
actions, trained from the same seeds. A small assistant with the product's kinds of data
(intents, a retrieval intent with answers, an entity, a rule) and few epochs, so that each
training takes seconds."""
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
  utter_greet:
  - text: "Hello! Ask me about Pay Later."
  utter_goodbye:
  - text: "Goodbye."
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

RULES = """\
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: goodbye
  steps:
  - intent: goodbye
  - action: utter_goodbye
- rule: faq
  steps:
  - intent: faq
  - action: utter_faq
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
  - name: bot.nlu.components.LinearSecondOpinion
    embed_scale: 1.5
policies:
  - name: RulePolicy
  - name: MemoizationPolicy
"""

TEXTS = ["hello there", "what is pay later?", "any fee for this", "can I use euros",
         "where is TA-100245", "bye bye", "the weather today"]


def train(tmp: Path, name: str, concurrent: bool) -> Path:
    env = {**os.environ, "PAYLATER_CONCURRENT_TRAINING": "1" if concurrent else "0",
           "RASA_CACHE_DIRECTORY": str(tmp / f"cache-{name}"), "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run(
        [sys.executable, "-m", "bot.train", "train", "--config", "config.yml", "--data", "nlu.yml", "rules.yml",
         "--domain", "domain.yml", "--fixed-model-name", name, "--out", "models", "--quiet"],
        cwd=tmp, env=env, check=True, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return tmp / "models" / f"{name}.tar.gz"


def parses(model: Path):
    import asyncio

    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    try:
        return [(loop.run_until_complete(agent.parse_message(text)),
                 loop.run_until_complete(agent.handle_text(text, sender_id=f"test-{i}")))
                for i, text in enumerate(TEXTS)]
    finally:
        loop.close()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    for name, text in (("domain.yml", DOMAIN), ("nlu.yml", NLU), ("rules.yml", RULES), ("config.yml", CONFIG)):
        (tmp / name).write_text(textwrap.dedent(text))
    return {"sequential": train(tmp, "sequential", False), "concurrent": train(tmp, "concurrent", True)}


def test_concurrent_training_gives_the_sequential_model(models):
    sequential, concurrent = parses(models["sequential"]), parses(models["concurrent"])
    assert concurrent == sequential
    # (8 epochs: the answers need not be right, only the same; the selector did answer, the
    # policies did reply)
    assert all(p["response_selector"]["faq"]["response"]["intent_response_key"] for p, _ in concurrent)
    assert all(p["intent_ranking"] for p, _ in concurrent)
    assert any(replies for _, replies in concurrent)


def test_both_models_hold_the_same_components(models):
    def members(path):
        with tarfile.open(path) as tar:
            return sorted(m.name for m in tar.getmembers())

    assert members(models["concurrent"]) == members(models["sequential"])
    for node in ("train_ResponseSelector", "train_RulePolicy", "train_MemoizationPolicy",
                 "train_bot.nlu.components.LinearSecondOpinion"):
        assert any(node in name for name in members(models["concurrent"])), node


def product_train_schema():
    import rasa.shared.utils.io
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType

    config = rasa.shared.utils.io.read_model_configuration(PROJECT_ROOT / "config.yml")
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    return recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH).train_schema


def test_the_products_second_process_trains_the_policies_selector_and_linear_reader():
    """Exactly the product's policies, selector and linear reader, and no other node (DIET is the
    subclass bot.nlu.components.BucketedDIETClassifier), are the ones `make train` runs in the
    second process; a subclass of the selector would be too (its node is named after its module
    path)."""
    from rasa.nlu.selectors.response_selector import ResponseSelector

    from bot.nlu.components import BucketedDIETClassifier
    from bot.train import offloaded

    schema = product_train_schema()
    names = sorted(name for name, node in schema.nodes.items() if offloaded(node.fn, node.uses))
    assert [name.rstrip("0123456789") for name in names] == [
        "train_MemoizationPolicy", "train_ResponseSelector", "train_RulePolicy",
        "train_bot.nlu.components.LinearSecondOpinion"]

    class OurSelector(ResponseSelector):
        pass

    assert offloaded("train", OurSelector) and not offloaded("process", OurSelector)
    assert not offloaded("train", BucketedDIETClassifier)


def test_the_plan_starts_each_offloaded_node_as_soon_as_its_inputs_are_ready():
    """The second process takes the policies first (they need only the stories and the domain, so
    they train while this process featurizes), then the linear reader (it reads only texts and
    labels, so it is handed the data as read from the files and also trains while this process
    featurizes), then the selector; each is handed over right after the last node it needs, before
    DIET, and every node still comes after the nodes it needs."""
    from bot.train import RAW_NLU_DATA, _plan, offloaded, on_raw_data, rank

    schema = product_train_schema()
    targets = schema.target_names
    offload = sorted((name for name, node in schema.nodes.items() if offloaded(node.fn, node.uses)),
                     key=lambda name: (rank(schema.nodes[name].uses), name))
    rerouted_schema, rerouted = on_raw_data(schema.minimal_graph_schema(targets), offload)
    assert [name.rstrip("0123456789") for name in rerouted] == ["train_bot.nlu.components.LinearSecondOpinion"]
    assert rerouted_schema.nodes[rerouted[0]].needs["training_data"] == RAW_NLU_DATA
    plan = _plan(rerouted_schema, targets, offload)
    at = {name: i for i, (name, _) in enumerate(plan)}
    for name, needs in plan:
        assert all(at[need] < at[name] for need in needs if need in at), name
    order = [name.rstrip("0123456789") for name, _ in plan if name in offload]
    assert order == ["train_RulePolicy", "train_MemoizationPolicy",
                     "train_bot.nlu.components.LinearSecondOpinion", "train_ResponseSelector"]
    tokenizer = next(name for name in at if name.startswith("run_bot.nlu.components.QuestionFocusTokenizer"))
    assert at[rerouted[0]] < at[tokenizer]
    diet = next(name for name in at if name.startswith("train_bot.nlu.components.BucketedDIETClassifier"))
    assert max(at[name] for name in offload) < at[diet]
    first_featurizer = next(name for name in at if name.startswith("run_RegexFeaturizer"))
    assert at[next(n for n in offload if n.startswith("train_MemoizationPolicy"))] < at[first_featurizer]


@pytest.mark.parametrize("cores, env, threads", [
    ({0, 1}, None, 1),       # this machine: the selector's process one thread, DIET's the default
    ({0, 1, 2, 3}, None, 2),
    ({0}, None, 1),
    ({0, 1}, "0", 0),        # TensorFlow's own choice, as before round 12
    ({0, 1}, "3", 3),
    ({0, 1}, " ", 1),
])
def test_the_second_process_takes_half_the_cores_for_tensorflow(monkeypatch, cores, env, threads):
    """Both processes' TensorFlow would size their pools to every core and share two cores while
    the selector and DIET train side by side; the second one gets half (the sequential-equals-
    concurrent test above trains with this default)."""
    from bot.train import child_tf_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: cores)
    if env is None:
        monkeypatch.delenv("PAYLATER_CHILD_TF_THREADS", raising=False)
    else:
        monkeypatch.setenv("PAYLATER_CHILD_TF_THREADS", env)
    assert child_tf_threads() == threads
