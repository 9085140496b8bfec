"""Throughput benchmark: raw jieba.lcut vs the naive script vs `cxtext run` with 1 and 2 workers.

One run, on one dump of N review-length texts (from ../shared/data/corpora when present, else the
bundled sample repeated), measures:

* raw `jieba.lcut` (default, HMM on) over the dump's texts, plus jieba without HMM and rjieba for
  reference: the segmentation limit that the issue sets the targets against;
* the naive peer, `df.text.apply(jieba.lcut)` plus `SnowNLP(text).sentiments`, on a subset;
* `cxtext run DUMP --out DIR --workers W --no-reports` in a child process for each W: wall time
  from start to exit, CPU time of the process tree (`RUSAGE_CHILDREN`, plus the sampled CPU time of
  the pool's fork server and its workers, which it does not count), peak RSS and peak PSS of the
  whole tree (parent, fork server, workers; sampled every 0.2 s with psutil) and the first-row time
  from run.json. The worker counts take turns (1, 2, 1, 2, ...) for `--repeats` rounds (default 3):
  the machine's speed drifts by tens of percent within minutes (a lone process gets a faster core
  at some moments), so a ratio is taken within each round, between runs a minute apart, and the
  median of the rounds is the headline. The fastest run of each worker count gives the rates in the
  table, the highest RSS and PSS count for memory. RSS counts a page shared by several processes once per process; PSS
  divides it among them, so the PSS of the tree is the memory the run holds, while summed RSS
  overstates it when workers share pages.

Writes the figures, with the machine's load average before and after, into a section of
bench/results/throughput.md for this N (sections for other N are kept, so a 1,000,000-review run
can sit beside the default one). The dump lives under --dump-dir (default /tmp/cxtext-bench) and is
never part of the project.

    make bench                                   # N=50,000, workers 1 and 2
    .venv/bin/python bench/throughput.py --n 1000000 --workers 2 --raw-max 50000 --peer-n 300
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import platform
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxtext.paths import PROJECT_DIR, shared_data_dir

RESULTS = PROJECT_DIR / "bench" / "results" / "throughput.md"
CXTEXT = Path(sys.executable).with_name("cxtext")
SAMPLE_DIR = PROJECT_DIR / "data" / "sample"
STORES = [f"门店{i:02d}" for i in range(37)]


# --------------------------------------------------------------------------- the dump


def corpus_texts() -> tuple[list[str], str]:
    """Review texts to build the dump from, and where they came from."""
    shared = shared_data_dir()
    corpora = sorted((shared / "corpora").glob("*.csv")) if shared else []
    texts: list[str] = []
    for path in corpora:
        with open(path, encoding="utf-8", newline="") as fh:
            texts += [row["review"] for row in csv.DictReader(fh) if (row.get("review") or "").strip()]
    if texts:
        return texts, f"../shared/data/corpora ({len(corpora)} files, {len(texts):,} texts)"
    print("../shared/data is absent: building the dump from the bundled sample (data/sample)")
    from cxtext.ingest import Ingestor

    for chunk in Ingestor().iter_chunks([SAMPLE_DIR]):
        texts += chunk.records["text"].astype(str).tolist()
    return texts, f"data/sample ({len(texts)} texts, repeated)"


def build_dump(n: int, folder: Path, seed: int = 0) -> tuple[Path, list[str], str]:
    """A CSV of `n` reviews (review_id, text, store, created_at): corpus texts shuffled and repeated
    with unique ids. Returns its path, the texts in file order and the source description."""
    texts, source = corpus_texts()
    order = np.random.default_rng(seed).permutation(len(texts))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"reviews-{n}.csv"
    chosen = [texts[order[i % len(texts)]] for i in range(n)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["review_id", "text", "store", "created_at"])
        for i, text in enumerate(chosen):
            writer.writerow([f"r{i:08d}", text, STORES[i % len(STORES)], f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"])
    return path, chosen, source


# --------------------------------------------------------------------------- measuring


@dataclass
class Measure:
    """One measured thing: rows and characters processed, wall and CPU seconds, peak RSS."""

    name: str
    rows: int
    chars: int
    wall: float
    cpu: float
    peak_rss_mb: float | None = None
    peak_pss_mb: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.wall

    @property
    def cpu_rate(self) -> float:
        return self.rows / self.cpu

    @property
    def char_rate(self) -> float:
        return self.chars / self.wall


def timed(name: str, texts: list[str], fn) -> Measure:
    """Run fn() once in this process; wall and CPU (this process) seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return Measure(name, len(texts), sum(map(len, texts)), time.perf_counter() - w0, time.process_time() - c0)


def raw_segmenters(texts: list[str], only_lcut: bool = False) -> list[Measure]:
    """Raw jieba.lcut (default, HMM on), jieba without HMM, rjieba: segmentation alone, one core."""
    import jieba
    import rjieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()  # dictionary loading is not part of the throughput
    lcut = timed("jieba.lcut (default, HMM on)", texts, lambda: [jieba.lcut(t) for t in texts])
    if only_lcut:
        return [lcut]
    rj = rjieba.Jieba()
    return [
        lcut,
        timed("jieba.lcut(HMM=False)", texts, lambda: [jieba.lcut(t, HMM=False) for t in texts]),
        default_backend(texts),
        timed("rjieba cut (HMM off)", texts, lambda: [rj.cut(t, False) for t in texts]),
    ]


def default_backend(texts: list[str]) -> Measure:
    """The segmenter `cxtext run` uses by default (jieba's dictionary and the lexicon words, HMM off,
    cut by the C extension when it is built): the backend whose raw speed a run is held against."""
    from cxtext.train import make_segmenter

    segmenter = make_segmenter()
    name = "cxtext default segmenter (" + ("C cut" if segmenter.accelerated else "jieba, no C cut") + ", HMM off)"
    return timed(name, texts, lambda: [segmenter.cut(t) for t in texts])


def naive_peer(texts: list[str]) -> Measure:
    """The usual script: df.text.apply(jieba.lcut) and SnowNLP(text).sentiments, row by row."""
    import jieba
    import pandas as pd
    from snownlp import SnowNLP

    df = pd.DataFrame({"text": texts})

    def run() -> None:
        df["words"] = df.text.apply(jieba.lcut)
        df["sentiment"] = df.text.apply(lambda t: SnowNLP(t).sentiments)

    SnowNLP("预热一下模型").sentiments  # its model loads on first use: not part of the rate
    return timed("naive peer: jieba.lcut + SnowNLP per row", texts, run)


BURN = "import time\nt = time.perf_counter()\nx = 0\nfor i in range(12_000_000):\n    x += i * i % 7\nprint(time.perf_counter() - t)"


def parallel_capacity() -> float:
    """How many cores' worth of pure-Python work the machine gives two processes right now:
    2 x (one burner alone) / (two burners at once). 2.0 on two free cores; less when other jobs
    or the host take a share. The 2-worker ratio cannot exceed it."""
    def burn(k: int) -> float:
        procs = [subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True) for _ in range(k)]
        return max(float(p.communicate()[0]) for p in procs)

    return 2 * burn(1) / burn(2)


def tree_sample(proc) -> tuple[float, float | None, dict[int, float]]:
    """One look at a process and all its descendants (those that vanish meanwhile are skipped):
    summed RSS and summed PSS in MB (PSS None where the platform does not report it), and the CPU
    seconds so far of the processes `RUSAGE_CHILDREN` will not count: the pool's fork server, which
    outlives the run and is not waited for, and the workers it forks and reaps itself (sampled, so
    up to one sampling interval of each one's last CPU time is missed)."""
    import psutil

    rss, pss, unreaped = 0, 0, {}
    for p in [proc] + proc.children(recursive=True):
        try:
            info = p.memory_full_info()
            if p.pid != proc.pid and (p.ppid() != proc.pid or "forkserver" in " ".join(p.cmdline())):
                t = p.cpu_times()
                unreaped[p.pid] = t.user + t.system
        except psutil.Error:
            continue
        rss += info.rss
        pss = None if pss is None or not hasattr(info, "pss") else pss + info.pss
    return rss / 1e6, (pss / 1e6 if pss is not None else None), unreaped


def cxtext_run(dump: Path, out: Path, workers: int, texts: list[str], extra_args: list[str]) -> Measure:
    """`cxtext run` in a child process; wall, CPU of the whole tree, peak tree RSS and PSS, run.json."""
    import json

    import psutil

    cmd = [str(CXTEXT), "run", str(dump), "--out", str(out), "--workers", str(workers), "--no-reports", *extra_args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = [0.0, 0.0]
    w0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    done = threading.Event()

    unreaped: dict[int, float] = {}

    def sample() -> None:
        while not done.is_set():
            try:
                rss, pss, cpu_so_far = tree_sample(proc)
                peak[0] = max(peak[0], rss)
                peak[1] = max(peak[1], pss or 0.0)
                unreaped.update(cpu_so_far)
            except psutil.Error:
                pass
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = child.communicate()
    wall = time.perf_counter() - w0
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) + sum(unreaped.values())
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    if info["rows_tagged"] != len(texts):
        raise SystemExit(f"cxtext tagged {info['rows_tagged']} of {len(texts)} rows: {info['quarantined_by_reason']}")
    return Measure(f"cxtext run, {workers} worker{'s' if workers > 1 else ''}", len(texts), sum(map(len, texts)),
                   wall, cpu, peak[0], peak[1] or None, {"run": info, "cmd": " ".join(cmd[1:]), "workers": workers})


# --------------------------------------------------------------------------- the report


def fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def fastest_of(tries: list[Measure]) -> Measure:
    """The fastest run of one worker count; memory is the worst of its runs."""
    m = min(tries, key=lambda t: t.wall)
    m.extra["walls"] = [t.wall for t in tries]
    m.peak_rss_mb = max(t.peak_rss_mb for t in tries)
    m.peak_pss_mb = max((t.peak_pss_mb or 0.0 for t in tries), default=0.0) or None
    return m


def round_ratios(runs: list[Measure], baseline: list[Measure]) -> list[float]:
    """Throughput ratio of each round's run to the same round's baseline run (taken a minute
    apart, so the machine's drift between rounds does not enter the ratio)."""
    return [r.rate / b.rate for r, b in zip(runs, baseline)]


def report(n: int, source: str, texts: list[str], raw: list[Measure], peer: Measure | None,
           runs: list[Measure], loads: tuple, args: argparse.Namespace, capacity: list[float],
           rounds: dict[int, list[float]] | None = None) -> str:
    # The reference is the faster of the raw jieba.lcut measurements (before and after the runs):
    # the conservative choice when the machine's speed drifts during the benchmark.
    lcuts = [m for m in raw if m.name.startswith("jieba.lcut (default")]
    lcut = max(lcuts, key=lambda m: m.rate)
    nohmm = next(m for m in raw if "HMM=False" in m.name)
    first = runs[0]
    lines = [
        f"<!-- section n={n} -->",
        f"## N = {n:,} reviews",
        "",
        f"Dump: {n:,} reviews from {source}, mean {np.mean([len(t) for t in texts]):.1f} characters; "
        f"measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()} with {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. Load average (1 min) before {loads[0]:.2f}, after {loads[1]:.2f}.",
        f"Command: `{' '.join(args.command_line)}`.",
        "",
        "| what | reviews | wall s | reviews/s | characters/s | CPU s | reviews per CPU s | peak RSS (tree) | peak PSS (tree) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in raw + ([peer] if peer else []) + runs:
        rss = f"{fmt(m.peak_rss_mb)} MB" if m.peak_rss_mb else "—"
        pss = f"{fmt(m.peak_pss_mb)} MB" if m.peak_pss_mb else "—"
        lines.append(f"| {m.name} | {fmt(m.rows)} | {m.wall:.2f} | {fmt(m.rate)} | {fmt(m.char_rate)} | "
                     f"{m.cpu:.2f} | {fmt(m.cpu_rate)} | {rss} | {pss} |")
    lines += ["", "Ratios (wall-clock rates; CPU-time rates in brackets):", ""]
    ratio = lambda a, b: f"{a.rate / b.rate:.2f} ({a.cpu_rate / b.cpu_rate:.2f})"  # noqa: E731
    lines.append(f"* {first.name} / raw jieba.lcut: **{ratio(first, lcut)}** (target ≥ 0.70; the faster "
                 f"of the jieba.lcut rows is the reference)")
    lines.append(f"* {first.name} / raw jieba without HMM: {ratio(first, nohmm)}")
    default = next((m for m in raw if m.name.startswith("cxtext default segmenter")), None)
    if default:
        lines.append(f"* {first.name} / raw default segmenter: **{ratio(first, default)}** (target ≥ 0.50 "
                     "where a faster backend is the default)")
    for m in runs[1:]:
        per_round = (rounds or {}).get(m.extra["workers"], [])
        if len(per_round) > 1:
            wall = (f"**{float(np.median(per_round)):.2f}** wall, median of {len(per_round)} alternated rounds "
                    f"({', '.join(f'{r:.2f}' for r in per_round)}; target ≥ 1.7); "
                    f"fastest against fastest {m.rate / first.rate:.2f}")
        else:
            wall = f"**{m.rate / first.rate:.2f}** wall (target ≥ 1.7)"
        lines.append(f"* {m.name} / {first.name}: {wall}; CPU seconds {m.cpu:.1f} vs {first.cpu:.1f}")
    if capacity:
        lines.append(f"* Parallel capacity just before each 2-worker run: {', '.join(f'{c:.2f}' for c in capacity)} "
                     "(two pure-Python burners at once vs one alone; 2.00 = two free cores; the 2-worker "
                     "ratio cannot exceed it)")
    if peer:
        for m in runs:
            lines.append(f"* {m.name} / naive peer: **{m.rate / peer.rate:.0f}×** (target ≥ 50×)")
    lines += ["", "Per run (from run.json): time to first tagged row since the run started, and since the "
              "process started; stage seconds (`tag` is summed over workers).", ""]
    for m in runs:
        info = m.extra["run"]
        stages = ", ".join(f"{k} {v}" for k, v in info["timings_s"].items())
        walls = m.extra.get("walls", [m.wall])
        best = f" (fastest of {len(walls)} runs: {', '.join(f'{w:.2f}' for w in walls)} s)" if len(walls) > 1 else ""
        lines.append(f"* `cxtext {m.extra['cmd']}`{best}: first row {info['time_to_first_tagged_row_s']} s "
                     f"(process {info.get('time_to_first_tagged_row_from_process_start_s')} s); "
                     f"{info['mentions']:,} mentions; {stages}")
    if len(texts) != lcut.rows:
        lines.append(f"* Raw segmenters measured on the dump's first {lcut.rows:,} texts (`--raw-max`).")
    if peer:
        lines.append(f"* Naive peer measured on the dump's first {peer.rows:,} texts and extrapolated.")
    return "\n".join(lines) + "\n"


HEADER = """# Throughput: cxtext run vs raw segmentation vs the naive script

Written by `bench/throughput.py` (`make bench`); one section per dump size. Rates are reviews per
wall-clock second unless marked CPU; "CPU s" is user + system time of the measured process tree,
which is what to compare when other jobs share the machine (see the load averages). `cxtext run`
is measured end to end as a user runs it on a big dump (`--no-reports`: report.html and
report.xlsx are for analysts' smaller runs): interpreter start, resource loading, reading the CSV,
tagging, Parquet and CSV outputs, run.json.

"""


def write_results(section: str, n: int, path: Path = RESULTS) -> None:
    """Replace this N's section of the results file (other sections stay), sections by N."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    parts = re.split(r"(?=<!-- section n=\d+ -->)", text)
    head, sections = parts[0], {int(re.match(r"<!-- section n=(\d+)", p).group(1)): p for p in parts[1:]}
    sections[n] = section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "".join(sections[k] for k in sorted(sections)), encoding="utf-8")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=50_000, help="reviews in the dump (default 50,000)")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts to run (default 1,2)")
    p.add_argument("--peer-n", type=int, default=1000, help="reviews for the naive peer (0 to skip)")
    p.add_argument("--repeats", type=int, default=3,
                   help="rounds in which each worker count runs once, in turn (the machine is shared: "
                        "ratios are taken within a round, their median reported)")
    p.add_argument("--raw-max", type=int, default=0, help="measure raw segmenters on at most this many texts")
    p.add_argument("--dump-dir", default="/tmp/cxtext-bench", help="where the dump and run folders go")
    p.add_argument("--results", default=str(RESULTS), help="markdown file to update")
    p.add_argument("--no-raw-again", dest="raw_again", action="store_false",
                   help="do not measure raw jieba.lcut a second time after the runs")
    p.add_argument("cxtext_args", nargs="*", help="extra arguments for cxtext run (after --)")
    args = p.parse_args(argv)
    args.command_line = ["bench/throughput.py", *(argv if argv is not None else sys.argv[1:])]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loads = [os.getloadavg()[0]]
    folder = Path(args.dump_dir)
    dump, texts, source = build_dump(args.n, folder)
    print(f"dump: {dump} ({args.n:,} reviews from {source}); load average {loads[0]:.2f}")
    raw_texts = texts[:args.raw_max] if args.raw_max else texts
    raw = raw_segmenters(raw_texts)
    for m in raw:
        print(f"  {m.name}: {m.rate:,.0f} reviews/s, {m.char_rate:,.0f} characters/s")
    peer = naive_peer(texts[:args.peer_n]) if args.peer_n else None
    if peer:
        print(f"  {peer.name}: {peer.rate:,.1f} reviews/s")
    worker_counts = [int(w) for w in args.workers.split(",")]
    tries: dict[int, list[Measure]] = {w: [] for w in worker_counts}
    capacity: list[float] = []
    for round_no in range(max(1, args.repeats)):
        for workers in worker_counts:
            if workers > 1:
                capacity.append(parallel_capacity())
            t = cxtext_run(dump, folder / f"run-{args.n}-w{workers}", workers, texts, args.cxtext_args)
            print(f"  round {round_no + 1}, {t.name}: {t.wall:.2f} s")
            tries[workers].append(t)
    runs = [fastest_of(tries[w]) for w in worker_counts]
    for m in runs:
        print(f"  {m.name}: {m.rate:,.0f} reviews/s wall, {m.cpu_rate:,.0f} per CPU s, "
              f"peak RSS {m.peak_rss_mb:,.0f} MB, peak PSS {m.peak_pss_mb or 0:,.0f} MB")
    rounds = {w: round_ratios(tries[w], tries[worker_counts[0]]) for w in worker_counts[1:]}
    if args.raw_again:
        again = raw_segmenters(raw_texts, only_lcut=True)[0]
        again.name += ", again after the runs"
        raw.insert(1, again)
    loads.append(os.getloadavg()[0])
    section = report(args.n, source, texts, raw, peer, runs, tuple(loads), args, capacity, rounds)
    write_results(section, args.n, Path(args.results))
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
