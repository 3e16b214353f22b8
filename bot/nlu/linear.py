"""A second, simpler reader of every message: TF-IDF features and a logistic regression over
the full labels (`faq/<topic>` and the other intents), blended into DIET's intent ranking and
the ResponseSelector's topic ranking (issue 10, round 8; no framework imports).

Why: DIET and the ResponseSelector are trained from scratch on ~3,200 examples; on strangers'
wording their mistakes are often confident and differ from run to run (the retraining spread is
as large as most data rounds). A linear model on word and character n-grams makes different
mistakes, trains in seconds and reads a message in ~0.1 ms; the geometric mean of the two
readings is right more often than either (docs/ADDING_AN_FAQ.md "Round 8").

* `LinearReader.fit` learns the vocabularies and IDF weights (scikit-learn's TfidfVectorizer,
  sublinear tf, one L2-normalised block per analyzer) and the weights (LogisticRegression,
  multinomial); it keeps only arrays and dicts, so the model is saved as JSON + .npy (no pickle)
  and prediction needs only numpy: sklearn's per-call overhead (~1 ms) is not paid per message.
* `LinearReader.probabilities`: the label distribution of a message. A long message is read as
  its question sentence(s) (bot.nlu.focus, as DIET reads it) and whole; per head (intents, FAQ
  topic) the surer reading is kept, as `LongMessageReader` does for DIET.
* `blend`: the geometric mix of two readings, per head; a message either reader puts out of scope
  stays out of scope (the scope veto).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from bot.nlu.focus import focus_text

Encoder = Callable[[Sequence[str]], np.ndarray]  # texts -> one L2-normalised row per text

FAQ = "faq"
OUT_OF_SCOPE = "out_of_scope"
FLOOR = 1e-6  # a label one reading does not rank at all still gets a (tiny) share
TOKEN_PATTERN = r"(?u)\b\w+\b"  # one-letter words count ("i", "a" in "a 3 month loan")


def _analyzers(word_ngrams: Sequence[int], char_ngrams: Sequence[int]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(analyzer="word", ngram_range=tuple(word_ngrams), token_pattern=TOKEN_PATTERN,
                           sublinear_tf=True, lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), sublinear_tf=True,
                           lowercase=True, min_df=2)
    return word, char


class LinearReader:
    def __init__(self, classes: List[str], vocabs: List[Dict[str, int]], idfs: List[np.ndarray],
                 coef: np.ndarray, intercept: np.ndarray, word_ngrams: Sequence[int] = (1, 2),
                 char_ngrams: Sequence[int] = (2, 5), embed_scale: float = 0.0,
                 encoder: Optional[Encoder] = None) -> None:
        self.classes = list(classes)
        self.vocabs = vocabs
        self.idfs = [np.asarray(i, dtype=np.float64) for i in idfs]
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.word_ngrams, self.char_ngrams = tuple(word_ngrams), tuple(char_ngrams)
        self._offsets = np.cumsum([0] + [len(v) for v in vocabs])[:-1]
        # the sentence embedding's columns follow the n-gram columns (round 9, bot.nlu.minilm)
        self.embed_scale = float(embed_scale)
        self._dense = int(sum(len(v) for v in vocabs))
        if self.embed_scale > 0 and encoder is None:
            raise ValueError("this reader was trained with sentence embeddings: an encoder is needed")
        self._encoder = encoder if self.embed_scale > 0 else None
        # the embedding's weights, scaled and contiguous once (not sliced and copied per message)
        self._embed_coef = np.ascontiguousarray(self.coef[:, self._dense:]) * np.float32(self.embed_scale)
        word, char = _analyzers(self.word_ngrams, self.char_ngrams)
        self._analyze = [word.build_analyzer(), char.build_analyzer()]
        self._faq = np.array([c.startswith(FAQ + "/") for c in self.classes])

    # -------------------------------------------------------------- training
    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], C: float = 30.0,
            word_ngrams: Sequence[int] = (1, 2), char_ngrams: Sequence[int] = (2, 5),
            embed_scale: float = 0.0, encoder: Optional[Encoder] = None) -> "LinearReader":
        """`embed_scale` > 0: the encoder's sentence embedding of each text, times the scale, is
        appended to its n-gram features (the scale sets its weight against the two L2-normalised
        n-gram blocks)."""
        if embed_scale > 0:
            return cls.fit_pair(texts, labels, C, word_ngrams, char_ngrams, embed_scale, encoder)[1]
        return cls.fit_pair(texts, labels, C, word_ngrams, char_ngrams)[0]

    @classmethod
    def fit_pair(cls, texts: Sequence[str], labels: Sequence[str], C: float = 30.0,
                 word_ngrams: Sequence[int] = (1, 2), char_ngrams: Sequence[int] = (2, 5),
                 embed_scale: float = 0.0, encoder: Optional[Encoder] = None
                 ) -> Tuple["LinearReader", Optional["LinearReader"]]:
        """The n-gram reader and, with `embed_scale` > 0, the reader with embeddings too. They
        share the vectorizers, and the second fit starts from the first one's weights (zeros for the
        embedding's columns): the same optimum, in fewer iterations (the fits are most of
        LinearSecondOpinion's training time)."""
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        if len(set(labels)) < 2:
            raise ValueError("the linear reader needs at least two labels")
        if embed_scale > 0 and encoder is None:
            raise ValueError("embed_scale > 0 needs an encoder")
        focused = [focus_text(t) for t in texts]
        vectorizers = _analyzers(word_ngrams, char_ngrams)
        X = hstack([v.fit_transform(focused) for v in vectorizers]).tocsr()
        vocabs = [{k: int(i) for k, i in v.vocabulary_.items()} for v in vectorizers]
        idfs = [v.idf_ for v in vectorizers]
        clf = LogisticRegression(C=C, max_iter=3000).fit(X, list(labels))
        ngrams = cls(list(clf.classes_), vocabs, idfs, clf.coef_, clf.intercept_, word_ngrams, char_ngrams)
        if embed_scale <= 0:
            return ngrams, None
        dense = np.asarray(encoder(focused), dtype=np.float64) * embed_scale
        both = LogisticRegression(C=C, max_iter=3000, warm_start=True)
        both.coef_ = np.hstack([clf.coef_, np.zeros((clf.coef_.shape[0], dense.shape[1]))])
        both.intercept_ = clf.intercept_.copy()
        both.fit(hstack([X, csr_matrix(dense)]).tocsr(), list(labels))
        return ngrams, cls(list(both.classes_), vocabs, idfs, both.coef_, both.intercept_, word_ngrams,
                           char_ngrams, embed_scale, encoder)

    # -------------------------------------------------------------- reading
    def _features(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """Column indices and values of the message's TF-IDF vector (the same numbers as
        TfidfVectorizer.transform, without building a sparse matrix)."""
        cols: List[np.ndarray] = []
        vals: List[np.ndarray] = []
        for analyze, vocab, idf, offset in zip(self._analyze, self.vocabs, self.idfs, self._offsets):
            counts: Dict[int, int] = {}
            for gram in analyze(text):
                j = vocab.get(gram)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            v = tf * idf[idx]
            norm = math.sqrt(float((v * v).sum())) or 1.0
            cols.append(idx + offset)
            vals.append(v / norm)
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cols), np.concatenate(vals)

    def _proba(self, text: str, embedding: Optional[np.ndarray] = None) -> np.ndarray:
        # products summed with numpy's ufuncs, not `@`: a matrix-vector product this small goes to
        # OpenBLAS, whose worker threads then spin on both cores for ~50 ms of CPU after each call
        # (measured: 0.5 ms wall, 49.6 ms CPU for the embedding's 48 x 384; 0.1 ms CPU this way)
        idx, val = self._features(text)
        scores = self.intercept + ((self.coef[:, idx] * val).sum(axis=1) if len(idx) else 0.0)
        if embedding is not None:
            scores = scores + (self._embed_coef * embedding).sum(axis=1)
        scores = scores - scores.max()
        e = np.exp(scores)
        return e / e.sum()

    def _heads(self, p: np.ndarray) -> Tuple[float, float]:
        faq = float(p[self._faq].sum())
        other = float(p[~self._faq].max()) if (~self._faq).any() else 0.0
        topic = float(p[self._faq].max()) / faq if faq > 0 and self._faq.any() else 0.0
        return max(faq, other), topic

    def probabilities(self, text: str) -> Dict[str, float]:
        """label -> probability; a long message keeps, per head, its surer reading."""
        text = text or ""
        focus = focus_text(text)
        readings = [focus] if focus == text else [focus, text]
        embeddings = list(self._encoder(readings)) if self._encoder is not None else [None, None]
        p = self._proba(focus, embeddings[0])
        if focus != text:
            whole = self._proba(text, embeddings[1])
            (fi, ft), (wi, wt) = self._heads(p), self._heads(whole)
            src_i, src_t = (whole if wi > fi else p), (whole if wt > ft else p)
            if src_i is not src_t:
                mixed = src_i.copy()
                share = src_t[self._faq] / max(float(src_t[self._faq].sum()), 1e-12)
                mixed[self._faq] = float(src_i[self._faq].sum()) * share
                p = mixed
            else:
                p = src_i
        return {c: float(v) for c, v in zip(self.classes, p)}

    # -------------------------------------------------------------- storage
    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "linear.json").write_text(json.dumps({
            "classes": self.classes, "vocabs": self.vocabs, "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams), "embed_scale": self.embed_scale}), encoding="utf-8")
        np.save(folder / "linear_coef.npy", self.coef)
        np.save(folder / "linear_intercept.npy", self.intercept)
        for i, idf in enumerate(self.idfs):
            np.save(folder / f"linear_idf{i}.npy", idf)

    @classmethod
    def load(cls, folder: Path, encoder: Optional[Encoder] = None) -> Optional["LinearReader"]:
        meta_path = folder / "linear.json"
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        idfs = [np.load(folder / f"linear_idf{i}.npy", allow_pickle=False) for i in range(len(meta["vocabs"]))]
        return cls(meta["classes"], meta["vocabs"], idfs,
                   np.load(folder / "linear_coef.npy", allow_pickle=False),
                   np.load(folder / "linear_intercept.npy", allow_pickle=False),
                   meta["word_ngrams"], meta["char_ngrams"], meta.get("embed_scale", 0.0), encoder)


def split_heads(probs: Dict[str, float]) -> Tuple[Dict[str, float], Dict[str, float]]:
    """A full-label distribution as (intent -> p, with faq the sum of its topics) and
    (faq topic -> p given faq)."""
    intents: Dict[str, float] = {}
    topics: Dict[str, float] = {}
    for label, p in probs.items():
        if label.startswith(FAQ + "/"):
            intents[FAQ] = intents.get(FAQ, 0.0) + p
            topics[label] = p
        else:
            intents[label] = intents.get(label, 0.0) + p
    mass = sum(topics.values())
    if mass > 0:
        topics = {k: v / mass for k, v in topics.items()}
    return intents, topics


def geometric_mix(first: Dict[str, float], second: Dict[str, float], weight: float) -> List[Tuple[str, float]]:
    """p ~ first^(1-w) * second^w over both readings' labels, normalised, best first. A label
    only one reading ranks counts as FLOOR in the other (DIET ranks its top 10 only)."""
    keys = set(first) | set(second)
    if not keys:
        return []
    mixed = {k: (max(first.get(k, 0.0), FLOOR) ** (1.0 - weight)) * (max(second.get(k, 0.0), FLOOR) ** weight)
             for k in keys}
    total = sum(mixed.values()) or 1.0
    return sorted(((k, v / total) for k, v in mixed.items()), key=lambda kv: (-kv[1], kv[0]))


def blend(intents: Iterable[Tuple[str, float]], topics: Iterable[Tuple[str, float]],
          probs: Dict[str, float], weight: float,
          scope_veto: bool = True) -> Tuple[List[Tuple[str, float]], List[Tuple[str, float]]]:
    """(intent ranking, topic ranking) of the two readers together. With `scope_veto`, a message
    either reader puts out of scope is out of scope (OUT_OF_SCOPE first at 1.0): a Pay Later answer
    to an off-topic message is the worst error, so both readers must see a Pay Later question."""
    first = dict(intents)
    lin_intents, lin_topics = split_heads(probs)
    mixed = geometric_mix(first, lin_intents, weight)
    if scope_veto and mixed and mixed[0][0] != OUT_OF_SCOPE and (
            _top(first) == OUT_OF_SCOPE or _top(lin_intents) == OUT_OF_SCOPE):
        mixed = [(OUT_OF_SCOPE, 1.0)] + [(k, v) for k, v in mixed if k != OUT_OF_SCOPE]
    return mixed, geometric_mix(dict(topics), lin_topics, weight)


def settled(diet: Tuple[List[Tuple[str, float]], List[Tuple[str, float]]], probs: Dict[str, float],
            mixed: Tuple[List[Tuple[str, float]], List[Tuple[str, float]]], sure: float) -> bool:
    """Whether the blend of DIET's reading (intent ranking, topic ranking) and a linear reading
    needs no further reader: both name the same intent (and, for an FAQ question, the same topic),
    and the blend gives that intent (and topic) at least `sure`."""
    (diet_intents, diet_topics), (intents, topics) = diet, mixed
    lin_intents, lin_topics = split_heads(probs)
    if not intents or not diet_intents or intents[0][1] < sure:
        return False
    top = intents[0][0]
    if _top(dict(diet_intents)) != top or _top(lin_intents) != top:
        return False
    if top != FAQ:
        return True
    return bool(topics) and topics[0][1] >= sure and _top(dict(diet_topics)) == topics[0][0] == _top(lin_topics)


def _top(dist: Dict[str, float]) -> Optional[str]:
    return max(dist.items(), key=lambda kv: kv[1])[0] if dist else None
