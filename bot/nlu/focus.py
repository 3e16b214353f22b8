"""Pick the question sentence(s) of a long message (pure text functions, no framework imports).

Buyers write paragraphs: "we've bought from the same supplier for two years ... anyway, can I
pay in RMB?". `question_spans` returns the character spans of the sentences that carry the
question, so the tokenizer can keep only their tokens (the same at training and parse time)."""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

MIN_WORDS = 22  # shorter messages are used whole
# A sentence ends at . ! ? followed by a space or the end (not inside "$12,500.00" or "e.g.x"),
# or at a line break.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=\S))+(?:[.!?]+(?=\s|$)|\n|$)")
# An order id names what the question is about ("order TA-100245 ... what's its status?"):
# its sentence is kept too (the same pattern as data/nlu/account.yml's order_id regex).
_ORDER_ID = re.compile(r"\b(?:TA|PO)[- ]?\d{5,6}\b|\border\s+#?\d{5,6}\b", re.I)
_CUE = re.compile(
    r"\b(what|what's|whats|how|who|whom|whose|when|where|which|why|can|could|do|does|did|is|are|"
    r"will|would|should|may|wondering|want to know|tell me|explain|clarify)\b",
    re.I,
)


def question_spans(text: str, context: int = 0) -> Optional[List[Tuple[int, int]]]:
    """Spans of the question sentences of a long multi-sentence message (plus the `context`
    sentences just before each, where "that"/"it" usually point); None = use it all."""
    if not text or len(text.split()) < MIN_WORDS:
        return None
    sentences = [(m.start(), m.end(), m.group()) for m in _SENTENCE.finditer(text) if m.group().strip()]
    if len(sentences) < 2:
        return None
    keep = [i for i, (s, e, t) in enumerate(sentences) if t.rstrip().endswith("?")]
    if not keep:
        keep = [i for i, (s, e, t) in enumerate(sentences) if _CUE.search(t)]
    keep = sorted({j for i in keep for j in range(max(0, i - context), i + 1)}
                  | {i for i, (s, e, t) in enumerate(sentences) if _ORDER_ID.search(t)})
    if not keep or len(keep) == len(sentences):
        return None
    return [(sentences[i][0], sentences[i][1]) for i in keep]


def focus_text(text: str) -> str:
    """The question sentence(s) of a long message joined, or the whole text when it has no focus."""
    spans = question_spans(text or "")
    return " ".join(text[s:e] for s, e in spans) if spans else (text or "")
