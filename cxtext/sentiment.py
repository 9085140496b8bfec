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
MODEL_FILES = ("model.json", "vocab.json", "weights.npz")
_SPACE = re.compile(r"\s+")


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
    """Word n-grams (joined by a space) from `tokens` and character n-grams from `text`.

    Whitespace tokens are dropped and whitespace is removed before taking character n-grams, so
    spacing differences between sources do not change the features.
    """
    words = [t for t in tokens if t and not t.isspace()]
    wgrams = list(words)
    for n in range(2, word_n + 1):
        wgrams.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    compact = _SPACE.sub("", text)
    cgrams: list[str] = []
    for n in range(char_n[0], char_n[1] + 1):
        cgrams.extend(compact[i:i + n] for i in range(len(compact) - n + 1))
    return wgrams, cgrams


@dataclass
class NgramFeaturizer:
    """Sublinear TF-IDF over a fixed vocabulary of word and character n-grams, rows L2-normalised.

    Matches scikit-learn's `TfidfVectorizer(sublinear_tf=True, norm='l2')` on the same analyzer
    (checked in the tests), but builds the whole batch's sparse matrix in one go from dictionary
    look-ups, which is what makes scoring cheap.
    """

    word_vocab: dict[str, int]
    char_vocab: dict[str, int]
    idf: np.ndarray
    word_n: int = 2
    char_n: tuple[int, int] = (1, 3)

    @property
    def n_features(self) -> int:
        return len(self.idf)

    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]):
        """(n_docs × n_features) CSR matrix of float32."""
        import scipy.sparse as sp

        if len(texts) != len(tokens):
            raise ValueError(f"texts ({len(texts)}) and tokens ({len(tokens)}) differ in length")
        rows, cols = self._indices(texts, tokens)
        data = np.ones(len(cols), dtype=np.float32)
        m = sp.csr_matrix((data, (rows, cols)), shape=(len(texts), self.n_features), dtype=np.float32)
        m.sum_duplicates()
        np.log(m.data, out=m.data)
        m.data += 1.0
        m.data *= self.idf[m.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        m.data /= np.repeat(norms, np.diff(m.indptr)).astype(np.float32)
        return m

    def _indices(self, texts, tokens) -> tuple[np.ndarray, np.ndarray]:
        wget, cget = self.word_vocab.get, self.char_vocab.get
        rows: list[int] = []
        cols: list[int] = []
        for i, (text, toks) in enumerate(zip(texts, tokens)):
            wgrams, cgrams = ngrams(toks, text, self.word_n, self.char_n)
            ids = [j for j in map(wget, wgrams) if j is not None]
            ids.extend(j for j in map(cget, cgrams) if j is not None)
            cols.extend(ids)
            rows.extend([i] * len(ids))
        return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


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

    def logits(self, texts_norm: Sequence[str], tokens: Sequence[Sequence[str]]) -> np.ndarray:
        x = self.featurizer.transform(texts_norm, tokens)
        if self.gate is None:
            return np.asarray(x @ self.weights[:, 0]).ravel() + self.bias[0]
        both = np.asarray(x @ np.hstack([self.weights, self.gate]))
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
                  "bias": self.bias.astype(np.float64)}
        if self.gate is not None:
            arrays["gate"] = self.gate.astype(np.float16)
            arrays["gate_bias"] = self.gate_bias.astype(np.float64)
        # Fixed member order and no timestamps inside: the same model gives the same bytes.
        _write_npz(out / "weights.npz", arrays)
        vocab = {"word": _ordered_keys(f.word_vocab), "char": _ordered_keys(f.char_vocab)}
        (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, separators=(",", ":")),
                                        encoding="utf-8")
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
        word_vocab = {g: i for i, g in enumerate(vocab["word"])}
        off = len(word_vocab)
        char_vocab = {g: off + i for i, g in enumerate(vocab["char"])}
        feat = NgramFeaturizer(word_vocab, char_vocab, arrays["idf"].astype(np.float32),
                               int(meta["word_ngrams"]), tuple(meta["char_ngrams"]))
        _check_shapes(d, feat, arrays, meta)
        cal = meta["calibration"]
        gate = arrays.get("gate")
        return cls(feat, arrays["weights"].astype(np.float32), arrays["bias"],
                   None if gate is None else gate.astype(np.float32), arrays.get("gate_bias"),
                   (float(cal["a"]), float(cal["b"])), meta, tuple(meta.get("neu_band", NEU_BAND)),
                   name or meta.get("name", d.name), d)


def _ordered_keys(vocab: dict[str, int]) -> list[str]:
    return [k for k, _ in sorted(vocab.items(), key=lambda kv: kv[1])]


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


def _check_shapes(d: Path, feat: NgramFeaturizer, arrays: dict, meta: dict) -> None:
    n = feat.n_features
    w = arrays.get("weights")
    if w is None or w.ndim != 2 or w.shape[0] != n or arrays["bias"].shape != (w.shape[1],):
        raise SentimentModelError(f"{d / 'weights.npz'}: weights/bias do not match the {n} n-grams of vocab.json")
    if ("gate" in arrays) != (w.shape[1] > 1) or ("gate" in arrays and arrays["gate"].shape != (n, w.shape[1] - 1)):
        raise SentimentModelError(f"{d / 'weights.npz'}: domain gate does not match the experts in weights")
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


