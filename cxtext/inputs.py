"""Which files a run reads: the inputs expanded by the rules of docs/ingestion.md, and their size.

Light on purpose (no pandas, NumPy or tagger): `cxtext.workers` sizes the inputs with it for
`--workers 0` before the command imports the rest, and the run's own count must be the same.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "txt", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".json": "json", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet",
}


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def plan_inputs(inputs: Sequence[str | Path]) -> list[tuple[Path, str | None]]:
    """Every file to read, in a deterministic order, paired with None or a reason it is skipped.

    Files named explicitly are always read (an unknown extension becomes an UNSUPPORTED_FORMAT
    quarantine row). Folders are walked recursively in sorted order; hidden files and folders
    are left out, and files with an unknown extension are listed as skipped (they appear in
    `Ingestor.files` with rows_read 0, never in the row counts). Raises FileNotFoundError naming
    the first input path that does not exist.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    planned: list[tuple[Path, str | None]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for sub in sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)):
                known = sub.suffix.lower() in FORMATS
                planned.append((sub, None if known else f"skipped inside folder {path}: unknown extension {sub.suffix!r}"))
        elif path.exists():
            planned.append((path, None))
        else:
            raise FileNotFoundError(f"input not found: {item}")
    return planned


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files and folders expanded to the files that will be read (recursive, sorted, no hidden
    files, folders' unknown extensions left out); raises FileNotFoundError for a missing input."""
    return [path for path, skip in plan_inputs(inputs) if skip is None]


def total_size(files: Iterable[str | Path]) -> int:
    """Bytes in `files` (as listed by `expand_inputs`)."""
    return sum(Path(f).stat().st_size for f in files)
