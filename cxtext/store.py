"""Where tagged results go: run directories (Parquet, CSV, run.json) and the DuckDB warehouse.

Crash safety is the theme of this module. Every file is written under a staging folder and moved
into place with `os.replace`; `run.json` is removed before the data files are replaced and written
last, so a run directory either has a `run.json` whose recorded hashes match the files beside it, or
no `run.json` at all (an unfinished run that the next run replaces). The warehouse takes each run in
one DuckDB transaction, keyed by content hashes, so a killed run leaves nothing behind and a rerun
adds nothing twice.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

RUN_FILES = ("reviews.parquet", "mentions.parquet", "quarantine.parquet")
CSV_FILES = ("reviews.csv", "mentions.csv")
REPORT_FILES = ("report.html", "report.xlsx")
STAGING_PREFIX = ".staging-"

REVIEWS_SCHEMA = pa.schema(
    [
        ("review_id", pa.large_string()),
        ("text", pa.large_string()),
        ("text_norm", pa.large_string()),
        ("sentiment", pa.large_string()),
        ("sentiment_score", pa.float64()),
        ("tenure", pa.large_string()),
        ("is_complaint_log", pa.bool_()),
        ("n_mentions", pa.int64()),
        ("n_pain_points", pa.int64()),
        ("source_file", pa.large_string()),
        ("source_row", pa.int64()),
    ]
)
MENTIONS_SCHEMA = pa.schema(
    [
        ("review_id", pa.large_string()),
        ("category", pa.large_string()),
        ("stage", pa.large_string()),
        ("polarity", pa.large_string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("evidence", pa.large_string()),
        ("rule", pa.large_string()),
        ("confidence", pa.float64()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.large_string()),
        ("source_row", pa.int64()),
        ("reason_code", pa.large_string()),
        ("detail", pa.large_string()),
        ("raw", pa.large_string()),
    ]
)

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------- small file helpers


def file_sha256(path: Path, block: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in blocks so large dumps do not sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temp file in the same folder and a rename."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def dumps_json(obj: Any) -> str:
    """JSON for run records: UTF-8 kept readable, keys sorted so reruns give the same bytes."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=2, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


@contextmanager
def directory_lock(folder: Path, name: str = ".cxtext.lock") -> Iterator[None]:
    """Hold an exclusive lock on `folder` so two runs never write the same place at once.

    The lock is released by the kernel when the process dies, so a killed run never leaves it stuck.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fh = open(folder / name, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"{folder}: another cxtext run is writing here; wait for it to finish") from None
        yield
    finally:
        fh.close()


# --------------------------------------------------------------------------- formula injection


def neutralise_cell(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells cannot start a spreadsheet formula (CSV/Excel exports)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise_cell, na_action="ignore")
    return out


def neutralise_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`neutralise_frame` for an Arrow batch: the same cells prefixed, in Arrow's C++ kernels
    (a per-cell Python map was half the time of a CSV export)."""
    import pyarrow.compute as pc

    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            hit = pc.starts_with(column, FORMULA_PREFIXES[0])
            for prefix in FORMULA_PREFIXES[1:]:
                hit = pc.or_(hit, pc.starts_with(column, prefix))
            column = pc.if_else(hit, pc.utf8_replace_slice(column, start=0, stop=0, replacement="'"), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def parquet_to_csv(src: Path, dest: Path, batch_rows: int = 20_000) -> None:
    """Stream a Parquet file into a UTF-8-with-BOM CSV (Excel opens Chinese correctly), neutralised."""
    pf = pq.ParquetFile(src)
    with CsvSink(dest) as sink:
        sink.start(pf.schema_arrow)
        for batch in pf.iter_batches(batch_size=batch_rows):
            sink.write(batch)


class CsvSink:
    """Append Arrow batches to a UTF-8-with-BOM CSV (Excel opens Chinese correctly), neutralised.

    A run directory feeds it each chunk as the chunk is written to Parquet, so the CSV copies are
    ready when tagging ends instead of being converted from Parquet afterwards, while one core
    would wait (with two workers that conversion was a tenth of a run's wall time)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None
        self._names: list[str] | None = None
        self._header_due = True

    def start(self, schema: pa.Schema) -> None:
        """Open the file for rows of `schema` (its header is written with the first rows)."""
        if self._fh is None:
            self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")
            # Passthrough column names come from the input file, so the header row is neutralised too.
            self._names = [neutralise_cell(name) for name in schema.names]

    @property
    def started(self) -> bool:
        """True once the file is open (rows or a schema were given)."""
        return self._fh is not None or not self._header_due

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        self.start(data.schema)
        for batch in data.to_batches() if isinstance(data, pa.Table) else [data]:
            if batch.num_rows:
                neutralise_batch(batch).to_pandas().to_csv(
                    self._fh, index=False, header=self._names if self._header_due else False)
                self._header_due = False

    def close(self) -> None:
        if self._fh is None:
            return
        if self._header_due:  # no rows: still write the header
            pd.DataFrame(columns=self._names).to_csv(self._fh, index=False)
            self._header_due = False
        self._fh.close()
        self._fh = None

    def __enter__(self) -> "CsvSink":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------- streaming Parquet


def frame_to_table(df: pd.DataFrame, schema: pa.Schema | None = None) -> pa.Table:
    """A DataFrame as an Arrow table; with `schema`, exactly those columns in that order and type.

    Passthrough columns that mix types (numbers and text in one column) become text rather than
    failing the run.
    """
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fixed = df.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                fixed[col] = fixed[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        table = pa.Table.from_pandas(fixed, preserve_index=False)
    table = table.replace_schema_metadata(None)
    if schema is None:
        return table
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"missing columns {missing}; have {table.column_names}")
    return table.select(schema.names).cast(schema)


class ParquetSink:
    """Append DataFrames to one Parquet file, chunk by chunk, so memory does not grow with the dump.

    With a fixed `schema` every chunk is cast to it. Without one (reviews, whose passthrough
    columns differ between input files) a chunk whose columns differ from the previous one starts a
    new part; `close()` merges the parts into one file with the union of columns, streaming.
    """

    def __init__(self, path: Path, schema: pa.Schema | None = None, empty_schema: pa.Schema | None = None):
        self.path = Path(path)
        self.schema = schema
        self.empty_schema = empty_schema or schema
        self.rows = 0
        self._parts: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._part_schema: pa.Schema | None = None
        self._closed = False

    def write(self, df: pd.DataFrame) -> pa.Table | None:
        """Append the rows of `df` (nothing happens for an empty frame); returns them as written."""
        if len(df) == 0:
            return None
        table = frame_to_table(df, self.schema)
        if self._writer is None or not table.schema.equals(self._part_schema):
            self._open_part(table.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows
        return table

    @property
    def parts(self) -> int:
        """Parts opened so far: more than one when the columns changed between chunks."""
        return len(self._parts)

    def _open_part(self, schema: pa.Schema) -> None:
        if self._writer is not None:
            self._writer.close()
        part = self.path.with_name(f"{self.path.name}.part{len(self._parts)}")
        self._parts.append(part)
        self._writer = pq.ParquetWriter(part, schema, compression="zstd")
        self._part_schema = schema

    def close(self) -> int:
        """Finish the file at `path` and return its row count; closing again changes nothing
        (a retried warehouse load closes its staged sinks a second time)."""
        if self._closed:
            return self.rows
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if not self._parts:
            pq.write_table((self.empty_schema or REVIEWS_SCHEMA).empty_table(), self.path)
        elif len(self._parts) == 1:
            os.replace(self._parts[0], self.path)
        else:
            _merge_parts(self._parts, self.path)
        self._closed = True
        return self.rows


def _union_schema(schemas: list[pa.Schema]) -> pa.Schema:
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fields: dict[str, pa.DataType] = {}
        for schema in schemas:
            for field in schema:
                seen = fields.get(field.name)
                if seen is None or pa.types.is_null(seen):
                    fields[field.name] = field.type
                elif seen != field.type and not pa.types.is_null(field.type):
                    fields[field.name] = pa.large_string()  # irreconcilable types: keep as text
        return pa.schema(list(fields.items()))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _merge_parts(parts: list[Path], dest: Path) -> None:
    schema = _union_schema([pq.read_schema(p) for p in parts])
    with pq.ParquetWriter(dest, schema, compression="zstd") as writer:
        for part in parts:
            pf = pq.ParquetFile(part)
            for group in range(pf.num_row_groups):
                writer.write_table(_conform(pf.read_row_group(group), schema))
    for part in parts:
        part.unlink()


# --------------------------------------------------------------------------- run directory


class RunDir:
    """A run directory being written: sinks in a staging folder, committed by renames.

    Use: `stage = RunDir(out, run_id)`, `stage.add(reviews, mentions, quarantine)` per chunk,
    `stage.commit(run_info)` at the end. Nothing in `out` changes before `commit`.
    """

    def __init__(self, out_dir: Path, run_id: str, csv: bool = True):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        clear_stale_staging(self.out_dir)
        self.staging = self.out_dir / f"{STAGING_PREFIX}{run_id}"
        self.staging.mkdir()
        self.reviews = ParquetSink(self.staging / "reviews.parquet", empty_schema=REVIEWS_SCHEMA)
        self.mentions = ParquetSink(self.staging / "mentions.parquet", MENTIONS_SCHEMA)
        self.quarantine = ParquetSink(self.staging / "quarantine.parquet", QUARANTINE_SCHEMA)
        # CSV copies written chunk by chunk beside the Parquet files; a copy whose Parquet file
        # changed columns midway (input files with different passthrough columns) is dropped and
        # converted from the merged Parquet file at commit instead.
        self.csv = csv
        self._csv: dict[str, CsvSink | None] = (
            {name: CsvSink(self.staging / name) for name in CSV_FILES} if csv else {})

    def add(self, reviews: pd.DataFrame, mentions: pd.DataFrame, quarantine: pd.DataFrame) -> None:
        """Append one chunk's results."""
        self._copy_to_csv("reviews.csv", self.reviews, self.reviews.write(reviews))
        self._copy_to_csv("mentions.csv", self.mentions, self.mentions.write(mentions))
        self.quarantine.write(quarantine)

    def _copy_to_csv(self, name: str, sink: ParquetSink, table: pa.Table | None) -> None:
        csv = self._csv.get(name)
        if csv is None or table is None:
            return
        if sink.parts > 1:
            csv.close()
            self._csv[name] = None
            return
        csv.write(table)

    def close_sinks(self) -> dict[str, int]:
        """Finish the staged Parquet files; returns their row counts."""
        return {
            "reviews.parquet": self.reviews.close(),
            "mentions.parquet": self.mentions.close(),
            "quarantine.parquet": self.quarantine.close(),
        }

    def _close_csv_copies(self) -> None:
        for sink in self._csv.values():
            if sink is not None:
                sink.close()

    def commit(self, run_info: dict[str, Any], csv: bool | None = None) -> dict[str, Any]:
        """Move the staged files into the run directory; `run.json` goes last.

        Returns `run_info` with an `outputs` entry (rows, bytes and sha256 of every file).
        """
        csv = self.csv if csv is None else csv
        rows = self.close_sinks()
        self._close_csv_copies()
        for name in CSV_FILES if csv else ():
            written = self._csv.get(name)
            if written is None or not written.started:  # not written chunk by chunk: convert
                parquet_to_csv(self.staging / name.replace(".csv", ".parquet"), self.staging / name)
        names = list(RUN_FILES) + (list(CSV_FILES) if csv else [])
        run_info = dict(run_info)
        run_info["outputs"] = {
            name: {
                "rows": rows.get(name, rows.get(name.replace(".csv", ".parquet"))),
                "bytes": (self.staging / name).stat().st_size,
                "sha256": file_sha256(self.staging / name),
            }
            for name in names
        }
        (self.staging / "run.json").write_text(dumps_json(run_info), encoding="utf-8")
        self._swap_in(names)
        return run_info

    def _swap_in(self, names: list[str]) -> None:
        # Without run.json the folder reads as "unfinished" while files are being replaced.
        for stale in ("run.json", *REPORT_FILES, *CSV_FILES):
            (self.out_dir / stale).unlink(missing_ok=True)
        _fsync_dir(self.out_dir)
        for name in names:
            os.replace(self.staging / name, self.out_dir / name)
        _fsync_dir(self.out_dir)
        os.replace(self.staging / "run.json", self.out_dir / "run.json")
        _fsync_dir(self.out_dir)
        shutil.rmtree(self.staging, ignore_errors=True)

    def abandon(self) -> None:
        """Drop the staging folder (after an error); the run directory is left as it was."""
        self._close_csv_copies()
        shutil.rmtree(self.staging, ignore_errors=True)


def clear_stale_staging(folder: Path) -> None:
    """Remove staging folders left by runs that were killed (callers hold the folder's lock)."""
    for child in folder.glob(f"{STAGING_PREFIX}*"):
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


def verify_run_dir(out_dir: Path) -> list[str]:
    """Problems with a run directory: missing run.json, or files that do not match what it records.

    An empty list means the directory holds one complete run.
    """
    out_dir = Path(out_dir)
    manifest = out_dir / "run.json"
    if not manifest.exists():
        return [f"{manifest}: missing (the run did not finish)"]
    info = json.loads(manifest.read_text(encoding="utf-8"))
    problems = []
    for name, meta in info.get("outputs", {}).items():
        path = out_dir / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif file_sha256(path) != meta["sha256"]:
            problems.append(f"{path}: sha256 differs from run.json")
    return problems


def read_table(path: Path) -> pd.DataFrame:
    """Read one output Parquet file into pandas."""
    return pq.read_table(path).to_pandas()


# --------------------------------------------------------------------------- warehouse

WAREHOUSE_DDL = """
CREATE TABLE IF NOT EXISTS reviews (
    content_hash     VARCHAR PRIMARY KEY,
    review_id        VARCHAR NOT NULL,
    text             VARCHAR NOT NULL,
    text_norm        VARCHAR,
    sentiment        VARCHAR,
    sentiment_score  DOUBLE,
    tenure           VARCHAR,
    is_complaint_log BOOLEAN,
    n_mentions       BIGINT,
    n_pain_points    BIGINT,
    source_file      VARCHAR,
    source_row       BIGINT,
    extra            VARCHAR,
    resources_hash   VARCHAR,
    lexicon_sha256   VARCHAR,
    model_sha256     VARCHAR,
    run_id           VARCHAR,
    run_seq          BIGINT
);
CREATE TABLE IF NOT EXISTS mentions (
    content_hash VARCHAR NOT NULL,
    review_id    VARCHAR NOT NULL,
    category     VARCHAR,
    stage        VARCHAR,
    polarity     VARCHAR,
    "start"      BIGINT,
    "end"        BIGINT,
    evidence     VARCHAR,
    rule         VARCHAR,
    confidence   DOUBLE,
    run_id       VARCHAR
);
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_hash VARCHAR PRIMARY KEY,
    source_file     VARCHAR,
    source_row      BIGINT,
    reason_code     VARCHAR,
    detail          VARCHAR,
    raw             VARCHAR,
    run_id          VARCHAR
);
CREATE TABLE IF NOT EXISTS input_files (
    sha256    VARCHAR PRIMARY KEY,
    path      VARCHAR,
    size      BIGINT,
    encoding  VARCHAR,
    format    VARCHAR,
    rows_read BIGINT,
    run_id    VARCHAR
);
CREATE TABLE IF NOT EXISTS runs (
    run_id             VARCHAR PRIMARY KEY,
    kind               VARCHAR,
    started_at         VARCHAR,
    finished_at        VARCHAR,
    rows_read          BIGINT,
    rows_tagged        BIGINT,
    rows_quarantined   BIGINT,
    rows_known         BIGINT,
    reviews_added      BIGINT,
    mentions_added     BIGINT,
    quarantine_added   BIGINT,
    reviews_retagged   BIGINT,
    resources_hash     VARCHAR,
    summary            VARCHAR
);
"""

WAREHOUSE_REVIEWS_SCHEMA = pa.schema(
    [
        ("content_hash", pa.large_string()),
        ("review_id", pa.large_string()),
        ("text", pa.large_string()),
        ("text_norm", pa.large_string()),
        ("sentiment", pa.large_string()),
        ("sentiment_score", pa.float64()),
        ("tenure", pa.large_string()),
        ("is_complaint_log", pa.bool_()),
        ("n_mentions", pa.int64()),
        ("n_pain_points", pa.int64()),
        ("source_file", pa.large_string()),
        ("source_row", pa.int64()),
        ("extra", pa.large_string()),
        ("resources_hash", pa.large_string()),
        ("lexicon_sha256", pa.large_string()),
        ("model_sha256", pa.large_string()),
        ("run_seq", pa.int64()),
    ]
)
WAREHOUSE_MENTIONS_SCHEMA = pa.schema([("content_hash", pa.large_string())] + list(MENTIONS_SCHEMA))
WAREHOUSE_QUARANTINE_SCHEMA = pa.schema([("quarantine_hash", pa.large_string())] + list(QUARANTINE_SCHEMA))

# Columns of the tagged reviews frame that have their own warehouse column; the rest go to `extra`.
_REVIEW_OWN = {"review_id", "text", "text_norm", "sentiment", "sentiment_score", "tenure",
               "is_complaint_log", "n_mentions", "n_pain_points", "source_file", "source_row"}
# Columns the tagger adds that are not guaranteed by the contract (filled with nulls when absent).
_REVIEW_OPTIONAL = ("tenure", "is_complaint_log", "n_mentions", "n_pain_points")


def content_hash(review_id: str, text: str) -> str:
    """The identity of a record in the warehouse: sha256 over its id and its original text."""
    return hashlib.sha256(f"{review_id}\x1f{text}".encode("utf-8")).hexdigest()


def content_hashes(records: pd.DataFrame) -> list[str]:
    """`content_hash` of every row of a records/reviews frame, in order."""
    return [content_hash(str(i), str(t)) for i, t in zip(records["review_id"], records["text"])]


def quarantine_hashes(quarantine: pd.DataFrame) -> list[str]:
    """Identity of quarantined rows: file, row, reason and what was read."""
    cols = [quarantine[c].astype(str) for c in ("source_file", "source_row", "reason_code", "raw")]
    return [hashlib.sha256("\x1f".join(vals).encode("utf-8")).hexdigest() for vals in zip(*cols)]


_MACHINE_KEYS = frozenset({"directory", "path"})


def _portable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items() if k not in _MACHINE_KEYS}
    return value


def resources_hash(manifest: dict[str, Any]) -> str:
    """sha256 of a Resources manifest (lexicon and model versions and hashes), canonical JSON.

    Where the files sit (`directory`, `path`) is left out: moving the project must not make every
    stored row look stale to --retag.
    """
    canonical = json.dumps(_portable(manifest), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def manifest_sha(manifest: dict[str, Any], *keys: str) -> str | None:
    """The `sha256` recorded under the first of `keys` present in a manifest, if any."""
    for key in keys:
        entry = manifest.get(key)
        if isinstance(entry, dict) and entry.get("sha256"):
            return str(entry["sha256"])
    return None


def _clean_json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def warehouse_reviews(reviews: pd.DataFrame, manifest: dict[str, Any], seq_start: int) -> pd.DataFrame:
    """A tagged reviews chunk in warehouse shape: own columns, passthrough as JSON in `extra`."""
    extra_cols = [c for c in reviews.columns if c not in _REVIEW_OWN]
    extras = reviews[extra_cols].to_dict(orient="records") if extra_cols else [{}] * len(reviews)
    n = len(reviews)
    return pd.DataFrame(
        {
            "content_hash": content_hashes(reviews),
            "review_id": reviews["review_id"].astype(str).tolist(),
            "text": reviews["text"].astype(str).tolist(),
            "text_norm": reviews["text_norm"].tolist(),
            "sentiment": reviews["sentiment"].tolist(),
            "sentiment_score": reviews["sentiment_score"].astype(float).tolist(),
            **{c: reviews[c].tolist() if c in reviews else [None] * n for c in _REVIEW_OPTIONAL},
            "source_file": reviews["source_file"].astype(str).tolist(),
            "source_row": reviews["source_row"].astype("int64").tolist(),
            "extra": [
                json.dumps({k: _clean_json_value(v) for k, v in row.items()}, ensure_ascii=False, default=str)
                for row in extras
            ],
            "resources_hash": [resources_hash(manifest)] * n,
            "lexicon_sha256": [manifest_sha(manifest, "lexicon", "lexicons")] * n,
            "model_sha256": [manifest_sha(manifest, "model", "sentiment")] * n,
            "run_seq": list(range(seq_start, seq_start + n)),
        }
    )


def warehouse_mentions(mentions: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """Mentions with the `content_hash` of their review (joined on review_id within the chunk)."""
    by_id = dict(zip(reviews["review_id"].astype(str), content_hashes(reviews)))
    out = mentions[list(MENTIONS_SCHEMA.names)].copy()
    out.insert(0, "content_hash", out["review_id"].astype(str).map(by_id))
    return out


def warehouse_quarantine(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows with their identity hash."""
    out = quarantine[list(QUARANTINE_SCHEMA.names)].copy()
    out.insert(0, "quarantine_hash", quarantine_hashes(out) if len(out) else [])
    return out


def records_from_warehouse(rows: pd.DataFrame) -> pd.DataFrame:
    """Stored reviews back into a records frame (id, text, source, passthrough) for re-tagging."""
    base = rows[["review_id", "text", "source_file", "source_row"]].reset_index(drop=True)
    extras = pd.DataFrame([json.loads(e) if e else {} for e in rows["extra"]])
    extras = extras.drop(columns=[c for c in extras.columns if c in base.columns])
    return pd.concat([base, extras], axis=1) if len(extras.columns) else base


class WarehouseStage:
    """Warehouse-shaped Parquet files for one run, loaded into DuckDB in one transaction at commit."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.reviews = ParquetSink(self.folder / "wh_reviews.parquet", WAREHOUSE_REVIEWS_SCHEMA)
        self.mentions = ParquetSink(self.folder / "wh_mentions.parquet", WAREHOUSE_MENTIONS_SCHEMA)
        self.quarantine = ParquetSink(self.folder / "wh_quarantine.parquet", WAREHOUSE_QUARANTINE_SCHEMA)
        self.seq = 0

    def add(self, reviews: pd.DataFrame, mentions: pd.DataFrame, quarantine: pd.DataFrame,
            manifest: dict[str, Any]) -> None:
        """Append one chunk's results in warehouse shape."""
        self.reviews.write(warehouse_reviews(reviews, manifest, self.seq))
        self.mentions.write(warehouse_mentions(mentions, reviews))
        self.quarantine.write(warehouse_quarantine(quarantine))
        self.seq += len(reviews)

    def close(self) -> dict[str, Path]:
        """Finish the staged files; returns their paths by table."""
        for sink in (self.reviews, self.mentions, self.quarantine):
            sink.close()
        return {"reviews": self.reviews.path, "mentions": self.mentions.path, "quarantine": self.quarantine.path}


class Warehouse:
    """The DuckDB warehouse: tables reviews, mentions, quarantine, input_files, runs.

    Opening it takes DuckDB's file lock, so one writer at a time; each run goes in with `commit_run`
    (or `commit_retag`) as one transaction.
    """

    def __init__(self, path: Path):
        import duckdb  # imported here so plain runs without a warehouse do not load it

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            raise RuntimeError(f"{self.path}: cannot open the warehouse ({exc})") from exc
        try:
            self.con.execute(WAREHOUSE_DDL)
        except BaseException as exc:
            # The caller never gets this object, so nobody else could close the connection: left
            # open, it would keep the file locked for the rest of the process.
            self.con.close()
            if isinstance(exc, duckdb.Error):
                raise RuntimeError(f"{self.path}: cannot create the warehouse tables ({exc})") from exc
            raise

    def close(self) -> None:
        """Close the connection (and release the file lock)."""
        self.con.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def staging_root(self) -> Path:
        """Folder beside the warehouse file for the Parquet staged by runs."""
        return self.path.parent / f".{self.path.name}.staging"

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query and return the whole result as a DataFrame."""
        return self.con.execute(sql, params or []).fetch_df()

    def count(self, table: str) -> int:
        """Number of rows in one of the warehouse tables."""
        if table not in ("reviews", "mentions", "quarantine", "input_files", "runs"):
            raise ValueError(f"unknown warehouse table {table!r}")
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def _with_probe(self, probe: pd.DataFrame, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run `sql` with `probe` visible as table `_probe`; the result is fetched in full."""
        self.con.register("_probe", probe)
        try:
            return self.con.execute(sql, params or []).fetch_df()
        finally:
            self.con.unregister("_probe")

    def known_files(self, sha256s: Iterable[str]) -> set[str]:
        """Which of these file hashes were loaded by an earlier run."""
        found = self._with_probe(
            pd.DataFrame({"sha256": list(sha256s)}, dtype=object),
            "SELECT sha256 FROM input_files WHERE sha256 IN (SELECT sha256 FROM _probe)",
        )
        return set(found["sha256"])

    def known_reviews(self, hashes: list[str]) -> set[str]:
        """Which of these content hashes are already stored."""
        found = self._with_probe(
            pd.DataFrame({"content_hash": hashes}, dtype=object),
            "SELECT content_hash FROM reviews WHERE content_hash IN (SELECT content_hash FROM _probe)",
        )
        return set(found["content_hash"])

    def stale_reviews(self, current_hash: str) -> list[str]:
        """Content hashes of stored reviews tagged with other lexicons or models than `current_hash`."""
        rows = self.con.execute(
            "SELECT content_hash FROM reviews WHERE resources_hash IS DISTINCT FROM ? ORDER BY content_hash",
            [current_hash],
        ).fetchall()
        return [r[0] for r in rows]

    def fetch_reviews(self, hashes: list[str]) -> pd.DataFrame:
        """Stored review rows for these content hashes, in the given order."""
        return self._with_probe(
            pd.DataFrame({"content_hash": hashes, "_order": range(len(hashes))}),
            "SELECT r.* FROM reviews r JOIN _probe p USING (content_hash) ORDER BY p._order",
        )

    def commit_run(self, staged: dict[str, Path], run: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, int]:
        """Load one run's staged Parquet in a single transaction; rows already stored are skipped.

        Returns the numbers of rows added per table.
        """
        run_id = run["run_id"]
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            added = {
                "reviews": self._insert_reviews(staged["reviews"], run_id),
                "mentions": self._insert_mentions(staged["mentions"], run_id),
                "quarantine": self._insert_quarantine(staged["quarantine"], run_id),
            }
            self._insert_files(files, run_id)
            self._insert_run(run, added, retagged=0)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return added

    def _insert_reviews(self, path: Path, run_id: str) -> int:
        cols = ", ".join(WAREHOUSE_REVIEWS_SCHEMA.names)
        return self._rowcount(
            f"""INSERT INTO reviews ({cols}, run_id)
                SELECT {cols}, ? FROM (
                    SELECT * FROM read_parquet(?)
                    QUALIFY row_number() OVER (PARTITION BY content_hash ORDER BY run_seq) = 1)
                ON CONFLICT DO NOTHING""",
            [run_id, str(path)],
        )

    def _insert_mentions(self, path: Path, run_id: str) -> int:
        # Only mentions of reviews this run added; DISTINCT because a review repeated in one run
        # (same id, same text) yields the same mentions twice.
        cols = ", ".join(f'"{c}"' for c in WAREHOUSE_MENTIONS_SCHEMA.names)
        return self._rowcount(
            f"""INSERT INTO mentions ({cols}, run_id)
                SELECT DISTINCT {cols}, ? FROM read_parquet(?)
                WHERE content_hash IN (SELECT content_hash FROM reviews WHERE run_id = ?)""",
            [run_id, str(path), run_id],
        )

    def _insert_quarantine(self, path: Path, run_id: str) -> int:
        cols = ", ".join(WAREHOUSE_QUARANTINE_SCHEMA.names)
        return self._rowcount(
            f"""INSERT INTO quarantine ({cols}, run_id)
                SELECT {cols}, ? FROM (
                    SELECT * FROM read_parquet(?)
                    QUALIFY row_number() OVER (PARTITION BY quarantine_hash ORDER BY source_row) = 1)
                ON CONFLICT DO NOTHING""",
            [run_id, str(path)],
        )

    def _insert_files(self, files: list[dict[str, Any]], run_id: str) -> None:
        # Only files read without a file-level error: one that failed (say, a permission problem)
        # is read again by the next run rather than skipped forever.
        for f in files:
            if not f.get("sha256") or f.get("error"):
                continue
            self.con.execute(
                "INSERT INTO input_files VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [f.get("sha256"), str(f.get("path")), f.get("size"), f.get("encoding"), f.get("format"),
                 f.get("rows_read"), run_id],
            ).fetchall()

    def _insert_run(self, run: dict[str, Any], added: dict[str, int], retagged: int) -> None:
        counts = {k: run.get(k) or 0 for k in ("rows_read", "rows_tagged", "rows_quarantined", "rows_known")}
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run["run_id"], run.get("kind"), run.get("started_at"), run.get("finished_at"),
             counts.get("rows_read", 0), counts.get("rows_tagged", 0), counts.get("rows_quarantined", 0),
             counts.get("rows_known", 0), added.get("reviews", 0), added.get("mentions", 0),
             added.get("quarantine", 0), retagged, run.get("resources_hash"), dumps_json(run)],
        ).fetchall()

    def _rowcount(self, sql: str, params: list[Any]) -> int:
        row = self.con.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def commit_retag(self, staged: dict[str, Path], run: dict[str, Any]) -> int:
        """Replace the tagging of stored reviews with the staged re-tagging, in one transaction.

        Text, ids and sources stay; text_norm, sentiment, hashes and all their mentions are replaced.
        Returns the number of reviews re-tagged.
        """
        run_id = run["run_id"]
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE TEMP TABLE _retag AS SELECT * FROM read_parquet(?)", [str(staged["reviews"])])
            con.execute("DELETE FROM mentions WHERE content_hash IN (SELECT content_hash FROM _retag)").fetchall()
            n = self._rowcount(
                """UPDATE reviews SET text_norm = s.text_norm, sentiment = s.sentiment,
                       sentiment_score = s.sentiment_score, tenure = s.tenure,
                       is_complaint_log = s.is_complaint_log, n_mentions = s.n_mentions,
                       n_pain_points = s.n_pain_points, resources_hash = s.resources_hash,
                       lexicon_sha256 = s.lexicon_sha256, model_sha256 = s.model_sha256, run_id = ?
                   FROM _retag s WHERE reviews.content_hash = s.content_hash""",
                [run_id],
            )
            mentions = self._insert_mentions(staged["mentions"], run_id)
            con.execute("DROP TABLE _retag")
            self._insert_run(run, {"mentions": mentions}, retagged=n)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return n
