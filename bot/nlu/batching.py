"""Length-aware training batches for DIET (issues 10 and 14: `make train`).

Rasa pads every training batch to its longest example. Our examples are short (7 tokens at the
median, 12 at the 90th percentile) with a tail of long ones (up to ~40 tokens after the question
focus), and a random batch of 128-512 nearly always holds one of the tail: ~4x more padded positions
than real tokens, and DIET's transformer, input layers and CRF compute over every one of them.

Each epoch's order is Rasa's own (shuffled, then balanced by label). Then, per window of
`window_batches` consecutive batches, the longest `long_batches` batches' worth of examples are put
together in their own batch(es) and the rest keep Rasa's order; the batches of the epoch are shuffled
(the one short batch stays last). Every example is seen as often as before, each window keeps the
label mix Rasa gave it, and the other batches are no longer padded to the tail: padded positions
~4.4x -> ~1.9x the real tokens, DIET's training CPU ~0.68x. Padding is masked, so an example's own
computation is unchanged; what changes is which examples share a batch.

`long_batches=0` sorts whole windows by length instead (~1.1x padding, DIET 0.59x): measured and
rejected, it cost 2-6 points on every evaluation set (batches of one length are batches of few
intents). docs/ADDING_AN_FAQ.md "Training time, second round: length-aware batches".
"""
from __future__ import annotations

import contextlib
from typing import Iterator, List

import numpy as np


def bucketed_order(lengths: np.ndarray, batch_size: int, window_batches: int,
                   rng: np.random.RandomState, long_batches: int = 0) -> np.ndarray:
    """A permutation of range(len(lengths)): per window of `window_batches` batches, the longest
    `long_batches` batches' worth of examples moved to the window's end (or, with long_batches=0,
    the window sorted by length; stable), cut into batches, the full batches shuffled and the one
    short batch (if any) last, where Rasa's generator expects it."""
    n = len(lengths)
    if n == 0 or batch_size <= 0 or window_batches <= 0:
        return np.arange(n)
    window = batch_size * window_batches
    full: List[np.ndarray] = []
    short: List[np.ndarray] = []
    for start in range(0, n, window):
        ids = np.arange(start, min(start + window, n))
        if long_batches and len(ids) > long_batches * batch_size:
            # only the longest `long_batches` batches' worth go together; the rest keep Rasa's order
            longest = np.sort(np.argsort(-lengths[ids], kind="stable")[:long_batches * batch_size])
            rest = np.setdiff1d(np.arange(len(ids)), longest)
            ids = np.concatenate([ids[rest], ids[longest]])
        else:
            ids = ids[np.argsort(lengths[ids], kind="stable")]
        for b in range(0, len(ids), batch_size):
            (full if b + batch_size <= len(ids) else short).append(ids[b:b + batch_size])
    # the short pieces (only the last window has one unless a window is not a multiple) go last, together
    order = [full[i] for i in rng.permutation(len(full))] if full else []
    return np.concatenate(order + short) if (order or short) else np.arange(n)


def _generator_class():
    from rasa.utils.tensorflow.constants import SEQUENCE_LENGTH
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
    from rasa.shared.nlu.constants import TEXT

    class LengthBucketedBatchGenerator(RasaBatchDataGenerator):
        window_batches = 8
        long_batches = 0

        def _shuffle_and_balance(self, batch_size: int):
            data = super()._shuffle_and_balance(batch_size)
            lengths = _lengths(data, TEXT, SEQUENCE_LENGTH)
            if lengths is None or batch_size <= 0:
                return data
            ids = bucketed_order(lengths, batch_size, self.window_batches, np.random, self.long_batches)
            return self.model_data._data_for_ids(data, ids)

    return LengthBucketedBatchGenerator


def _lengths(data, text_key: str, length_key: str):
    try:
        return np.asarray(data[text_key][length_key][0]).reshape(-1)
    except (KeyError, IndexError, TypeError):
        return None


@contextlib.contextmanager
def length_bucketed(window_batches: int, long_batches: int = 0) -> Iterator[None]:
    """While training inside this block, Rasa's DIET-family models batch by length (see above).

    DIETClassifier.train (and the ResponseSelector, its subclass) builds its generator through
    `rasa.utils.train_utils.create_data_generators`; this swaps the generator class it uses for
    the block. Training runs one model per process at a time (bot/train.py puts the selector in its
    own process), so nothing else sees the swap."""
    if window_batches <= 0:
        yield
        return
    from rasa.utils import train_utils

    cls = _generator_class()
    cls.window_batches = window_batches
    cls.long_batches = long_batches
    original = train_utils.RasaBatchDataGenerator
    train_utils.RasaBatchDataGenerator = cls
    try:
        yield
    finally:
        train_utils.RasaBatchDataGenerator = original
