"""Custom Rasa 3.6 NLU components (issue 10), named in config.yml by their module path.

* `QuestionFocusTokenizer`: the WhitespaceTokenizer, keeping only the tokens of the question
  sentence(s) of a long message (bot.nlu.focus). Token offsets still point into the full text,
  so entity extraction and the parse output are unchanged; training and parsing tokenize alike.
* `LongMessageReader`: a long message is read twice. With `whole_reading: true` the tokenizer
  adds a second message holding the whole text (not focused) at parse time only; every
  featurizer and classifier reads both; after the ResponseSelector, this component keeps, per
  head (intent ranking, FAQ topic ranking), the more confident of the two readings
  (bot.nlu.decide.whole_reading_wins) and drops the second message. Training is unchanged.
* `LinearSecondOpinion`: after LongMessageReader, before the FallbackClassifier. A TF-IDF +
  logistic-regression reader of the full labels (bot.nlu.linear) trained on the same examples;
  its reading is blended (geometric mean, `weight` for its share) into DIET's intent ranking and
  the ResponseSelector's topic ranking, so the FallbackClassifier and the guard judge the two
  readers together (issue 10, round 8). Round 9: a second such reader whose features also hold
  the message's all-MiniLM-L6-v2 sentence embedding (bot.nlu.minilm) reads every message that
  DIET and the n-gram reader do not settle together (`settled`): the encoder costs ~13-18 ms a
  message here (the ~35 ms once seen inside the Rasa process was OpenBLAS's threads after the
  reader's products, round 10), so the messages the cheap readers agree on are not encoded.
* `RetrievalGuard`: after the FallbackClassifier. An `faq` reading is let through only when the
  intent classifier and the response selector agree confidently (bot.nlu.decide.faq_passes);
  otherwise the message becomes `nlu_fallback` (ranking kept), so action_fallback clarifies
  with buttons or says honestly it can't help. What is not a Pay Later answer is never guessed.
  It is trained: it keeps the vocabulary of the Pay Later training examples, and a Pay Later
  reading (faq or an account intent) of a message whose content words are mostly unknown to it
  (`min_known_share`, bot.nlu.decide.domain_share) becomes `out_of_scope`: trivia gets the
  honest "not here" with what the bot can do and a person, not a Pay Later fact.
* `AmountExtractor`: after DIET, the `amount` entity is read by bot.parsing (the same reading the
  loan-cost action and the application form use: "20k", "USD 8,000", "twenty five thousand
  dollars" whole), not learnt: DIET's amount tags are replaced by it (DIET could tag a spelled-out
  amount in pieces, and how well it tags depends on its epochs). Round 11.
"""
from __future__ import annotations

import json
import logging
import re
import warnings
from typing import Any, Dict, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, RESPONSE_SELECTOR, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import decide
from bot.nlu.batching import length_bucketed
from bot.nlu.focus import question_spans
from bot.nlu import minilm
from bot.nlu.linear import LinearReader, blend, settled
from bot.nlu.minilm import WeightsMismatch
from bot.parsing import find_amount_span

logger = logging.getLogger(__name__)


# data key of the whole-text copy of a long message: the index of the message it reads
WHOLE_OF = "paylater_whole_reading_of"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class QuestionFocusTokenizer(WhitespaceTokenizer):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # context_sentences: sentences kept before each question sentence
        # whole_reading: at parse time, also read a focused message whole (LongMessageReader)
        return {**WhitespaceTokenizer.get_default_config(), "context_sentences": 0, "whole_reading": False}

    def process(self, messages: List[Message]) -> List[Message]:
        messages = super().process(messages)
        if not self._config.get("whole_reading"):
            return messages
        extra = []
        for i, message in enumerate(messages):
            text = message.get(TEXT)
            if isinstance(text, str) and message.get(WHOLE_OF) is None and self._spans(text):
                extra.append(Message(data={TEXT: text, WHOLE_OF: i}))
        if extra:
            super().process(extra)
            messages.extend(extra)
        return messages

    def _spans(self, text: str):
        return question_spans(text, int(self._config.get("context_sentences", 0)))

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute != TEXT or message.get(WHOLE_OF) is not None:
            return tokens
        spans = self._spans(message.get(TEXT) or "")
        if not spans:
            return tokens
        kept = [t for t in tokens if any(s <= t.start < e for s, e in spans)]
        return kept or tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LongMessageReader(GraphComponent):
    """After the ResponseSelector, before the FallbackClassifier: merges the whole-text reading
    of a long message into its focused reading and removes it from the batch."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LongMessageReader":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        kept = [m for m in messages if m.get(WHOLE_OF) is None]
        for whole in messages:
            i = whole.get(WHOLE_OF)
            if i is None or not 0 <= i < len(messages):
                continue
            focus = messages[i]
            take_intent, take_topic = decide.whole_reading_wins(self._view(focus), self._view(whole))
            if take_intent:
                focus.data[INTENT] = whole.get(INTENT)
                focus.data[INTENT_RANKING_KEY] = whole.get(INTENT_RANKING_KEY)
            if take_topic:
                focus.data[RESPONSE_SELECTOR] = whole.get(RESPONSE_SELECTOR)
        messages[:] = kept
        return messages

    @staticmethod
    def _view(message: Message) -> Dict[str, Any]:
        return {"intent": message.get(INTENT) or {}, "intent_ranking": message.get(INTENT_RANKING_KEY) or [],
                "response_selector": message.get(RESPONSE_SELECTOR) or {}}


class _StoredComponent(GraphComponent):
    """A trained component built from its config and its place in the model storage
    (subclasses take `(config, model_storage, resource)`)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config, model_storage, resource)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearSecondOpinion(_StoredComponent):
    RESPONSES_FILE = "faq_responses.json"
    EMBEDDED = "embedded"  # subfolder of the reader with sentence embeddings

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # weight: the linear reader's share in the geometric mean (0 = DIET's reading only)
        # scope_veto: a message either reader puts out of scope is out of scope
        # embed_scale: > 0 trains a second linear reader whose features add all-MiniLM-L6-v2's
        #   sentence embedding (bot.nlu.minilm), at this scale, to the n-grams (0 = n-grams only)
        # settled: the n-gram reader's blend is kept without encoding the message when DIET and it
        #   name the same label and the blend is at least this sure of it (intent and FAQ topic);
        #   any other message is read again with the embedding reader (> 1: every message)
        return {"weight": 0.7, "C": 30.0, "word_ngrams": [1, 2], "char_ngrams": [2, 5], "scope_veto": True,
                "embed_scale": 0.0, "settled": 0.9}

    def __init__(self, config: Dict[Text, Any], model_storage: Optional[ModelStorage] = None,
                 resource: Optional[Resource] = None, reader: Optional[LinearReader] = None,
                 responses: Optional[Dict[str, Any]] = None, embedded: Optional[LinearReader] = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage, self._resource = model_storage, resource
        self._reader = reader
        self._embedded = embedded
        self._responses = responses or {}
        self.encoded = 0  # messages read by the embedding reader (read by measurement scripts)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearSecondOpinion":
        reader, embedded, responses = None, None, {}
        try:
            with model_storage.read_from(resource) as path:
                reader = LinearReader.load(path)
                responses = json.loads((path / cls.RESPONSES_FILE).read_text(encoding="utf-8"))
                if (path / cls.EMBEDDED).exists():
                    embedded = LinearReader.load(path / cls.EMBEDDED, minilm.shared().encode_many)
        except (ValueError, OSError, WeightsMismatch) as e:
            # a model trained without it, or the encoder is missing: what could be loaded only
            logger.warning("LinearSecondOpinion: %s", e)
        return cls(config, model_storage, resource, reader, responses, embedded)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for m in training_data.intent_examples:
            label = m.get(INTENT_RESPONSE_KEY) or m.get(INTENT)
            if m.get(TEXT) and label:
                texts.append(m.get(TEXT))
                labels.append(label)
        settings = dict(C=float(self._config["C"]), word_ngrams=self._config["word_ngrams"],
                        char_ngrams=self._config["char_ngrams"])
        scale = float(self._config["embed_scale"])
        self._reader, self._embedded = LinearReader.fit_pair(
            texts, labels, **settings, embed_scale=scale, encoder=minilm.shared().encode_many if scale > 0 else None)
        self._responses = {k: v for k, v in (training_data.responses or {}).items()
                           if k.startswith(f"utter_{decide.FAQ}/")}
        if self._storage is not None and self._resource is not None:
            with self._storage.write_to(self._resource) as path:
                self._reader.save(path)
                if self._embedded is not None:
                    self._embedded.save(path / self.EMBEDDED)
                (path / self.RESPONSES_FILE).write_text(json.dumps(self._responses), encoding="utf-8")
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        weight = float(self._config["weight"])
        if self._reader is None or weight <= 0:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            view = {"intent": message.get(INTENT) or {}, "intent_ranking": message.get(INTENT_RANKING_KEY) or [],
                    "response_selector": message.get(RESPONSE_SELECTOR) or {}}
            diet = (decide.intent_ranking(view), decide.topic_ranking(view))
            probs = self._reader.probabilities(text)
            mixed = blend(*diet, probs, weight, scope_veto=bool(self._config["scope_veto"]))
            if self._embedded is not None and not settled(diet, probs, mixed, float(self._config["settled"])):
                self.encoded += 1
                mixed = blend(*diet, self._embedded.probabilities(text), weight,
                              scope_veto=bool(self._config["scope_veto"]))
            self._apply(message, view, *mixed)
        return messages

    def _apply(self, message: Message, view: Dict[str, Any], intents, topics) -> None:
        if not intents:
            return
        ids = {r.get("name"): r.get("id") for r in view["intent_ranking"]}
        ranking = [{"id": ids.get(name), "name": name, "confidence": conf} for name, conf in intents[:10]]
        message.data[INTENT_RANKING_KEY] = ranking
        message.data[INTENT] = dict(ranking[0])
        selector = (view["response_selector"] or {}).get(decide.FAQ)
        if selector is None or not topics:
            return
        top, conf = topics[0]
        response = dict(selector.get("response") or {})
        if response.get(INTENT_RESPONSE_KEY) != top:
            response.update({INTENT_RESPONSE_KEY: top, "utter_action": f"utter_{top}",
                             "responses": self._responses.get(f"utter_{top}") or response.get("responses")})
        response["confidence"] = conf
        selector = {**selector, "response": response,
                    "ranking": [{"confidence": c, INTENT_RESPONSE_KEY: k} for k, c in topics[:10]]}
        message.data[RESPONSE_SELECTOR] = {**message.get(RESPONSE_SELECTOR), decide.FAQ: selector}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalGuard(_StoredComponent):
    VOCAB_FILE = "vocabulary.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**decide.GUARD, **decide.VOCAB}

    def __init__(self, config: Dict[Text, Any], model_storage: Optional[ModelStorage] = None,
                 resource: Optional[Resource] = None, vocab: Optional[Set[str]] = None) -> None:
        self._guard = {k: float(config.get(k, v)) for k, v in decide.GUARD.items()}
        self._min_known = float(config.get("min_known_share", decide.VOCAB["min_known_share"]))
        self._storage, self._resource = model_storage, resource
        self._set_vocab(vocab or set())

    def _set_vocab(self, vocab: Set[str]) -> None:
        self._vocab = set(vocab)
        self._index = decide.length_index(self._vocab)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "RetrievalGuard":
        vocab: Set[str] = set()
        try:
            with model_storage.read_from(resource) as path:
                vocab = set(json.loads((path / cls.VOCAB_FILE).read_text(encoding="utf-8")))
        except (ValueError, OSError):
            pass  # a model trained before the vocabulary check: the check is off
        return cls(config, model_storage, resource, vocab)

    def train(self, training_data: TrainingData) -> Resource:
        texts = [m.get(TEXT) for m in training_data.intent_examples
                 if (m.get(INTENT) or "") in decide.DOMAIN_INTENTS]
        self._set_vocab(decide.vocabulary(texts))
        if self._storage is not None and self._resource is not None:
            with self._storage.write_to(self._resource) as path:
                (path / self.VOCAB_FILE).write_text(json.dumps(sorted(self._vocab)), encoding="utf-8")
        return self._resource

    def _off_topic(self, message: Message, intent_name: Optional[str]) -> bool:
        if self._min_known <= 0 or not self._vocab or intent_name not in decide.DOMAIN_INTENTS:
            return False
        share = decide.domain_share(message.get(TEXT) or "", self._vocab, self._index)
        return share < self._min_known

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get("name")
            if name == "nlu_fallback":  # the FallbackClassifier's: judge the reading under it
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != "nlu_fallback"]
                name = ranking[0].get("name") if ranking else None
            if self._off_topic(message, name):
                self._replace(message, "out_of_scope", 1.0)
                continue
            if intent.get("name") != decide.FAQ:
                continue
            parse = {"intent": intent, "intent_ranking": message.get(INTENT_RANKING_KEY) or [],
                     "response_selector": message.get(RESPONSE_SELECTOR) or {}}
            if not decide.faq_passes(parse, self._guard):
                self._replace(message, "nlu_fallback", float(intent.get("confidence") or 0.0))
        return messages

    @staticmethod
    def _replace(message: Message, name: str, confidence: float) -> None:
        reading = {"name": name, "confidence": confidence}
        message.data[INTENT] = reading
        message.data.setdefault(INTENT_RANKING_KEY, [])
        message.data[INTENT_RANKING_KEY].insert(0, dict(reading))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class AmountExtractor(GraphComponent, EntityExtractorMixin):
    """The `amount` entity from bot.parsing.find_amount_span, replacing any other extractor's.

    `min_plain`: a bare number without "$", "USD", "dollars" or a scale ("k", "thousand") is an
    amount only from this value up ("I have 2 orders" sets no amount; "borrow 5000" does)."""

    ENTITY = "amount"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_plain": 100}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "AmountExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            entities = [e for e in message.get("entities") or [] if e.get("entity") != self.ENTITY]
            found = find_amount_span(text) if isinstance(text, str) else None
            if found is not None and self._plausible(text[found[0]:found[1]], found[2]):
                start, end, _ = found
                entities += self.add_extractor_name([{"entity": self.ENTITY, "start": start, "end": end,
                                                      "value": text[start:end], "confidence_entity": 1.0}])
            message.set("entities", sorted(entities, key=lambda e: e.get("start", 0)), add_to_output=True)
        return messages

    _MARKED = re.compile(r"\$|\b(?:usd|dollars?|bucks|thousand|million|billion|grand)\b|\d\s?(?:k|m|mm|bn)\b", re.I)

    def _plausible(self, span: str, value) -> bool:
        return bool(self._MARKED.search(span)) or value >= self._config["min_plain"]


# Rasa's recipe validator checks for DIETClassifier by identity (`type in set`), not by subclass: with
# the subclass below it would warn that the entity examples and the lookup tables are used by nothing.
# They are (DIET trains on them), so those two warnings are not shown; every other one is.
for _unused in ("training data consisting of entity examples, but your NLU configuration",
                "training data consisting of lookup tables, but your NLU configuration does not include any"):
    warnings.filterwarnings("ignore", message=f"You have defined {_unused}", category=UserWarning)


# DIET trained on length-aware batches (bot/nlu/batching.py): per window of `length_buckets` batches,
# the longest `long_batches` batches' worth of examples share their own batch(es), so the others are
# not padded to the long tail (0 = Rasa's batches). Prediction is Rasa's, untouched.
@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class BucketedDIETClassifier(DIETClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DIETClassifier.get_default_config(), "length_buckets": 8, "long_batches": 1}

    def train(self, training_data: TrainingData) -> Resource:
        with length_bucketed(int(self.component_config.get("length_buckets") or 0),
                             int(self.component_config.get("long_batches") or 0)):
            return super().train(training_data)
