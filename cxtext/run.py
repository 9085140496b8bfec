"""The run job: ingest → tag → write, streamed chunk by chunk, with or without Prefect.

`RunSession` composes the library stages and owns the I/O of one run: it reads chunks from the
`Ingestor`, hands their records to a tagging function, and appends the results to a run directory
(`cxtext.store.RunDir`) and/or the warehouse (`cxtext.store.Warehouse`). How the tagging is executed
is the caller's choice: in this process, in a pool of worker processes (`--workers`), or as Prefect
tasks (`pipelines.flows`). Every path goes through the same session methods, so they write the
same tables.

Plain `cxtext run` never imports Prefect.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import resource
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from cxtext import __version__, store
from cxtext.inputs import expand_inputs, total_size

log = logging.getLogger("cxtext.run")

DEFAULT_CHUNK_ROWS = 5000
# The run's first chunk is cut to this many rows and tagged alone, so the first tagged rows are
# written well under a second after the resources are loaded instead of after a whole chunk.
FIRST_CHUNK_ROWS = 200
DEFAULT_WAREHOUSE = Path("out") / "cxtext.duckdb"


# --------------------------------------------------------------------------- resources per process

# ResourceSpec, process_resources and the pool live in cxtext.workers (light enough for the command
# to start workers before importing this module); they are part of this module's interface too.
from cxtext.workers import (  # noqa: E402
    ResourcePool,
    ResourceSpec,
    auto_workers,
    process_pool,
    process_resources,
    spec_from_args,
)


@dataclass
class Tagged:
    """What tagging one chunk returns: the two frames, the resources' manifest, the seconds it took."""

    reviews: pd.DataFrame
    mentions: pd.DataFrame
    manifest: dict[str, Any]
    seconds: float


def tag_chunk(records: pd.DataFrame, spec: ResourceSpec) -> Tagged:
    """Tag one chunk of records with this process's resources for `spec` (pure apart from loading)."""
    from cxtext.tagger import tag_records

    resources = process_resources(spec)
    t0 = time.perf_counter()
    reviews, mentions = tag_records(records, resources)
    if len(reviews) != len(records):
        raise RuntimeError(f"tagger returned {len(reviews)} reviews for {len(records)} records")
    return Tagged(reviews, mentions, resources.manifest(), time.perf_counter() - t0)


class _Future(Protocol):
    def result(self) -> Any: ...


def ordered_results(items: Iterable[Any], submit: Callable[[Any], _Future], max_inflight: int) -> Iterator[tuple[Any, Any]]:
    """Submit each item, keep at most `max_inflight` pending, and yield (item, result) in input order.

    Bounded so memory does not grow with the dump; ordered so output files are deterministic.
    """
    pending: deque[tuple[Any, _Future]] = deque()
    for item in items:
        pending.append((item, submit(item)))
        if len(pending) >= max_inflight:
            head, fut = pending.popleft()
            yield head, fut.result()
    while pending:
        head, fut = pending.popleft()
        yield head, fut.result()


class _Done:
    """A finished future, for tagging in the calling process through the same ordered loop."""

    def __init__(self, value: Any):
        self._value = value

    def result(self) -> Any:
        return self._value


# --------------------------------------------------------------------------- inputs


def input_files(inputs: Iterable[str | Path]) -> list[Path]:
    """The files a run will read (folders expanded as the Ingestor does; missing paths are errors)."""
    return expand_inputs(list(inputs))


# --------------------------------------------------------------------------- the session


@dataclass
class RunOptions:
    """Parameters of a run (everything the CLI and the flows pass in)."""

    text_col: str | None = None
    id_col: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    spec: ResourceSpec = field(default_factory=ResourceSpec)
    workers: int = 1
    csv: bool = True
    reports: bool = True
    new_only: bool = False  # inbox mode: skip files and rows the warehouse already holds
    kind: str = "run"


@dataclass
class Chunk:
    """One ingest chunk as the session hands it to tagging: records to tag plus bookkeeping."""

    index: int
    records: pd.DataFrame
    quarantine: pd.DataFrame
    rows_known: int = 0


class RunSession:
    """One run: its inputs, outputs, counts and timings. Use as a context manager.

    Stages, in order: `discover()`, `chunks(files)` → tag each chunk's records → `add(chunk, tagged)`,
    then `commit_warehouse()`, `commit_run_dir()`, `write_reports()`; `summary` is the run.json.
    """

    def __init__(self, inputs: list[str | Path], out_dir: str | Path | None, warehouse: str | Path | None,
                 options: RunOptions, run_id: str | None = None, spec: ResourceSpec | None = None):
        """`spec`: the fingerprinted spec that worker processes were started with for this run
        (`ResourcePool.spec`); by default `options.spec` is fingerprinted here."""
        if out_dir is None and warehouse is None:
            raise ValueError("a run needs an output directory, a warehouse, or both")
        if spec is not None and not spec.same_resources(options.spec):
            raise ValueError(f"the workers were started for {spec}, the run is for {options.spec}")
        self.inputs = [Path(p) for p in inputs]
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.warehouse_path = Path(warehouse) if warehouse is not None else None
        self.options = options
        self.run_id = run_id or new_run_id()
        self.spec = spec or options.spec.with_fingerprint()  # what tagging uses in every process
        self.started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.timings: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.by_reason: Counter[str] = Counter()
        self.pain_points: Counter[str] = Counter()
        self.manifest: dict[str, Any] | None = None
        self.ingestor: Any = None
        self.warehouse: store.Warehouse | None = None
        self.run_dir: store.RunDir | None = None
        self.wh_stage: store.WarehouseStage | None = None
        self.summary: dict[str, Any] = {}
        self.added: dict[str, int] = {}
        self.input_bytes = 0
        self._t0 = time.perf_counter()
        self._first_row_at: float | None = None
        self._first_row_since_start: float | None = None  # including interpreter start and imports
        self._stack = ExitStack()

    # -- opening and closing

    def __enter__(self) -> "RunSession":
        t0 = time.perf_counter()
        if self.warehouse_path is not None:
            self.warehouse = self._stack.enter_context(store.Warehouse(self.warehouse_path))
            root = self.warehouse.staging_root()
            root.mkdir(parents=True, exist_ok=True)
            store.clear_stale_staging(root)  # we hold DuckDB's lock: no other run is using these
            self.wh_stage = store.WarehouseStage(root / f"{store.STAGING_PREFIX}{self.run_id}")
        if self.out_dir is not None:
            self._stack.enter_context(store.directory_lock(self.out_dir))
            self.run_dir = store.RunDir(self.out_dir, self.run_id, csv=self.options.csv)
        self.timings["open"] += time.perf_counter() - t0
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None and self.run_dir is not None:
            self.run_dir.abandon()
        if self.wh_stage is not None:
            import shutil

            shutil.rmtree(self.wh_stage.folder, ignore_errors=True)
        self._stack.close()

    # -- stages

    def discover(self) -> list[Path]:
        """What to read: the inputs as given (the Ingestor expands folders), or in inbox mode the
        folder's readable files (those the warehouse has loaded are skipped by `chunks`, from the
        hash ingest takes of each file anyway). Missing inputs are errors."""
        t0 = time.perf_counter()
        files = input_files(self.inputs)
        inputs = files if self._new_only() else list(self.inputs)
        self.input_bytes = total_size(files)  # what `--workers 0` goes by, as in `workers.input_bytes`
        self.timings["discover"] += time.perf_counter() - t0
        return inputs

    def _new_only(self) -> bool:
        return self.options.new_only and self.warehouse is not None

    def _stored_file(self, sha256: str) -> bool:
        return bool(self.warehouse.known_files([sha256]))

    def chunks(self, files: list[Path]) -> Iterator[Chunk]:
        """Read `files` chunk by chunk (time spent reading is counted as `ingest`)."""
        from cxtext.ingest import Ingestor

        opts = self.options
        self.ingestor = Ingestor(text_col=opts.text_col, id_col=opts.id_col, chunk_rows=opts.chunk_rows,
                                 skip_known=self._stored_file if self._new_only() else None)
        stream = iter(self.ingestor.iter_chunks(files))
        index = 0
        while True:
            t0 = time.perf_counter()
            try:
                raw = next(stream)
            except StopIteration:
                self.timings["ingest"] += time.perf_counter() - t0
                return
            chunk = self._new_material(Chunk(index, raw.records, raw.quarantine))
            self.timings["ingest"] += time.perf_counter() - t0
            for piece in _first_piece(chunk) if index == 0 else (chunk,):
                piece.index = index
                index += 1
                yield piece

    def _new_material(self, chunk: Chunk) -> Chunk:
        if not (self._new_only() and len(chunk.records)):
            return chunk
        hashes = store.content_hashes(chunk.records)
        known = self.warehouse.known_reviews(hashes)
        if not known:
            return chunk
        keep = [h not in known for h in hashes]
        chunk.rows_known = len(hashes) - sum(keep)
        chunk.records = chunk.records[keep].reset_index(drop=True)
        return chunk

    def add(self, chunk: Chunk, tagged: Tagged) -> None:
        """Write one chunk's results (in input order) and update the counts."""
        t0 = time.perf_counter()
        if self._first_row_at is None and len(tagged.reviews):
            self._first_row_at = t0 - self._t0
            self._first_row_since_start = _seconds_since_process_start()
        self.manifest = self.manifest or tagged.manifest
        self.timings["tag"] += tagged.seconds
        self._count(chunk, tagged)
        if self.run_dir is not None:
            self.run_dir.add(tagged.reviews, tagged.mentions, chunk.quarantine)
        if self.wh_stage is not None:
            self.wh_stage.add(tagged.reviews, tagged.mentions, chunk.quarantine, tagged.manifest)
        self.timings["write"] += time.perf_counter() - t0

    def _count(self, chunk: Chunk, tagged: Tagged) -> None:
        self.counts["rows_tagged"] += len(tagged.reviews)
        self.counts["rows_quarantined"] += len(chunk.quarantine)
        self.counts["rows_known"] += chunk.rows_known
        self.counts["rows_read"] += len(tagged.reviews) + len(chunk.quarantine) + chunk.rows_known
        self.counts["mentions"] += len(tagged.mentions)
        self.by_reason.update(chunk.quarantine["reason_code"].astype(str).tolist())
        if len(tagged.mentions):
            neg = tagged.mentions[tagged.mentions["polarity"] == "neg"]
            self.pain_points.update(neg["category"].astype(str).tolist())

    def ensure_manifest(self) -> dict[str, Any]:
        """The resources' manifest; loads them here when no chunk was tagged (empty input)."""
        if self.manifest is None:
            self.manifest = process_resources(self.spec).manifest()
        return self.manifest

    def build_summary(self) -> dict[str, Any]:
        """run.json: counts, reasons, resources, inputs, timings."""
        manifest = self.ensure_manifest()
        counts = dict(self.counts)
        summary = {
            "run_id": self.run_id,
            "kind": self.options.kind,
            "cxtext_version": __version__,
            "started_at": self.started_at,
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "rows_read": counts.get("rows_read", 0),
            "rows_tagged": counts.get("rows_tagged", 0),
            "rows_quarantined": counts.get("rows_quarantined", 0),
            "quarantined_by_reason": dict(sorted(self.by_reason.items())),
            "mentions": counts.get("mentions", 0),
            "pain_points": dict(self.pain_points.most_common()),
            "resources": manifest,
            "resources_hash": store.resources_hash(manifest),
            "inputs": list(getattr(self.ingestor, "files", []) or []),
            "ingest_counts": dict(getattr(self.ingestor, "counts", {}) or {}),
            "options": _options_record(self.options),
            "time_to_first_tagged_row_s": round(self._first_row_at, 3) if self._first_row_at else None,
            "time_to_first_tagged_row_from_process_start_s": self._first_row_since_start,
            "peak_rss_mb": _peak_rss_mb(),
        }
        if self.options.new_only:
            summary["rows_known"] = counts.get("rows_known", 0)
            summary["files_skipped"] = list(getattr(self.ingestor, "known_files", []) or [])
        self._check_accounting(summary)
        summary["timings_s"] = self._timings()
        self.summary = summary
        return summary

    def _check_accounting(self, summary: dict[str, Any]) -> None:
        parts = summary["rows_tagged"] + summary["rows_quarantined"] + summary.get("rows_known", 0)
        if summary["rows_read"] != parts:
            raise RuntimeError(f"row accounting broken: read {summary['rows_read']} != {parts}")
        ingested = summary["ingest_counts"].get("rows_read")
        if ingested is not None and ingested != summary["rows_read"]:
            raise RuntimeError(f"row accounting broken: ingest read {ingested}, run counted {summary['rows_read']}")

    def _timings(self) -> dict[str, float]:
        timings = {k: round(v, 3) for k, v in sorted(self.timings.items())}
        timings["total"] = round(time.perf_counter() - self._t0, 3)
        return timings

    def commit_warehouse(self) -> dict[str, int]:
        """Load this run into the warehouse in one transaction (no-op without a warehouse)."""
        if self.warehouse is None:
            return {}
        t0 = time.perf_counter()
        summary = self.summary or self.build_summary()
        staged = self.wh_stage.close()
        self.added = self.warehouse.commit_run(staged, summary, list(summary["inputs"]))
        self.timings["warehouse"] += time.perf_counter() - t0
        summary["warehouse"] = {"path": str(self.warehouse_path), "added": self.added}
        log.info("warehouse %s: added %s", self.warehouse_path, self.added)
        return self.added

    def commit_run_dir(self) -> dict[str, Any]:
        """Move the run directory's files into place, run.json last (no-op without --out)."""
        summary = self.summary or self.build_summary()
        if self.run_dir is None:
            return summary
        t0 = time.perf_counter()
        summary["timings_s"] = self._timings()
        self.summary = self.run_dir.commit(summary)
        self.timings["commit"] += time.perf_counter() - t0
        return self.summary

    def write_reports(self) -> dict[str, Any] | None:
        """report.html / report.xlsx via `cxtext.report.write_reports` when that module is installed."""
        import importlib.util

        if self.out_dir is None or not self.options.reports:
            return None
        if importlib.util.find_spec("cxtext.report") is None:
            log.info("cxtext.report is not installed: no report.html/report.xlsx for this run")
            return None
        from cxtext.report import write_reports

        t0 = time.perf_counter()
        try:
            written = write_reports(self.out_dir)
        except Exception:
            log.error("writing the reports of %s failed (the run's data files are complete)", self.out_dir)
            raise
        self.timings["reports"] += time.perf_counter() - t0
        return written


def _first_piece(chunk: Chunk, rows: int = FIRST_CHUNK_ROWS) -> tuple[Chunk, ...]:
    """The run's first chunk as a small head (with the chunk's quarantine) and the rest."""
    if len(chunk.records) <= rows:
        return (chunk,)
    head = Chunk(chunk.index, chunk.records.iloc[:rows].reset_index(drop=True), chunk.quarantine,
                 chunk.rows_known)
    rest = Chunk(chunk.index, chunk.records.iloc[rows:].reset_index(drop=True),
                 chunk.quarantine.iloc[:0], 0)
    return head, rest


def new_run_id(prefix: str = "") -> str:
    """A sortable, unique run id: UTC time plus random hex."""
    return prefix + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _options_record(options: RunOptions) -> dict[str, Any]:
    record = asdict(options)
    record["spec"] = asdict(options.spec)
    return record


def _seconds_since_process_start() -> float | None:
    try:
        import psutil

        return round(time.time() - psutil.Process(os.getpid()).create_time(), 3)
    except Exception:  # psutil missing or the platform hides process times: leave it out
        return None


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux; children are the worker processes that have exited.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


# --------------------------------------------------------------------------- composing a run


def tag_chunks_locally(chunks: Iterable[Chunk], spec: ResourceSpec, workers: int,
                       pool: Executor | None = None) -> Iterator[tuple[Chunk, Tagged]]:
    """Tag chunks in this process (`workers` <= 1) or in a process pool, yielding in input order."""
    if workers <= 1 and pool is None:
        process_resources(spec)
        return ordered_results(chunks, lambda c: _Done(tag_chunk(c.records, spec)), 1)
    return ordered_results(chunks, lambda c: pool.submit(tag_chunk, c.records, spec), 2 * workers)


def execute(session: RunSession, pool: ResourcePool | None = None) -> dict[str, Any]:
    """Run every stage of `session` without Prefect; returns the run summary (run.json).

    `pool`: worker processes already started for `session.spec` (see `cxtext.workers`), used
    instead of starting them here and shut down when tagging ends (their memory is not needed for
    writing and reports)."""
    files = session.discover()
    opts = session.options
    workers = opts.workers or auto_workers(session.input_bytes)
    opts.workers = workers
    with ExitStack() as stack:
        if pool is not None:
            pool = stack.enter_context(pool)
        elif workers > 1:
            pool = stack.enter_context(process_pool(session.spec, workers))
        t0 = time.perf_counter()
        if pool is None:
            process_resources(session.spec)
            session.timings["load_resources"] += time.perf_counter() - t0
        for chunk, tagged in tag_chunks_locally(session.chunks(files), session.spec, workers, pool):
            session.add(chunk, tagged)
    session.build_summary()
    session.commit_warehouse()
    summary = session.commit_run_dir()
    session.write_reports()
    return summary


def retag_warehouse(warehouse_path: str | Path, options: RunOptions,
                    map_chunks: Callable[[Iterable[Chunk]], Iterable[tuple[Chunk, Tagged]]] | None = None) -> int:
    """Re-tag stored reviews whose lexicon/model hash differs from the current one; one transaction.

    Returns the number of reviews re-tagged.
    """
    run_id = new_run_id("retag-")
    spec = options.spec.with_fingerprint()
    current = store.resources_hash(process_resources(spec).manifest())
    with store.Warehouse(Path(warehouse_path)) as wh:
        stale = wh.stale_reviews(current)
        if not stale:
            return 0
        stage = store.WarehouseStage(wh.staging_root() / f"{store.STAGING_PREFIX}{run_id}")
        try:
            batches = (store.records_from_warehouse(wh.fetch_reviews(stale[s:s + options.chunk_rows]))
                       for s in range(0, len(stale), options.chunk_rows))
            pieces = (piece for batch in batches for piece in pieces_with_unique_ids(batch))
            chunks = (Chunk(i, piece, _empty_quarantine()) for i, piece in enumerate(pieces))
            mapper = map_chunks or (lambda cs: tag_chunks_locally(cs, spec, 1))
            for chunk, tagged in mapper(chunks):
                stage.add(tagged.reviews, tagged.mentions, chunk.quarantine, tagged.manifest)
            run = {"run_id": run_id, "kind": "retag", "resources_hash": current,
                   "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
            n = wh.commit_retag(stage.close(), run)
        finally:
            import shutil

            shutil.rmtree(stage.folder, ignore_errors=True)
    log.info("re-tagged %d stored review(s) in %s", n, warehouse_path)
    return n


def pieces_with_unique_ids(records: pd.DataFrame) -> list[pd.DataFrame]:
    """`records` split so that no review_id repeats within a piece (the k-th row of an id goes to
    piece k; usually there is one piece).

    Tagged mentions name their review by id only, so a chunk must not hold two reviews with one id.
    A run's own ids are unique, but the warehouse holds reviews from different dumps that share ids
    (two stores' exports both numbered from 1), and a re-tag reads them back together.
    """
    if not len(records):
        return [records]
    occurrence = records.groupby("review_id", sort=False).cumcount()
    return [records[occurrence == k].reset_index(drop=True) for k in range(int(occurrence.max()) + 1)]


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in store.QUARANTINE_SCHEMA.names})


def run_dump(inputs: list[str | Path], out_dir: str | Path | None, options: RunOptions,
             warehouse: str | Path | None = None, run_id: str | None = None,
             pool: ResourcePool | None = None) -> dict[str, Any]:
    """Tag `inputs` into `out_dir` (and the warehouse when given) without Prefect; returns run.json.
    `pool`: worker processes already started for this spec, whose spec the run tags with; `execute`
    shuts them down once tagging ends, and the caller that started them shuts them down if the run
    fails before (`cxtext run` does)."""
    spec = pool.spec if pool is not None else None
    with RunSession(inputs, out_dir, warehouse, options, run_id=run_id, spec=spec) as session:
        return execute(session, pool)


# --------------------------------------------------------------------------- CLI glue


def options_from_args(args: Any, kind: str = "run") -> RunOptions:
    """RunOptions from parsed CLI arguments (missing attributes take their defaults)."""
    spec = spec_from_args(args)
    chunk_rows = getattr(args, "chunk_rows", None) or DEFAULT_CHUNK_ROWS
    if chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be at least 1, got {chunk_rows}")
    return RunOptions(
        text_col=getattr(args, "text_col", None),
        id_col=getattr(args, "id_col", None),
        chunk_rows=chunk_rows,
        spec=spec,
        workers=getattr(args, "workers", 1),
        reports=not getattr(args, "no_reports", False),
        kind=kind,
    )


def summary_rows(summary: dict[str, Any], top: int = 5) -> list[dict[str, Any]]:
    """The run's figures as table rows (measure, value): counts, quarantine reasons, top pain points."""
    rows = [{"measure": key, "value": summary.get(key, 0)}
            for key in ("rows_read", "rows_tagged", "rows_quarantined", "rows_known", "mentions") if key in summary]
    rows += [{"measure": f"quarantined: {reason}", "value": n}
             for reason, n in summary.get("quarantined_by_reason", {}).items()]
    rows += [{"measure": f"pain point: {category}", "value": n}
             for category, n in list(summary.get("pain_points", {}).items())[:top]]
    added = summary.get("warehouse", {}).get("added", {})
    rows += [{"measure": f"warehouse added: {table}", "value": n} for table, n in added.items()]
    return rows


def summary_markdown(summary: dict[str, Any], top: int = 5) -> str:
    """A short markdown summary of a run (for the flow's artifact)."""
    lines = [f"# cxtext {summary.get('kind', 'run')} {summary.get('run_id', '')}", "",
             "| measure | value |", "|---|---:|"]
    lines += [f"| {row['measure']} | {row['value']} |" for row in summary_rows(summary, top)]
    timings = summary.get("timings_s", {})
    lines += ["", "Timings (s): " + ", ".join(f"{k} {v}" for k, v in timings.items())]
    return "\n".join(lines) + "\n"


def print_summary(summary: dict[str, Any]) -> None:
    """A few lines for the terminal: rows, quarantine reasons, where the files went, time."""
    print(
        f"read {summary['rows_read']} rows: tagged {summary['rows_tagged']}, "
        f"quarantined {summary['rows_quarantined']}"
        + (f", already stored {summary['rows_known']}" if "rows_known" in summary else "")
    )
    for reason, n in summary.get("quarantined_by_reason", {}).items():
        print(f"  {reason}: {n}")
    if summary.get("warehouse"):
        print(f"warehouse {summary['warehouse']['path']}: added {summary['warehouse']['added']}")
    print(f"{summary['mentions']} mentions; took {summary['timings_s']['total']:.1f} s")


def configure_logging() -> None:
    """cxtext's own INFO lines on stderr (other libraries keep their defaults)."""
    logger = logging.getLogger("cxtext")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def run_command(args: Any, pool: ResourcePool | None = None) -> int:
    """`cxtext run`: plain by default; `--prefect` runs the same stages as the tag_dump flow.
    `pool`: worker processes the command started early (see `early_pool`), used by a plain run."""
    configure_logging()
    options = options_from_args(args)
    warehouse = getattr(args, "warehouse", None)
    if getattr(args, "retag", False) and not warehouse:
        raise SystemExit("--retag needs --warehouse (it re-tags the reviews stored there)")
    if getattr(args, "prefect", False) or getattr(args, "task_runner", "local") == "dask":
        from pipelines.flows import run_tag_dump

        summary = run_tag_dump(args.inputs, args.out, options, warehouse=warehouse,
                               retag=getattr(args, "retag", False),
                               task_runner_kind=getattr(args, "task_runner", "local"),
                               dask_address=getattr(args, "dask_address", None))
    else:
        if getattr(args, "retag", False):
            retag_warehouse(warehouse, options)
        summary = run_dump(args.inputs, args.out, options, warehouse=warehouse, pool=pool)
    print_summary(summary)
    print(f"run directory: {args.out}")
    return 0
