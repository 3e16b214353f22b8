"""Checks on the assistant's data that need no trained model: sizes, held-out separation,
FAQ facts against the help article, contract names, client-specific how-to-pay answers."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
RESPONSES = DOMAIN["responses"]
MIN_EXAMPLES = 25

CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "bot_challenge", "what_can_you_do", "affirm", "deny", "stop",
    "human_handoff", "out_of_scope", "faq", "list_orders", "order_status", "check_pay_later",
    "apply_pay_later", "credit_line", "application_status", "disbursement_status", "loan_cost",
    "report_problem", "inform", "ask_refund", "feedback_helpful", "feedback_not_helpful",
    "ask_when", "ask_which",  # issue 13: short replies to a proactive message
}
CONTRACT_ACTIONS = {
    "action_session_start", "action_list_orders", "action_order_status", "action_check_pay_later",
    "action_credit_line", "action_application_status", "action_disbursement_status",
    "action_loan_cost", "validate_pay_later_application_form", "action_ask_application_confirmed",
    "action_submit_application", "action_fallback", "action_handoff", "action_refund", "action_faq_followup",
    "action_proactive_followup",
}
FORM_SLOTS = ["business_name", "us_based", "years_in_business", "annual_revenue", "requested_limit",
              "application_confirmed"]

# topic -> facts (lower case) its answer must contain, from ../shared/seed/pay-later-faq.txt and
# PRODUCT.md "Related payment methods".
FAQ_FACTS = {
    "what_is_pay_later": ["kabbage", "six months", "trade assurance"],
    "lender": ["kabbage", "us-based lending program", "third-party financial institution partners", "$150,000"],
    "how_to_apply": ["pay later tab", "checkout", "in advance"],
    "application_requirements": ["business checking", "personal info"],
    "processing_fee": ["free"],
    "payment_arrival": ["working days after the loan agreement is completed"],
    "currency": ["usd"],
    "first_month_credit": ["first month", "automatically", "statement"],
    "credit_limit": ["$150,000"],
    "term": ["six months"],
    "tt": ["usd, hkd, cny, aud, cad, jpy, eur, gbp or sgd", "3–7 working days", "as of"],
    "local_tt": ["48 hours", "us, europe, australia and canada", "as of"],
    "credit_cards": ["visa", "mastercard", "american express", "jcb", "diners", "discover", "2.99%", "as of"],
    "card_failed": ["issuer", "30 minutes", "risk check", "t/t"],
    "echecking": ["usd", "4–5 working days", "checking account"],
    "western_union": ["person"],
    "initial_payment": ["balance", "initial payment"],
    "eligibility": ["us business", "1 year", "$50,000"],
    "trade_assurance_only": ["trade assurance orders only"],
    "minimum_amount": ["doesn't name a minimum", "person"],
}


def nlu_examples(folder: Path):
    out = Counter()
    texts = {}
    for path in folder.rglob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for block in data.get("nlu", []):
            if "intent" not in block:
                continue
            lines = [l[2:].strip() for l in block["examples"].splitlines() if l.strip().startswith("- ")]
            out[block["intent"]] += len(lines)
            for l in lines:
                texts.setdefault(normalise(l), []).append(block["intent"])
    return out, texts


def normalise(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # strip entity annotations
    return re.sub(r"[^a-z0-9$]+", " ", text.lower()).strip()


TRAIN_COUNTS, TRAIN_TEXTS = nlu_examples(ROOT / "data" / "nlu")
HELD_COUNTS, HELD_TEXTS = nlu_examples(ROOT / "tests" / "nlu")


def answer(topic: str) -> str:
    return " ".join(v.get("text", "") for v in RESPONSES[f"utter_faq/{topic}"]).lower()


def test_every_intent_and_faq_topic_has_enough_training_examples():
    thin = {k: v for k, v in TRAIN_COUNTS.items() if v < MIN_EXAMPLES}
    assert not thin, thin
    base = {k.split("/")[0] for k in TRAIN_COUNTS}
    assert CONTRACT_INTENTS <= base, CONTRACT_INTENTS - base


def test_held_out_split_covers_every_label_and_never_appears_in_training():
    assert set(HELD_COUNTS) == set(TRAIN_COUNTS), set(TRAIN_COUNTS) ^ set(HELD_COUNTS)
    assert min(HELD_COUNTS.values()) >= 8, HELD_COUNTS
    leaked = sorted(set(HELD_TEXTS) & set(TRAIN_TEXTS))
    assert not leaked, leaked
    oos = ROOT / "tests" / "nlu" / "out_of_scope_messages.txt"
    for line in oos.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert normalise(line) not in TRAIN_TEXTS, line


def test_no_training_example_is_labelled_twice():
    dupes = {t: i for t, i in TRAIN_TEXTS.items() if len(set(i)) > 1}
    assert not dupes, dupes


def test_every_faq_topic_has_an_answer_and_every_answer_a_topic():
    topics = {k.split("/", 1)[1] for k in TRAIN_COUNTS if k.startswith("faq/")}
    answers = {k.split("/", 1)[1] for k in RESPONSES if k.startswith("utter_faq/")}
    assert topics == answers, topics ^ answers


@pytest.mark.parametrize("topic, facts", sorted(FAQ_FACTS.items()))
def test_faq_answers_state_the_article_facts(topic, facts):
    text = answer(topic)
    for fact in facts:
        assert fact in text, (topic, fact, text)


def test_payment_arrival_says_one_to_three_working_days():
    text = answer("payment_arrival")
    assert "1–3 working days" in text or "1-3 working days" in text, text


def test_western_union_fees_are_never_quoted():
    text = answer("western_union")
    assert not re.search(r"\d", text), text


def test_faq_answers_never_contradict_the_article():
    everything = " ".join(answer(t) for t in FAQ_FACTS)
    for wrong in ["processing fee of", "eur only", "12 months", "$100,000", "$200,000", "instant"]:
        assert wrong not in everything, wrong


def test_contract_names_in_the_domain():
    assert CONTRACT_INTENTS == set(DOMAIN["intents"]), CONTRACT_INTENTS ^ set(DOMAIN["intents"])
    # no action_validate_slot_mappings: its per-turn upkeep runs inside Rasa (bot/slot_upkeep.py)
    assert CONTRACT_ACTIONS == set(DOMAIN["actions"]), CONTRACT_ACTIONS ^ set(DOMAIN["actions"])
    assert set(DOMAIN["entities"]) == {"order_id", "amount"}
    assert DOMAIN["forms"]["pay_later_application_form"]["required_slots"] == FORM_SLOTS
    for slot in FORM_SLOTS:
        (mapping,) = DOMAIN["slots"][slot]["mappings"]
        assert mapping["type"] == "from_text"
        assert mapping["not_intent"] == ["stop", "human_handoff"]
        assert mapping["conditions"] == [{"active_loop": "pay_later_application_form", "requested_slot": slot}]
        if slot != "application_confirmed":
            assert f"utter_ask_{slot}" in RESPONSES
    for name in ["utter_sign_in_required", "utter_backend_down", "utter_handoff", "utter_handoff_offer"]:
        assert name in RESPONSES
    assert "sign in" in RESPONSES["utter_sign_in_required"][0]["text"].lower()
    assert DOMAIN["slots"]["client"]["values"] == ["web", "app"]
    assert DOMAIN["session_config"]["carry_over_slots_to_new_session"] is True
    # custom mappings must not name an action: action_extract_slots would run it on every message
    for name, slot in DOMAIN["slots"].items():
        for m in slot["mappings"]:
            if m["type"] == "custom":
                assert "action" not in m, name


def test_order_id_regex_matches_the_contract():
    data = yaml.safe_load((ROOT / "data" / "nlu" / "account.yml").read_text())
    (block,) = [b for b in data["nlu"] if b.get("regex") == "order_id"]
    pattern = block["examples"].strip()[2:]
    assert pattern == r"\b(?:TA|PO)-?\d{5,6}\b"
    for ok in ["TA-100231", "ta100231", "PO-55012"]:
        assert re.search(pattern, ok, re.I)
    assert not re.search(pattern, "TA-12", re.I)


# ---------------------------------------------------------------- how-to-pay by client, through
# Rasa's own ActionRetrieveResponse + templated NLG (what `utter_faq` runs at runtime).
@pytest.fixture(scope="module")
def rasa_domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(ROOT / "domain.yml"))


async def retrieve(rasa_domain, client, topic="how_to_pay"):
    from rasa.core.actions.action import ActionRetrieveResponse
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker("t", rasa_domain.slots)
    if client:
        tracker.update(SlotSet("client", client))
    parse = {
        "intent": {"name": "faq", "confidence": 0.99},
        "entities": [],
        "response_selector": {
            "all_retrieval_intents": ["faq"],
            "faq": {"response": {"intent_response_key": f"faq/{topic}", "utter_action": f"utter_faq/{topic}",
                                 "responses": [], "confidence": 0.99}, "ranking": []},
        },
    }
    tracker.update(UserUttered("how do I pay", parse_data=parse, intent=parse["intent"]))
    events = await ActionRetrieveResponse("utter_faq").run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(rasa_domain.responses), tracker, rasa_domain
    )
    return " ".join(e.text for e in events).lower()


async def test_how_to_pay_on_the_website(rasa_domain):
    text = await retrieve(rasa_domain, "web")
    assert "orders > all orders" in text and "send initial payment or pay the balance" in text
    assert "my alibaba" not in text and "complete application" not in text


async def test_how_to_pay_in_the_app(rasa_domain):
    text = await retrieve(rasa_domain, "app")
    assert "my alibaba > manage order" in text and "complete application" in text
    assert "all orders" not in text


async def test_how_to_pay_when_the_client_is_unknown_gives_both(rasa_domain):
    text = await retrieve(rasa_domain, None)
    assert "all orders" in text and "my alibaba" in text and "complete application" in text


async def test_other_topics_do_not_depend_on_the_client(rasa_domain):
    for client in ("web", "app", None):
        assert "$150,000" in await retrieve(rasa_domain, client, "credit_limit")
