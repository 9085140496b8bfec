"""Score the tagger against a gold JSONL file (format: the data README).

Two review-level scores per category: *mention detection* (the category is mentioned, any
polarity) and *pain-point detection* (the category is `neg`), each with precision, recall and F1,
plus micro averages; and review sentiment accuracy. A review's label for a category is derived from
its mentions as the taxonomy says: `neg` if any mention is `neg`, else `pos` if any is `pos`, else `neu`.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["GOLD_CATEGORIES", "read_gold", "review_labels", "score_labels", "evaluate", "eval_command"]

GOLD_CATEGORIES = ("waiting_time", "hygiene", "booking", "odor", "review_prompt", "price", "staff_attitude")
LABELS = ("neg", "pos", "neu", "")


class GoldFormatError(ValueError):
    pass


def read_gold(path: str | Path) -> list[dict]:
    """Gold rows, checked: every problem is reported with its line number."""
    rows, problems = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{n}: not JSON ({exc.msg})")
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                problems.append(f"{path}:{n}: expected an object with a text string")
                continue
            bad = [c for c in GOLD_CATEGORIES if row.get(c, "") not in LABELS]
            if bad:
                problems.append(f"{path}:{n}: labels of {bad} must be one of {LABELS}")
                continue
            rows.append(row)
    if problems:
        raise GoldFormatError("invalid gold file:\n  " + "\n  ".join(problems))
    return rows


def gold_part(rows: list[dict], part: str) -> list[dict]:
    """`all`, or the lexicon-development split: `tune` (two thirds by a hash of the id) or `holdout`.

    Rules were developed on `tune`; `holdout` shows how they carry over to reviews not looked at.
    """
    if part == "all":
        return rows
    in_holdout = lambda row: int(hashlib.sha1(str(row.get("id")).encode()).hexdigest(), 16) % 3 == 0  # noqa: E731
    return [r for r in rows if in_holdout(r) == (part == "holdout")]


def review_labels(mentions) -> dict[str, str]:
    """Category → review-level label from a review's mentions (neg > pos > neu)."""
    labels: dict[str, str] = {}
    rank = {"neg": 3, "pos": 2, "neu": 1}
    for m in mentions:
        if rank[m.polarity] > rank.get(labels.get(m.category, ""), 0):
            labels[m.category] = m.polarity
    return labels


@dataclass
class _Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: bool, pred: bool) -> None:
        self.tp += gold and pred
        self.fp += pred and not gold
        self.fn += gold and not pred

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def score_labels(gold: list[dict], predicted: list[dict[str, str]]) -> pd.DataFrame:
    """Per-category and micro P/R/F1 for mention and pain-point detection."""
    mention = {c: _Counts() for c in GOLD_CATEGORIES}
    pain = {c: _Counts() for c in GOLD_CATEGORIES}
    for g, p in zip(gold, predicted):
        for c in GOLD_CATEGORIES:
            mention[c].add(bool(g.get(c)), bool(p.get(c)))
            pain[c].add(g.get(c) == "neg", p.get(c) == "neg")
    rows = []
    for c in GOLD_CATEGORIES:
        rows.append(_row(c, mention[c], pain[c]))
    micro_m = _Counts(*(sum(getattr(x, k) for x in mention.values()) for k in ("tp", "fp", "fn")))
    micro_p = _Counts(*(sum(getattr(x, k) for x in pain.values()) for k in ("tp", "fp", "fn")))
    rows.append(_row("micro", micro_m, micro_p))
    return pd.DataFrame(rows).set_index("category")


def _row(name: str, mention: _Counts, pain: _Counts) -> dict:
    mp, mr, mf = mention.prf()
    pp, pr, pf = pain.prf()
    return {"category": name, "mention_p": mp, "mention_r": mr, "mention_f1": mf,
            "mention_n": mention.tp + mention.fn, "pain_p": pp, "pain_r": pr, "pain_f1": pf,
            "pain_n": pain.tp + pain.fn}


@dataclass(frozen=True)
class SentimentScore:
    """Review sentiment against binary gold: labels (neu counts as wrong), and the score at 0.5."""

    accuracy: float
    binary_accuracy: float
    neutral_share: float
    n: int

    def __str__(self) -> str:
        return (f"review sentiment accuracy: {self.accuracy:.3f} (neu counted wrong; {self.neutral_share:.1%} neu); "
                f"at the 0.5 threshold: {self.binary_accuracy:.3f}; n={self.n}")


def evaluate(gold: list[dict], resources) -> tuple[pd.DataFrame, SentimentScore | None, list[dict]]:
    """(score table, sentiment score, per-review predictions) of the tagger on gold rows."""
    from cxtext.tagger import tag_texts

    tagged = tag_texts([g["text"] for g in gold], resources)
    predicted = [review_labels(t.mentions) for t in tagged]
    table = score_labels(gold, predicted)
    scores = resources.sentiment.score([t.norm.text for t in tagged], [t.words for t in tagged])
    labels = list(resources.sentiment.label(scores))
    judged = [(g["sentiment"], lab, sc) for g, lab, sc in zip(gold, labels, scores) if g.get("sentiment") in ("pos", "neg")]
    accuracy = SentimentScore(
        accuracy=sum(g == p for g, p, _ in judged) / len(judged),
        binary_accuracy=sum(g == ("pos" if sc >= 0.5 else "neg") for g, _, sc in judged) / len(judged),
        neutral_share=sum(p == "neu" for _, p, _ in judged) / len(judged),
        n=len(judged),
    ) if judged else None
    details = []
    for g, t, p, lab in zip(gold, tagged, predicted, labels):
        evidence = {}
        for m in t.mentions:
            s, e = t.norm.to_original(m.start, m.end)
            evidence.setdefault(m.category, []).append(f"{m.polarity}:{g['text'][s:e]} [{m.rule}]")
        details.append({"id": g.get("id"), "predicted": p, "sentiment": lab, "evidence": evidence})
    return table, accuracy, details


def format_table(table: pd.DataFrame, accuracy: SentimentScore | None) -> str:
    lines = ["| category | mention P | mention R | mention F1 | n | pain P | pain R | pain F1 | n |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in table.iterrows():
        lines.append(f"| {name} | {r.mention_p:.3f} | {r.mention_r:.3f} | {r.mention_f1:.3f} | {int(r.mention_n)} "
                     f"| {r.pain_p:.3f} | {r.pain_r:.3f} | {r.pain_f1:.3f} | {int(r.pain_n)} |")
    if accuracy is not None:
        lines.append(f"\n{accuracy}")
    return "\n".join(lines)


def eval_command(args) -> int:
    from cxtext.tagger import load_resources

    try:
        gold = gold_part(read_gold(args.gold), getattr(args, "part", "all"))
    except (OSError, GoldFormatError) as exc:
        print(f"cxtext eval: {exc}", file=sys.stderr)
        return 2
    resources = load_resources(args.lexicons, sentiment=args.sentiment, backend=args.backend)
    table, accuracy, details = evaluate(gold, resources)
    print(f"{len(gold)} gold reviews from {args.gold} (part: {getattr(args, 'part', 'all')})")
    print(format_table(table, accuracy))
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as fh:
            for g, d in zip(gold, details):
                wrong = {c: (g.get(c, ""), d["predicted"].get(c, "")) for c in GOLD_CATEGORIES
                         if g.get(c, "") != d["predicted"].get(c, "")}
                if wrong:
                    fh.write(json.dumps({"id": g.get("id"), "wrong": wrong, "evidence": d["evidence"],
                                         "text": g["text"]}, ensure_ascii=False) + "\n")
    return 0
