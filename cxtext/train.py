"""Train the sentiment model: on the team corpora (the shipped default) or on a user's labelled file.

Both paths share one recipe, chosen by measurement on held-out rows (bench/results/sentiment.md):

* texts are normalised and segmented exactly as the tagger does (`cxtext.normalize`,
  `cxtext.segment.Segmenter` with the lexicon terms as user words), so training and inference
  see the same tokens;
* features: word 1–2-grams and character 1–3-grams, sublinear TF-IDF, L2 rows (min_df 2);
* NB-weighted logistic regression (features scaled by their naive-Bayes log-count ratio, which
  folds into the stored weights), with per-domain experts and a domain gate when the data has
  domains (hotel, food, shopping for the team corpora);
* a deterministic split by a hash of the whitespace-folded text: 15% validation (never trained
  on, only reported), 8% calibration (Platt scaling of the logit), the rest training. Identical
  texts always land in the same part, so a text shared by two corpora cannot leak.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from cxtext.sentiment import NEU_BAND, LinearSentiment, NgramFeaturizer, ngrams

__all__ = [
    "LABEL_VALUES",
    "MIN_ROWS",
    "TrainingDataError",
    "fit_sentiment",
    "load_shared_corpora",
    "prepare",
    "read_labelled_file",
    "split_of",
    "train_command",
    "train_shared",
]

SPLIT_SALT = "cxtext-sentiment-split-v1"
VAL_PERCENT = 15
CALIB_PERCENT = 8
MIN_ROWS = 200
MIN_PER_CLASS = 20
C_DEFAULT = 3.0
MIN_DF = 2
SHIPPED_VERSION = "1.0.0"
LABEL_VALUES = {
    "1": 1, "pos": 1, "positive": 1, "正面": 1, "积极": 1, "好评": 1,
    "0": 0, "neg": 0, "negative": 0, "负面": 0, "消极": 0, "差评": 0,
}
# Team corpora → domain of the gate. ecommerce's 酒店 category is hotel reviews.
CORPORA = {
    "hotel": "hotel_chnsenticorp.csv",
    "takeaway": "takeaway_waimai10k.csv",
    "ecommerce": "ecommerce_online_shopping_10_cats.csv",
    "restaurant": "restaurant_aichallenger2018_subset.csv",
}
DATA_TERMS = ("ChnSentiCorp_htl_all, waimai_10k and online_shopping_10_cats (SophonPlus/ChineseNlpCorpus, "
              "research use) and the AI Challenger 2018 fine-grained sentiment subset (non-commercial "
              "research and teaching only); see docs/MODEL_CARD.md")
_SPACE = re.compile(r"\s+")


class TrainingDataError(ValueError):
    """Labelled data that cannot train a model; the message names file, column and example rows."""


# --- split ------------------------------------------------------------------------------------

def _bucket(text: str) -> int:
    folded = _SPACE.sub(" ", text).strip()
    return int(hashlib.sha256(f"{SPLIT_SALT}\n{folded}".encode()).hexdigest()[:8], 16) % 100


def split_of(text: str) -> str:
    """'val', 'calib' or 'train' for a text, by a hash of its whitespace-folded form."""
    b = _bucket(text)
    return "val" if b < VAL_PERCENT else "calib" if b < VAL_PERCENT + CALIB_PERCENT else "train"


# --- data -------------------------------------------------------------------------------------

def load_shared_corpora(data_dir: Path) -> pd.DataFrame:
    """All labelled team corpora: corpus, id, text, label (1 pos / 0 neg), domain, split.

    Restaurant rows take `others_overall_experience` (1 → pos, -1 → neg; neutral 0 and
    not-mentioned -2 are left out, they have no binary label).
    """
    frames = []
    for corpus, fname in CORPORA.items():
        df = pd.read_csv(Path(data_dir) / "corpora" / fname, dtype={"review": object})
        if corpus == "restaurant":
            df = df[df["others_overall_experience"].isin([1, -1])]
            label = (df["others_overall_experience"] == 1).astype(int)
        else:
            label = df["label"].astype(int)
        out = pd.DataFrame({"corpus": corpus, "id": df["id"].astype(object), "text": df["review"], "label": label})
        out["domain"] = {"hotel": "hotel", "takeaway": "food", "restaurant": "food"}.get(corpus, "shopping")
        if corpus == "ecommerce":
            out.loc[(df["cat"] == "酒店").to_numpy(), "domain"] = "hotel"
        frames.append(out[out["text"].notna() & (out["text"].astype(str).str.strip() != "")])
    rows = pd.concat(frames, ignore_index=True)
    rows["text"] = rows["text"].astype(object)
    rows["split"] = [split_of(t) for t in rows["text"]]
    return rows


def load_gold(data_dir: Path) -> pd.DataFrame:
    """The gold dev set's id, domain, text and review sentiment (evaluation only, never trained on)."""
    with open(Path(data_dir) / "gold" / "dev.jsonl", encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh if line.strip()]
    gold = pd.DataFrame(recs)[["id", "domain", "text", "sentiment"]]
    gold["label"] = (gold["sentiment"] == "pos").astype(int)
    return gold


def read_labelled_file(path: str | Path, text_col: str = "text", label_col: str = "label") -> pd.DataFrame:
    """A user's CSV/TSV/XLSX/JSONL of labelled reviews → DataFrame(text, label 1/0).

    Raises TrainingDataError naming the file, the column and example rows when a label is not one
    of LABEL_VALUES, when there are fewer than MIN_ROWS usable rows, or only one class.
    """
    path = Path(path)
    df = _read_table(path)
    for col in (text_col, label_col):
        if col not in df.columns:
            raise TrainingDataError(f"{path}: no column {col!r}; columns are {list(df.columns)} "
                                    "(choose with --text-col / --label-col)")
    texts = df[text_col].astype(object)
    keep = texts.notna() & (texts.astype(str).str.strip() != "")
    raw = df.loc[keep, label_col]
    mapped = raw.map(_parse_label)
    bad = mapped.isna()
    if bad.any():
        examples = ", ".join(f"row {i + 1}: {raw[i]!r}" for i in raw.index[bad][:5])
        raise TrainingDataError(f"{path}: column {label_col!r} has {int(bad.sum())} unusable labels ({examples}); "
                                "use 1/0, pos/neg, positive/negative or 正面/负面")
    out = pd.DataFrame({"text": texts[keep].astype(str).to_numpy(), "label": mapped.astype(int).to_numpy()})
    _check_counts(path, label_col, out)
    return out


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise TrainingDataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, dtype=object)
        if suffix in (".jsonl", ".json"):
            return pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=object, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise TrainingDataError(f"{path}: cannot read as a table ({exc})") from exc


def _parse_label(value) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    key = str(value).strip().lower()
    if re.fullmatch(r"[01]\.0+", key):
        key = key[0]
    return LABEL_VALUES.get(key, np.nan)


def _check_counts(path: Path, label_col: str, data: pd.DataFrame) -> None:
    if len(data) < MIN_ROWS:
        raise TrainingDataError(f"{path}: only {len(data)} labelled rows with text; at least {MIN_ROWS} are needed")
    counts = data["label"].value_counts()
    small = min(counts.get(0, 0), counts.get(1, 0))
    if small < MIN_PER_CLASS:
        raise TrainingDataError(
            f"{path}: column {label_col!r} has {counts.get(1, 0)} positive and {counts.get(0, 0)} negative rows; "
            f"each class needs at least {MIN_PER_CLASS}")


# --- features and fit -------------------------------------------------------------------------

def make_segmenter():
    """The tagger's segmenter: lexicon terms as user words, so tokens agree at inference."""
    from cxtext.lexicon import load_lexicons
    from cxtext.segment import Segmenter

    return Segmenter(load_lexicons().all_terms())


def prepare(texts: Sequence[str], segmenter=None) -> tuple[list[str], list[list[str]]]:
    """Normalised texts and their tokens, as the tagger would produce them."""
    from cxtext.normalize import normalize

    segmenter = segmenter or make_segmenter()
    norms = [normalize(t).text for t in texts]
    return norms, [segmenter.cut(t) for t in norms]


def _fit_featurizer(norms, tokens, min_df: int) -> tuple[NgramFeaturizer, object]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    def analyzer(doc):
        w, c = ngrams(doc[1], doc[0])
        return ["w" + g for g in w] + ["c" + g for g in c]

    vec = TfidfVectorizer(analyzer=analyzer, min_df=min_df, sublinear_tf=True, dtype=np.float32)
    vec.fit(list(zip(norms, tokens)))
    keys = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    idf = vec.idf_.astype(np.float32)
    words = [k for k in keys if k[0] == "w"]
    chars = [k for k in keys if k[0] == "c"]
    order = np.array([vec.vocabulary_[k] for k in words + chars])
    feat, _ = NgramFeaturizer.from_grams([k[1:] for k in words], [k[1:] for k in chars], idf[order])
    return feat, vec


def _nb_ratio(x, y: np.ndarray) -> np.ndarray:
    """Naive-Bayes log-count ratio per feature (Wang & Manning 2012), add-one smoothed."""
    present = (x > 0).astype(np.float32)
    p = np.asarray(present[y == 1].sum(axis=0)).ravel() + 1.0
    q = np.asarray(present[y == 0].sum(axis=0)).ravel() + 1.0
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)


def _expert_matrix(x, onehot: np.ndarray):
    """[x, g₁·x, …, g_K·x, g] for domain weights g: one logistic fit learns shared + per-domain parts."""
    import scipy.sparse as sp

    parts = [x] + [sp.diags(onehot[:, k]) @ x for k in range(onehot.shape[1])]
    return sp.hstack(parts + [sp.csr_matrix(onehot)]).tocsr()


def fit_sentiment(norms: Sequence[str], tokens: Sequence[Sequence[str]], labels: np.ndarray,
                  calib: np.ndarray, domains: Sequence[str] | None = None, C: float = C_DEFAULT,
                  min_df: int = MIN_DF, meta: dict | None = None) -> LinearSentiment:
    """Fit featurizer, classifier and calibration; rows with `calib` True are used only for Platt scaling."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels, dtype=int)
    calib = np.asarray(calib, dtype=bool)
    fit_rows = np.flatnonzero(~calib)
    feat, _ = _fit_featurizer([norms[i] for i in fit_rows], [tokens[i] for i in fit_rows], min_df)
    x_all = feat.transform(norms, tokens)
    x, y = x_all[fit_rows], labels[fit_rows]
    r = _nb_ratio(x, y)
    xr = x @ sp.diags(r)
    names = sorted(set(domains)) if domains is not None else []
    model_meta = dict(meta or {})
    model_meta["domains"] = names if len(names) > 1 else []
    if len(names) > 1:
        dom = np.array([names.index(d) for d in domains])
        onehot = np.eye(len(names), dtype=np.float32)[dom[fit_rows]]
        clf = LogisticRegression(C=C, solver="liblinear", tol=1e-3, random_state=0, max_iter=3000).fit(_expert_matrix(xr, onehot), y)
        coef, n = clf.coef_.ravel(), feat.n_features
        weights = np.stack([coef[k * n:(k + 1) * n] * r for k in range(len(names) + 1)], axis=1)
        bias = np.concatenate([clf.intercept_, coef[(len(names) + 1) * n:]])
        # One-vs-rest liblinear: domains are easy to tell apart, and this is much faster than lbfgs here.
        gate, gate_bias = _fit_gate(x, dom[fit_rows], len(names))
    else:
        clf = LogisticRegression(C=C, solver="liblinear", tol=1e-3, random_state=0, max_iter=3000).fit(xr, y)
        weights, bias = (clf.coef_.ravel() * r)[:, None], clf.intercept_.astype(np.float64)
        gate = gate_bias = None
    model = LinearSentiment(feat, weights.astype(np.float32), bias.astype(np.float64), gate, gate_bias,
                            (1.0, 0.0), model_meta, NEU_BAND)
    model.calibration = _platt(model, [norms[i] for i in np.flatnonzero(calib)],
                               [tokens[i] for i in np.flatnonzero(calib)], labels[calib])
    return model


def _fit_gate(x, dom: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest logistic domain classifiers; their logits feed a softmax gate at inference."""
    from sklearn.linear_model import LogisticRegression

    fits = [LogisticRegression(C=10.0, solver="liblinear", tol=1e-3, random_state=0).fit(x, (dom == j).astype(int)) for j in range(k)]
    gate = np.stack([f.coef_.ravel() for f in fits], axis=1).astype(np.float32)
    return gate, np.array([f.intercept_[0] for f in fits], dtype=np.float64)


def _platt(model: LinearSentiment, norms, tokens, y: np.ndarray) -> tuple[float, float]:
    """Sigmoid calibration of the logit on the calibration slice (never the validation rows)."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) < 2:  # too few rows to calibrate: keep the logistic model's own scale
        return 1.0, 0.0
    z = model.logits(norms, tokens).reshape(-1, 1)
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(z, y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _accuracy(model: LinearSentiment, norms, tokens, y) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    pred = (model.score(norms, tokens) > 0.5).astype(int)
    return {"rows": int(len(y)), "accuracy": round(float(accuracy_score(y, pred)), 4),
            "macro_f1": round(float(f1_score(y, pred, average="macro")), 4)}


# --- the two entry points ---------------------------------------------------------------------

def train_shared(data_dir: Path, out_dir: Path, segmenter=None, log=print) -> LinearSentiment:
    """Train the default model on ../shared/data/corpora (gold dev texts excluded) into `out_dir`."""
    t0 = time.perf_counter()
    rows = load_shared_corpora(data_dir)
    gold = load_gold(data_dir)
    rows["norm"], rows["tokens"] = prepare(rows["text"].tolist(), segmenter)
    gold_norm, gold_tokens = prepare(gold["text"].tolist(), segmenter)
    usable = rows[rows["split"] != "val"].drop_duplicates("norm")
    usable = usable[~usable["norm"].isin(set(gold_norm))]
    log(f"prepared {len(rows)} rows in {time.perf_counter() - t0:.0f}s; fitting on {len(usable)} deduplicated rows")
    meta = {"name": "sentiment-zh", "version": SHIPPED_VERSION, "training_data": DATA_TERMS,
            "split": f"sha256('{SPLIT_SALT}\\n' + whitespace-folded text) % 100: <{VAL_PERCENT} validation, "
                     f"<{VAL_PERCENT + CALIB_PERCENT} calibration, rest training",
            "recipe": f"word 1-2 + char 1-3 grams, sublinear tf-idf, min_df {MIN_DF}; NB-weighted logistic "
                      f"regression C={C_DEFAULT} with domain experts and gate; Platt calibration"}
    model = fit_sentiment(usable["norm"].tolist(), usable["tokens"].tolist(), usable["label"].to_numpy(),
                          (usable["split"] == "calib").to_numpy(), usable["domain"].tolist(), meta=meta)
    val = rows[rows["split"] == "val"]
    model.meta["validation"] = {c: _accuracy(model, v["norm"].tolist(), v["tokens"].tolist(), v["label"].to_numpy())
                                for c, v in val.groupby("corpus")}
    model.meta["gold_dev"] = _accuracy(model, gold_norm, gold_tokens, gold["label"].to_numpy())
    model.meta["train_rows"] = int((usable["split"] == "train").sum())
    model.meta["calibration_rows"] = int((usable["split"] == "calib").sum())
    model.meta["train_seconds"] = round(time.perf_counter() - t0, 1)
    model.save(out_dir)
    log(json.dumps({k: model.meta[k] for k in ("validation", "gold_dev", "train_seconds")}, ensure_ascii=False))
    return LinearSentiment.load(out_dir)


def train_user(path: Path, out_dir: Path, text_col: str, label_col: str, segmenter=None, log=print) -> LinearSentiment:
    """Train a single-domain model on a user's labelled file; validation rows are reported, never fitted."""
    t0 = time.perf_counter()
    data = read_labelled_file(path, text_col, label_col)
    data["norm"], data["tokens"] = prepare(data["text"].tolist(), segmenter)
    data["split"] = [split_of(t) for t in data["text"]]
    fit = data[data["split"] != "val"].drop_duplicates("norm")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    meta = {"name": Path(out_dir).name, "version": f"user-{digest[:12]}",
            "training_data": f"{Path(path).name} (sha256 {digest}), columns {text_col!r}/{label_col!r}"}
    model = fit_sentiment(fit["norm"].tolist(), fit["tokens"].tolist(), fit["label"].to_numpy(),
                          (fit["split"] == "calib").to_numpy(), None, meta=meta)
    val = data[data["split"] == "val"]
    if val["label"].nunique() == 2:
        model.meta["validation"] = {"user": _accuracy(model, val["norm"].tolist(), val["tokens"].tolist(),
                                                      val["label"].to_numpy())}
    model.meta["train_rows"] = int((fit["split"] == "train").sum())
    model.meta["train_seconds"] = round(time.perf_counter() - t0, 1)
    model.save(out_dir)
    log(f"wrote {out_dir}: " + json.dumps(model.meta.get("validation", {}), ensure_ascii=False))
    return LinearSentiment.load(out_dir)


def train_command(args) -> int:
    """`cxtext train sentiment DATA --out DIR`; DATA `shared` retrains the default on ../shared/data."""
    from cxtext.paths import shared_data_dir

    if args.data == "shared":
        data_dir = shared_data_dir()
        if data_dir is None:
            raise SystemExit("cxtext train sentiment shared: ../shared/data is absent (team corpora only)")
        train_shared(data_dir, Path(args.out))
        return 0
    try:
        train_user(Path(args.data), Path(args.out), args.text_col, args.label_col)
    except TrainingDataError as exc:
        raise SystemExit(f"cxtext train sentiment: {exc}") from None
    return 0
