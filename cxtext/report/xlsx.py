"""report.xlsx: the analyst workbook, written in openpyxl's write-only mode (bounded memory).

Every sheet has a frozen header row and an autofilter over its data. Text cells are made
safe for spreadsheets: a value starting with = + - @ tab or CR gets a leading apostrophe
(OWASP CSV-injection advice) so Excel shows it as text instead of running it as a formula;
characters XML cannot hold are dropped; cells are cut at Excel's 32,767-character limit.
Numbers stay numbers.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cxtext.ingest import input_column_name
from cxtext.report.data import CATEGORY_NAMES, ReportData
from cxtext.store import neutralise_cell  # the one definition of what a spreadsheet would run

EXCEL_MAX_ROWS = 1_048_576
MAX_DATA_ROWS = EXCEL_MAX_ROWS - 1  # one row for the header
CELL_MAX_CHARS = 32_767
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
# Columns the Reviews sheet computes. An input column of the same name is kept as input_<name>,
# the name ingest gives a passthrough column that clashes with a column the tagger writes
# (cxtext.ingest.input_column_name), so one rule holds for every output.
REVIEWS_SHEET_COLUMNS = ("pain_points", "mentions")


def safe_cell(value):
    """A value openpyxl can write and Excel will not evaluate: see the module docstring."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value
    return neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value)))[:CELL_MAX_CHARS]


def write_sheet(wb: Workbook, title: str, frame: pd.DataFrame, headers: dict[str, str] | None = None,
                widths: dict[str, int] | None = None, max_rows: int = MAX_DATA_ROWS) -> int:
    """Append a sheet with a bold frozen header and an autofilter; returns rows written (capped)."""
    headers = headers or {c: c for c in frame.columns}
    ws = wb.create_sheet(title)
    cols = list(headers)
    rows = min(len(frame), max_rows)
    for i, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = (widths or {}).get(col, _width(headers[col]))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(cols), 1))}{rows + 1}"
    ws.append([_header_cell(ws, h) for h in headers.values()])
    for rec in frame[cols].head(rows).itertuples(index=False, name=None):
        ws.append([safe_cell(v) for v in rec])
    return rows


def _header_cell(ws, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=safe_cell(text))
    cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    return cell


def _width(header: str) -> int:
    return max(10, min(40, 2 * len(str(header)) + 2))


def write_xlsx(data: ReportData, tables: dict, path: Path, max_rows: int = MAX_DATA_ROWS) -> dict:
    """Write the workbook; returns {sheet: rows written} (Reviews/Mentions capped at `max_rows`)."""
    wb = Workbook(write_only=True)
    reviews = _reviews_sheet_frame(data)
    mentions = _mentions_sheet_frame(data)
    capped = {name: len(f) for name, f in (("Reviews", reviews), ("Mentions", mentions)) if len(f) > max_rows}
    write_sheet(wb, "Summary", summary_frame(data, tables, capped, max_rows), {"item": "项目", "value": "值"},
                {"item": 34, "value": 80})
    written = {"Pain points": write_sheet(wb, "Pain points", tables["pain"].assign(
        name=tables["pain"]["category"].map(lambda c: CATEGORY_NAMES.get(c, c))))}
    written["Journey"] = write_sheet(wb, "Journey", tables["journey"])
    written["Mentions"] = write_sheet(wb, "Mentions", mentions, widths={"context": 60, "evidence": 20}, max_rows=max_rows)
    written["Reviews"] = write_sheet(wb, "Reviews", reviews, widths={"text": 80}, max_rows=max_rows)
    written["Quarantine"] = write_sheet(wb, "Quarantine", data.quarantine, widths={"raw": 60, "detail": 40})
    for title, key in (("First vs returning", "tenure"), ("Trend", "trend"), ("By store", "by_store"),
                       ("By channel", "by_channel"), ("Rules", "rules")):
        frame = tables.get(key)
        if frame is not None and not frame.empty:
            written[title] = write_sheet(wb, title, frame)
    rating = tables.get("rating")
    if rating:
        written["Rating vs text"] = write_sheet(wb, "Rating vs text", rating["disagreements"], widths={"text": 80})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)  # atomic: a reader never sees half a workbook
    return written


def summary_frame(data: ReportData, tables: dict, capped: dict, max_rows: int) -> pd.DataFrame:
    """Key figures as (item, value) rows, including notes about caps and filters."""
    s = tables["summary"]
    items = [("来源 source", data.source), ("评论 reviews", s["reviews"]), ("提及 mentions", s["mentions"]),
             ("痛点提及 pain mentions", s["pain_mentions"]), ("含痛点评论占比 reviews with a pain point", s["pain_review_rate"]),
             ("负面评论占比 negative reviews", s["neg_sentiment_rate"]), ("隔离行 quarantined rows", s["quarantined"])]
    items += [(f"筛选 filter {k}", v) for k, v in data.filters.items()]
    items += [(f"列 column {k}", " / ".join(map(str, v))) for k, v in data.columns.items()]
    if tables.get("rating"):
        r = tables["rating"]
        items += [("NPS 指数 (promoters% - detractors%)", round(r["nps"], 1)), ("评分制 rating scale", r["scale"]),
                  ("推荐者但文本负面 promoter, negative text", r["disagree_counts"]["promoter_neg"]),
                  ("贬损者但文本正面 detractor, positive text", r["disagree_counts"]["detractor_pos"])]
    for r in tables["pain"].head(10).itertuples():
        items.append((f"痛点 pain: {r.category}", f"{r.reviews_with_pain} 条评论 ({r.pain_rate:.1%})"))
    for name, total in capped.items():
        items.append((f"注意 {name} 已截断 truncated",
                      f"共 {total:,} 行，只写入前 {max_rows:,} 行（Excel 单表上限 {EXCEL_MAX_ROWS:,} 行）"))
    items += [("注 note", n) for n in data.notes]
    return pd.DataFrame(items, columns=["item", "value"])


def _reviews_sheet_frame(data: ReportData) -> pd.DataFrame:
    """Reviews with their pain categories and mention counts, passthrough columns kept."""
    r, m = data.reviews, data.mentions
    pains = m[m["polarity"] == "neg"].groupby("review_id")["category"].agg(lambda s: ", ".join(sorted(set(s)))).to_dict()
    counts = m.groupby("review_id").size().to_dict()
    out = _rename_clashing_inputs(r, REVIEWS_SHEET_COLUMNS)
    out["pain_points"] = [pains.get(rid, "") for rid in out["review_id"]]
    out["mentions"] = [int(counts.get(rid, 0)) for rid in out["review_id"]]
    first = [c for c in ("review_id", "text", "sentiment", "sentiment_score", "pain_points", "mentions", "tenure",
                         "store", "channel", "date", "rating") if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def _rename_clashing_inputs(frame: pd.DataFrame, computed) -> pd.DataFrame:
    """A copy of `frame` whose columns named like a `computed` one are renamed input_<name>,
    suffixed .1, .2 when that name is taken too, so the computed column does not overwrite them."""
    taken = set(frame.columns)
    renames = {name: input_column_name(name, taken) for name in computed if name in frame.columns}
    return frame.rename(columns=renames)


def _mentions_sheet_frame(data: ReportData, window: int = 20) -> pd.DataFrame:
    """Mentions with a context snippet (`window` characters either side of the evidence)."""
    m = data.mentions
    texts = data.reviews.drop_duplicates("review_id").set_index("review_id")["text"]
    ctx = [_context(texts.get(rid), s, e, window) for rid, s, e in zip(m["review_id"], m["start"], m["end"])]
    # start/end stay in mentions.parquet; here the context column shows the evidence in place.
    cols = ["review_id", "category", "stage", "polarity", "evidence", "context", "rule", "confidence"]
    return m.assign(context=ctx)[cols]


def _context(text, start, end, window: int) -> str:
    if not isinstance(text, str):
        return ""
    try:
        s, e = int(start), int(end)
    except (TypeError, ValueError):
        return text[: 2 * window]
    lo, hi = max(0, s - window), min(len(text), e + window)
    return ("…" if lo else "") + text[lo:s] + "【" + text[s:e] + "】" + text[e:hi] + ("…" if hi < len(text) else "")
