"""Summary tables behind the report: pure functions, DataFrames in, DataFrames out.

Loading reads a run directory (Parquet files) or a DuckDB warehouse into a `ReportData`
whose `reviews` frame carries canonical column names (`store`, `date`, `rating`,
`channel`) whatever the input called them. Every table function below takes those frames
and returns a new frame; nothing here renders or writes.
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("cxtext.report")

STAGES = ("pre", "arrival", "service", "payment", "post")
STAGE_NAMES = {"pre": "到店前", "arrival": "到店/等待", "service": "服务", "payment": "结算", "post": "离店/售后"}
# Who the customer is and whether they will come back: context, not pain points.
CONTEXT_CATEGORIES = ("tenure_first", "tenure_returning", "repurchase_intent")
CATEGORY_NAMES = {
    "waiting_time": "等待时间", "hygiene": "卫生", "booking": "预约", "odor": "异味",
    "review_prompt": "索要好评", "price": "价格", "staff_attitude": "服务态度",
    "after_sales": "售后", "delivery": "配送", "environment": "环境", "noise": "噪音",
    "returning_customer": "老客待遇", "tenure_first": "首次到店", "tenure_returning": "回头客",
    "repurchase_intent": "复购意愿",
}
TENURE_GROUPS = ("first", "returning", "unknown")

# Passthrough columns the report understands, with the names inputs use for them.
COLUMN_ALIASES = {
    "store": ("store", "门店", "店铺", "shop", "store_name", "门店名称", "店名", "商家"),
    "date": ("created_at", "date", "time", "timestamp", "评论时间", "时间", "日期", "发布时间", "创建时间"),
    "rating": ("rating", "stars", "star", "score", "评分", "星级", "打分"),
    "channel": ("channel", "platform", "source", "渠道", "平台", "来源"),
}
SKIP_REVIEW_COLUMNS = ("text_norm", "n_mentions", "n_pain_points", "content_hash")
REVIEW_CORE = ("review_id", "text", "sentiment", "sentiment_score", "source_file", "source_row",
               "tenure", "is_complaint_log")
MENTION_COLUMNS = ("review_id", "category", "stage", "polarity", "start", "end", "evidence", "rule", "confidence")
QUARANTINE_COLUMNS = ("source_file", "source_row", "reason_code", "detail", "raw")


class ReportInputError(ValueError):
    """The report source is missing, unreadable or lacks a required column."""


@dataclass
class ReportData:
    """What the renderers read: canonical frames plus where they came from."""

    reviews: pd.DataFrame
    mentions: pd.DataFrame
    quarantine: pd.DataFrame
    run: dict = field(default_factory=dict)
    source: str = ""
    columns: dict = field(default_factory=dict)  # canonical name -> input column names, in priority order
    filters: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def detect_columns(columns) -> dict[str, list[str]]:
    """Map canonical names (store, date, rating, channel) to every matching input column.

    Matching ignores case and surrounding spaces; a column serves one role at most. A run
    over several files can hold both `store` and `门店`: the report coalesces them in order.
    """
    found: dict[str, list[str]] = {}
    used: set = set()
    for role, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            for col in columns:
                if str(col).strip().lower() == alias.lower() and col not in used and col not in REVIEW_CORE:
                    found.setdefault(role, []).append(col)
                    used.add(col)
    return found


def _flat(columns: dict[str, list[str]]) -> list[str]:
    return [c for cols in columns.values() for c in cols]


# ---------------------------------------------------------------- loading


def load(source, since=None, until=None, store=None) -> ReportData:
    """Read a run directory or a DuckDB warehouse (`*.duckdb`) and apply the filters."""
    path = Path(source)
    if not path.exists():
        raise ReportInputError(f"report source not found: {path}")
    if path.is_dir():
        data = _load_run_dir(path)
    elif path.suffix.lower() in (".duckdb", ".db"):
        data = _load_warehouse(path)
    else:
        raise ReportInputError(f"report source {path} is neither a run directory nor a .duckdb warehouse")
    return apply_filters(data, since=since, until=until, store=store)


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _load_run_dir(path: Path) -> ReportData:
    reviews_path = path / "reviews.parquet"
    if not reviews_path.exists():
        raise ReportInputError(f"{path} has no reviews.parquet: not a cxtext run directory")
    names = _parquet_columns(reviews_path)
    columns = detect_columns(names)
    # Everything but the tagger's own copies (text_norm is as long as text and not shown).
    reviews = pd.read_parquet(reviews_path, columns=[c for c in names if c not in SKIP_REVIEW_COLUMNS])
    mentions = _read_optional(path / "mentions.parquet", MENTION_COLUMNS)
    quarantine = _read_optional(path / "quarantine.parquet", QUARANTINE_COLUMNS)
    run = {}
    has_run_json = (path / "run.json").exists()
    if has_run_json:
        try:
            run = json.loads((path / "run.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ReportInputError(f"{path / 'run.json'}: not valid JSON ({exc})") from exc
    data = _canonical(reviews, mentions, quarantine, run, str(path), columns)
    if not has_run_json:
        data.notes.insert(0, _missing_run_json_note(path))
    return data


def _missing_run_json_note(path: Path) -> str:
    """Warn that a run directory without run.json may hold an unfinished run.

    A run writes run.json last, so without it the Parquet files may be from a run that stopped
    part way (or were copied in by hand). Still reported, since they may be all there is.
    """
    log.warning("%s: no run.json, so the run may not have finished; the report's figures may come "
                "from an incomplete run", path)
    return f"{path}：没有 run.json，这次运行可能没有完成，报告中的数字可能来自不完整的运行"


def _read_optional(path: Path, columns) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    names = _parquet_columns(path)
    return pd.read_parquet(path, columns=[c for c in columns if c in names])


def _load_warehouse(path: Path) -> ReportData:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:  # not a DuckDB file, or a run is writing it (DuckDB's lock)
        raise ReportInputError(f"{path}: cannot read the warehouse ({exc})") from exc
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "reviews" not in tables:
            raise ReportInputError(f"{path}: warehouse has no table 'reviews' (tables: {sorted(tables)})")
        names = [r[0] for r in con.execute("DESCRIBE reviews").fetchall()]
        core = [c for c in REVIEW_CORE if c in names]
        columns = detect_columns(names)
        select, params = _select_list(core + _flat(columns)), []
        if "extra" in names:  # passthrough columns are stored as JSON in `extra`
            keys = [k for k in _extra_keys(con) if k not in names]
            for role, cols in detect_columns(keys).items():
                for col in cols:
                    select += f", json_extract_string(extra, ?) AS {_select_list([col])}"
                    params.append('$."' + col.replace('"', '\\"') + '"')
                columns.setdefault(role, []).extend(cols)
        if "content_hash" in names:
            select += ', "content_hash"'
        reviews = con.execute(f"SELECT {select} FROM reviews", params).df()
        mentions = _warehouse_table(con, tables, "mentions", MENTION_COLUMNS + ("content_hash",))
        reviews, mentions = _unique_review_ids(reviews, mentions)
        quarantine = _warehouse_table(con, tables, "quarantine", QUARANTINE_COLUMNS)
        run = _warehouse_run(con, tables)
    finally:
        con.close()
    return _canonical(reviews, mentions, quarantine, run, str(path), columns)


def _unique_review_ids(reviews: pd.DataFrame, mentions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Report keys that are unique per stored review.

    A warehouse keys reviews by content hash, so two dumps can both hold a review "1" with different
    texts (or a review edited between exports). The report joins on review_id; such ids get the
    first 8 characters of their content hash appended (`1~3fa2c0d1`) in reviews and mentions alike,
    so no mention is attached to the wrong text.
    """
    if "content_hash" not in reviews.columns:
        return reviews, mentions
    clash = reviews["review_id"].duplicated(keep=False)
    if clash.any():
        reviews = reviews.copy()
        mentions = mentions.copy()
        hashes = reviews.loc[clash, "content_hash"].astype(str)
        new_ids = reviews.loc[clash, "review_id"].astype(str) + "~" + hashes.str[:8]
        renamed = dict(zip(hashes, new_ids))
        reviews.loc[clash, "review_id"] = new_ids
        if "content_hash" in mentions.columns:
            hit = mentions["content_hash"].astype(str).isin(renamed)
            mentions.loc[hit, "review_id"] = mentions.loc[hit, "content_hash"].astype(str).map(renamed)
    reviews = reviews.drop(columns="content_hash")
    return reviews, mentions.drop(columns="content_hash", errors="ignore")


def _extra_keys(con) -> list[str]:
    """Keys of the passthrough JSON over every warehouse review, in order of first appearance.

    All rows, not a sample: a warehouse fills dump by dump, and a store or date column that only
    a later dump has must still reach the report.
    """
    rows = con.execute(
        "SELECT key FROM (SELECT unnest(json_keys(extra)) AS key, rowid AS pos FROM reviews"
        " WHERE json_valid(extra) AND json_type(extra) = 'OBJECT') GROUP BY key ORDER BY min(pos), key"
    ).fetchall()
    return [str(key) for (key,) in rows]


def _select_list(cols) -> str:
    return ", ".join('"' + str(c).replace('"', '""') + '"' for c in cols)


def _warehouse_table(con, tables, name, columns) -> pd.DataFrame:
    if name not in tables:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    names = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    return con.execute(f"SELECT {_select_list([c for c in columns if c in names])} FROM {name}").df()


def _warehouse_run(con, tables) -> dict:
    """The latest row of the `runs` table as a dict (JSON text columns decoded)."""
    if "runs" not in tables:
        return {}
    frame = con.execute("SELECT * FROM runs").df()
    if frame.empty:
        return {}
    if "finished_at" in frame.columns:
        frame = frame.sort_values("finished_at", na_position="first", kind="stable")
    row = frame.iloc[-1].to_dict()
    out = {"runs_in_warehouse": int(len(frame))}
    for key, value in row.items():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        out[str(key)] = value
    return out


def _canonical(reviews, mentions, quarantine, run, source, columns) -> ReportData:
    """Rename detected passthrough columns and fill the columns every table relies on."""
    for col in ("review_id", "text"):
        if col not in reviews.columns:
            raise ReportInputError(f"{source}: reviews lack required column '{col}' (have {list(reviews.columns)})")
    reviews = _coalesce_roles(reviews, columns)
    # Plain object ids: Series.isin on Arrow-backed strings is ~20x slower with large sets.
    reviews["review_id"] = reviews["review_id"].astype(str).astype(object)
    if "sentiment" not in reviews.columns:
        reviews["sentiment"] = ""
    if "sentiment_score" not in reviews.columns:
        reviews["sentiment_score"] = np.nan
    mentions = mentions.copy()
    for col in MENTION_COLUMNS:
        if col not in mentions.columns:
            mentions[col] = pd.Series(dtype="object", index=mentions.index)
    mentions["review_id"] = mentions["review_id"].astype(str).astype(object)
    if "tenure" not in reviews.columns:
        reviews["tenure"] = tenure_from_mentions(reviews["review_id"], mentions)
    notes = []
    if "date" in reviews.columns:
        raw = reviews["date"]
        reviews["date"] = parse_dates(raw)
        bad = int(reviews["date"].isna().sum() - raw.isna().sum())
        if bad:
            notes.append(f"{bad} 条评论的日期（列 {'/'.join(columns['date'])}）无法解析，未计入趋势")
    if "rating" in reviews.columns:
        reviews["rating"] = parse_rating(reviews["rating"])
    return ReportData(reviews, mentions, quarantine, run, source, columns, {}, notes)


def _coalesce_roles(reviews: pd.DataFrame, columns: dict[str, list[str]]) -> pd.DataFrame:
    """One canonical column per role: the first non-empty value among its input columns."""
    out = reviews.drop(columns=_flat(columns))
    for role, cols in columns.items():
        values = reviews[cols[0]]
        for col in cols[1:]:
            values = _blank_to_na(values).combine_first(reviews[col]) if values.dtype == reviews[col].dtype \
                else _blank_to_na(values.astype("string")).combine_first(reviews[col].astype("string"))
        out[role] = values
    return out


def _blank_to_na(values: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        return values.mask(values.astype("string").str.strip() == "")
    return values


def tenure_from_mentions(review_ids: pd.Series, mentions: pd.DataFrame) -> pd.Series:
    """'returning' / 'first' / '' per review from tenure_* mentions (returning wins)."""
    cats = mentions.loc[mentions["category"].isin(["tenure_first", "tenure_returning"]), ["review_id", "category"]]
    returning = set(cats.loc[cats["category"] == "tenure_returning", "review_id"])
    first = set(cats.loc[cats["category"] == "tenure_first", "review_id"])
    return review_ids.map(lambda r: "returning" if r in returning else ("first" if r in first else ""))


# A UTC offset or zone letter after the time of day: 10:00:00+08:00, 10:00 +0800, 02:00:00.5Z.
_TZ_SUFFIX = r"(\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d\d:?\d\d)\s*$"


def parse_dates(values: pd.Series) -> pd.Series:
    """Naive wall-clock timestamps out of a date column; what does not parse is NaT.

    An offset is dropped, not converted (10:00+08:00 stays 10:00, the time the reviewer saw).
    Files that disagree on offsets (a +08:00 export beside a naive one) are read the same way:
    pandas refuses such a column as a whole, so there the offsets are cut off the text first.
    """
    try:
        dates = pd.to_datetime(values, errors="coerce", format="mixed")
    except ValueError:  # "Mixed timezones detected"
        wall = values.astype("string").str.replace(_TZ_SUFFIX, r"\1", regex=True)
        dates = pd.to_datetime(wall, errors="coerce", format="mixed")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates


def parse_rating(values: pd.Series) -> pd.Series:
    """Numbers out of ratings such as 4, '4.5', '5星', '8分'; anything else NaN."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.extract(r"(-?\d+(?:\.\d+)?)", expand=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def apply_filters(data: ReportData, since=None, until=None, store=None) -> ReportData:
    """Keep reviews in [since, until] (dates inclusive) and of one store; mentions follow."""
    reviews = data.reviews
    filters = {}
    if since is not None or until is not None:
        if "date" not in reviews.columns:
            raise ReportInputError(f"{data.source}: --since/--until need a date column; reviews have none "
                                   f"(looked for {', '.join(COLUMN_ALIASES['date'])})")
        keep = pd.Series(True, index=reviews.index)
        if since is not None:
            keep &= reviews["date"] >= pd.Timestamp(since)
            filters["since"] = str(since)
        if until is not None:
            keep &= reviews["date"] < pd.Timestamp(until) + pd.Timedelta(days=1)
            filters["until"] = str(until)
        reviews = reviews[keep.fillna(False)]
    if store is not None:
        if "store" not in reviews.columns:
            raise ReportInputError(f"{data.source}: --store needs a store column; reviews have none "
                                   f"(looked for {', '.join(COLUMN_ALIASES['store'])})")
        reviews = reviews[reviews["store"].astype("string") == str(store)]
        filters["store"] = str(store)
    if not filters:
        return data
    mentions = data.mentions[data.mentions["review_id"].isin(reviews["review_id"])]
    notes = data.notes + ["隔离区（Quarantine）记录未按筛选条件过滤"]
    return ReportData(reviews.reset_index(drop=True), mentions.reset_index(drop=True), data.quarantine,
                      data.run, data.source, data.columns, filters, notes)


# ---------------------------------------------------------------- tables


def pain_mentions(mentions: pd.DataFrame) -> pd.DataFrame:
    """Mentions with polarity 'neg' outside the context categories."""
    return mentions[(mentions["polarity"] == "neg") & ~mentions["category"].isin(CONTEXT_CATEGORIES)]


def most_common(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    """Per `key`, its most frequent `value` (ties: the first in sort order); vectorised."""
    counts = frame.groupby([key, value]).size().reset_index(name="_n")
    counts = counts.sort_values([key, "_n", value], ascending=[True, False, True]).drop_duplicates(key)
    return counts.set_index(key)[value]


def pain_ranking(reviews: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """Per category: mentions by polarity, reviews with the pain point and their share of all reviews."""
    m = mentions[~mentions["category"].isin(CONTEXT_CATEGORIES)]
    cols = ["category", "name", "stage", "mentions", "neg", "neu", "pos", "reviews_with_pain", "pain_rate", "neg_share"]
    if m.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    counts = pd.crosstab(m["category"], m["polarity"]).reindex(columns=["neg", "neu", "pos"], fill_value=0)
    stage = most_common(m, "category", "stage")
    pain_reviews = pain_mentions(m).groupby("category")["review_id"].nunique()
    out = counts.assign(mentions=counts.sum(axis=1), stage=stage)
    out["reviews_with_pain"] = pain_reviews.reindex(out.index, fill_value=0).astype(int)
    out["pain_rate"] = out["reviews_with_pain"] / max(len(reviews), 1)
    out["neg_share"] = out["neg"] / out["mentions"]
    out = out.reset_index()
    out["name"] = out["category"].map(lambda c: CATEGORY_NAMES.get(c, c))
    out = out.sort_values(["reviews_with_pain", "neg", "category"], ascending=[False, False, True])
    return out[cols].reset_index(drop=True)


def journey(mentions: pd.DataFrame) -> pd.DataFrame:
    """One row per stage in journey order: mentions, neg/neu/pos, share negative, top pain point."""
    m = mentions[~mentions["category"].isin(CONTEXT_CATEGORIES)]
    counts = pd.crosstab(m["stage"], m["polarity"]) if not m.empty else pd.DataFrame()
    counts = counts.reindex(index=list(STAGES), columns=["neg", "neu", "pos"], fill_value=0).fillna(0).astype(int)
    out = counts.assign(mentions=counts.sum(axis=1))
    out["reviews"] = m.groupby("stage")["review_id"].nunique().reindex(out.index, fill_value=0).astype(int)
    out["share_neg"] = np.where(out["mentions"] > 0, out["neg"] / out["mentions"].where(out["mentions"] > 0, 1), np.nan)
    out["top_pain"] = most_common(pain_mentions(m), "stage", "category").reindex(out.index).fillna("")
    out = out.rename_axis("stage").reset_index()
    out["name"] = out["stage"].map(STAGE_NAMES)
    return out[["stage", "name", "mentions", "reviews", "neg", "neu", "pos", "share_neg", "top_pain"]]


def review_pain_flags(reviews: pd.DataFrame, mentions: pd.DataFrame) -> pd.Series:
    """Boolean per review (aligned to `reviews`): has at least one pain point."""
    return reviews["review_id"].isin(pain_mentions(mentions)["review_id"])


def choose_frequency(dates: pd.Series) -> str:
    """'W' when the dates span at most 26 weeks, else 'M'."""
    d = dates.dropna()
    if d.empty:
        return "W"
    return "W" if (d.max() - d.min()) <= pd.Timedelta(weeks=26) else "M"


def trend(reviews: pd.DataFrame, mentions: pd.DataFrame, freq: str | None = None) -> pd.DataFrame:
    """Per week or month: reviews, reviews with a pain point, pain rate, negative-sentiment rate."""
    cols = ["period", "reviews", "with_pain", "pain_rate", "neg_sentiment_rate", "mean_score"]
    if "date" not in reviews.columns or reviews["date"].notna().sum() == 0:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    freq = freq or choose_frequency(reviews["date"])
    periods = reviews["date"].dt.to_period(freq)
    frame = pd.DataFrame({
        "period": periods.dt.start_time,
        "pain": review_pain_flags(reviews, mentions),
        "neg": reviews["sentiment"] == "neg",
        "score": pd.to_numeric(reviews["sentiment_score"], errors="coerce"),
    })[reviews["date"].notna()]
    g = frame.groupby("period")
    out = pd.DataFrame({"reviews": g.size(), "with_pain": g["pain"].sum(), "neg": g["neg"].sum(),
                        "mean_score": g["score"].mean()})
    # Every period between the first and the last, so a quiet week shows as a gap, not as nothing.
    full = pd.period_range(periods.min(), periods.max(), freq=freq).start_time
    out = out.reindex(full).rename_axis("period")
    out[["reviews", "with_pain", "neg"]] = out[["reviews", "with_pain", "neg"]].fillna(0).astype(int)
    out["pain_rate"] = out["with_pain"] / out["reviews"].where(out["reviews"] > 0)
    out["neg_sentiment_rate"] = out["neg"] / out["reviews"].where(out["reviews"] > 0)
    return out.reset_index()[cols]


def breakdown(reviews: pd.DataFrame, mentions: pd.DataFrame, by: str, limit: int = 30) -> pd.DataFrame:
    """Per value of `by` (store, channel): reviews, pain rate, negative-sentiment rate, top pain, NPS.

    Groups beyond `limit` (by size) are folded into one row named '（其他）'.
    """
    cols = ["group", "reviews", "with_pain", "pain_rate", "neg_sentiment_rate", "top_pain", "nps"]
    if by not in reviews.columns:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    key = reviews[by].astype("string").fillna("（空）")
    sizes = key.value_counts()
    if len(sizes) > limit:
        key = key.where(key.isin(sizes.index[:limit]), "（其他）")
    frame = pd.DataFrame({"group": key, "pain": review_pain_flags(reviews, mentions),
                          "neg": reviews["sentiment"] == "neg", "review_id": reviews["review_id"]})
    if "rating" in reviews.columns:
        frame["nps_class"] = rating_classes(reviews)[0]
    g = frame.groupby("group")
    out = pd.DataFrame({"reviews": g.size(), "with_pain": g["pain"].sum(), "neg": g["neg"].sum()})
    out["pain_rate"] = out["with_pain"] / out["reviews"]
    out["neg_sentiment_rate"] = out["neg"] / out["reviews"]
    pains = pain_mentions(mentions).merge(frame[["review_id", "group"]], on="review_id")
    out["top_pain"] = most_common(pains, "group", "category").reindex(out.index).fillna("")
    out["nps"] = g["nps_class"].agg(nps_index) if "nps_class" in frame else np.nan
    out = out.rename_axis("group").reset_index().sort_values(["reviews", "group"], ascending=[False, True])
    return out[cols].reset_index(drop=True)


def sentiment_distribution(reviews: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Histogram of sentiment_score over [0, 1] in `bins` equal bins (right edge closed at 1)."""
    scores = pd.to_numeric(reviews["sentiment_score"], errors="coerce").dropna().clip(0, 1).to_numpy()
    counts, edges = np.histogram(scores, bins=bins, range=(0.0, 1.0))
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "reviews": counts.astype(int)})


def sentiment_labels(reviews: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares of the review-level labels pos / neu / neg."""
    counts = reviews["sentiment"].astype("string").fillna("").value_counts()
    counts = counts.reindex(["pos", "neu", "neg"], fill_value=0).astype(int)
    total = max(int(counts.sum()), 1)
    return pd.DataFrame({"sentiment": counts.index, "reviews": counts.to_numpy(), "share": counts.to_numpy() / total})


QUOTE_CHARS = 160


def top_evidence(reviews: pd.DataFrame, mentions: pd.DataFrame, per_category: int = 5) -> pd.DataFrame:
    """For each pain category, the most confident pain mentions with a quote around the evidence.

    `quote` is the review text (a window of about QUOTE_CHARS characters around long texts)
    and `q_start`/`q_end` locate the evidence inside the quote, from the mention's offsets
    into the original text.
    """
    cols = ["category", "review_id", "evidence", "rule", "confidence", "quote", "q_start", "q_end"]
    pains = pain_mentions(mentions)
    if pains.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    pains = pains.assign(_c=pd.to_numeric(pains["confidence"], errors="coerce").fillna(0))
    pains = pains.sort_values(["category", "_c", "review_id"], ascending=[True, False, True])
    pains = pains.drop_duplicates(["category", "review_id"]).groupby("category").head(per_category)
    texts = reviews[["review_id", "text"]].drop_duplicates("review_id")
    out = pains.merge(texts, on="review_id", how="left")
    quotes = [_quote(t, s, e) for t, s, e in zip(out["text"], out["start"], out["end"])]
    out["quote"] = [q[0] for q in quotes]
    out["q_start"] = [q[1] for q in quotes]
    out["q_end"] = [q[2] for q in quotes]
    return out[cols].reset_index(drop=True)


def _quote(text, start, end) -> tuple[str, int, int]:
    """(quote, start, end): the text or a window around [start, end); offsets -1 when unusable."""
    text = "" if text is None or text is pd.NA or (isinstance(text, float) and math.isnan(text)) else str(text)
    try:
        s, e = int(start), int(end)
    except (TypeError, ValueError):
        return text[:QUOTE_CHARS], -1, -1
    if not 0 <= s <= e <= len(text):
        return text[:QUOTE_CHARS], -1, -1
    if len(text) <= QUOTE_CHARS:
        return text, s, e
    lo = max(0, min(s - QUOTE_CHARS // 3, len(text) - QUOTE_CHARS))
    hi = max(lo + QUOTE_CHARS, e)
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    return prefix + text[lo:hi] + suffix, s - lo + len(prefix), e - lo + len(prefix)


def rule_coverage(reviews: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """Per rule: how often it fires, on how many reviews (coverage), its polarity split, and
    conflicts = reviews where it fires and another mention of the same category has the
    opposite polarity (pos against neg)."""
    cols = ["rule", "category", "mentions", "reviews", "coverage", "neg", "neu", "pos", "conflicts"]
    if mentions.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    m = mentions[["rule", "category", "polarity", "review_id"]].fillna({"rule": "(none)"})
    counts = pd.crosstab(m["rule"], m["polarity"]).reindex(columns=["neg", "neu", "pos"], fill_value=0)
    g = m.groupby("rule")
    out = counts.assign(mentions=counts.sum(axis=1), reviews=g["review_id"].nunique(),
                        category=most_common(m, "rule", "category"))
    out["coverage"] = out["reviews"] / max(len(reviews), 1)
    flags = m.assign(neg=m["polarity"] == "neg", pos=m["polarity"] == "pos")
    flags = flags.groupby(["review_id", "category"])[["neg", "pos"]].any()
    clash = flags[flags["neg"] & flags["pos"]].reset_index()[["review_id", "category"]]
    hits = m.merge(clash, on=["review_id", "category"]).drop_duplicates(["rule", "review_id"])
    out["conflicts"] = hits.groupby("rule").size().reindex(out.index, fill_value=0).astype(int)
    out = out.rename_axis("rule").reset_index().sort_values(["mentions", "rule"], ascending=[False, True])
    return out[cols].reset_index(drop=True)


def tenure_groups(reviews: pd.DataFrame) -> pd.Series:
    """'first' / 'returning' / 'unknown' per review from the tenure column."""
    t = reviews["tenure"].astype("string").fillna("") if "tenure" in reviews.columns else pd.Series("", index=reviews.index)
    return t.where(t.isin(["first", "returning"]), "unknown")


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (NaN when undefined)."""
    if min(n1, n2) == 0:
        return float("nan")
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return 1.0
    z = abs(k1 / n1 - k2 / n2) / math.sqrt(var)
    return math.erfc(z / math.sqrt(2))


def tenure_comparison(reviews: pd.DataFrame, mentions: pd.DataFrame, alpha: float = 0.05,
                      min_count: int = 5) -> pd.DataFrame:
    """Rates of each pain point (and of won't-come-back, negative sentiment) for first-visit,
    returning and unknown customers, with counts.

    One row per measure; for each group `<g>_n` (reviews in the group), `<g>_k` (reviews with
    it) and `<g>_rate`. `diff` = returning rate - first rate; `p_value` from a two-proportion
    z-test; `flag` is 'returning worse' / 'first worse' when p < alpha and at least
    `min_count` reviews have it, so a reader sees the counts behind every flag.
    """
    groups = tenure_groups(reviews)
    ids = pd.DataFrame({"review_id": reviews["review_id"], "group": groups})
    n = groups.value_counts().reindex(list(TENURE_GROUPS), fill_value=0)
    measures = _tenure_measures(reviews, mentions, ids)
    rows = []
    for measure, name, hit_ids in measures:
        row = {"measure": measure, "name": name}
        hit = ids[ids["review_id"].isin(hit_ids)].groupby("group").size().reindex(list(TENURE_GROUPS), fill_value=0)
        for grp in TENURE_GROUPS:
            row[f"{grp}_n"], row[f"{grp}_k"] = int(n[grp]), int(hit[grp])
            row[f"{grp}_rate"] = hit[grp] / n[grp] if n[grp] else np.nan
        rows.append(_flag_row(row, alpha, min_count))
    return pd.DataFrame(rows, columns=_tenure_columns())


def _tenure_columns() -> list[str]:
    per = [f"{g}_{x}" for g in TENURE_GROUPS for x in ("n", "k", "rate")]
    return ["measure", "name", *per, "diff", "p_value", "flag"]


def _tenure_measures(reviews, mentions, ids):
    """(measure id, display name, review ids having it) for every pain category and two extras."""
    pains = pain_mentions(mentions)
    out = [(cat, CATEGORY_NAMES.get(cat, cat), set(grp["review_id"]))
           for cat, grp in pains.groupby("category")]
    out.sort(key=lambda t: -len(t[2]))
    any_pain = set(pains["review_id"])
    no_return = set(mentions.loc[(mentions["category"] == "repurchase_intent") & (mentions["polarity"] == "neg"), "review_id"])
    will_return = set(mentions.loc[(mentions["category"] == "repurchase_intent") & (mentions["polarity"] == "pos"), "review_id"])
    neg = set(reviews.loc[reviews["sentiment"] == "neg", "review_id"])
    return [("any_pain", "任一痛点", any_pain), *out, ("negative_sentiment", "整体负面", neg),
            ("will_not_return", "不会再来", no_return), ("will_return", "还会再来", will_return)]


def _flag_row(row: dict, alpha: float, min_count: int) -> dict:
    k1, n1, k2, n2 = row["first_k"], row["first_n"], row["returning_k"], row["returning_n"]
    row["diff"] = row["returning_rate"] - row["first_rate"] if n1 and n2 else np.nan
    row["p_value"] = two_proportion_p(k1, n1, k2, n2)
    row["flag"] = ""
    if n1 and n2 and k1 + k2 >= min_count and row["p_value"] < alpha:
        worse_when_higher = row["measure"] != "will_return"
        returning_worse = (row["diff"] > 0) == worse_when_higher
        row["flag"] = "returning worse" if returning_worse else "first worse"
    return row


# ---------------------------------------------------------------- rating vs text


def rating_scale(ratings: pd.Series) -> int | None:
    """5 or 10 from the largest rating present; None when there are no usable ratings."""
    r = pd.to_numeric(ratings, errors="coerce").dropna()
    r = r[r >= 0]
    if r.empty or r.max() > 10:
        return None
    return 5 if r.max() <= 5 else 10


def nps_classes(ratings: pd.Series, scale: int | None = None) -> pd.Series:
    """'promoter' / 'passive' / 'detractor' / '' per rating.

    1-5 stars: 5 promoter, 4 passive, 1-3 detractor. 0-10: 9-10 promoter, 7-8 passive,
    0-6 detractor. Ratings outside the scale are ''.
    """
    r = pd.to_numeric(ratings, errors="coerce")
    scale = scale or rating_scale(r)
    if scale is None:
        return pd.Series("", index=ratings.index, dtype="object")
    low, top, passive, promoter = (1, 5, 4, 5) if scale == 5 else (0, 10, 7, 9)
    out = np.select([(r < low) | (r > top) | r.isna(), r >= promoter, r >= passive],
                    ["", "promoter", "passive"], default="detractor")
    return pd.Series(out, index=ratings.index, dtype="object")


def rating_classes(reviews: pd.DataFrame) -> tuple[pd.Series, dict]:
    """NPS classes of every review, the scale detected per source file (a run can mix a 5-star
    file with a 10-point one); returns (classes, {source_file: scale})."""
    if "rating" not in reviews.columns:
        return pd.Series("", index=reviews.index, dtype="object"), {}
    if "source_file" not in reviews.columns:
        scale = rating_scale(reviews["rating"])
        return nps_classes(reviews["rating"], scale), ({"": scale} if scale else {})
    classes = pd.Series("", index=reviews.index, dtype="object")
    scales = {}
    for source, ratings in reviews["rating"].groupby(reviews["source_file"].astype("string").fillna(""), sort=True):
        scale = rating_scale(ratings)
        if scale is not None:
            scales[str(source)] = scale
            classes.loc[ratings.index] = nps_classes(ratings, scale)
    return classes, scales


def nps_index(classes: pd.Series) -> float:
    """% promoters - % detractors among classified ratings, in [-100, 100]; NaN when none."""
    c = classes[classes.isin(["promoter", "passive", "detractor"])]
    if c.empty:
        return float("nan")
    return 100.0 * ((c == "promoter").mean() - (c == "detractor").mean())


def rating_vs_sentiment(reviews: pd.DataFrame, limit: int = 50) -> dict:
    """NPS-style index from ratings beside the text sentiment, and where they disagree.

    Returns {'scale', 'nps', 'rated', 'crosstab' (class x sentiment counts), 'disagree_counts',
    'disagreements' (up to `limit` reviews: promoter with negative text, detractor with positive)}.
    """
    classes, scales = rating_classes(reviews)
    if not scales:
        return {}
    scale = next(iter(scales.values())) if len(set(scales.values())) == 1 else "mixed"
    rated = classes != ""
    frame = pd.DataFrame({"class": classes, "sentiment": reviews["sentiment"].astype("string").fillna("")})[rated]
    cross = pd.crosstab(frame["class"], frame["sentiment"]).reindex(
        index=["promoter", "passive", "detractor"], columns=["pos", "neu", "neg"], fill_value=0)
    disagree = ((classes == "promoter") & (reviews["sentiment"] == "neg")) | \
               ((classes == "detractor") & (reviews["sentiment"] == "pos"))
    cols = ["review_id", "rating", "class", "sentiment", "sentiment_score", "text"]
    sample = reviews.assign(**{"class": classes})[disagree.fillna(False)]
    return {"scale": scale, "scales": scales, "nps": nps_index(classes), "rated": int(rated.sum()), "crosstab": cross,
            "disagree_counts": {"promoter_neg": int(cross.loc["promoter", "neg"]),
                                "detractor_pos": int(cross.loc["detractor", "pos"])},
            "disagreements": sample[cols].head(limit).reset_index(drop=True)}


def quarantine_reasons(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows per reason code."""
    if quarantine.empty or "reason_code" not in quarantine.columns:
        return pd.DataFrame({"reason_code": pd.Series(dtype="object"), "rows": pd.Series(dtype="int64")})
    out = quarantine["reason_code"].astype("string").fillna("").value_counts().rename_axis("reason_code")
    return out.reset_index(name="rows")


_WS = re.compile(r"\s+")


def one_line(text, limit: int = 200) -> str:
    """Whitespace-folded text cut to `limit` characters (for table cells)."""
    s = _WS.sub(" ", "" if text is None or text is pd.NA else str(text)).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def build_tables(data: ReportData) -> dict:
    """Every table the renderers draw, computed once from `data`."""
    r, m = data.reviews, data.mentions
    pains = pain_mentions(m)
    trend_table = trend(r, m)
    return {
        "summary": {
            "reviews": int(len(r)), "mentions": int(len(m)), "pain_mentions": int(len(pains)),
            "pain_review_rate": float(review_pain_flags(r, m).mean()) if len(r) else float("nan"),
            "neg_sentiment_rate": float((r["sentiment"] == "neg").mean()) if len(r) else float("nan"),
            "quarantined": int(len(data.quarantine)),
        },
        "pain": pain_ranking(r, m),
        "journey": journey(m),
        "trend": trend_table,
        "trend_freq": choose_frequency(r["date"]) if "date" in r.columns else None,
        "by_store": breakdown(r, m, "store"),
        "by_channel": breakdown(r, m, "channel"),
        "sentiment_hist": sentiment_distribution(r),
        "sentiment_labels": sentiment_labels(r),
        "tenure": tenure_comparison(r, m),
        "rating": rating_vs_sentiment(r),
        "evidence": top_evidence(r, m),
        "rules": rule_coverage(r, m),
        "quarantine_reasons": quarantine_reasons(data.quarantine),
    }
