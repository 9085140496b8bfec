"""Review sentiment: our own linear model (shipped), SnowNLP as a baseline, and a no-op scorer.

Every scorer has the same small surface, which the tagger calls once per chunk:

    scorer.score(texts_norm, tokens) -> np.ndarray of float in [0, 1]   (higher = more positive)
    scorer.label(scores)             -> np.ndarray of 'pos' | 'neg' | 'neu'
    scorer.manifest()                -> dict (name, version, sha256) for run.json

`score` never segments again: it reads the tokens the tagger already produced (so sentiment costs
a few dictionary look-ups per review, not a second jieba pass) and the normalised text, from which
it takes character n-grams (robust to small differences in segmentation, e.g. user words).

The shipped model (`cxtext/models/sentiment-zh/`) is stored as plain arrays (`weights.npz`, loaded
with `allow_pickle=False`: sorted 64-bit n-gram keys, idf, weights) plus JSON (`model.json`:
metadata and calibration). No n-gram strings are stored and nothing in it can execute code when
loaded. Training lives in `cxtext.train`.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import add
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from cxtext.paths import cache_dir, shipped_model_dir

__all__ = [
    "MODEL_FORMAT",
    "NEU_BAND",
    "LinearSentiment",
    "NgramFeaturizer",
    "NoSentiment",
    "SentimentModelError",
    "SnowNLPSentiment",
    "Scorer",
    "labels_from_scores",
    "load_sentiment",
    "ngrams",
    "shipped_model_dir",
    "snownlp_retrained_path",
]

MODEL_FORMAT = "cxtext-sentiment-linear/2"
# Calibrated scores in [0.4, 0.6] are too close to call: label them 'neu' rather than guess.
NEU_BAND = (0.4, 0.6)
MAX_WORD_CHARS = 6
MODEL_FILES = ("model.json", "weights.npz")
KEY_ARRAYS = ("word_keys", "bigram_keys", "char_keys")
_SPACE = re.compile(r"[\s\x00]+")  # NUL too: it separates documents in a batch
_WHITESPACE = re.compile(r"\s+")
# Word keys: a polynomial hash of the code points mod 2**64 (odd multipliers), then the length.
_WORD_MUL = np.uint64(0x100000001B3)
_LEN_MUL = np.uint64(0x9E3779B97F4A7C15)
_BIGRAM_MUL = np.uint64(0xC2B2AE3D27D4EB4F)
_POW = np.concatenate([[1], np.cumprod(np.full(MAX_WORD_CHARS + 1, _WORD_MUL, dtype=np.uint64))]).astype(np.uint64)
_NO_KEY = np.uint64(2**64 - 1)  # the key of a word too long to be in the vocabulary


class SentimentModelError(ValueError):
    """A sentiment model that cannot be found or read; the message says which file and why."""


class Scorer(Protocol):
    name: str

    def score(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray: ...

    def label(self, scores: np.ndarray) -> np.ndarray: ...

    def manifest(self) -> dict: ...


def labels_from_scores(scores: np.ndarray, band: tuple[float, float] = NEU_BAND) -> np.ndarray:
    """'pos' above the band, 'neg' below it, 'neu' inside it (band edges count as 'neu')."""
    scores = np.asarray(scores, dtype=float)
    out = np.full(scores.shape, "neu", dtype=object)
    out[scores > band[1]] = "pos"
    out[scores < band[0]] = "neg"
    return out


def snownlp_retrained_path() -> Path:
    """Where `bench/sentiment.py` writes SnowNLP's classifier retrained on our corpora."""
    return cache_dir() / "snownlp-retrained" / "sentiment.marshal"


# --- features -------------------------------------------------------------------------------

def ngrams(tokens: Sequence[str], text: str, word_n: int = 2, char_n: tuple[int, int] = (1, 3)):
    """Word 1–2-grams (a bigram joined by a space) from `tokens`; character n-grams from `text`.

    Whitespace tokens are dropped and whitespace is removed before taking character n-grams, so
    spacing differences between sources do not change the features. Words longer than
    MAX_WORD_CHARS (runs of Latin letters or digits that jieba keeps whole) give no word n-gram,
    so the vocabulary never holds a phrase longer than two short words; their characters still
    count. (Built with `map` over shifted copies rather than slicing in a loop: this runs on
    every review.)
    """
    words = [t for t in tokens if not t.isspace()]
    short = [len(w) <= MAX_WORD_CHARS for w in words]
    wgrams = [w for w, ok in zip(words, short) if ok]
    if word_n >= 2:
        wgrams.extend(a + " " + b for a, b, oka, okb in zip(words, words[1:], short, short[1:]) if oka and okb)
    compact = _SPACE.sub("", text) if _SPACE.search(text) else text
    cgrams: list[str] = []
    grams: Sequence[str] = compact
    for n in range(1, char_n[1] + 1):
        if n > 1:
            grams = list(map(add, grams, compact[n - 1:]))
        if n >= char_n[0]:
            cgrams.extend(grams)
    return wgrams, cgrams


def word_keys(words: Sequence[str]) -> np.ndarray:
    """64-bit key of each word (vectorised: one encode and a few array operations per batch).

    key = (Σᵢ (codeᵢ + 1)·m^i mod 2⁶⁴)·m' + length, with m, m' odd. Only words of at most
    MAX_WORD_CHARS characters are ever looked up; longer ones get a key that is never stored.
    """
    n = len(words)
    lens = np.fromiter(map(len, words), dtype=np.int64, count=n)
    codes = np.frombuffer("".join(words).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    out = np.zeros(n, dtype=np.uint64)
    nonempty = lens > 0
    if len(codes):
        starts = np.cumsum(lens) - lens
        pos = np.arange(len(codes), dtype=np.int64) - np.repeat(starts, lens)
        with np.errstate(over="ignore"):
            terms = (codes + np.uint64(1)) * _POW[np.minimum(pos, len(_POW) - 1)]
            out[nonempty] = np.add.reduceat(terms, starts[nonempty])
    with np.errstate(over="ignore"):
        out = out * _LEN_MUL + lens.astype(np.uint64)
    out[lens > MAX_WORD_CHARS] = _NO_KEY
    return out


def _bigram_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return a * _BIGRAM_MUL + (b ^ (b >> np.uint64(29)))


def _char_keys(grams: Sequence[str]) -> np.ndarray:
    """Exact key of each character 1–3-gram: its code points packed 21 bits apart."""
    out = np.zeros(len(grams), dtype=np.uint64)
    lens = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
    for n in (1, 2, 3):
        idx = np.flatnonzero(lens == n)
        if not len(idx):
            continue
        codes = np.frombuffer("".join(grams[i] for i in idx).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.uint64).reshape(-1, n)
        key = codes[:, 0].copy()
        for j in range(1, n):
            key = (key << np.uint64(21)) | codes[:, j]
        out[idx] = key
    return out


_EMPTY = np.uint64(2**64 - 1)  # an empty slot of a KeyTable
_SLOT_MUL = np.uint64(0xD6E8FEB86659FD93)  # odd: multiplicative hashing, slot = top bits of key·m


class KeyTable:
    """Open-addressing hash table over a sorted key array: which queries it holds, and where.

    Built at load time from the sorted keys (never stored: the model file keeps only the sorted
    arrays). Home slot of a key = the top `bits` bits of key·m mod 2⁶⁴ (m odd), at most half of
    the 2^bits home slots used; collisions go to the next free slot (linear probing, past the
    end into a short overflow tail instead of wrapping around). Each slot holds a key (or _EMPTY)
    and its position in the sorted array.

    Building needs no loop: with keys taken in order of home slot, key i lands in slot
    max(home_i, slot_{i-1} + 1) = i + max_{j<=i}(home_j - j), one `np.maximum.accumulate`.
    Probing runs in rounds over the whole batch: round r reads slot home + r for every query
    still open, so a batch costs a few vectorised passes (most queries settle in the first)
    instead of a ~20-step binary search each. A vocabulary that holds the value _EMPTY itself
    keeps it aside and answers it by comparison.
    """

    def __init__(self, keys: np.ndarray):
        keys = np.asarray(keys, dtype=np.uint64)
        n = len(keys)
        self.bits = max(int(2 * n - 1).bit_length(), 1)  # 2**bits >= 2n: load factor <= 0.5
        self._shift = np.uint64(64 - self.bits)
        self.empty_pos = -1  # position of the key _EMPTY, if the vocabulary holds it
        if n and keys[-1] == _EMPTY:  # sorted: only the last can be the largest value
            self.empty_pos, n = n - 1, n - 1
        # Order by home slot with one sort of (home, position) packed into one integer.
        idx_bits = max(int(n).bit_length(), 1)
        packed = np.sort((self._home(keys[:n]).astype(np.uint64) << np.uint64(idx_bits))
                         | np.arange(n, dtype=np.uint64))
        order = (packed & np.uint64((1 << idx_bits) - 1)).astype(np.int64)
        home = (packed >> np.uint64(idx_bits)).astype(np.int64)
        i = np.arange(n, dtype=np.int64)
        slot = i + np.maximum.accumulate(home - i) if n else i
        # the last slot always stays empty, so every probe stops inside the array
        size = max(1 << self.bits, int(slot[-1]) + 2 if n else 1)
        self.slots = np.full(size, _EMPTY, dtype=np.uint64)
        self.pos = np.zeros(size, dtype=np.int32 if n < 2**31 else np.int64)
        self.slots[slot] = keys[order]
        self.pos[slot] = order

    def _home(self, query: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((query * _SLOT_MUL) >> self._shift).astype(np.int64)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(where, positions): the indices in `query` of the keys the sorted key array holds, in
        increasing order, and the index of each in that array (what a `searchsorted` would give).

        (Integer `take` rather than boolean masks throughout: several times faster here.)
        """
        query = np.asarray(query, dtype=np.uint64)
        home = self._home(query)
        s = self.slots.take(home)
        hit = s == query
        out = np.where(hit, self.pos.take(home), -1)  # first round over the whole batch
        open_ = np.flatnonzero(~hit & (s != _EMPTY))  # neither found nor ended at an empty slot
        step = 1
        while len(open_):
            at = home.take(open_) + step
            q, s = query.take(open_), self.slots.take(at)
            hit = s == q
            if hit.any():
                out[open_[hit]] = self.pos.take(at[hit])
            open_ = open_[~hit & (s != _EMPTY)]
            step += 1
        # a query _EMPTY "hits" an empty slot above: answer it here (e.g. _NO_KEY of a long word)
        out[query == _EMPTY] = self.empty_pos
        where = np.flatnonzero(out >= 0)
        return where, out.take(where).astype(np.int64)


def _count_pairs(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int):
    """Distinct (row, column) pairs in row-major order, and how often each occurs.

    One sort of row·n_cols + column, in 32 bits whenever that fits (a batch of up to 6,700
    reviews for the shipped model), which sorts about twice as fast as 64 bits.
    """
    dtype = np.uint32 if n_rows * n_cols <= 2**32 else np.uint64
    key = rows.astype(dtype)
    key *= dtype(n_cols)
    key += cols.astype(dtype)
    key.sort()
    first = np.empty(len(key), dtype=bool)
    first[:1] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    key = key.take(starts)
    counts = np.diff(starts, append=len(first))
    r = key // dtype(n_cols)
    key -= r * dtype(n_cols)
    return r.astype(np.int64), key.astype(np.int64), counts


@dataclass
class NgramFeaturizer:
    """Sublinear TF-IDF over a fixed vocabulary of word and character n-grams, rows L2-normalised.

    Matches scikit-learn's `TfidfVectorizer(sublinear_tf=True, norm='l2')` on the `ngrams`
    analyzer (checked in the tests). The vocabulary is held as three sorted arrays of 64-bit keys
    (word unigrams, word bigrams, character n-grams; see `word_keys` and `_char_keys`), and feature
    columns follow that order: column = offset of the kind + position of the key. So a model
    loads with one `np.load` (no strings, no dictionary to build; the hash tables that scoring probes,
    `KeyTable`, are built from the sorted arrays at load time), and a batch is featurised with
    one table look-up per kind and no per-n-gram Python. `from_grams` builds it from n-gram
    strings (training); the strings are not stored.
    """

    word_keys: np.ndarray  # sorted uint64
    bigram_keys: np.ndarray  # sorted uint64
    char_keys: np.ndarray  # sorted uint64
    idf: np.ndarray  # float32, columns in the order words, bigrams, characters
    word_n: int = 2
    char_n: tuple[int, int] = (1, 3)

    def __post_init__(self) -> None:
        if self.word_n not in (1, 2) or not 1 <= self.char_n[0] <= self.char_n[1] <= 3:
            raise ValueError(f"word n-grams up to 2 and character n-grams within 1-3 are supported, "
                             f"not {self.word_n} and {self.char_n}")
        self._bigram_off = len(self.word_keys)
        self._char_off = self._bigram_off + len(self.bigram_keys)
        # hash tables over the sorted key arrays, for scoring (see KeyTable)
        self._word_table = KeyTable(self.word_keys)
        self._bigram_table = KeyTable(self.bigram_keys)
        self._char_table = KeyTable(self.char_keys)

    @classmethod
    def from_grams(cls, word_grams: Sequence[str], char_grams: Sequence[str], idf: np.ndarray,
                   word_n: int = 2, char_n: tuple[int, int] = (1, 3)) -> tuple["NgramFeaturizer", np.ndarray]:
        """Featurizer for n-gram strings with `idf` in their order (words then characters), and
        `order`: column j of the featurizer is n-gram `order[j]` of that input order."""
        uni = [i for i, g in enumerate(word_grams) if " " not in g]
        bi = [i for i, g in enumerate(word_grams) if " " in g]
        ukeys = word_keys([word_grams[i] for i in uni])
        halves = [word_grams[i].split(" ") for i in bi]
        bkeys = _bigram_keys(word_keys([h[0] for h in halves]), word_keys([h[1] for h in halves]))
        ckeys = _char_keys(list(char_grams))
        groups = [(ukeys, np.array(uni, dtype=np.int64)), (bkeys, np.array(bi, dtype=np.int64)),
                  (ckeys, len(word_grams) + np.arange(len(char_grams), dtype=np.int64))]
        sorted_keys, order = [], []
        for keys, idx in groups:
            o = np.argsort(keys, kind="stable")
            if len(keys) and np.any(keys[o][1:] == keys[o][:-1]):
                raise ValueError("two n-grams share a 64-bit key")  # astronomically unlikely; never silent
            sorted_keys.append(keys[o])
            order.append(idx[o])
        order = np.concatenate(order)
        feat = cls(*sorted_keys, np.asarray(idf, dtype=np.float32)[order], word_n, tuple(char_n))
        return feat, order

    @property
    def n_features(self) -> int:
        return len(self.idf)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"word_keys": self.word_keys, "bigram_keys": self.bigram_keys, "char_keys": self.char_keys,
                "idf": self.idf.astype(np.float32)}

    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]):
        """(n_docs × n_features) CSR matrix of float32 (for training; scoring uses `entries`)."""
        import scipy.sparse as sp

        rows, cols, vals = self.entries(texts, tokens)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return sp.csr_matrix((vals, cols, indptr), shape=(len(texts), self.n_features))

    def entries(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]):
        """Non-zero (row, column, value) of the TF-IDF matrix, in row-major order, with numpy only."""
        if len(texts) != len(tokens):
            raise ValueError(f"texts ({len(texts)}) and tokens ({len(tokens)}) differ in length")
        n_docs, n_feat = len(texts), self.n_features
        rows, cols = self._indices(texts, tokens)
        r, c, counts = _count_pairs(rows, cols, n_docs, n_feat)
        v = (1.0 + np.log(counts)).astype(np.float32) * self.idf.take(c)
        norms = np.sqrt(np.bincount(r, weights=np.square(v, dtype=np.float64), minlength=n_docs))
        norms[norms == 0] = 1.0
        v /= norms.take(r).astype(np.float32)
        return r, c, v

    def _indices(self, texts, tokens) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every in-vocabulary n-gram occurrence in the batch."""
        rows, cols = self._word_indices(tokens)
        crows, ccols = self._char_indices(texts)
        return np.concatenate(rows + crows), np.concatenate(cols + ccols)

    def _word_indices(self, tokens) -> tuple[list[np.ndarray], list[np.ndarray]]:
        # One pass over the batch's tokens, all in C: whitespace test, keys, document number.
        flat = list(chain.from_iterable(tokens))
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        doc = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        space = np.fromiter(map(str.isspace, flat), dtype=bool, count=len(flat))
        if space.any():
            flat, doc = list(compress(flat, ~space)), doc[~space]
        keys = word_keys(flat)
        found, pos = self._word_table.lookup(keys)
        rows, cols = [doc.take(found)], [pos]
        if self.word_n == 2 and len(keys) > 1:
            # a bigram is stored only if both its words are short (see `ngrams`)
            short = keys != _NO_KEY
            pairs = np.flatnonzero(short[:-1] & short[1:] & (doc[:-1] == doc[1:]))
            bfound, bpos = self._bigram_table.lookup(_bigram_keys(keys.take(pairs), keys.take(pairs + 1)))
            rows.append(doc.take(pairs.take(bfound)))
            cols.append(bpos + self._bigram_off)
        return rows, cols

    def _char_indices(self, texts) -> tuple[list[np.ndarray], list[np.ndarray]]:
        # One code array for the batch; code 0 separates documents (and never occurs in them).
        joined = "\0".join(texts)
        if joined.count("\0") == max(len(texts) - 1, 0):  # no NUL inside a text: one pass for all
            joined = _WHITESPACE.sub("", joined)
        else:
            joined = "\0".join(_SPACE.sub("", t) for t in texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.uint64)
        # document of each code (a separator counts to the next one; no n-gram spans it anyway)
        doc = np.cumsum(codes == 0, dtype=np.int64)
        rows, cols = [], []
        for n in range(self.char_n[0], self.char_n[1] + 1):
            width = len(codes) - n + 1
            if width <= 0:
                break
            key, ok = codes[:width].copy(), codes[:width] != 0
            for j in range(1, n):
                nxt = codes[j:j + width]
                key = (key << np.uint64(21)) | nxt
                ok &= nxt != 0
            at = np.flatnonzero(ok)
            found, pos = self._char_table.lookup(key.take(at))
            rows.append(doc.take(at.take(found)))
            cols.append(pos + self._char_off)
        return rows, cols


# --- our linear model -----------------------------------------------------------------------

@dataclass
class LinearSentiment:
    """A logistic model over `NgramFeaturizer` features, optionally with per-domain experts.

    logit = x·w₀ + b₀ + Σ_k g_k(x)·(x·w_k + b_k), where g(x) = softmax(x·G + c) is a domain gate
    (hotel, food, shopping for the shipped model; absent for single-domain user models). The
    score is Platt-calibrated: sigmoid(a·logit + b), with a, b fitted on a calibration slice.
    """

    featurizer: NgramFeaturizer
    weights: np.ndarray  # (n_features, 1 + n_domains)
    bias: np.ndarray  # (1 + n_domains,)
    gate: np.ndarray | None  # (n_features, n_domains) or None
    gate_bias: np.ndarray | None
    calibration: tuple[float, float]
    meta: dict = field(default_factory=dict)
    band: tuple[float, float] = NEU_BAND
    name: str = "default"
    path: Path | None = None
    stacked: np.ndarray | None = None  # [weights, gate] side by side; weights and gate are views of it

    def __post_init__(self) -> None:
        # experts and gate side by side: one gather of rows per batch
        if self.stacked is None:
            self.stacked = self.weights if self.gate is None else np.hstack([self.weights, self.gate])
        # ... and a copy with one row per output column: a batch gathers from each row in turn
        # (a row fits in the CPU's cache) and each sum below reads a contiguous array
        self._columns = np.ascontiguousarray(self.stacked.T)

    def logits(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray:
        # x @ W without building a sparse matrix (keeps scipy out of a tagging run)
        r, c, v = self.featurizer.entries(texts_norm, tokens)
        # float16 columns of a loaded model are upcast in the product (float32, as before)
        part = self._columns.take(c, axis=1) * v
        both = np.stack([np.bincount(r, weights=p, minlength=len(texts_norm)) for p in part], axis=1)
        if self.gate is None:
            return both[:, 0] + self.bias[0]
        k = self.weights.shape[1]
        expert = both[:, :k] + self.bias
        g = both[:, k:] + self.gate_bias
        g = np.exp(g - g.max(axis=1, keepdims=True))
        g /= g.sum(axis=1, keepdims=True)
        return expert[:, 0] + (g * expert[:, 1:]).sum(axis=1)

    def score(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray:
        """Calibrated probability that each review is positive."""
        if len(texts_norm) == 0:
            return np.zeros(0, dtype=float)
        a, b = self.calibration
        z = a * self.logits(texts_norm, tokens) + b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def label(self, scores: np.ndarray) -> np.ndarray:
        return labels_from_scores(scores, self.band)

    def manifest(self) -> dict:
        out = {"name": self.name, "kind": "linear", "version": self.meta.get("version", ""),
               "format": MODEL_FORMAT, "neu_band": list(self.band)}
        if self.path is not None:
            out["path"] = str(self.path)
            out["sha256"] = model_sha256(self.path)
            out["files"] = {f: _file_sha256(self.path / f) for f in MODEL_FILES}
        return out

    # -- storage: JSON + arrays, no pickle anywhere --
    def save(self, out_dir: str | Path) -> Path:
        """Write model.json and weights.npz into `out_dir` (created if missing).

        The npz holds every array in the layout the scorer uses (key arrays sorted, weights and
        gate side by side, float16), stored uncompressed: loading is one `np.load` and no parsing.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        f = self.featurizer
        arrays = {**f.arrays(), "coef": self.stacked.astype(np.float16), "bias": self.bias.astype(np.float64)}
        if self.gate is not None:
            arrays["gate_bias"] = self.gate_bias.astype(np.float64)
        # Fixed member order and no timestamps inside: the same model gives the same bytes.
        _write_npz(out / "weights.npz", arrays)
        for stale in ("vocab.json",):  # written by format 1; not part of this format
            (out / stale).unlink(missing_ok=True)
        meta = dict(self.meta)
        meta.update({"format": MODEL_FORMAT, "word_ngrams": f.word_n, "char_ngrams": list(f.char_n),
                     "n_features": f.n_features, "calibration": {"a": self.calibration[0],
                     "b": self.calibration[1]}, "neu_band": list(self.band),
                     "domains": meta.get("domains", []),
                     "keys": "word: (sum_i (code_i+1)*0x100000001B3^i mod 2^64)*0x9E3779B97F4A7C15 + length; "
                             "bigram: a*0xC2B2AE3D27D4EB4F + (b ^ b>>29); char: code points packed 21 bits "
                             "apart; columns: words, bigrams, chars, each in key order"})
        (out / "model.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True)
                                        + "\n", encoding="utf-8")
        return out

    @classmethod
    def load(cls, model_dir: str | Path, name: str | None = None) -> "LinearSentiment":
        """Read a model written by `save`; every problem names the file at fault."""
        d = Path(model_dir)
        for f in MODEL_FILES:
            if not (d / f).is_file():
                raise SentimentModelError(f"{d}: missing {f} (a sentiment model folder holds {', '.join(MODEL_FILES)})")
        meta = _read_json(d / "model.json")
        if meta.get("format") != MODEL_FORMAT:
            raise SentimentModelError(f"{d / 'model.json'}: format {meta.get('format')!r}, expected {MODEL_FORMAT!r}"
                                      " (retrain with `cxtext train sentiment`)")
        arrays = _read_npz(d / "weights.npz")
        k = _check_shapes(d, arrays, meta)
        feat = NgramFeaturizer(arrays["word_keys"], arrays["bigram_keys"], arrays["char_keys"], arrays["idf"],
                               int(meta["word_ngrams"]), tuple(meta["char_ngrams"]))
        coef = arrays["coef"]
        gated = coef.shape[1] > k
        cal = meta["calibration"]
        return cls(feat, coef[:, :k], arrays["bias"], coef[:, k:] if gated else None, arrays.get("gate_bias"),
                   (float(cal["a"]), float(cal["b"])), meta, tuple(meta.get("neu_band", NEU_BAND)),
                   name or meta.get("name", d.name), d, coef)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED  # uncompressed: loading is a copy, not an inflate
            zf.writestr(info, buf.getvalue())


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (ValueError, OSError) as exc:  # object arrays refuse to load without pickle
        raise SentimentModelError(f"{path}: not a plain-array .npz ({exc})") from exc


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SentimentModelError(f"{path}: not valid UTF-8 JSON ({exc})") from exc


def _check_shapes(d: Path, arrays: dict, meta: dict) -> int:
    """Validate the arrays against each other and model.json; returns the number of experts."""
    where = d / "weights.npz"
    missing = [k for k in ("idf", "coef", "bias") + KEY_ARRAYS if k not in arrays]
    if missing:
        raise SentimentModelError(f"{where}: missing arrays {missing}")
    n = sum(len(arrays[k]) for k in KEY_ARRAYS)
    coef, bias, k = arrays["coef"], arrays["bias"], len(arrays["bias"])
    if meta.get("n_features") != n:
        raise SentimentModelError(f"{d / 'model.json'}: n_features {meta.get('n_features')} but weights.npz has {n} keys")
    if arrays["idf"].shape != (n,) or coef.ndim != 2 or coef.shape[0] != n or bias.ndim != 1:
        raise SentimentModelError(f"{where}: idf/coef/bias do not match the {n} n-gram keys")
    gates = coef.shape[1] - k
    if gates not in (0, k - 1) or (gates and arrays.get("gate_bias", np.zeros(0)).shape != (gates,)):
        raise SentimentModelError(f"{where}: coef has {coef.shape[1]} columns for {k} experts; the domain gate does not match")
    for key in KEY_ARRAYS:
        a = arrays[key]
        if a.dtype != np.uint64 or a.ndim != 1 or np.any(a[1:] <= a[:-1]):
            raise SentimentModelError(f"{where}: {key} is not a strictly increasing uint64 array")
    return k


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_sha256(model_dir: str | Path) -> str:
    """One hash over a model folder's files (name and content of each, in a fixed order)."""
    h = hashlib.sha256()
    for f in MODEL_FILES:
        h.update(f.encode() + b"\0" + _file_sha256(Path(model_dir) / f).encode() + b"\n")
    return h.hexdigest()


# --- baselines --------------------------------------------------------------------------------

class SnowNLPSentiment:
    """SnowNLP's naive Bayes classifier, fed our tokens (its own segmentation is 94% of its cost).

    `model_path=None` uses the model bundled with SnowNLP (trained on shopping reviews); otherwise
    a classifier saved by SnowNLP itself (marshal format, benchmark use only). `own_segmentation`
    reproduces stock SnowNLP (its segmenter on the text) for speed comparisons.
    """

    def __init__(self, model_path: str | Path | None = None, name: str = "snownlp", own_segmentation: bool = False):
        from snownlp import normal, sentiment  # imported here: loading SnowNLP is slow

        self.name = name
        self._path = Path(model_path) if model_path else None
        self._normal = normal
        self._own = own_segmentation
        self._sent = sentiment.Sentiment()
        if self._path is None:
            self._sent.load()
        else:
            self._sent.load(str(self._path))

    def score(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray:
        out = np.empty(len(texts_norm), dtype=float)
        for i, (text, toks) in enumerate(zip(texts_norm, tokens)):
            if self._own:
                out[i] = self._sent.classify(text)
                continue
            words = self._normal.filter_stop([t for t in toks if not t.isspace()])
            ret, prob = self._sent.classifier.classify(words)
            out[i] = prob if ret == "pos" else 1.0 - prob
        return out

    def label(self, scores: np.ndarray) -> np.ndarray:
        return labels_from_scores(scores)

    def manifest(self) -> dict:
        import snownlp.sentiment as s

        path = self._path.with_name(self._path.name + ".3") if self._path else Path(s.data_path + ".3")
        return {"name": self.name, "kind": "snownlp", "version": "snownlp-0.12.3",
                "path": str(path), "sha256": _file_sha256(path) if path.is_file() else ""}


class NoSentiment:
    """Sentiment switched off: every review 0.5 / 'neu' (for measuring what sentiment costs)."""

    name = "none"

    def score(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray:
        return np.full(len(texts_norm), 0.5)

    def label(self, scores: np.ndarray) -> np.ndarray:
        return np.full(np.shape(scores), "neu", dtype=object)

    def manifest(self) -> dict:
        return {"name": "none", "kind": "none", "version": "", "sha256": ""}


def load_sentiment(name: str = "default", model_path: str | None = None) -> Scorer:
    """A scorer by name: 'default' (shipped), 'snownlp', 'snownlp-retrained', 'none', or a model folder.

    `model_path` (or a `name` that is a folder) loads a model written by `cxtext train sentiment`.
    """
    if model_path is not None:
        return LinearSentiment.load(model_path)
    if name == "default":
        return LinearSentiment.load(shipped_model_dir(), name="default")
    if name == "snownlp":
        return SnowNLPSentiment()
    if name == "snownlp-retrained":
        path = snownlp_retrained_path()
        if not Path(str(path) + ".3").is_file():
            raise SentimentModelError(
                f"no retrained SnowNLP model at {path}.3; create it with `make bench-sentiment` "
                "(trains SnowNLP's classifier on the training split of ../shared/data/corpora)")
        return SnowNLPSentiment(path, name="snownlp-retrained")
    if name == "none":
        return NoSentiment()
    if Path(name).is_dir():
        return LinearSentiment.load(name)
    raise SentimentModelError(
        f"unknown sentiment model {name!r}: use default, snownlp, snownlp-retrained, none, "
        "or a folder written by `cxtext train sentiment`")


