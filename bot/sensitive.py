"""Finds and redacts data that must never be typed into the chat or stored in a tracker:
card numbers (Luhn-checked), US SSNs, bank account / routing numbers, passwords.

The gateway redacts every buyer message before it reaches Rasa or its own tables; the
application form's validator refuses such answers too (defence in depth).
"""
from __future__ import annotations

import re
from typing import List, Tuple

_CARD = re.compile(r"(?<!\d)(?:\d[ .\-]{0,3}){12,18}\d(?!\d)")  # Luhn decides
_SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)|\b(?:ssn|social security(?: number)?)\s*(?:is|:|#)?\s*\d{9}\b", re.I)
_BANK = re.compile(
    r"\b(?:account|acct|routing|aba|iban|bank)\b[^\d\n]{0,25}(?:number|no\.?|#)?[^\d\n]{0,5}((?:\d[ -]?){6,17}\d)",
    re.I,
)
_PASSWORD = re.compile(
    r"\b(?:password|passcode|pin)\b(?:\s*(?:is\b|:|=)\s*\S+"  # "password is X", "pin: X"
    r"|\s+(?=\S*[\d@#$%^&*_+=~])\S+)",  # "password hunter2": a token that looks like a secret
    re.I,
)

LABELS = {"card": "[card number removed]", "ssn": "[SSN removed]", "bank": "[bank number removed]", "password": "[password removed]"}


def _luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_sensitive(text: str) -> List[str]:
    """Kinds of sensitive data found in `text` ("card", "ssn", "bank", "password")."""
    return redact(text)[1]


def redact(text: str) -> Tuple[str, List[str]]:
    """Return the text with sensitive data replaced by labels, and the kinds found."""
    if not text:
        return text, []
    kinds: List[str] = []

    def card(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            kinds.append("card")
            return LABELS["card"]
        return m.group(0)

    def simple(kind: str):
        def sub(m: re.Match) -> str:
            kinds.append(kind)
            if m.lastindex:  # keep the words, drop the number
                return m.group(0)[: m.start(1) - m.start(0)] + LABELS[kind]
            return LABELS[kind]

        return sub

    out = _PASSWORD.sub(simple("password"), text)
    out = _BANK.sub(simple("bank"), out)
    out = _SSN.sub(simple("ssn"), out)
    out = _CARD.sub(card, out)
    seen: List[str] = []
    for k in kinds:
        if k not in seen:
            seen.append(k)
    return out, seen
