"""Report tables, HTML (escaping, CSP, headless Chromium), workbook, warehouse input and CLI.

The run directory is built here from reviews we wrote, with mentions whose offsets are
computed from the text, so these tests do not depend on the tagger.
"""
from __future__ import annotations

import json
import logging
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from cxtext.cli import main as cli_main
from cxtext.report import browser, write_reports
from cxtext.report import data as D
from cxtext.report.data import ReportInputError, load
from cxtext.report.html import highlight, render_html
from cxtext.report.xlsx import safe_cell, write_xlsx

XSS_SCRIPT = "<script>document.title='pwned'</script>服务员态度很差，叫了三次都不理人。"
XSS_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">预约了还要等半小时才进房。"
FORMULA = "=HYPERLINK(\"http://example.com\",\"点我\") 价格实惠，还会再来"

# (review_id, text, store, created_at, rating, channel, sentiment, score, tenure,
#  [(category, stage, polarity, evidence, rule)])
REVIEWS = [
    ("r01", "第一次来，前台很热情，房间也干净。", "南山店", "2024-03-04", 5, "美团", "pos", 0.92, "first",
     [("tenure_first", "pre", "neu", "第一次", "tenure.first"), ("staff_attitude", "service", "pos", "很热情", "staff.warm"),
      ("hygiene", "service", "pos", "干净", "hygiene.clean")]),
    ("r02", "老会员了，这次排队等了一个小时，前台爱答不理，不会再来了。", "南山店", "2024-03-12", 2, "小程序", "neg", 0.08,
     "returning",
     [("tenure_returning", "pre", "neu", "老会员", "tenure.member"), ("waiting_time", "arrival", "neg", "等了一个小时", "wait.hours"),
      ("staff_attitude", "service", "neg", "爱答不理", "staff.ignore"), ("repurchase_intent", "post", "neg", "不会再来", "repurchase.no")]),
    ("r03", "房间有股霉味，卫生间也不干净。", "福田店", "2024-04-02", 1, "美团", "neg", 0.05, "",
     [("odor", "service", "neg", "霉味", "odor.mould"), ("hygiene", "service", "neg", "不干净", "hygiene.clean")]),
    ("r04", "美团198小程序128，价格不透明。又来了一次，新客有礼品老客没有。", "福田店", "2024-04-20", 3, "小程序", "neg", 0.2,
     "returning",
     [("price", "payment", "neg", "价格不透明", "price.opaque"), ("tenure_returning", "pre", "neu", "又来了", "tenure.again"),
      ("returning_customer", "pre", "neg", "老客没有", "returning.gift")]),
    ("r05", "结账时硬拉着给五星好评，好评返现五元。", "<b>罗湖店</b>", "2024-05-06", 5, "美团", "neg", 0.3, "",
     [("review_prompt", "post", "neg", "好评返现", "prompt.cashback")]),
    ("r06", XSS_SCRIPT, "南山店", "2024-05-15", 1, "美团", "neg", 0.1, "",
     [("staff_attitude", "service", "neg", "不理人", "staff.ignore")]),
    ("r07", XSS_IMG, "福田店", "2024-06-01", 2, "电话", "neg", 0.15, "",
     [("waiting_time", "arrival", "neg", "等半小时", "wait.hours")]),
    ("r08", FORMULA, "南山店", "2024-06-03", 1, "美团", "pos", 0.85, "",
     [("price", "payment", "pos", "价格实惠", "price.cheap"), ("repurchase_intent", "post", "pos", "还会再来", "repurchase.yes")]),
    ("r09", "+1 首次到店，上菜很快，不用排队。", "南山店", "2024-06-10", 4, "美团", "pos", 0.8, "first",
     [("tenure_first", "pre", "neu", "首次", "tenure.first"), ("waiting_time", "arrival", "pos", "不用排队", "wait.none")]),
    ("r10", "-5分都嫌多，电话预约一直约不上，再次来还是这样，老顾客等得更久。", "福田店", "2024-06-20", 1, "电话", "neg", 0.04,
     "returning",
     [("booking", "pre", "neg", "约不上", "booking.full"), ("tenure_returning", "pre", "neu", "再次来", "tenure.again"),
      ("waiting_time", "arrival", "neg", "等得更久", "wait.longer")]),
]


def make_frames(rows=REVIEWS):
    """reviews, mentions, quarantine frames as a run writes them (Chinese passthrough names)."""
    reviews, mentions = [], []
    for rid, text, store, date, rating, channel, sent, score, tenure, ments in rows:
        reviews.append({"review_id": rid, "text": text, "text_norm": text, "sentiment": sent, "sentiment_score": score,
                        "source_file": "data/reviews.csv", "source_row": len(reviews) + 1, "门店": store,
                        "评论时间": date, "评分": rating, "渠道": channel, "tenure": tenure, "is_complaint_log": False})
        for cat, stage, pol, ev, rule in ments:
            start = text.index(ev)
            mentions.append({"review_id": rid, "category": cat, "stage": stage, "polarity": pol, "start": start,
                             "end": start + len(ev), "evidence": ev, "rule": rule, "confidence": 0.9})
    quarantine = pd.DataFrame({"source_file": ["data/reviews.csv"] * 2, "source_row": [11, 12],
                               "reason_code": ["EMPTY_TEXT", "TOO_LONG"], "detail": ["text is empty", "=cmd|' /C calc'!A0"],
                               "raw": ["", "@SUM(1,2)"]})
    review_cols = ["review_id", "text", "text_norm", "sentiment", "sentiment_score", "source_file", "source_row",
                   "门店", "评论时间", "评分", "渠道", "tenure", "is_complaint_log"]
    return pd.DataFrame(reviews, columns=review_cols), pd.DataFrame(mentions, columns=list(D.MENTION_COLUMNS)), quarantine


def write_run(folder: Path, rows=REVIEWS) -> Path:
    reviews, mentions, quarantine = make_frames(rows)
    folder.mkdir(parents=True, exist_ok=True)
    reviews.to_parquet(folder / "reviews.parquet", index=False)
    mentions.to_parquet(folder / "mentions.parquet", index=False)
    quarantine.to_parquet(folder / "quarantine.parquet", index=False)
    (folder / "run.json").write_text(json.dumps({"run_id": "test-run", "rows_read": 12}), encoding="utf-8")
    return folder


@pytest.fixture()
def run_dir(tmp_path):
    return write_run(tmp_path / "run")


@pytest.fixture()
def loaded(run_dir):
    return load(run_dir)


# ---------------------------------------------------------------- tables


def test_detect_columns_english_and_chinese():
    assert D.detect_columns(["review_id", "text", "门店", "评论时间", "评分", "渠道"]) == {
        "store": ["门店"], "date": ["评论时间"], "rating": ["评分"], "channel": ["渠道"]}
    assert D.detect_columns(["Store", "created_at", "stars", "platform", "门店"]) == {
        "store": ["Store", "门店"], "date": ["created_at"], "rating": ["stars"], "channel": ["platform"]}
    assert D.detect_columns(["review_id", "text"]) == {}


def test_load_renames_and_parses(loaded):
    r = loaded.reviews
    assert {"store", "date", "rating", "channel"} <= set(r.columns)
    assert pd.api.types.is_datetime64_any_dtype(r["date"])
    assert r.loc[r["review_id"] == "r04", "rating"].item() == 3.0
    assert loaded.run["run_id"] == "test-run"


def test_pain_ranking_counts(loaded):
    p = D.pain_ranking(loaded.reviews, loaded.mentions).set_index("category")
    assert p.loc["waiting_time", "reviews_with_pain"] == 3          # r02, r07, r10
    assert p.loc["waiting_time", "pos"] == 1                        # r09 不用排队
    assert p.loc["staff_attitude", "neg"] == 2 and p.loc["staff_attitude", "pos"] == 1
    assert p.loc["waiting_time", "pain_rate"] == pytest.approx(0.3)
    assert p.index[0] == "waiting_time"
    assert not set(D.CONTEXT_CATEGORIES) & set(p.index)             # who the customer is is not a pain point


def test_journey_order_and_shares(loaded):
    j = D.journey(loaded.mentions).set_index("stage")
    assert list(j.index) == list(D.STAGES)
    assert j.loc["arrival", "mentions"] == 4 and j.loc["arrival", "neg"] == 3
    assert j.loc["arrival", "share_neg"] == pytest.approx(0.75)
    assert j.loc["pre", "mentions"] == 2                            # tenure mentions excluded
    assert j.loc["arrival", "top_pain"] == "waiting_time"
    assert j.loc["post", "top_pain"] == "review_prompt"


def test_journey_empty_stage_is_nan():
    m = pd.DataFrame([{"review_id": "a", "category": "odor", "stage": "service", "polarity": "neg"}])
    j = D.journey(m).set_index("stage")
    assert j.loc["service", "share_neg"] == 1.0 and np.isnan(j.loc["payment", "share_neg"])


def test_tenure_comparison_counts_and_flag():
    # 20 first-visit reviews, 2 with a waiting problem; 20 returning, 12 with it: clearly worse.
    reviews, mentions = [], []
    for i in range(40):
        grp = "first" if i < 20 else "returning"
        reviews.append({"review_id": f"t{i}", "text": "等了很久", "sentiment": "neg", "tenure": grp})
        if (grp == "first" and i < 2) or (grp == "returning" and i < 32):
            mentions.append({"review_id": f"t{i}", "category": "waiting_time", "stage": "arrival", "polarity": "neg"})
    t = D.tenure_comparison(pd.DataFrame(reviews), pd.DataFrame(mentions)).set_index("measure")
    row = t.loc["waiting_time"]
    assert (row["first_n"], row["first_k"], row["returning_n"], row["returning_k"]) == (20, 2, 20, 12)
    assert row["diff"] == pytest.approx(0.5)
    assert row["p_value"] < 0.01 and row["flag"] == "returning worse"


def test_tenure_comparison_no_flag_on_small_counts(loaded):
    t = D.tenure_comparison(loaded.reviews, loaded.mentions).set_index("measure")
    assert (t.loc["any_pain", "first_n"], t.loc["any_pain", "returning_n"], t.loc["any_pain", "unknown_n"]) == (2, 3, 5)
    assert t.loc["any_pain", "returning_k"] == 3 and t.loc["any_pain", "first_k"] == 0
    assert t.loc["will_not_return", "returning_k"] == 1
    assert (t["flag"] == "").all()                                   # 2 vs 3 reviews: nothing to claim


def test_tenure_from_mentions_when_column_missing():
    m = pd.DataFrame({"review_id": ["a", "b", "b"], "category": ["tenure_first", "tenure_first", "tenure_returning"]})
    assert list(D.tenure_from_mentions(pd.Series(["a", "b", "c"]), m)) == ["first", "returning", ""]


def test_two_proportion_p_known_value():
    # 50/100 vs 30/100: z = 2.89, two-sided p = 0.0039
    assert D.two_proportion_p(50, 100, 30, 100) == pytest.approx(0.0039, abs=2e-4)
    assert np.isnan(D.two_proportion_p(1, 0, 1, 10))


def test_nps_scales():
    five = pd.Series([5, 4, 3, 1, 5, None])
    assert list(D.nps_classes(five)) == ["promoter", "passive", "detractor", "detractor", "promoter", ""]
    assert D.nps_index(D.nps_classes(five)) == pytest.approx(0.0)
    ten = pd.Series([10, 9, 8, 7, 6, 0])
    assert D.rating_scale(ten) == 10
    assert list(D.nps_classes(ten)) == ["promoter", "promoter", "passive", "passive", "detractor", "detractor"]
    assert D.rating_scale(pd.Series([20, 3])) is None
    assert list(D.parse_rating(pd.Series(["5星", "4.5", "差"]))[:2]) == [5.0, 4.5]


def test_rating_vs_sentiment_disagreements(loaded):
    r = D.rating_vs_sentiment(loaded.reviews)
    assert r["scale"] == 5 and r["rated"] == 10
    # promoters r01, r05; detractors r02 r03 r04 r06 r07 r08 r10 -> (2 - 7) / 10
    assert r["nps"] == pytest.approx(-50.0)
    assert r["disagree_counts"] == {"promoter_neg": 1, "detractor_pos": 1}
    assert set(r["disagreements"]["review_id"]) == {"r05", "r08"}


def test_trend_by_month(loaded):
    t = D.trend(loaded.reviews, loaded.mentions)
    assert D.choose_frequency(loaded.reviews["date"]) == "W"      # 15 weeks of dates
    monthly = D.trend(loaded.reviews, loaded.mentions, freq="M")
    assert list(monthly["reviews"]) == [2, 2, 2, 4]
    assert list(monthly["with_pain"]) == [1, 2, 2, 2]
    assert t["reviews"].sum() == 10 and len(t) == 16                # every week from 03-04 to 06-17
    quiet = t[t["reviews"] == 0]
    assert len(quiet) == 6 and quiet["pain_rate"].isna().all()


def test_breakdown_by_store(loaded):
    b = D.breakdown(loaded.reviews, loaded.mentions, "store").set_index("group")
    assert b.loc["南山店", "reviews"] == 5 and b.loc["南山店", "with_pain"] == 2
    assert b.loc["福田店", "top_pain"] == "waiting_time"
    assert b.loc["福田店", "nps"] == pytest.approx(-100.0)
    assert D.breakdown(loaded.reviews, loaded.mentions, "nonexistent").empty


def test_top_evidence_offsets_point_at_evidence(loaded):
    ev = D.top_evidence(loaded.reviews, loaded.mentions)
    for q in ev.itertuples():
        assert q.quote[q.q_start:q.q_end] == q.evidence
    assert set(ev["category"]) == set(D.pain_mentions(loaded.mentions)["category"])


def test_quote_window_on_long_text():
    text = "很好。" * 100 + "卫生间有蟑螂" + "不错。" * 100
    s = text.index("蟑螂")
    quote, qs, qe = D._quote(text, s, s + 2)
    assert quote[qs:qe] == "蟑螂" and len(quote) <= D.QUOTE_CHARS + 2 and quote.startswith("…")
    assert D._quote("短句", 5, 9) == ("短句", -1, -1)                 # offsets outside the text


def test_rule_coverage_and_conflicts():
    m = pd.DataFrame([
        {"review_id": "a", "category": "hygiene", "polarity": "pos", "rule": "hygiene.clean"},
        {"review_id": "a", "category": "hygiene", "polarity": "neg", "rule": "hygiene.dirty"},
        {"review_id": "b", "category": "hygiene", "polarity": "pos", "rule": "hygiene.clean"},
    ])
    rc = D.rule_coverage(pd.DataFrame({"review_id": ["a", "b", "c", "d"]}), m).set_index("rule")
    assert rc.loc["hygiene.clean", "mentions"] == 2 and rc.loc["hygiene.clean", "coverage"] == 0.5
    assert rc.loc["hygiene.clean", "conflicts"] == 1 and rc.loc["hygiene.dirty", "conflicts"] == 1


def test_filters_since_until_store(run_dir):
    d = load(run_dir, since="2024-04-01", until="2024-05-31", store="福田店")
    assert list(d.reviews["review_id"]) == ["r03", "r04"]
    assert set(d.mentions["review_id"]) == {"r03", "r04"}
    assert load(run_dir, until="2024-03-12").reviews["review_id"].tolist() == ["r01", "r02"]   # inclusive day


def test_filters_need_columns(tmp_path):
    reviews, mentions, _ = make_frames()
    folder = tmp_path / "nodates"
    folder.mkdir()
    reviews.drop(columns=["评论时间", "门店"]).to_parquet(folder / "reviews.parquet")
    mentions.to_parquet(folder / "mentions.parquet")
    with pytest.raises(ReportInputError, match="date column"):
        load(folder, since="2024-01-01")
    with pytest.raises(ReportInputError, match="store column"):
        load(folder, store="南山店")
    html = render_html(load(folder), D.build_tables(load(folder)))   # no date: trend explains why
    assert "没有日期列" in html


def test_bad_sources(tmp_path):
    with pytest.raises(ReportInputError, match="not found"):
        load(tmp_path / "missing")
    with pytest.raises(ReportInputError, match="no reviews.parquet"):
        load(tmp_path)
    (tmp_path / "x.csv").write_text("a\n")
    with pytest.raises(ReportInputError, match="neither"):
        load(tmp_path / "x.csv")
    # A file that is not a DuckDB database (a run holding the warehouse's lock fails the same way).
    (tmp_path / "wh.duckdb").write_text("id,content\n1,上菜太慢\n", encoding="utf-8")
    with pytest.raises(ReportInputError, match="cannot read the warehouse"):
        load(tmp_path / "wh.duckdb")


def test_run_dir_without_run_json_is_reported_with_a_warning(run_dir, caplog):
    (run_dir / "run.json").unlink()  # a run that stopped part way, or Parquet files copied in
    with caplog.at_level(logging.WARNING, logger="cxtext.report"):
        paths = write_reports(run_dir)
    assert f"{run_dir}: no run.json" in caplog.text
    html = paths["html"].read_text(encoding="utf-8")
    assert f"{run_dir}：没有 run.json" in html
    notes = [v for k, v in load_workbook(paths["xlsx"])["Summary"].iter_rows(min_row=2, values_only=True)
             if k == "注 note"]
    assert any(f"{run_dir}：没有 run.json" in n for n in notes)


def test_empty_run_renders(tmp_path):
    folder = write_run(tmp_path / "empty", rows=[])
    paths = write_reports(folder)
    html = paths["html"].read_text(encoding="utf-8")
    assert "没有检测到任何类别的提及" in html and "没有痛点证据" in html
    wb = load_workbook(paths["xlsx"])
    assert wb["Reviews"].max_row == 1 and wb["Reviews"]["A1"].value == "review_id"


# ---------------------------------------------------------------- HTML


class _DomScan(HTMLParser):
    """Elements and attributes of an HTML document (what a browser would build)."""

    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.title = [], [], ""
        self._in_title = self._in_svg = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(name for name, _ in attrs)
        self._in_svg = self._in_svg or tag == "svg"
        self._in_title = tag == "title" and not self._in_svg          # the document's title, not SVG tooltips

    def handle_endtag(self, tag):
        self._in_title = False
        self._in_svg = self._in_svg and tag != "svg"

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def scan(html: str) -> _DomScan:
    s = _DomScan()
    s.feed(html)
    return s


def test_html_escapes_everything(loaded):
    html = render_html(loaded, D.build_tables(loaded))
    dom = scan(html)
    assert "script" not in dom.tags and "img" not in dom.tags
    assert "onerror" not in dom.attrs
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in html
    assert "&lt;b&gt;罗湖店&lt;/b&gt;" in html                       # store name inside SVG labels too
    assert "default-src 'none'" in html
    assert not re.search(r"""(src|href|url)\s*[=(]\s*["']?(https?:|//)""", html)   # nothing fetched from outside
    assert dom.tags.count("svg") >= 7


def test_html_sections(loaded):
    html = render_html(loaded, D.build_tables(loaded))
    assert html.count('class="stage-box"') == 5
    assert html.count('<details class="pain"') == len(D.pain_ranking(loaded.reviews, loaded.mentions).query("neg > 0"))
    assert "评论 ID r06" in html and "<mark>不理人</mark>" in html
    assert "NPS 式指数 <b>-50.0</b>" in html
    assert "老客待遇" in html and "回头客" in html


def test_highlight_escapes_around_mark():
    assert highlight("<i>很脏</i>", 3, 5) == "&lt;i&gt;<mark>很脏</mark>&lt;/i&gt;"
    assert highlight("<i>", 5, 9) == "&lt;i&gt;"


def test_rerun_is_identical(run_dir):
    a = write_reports(run_dir)["html"].read_bytes()
    b = write_reports(run_dir)["html"].read_bytes()
    assert a == b


# ---------------------------------------------------------------- XLSX


def test_xlsx_sheets_counts_escaping(run_dir):
    paths = write_reports(run_dir)
    wb = load_workbook(paths["xlsx"])
    for name in ("Summary", "Pain points", "Journey", "Mentions", "Reviews", "Quarantine"):
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
    reviews, mentions, _ = make_frames()
    assert wb["Reviews"].max_row == len(reviews) + 1
    assert wb["Mentions"].max_row == len(mentions) + 1
    assert wb["Quarantine"].max_row == 3
    assert wb["Journey"].max_row == 6
    head = [c.value for c in wb["Reviews"][1]]
    rows = {r[0]: dict(zip(head, r)) for r in wb["Reviews"].iter_rows(min_row=2, values_only=True)}
    assert rows["r08"]["text"] == "'" + FORMULA                      # formula neutralised
    assert rows["r09"]["text"].startswith("'+1") and rows["r10"]["text"].startswith("'-5")
    assert rows["r06"]["text"] == XSS_SCRIPT                          # text kept exactly otherwise
    assert rows["r02"]["rating"] == 2 and isinstance(rows["r02"]["sentiment_score"], float)
    assert rows["r02"]["pain_points"] == "repurchase_intent, staff_attitude, waiting_time"
    for row in wb.worksheets:
        for cells in row.iter_rows(values_only=True):
            for v in cells:
                assert not (isinstance(v, str) and v[:1] in "=+-@"), (row.title, v)
    for c in wb["Quarantine"].iter_rows(min_row=2, values_only=True):
        assert c[3] in ("text is empty", "'=cmd|' /C calc'!A0")
    summary = dict(wb["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["评论 reviews"] == 10 and summary["隔离行 quarantined rows"] == 2


def test_xlsx_reviews_keep_input_columns_named_like_computed_ones(tmp_path):
    # The input already had pain_points / mentions columns (and an input_pain_points one).
    folder = tmp_path / "clash"
    folder.mkdir()
    pd.DataFrame({
        "review_id": ["c1", "c2"], "text": ["上菜太慢了，等了一个小时", "服务员很热情，菜也好吃"],
        "sentiment": ["neg", "pos"], "sentiment_score": [0.1, 0.9],
        "pain_points": ["出餐慢", ""], "mentions": ["客服已回访", None], "input_pain_points": ["旧标签", None],
    }).to_parquet(folder / "reviews.parquet")
    pd.DataFrame([{"review_id": "c1", "category": "waiting_time", "stage": "arrival", "polarity": "neg", "start": 6,
                   "end": 12, "evidence": "等了一个小时", "rule": "wait.hours", "confidence": 0.9}]
                 ).to_parquet(folder / "mentions.parquet")
    wb = load_workbook(write_reports(folder)["xlsx"])
    head = [c.value for c in wb["Reviews"][1]]
    rows = {r[0]: dict(zip(head, r)) for r in wb["Reviews"].iter_rows(min_row=2, values_only=True)}
    assert rows["c1"]["pain_points"] == "waiting_time" and rows["c1"]["mentions"] == 1   # computed
    assert rows["c1"]["input_pain_points.1"] == "出餐慢" and rows["c1"]["input_mentions"] == "客服已回访"
    assert rows["c1"]["input_pain_points"] == "旧标签"                                  # untouched
    assert len(head) == len(set(head))


def test_xlsx_caps_rows_and_says_so(loaded, tmp_path):
    path = tmp_path / "capped.xlsx"
    written = write_xlsx(loaded, D.build_tables(loaded), path, max_rows=4)
    assert written["Reviews"] == 4 and written["Mentions"] == 4
    wb = load_workbook(path)
    assert wb["Reviews"].max_row == 5
    notes = [v for k, v in wb["Summary"].iter_rows(min_row=2, values_only=True) if "truncated" in str(k)]
    assert len(notes) == 2 and "共 10 行" in " ".join(notes)


def test_safe_cell():
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("\tx") == "'\tx"
    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5 and safe_cell(float("nan")) is None
    assert safe_cell("坏\x00字符") == "坏字符"
    assert len(safe_cell("长" * 40000)) == 32767
    assert safe_cell(pd.Timestamp("2024-03-01", tz="Asia/Shanghai")).tzinfo is None


# ---------------------------------------------------------------- warehouse and CLI


def test_warehouse_source_matches_run_dir(run_dir, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    reviews, mentions, quarantine = make_frames()
    own = ["review_id", "text", "text_norm", "sentiment", "sentiment_score", "tenure", "is_complaint_log",
           "source_file", "source_row"]
    wh = reviews[own].assign(extra=[json.dumps(r, ensure_ascii=False) for r in
                                    reviews[["门店", "评论时间", "评分", "渠道"]].to_dict(orient="records")])
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in (("reviews", wh), ("mentions", mentions), ("quarantine", quarantine)):
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.execute("CREATE TABLE runs AS SELECT 'wh-1' AS run_id, '2024-07-01' AS finished_at")
    con.close()
    from_wh, from_dir = load(path, store="南山店"), load(run_dir, store="南山店")
    assert from_wh.columns == {"store": ["门店"], "date": ["评论时间"], "rating": ["评分"], "channel": ["渠道"]}
    assert from_wh.run["run_id"] == "wh-1"
    a, b = D.build_tables(from_wh), D.build_tables(from_dir)
    pd.testing.assert_frame_equal(a["pain"], b["pain"])
    pd.testing.assert_frame_equal(a["tenure"], b["tenure"])
    assert a["rating"]["nps"] == b["rating"]["nps"]


def test_warehouse_reviews_sharing_an_id_keep_their_own_mentions(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    # Two dumps both numbered their first review "1": the warehouse holds both (keyed by content hash).
    reviews = pd.DataFrame({
        "content_hash": ["aaaaaaaa11", "bbbbbbbb22"], "review_id": ["1", "1"],
        "text": ["牙科诊所等了一个多小时才叫号。", "理发店的毛巾有一股霉味。"],
        "sentiment": ["neg", "neg"], "sentiment_score": [0.1, 0.2],
        "source_file": ["dental.csv", "salon.csv"], "source_row": [2, 2]})
    mentions = pd.DataFrame({
        "content_hash": ["aaaaaaaa11", "bbbbbbbb22"], "review_id": ["1", "1"],
        "category": ["waiting_time", "odor"], "stage": ["arrival", "service"], "polarity": ["neg", "neg"],
        "start": [4, 9], "end": [11, 11], "evidence": ["等了一个多小时", "霉味"], "rule": ["w", "o"],
        "confidence": [0.9, 0.9]})
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    for name, frame in (("reviews", reviews), ("mentions", mentions)):
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    data = load(path)
    assert sorted(data.reviews["review_id"]) == ["1~aaaaaaaa", "1~bbbbbbbb"]
    joined = data.mentions.merge(data.reviews[["review_id", "text"]], on="review_id")
    assert len(joined) == 2
    for _, row in joined.iterrows():
        assert row["text"][row["start"]:row["end"]] == row["evidence"]


def test_warehouse_passthrough_columns_only_later_dumps_have_are_found(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    # The first dump (3,000 reviews) had no store column; the latest one has 门店.
    n = 3000
    reviews = pd.DataFrame({
        "review_id": [f"a{i}" for i in range(n)] + ["b1"], "text": [f"第{i}次来，上菜很慢。" for i in range(n)] + ["前台态度很差。"],
        "sentiment": ["neg"] * (n + 1), "sentiment_score": [0.2] * (n + 1),
        "extra": ["{}"] * n + [json.dumps({"门店": "朝阳店"}, ensure_ascii=False)]})
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.register("f", reviews)
    con.execute("CREATE TABLE reviews AS SELECT * FROM f")
    con.close()
    data = load(path)
    assert data.columns == {"store": ["门店"]}
    assert data.reviews.loc[data.reviews["review_id"] == "b1", "store"].item() == "朝阳店"


def test_dates_with_and_without_utc_offsets_in_one_run(tmp_path):
    # Two exports in one run: one writes +08:00, the other local time without an offset.
    rows = [REVIEWS[0][:3] + ("2024-03-04 10:00:00+08:00",) + REVIEWS[0][4:],
            REVIEWS[1][:3] + ("2024-03-12 09:30:00",) + REVIEWS[1][4:],
            REVIEWS[2][:3] + ("2024-04-02T01:00:00Z",) + REVIEWS[2][4:]]
    data = load(write_run(tmp_path / "run", rows))
    assert data.reviews["date"].tolist() == [pd.Timestamp("2024-03-04 10:00"), pd.Timestamp("2024-03-12 09:30"),
                                             pd.Timestamp("2024-04-02 01:00")]  # wall-clock time, offset dropped
    assert not data.notes


def test_cli_report(run_dir, tmp_path, capsys):
    out = tmp_path / "site" / "r.html"
    assert cli_main(["report", str(run_dir), "--out", str(out), "--since", "2024-06-01", "--store", "南山店"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "store=南山店" in html and "since=2024-06-01" in html
    wb = load_workbook(out.with_suffix(".xlsx"))
    assert wb["Reviews"].max_row == 1 + 2                            # r08 and r09
    folder = tmp_path / "folder"
    assert cli_main(["report", str(run_dir), "--out", str(folder)]) == 0
    assert (folder / "report.html").exists() and (folder / "report.xlsx").exists()
    only_xlsx = tmp_path / "book.xlsx"
    assert cli_main(["report", str(run_dir), "--out", str(only_xlsx)]) == 0
    assert only_xlsx.exists() and not only_xlsx.with_suffix(".html").exists()
    assert cli_main(["report", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["report", str(run_dir), "--out", str(out), "--since", "last week"])


# ---------------------------------------------------------------- headless Chromium


def need_chromium() -> None:
    if browser.find_chromium() is None:
        if os.environ.get("CXTEXT_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is missing but CXTEXT_REQUIRE_CHROMIUM is set (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); .ci/run installs it in CI")


def test_chromium_detects_script_execution(tmp_path):
    """Control: without escaping and CSP the same payload does run, so the check below can fail."""
    need_chromium()
    page = tmp_path / "unsafe.html"
    page.write_text(f"<html><head><title>safe</title></head><body>{XSS_SCRIPT}{XSS_IMG}</body></html>", encoding="utf-8")
    dom = browser.dump_dom(page)
    assert "<title>pwned</title>" in dom or 'data-pwned="1"' in dom


def test_report_in_headless_chromium(run_dir, tmp_path):
    need_chromium()
    from PIL import Image

    html = write_reports(run_dir)["html"]
    seen = scan(browser.dump_dom(html))
    assert seen.title == "cxtext 客户体验报告"                      # document.title untouched
    assert "script" not in seen.tags and "img" not in seen.tags and "data-pwned" not in seen.attrs
    assert seen.tags.count("svg") >= 7 and seen.tags.count("rect") > 50
    shot = browser.screenshot(html, tmp_path / "report.png", 1280, 4000)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (4000, 1280)
    red = (np.abs(img - [0xD9, 0x53, 0x4F]).sum(axis=2) < 30).sum()     # negative bars / lines
    blue = (np.abs(img - [0x3B, 0x6E, 0xA8]).sum(axis=2) < 30).sum()    # pain-rate bars
    green = (np.abs(img - [0x3C, 0x9D, 0x5D]).sum(axis=2) < 30).sum()   # positive bars
    assert red > 2000 and blue > 2000 and green > 500, (red, blue, green)


def test_run_over_files_with_different_column_names(tmp_path):
    """One file says store/created_at/rating (1-10), another 门店/评论时间/评分 (1-5): both count."""
    reviews = pd.DataFrame({
        "review_id": ["a1", "a2", "b1", "b2"],
        "text": ["早餐很丰富", "房间太小还很吵", "洗牙很轻柔", "等了四十分钟"],
        "sentiment": ["pos", "neg", "pos", "neg"], "sentiment_score": [0.9, 0.1, 0.8, 0.2],
        "source_file": ["hotel.csv", "hotel.csv", "dental.csv", "dental.csv"], "source_row": [1, 2, 1, 2],
        "store": ["西湖店", "西湖店", None, None], "created_at": ["2026-01-03", "2026/01/09 10:00", None, None],
        "rating": [9.0, 6.0, None, None],
        "门店": [None, None, "徐汇店", "徐汇店"], "评论时间": [None, None, "2026-01-05 09:30", "2026-01-20"],
        "评分": [None, None, 5.0, 4.0],
    })
    folder = tmp_path / "mixed"
    folder.mkdir()
    reviews.to_parquet(folder / "reviews.parquet")
    pd.DataFrame(columns=list(D.MENTION_COLUMNS)).to_parquet(folder / "mentions.parquet")
    d = load(folder)
    assert list(d.reviews["store"]) == ["西湖店", "西湖店", "徐汇店", "徐汇店"]
    assert d.reviews["date"].notna().all()
    r = D.rating_vs_sentiment(d.reviews)
    assert r["scales"] == {"dental.csv": 5, "hotel.csv": 10} and r["scale"] == "mixed"
    # hotel 9 promoter, 6 detractor; dental 5 promoter, 4 passive -> (2 - 1) / 4
    assert r["nps"] == pytest.approx(25.0)
    assert "混合分制" in render_html(d, D.build_tables(d))


def test_line_chart_breaks_at_missing_periods():
    from cxtext.report import charts

    svg = charts.line_chart(["1月", "2月", "3月", "4月"], {"痛点占比": [0.2, float("nan"), 0.4, 0.5]})
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 3
