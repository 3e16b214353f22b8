"""Length-bucketed training batches (bot/nlu/batching.py): every example still seen once per epoch,
batches of about the same length (so little padding), the label balance of Rasa's order kept per
window, the short batch last, and Rasa's own batches when it is off."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bot.nlu.batching import bucketed_order, length_bucketed


def lengths_like_ours(n=1000, seed=0):
    rng = np.random.RandomState(seed)
    return rng.choice([3, 5, 7, 9, 12, 20, 38], size=n, p=[.15, .25, .25, .15, .1, .07, .03])


@pytest.mark.parametrize("long_batches", [1, 0])  # 1: what config.yml trains with; 0: whole windows sorted
def test_every_example_once_and_far_less_padding(long_batches):
    lengths = lengths_like_ours()
    ids = bucketed_order(lengths, 64, 8, np.random.RandomState(1), long_batches)
    assert sorted(ids) == list(range(len(lengths)))
    batches = [ids[i:i + 64] for i in range(0, len(ids), 64)]
    padded = sum(len(b) * lengths[b].max() for b in batches)
    rasa_padded = sum(len(b) * lengths[b].max() for b in np.array_split(np.arange(len(lengths)), len(batches)))
    assert padded < 0.6 * rasa_padded


def test_the_longest_share_their_own_batch():
    lengths = lengths_like_ours(512)
    ids = bucketed_order(lengths, 32, 8, np.random.RandomState(5), long_batches=1)
    batches = [ids[i:i + 32] for i in range(0, 512, 32)]
    for window in (0, 1):
        members = np.arange(window * 256, window * 256 + 256)
        longest = set(members[np.argsort(-lengths[members], kind="stable")[:32]])
        assert any(set(b) == longest for b in batches)


def test_the_short_batch_stays_last():
    lengths = lengths_like_ours(1000)
    ids = bucketed_order(lengths, 64, 4, np.random.RandomState(2))
    # 1000 = 15 full batches of 64 + 40: the 40 are the last window's rest, at the end
    window_start = (1000 // (64 * 4)) * 64 * 4
    assert set(ids[-40:]) <= set(range(window_start, 1000))


@pytest.mark.parametrize("long_batches", [1, 0])
def test_a_window_keeps_its_examples(long_batches):
    # balancing happened before (Rasa's order): sorting inside a window never moves an example to
    # another window's batches, so each window keeps the label mix Rasa gave it
    lengths = lengths_like_ours(512)
    ids = bucketed_order(lengths, 32, 4, np.random.RandomState(3), long_batches)
    for batch in (ids[i:i + 32] for i in range(0, 512, 32)):
        assert len({int(i) // 128 for i in batch}) == 1


def test_off_and_empty():
    lengths = lengths_like_ours(100)
    assert list(bucketed_order(lengths, 32, 0, np.random.RandomState(0))) == list(range(100))
    assert list(bucketed_order(np.array([], dtype=int), 32, 4, np.random.RandomState(0))) == []


def test_same_seed_same_order():
    lengths = lengths_like_ours(700)
    a = bucketed_order(lengths, 50, 4, np.random.RandomState(7))
    b = bucketed_order(lengths, 50, 4, np.random.RandomState(7))
    assert list(a) == list(b)


def model_data(lengths, labels):
    from rasa.utils.tensorflow.constants import SEQUENCE, SEQUENCE_LENGTH
    from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData

    seqs = np.empty(len(lengths), dtype=object)
    for i, n in enumerate(lengths):
        seqs[i] = np.full((n, 3), i, dtype=np.float32)  # each example's rows carry its own index
    return RasaModelData(label_key="label", label_sub_key="ids", data={
        "text": {SEQUENCE: [FeatureArray(seqs, number_of_dimensions=3)],
                 SEQUENCE_LENGTH: [FeatureArray(np.asarray(lengths), number_of_dimensions=1)]},
        "label": {"ids": [FeatureArray(np.asarray([[k] for k in labels]), number_of_dimensions=2)]},
    })


@pytest.mark.parametrize("strategy", ["balanced", "sequence"])
@pytest.mark.parametrize("long_batches", [1, 0])
def test_rasa_generator_pads_less_and_sees_every_example(strategy, long_batches):
    from rasa.utils import train_utils

    lengths = lengths_like_ours(600, seed=4)
    labels = [i % 7 for i in range(600)]
    data = model_data(lengths, labels)
    seen, padded = {}, {}
    for window in (0, 4):
        np.random.seed(42)
        with length_bucketed(window, long_batches):
            generator, _ = train_utils.create_data_generators(data, 32, 3, strategy, 0, 42)
        assert train_utils.RasaBatchDataGenerator.__name__ == "RasaBatchDataGenerator"  # swapped back
        generator.on_epoch_end()
        ids, cells = Counter(), 0
        for i in range(len(generator)):
            batch, _ = generator[i]
            sequences = batch[0]  # (examples, longest in batch, 3), padded with zeros
            cells += sequences.shape[0] * sequences.shape[1]
            ids.update(int(row[0, 0]) for row in sequences)
        seen[window], padded[window] = ids, cells
    assert seen[4] == seen[0]  # the same examples, as often (balancing repeats rare labels alike)
    assert padded[4] < 0.6 * padded[0]
