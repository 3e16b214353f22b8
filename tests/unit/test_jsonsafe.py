"""bot/jsonsafe.py: the depth guard counts as the character scan it replaced (brackets inside
strings, escaped quotes and backslashes included) and refuses what is too deep."""
import json
import random

import pytest

from bot import jsonsafe


def scan_depth(text: str) -> int:
    """The reference: one character at a time (jsonsafe's former nesting_depth)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


TRICKY = ['[', ']', '{', '}', '"', '\\', '\\"', '\\\\', '[{', '}]', 'é', '\n', 'a"b', '\\u005d']


def document(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([1, 2.5, None, True, "".join(rng.choices(TRICKY, k=rng.randint(0, 6)))])
    if rng.random() < 0.5:
        return [document(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {"".join(rng.choices(TRICKY, k=rng.randint(0, 4))) + str(i): document(rng, depth - 1)
            for i in range(rng.randint(0, 3))}


def test_same_depth_as_the_character_scan_on_generated_documents():
    rng = random.Random(14)
    for _ in range(2000):
        text = json.dumps(document(rng, rng.randint(0, 12)), ensure_ascii=rng.random() < 0.5)
        depth = scan_depth(text)
        for limit in (0, 1, depth - 1, depth, depth + 1, 32):
            if limit >= 0:
                assert jsonsafe.deeper_than(text, limit) == (depth > limit), (text, limit)


@pytest.mark.parametrize("text", ["[" * 40 + "]" * 40, '{"a":' * 40 + "1" + "}" * 40, "[" * 20000,
                                  "[" * 100000 + "]" * 100000])
def test_too_deep_is_refused(text):
    with pytest.raises(jsonsafe.JSONInputError) as err:
        jsonsafe.loads(text, max_bytes=10 ** 6)
    assert err.value.code == "too_deeply_nested"


def test_brackets_in_strings_do_not_count():
    text = json.dumps({"text": "[" * 100 + "{" * 100, "quote": '\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['})
    assert jsonsafe.loads(text, max_bytes=10 ** 6)["text"].startswith("[[[")
    assert json.loads(text) == jsonsafe.loads(text, max_bytes=10 ** 6)


def test_as_deep_as_allowed_parses():
    text = "[" * 32 + "]" * 32
    assert jsonsafe.loads(text, max_bytes=1000, max_depth=32) is not None
    assert not jsonsafe.deeper_than(text, 32) and jsonsafe.deeper_than(text, 31)
