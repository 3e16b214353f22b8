"""Fact tests: every account sentence in domain.yml agrees with the help article
(../shared/seed/pay-later-faq.txt) and PRODUCT.md's rules. Each fact names its source; a
response that states a figure must state the article's figure."""
from __future__ import annotations

import re

import pytest

from bot.domain.credit import CREDIT_CAP, MIN_REVENUE, MIN_YEARS
from bot.domain.loans import MAX_TERM_MONTHS

from .conftest import domain

RESPONSES = {name: " ".join(v.get("text", "") for v in variants)
             for name, variants in domain()["responses"].items()}

# response -> facts it must state (source in the comment)
FACTS = {
    # seed: "for up to six months"; note 5: "up to $150,000"; note 2; note 3; note 1; Kabbage
    "utter_general_credit_line": ["Kabbage", "$150,000", "six months"],
    "utter_general_application": ["Pay Later tab", "checkout", "in advance", "business checking",
                                  "personal info", "US business", "1 year", "$50,000", "$150,000"],
    "utter_general_disbursement": ["1–3 working days after the loan agreement is completed", "no money moves"],
    "utter_general_check_pay_later": ["Trade Assurance", "USD", "no processing fee"],
    "utter_general_orders": ["initial payment", "balance", "USD"],
    # H faq 24157464: tier fees; seed note 4: first-month credit; note 1: no processing fee
    "utter_general_loan_cost": ["six months", "1.25%–2.75%", "months 1–2", "0.25%–0.75%", "months 3–6",
                                "no processing fee", "no prepayment penalty", "first month", "automatic credit"],
    # rule 9 (H faq 24154549)
    "utter_general_refund": ["goes back against the loan", "within 48 hours of taking the loan", "reversed"],
    "utter_disbursement_no_agreement": ["only after the loan agreement is completed"],
    "utter_disbursement_awaiting_agreement": ["no money has moved", "1–3 working days"],
    "utter_disbursement_processing": ["1–3 working days after the agreement"],
    "utter_loan_cost_term_too_long": ["six months"],
    "utter_loan_cost_default_term": ["six months", "over 3 months"],
    "utter_credit_line_none": ["$150,000"],
    "utter_form_invalid_requested_limit": ["$150,000", "US dollars"],
    "utter_label_payment_late": ["3 working days"],
}


@pytest.mark.parametrize("name, facts", sorted(FACTS.items()))
def test_response_states_the_article_facts(name, facts):
    for fact in facts:
        assert fact in RESPONSES[name], f"{name} should say {fact!r}: {RESPONSES[name]}"


def test_the_domain_constants_are_the_article_figures():
    assert CREDIT_CAP == 150000 and MAX_TERM_MONTHS == 6 and MIN_YEARS == 1 and MIN_REVENUE == 50000


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_no_response_contradicts_the_article(name):
    text = RESPONSES[name]
    # the cap is $150,000: any "up to $X" / "go up to $X" names that figure
    for cap in re.findall(r"up to \$(\d[\d,]*\d)", text):
        assert cap == "150,000", (name, text)
    # the term is up to six months, never more
    assert not re.search(r"\b(?:twelve|12|nine|9|seven|7)\s*months?\b", text), (name, text)
    # Pay Later money reaches the supplier in 1–3 working days: never "calendar days" or "business days"
    assert "calendar day" not in text and "business day" not in text, (name, text)
    if "after the loan agreement" in text and "working day" in text:
        assert "1–3 working days" in text or "3 working days" in text, (name, text)
    # no processing fee: never a processing fee amount
    assert not re.search(r"processing fee (?:of|is) \$", text), (name, text)
    # the lender is Kabbage (third-party partners later); no other lender named
    assert not re.search(r"\b(?:Affirm|Klarna|Afterpay|PayPal Credit)\b", text), (name, text)
