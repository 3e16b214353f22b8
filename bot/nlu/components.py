"""Custom Rasa 3.6 NLU components (issue 10), named in config.yml by their module path.

* `QuestionFocusTokenizer`: the WhitespaceTokenizer, keeping only the tokens of the question
  sentence(s) of a long message (bot.nlu.focus). Token offsets still point into the full text,
  so entity extraction and the parse output are unchanged; training and parsing tokenize alike.
* `RetrievalGuard`: after the FallbackClassifier. An `faq` reading is let through only when the
  intent classifier and the response selector agree confidently (bot.nlu.decide.faq_passes);
  otherwise the message becomes `nlu_fallback` (ranking kept), so action_fallback clarifies
  with buttons or says honestly it can't help. What is not a Pay Later answer is never guessed.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import decide
from bot.nlu.focus import question_spans


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class QuestionFocusTokenizer(WhitespaceTokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # context_sentences: sentences kept before each question sentence
        return {**WhitespaceTokenizer.get_default_config(), "context_sentences": 0}

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute != TEXT:
            return tokens
        spans = question_spans(message.get(TEXT) or "", int(self._config.get("context_sentences", 0)))
        if not spans:
            return tokens
        kept = [t for t in tokens if any(s <= t.start < e for s, e in spans)]
        return kept or tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RetrievalGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return dict(decide.GUARD)

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._guard = {k: float(config.get(k, v)) for k, v in decide.GUARD.items()}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "RetrievalGuard":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != decide.FAQ:
                continue
            parse = {"intent": intent, "intent_ranking": message.get(INTENT_RANKING_KEY) or [],
                     "response_selector": message.get("response_selector") or {}}
            if not decide.faq_passes(parse, self._guard):
                fallback = {"name": "nlu_fallback", "confidence": float(intent.get("confidence") or 0.0)}
                message.data[INTENT] = fallback
                message.data.setdefault(INTENT_RANKING_KEY, [])
                message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
        return messages
