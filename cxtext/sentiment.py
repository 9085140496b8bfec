"""Review sentiment: our own linear model (shipped), SnowNLP as a baseline, and a no-op scorer.

Every scorer has the same small surface, which the tagger calls once per chunk:

    scorer.score(texts_norm, tokens) -> np.ndarray of float in [0, 1]   (higher = more positive)
    scorer.label(scores)             -> np.ndarray of 'pos' | 'neg' | 'neu'
    scorer.manifest()                -> dict (name, version, sha256) for run.json

`score` never segments again: it reads the tokens the tagger already produced (so sentiment costs
a few dictionary look-ups per review, not a second jieba pass) and the normalised text, from which
it takes character n-grams (robust to small differences in segmentation, e.g. user words).

The shipped model (`cxtext/models/sentiment-zh/`) is stored as plain arrays (`weights.npz`, loaded
with `allow_pickle=False`) plus JSON (`model.json` metadata and calibration, `vocab.json` n-grams):
nothing in it can execute code when loaded. Training lives in `cxtext.train`.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import add
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from cxtext.paths import PACKAGE_DIR, cache_dir

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

MODEL_FORMAT = "cxtext-sentiment-linear/1"
# Calibrated scores in [0.4, 0.6] are too close to call: label them 'neu' rather than guess.
NEU_BAND = (0.4, 0.6)
MAX_WORD_CHARS = 6
MODEL_FILES = ("model.json", "vocab.json", "weights.npz")
TABLES = ("bigram_keys", "bigram_ids", "char_keys", "char_ids")
_SPACE = re.compile(r"[\s\x00]+")  # NUL too: it separates documents in a batch


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


def shipped_model_dir() -> Path:
    """Folder of the default model inside the installed package."""
    return PACKAGE_DIR / "models" / "sentiment-zh"


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


@dataclass
class NgramFeaturizer:
    """Sublinear TF-IDF over a fixed vocabulary of word and character n-grams, rows L2-normalised.

    Matches scikit-learn's `TfidfVectorizer(sublinear_tf=True, norm='l2')` on the `ngrams`
    analyzer (checked in the tests), but does almost no per-n-gram work in Python: each token is
    looked up once; word bigrams become integer pairs and character n-grams integer codes (code
    points packed 21 bits apart, exact for n ≤ 3), both found with one `searchsorted` per batch.
    """

    word_grams: list[str]  # feature i (unigrams, and bigrams joined by a space)
    char_grams: list[str]  # feature len(word_grams) + i
    idf: np.ndarray
    word_n: int = 2
    char_n: tuple[int, int] = (1, 3)
    tables: dict[str, np.ndarray] | None = None  # look-up tables, derived from the grams when None

    def __post_init__(self) -> None:
        if self.word_n not in (1, 2) or not 1 <= self.char_n[0] <= self.char_n[1] <= 3:
            raise ValueError(f"word n-grams up to 2 and character n-grams within 1-3 are supported, "
                             f"not {self.word_n} and {self.char_n}")
        uni = [(g, i) for i, g in enumerate(self.word_grams) if " " not in g]
        self._unigrams: dict[str, int] = dict(uni)
        if self.tables is None:
            self.tables = self._build_tables()
        t = self.tables
        self._bigrams = _HashTable(t["bigram_keys"], t["bigram_ids"])
        self._chars = _HashTable(t["char_keys"], t["char_ids"])
        single = t["char_keys"] < (1 << 21)
        self._char1 = np.full(1 << 21, -1, dtype=np.int32)
        self._char1[t["char_keys"][single].astype(np.int64)] = t["char_ids"][single]

    def _build_tables(self) -> dict[str, np.ndarray]:
        pairs = []
        for idx, gram in enumerate(self.word_grams):
            parts = gram.split(" ")
            if len(parts) == 2 and parts[0] in self._unigrams and parts[1] in self._unigrams:
                pairs.append((self._unigrams[parts[0]] * self.n_features + self._unigrams[parts[1]], idx))
        offset = len(self.word_grams)
        bk, bi = _sorted_table(pairs)
        ck, ci = _sorted_table(_char_keys(self.char_grams, offset))
        return {"bigram_keys": bk, "bigram_ids": bi, "char_keys": ck, "char_ids": ci}

    @property
    def n_features(self) -> int:
        return len(self.idf)

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
        # Count each (row, column) pair once: sorted unique keys are already in CSR order.
        keys, counts = np.unique(rows * n_feat + cols, return_counts=True)
        r = keys // n_feat
        c = keys - r * n_feat
        v = (1.0 + np.log(counts)).astype(np.float32) * self.idf[c]
        norms = np.sqrt(np.bincount(r, weights=np.square(v, dtype=np.float64), minlength=n_docs))
        norms[norms == 0] = 1.0
        v /= norms[r].astype(np.float32)
        return r, c, v

    def _indices(self, texts, tokens) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every in-vocabulary n-gram occurrence in the batch."""
        rows, cols = self._word_indices(tokens)
        crows, ccols = self._char_indices(texts)
        return np.concatenate(rows + crows), np.concatenate(cols + ccols)

    def _word_indices(self, tokens) -> tuple[list[np.ndarray], list[np.ndarray]]:
        # One pass over the batch's tokens, all in C: look-up, whitespace test, document number.
        # A long word is absent from the vocabulary (see `ngrams`), so it gets -1 like any unknown word.
        flat = list(chain.from_iterable(tokens))
        idx = np.fromiter(map(self._unigrams.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        doc = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
        space = np.fromiter(map(str.isspace, flat), dtype=bool, count=len(flat))
        if space.any():
            idx, doc = idx[~space], doc[~space]
        known = idx >= 0
        rows, cols = [doc[known]], [idx[known]]
        if self.word_n == 2 and len(idx) > 1:
            a, b = idx[:-1], idx[1:]
            ok = (a >= 0) & (b >= 0) & (doc[:-1] == doc[1:])
            found, col = self._bigrams.lookup((a[ok] * self.n_features + b[ok]).astype(np.uint64))
            rows.append(doc[:-1][ok][found])
            cols.append(col)
        return rows, cols

    def _char_indices(self, texts) -> tuple[list[np.ndarray], list[np.ndarray]]:
        compact = [_SPACE.sub("", t) if _SPACE.search(t) else t for t in texts]
        # One code array for the batch; code 0 separates documents (and never occurs in them).
        codes = np.frombuffer("\0".join(compact).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.uint64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), [len(c) + 1 for c in compact])[: len(codes)]
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
            if n == 1:  # single characters: a direct table over code points
                col = self._char1[key]
                found = ok & (col >= 0)
                rows.append(doc[found])
                cols.append(col[found].astype(np.int64))
                continue
            found, col = self._chars.lookup(key[ok])
            rows.append(doc[:width][ok][found])
            cols.append(col)
        return rows, cols


def _char_keys(char_grams: list[str], offset: int) -> list[tuple[int, int]]:
    """(packed code points, feature index) for every character n-gram of the vocabulary."""
    out = []
    for n in (1, 2, 3):
        idx = [i for i, g in enumerate(char_grams) if len(g) == n]
        if not idx:
            continue
        joined = "".join(char_grams[i] for i in idx)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        codes = codes.astype(np.uint64).reshape(-1, n)
        key = codes[:, 0].copy()
        for j in range(1, n):
            key = (key << np.uint64(21)) | codes[:, j]
        out.extend(zip(key.tolist(), (offset + i for i in idx)))
    return out


def _sorted_table(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array([k for k, _ in pairs], dtype=np.uint64)
    ids = np.array([i for _, i in pairs], dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    return keys[order], ids[order]


class _HashTable:
    """Open-addressing hash table (linear probing) from uint64 keys to feature indices, in numpy.

    One random memory access per query instead of a binary search's twenty: this is where
    scoring spends its time. Built from the sorted tables stored in the model file.
    """

    _MUL = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, keys: np.ndarray, ids: np.ndarray):
        self._bits = max(4, int(np.ceil(np.log2(2 * len(keys) + 1))))
        keys = keys.astype(np.uint64, copy=False)
        home = self._hash(keys)
        order = np.argsort(home, kind="stable")
        # Keys in order of home slot, each in the first slot ≥ its home after the previous key:
        # pos_i = max(home_i, pos_{i-1} + 1), a running maximum. No wrap-around: the table has a
        # tail past 2**bits, and always ends in an empty slot where every probe stops.
        steps = np.arange(len(keys))
        pos = np.maximum.accumulate(home[order] - steps) + steps if len(keys) else steps
        size = max(1 << self._bits, int(pos.max()) + 1 if len(keys) else 0) + 1
        self._keys = np.zeros(size, dtype=np.uint64)
        self._ids = np.full(size, -1, dtype=np.int32)
        self._keys[pos] = keys[order]
        self._ids[pos] = ids[order]

    def _hash(self, keys: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((keys * self._MUL) >> np.uint64(64 - self._bits)).astype(np.int64)

    def lookup(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of `query` are in the table, and the feature index of those that are."""
        query = query.astype(np.uint64, copy=False)
        result = np.full(len(query), -1, dtype=np.int64)
        slot = self._hash(query)
        pending = np.arange(len(query))
        while len(pending):
            s = slot[pending]
            ids = self._ids[s]
            hit = (ids >= 0) & (self._keys[s] == query[pending])
            result[pending[hit]] = ids[hit]
            pending = pending[(ids >= 0) & ~hit]  # occupied by another key: try the next slot
            slot[pending] += 1
        found = result >= 0
        return found, result[found]


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

    def __post_init__(self) -> None:
        # experts and gate side by side: one sparse × dense product per batch
        self._stacked = self.weights if self.gate is None else np.hstack([self.weights, self.gate])

    def logits(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray:
        # x @ W without building a sparse matrix (keeps scipy out of a tagging run)
        r, c, v = self.featurizer.entries(texts_norm, tokens)
        part = v[:, None] * self._stacked[c]
        both = np.stack([np.bincount(r, weights=part[:, k], minlength=len(texts_norm))
                         for k in range(part.shape[1])], axis=1)
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
        """Write model.json, vocab.json and weights.npz into `out_dir` (created if missing)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        f = self.featurizer
        arrays = {"idf": f.idf.astype(np.float32), "weights": self.weights.astype(np.float16),
                  "bias": self.bias.astype(np.float64), **f.tables}
        if self.gate is not None:
            arrays["gate"] = self.gate.astype(np.float16)
            arrays["gate_bias"] = self.gate_bias.astype(np.float64)
        # Fixed member order and no timestamps inside: the same model gives the same bytes.
        _write_npz(out / "weights.npz", arrays)
        vocab = {"word": f.word_grams, "char": f.char_grams}
        # One n-gram a line: readable, diffable, and never a run of review text on one line.
        (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        meta = dict(self.meta)
        meta.update({"format": MODEL_FORMAT, "word_ngrams": f.word_n, "char_ngrams": list(f.char_n),
                     "n_features": f.n_features, "calibration": {"a": self.calibration[0],
                     "b": self.calibration[1]}, "neu_band": list(self.band),
                     "domains": meta.get("domains", [])})
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
            raise SentimentModelError(f"{d / 'model.json'}: format {meta.get('format')!r}, expected {MODEL_FORMAT!r}")
        vocab = _read_json(d / "vocab.json")
        arrays = _read_npz(d / "weights.npz")
        _check_shapes(d, vocab, arrays, meta)
        tables = {k: arrays[k] for k in TABLES}
        feat = NgramFeaturizer(vocab["word"], vocab["char"], arrays["idf"].astype(np.float32),
                               int(meta["word_ngrams"]), tuple(meta["char_ngrams"]), tables)
        cal = meta["calibration"]
        gate = arrays.get("gate")
        return cls(feat, arrays["weights"].astype(np.float32), arrays["bias"],
                   None if gate is None else gate.astype(np.float32), arrays.get("gate_bias"),
                   (float(cal["a"]), float(cal["b"])), meta, tuple(meta.get("neu_band", NEU_BAND)),
                   name or meta.get("name", d.name), d)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
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


def _check_shapes(d: Path, vocab: dict, arrays: dict, meta: dict) -> None:
    n = len(vocab.get("word", [])) + len(vocab.get("char", []))
    where = d / "weights.npz"
    missing = [k for k in ("idf", "weights", "bias") + TABLES if k not in arrays]
    if missing:
        raise SentimentModelError(f"{where}: missing arrays {missing}")
    w = arrays["weights"]
    if arrays["idf"].shape != (n,) or w.ndim != 2 or w.shape[0] != n or arrays["bias"].shape != (w.shape[1],):
        raise SentimentModelError(f"{where}: idf/weights/bias do not match the {n} n-grams of vocab.json")
    if ("gate" in arrays) != (w.shape[1] > 1) or ("gate" in arrays and arrays["gate"].shape != (n, w.shape[1] - 1)):
        raise SentimentModelError(f"{where}: domain gate does not match the experts in weights")
    for k in ("bigram", "char"):
        keys, ids = arrays[f"{k}_keys"], arrays[f"{k}_ids"]
        if keys.shape != ids.shape or (len(ids) and (ids.min() < 0 or ids.max() >= n)) or np.any(keys[1:] < keys[:-1]):
            raise SentimentModelError(f"{where}: {k} look-up table is inconsistent with vocab.json")
    if meta.get("n_features") != n:
        raise SentimentModelError(f"{d / 'model.json'}: n_features {meta.get('n_features')} but vocab.json has {n}")


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


