"""bot/rasa_server.py `install_rule_key_cache`: RulePolicy's rule keys parsed once instead of per
rule and turn of every prediction. The same rules match: for generated rules and states (forms,
slots, conversation starts, `should_not_be_set`) against Rasa's own `_is_rule_applicable`, and,
with the product model, whole conversations through Rasa's processor give the same events."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import SHOULD_NOT_BE_SET

from bot import rasa_server

sys.path.insert(0, str(Path(__file__).parent))
from test_flat_states import agent, assert_same_conversations  # noqa: E402,F401  (agent: the product model)


@pytest.fixture
def rule_checks(monkeypatch):
    """Switch between Rasa's `_is_rule_applicable` and the cached one within one test."""
    monkeypatch.setattr(RulePolicy, "_is_rule_applicable", RulePolicy._is_rule_applicable)  # restored after
    original = RulePolicy._is_rule_applicable
    rasa_server.install_rule_key_cache()
    cached = RulePolicy._is_rule_applicable
    assert getattr(cached, "_paylater", False) and cached._original is original

    def use(name):
        RulePolicy._is_rule_applicable = {"rasa": original, "cached": cached}[name]

    return use


def random_state(rng: random.Random, start: bool = False) -> dict:
    state = {}
    if not start or rng.random() < 0.2:
        state["prev_action"] = {"action_name": rng.choice(["action_listen", "utter_a", "credit_form", "action_b"])}
    if rng.random() < 0.8:
        state["user"] = {"intent": rng.choice(["faq", "greet", "check_order", "apply"])}
    if rng.random() < 0.5:
        state["slots"] = {rng.choice(["order_id", "client"]): rng.choice([(1.0,), (0.0,), SHOULD_NOT_BE_SET])}
    if rng.random() < 0.3:
        state["active_loop"] = {"name": rng.choice(["credit_form", SHOULD_NOT_BE_SET])}
    return state


def test_generated_rules_match_the_same_states_as_rasas_check(rule_checks):
    rng = random.Random(7)
    rules = {json.dumps([random_state(rng, start=(k == 0)) for k in range(rng.randint(1, 4))]): f"a{i}"
             for i in range(300)}
    policy = RulePolicy.__new__(RulePolicy)  # only the checks are used: no model needed
    histories = [[random_state(rng, start=(k == 0)) for k in range(rng.randint(1, 6))] for _ in range(400)]
    histories += [json.loads(key) for key in list(rules)[:100]]  # states a rule was learnt from match it
    out = {}
    for name in ("rasa", "cached", "cached"):  # the second cached pass reads the kept keys
        rule_checks(name)
        out.setdefault(name, []).append([sorted(policy._get_possible_keys(rules, states)) for states in histories])
    assert out["cached"][0] == out["cached"][1] == out["rasa"][0]
    assert sum(bool(keys) for keys in out["rasa"][0]) >= 100  # the comparison covers matches, not only misses


@pytest.mark.parametrize("seed", [1, 2])
def test_conversations_through_rasa_give_the_same_events(agent, rule_checks, tmp_path, seed):
    assert_same_conversations(agent, tmp_path, seed, rule_checks, ("rasa", "cached"))
