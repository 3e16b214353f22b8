"""Issue 17, finding 1: redaction missed common formats. One table: the six formats the probe
used, their cousins (separators / _ . - and none; "social", "pw", "passwd", "pin"), and what
must stay untouched (order ids, amounts, dates)."""
import pytest

from bot.sensitive import LABELS, redact, removal_notice

REMOVED = [
    # the six formats of the probe
    ("card 4111/1111/1111/1111", "card", "4111/1111/1111/1111"),
    ("card 4111_1111_1111_1111", "card", "4111_1111_1111_1111"),
    ("ssn 123.45.6789", "ssn", "123.45.6789"),
    ("my social is 123456789", "ssn", "123456789"),
    ("my pw is Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
    ("my passwd is Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
    # card cousins
    ("card 4111-1111-1111-1111", "card", "4111-1111-1111-1111"),
    ("card 4111.1111.1111.1111", "card", "4111.1111.1111.1111"),
    ("card 4111 1111 1111 1111", "card", "4111 1111 1111 1111"),
    ("card 4111111111111111", "card", "4111111111111111"),
    ("4111 - 1111 - 1111 - 1111 is my visa", "card", "1111 - 1111"),
    ("amex 3782-822463-10005", "card", "822463"),
    ("pay with 5500/0000/0000/0004 please", "card", "5500/0000/0000/0004"),
    # SSN cousins
    ("ssn 123-45-6789", "ssn", "123-45-6789"),
    ("ssn 123/45/6789", "ssn", "123/45/6789"),
    ("ssn 123_45_6789", "ssn", "123_45_6789"),
    ("ssn 123 45 6789", "ssn", "123 45 6789"),
    ("SSN: 123456789", "ssn", "123456789"),
    ("my social security number is 123-45-6789", "ssn", "6789"),
    ("social security 123456789", "ssn", "123456789"),
    ("here it is 123.45.6789 ok", "ssn", "123.45.6789"),
    # password / PIN cousins
    ("my password is Hunter2!", "password", "Hunter2!"),
    ("password: correcthorse", "password", "correcthorse"),
    ("password hunter2", "password", "hunter2"),
    ("pw=Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
    ("PWD: s3cret", "password", "s3cret"),
    ("my passcode is 99aa", "password", "99aa"),
    ("my pin is 4821", "password", "4821"),
    ("PIN: 4821", "password", "4821"),
    ("the pin code is 4821", "password", "4821"),
    ("pin 4821", "password", "4821"),
    ("pass: Tr0ub4dor&3", "password", "Tr0ub4dor&3"),
    # bank
    ("account number 000123456789", "bank", "000123456789"),
    ("routing 021000021 please", "bank", "021000021"),
]

UNTOUCHED = [
    "where is my order TA-100231",
    "orders TA-100231 TA-100232 and PO-55012",
    "how much would it cost to borrow $20,000",
    "can I get 150000",
    "our annual revenue is 2500000",
    "I need $150,000.00 for 6 months",
    "it was shipped on 2026-11-30",
    "delivered 11/30/2026 or 12/15/2026",
    "between 2026/11/30 2026/12/15 please",
    "the 30.11.2026 delivery",
    "call me on 415 555 0100",
    "1234 5678 9012 3456",  # not a valid card number (Luhn)
    "I forgot my password",
    "how do I reset my password?",
    "send me a password reset link please",
    "what is a pin for",
    "social media says pay later is great",
    "totals 24.800.00 and 17.360.00",
    "orders 100231 100232 100233",
]


@pytest.mark.parametrize("text, kind, secret", REMOVED)
def test_sensitive_formats_are_removed(text, kind, secret):
    out, kinds = redact(text)
    assert kind in kinds, (text, out, kinds)
    assert secret not in out
    assert LABELS[kind] in out


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ids_amounts_dates_are_left_alone(text):
    assert redact(text) == (text, [])


def test_words_around_the_secret_are_kept():
    assert redact("my social is 123456789")[0] == "my social is [SSN removed]"
    assert redact("my pw is Tr0ub4dor&3 thanks")[0] == "my pw is [password removed] thanks"
    assert redact("card 4111/1111/1111/1111 expiring")[0] == "card [card number removed] expiring"


def test_removal_notice_names_what_was_removed():
    assert "a card number" in removal_notice(["card"])
    text = removal_notice(["ssn", "password"])
    assert "Social Security number" in text and "password or PIN" in text
