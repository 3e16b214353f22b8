"""bot.nlu_check counts a few predicted labels as answering another label (EQUIVALENT): each must
really state the needed fact first, to anyone (anonymous visitor included)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.actions.cost import ActionLoanCost
from bot.actions.credit import ActionCreditLine
from bot.actions.disbursement import ActionDisbursementStatus
from bot.nlu_check import EQUIVALENT

from .conftest import make_tracker, run

ROOT = Path(__file__).resolve().parents[2]
RESPONSES = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]
# gold label -> facts its answer must contain (lower case; any spelling in a tuple)
FACTS = {
    "faq/eligibility": [("us business",), ("1 year",), ("$50,000",)],
    "faq/trade_assurance_only": [("trade assurance orders only",)],
    "faq/credit_limit": [("$150,000",)],
    "faq/payment_arrival": [("1-3 working days", "1–3 working days"), ("loan agreement",)],
    "faq/loan_fees": [("monthly",), ("fee",)],
}
ACTIONS = {"credit_line": ActionCreditLine, "disbursement_status": ActionDisbursementStatus,
           "loan_cost": ActionLoanCost}


def rendered(dispatcher) -> str:
    out = []
    for m in dispatcher.messages:
        out.append(m.get("text") or "")
        if m.get("response"):
            out += [v.get("text", "") for v in RESPONSES.get(m["response"], [])]
    return " ".join(out).lower()


@pytest.mark.parametrize("predicted, gold", sorted((p, g) for p, gs in EQUIVALENT.items() for g in gs))
async def test_equivalent_answer_states_the_needed_facts(predicted, gold):
    if predicted.startswith("faq/"):
        text = " ".join(v.get("text", "") for v in RESPONSES[f"utter_{predicted}"]).lower()
    else:
        dispatcher, _ = await run(ACTIONS[predicted](), make_tracker("a general question", intent=predicted, buyer=None))
        text = rendered(dispatcher)
    for spellings in FACTS[gold]:
        assert any(s in text for s in spellings), (predicted, gold, spellings, text)
