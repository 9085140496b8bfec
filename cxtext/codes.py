"""Quarantine reason codes: why an input record (or a whole input file) was not tagged.

Every row of `quarantine.parquet` carries one of these codes in `reason_code`. They are stable:
analysts filter on them and `run.json` counts by them, so a code is never renamed or given a new
meaning; new codes may be added. `docs/ingestion.md` explains each one with an example.

Row-level codes describe one record; file-level codes describe a file that yielded no records
(its quarantine row has `source_row == 0` and counts as one row read, so that
`rows_read == rows_tagged + rows_quarantined` holds for every run).
"""
from __future__ import annotations

__all__ = [
    "EMPTY_TEXT", "DECODE_ERROR", "TOO_LONG", "DUPLICATE", "MALFORMED_ROW", "NO_TEXT_COLUMN",
    "NO_ID_COLUMN", "BINARY_FILE", "EMPTY_FILE", "UNREADABLE_FILE", "UNSUPPORTED_FORMAT",
    "REASONS", "ROW_LEVEL", "FILE_LEVEL", "describe",
]

# --- row level ------------------------------------------------------------------------------
EMPTY_TEXT = "EMPTY_TEXT"
DECODE_ERROR = "DECODE_ERROR"
TOO_LONG = "TOO_LONG"
DUPLICATE = "DUPLICATE"
MALFORMED_ROW = "MALFORMED_ROW"
NO_TEXT_COLUMN = "NO_TEXT_COLUMN"
NO_ID_COLUMN = "NO_ID_COLUMN"

# --- file level -----------------------------------------------------------------------------
BINARY_FILE = "BINARY_FILE"
EMPTY_FILE = "EMPTY_FILE"
UNREADABLE_FILE = "UNREADABLE_FILE"
UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"

REASONS: dict[str, str] = {
    EMPTY_TEXT: "the text is missing, empty or only whitespace",
    DECODE_ERROR: "the row holds bytes that are not valid in the file's detected encoding",
    TOO_LONG: "the text is longer than the configured limit (max_text_chars, default 20000)",
    DUPLICATE: "a record with the same review_id and the same text was already read in this run",
    MALFORMED_ROW: "the row cannot be parsed: invalid JSON, not a JSON object, or more fields than the header",
    NO_TEXT_COLUMN: "the file (or this JSON object) has no text column; the detail lists the columns it has",
    NO_ID_COLUMN: "--id-col names a column this file (or this JSON object) does not have",
    BINARY_FILE: "the file is not text (NUL bytes, an image, archive or other binary signature)",
    EMPTY_FILE: "the file holds no records (zero bytes, only whitespace, or a header without rows)",
    UNREADABLE_FILE: "the file cannot be opened or parsed (permissions, corrupt workbook or Parquet, I/O error)",
    UNSUPPORTED_FORMAT: "the file's extension is not one cxtext reads",
}

ROW_LEVEL = frozenset({EMPTY_TEXT, DECODE_ERROR, TOO_LONG, DUPLICATE, MALFORMED_ROW, NO_TEXT_COLUMN, NO_ID_COLUMN})
FILE_LEVEL = frozenset({BINARY_FILE, EMPTY_FILE, UNREADABLE_FILE, UNSUPPORTED_FORMAT})


def describe(code: str) -> str:
    """One line explaining a reason code; raises KeyError naming the code when it is unknown."""
    try:
        return REASONS[code]
    except KeyError:
        raise KeyError(f"unknown quarantine reason code {code!r}; known: {sorted(REASONS)}") from None
