"""Finds and redacts data that must never be typed into the chat or stored in a tracker:
card numbers (Luhn-checked), US SSNs, bank account / routing numbers, passwords and PINs.

The gateway redacts every buyer message before it reaches Rasa or its own tables and tells the
buyer what it removed (`removal_notice`); the application form's validator refuses such answers
too (defence in depth).

What is left alone on purpose: order ids (TA-100231), amounts ("$20,000", "150000"), dates
("2026-11-30", "11/30/2026") and phone numbers ("415 555 0100").
"""
from __future__ import annotations

import re
from typing import List, Tuple

# Separators people put between digit groups: space, dot, slash, underscore, dash.
_SEP = r"[ ./_\-]"
# A run of 13-19 digits, possibly grouped (Luhn and the group sizes decide, see _card).
_CARD = re.compile(rf"(?<![\d])\d(?:{_SEP}{{0,3}}\d){{12,18}}(?![\d])")
_SSN = re.compile(
    rf"(?<![\d./_\-])\d{{3}}({_SEP})\d{{2}}\1\d{{4}}(?![\d])"  # 123-45-6789, 123.45.6789, 123/45/6789 ...
    r"|\b(?:ssn|ss#|social(?:[ _-]?security)?(?:[ _-]?(?:number|num|no\.?|#))?|tax[ _-]?id|itin|tin)\b"
    rf"[^\d\n]{{0,20}}?(\d{{3}}{_SEP}?\d{{2}}{_SEP}?\d{{4}})(?![\d])",  # "my social is 123456789"
    re.I,
)
_BANK = re.compile(
    r"\b(?:account|acct|routing|aba|iban|bank)\b[^\d\n]{0,25}(?:number|no\.?|#)?[^\d\n]{0,5}((?:\d[ -]?){6,17}\d)",
    re.I,
)
_PW_WORD = (r"(?:password|passwort|passwd|passcode|pass[ _-]?code|pwd|pw"
            r"|pin(?:[ _-]?(?:code|number|no\.?|#))?)")
_PASSWORD = re.compile(
    rf"\b{_PW_WORD}\b(?:\s*(?:is\b|:|=)\s*(\S+)"  # "password is X", "pw: X", "pin=1234"
    r"|\s+(?=\S*[\d@#$%^&*_+=~!])(\S+))"  # "password hunter2": a token that looks like a secret
    r"|\bpass\s*[:=]\s*(\S+)",  # "pass: X"
    re.I,
)

_SEPS = re.compile(rf"{_SEP}+")
_NON_DIGITS = re.compile(r"\D")

LABELS = {"card": "[card number removed]", "ssn": "[SSN removed]", "bank": "[bank number removed]",
          "password": "[password removed]"}
_WHAT = {"card": "a card number", "ssn": "a Social Security number", "bank": "a bank account or routing number",
         "password": "a password or PIN"}


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


def _card_shaped(text: str) -> bool:
    """Cards are written in one run or in groups of 4 (Amex/Diners 4-6-5 / 4-6-4); a group of one
    or two digits before the end means a date or a list of numbers, not a card."""
    groups = [g for g in _SEPS.split(text) if g]
    return all(len(g) >= 3 for g in groups[:-1])


def find_sensitive(text: str) -> List[str]:
    """Kinds of sensitive data found in `text` ("card", "ssn", "bank", "password")."""
    return redact(text)[1]


def redact(text: str) -> Tuple[str, List[str]]:
    """Return the text with sensitive data replaced by labels, and the kinds found."""
    if not text:
        return text, []
    kinds: List[str] = []

    def card(m: re.Match) -> str:
        digits = _NON_DIGITS.sub("", m.group(0))
        if 13 <= len(digits) <= 19 and _card_shaped(m.group(0)) and _luhn_ok(digits):
            kinds.append("card")
            return LABELS["card"]
        return m.group(0)

    def simple(kind: str, secret_groups: Tuple[int, ...]):
        def sub(m: re.Match) -> str:
            kinds.append(kind)
            group = next((g for g in secret_groups if m.group(g)), None)
            if group is not None:  # keep the words, drop the secret
                return m.group(0)[: m.start(group) - m.start(0)] + LABELS[kind]
            return LABELS[kind]

        return sub

    out = _PASSWORD.sub(simple("password", (1, 2, 3)), text)
    out = _BANK.sub(simple("bank", (1,)), out)
    out = _SSN.sub(simple("ssn", (2,)), out)
    out = _CARD.sub(card, out)
    seen: List[str] = []
    for k in kinds:
        if k not in seen:
            seen.append(k)
    return out, seen


def removal_notice(kinds: List[str]) -> str:
    """What the buyer is told when the gateway removed something from their message."""
    what = [_WHAT[k] for k in kinds if k in _WHAT]
    listed = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " and " + what[-1]
    return (f"For your safety I removed {listed} from your message before saving it. "
            "Never type card numbers, Social Security numbers, bank numbers or passwords in this chat.")
