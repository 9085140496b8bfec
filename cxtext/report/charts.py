"""Inline SVG charts drawn from Python: no JavaScript, no network, every label escaped.

Each function returns an `<svg>` string sized in CSS pixels; colours come from PALETTE so
the report (and the screenshot test) can rely on them.
"""
from __future__ import annotations

import math
from html import escape

PALETTE = {"neg": "#d9534f", "neu": "#9aa5b1", "pos": "#3c9d5d", "bar": "#3b6ea8",
           "line2": "#e39b2d", "grid": "#e3e7ec", "text": "#333333", "first": "#6f8fc9", "returning": "#c96f6f"}
FONT = "font-family=\"'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif\""


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(label)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" {FONT} font-size="12">'
            + "".join(body) + "</svg>")


def _text(x, y, s, anchor="start", size=12, fill=None, weight=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill or PALETTE["text"]}"{extra}>{escape(str(s))}</text>')


def _rect(x, y, w, h, fill, title=None) -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}">{tip}</rect>'


def stacked_bars(rows: list[tuple[str, dict[str, float]]], keys=("neg", "neu", "pos"),
                 label="", width=760, value_fmt="{:,.0f}") -> str:
    """Horizontal stacked bars: rows of (label, {key: value}); a legend for the keys on top."""
    bar_h, gap, left, top = 20, 8, 150, 28
    total_max = max([sum(v.values()) for _, v in rows] + [1])
    scale = (width - left - 70) / total_max
    height = top + len(rows) * (bar_h + gap) + 8
    body = _legend(keys, left, 14)
    for i, (name, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        body.append(_text(left - 8, y + 14, _clip(name, 18), anchor="end"))
        x = left
        for key in keys:
            w = values.get(key, 0) * scale
            body.append(_rect(x, y, w, bar_h, PALETTE.get(key, PALETTE["bar"]), f"{name} {key}: {values.get(key, 0)}"))
            x += w
        body.append(_text(x + 6, y + 14, value_fmt.format(sum(values.values()))))
    return _svg(width, height, body, label)


def _legend(keys, x, y) -> list[str]:
    names = {"neg": "负面", "neu": "中性", "pos": "正面", "first": "首次到店", "returning": "回头客"}
    out = []
    for key in keys:
        out.append(_rect(x, y - 10, 12, 12, PALETTE.get(key, PALETTE["bar"])))
        out.append(_text(x + 16, y, names.get(key, key)))
        x += 24 + 13 * len(names.get(key, key))
    return out


def bars(rows: list[tuple[str, float, str]], label="", width=760, fmt="{:.0%}", max_value=None,
         color=None) -> str:
    """Horizontal bars: rows of (label, value, annotation shown after the value)."""
    bar_h, gap, left = 18, 8, 150
    vmax = max_value or max([v for _, v, _ in rows] + [1e-9])
    scale = (width - left - 170) / vmax
    height = len(rows) * (bar_h + gap) + 8
    body = []
    for i, (name, value, note) in enumerate(rows):
        y = 4 + i * (bar_h + gap)
        v = 0 if value is None or (isinstance(value, float) and math.isnan(value)) else value
        body.append(_text(left - 8, y + 13, _clip(name, 18), anchor="end"))
        body.append(_rect(left, y, v * scale, bar_h, color or PALETTE["bar"], f"{name}: {fmt.format(v)}"))
        body.append(_text(left + v * scale + 6, y + 13, f"{fmt.format(v)} {note}".strip()))
    return _svg(width, height, body, label)


def grouped_bars(rows: list[tuple[str, list[float]]], keys: tuple[str, ...], label="", width=760) -> str:
    """Horizontal grouped bars of rates in [0, 1]: rows of (label, [value per key])."""
    bar_h, left, top = 11, 150, 26
    group_h = bar_h * len(keys) + 10
    vmax = max([v for _, vals in rows for v in vals if not math.isnan(v)] + [1e-9])
    scale = (width - left - 60) / vmax
    body = _legend(keys, left, 14)
    for i, (name, values) in enumerate(rows):
        y = top + i * group_h
        body.append(_text(left - 8, y + bar_h + 3, _clip(name, 18), anchor="end"))
        for j, (key, v) in enumerate(zip(keys, values)):
            v = 0.0 if math.isnan(v) else v
            yy = y + j * bar_h
            body.append(_rect(left, yy, v * scale, bar_h - 2, PALETTE[key], f"{name} {key}: {v:.1%}"))
            body.append(_text(left + v * scale + 4, yy + 9, f"{v:.0%}", size=10))
    return _svg(width, top + len(rows) * group_h + 4, body, label)


def journey_strip(stages: list[dict], label="", width=1000) -> str:
    """Five stage boxes joined by arrows; each shows mentions and % negative, shaded by it."""
    n = max(len(stages), 1)
    gap, height = 26, 150
    box_w = (width - gap * (n - 1) - 4) / n
    body = []
    for i, st in enumerate(stages):
        x = 2 + i * (box_w + gap)
        share = st.get("share_neg")
        share = None if share is None or (isinstance(share, float) and math.isnan(share)) else share
        body.append(f'<rect x="{x:.1f}" y="2" width="{box_w:.1f}" height="{height - 4}" rx="10" '
                    f'fill="{_heat(share)}" stroke="#8896a5" class="stage-box">'
                    f'<title>{escape(st["stage"])}</title></rect>')
        cx = x + box_w / 2
        body.append(_text(cx, 28, st["name"], "middle", 16, weight="bold"))
        body.append(_text(cx, 46, st["stage"], "middle", 11, fill="#5b6570"))
        body.append(_text(cx, 76, f'{st["mentions"]:,} 次提及', "middle", 14))
        body.append(_text(cx, 102, "—" if share is None else f"负面 {share:.0%}", "middle", 20, weight="bold"))
        if st.get("top_pain"):
            body.append(_text(cx, 128, f'主要痛点：{_clip(st["top_pain"], 12)}', "middle", 11))
        if i < n - 1:
            ax = x + box_w + 4
            body.append(f'<path d="M{ax:.1f} {height / 2 - 8} l{gap - 8} 8 l-{gap - 8} 8 z" fill="#8896a5"/>')
    return _svg(width, height, body, label)


def _heat(share) -> str:
    """White to red by share negative; grey when a stage has no mentions."""
    if share is None:
        return "#f2f4f6"
    s = min(max(share, 0.0), 1.0)
    g = int(245 - 120 * s)
    return f"rgb(250,{g},{g})"


def line_chart(periods: list[str], series: dict[str, list[float]], label="", width=760, height=240,
               counts: list[int] | None = None) -> str:
    """Lines of rates in [0, 1] over periods, with review counts as light bars behind."""
    left, right, top, bottom = 50, 40, 26, 46
    pw, ph = width - left - right, height - top - bottom
    n = len(periods)
    step = pw / max(n - 1, 1)
    body = []
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + ph * (1 - t)
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{PALETTE["grid"]}"/>')
        body.append(_text(left - 6, y + 4, f"{t:.0%}", "end", 10))
    if counts:
        cmax = max(counts + [1])
        for i, c in enumerate(counts):
            h = ph * 0.5 * c / cmax
            body.append(_rect(left + i * step - 4, top + ph - h, 8, h, "#dfe6ee", f"{periods[i]}: {c} 条评论"))
    colors = [PALETTE["neg"], PALETTE["line2"], PALETTE["bar"]]
    lx = left
    for (name, values), color in zip(series.items(), colors):
        for run in _runs(values):  # a period without data breaks the line
            pts = [(left + i * step, top + ph * (1 - values[i])) for i in run]
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            body.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2.5"/>')
            body.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts)
        body.append(_rect(lx, 6, 12, 4, color))
        body.append(_text(lx + 16, 12, name, size=11))
        lx += 40 + 12 * len(name)
    every = max(1, math.ceil(n / 12))
    for i, p in enumerate(periods):
        if i % every == 0:
            body.append(_text(left + i * step, height - bottom + 16, p, "middle", 10))
    return _svg(width, height, body, label)


def _runs(values) -> list[list[int]]:
    """Index runs of consecutive values that are present (not None/NaN)."""
    runs, cur = [], []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append(i)
    return runs + ([cur] if cur else [])


def histogram(bins: list[tuple[float, float, int]], label="", width=520, height=200) -> str:
    """Vertical bars of review counts per sentiment-score bin, coloured from neg to pos."""
    left, bottom, top = 40, 30, 10
    n = max(len(bins), 1)
    bw = (width - left - 10) / n
    cmax = max([c for _, _, c in bins] + [1])
    body = []
    for i, (lo, hi, c) in enumerate(bins):
        h = (height - top - bottom) * c / cmax
        mid = (lo + hi) / 2
        color = PALETTE["neg"] if mid < 0.4 else PALETTE["pos"] if mid > 0.6 else PALETTE["neu"]
        x = left + i * bw
        body.append(_rect(x + 1, height - bottom - h, bw - 2, h, color, f"{lo:.1f}–{hi:.1f}: {c}"))
        body.append(_text(x + bw / 2, height - bottom - h - 3, c, "middle", 10))
        body.append(_text(x, height - bottom + 14, f"{lo:.1f}", "middle", 10))
    body.append(_text(left + n * bw, height - bottom + 14, "1.0", "middle", 10))
    return _svg(width, height, body, label)


def _clip(s, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"
