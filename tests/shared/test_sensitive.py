import pytest

from bot.sensitive import find_sensitive, redact


@pytest.mark.parametrize(
    "text, kind, secret",
    [
        ("my card is 4111 1111 1111 1111", "card", "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004 exp 01/29", "card", "5500-0000-0000-0004"),
        ("amex 378282246310005", "card", "378282246310005"),
        ("ssn 123-45-6789", "ssn", "123-45-6789"),
        ("my social security number is 123456789", "ssn", "123456789"),
        ("account number 000123456789", "bank", "000123456789"),
        ("routing 021000021 please", "bank", "021000021"),
        ("my password is Hunter2!", "password", "Hunter2!"),
        ("password hunter2", "password", "hunter2"),
        ("card 4111.1111.1111.1111", "card", "4111.1111.1111.1111"),
        ("4111  1111  1111  1111 is my card", "card", "4111  1111  1111  1111"),
    ],
)
def test_sensitive_data_is_removed(text, kind, secret):
    out, kinds = redact(text)
    assert kind in kinds
    assert secret not in out


@pytest.mark.parametrize(
    "text",
    [
        "where is my order TA-100231",
        "how much would it cost to borrow 20,000",
        "our annual revenue is 2500000",
        "call me on 415 555 0100",
        "1234 5678 9012 3456",  # not a valid card number (Luhn)
        "I forgot my password",
        "how do I reset my password?",
        "send me a password reset link please",
        "totals 24.800.00 and 17.360.00",
        "",
    ],
)
def test_ordinary_messages_are_untouched(text):
    assert redact(text) == (text, [])
    assert find_sensitive(text) == []
