"""report.html: one self-contained page (inline CSS and SVG, no script, strict CSP).

Every string that comes from input (review text, ids, store names, rule ids, file names)
passes through `esc`; the page carries a Content-Security-Policy that forbids scripts and
any network fetch, so a missed escape still could not run code or call out.
"""
from __future__ import annotations

import math
from html import escape

import pandas as pd

from cxtext.report import charts
from cxtext.report.data import CATEGORY_NAMES, ReportData, one_line

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
TITLE = "cxtext 客户体验报告"

CSS = """
body{font-family:'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif;margin:0;
 color:#222;background:#f6f7f9;line-height:1.5}
header{background:#24364b;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}
header .meta{opacity:.85;font-size:13px}
nav{padding:8px 32px;background:#fff;border-bottom:1px solid #dde2e8;font-size:13px}
nav a{margin-right:14px;color:#24508f;text-decoration:none}
main{padding:8px 32px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 20px;margin:16px 0}
h2{font-size:19px;margin:4px 0 10px}h3{font-size:15px;margin:12px 0 6px}
.kpis{display:flex;gap:14px;flex-wrap:wrap}.kpi{background:#f0f3f7;border-radius:8px;padding:8px 16px;min-width:120px}
.kpi b{display:block;font-size:22px}.kpi span{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border-bottom:1px solid #e6e9ee;padding:3px 8px;
 text-align:left;vertical-align:top}th{background:#f0f3f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.flag{color:#b02a2a;font-weight:bold}.note{color:#666;font-size:12px}
details{border-top:1px solid #eef0f3;padding:4px 0}summary{cursor:pointer;font-weight:bold}
blockquote{margin:6px 0 6px 12px;padding:4px 10px;border-left:3px solid #d9534f;background:#fbf5f5;font-size:14px}
blockquote .rid{display:block;color:#777;font-size:11px}mark{background:#ffd35c;padding:0 1px}
.muted{color:#888}
"""


def esc(value) -> str:
    """HTML-escape anything (quotes too); missing values become an empty string."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return escape(str(value), quote=True)


def pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def cat_name(cat) -> str:
    return f"{CATEGORY_NAMES[cat]} ({cat})" if cat in CATEGORY_NAMES else str(cat)


def short_name(cat) -> str:
    """Chart label: the Chinese name when there is one."""
    return CATEGORY_NAMES.get(cat, str(cat))


def render_html(data: ReportData, tables: dict) -> str:
    """The whole page as a string."""
    sections = [
        ("overview", "概览", _overview(data, tables)),
        ("journey", "客户旅程", _journey(tables)),
        ("pain", "痛点排名", _pain(tables)),
        ("tenure", "首次 vs 回头客", _tenure(tables)),
        ("trend", "趋势", _trend(tables)),
        ("breakdown", "门店与渠道", _breakdown(tables)),
        ("rating", "评分 vs 文本", _rating(tables)),
        ("sentiment", "情感分布", _sentiment(tables)),
        ("evidence", "证据", _evidence(tables)),
        ("rules", "规则覆盖", _rules(tables)),
    ]
    nav = "".join(f'<a href="#{sid}">{title}</a>' for sid, title, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{title}</h2>{html}</section>' for sid, title, html in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{TITLE}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{TITLE}</h1><div class=\"meta\">{_meta_line(data)}</div></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )


def _meta_line(data: ReportData) -> str:
    parts = [f"来源：{esc(data.source)}"]
    run = data.run or {}
    for key in ("run_id", "finished_at", "started_at"):
        if run.get(key):
            parts.append(f"{esc(key)}: {esc(run[key])}")
            break
    if data.filters:
        parts.append("筛选：" + "，".join(f"{esc(k)}={esc(v)}" for k, v in data.filters.items()))
    return " · ".join(parts)


def table(frame: pd.DataFrame, columns: dict[str, str], formats: dict | None = None, limit: int | None = None) -> str:
    """An HTML table of `columns` (name -> header); numbers right-aligned, everything escaped."""
    formats = formats or {}
    if frame is None or frame.empty:
        return '<p class="muted">（无数据）</p>'
    rows = frame.head(limit) if limit else frame
    head = "".join(f"<th>{esc(h)}</th>" for h in columns.values())
    out = []
    for rec in rows[list(columns)].itertuples(index=False):
        cells = []
        for col, value in zip(columns, rec):
            fmt = formats.get(col)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            text = fmt(value) if fmt else (f"{value:,}" if isinstance(value, int) else esc(value))
            cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    more = f'<p class="note">只显示前 {limit} 行，共 {len(frame):,} 行（完整内容见 report.xlsx）</p>' if limit and len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(out)}</tbody></table>{more}"


def _overview(data: ReportData, t: dict) -> str:
    s = t["summary"]
    kpis = [("评论", f"{s['reviews']:,}"), ("提及", f"{s['mentions']:,}"), ("痛点提及", f"{s['pain_mentions']:,}"),
            ("含痛点评论", pct(s["pain_review_rate"])), ("负面评论", pct(s["neg_sentiment_rate"])),
            ("隔离行", f"{s['quarantined']:,}")]
    if t["rating"]:
        kpis.append(("NPS 指数", f"{t['rating']['nps']:+.0f}"))
    html = '<div class="kpis">' + "".join(f"<div class=\"kpi\"><b>{v}</b><span>{esc(k)}</span></div>" for k, v in kpis) + "</div>"
    top = t["pain"].head(3)
    if not top.empty:
        items = "，".join(f"{esc(cat_name(r.category))} {r.reviews_with_pain:,} 条（{pct(r.pain_rate)}）" for r in top.itertuples())
        html += f"<p>最常见的痛点：{items}。</p>"
    if data.columns:
        html += '<p class="note">识别到的列：' + "，".join(
            f"{esc(k)} ← {esc(' / '.join(map(str, v)))}" for k, v in data.columns.items()) + "</p>"
    html += "".join(f'<p class="note">{esc(n)}</p>' for n in data.notes)
    html += "<h3>隔离原因</h3>" + table(t["quarantine_reasons"], {"reason_code": "原因代码", "rows": "行数"})
    return html


def _journey(t: dict) -> str:
    j = t["journey"]
    svg = charts.journey_strip([
        {"stage": r.stage, "name": r.name, "mentions": int(r.mentions), "share_neg": r.share_neg,
         "top_pain": CATEGORY_NAMES.get(r.top_pain, r.top_pain)} for r in j.itertuples()], label="客户旅程地图")
    cols = {"stage": "阶段", "name": "名称", "mentions": "提及", "reviews": "评论", "neg": "负面", "neu": "中性",
            "pos": "正面", "share_neg": "负面占比", "top_pain": "主要痛点"}
    return ('<p class="note">到店前 → 到店/等待 → 服务 → 结算 → 离店/售后：每个阶段的提及次数与负面占比（颜色越红越负面）。</p>'
            + svg + table(j, cols, {"share_neg": pct, "top_pain": lambda c: esc(cat_name(c)) if c else ""}))


def _pain(t: dict) -> str:
    p = t["pain"]
    if p.empty:
        return '<p class="muted">没有检测到任何类别的提及。</p>'
    rows = [(short_name(r.category), {"neg": int(r.neg), "neu": int(r.neu), "pos": int(r.pos)}) for r in p.itertuples()]
    rate_rows = [(short_name(r.category), float(r.pain_rate), f"（{r.reviews_with_pain:,} 条评论）") for r in p.itertuples()]
    cols = {"category": "类别", "name": "名称", "stage": "阶段", "reviews_with_pain": "含痛点评论", "pain_rate": "占全部评论",
            "mentions": "提及", "neg": "负面", "neu": "中性", "pos": "正面", "neg_share": "负面占比"}
    return ("<h3>含该痛点的评论占比</h3>" + charts.bars(rate_rows, label="痛点排名")
            + "<h3>提及次数（按极性）</h3>" + charts.stacked_bars(rows, label="按极性的提及")
            + table(p, cols, {"pain_rate": pct, "neg_share": pct}))


def _trend(t: dict) -> str:
    tr = t["trend"]
    if tr.empty:
        return '<p class="muted">没有日期列（如 created_at / 评论时间），无法显示趋势。</p>'
    freq = "周" if t.get("trend_freq") == "W" else "月"
    labels = [p.strftime("%Y-%m-%d" if freq == "周" else "%Y-%m") for p in tr["period"]]
    svg = charts.line_chart(labels, {"含痛点评论占比": list(tr["pain_rate"]), "负面评论占比": list(tr["neg_sentiment_rate"])},
                            label="趋势", counts=[int(c) for c in tr["reviews"]], width=1000)
    frame = tr.assign(period=labels)
    cols = {"period": f"{freq}起始", "reviews": "评论", "with_pain": "含痛点", "pain_rate": "痛点占比",
            "neg_sentiment_rate": "负面占比", "mean_score": "平均情感分"}
    rows = table(frame, cols, {"pain_rate": pct, "neg_sentiment_rate": pct,
                               "mean_score": lambda v: "—" if pd.isna(v) else f"{v:.2f}"})
    return (f'<p class="note">按{freq}汇总；浅色柱为评论数。</p>' + svg
            + f"<details><summary>逐{freq}数据（{len(frame)} 行）</summary>{rows}</details>")


def _breakdown(t: dict) -> str:
    html = ""
    for key, title in (("store", "门店"), ("channel", "渠道")):
        b = t.get(f"by_{key}")
        if b is None or b.empty:
            continue
        rows = [(str(r.group), float(r.pain_rate), f"（{r.with_pain:,}/{r.reviews:,}）") for r in b.head(20).itertuples()]
        cols = {"group": title, "reviews": "评论", "with_pain": "含痛点", "pain_rate": "痛点占比",
                "neg_sentiment_rate": "负面占比", "top_pain": "主要痛点", "nps": "NPS"}
        html += (f"<h3>按{title}：含痛点评论占比</h3>" + charts.bars(rows, label=f"按{title}", color="#7a5ea8")
                 + table(b, cols, {"pain_rate": pct, "neg_sentiment_rate": pct,
                                   "top_pain": lambda c: esc(cat_name(c)) if c else "",
                                   "nps": lambda v: "—" if pd.isna(v) else f"{v:+.0f}"}, limit=50))
    return html or '<p class="muted">没有门店或渠道列（store/门店、channel/渠道）。</p>'


def _sentiment(t: dict) -> str:
    hist = [(r.low, r.high, int(r.reviews)) for r in t["sentiment_hist"].itertuples()]
    labels = t["sentiment_labels"]
    return ('<p class="note">情感分 0 = 最负面，1 = 最正面。</p>' + charts.histogram(hist, label="情感分布")
            + table(labels, {"sentiment": "情感", "reviews": "评论", "share": "占比"}, {"share": pct}))


def _tenure(t: dict) -> str:
    tc = t["tenure"]
    n = tc.iloc[0] if not tc.empty else None
    if n is None or (n["first_n"] == 0 and n["returning_n"] == 0):
        return '<p class="muted">没有评论提到自己是首次到店还是回头客。</p>'
    intro = (f'<p>首次到店 <b>{n["first_n"]:,}</b> 条评论，回头客 <b>{n["returning_n"]:,}</b> 条，'
             f'未知 {n["unknown_n"]:,} 条。每格为“有该问题的评论数 / 该组评论数”，标红的差异在双比例检验中 p &lt; 0.05。</p>')
    pains = tc[~tc["measure"].isin(["will_return"])].head(12)
    svg = charts.grouped_bars([(r.name, [r.first_rate, r.returning_rate]) for r in pains.itertuples()],
                              ("first", "returning"), label="首次 vs 回头客")
    rows = []
    for r in tc.itertuples():
        flag = {"returning worse": "回头客更差", "first worse": "首次更差"}.get(r.flag, "")
        rows.append(f"<tr><td>{esc(r.name)}</td>"
                    + "".join(f'<td class="n">{getattr(r, g + "_k"):,}/{getattr(r, g + "_n"):,} ({pct(getattr(r, g + "_rate"))})</td>'
                              for g in ("first", "returning", "unknown"))
                    + f'<td class="n">{"—" if pd.isna(r.diff) else f"{r.diff:+.1%}"}</td>'
                    + f'<td class="n">{"—" if pd.isna(r.p_value) else f"{r.p_value:.3f}"}</td>'
                    + f'<td class="flag">{flag}</td></tr>')
    head = "<tr><th>指标</th><th>首次到店</th><th>回头客</th><th>未知</th><th>差（回头−首次）</th><th>p</th><th></th></tr>"
    return intro + svg + f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _rating(t: dict) -> str:
    r = t["rating"]
    if not r:
        return '<p class="muted">没有评分列（rating/stars/评分/星级），或评分不在 1–5 / 0–10 范围内。</p>'
    rule = {5: "5 星 = 推荐者，4 星 = 中立，1–3 星 = 贬损者", 10: "9–10 = 推荐者，7–8 = 中立，0–6 = 贬损者"}.get(
        r["scale"], "按文件判断分制：5 分制 5 星 = 推荐者、4 星 = 中立、1–3 星 = 贬损者；10 分制 9–10 / 7–8 / 0–6")
    scale = f'{r["scale"]} 分制' if r["scale"] in (5, 10) else "混合分制"
    cross = r["crosstab"].rename_axis("class").reset_index()
    dc = r["disagree_counts"]
    html = (f'<p>NPS 式指数 <b>{r["nps"]:+.1f}</b>（{r["rated"]:,} 条有评分；{scale}：{rule}；'
            f'指数 = 推荐者% − 贬损者%）。</p>'
            + table(cross, {"class": "评分类别", "pos": "文本正面", "neu": "文本中性", "neg": "文本负面"})
            + f'<p>评分与文本不一致：推荐者但文本负面 <b>{dc["promoter_neg"]:,}</b> 条，贬损者但文本正面 <b>{dc["detractor_pos"]:,}</b> 条。</p>')
    d = r["disagreements"].assign(text=lambda f: f["text"].map(lambda s: one_line(s, 120)))
    cols = {"review_id": "评论 ID", "rating": "评分", "class": "类别", "sentiment": "文本情感", "sentiment_score": "情感分", "text": "内容"}
    return html + table(d, cols, {"sentiment_score": lambda v: "—" if pd.isna(v) else f"{v:.2f}",
                                  "rating": lambda v: f"{v:g}"}, limit=30)


def highlight(quote: str, start: int, end: int) -> str:
    """The quote escaped, with [start, end) wrapped in <mark> when the offsets are usable."""
    quote = "" if quote is None or quote is pd.NA else str(quote)
    if 0 <= start < end <= len(quote):
        return esc(quote[:start]) + "<mark>" + esc(quote[start:end]) + "</mark>" + esc(quote[end:])
    return esc(quote)


def _evidence(t: dict) -> str:
    ev, pain = t["evidence"], t["pain"]
    if ev.empty:
        return '<p class="muted">没有痛点证据。</p>'
    out = ['<p class="note">点击展开每个痛点的代表性原文，高亮部分为证据。</p>']
    groups = dict(tuple(ev.groupby("category", sort=False)))
    for i, r in enumerate(pain.itertuples()):
        quotes = groups.get(r.category)
        if quotes is None:
            continue
        items = "".join(
            f'<blockquote class="quote">{highlight(q.quote, int(q.q_start), int(q.q_end))}'
            f'<span class="rid">评论 ID {esc(q.review_id)} · 规则 {esc(q.rule)} · 置信度 {esc(_num(q.confidence))}</span></blockquote>'
            for q in quotes.itertuples())
        opened = " open" if i == 0 else ""  # the top pain point shows its quotes without a click
        out.append(f'<details class="pain" data-category="{esc(r.category)}"{opened}><summary>{esc(cat_name(r.category))}'
                   f' — {r.reviews_with_pain:,} 条评论</summary>{items}</details>')
    return "".join(out)


def _num(v) -> str:
    try:
        return f"{float(v):.2f}"
    except (TypeError, ValueError):
        return ""


def _rules(t: dict) -> str:
    rc = t["rules"]
    if rc.empty:
        return '<p class="muted">没有规则命中。</p>'
    rows = [(str(r.rule), float(r.mentions), f"（{r.reviews:,} 条评论，{pct(r.coverage)}）") for r in rc.head(25).itertuples()]
    cols = {"rule": "规则", "category": "类别", "mentions": "命中", "reviews": "评论", "coverage": "覆盖率",
            "neg": "负面", "neu": "中性", "pos": "正面", "conflicts": "冲突评论"}
    return ('<p class="note">每条词典规则命中的次数；“冲突评论”= 该规则命中且同一类别另有相反极性提及的评论数。</p>'
            + charts.bars(rows, label="规则覆盖", fmt="{:,.0f}", color="#4a8f8c")
            + table(rc, cols, {"coverage": pct}, limit=100))
