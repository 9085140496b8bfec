"""Where tagging spends its time: CPU µs per review for each stage of `cxtext.tagger.tag_records`.

Runs the stages one after the other on the same N reviews of the throughput dump (built by
`bench/throughput.py`'s `build_dump` from ../shared/data/corpora, or the bundled sample when that
is absent), each `--repeat` times, and keeps the lowest CPU time (`time.process_time`) of each:
on a shared machine the lowest is the one least disturbed by other jobs. Then `tag_records` as a
whole, whose excess over the stages is DataFrame building and the garbage collector.

    .venv/bin/python bench/stages.py                 # 5,000 reviews, best of 3
    .venv/bin/python bench/stages.py --n 10000 --repeat 5

Writes bench/results/stages.md (and prints the table).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import build_dump  # noqa: E402

from cxtext.paths import PROJECT_DIR  # noqa: E402

RESULTS = PROJECT_DIR / "bench" / "results" / "stages.md"


def lowest_cpu(fn, repeat: int):
    """(result of the last call, lowest CPU seconds of `repeat` calls)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return out, best


def measure(records, repeat: int) -> dict[str, float]:
    """CPU seconds of each stage over `records` (lowest of `repeat`)."""
    from cxtext.normalize import normalize
    from cxtext.tagger import TaggedText, load_resources, settle_open_mentions, tag_records

    res = load_resources()
    texts = [str(t) for t in records["text"]]
    tag_records(records.iloc[:200], res)  # first calls build caches (character tables)
    t: dict[str, float] = {}
    norms, t["normalize"] = lowest_cpu(lambda: [normalize(x) for x in texts], repeat)
    cuts, t["segment"] = lowest_cpu(lambda: [res.segmenter.boundaries(n.text) for n in norms], repeat)
    found, t["detect"] = lowest_cpu(
        lambda: [res.detector.detect(n.text, w, s) for n, (w, s) in zip(norms, cuts)], repeat)
    tagged = [TaggedText(n, w, s, m, log) for n, (w, s), (m, log) in zip(norms, cuts, found)]
    tagged, t["settle open mentions (sentiment of windows)"] = lowest_cpu(
        lambda: settle_open_mentions(tagged, res.sentiment), repeat)
    _, t["review sentiment"] = lowest_cpu(
        lambda: res.sentiment.score([x.norm.text for x in tagged], [x.words for x in tagged]), repeat)
    _, total = lowest_cpu(lambda: tag_records(records, res), repeat)
    t["frames, garbage collection, rest"] = max(total - sum(t.values()), 0.0)
    t["tag_records"] = total
    return t


def table(t: dict[str, float], n: int) -> str:
    total = t["tag_records"]
    lines = ["| stage | µs per review | share |", "|---|---:|---:|"]
    for name, sec in t.items():
        share = "" if name == "tag_records" else f"{sec / total:.0%}"
        label = f"**{name}** (whole)" if name == "tag_records" else name
        lines.append(f"| {label} | {sec / n * 1e6:,.0f} | {share} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=5000, help="reviews to tag (default 5,000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per stage; the lowest CPU time counts")
    p.add_argument("--dump-dir", default="/tmp/cxtext-bench", help="where the dump is (or is built)")
    p.add_argument("--results", default=str(RESULTS), help="markdown file to write")
    args = p.parse_args(argv)
    from cxtext.ingest import Ingestor

    dump = Path(args.dump_dir) / f"reviews-{args.n}.csv"
    source = "existing dump"
    if not dump.exists():
        dump, _, source = build_dump(args.n, Path(args.dump_dir))
    records = next(iter(Ingestor(chunk_rows=args.n).iter_chunks([dump]))).records
    load = os.getloadavg()[0]
    t = measure(records, args.repeat)
    text = (f"# Tagging cost per stage\n\nWritten by `bench/stages.py`: CPU time of one process, lowest of "
            f"{args.repeat} runs per stage, on {len(records):,} reviews of `{dump}` ({source}); measured "
            f"{datetime.now():%Y-%m-%d %H:%M} on {platform.machine()} with {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average (1 min) before {load:.2f}, after "
            f"{os.getloadavg()[0]:.2f}.\n\n{table(t, len(records))}\n")
    Path(args.results).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
