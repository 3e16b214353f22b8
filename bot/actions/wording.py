"""Buyer sentences live in domain.yml as `utter_*` responses with `{variables}` (Rasa's
convention: a copywriter or a translator edits one file). Actions render them here from the
`domain` dict Rasa sends with every action call, so one reply can combine several sentences.

The domain file on disk is the fallback when the dict lacks a response (a model trained before
the response existed, or a test that passes no domain)."""
from __future__ import annotations

import functools
import logging
import string
from typing import Any, Dict, Mapping, Optional

import yaml

from bot.config import PROJECT_ROOT

logger = logging.getLogger(__name__)
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"


@functools.lru_cache(maxsize=1)
def domain_file_responses() -> Dict[str, Any]:
    with open(DOMAIN_FILE, encoding="utf-8") as f:
        return (yaml.safe_load(f) or {}).get("responses") or {}


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Wording:
    """`w("utter_credit_line_view", limit="$50,000.00", ...)` -> the sentence."""

    def __init__(self, domain: Optional[Mapping[str, Any]] = None):
        self.responses = dict((domain or {}).get("responses") or {})

    def template(self, name: str) -> Optional[str]:
        for source in (self.responses, domain_file_responses()):
            variants = source.get(name)
            if variants:
                # the first variant without a condition (the one for any client)
                plain = [v for v in variants if not v.get("condition")] or variants
                text = plain[0].get("text")
                if text is not None:
                    return text
        return None

    def __call__(self, response: str, /, **values: Any) -> str:
        text = self.template(response)
        if text is None:
            logger.error("response %s is missing from domain.yml", response)
            return ""
        return string.Formatter().vformat(text, (), _Keep({k: "" if v is None else v for k, v in values.items()}))

    def has(self, name: str) -> bool:
        return self.template(name) is not None

    def label(self, group: str, key: Optional[str]) -> str:
        """A word for a code, e.g. label("method", "tt") -> "T/T"; the code itself if unknown."""
        if not key:
            return ""
        name = f"utter_label_{group}_{key}"
        return self(name) if self.has(name) else key.replace("_", " ")


def join(*parts: Optional[str], sep: str = "\n") -> str:
    """Non-empty parts joined into one reply."""
    return sep.join(p for p in parts if p)
