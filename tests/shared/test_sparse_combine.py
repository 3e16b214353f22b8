"""bot/rasa_server.py `install_fast_sparse_combine`: two COO feature matrices are joined exactly
as `scipy.sparse.hstack` joins them (entries, order, dtypes, shape), and the product model's
parses are the same with it."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from rasa.shared.nlu.training_data.features import Features

from bot import rasa_server
from bot.config import PROJECT_ROOT

sys.path.insert(0, str(Path(__file__).parent))
from test_rasa_message_path import NLU_TEXTS  # noqa: E402

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"


def random_coo(rng, rows, cols, dtype):
    m = scipy.sparse.random(rows, cols, density=rng.uniform(0, 0.5), format="coo", random_state=rng.integers(1 << 30))
    return scipy.sparse.coo_matrix((m.data.astype(dtype), (m.row, m.col)), shape=(rows, cols))


def same(x, y):
    assert type(x) is type(y) and x.shape == y.shape and x.dtype == y.dtype
    for name in ("row", "col", "data"):
        a, b = getattr(x, name), getattr(y, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def test_hstack_coo_is_scipys_hstack():
    rng = np.random.default_rng(14)
    dtypes = [np.float64, np.float32, np.int64, np.int32, np.bool_]
    for _ in range(300):
        rows = int(rng.integers(0, 12))
        a = random_coo(rng, rows, int(rng.integers(0, 40)), dtypes[int(rng.integers(len(dtypes)))])
        b = random_coo(rng, rows, int(rng.integers(0, 40)), dtypes[int(rng.integers(len(dtypes)))])
        same(rasa_server.hstack_coo(a, b), scipy.sparse.hstack([a, b]))
    big = scipy.sparse.coo_matrix((np.ones(1), ([0], [70000])), shape=(1, 70001))  # 32-bit indices still
    same(rasa_server.hstack_coo(big, big), scipy.sparse.hstack([big, big]))


def test_features_combine_as_rasa_does(monkeypatch):
    monkeypatch.setattr(Features, "_combine_sparse_features", Features._combine_sparse_features)
    rng = np.random.default_rng(3)
    pairs = [(random_coo(rng, 5, 7, np.float64), random_coo(rng, 5, 3, np.float64)),
             (random_coo(rng, 1, 4, np.float32).tocsr(), random_coo(rng, 1, 2, np.float32))]  # not both COO
    expected = []
    for a, b in pairs:
        f = Features(a, "sequence", "text", "A")
        f.combine_with_features(Features(b, "sequence", "text", "B"))
        expected.append(f.features)
    rasa_server.install_fast_sparse_combine()
    for (a, b), want in zip(pairs, expected):
        f = Features(a, "sequence", "text", "A")
        f.combine_with_features(Features(b, "sequence", "text", "B"))
        same(f.features, want)
    with pytest.raises(ValueError):
        Features(pairs[0][0], "sequence", "text", "A").combine_with_features(
            Features(pairs[1][1], "sequence", "text", "B"))


@pytest.mark.stack
def test_the_product_model_parses_the_same(monkeypatch):
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL} (make train)")
    from rasa.core.agent import load_agent

    monkeypatch.setattr(Features, "_combine_sparse_features", Features._combine_sparse_features)
    loop = asyncio.new_event_loop()
    agent = loop.run_until_complete(load_agent(model_path=str(MODEL)))
    before = [loop.run_until_complete(agent.parse_message(t)) for t in NLU_TEXTS]
    rasa_server.install_fast_sparse_combine()
    after = [loop.run_until_complete(agent.parse_message(t)) for t in NLU_TEXTS]
    loop.close()
    assert after == before
