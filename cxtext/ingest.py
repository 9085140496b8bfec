"""Read review files into records plus a quarantine table, in bounded chunks.

Inputs are CSV, TSV, TXT (tab or comma, sniffed), JSONL/NDJSON, JSON arrays, XLSX and Parquet
files, or folders of them. Each file's encoding is detected (UTF-8, UTF-8 with BOM, UTF-16 with
BOM, GB18030/GBK, Big5), its text and id columns are found by name (Chinese or English) unless the
caller names them, and every row becomes either a record or a quarantine row with a reason code
from `cxtext.codes`. Nothing read from a file is executed or used as a path.

Memory stays bounded: files are read as streams (csv reader over a decoding text stream, JSONL
line by line, openpyxl read-only rows, Parquet record batches) and `Ingestor.iter_chunks` yields
an `IngestChunk` every `chunk_rows` rows. Duplicate detection across the run keeps only 8-byte
hashes. See docs/ingestion.md for the rules and their reasons.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import hashlib
import itertools
import json
import logging
import math
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from cxtext import codes
from cxtext.inputs import FORMATS, expand_inputs, plan_inputs

log = logging.getLogger("cxtext.ingest")

__all__ = [
    "IngestChunk", "Ingestor", "expand_inputs", "plan_inputs", "detect_encoding",
    "canonical_column", "find_text_column", "find_id_column",
    "RECORD_COLUMNS", "QUARANTINE_COLUMNS", "FORMATS",
]

RECORD_COLUMNS = ("review_id", "text", "source_file", "source_row")
QUARANTINE_COLUMNS = ("source_file", "source_row", "reason_code", "detail", "raw")
# Columns the tagger adds to records; a passthrough column with one of these names is renamed
# to "input_<name>" so it can never overwrite an output column.
# (n_mentions and n_pain_points too: a reviews.csv of an earlier run, fed back in, has them.)
RESERVED_COLUMNS = frozenset(RECORD_COLUMNS + (
    "text_norm", "sentiment", "sentiment_score", "tenure", "is_complaint_log", "n_mentions",
    "n_pain_points"))
RAW_MAX_CHARS = 2000            # quarantine `raw` is truncated so the table stays small
CSV_FIELD_LIMIT = 64 << 20      # one CSV field larger than this is a MALFORMED_ROW
JSON_ARRAY_MAX_BYTES = 256 << 20  # a .json array is parsed whole; larger ones must be JSONL
_SAMPLE_BYTES = 256 << 10       # bytes of non-ASCII content used to choose an encoding
_HEAD_BYTES = 8192

# --- column names ----------------------------------------------------------------------------

TEXT_COLUMN_NAMES = (
    "text", "review", "reviewtext", "reviewbody", "content", "comment", "comments", "body",
    "message", "feedback",
    "评论", "评论内容", "評論", "評論內容", "内容", "內容", "评价内容", "評價內容", "评价", "評價",
    "留言", "留言内容", "工单内容", "工單內容", "投诉内容", "投訴內容", "对话", "對話", "对话内容",
    "對話內容", "文本", "反馈", "反馈内容", "意见", "问题描述", "描述", "备注", "備註",
)
ID_COLUMN_NAMES = (
    "reviewid", "id", "commentid", "评论id", "評論id", "评价id", "評價id", "评论编号", "評論編號",
    "评价编号", "評價編號", "编号", "編號",
    "工单号", "工單號", "工单编号", "投诉编号", "订单号", "訂單號", "序号", "序號",
    # exports of ticketing and order systems name their key in English (ticket_id, order_no)
    "ticketid", "ticketno", "caseid", "工单id", "工單id", "orderid", "orderno", "订单编号", "訂單編號",
)
_CANONICAL = {
    "store": ("store", "shop", "门店", "門店", "店铺", "店鋪", "门店名称", "店名", "商家"),
    "rating": ("rating", "score", "stars", "star", "评分", "評分", "星级", "星級", "打分", "评星"),
    "created_at": ("createdat", "date", "time", "datetime", "timestamp", "时间", "時間", "日期",
                   "评论时间", "評論時間", "评价时间", "創建時間", "创建时间", "提交时间"),
    "channel": ("channel", "platform", "source", "渠道", "平台", "来源", "來源"),
}
_CANONICAL_LOOKUP = {name: canon for canon, names in _CANONICAL.items() for name in names}
_NAME_JUNK = re.compile(r"[\s_\-\ufeff\u3000]+")


def _fold_name(name: str) -> str:
    """Column name folded for matching: no spaces, underscores, hyphens or BOM; lower case."""
    return _NAME_JUNK.sub("", str(name)).lower()


# Second tier for text columns: a name holding one of these words (顾客评价, 用户评论内容,
# customer_comment) unless it ends like a time, score, id or other non-text field (评价时间).
_TEXT_WORDS = ("评论", "評論", "评价", "評價", "内容", "內容", "留言", "反馈", "review", "comment")
_NOT_TEXT_ENDINGS = ("时间", "時間", "日期", "星级", "星級", "评分", "評分", "分数", "分", "id", "编号",
                     "編號", "号", "號", "人", "数", "數", "类型", "類型", "状态", "狀態", "渠道",
                     "time", "date", "score", "rating", "count", "type", "status", "at", "no")
# A column of the business's answers is never the review text, whatever else its name holds
# (商家回复内容 before 用户评论 in a platform export).
_REPLY_WORDS = ("回复", "回覆", "答复", "答覆", "回评", "商家", "店家", "商户", "reply", "response")


def _find_column(columns: Sequence[str], explicit: str | None, candidates: Sequence[str],
                 words: Sequence[str] = ()) -> int | None:
    """Index of the column named `explicit` (exact, then folded), else of the first candidate
    name, else of the first column whose name holds one of `words` (and does not end like a
    time, score or id, nor name the business's replies)."""
    folded = [_fold_name(c) for c in columns]
    if explicit is not None:
        if explicit in columns:
            return list(columns).index(explicit)
        target = _fold_name(explicit)
        return folded.index(target) if target in folded else None
    for cand in candidates:
        if cand in folded:
            return folded.index(cand)
    for i, name in enumerate(folded):
        if (any(w in name for w in words) and not name.endswith(_NOT_TEXT_ENDINGS)
                and not any(w in name for w in _REPLY_WORDS)):
            return i
    return None


def find_text_column(columns: Sequence[str], text_col: str | None = None) -> str | None:
    """The name of the text column among `columns` (by `text_col`, else by known names), or None."""
    i = _find_column(columns, text_col, TEXT_COLUMN_NAMES, _TEXT_WORDS)
    return None if i is None else columns[i]


def find_id_column(columns: Sequence[str], id_col: str | None = None) -> str | None:
    """The name of the id column among `columns` (by `id_col`, else by known names), or None."""
    i = _find_column(columns, id_col, ID_COLUMN_NAMES)
    return None if i is None else columns[i]


def canonical_column(name: str) -> str | None:
    """Canonical name of a well-known passthrough column: 门店→store, 评分/星级→rating,
    时间/日期/评论时间→created_at, 渠道/平台→channel; None when the name is not known."""
    return _CANONICAL_LOOKUP.get(_fold_name(name))


# --- bytes: scanning, binary sniffing, encoding ---------------------------------------------

_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# Frequent characters in reviews, simplified and traditional. A correct decoding of Chinese text
# hits many of them; GBK read as Big5 (or the reverse) yields mostly rare characters.
_COMMON_CHARS = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年"
    "过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心"
    "本前开但因只从想实日点都很太再也就还挺非常特别真吃菜味服务态度环境干净卫生价格贵便宜排队等"
    "预约订房间酒店店员老板客人快慢满意失望推荐下次一般不错喜欢东西质量包装送餐外卖退款投诉问题"
    "這個們來為國說時會對過發後裡麼於著學與還進動現當沒種經從實問題點很貴價格環境乾淨衛生預約訂"
    "間員闆滿意推薦喜歡東質裝餐賣退訴態務"
)
_COMMON_RE = re.compile("[" + re.escape("".join(sorted(set(_COMMON_CHARS)))) + "]")
# cp950 is Big5 as Windows writes it; beyond Python's big5 it has 碁銹裏墻恒粧嫺, € and box
# drawing. It follows big5 so that it only wins (and is recorded) when big5 leaves those bytes
# undecodable; a Big5 file without them still reads, and is recorded, as big5.
_CANDIDATE_ENCODINGS = ("utf-8", "gb18030", "big5", "cp950")
_MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (an .xlsx or .zip renamed?)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\xd0\xcf\x11\xe0", "an OLE file (an old .xls?)"),
    (b"PAR1", "a Parquet file"), (b"\x7fELF", "an executable"), (b"SQLite format 3", "an SQLite database"),
)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class _FileDigest:
    """A file's sha256 (and the size it covers), finished in a thread while the file is parsed.

    The scan hashes the blocks it reads anyway (the head and the encoding sample); the rest of a
    big dump is hashed beside the reading, not before it (about 0.3 s for a 1,000,000-review CSV that
    used to sit in front of the first tagged row). hashlib and file reads release the GIL, so the
    thread does not hold up the parsing. The thread reads through a duplicate of the scan's file
    descriptor, so the hash is of the file that was scanned even if the path is replaced or removed
    meanwhile, and the size recorded is the number of bytes hashed."""

    def __init__(self, path: Path, digest: Any, hashed: int, rest_fd: int | None):
        self._path, self._digest, self._hashed = path, digest, hashed
        self._error: BaseException | None = None
        self._reported = False
        self._complete = rest_fd is None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if rest_fd is not None:
            self._thread = threading.Thread(target=self._finish, args=(rest_fd,), daemon=True,
                                            name=f"sha256 {path.name}")
            self._thread.start()

    def _finish(self, fd: int) -> None:
        try:
            with open(fd, "rb") as fh:
                fh.seek(self._hashed)
                while not self._stop.is_set() and (block := fh.read(1 << 20)):
                    self._digest.update(block)
                    self._hashed += len(block)
            self._complete = not self._stop.is_set()
        except Exception as exc:  # any failure: record no hash rather than the hash of a part
            self._error = exc

    def cancel(self) -> None:
        """Stop hashing (the reading was abandoned): no sha256 will be recorded."""
        self._stop.set()

    def result(self) -> tuple[str | None, int]:
        """(sha256, bytes hashed); the sha256 is None when the file could not be hashed to its end
        (the reason is logged) or the hashing was cancelled."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            if not self._reported:
                log.warning("sha256 of %s not recorded: %s", self._path, self._error)
                self._reported = True
            return None, self._hashed
        return (self._digest.hexdigest() if self._complete else None), self._hashed


@dataclass
class _Scan:
    size: int
    digest: _FileDigest
    head: bytes
    sample: bytes  # up to _SAMPLE_BYTES starting at the first line holding a non-ASCII byte
    stat: os.stat_result | None = None  # of the file hashed, when it was hashed whole


def _scan_file(path: Path, whole: bool = False) -> _Scan:
    """Read a file's head and an encoding sample, hashing what is read; the hash of the rest is
    finished in a thread (see _FileDigest), so a big file is not read twice before parsing.

    `whole`: hash the whole file here, before any row is read, for a caller that decides from the
    hash whether to read the file at all (the inbox skips files the warehouse holds). The rows are
    then read through the path again, so the scan keeps the stat of the file it hashed, for
    `_still_hashed_file`."""
    digest, offset, head, sample = hashlib.sha256(), 0, b"", bytearray()
    found = False
    rest_fd = None
    with open(path, "rb") as fh:
        hashed_file = os.fstat(fh.fileno())
        size = hashed_file.st_size
        while block := fh.read(1 << 20):
            digest.update(block)
            if offset == 0:
                head = block[:_HEAD_BYTES]
            offset += len(block)
            if found and len(sample) < _SAMPLE_BYTES:
                sample += block[: _SAMPLE_BYTES - len(sample)]
            elif not found and not block.isascii():
                first = _NON_ASCII.search(block).start()
                start = block.rfind(b"\n", 0, first) + 1
                sample += block[start : start + _SAMPLE_BYTES]
                found = True
            if found and len(sample) >= _SAMPLE_BYTES and not whole:
                rest_fd = os.dup(fh.fileno())
                break
    return _Scan(max(size, offset), _FileDigest(path, digest, offset, rest_fd), head, bytes(sample),
                 hashed_file if whole else None)


def _still_hashed_file(path: Path, hashed: os.stat_result | None) -> bool:
    """Whether `path` still names the file whose stat was `hashed` when it was opened to be hashed
    whole, unchanged since: same device, inode, size, mtime and ctime (every write changes the
    ctime, and no program can set it back). True when the file was not hashed whole (its hash is
    taken through the descriptor it is read from)."""
    if hashed is None:
        return True
    try:
        now = os.stat(path)
    except OSError:
        return False
    key = lambda st: (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)  # noqa: E731
    return key(now) == key(hashed)


def _binary_reason(head: bytes) -> str | None:
    """Why these first bytes are not a text file, or None when they look like text."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"starts like {what}"
    nul = head.find(b"\x00")
    if nul >= 0:
        return f"NUL byte at offset {nul}"
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if head and controls > len(head) // 10:
        return f"{controls} control bytes in the first {len(head)} bytes"
    return None


def _is_blank(head: bytes, size: int) -> bool:
    return size <= len(head) and not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")


def _is_utf8(sample: bytes) -> bool:
    """Whether `sample` is strictly valid UTF-8 (a character cut at its end allowed). Checked
    before scoring the other candidates: decoding a UTF-8 sample as GB18030 or Big5 meets an error
    every few bytes, and the four decodings cost 0.3-0.7 s before a UTF-8 file's first row."""
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decode_quality(sample: bytes, encoding: str) -> tuple[int, int]:
    """(undecodable bytes, hits on common characters) for `sample` read as `encoding`."""
    text = codecs.getincrementaldecoder(encoding)("surrogateescape").decode(sample, final=False)
    return len(_SURROGATE.findall(text)), len(_COMMON_RE.findall(text))


def detect_encoding(head: bytes, sample: bytes) -> str:
    """The Python codec to read a text file with, from its first bytes and a non-ASCII sample.

    A BOM decides (utf-8-sig, utf-16). Otherwise a strictly valid UTF-8 sample is UTF-8;
    else UTF-8, GB18030 (a superset of GBK), Big5 and cp950 (Windows Big5) are scored by common
    Chinese characters minus three per undecodable byte, ties going to that order. When every
    candidate leaves more than 2% of the sample undecodable, charset-normalizer's guess is tried
    as well.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if not sample or _is_utf8(sample):
        return "utf-8"
    scored = {enc: _decode_quality(sample, enc) for enc in _CANDIDATE_ENCODINGS}
    if min(err for err, _ in scored.values()) > len(sample) // 50:
        guess = _charset_normalizer_guess(sample)
        if guess and guess not in scored:
            scored[guess] = _decode_quality(sample, guess)
    order = list(scored)
    return max(order, key=lambda enc: (scored[enc][1] - 3 * scored[enc][0], -order.index(enc)))


def _charset_normalizer_guess(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return None
    try:
        return codecs.lookup(best.encoding).name
    except LookupError:
        return None


# --- values ----------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    """One input value as the string kept in records (None and NaN become "")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def _printable(text: str) -> str:
    """`text` with undecodable bytes (lone surrogates) shown as \\xNN, so it can be stored."""
    if not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def _clip(text: str) -> str:
    text = _printable(text)
    return text if len(text) <= RAW_MAX_CHARS else text[:RAW_MAX_CHARS] + f"…[{len(text)} chars]"


_BLANK = " \t\r\n\f\v\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff"


# --- readers ---------------------------------------------------------------------------------
# A reader yields rows as plain tuples (cheap: this runs once per input row):
#     (source_row, columns, values, raw, problem)
# columns: tuple of names (shared by all rows of a table); values: list of str, one per column;
# raw: the text read, or None to join the values; problem: (reason code, detail) or None.
# A reader may raise: the file then gets an UNREADABLE_FILE row after the rows it gave.

def _header(cells: Sequence[str]) -> tuple[str, ...]:
    """Column names from a header row: stripped, blanks named column_<n>, repeats suffixed .1, .2."""
    names: list[str] = []
    for i, cell in enumerate(cells, 1):
        name = _printable(cell).strip().lstrip("\ufeff") or f"column_{i}"
        base, k = name, 0
        while name in names:
            k += 1
            name = f"{base}.{k}"
        names.append(name)
    return tuple(names)


def _fit_width(n: int, header: tuple[str, ...], cells: list[str]) -> tuple:
    """A data row fitted to the header: short rows padded, surplus empty cells dropped."""
    if len(cells) < len(header):
        return (n, header, cells + [""] * (len(header) - len(cells)), None, None)
    if any(c.strip() for c in cells[len(header):]):
        return (n, header, cells, None,
                (codes.MALFORMED_ROW, f"row {n} has {len(cells)} fields, the header has {len(header)}"))
    return (n, header, cells[: len(header)], None, None)


HEADER_SEARCH_ROWS = 10  # non-blank rows searched for a header naming the text column


def _is_data(cells: list[str]) -> bool:
    return type(cells) is list and any(map(str.strip, cells))


# How a row names the text column (Ingestor._is_header): not at all, by a name holding a text
# word (顾客评价), or by a known name (评论) or the caller's text_col.
NOT_HEADER, HOLDS_TEXT_WORD, NAMES_TEXT_COLUMN = 0, 1, 2


def _filled(cells: list[str]) -> int:
    return sum(1 for c in cells if c.strip())


def _split_header(rows: Iterator[list[str]], is_header: Callable[[list[str]], int]) -> tuple:
    """(header cells or None, the rows after it). The header is the first of the first
    HEADER_SEARCH_ROWS non-blank rows that names a text column (title lines above it, such as
    a report name or Excel's `sep=,`, are not records); failing that, the first non-blank row.

    A row matched only by a name holding a text word must have more filled cells than every
    row passed over above it: a title line is shorter than the header, while a data row whose
    review happens to hold 评价 or 内容 is as wide as the real header above it (whose rows
    would otherwise vanish uncounted)."""
    seen: list[list[str]] = []
    non_blank = widest_passed = 0
    for cells in rows:
        seen.append(cells)
        if _is_data(cells):
            match = is_header(cells)
            if match == NAMES_TEXT_COLUMN or (match == HOLDS_TEXT_WORD and _filled(cells) > widest_passed):
                return cells, rows
            widest_passed = max(widest_passed, _filled(cells))
            non_blank += 1
            if non_blank >= HEADER_SEARCH_ROWS:
                break
    first = next((i for i, cells in enumerate(seen) if _is_data(cells)), None)
    if first is None:
        return None, iter(())
    return seen[first], itertools.chain(seen[first + 1:], rows)


def _table_rows(rows: Iterator[list[str]], is_header: Callable[[list[str]], int]) -> Iterator[tuple]:
    """Data rows of a table after its header. Rows whose cells are all blank are not records,
    but they keep their row number so numbers match what a spreadsheet shows."""
    cells, rows = _split_header(iter(rows), is_header)
    if cells is None:
        return
    header = _header(cells)
    width, n = len(header), 0
    for cells in rows:
        if len(cells) == width and any(map(str.strip, cells)) and type(cells) is list:
            n += 1
            yield (n, header, cells, None, None)
        elif isinstance(cells, _CsvError):
            n += 1
            yield (n, header, None, cells.message, (codes.MALFORMED_ROW, cells.message))
        elif not any(map(str.strip, cells)):
            n += 1
        else:
            n += 1
            yield _fit_width(n, header, cells)


class _CsvError(list):
    """A csv parse failure travelling through the row stream (a list, so it is never blank)."""

    def __init__(self, message: str):
        super().__init__([message])
        self.message = message


def _csv_cells(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Records of a delimited file (quoted newlines inside a record); failures as _CsvError."""
    # The csv module's field limit is process-wide; it is only ever raised, to fit long reviews.
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        while True:
            try:
                yield next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _CsvError(f"line {reader.line_num}: {exc}")


def _read_delimited(path: Path, encoding: str, delimiter: str, is_header: Callable) -> Iterator[tuple]:
    return _table_rows(_csv_cells(path, encoding, delimiter), is_header)


def _json_row(n: int, obj: Any, raw: str, where: str) -> tuple:
    if not isinstance(obj, dict):
        return (n, None, None, raw, (codes.MALFORMED_ROW, f"{where} is a JSON {type(obj).__name__}, not an object"))
    return (n, tuple(_printable(str(k)) for k in obj), [_cell(v) for v in obj.values()], raw, None)


def _read_jsonl(path: Path, encoding: str) -> Iterator[tuple]:
    """One JSON object a line; blank lines are skipped, line numbers are the row numbers."""
    # Lines end at "\n" only (newline="" would also end them at a lone "\r"): a "\r" inside an
    # object, as JSON whitespace or a raw character in a string, would split it into two
    # MALFORMED_ROWs and shift every later line number.
    with open(path, encoding=encoding, errors="surrogateescape", newline="\n") as fh:
        for n, line in enumerate(fh, 1):
            text = line.strip(_BLANK)
            if not text:
                continue
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError) as exc:
                detail = f"line {n}: invalid JSON ({getattr(exc, 'msg', exc)} at column {getattr(exc, 'colno', '?')})"
                yield (n, None, None, line.rstrip("\r\n"), (codes.MALFORMED_ROW, detail))
                continue
            yield _json_row(n, obj, line.rstrip("\r\n"), f"line {n}")


def _read_json(path: Path, encoding: str) -> Iterator[tuple]:
    """A .json file: an array of objects (parsed whole, so size-capped), or else JSON lines."""
    with open(path, encoding=encoding, errors="surrogateescape") as fh:
        first = fh.read(4096).lstrip(_BLANK)[:1]
    if first != "[":
        yield from _read_jsonl(path, encoding)
        return
    if path.stat().st_size > JSON_ARRAY_MAX_BYTES:
        raise ValueError(f"a JSON array over {JSON_ARRAY_MAX_BYTES >> 20} MB; write it as JSONL to stream it")
    items = json.loads(path.read_text(encoding=encoding, errors="surrogateescape"))
    for n, obj in enumerate(items, 1):
        yield _json_row(n, obj, json.dumps(obj, ensure_ascii=False, default=str), f"element {n}")


# The column that tells the worksheets of a workbook apart (a record's row number is its row in
# that sheet). Only workbooks of several sheets get it: a one-sheet workbook reads like a CSV.
SHEET_COLUMN = "sheet"


def _read_xlsx(path: Path, is_header: Callable) -> Iterator[tuple]:
    """Every worksheet of a workbook, in order, read-only; formulas are never evaluated (cached
    values). Exports often hold one sheet per month or store, so reading the first alone would drop
    rows unseen; with several sheets each row carries its sheet's name in a `sheet` column (and a
    quarantined row names it in its detail), and a sheet without a text column quarantines its rows
    as NO_TEXT_COLUMN like any file. A sheet of title lines only (a cover note) holds no records."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        several = len(book.worksheets) > 1
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # some writers store a wrong sheet size; read every row
            cells = ([_cell(v) for v in values] for values in sheet.iter_rows(values_only=True))
            rows = _table_rows(cells, is_header)
            named: dict[tuple, tuple] = {}  # a sheet's header with the sheet column, built once
            yield from (_with_sheet(row, sheet.title, named) for row in rows) if several else rows
    finally:
        book.close()


def _with_sheet(row: tuple, title: str, named: dict[tuple, tuple]) -> tuple:
    """A table row of one sheet of several: the sheet's name as a last column, or in the detail."""
    n, header, values, raw, problem = row
    if problem is not None:
        return n, header, values, raw, (problem[0], f"sheet {title!r}: {problem[1]}")
    if header not in named:
        named[header] = _header(header + (SHEET_COLUMN,))
    return n, named[header], values + [title], raw, problem


def _read_parquet(pfile: Any, batch_rows: int) -> Iterator[tuple]:
    """Parquet record batches of an open ParquetFile; every value becomes a string like the other
    formats'."""
    columns = _header(pfile.schema_arrow.names)
    n = 0
    for batch in pfile.iter_batches(batch_size=batch_rows):
        cols = [_arrow_cells(batch.column(i)) for i in range(batch.num_columns)]
        for values in zip(*cols):
            n += 1
            yield (n, columns, list(values), None, None)


def _arrow_cells(array: Any) -> list[str]:
    """One Parquet column's values as strings. A float32 value is written as the float32 it is
    (4.1, not the 4.099999904632568 of its widening to a Python float)."""
    import pyarrow as pa

    values = array.to_pylist()
    if pa.types.is_float32(array.type):
        return [_cell(None if v is None else float(str(np.float32(v)))) for v in values]
    return [_cell(v) for v in values]


def _binary_positions(schema: Any) -> frozenset[int]:
    """Positions of the columns whose Arrow type holds bytes rather than text (a dictionary of
    them included): such a column may hold a UUID or an image, whose bytes are not UTF-8."""
    import pyarrow as pa

    def holds_bytes(dtype: Any) -> bool:
        if pa.types.is_dictionary(dtype):
            dtype = dtype.value_type
        return (pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype)
                or pa.types.is_fixed_size_binary(dtype) or pa.types.is_binary_view(dtype))

    return frozenset(i for i, f in enumerate(schema) if holds_bytes(f.type))


def _as_hex(value: str) -> str:
    """An undecodable value as 0x and the lowercase hex of its bytes (exactly those read:
    surrogateescape gives them back)."""
    return "0x" + value.encode("utf-8", "surrogateescape").hex()


# --- records, quarantine and chunks ----------------------------------------------------------

@dataclass(frozen=True)
class IngestChunk:
    """Up to `chunk_rows` rows of one input file: accepted records and quarantined rows.

    records: review_id, text, source_file, source_row (int64) and the file's other columns as
    strings under their original names. quarantine: source_file, source_row (int64; 0 for a
    file-level problem), reason_code, detail, raw.
    """

    records: pd.DataFrame
    quarantine: pd.DataFrame


@dataclass(frozen=True)
class _Columns:
    """Where the text, the id and the passthrough values are in rows with these columns.
    `hexable`: the id and passthrough columns of a binary Arrow type, whose undecodable values are written
    as hex instead of quarantining the row (see Ingestor._check)."""

    text: int
    id: int | None
    passthrough: tuple[tuple[int, str], ...]
    hexable: frozenset[int] = frozenset()


def _str_series(values: Sequence) -> pd.Series:
    return pd.Series(values, dtype="str")


def _empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=np.int64 if c == "source_row" else "str") for c in columns})


def _records_frame(source_file: str, accepted: list[tuple], cols: list[_Columns]) -> pd.DataFrame:
    """Accepted (review_id, text, source_row, values) tuples, with their layouts, as records."""
    if not accepted:
        return _empty_frame(RECORD_COLUMNS)
    ids, texts, rows, values = zip(*accepted)
    data: dict[str, Any] = {
        "review_id": _str_series(ids), "text": _str_series(texts),
        "source_file": _str_series([source_file] * len(ids)), "source_row": pd.Series(rows, dtype=np.int64)}
    if all(c is cols[0] for c in cols):  # one column layout (always so for tables): transpose once
        by_index = list(zip(*values))
        for i, name in cols[0].passthrough:
            data[name] = _str_series(by_index[i])
    else:  # JSON objects with different keys: missing values are ""
        extra: dict[str, list[str]] = {}
        for k, (vals, col) in enumerate(zip(values, cols)):
            for i, name in col.passthrough:
                extra.setdefault(name, [""] * len(ids))[k] = vals[i]
        data.update((name, _str_series(col)) for name, col in extra.items() if name not in data)
    return pd.DataFrame(data)


def _quarantine_frame(source_file: str, rows: list[tuple]) -> pd.DataFrame:
    """(source_row, reason_code, detail, raw) tuples as the quarantine frame."""
    if not rows:
        return _empty_frame(QUARANTINE_COLUMNS)
    numbers, reasons, details, raws = zip(*rows)
    return pd.DataFrame({
        "source_file": _str_series([source_file] * len(rows)), "source_row": pd.Series(numbers, dtype=np.int64),
        "reason_code": _str_series(reasons), "detail": _str_series(details), "raw": _str_series(raws)})


class HashSet64:
    """A set of 64-bit hashes at about 8 bytes an entry, for run-wide duplicate detection.

    A Python set of ints costs about 60 bytes an entry (the int object and the table slot): on a
    million-row dump the two sets of `_Dedup` grew the reading process by about 125 MB, and a
    ten-million-row dump would have held over a gigabyte. New hashes go to a small Python set;
    every `FLUSH` of them become a sorted int64 array, and arrays of similar size are merged, so
    there are O(log n) of them. A bitmap of the low hash bits answers most "not seen" questions
    without searching the arrays (most rows of a dump are new).
    """

    FLUSH = 1 << 16
    BITMAP_BITS = 1 << 26  # 8 MB, allocated at the first flush (only runs past 65,536 rows)

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._levels: list[np.ndarray] = []
        self._bitmap: bytearray | None = None

    def __contains__(self, value: int) -> bool:
        if value in self._recent:
            return True
        bitmap = self._bitmap
        if bitmap is None:
            return False
        bit = value & (self.BITMAP_BITS - 1)
        if not bitmap[bit >> 3] & (1 << (bit & 7)):
            return False
        for level in self._levels:
            i = int(level.searchsorted(value))
            if i < len(level) and int(level[i]) == value:
                return True
        return False

    def add(self, value: int) -> bool:
        """Add `value`; True when it was not in the set before (one look-up for both)."""
        if value in self:
            return False
        recent = self._recent
        recent.add(value)
        if len(recent) >= self.FLUSH:
            self._flush()
        return True

    def _flush(self) -> None:
        batch = np.fromiter(self._recent, dtype=np.int64, count=len(self._recent))
        batch.sort()
        if self._bitmap is None:
            self._bitmap = bytearray(self.BITMAP_BITS >> 3)
        bits = batch & (self.BITMAP_BITS - 1)
        view = np.frombuffer(self._bitmap, dtype=np.uint8)
        np.bitwise_or.at(view, bits >> 3, (1 << (bits & 7)).astype(np.uint8))
        self._levels.append(batch)
        self._recent = set()
        # Merge while the newest array is at least half the size of the one before (a binary
        # counter of sizes): each hash is copied O(log n) times in all.
        while len(self._levels) > 1 and len(self._levels[-1]) * 2 >= len(self._levels[-2]):
            newest = self._levels.pop()
            merged = np.concatenate([self._levels.pop(), newest])
            merged.sort(kind="stable")
            self._levels.append(merged)


class _Dedup:
    """Run-wide duplicate detection and id disambiguation, keeping only 64-bit hashes
    (`HashSet64`: memory grows by about 16 bytes a row, not with the rows' text).

    Same review_id and same text: a duplicate. Same review_id, other text: both kept, the
    later one renamed `<id>~2`, `<id>~3`, … (skipping names already taken). The hash is
    Python's 64-bit string hash: a run is one process, and two different records collide with
    a chance of about n²/2⁶⁴ (1e-8 for a million rows).
    """

    def __init__(self) -> None:
        self._pairs = HashSet64()
        self._ids = HashSet64()
        self._variants: dict[int, int] = {}

    def admit(self, review_id: str, text: str) -> str | None:
        """The id to store the record under, or None when it duplicates an earlier record."""
        if not self._pairs.add(hash((review_id, text))):
            return None
        key = hash(review_id)
        if self._ids.add(key):
            return review_id
        k = self._variants.get(key, 1)
        candidate = review_id
        while hash(candidate) in self._ids:
            k += 1
            candidate = f"{review_id}~{k}"
        self._variants[key] = k
        self._ids.add(hash(candidate))
        return candidate


@dataclass
class _FileState:
    """One file in progress: its rows waiting for the next chunk, column layouts, counts."""

    path: Path
    info: dict
    separator: str = "\t"
    accepted: list = field(default_factory=list)     # (review_id, text, source_row, values)
    layouts_of_accepted: list = field(default_factory=list)  # the _Columns of each accepted row
    quarantined: list = field(default_factory=list)  # (source_row, reason_code, detail, raw)
    layouts: dict = field(default_factory=dict)
    by_reason: dict = field(default_factory=dict)
    n_accepted: int = 0
    n_read: int = 0
    digest: "_FileDigest | None" = None  # the file's sha256, finished while it is read
    hashed_whole: os.stat_result | None = None  # the file as it was hashed, before it was opened to be read
    binary_columns: frozenset = frozenset()  # positions of a Parquet file's binary-typed columns
    hexed: dict = field(default_factory=dict)  # position -> name of the columns written as hex

    def pending(self) -> int:
        return len(self.accepted) + len(self.quarantined)

    def quarantine(self, row: int, reason: str, detail: str, raw: str) -> None:
        self.quarantined.append((row, reason, _printable(detail), _clip(raw)))
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1

    def file_problem(self, reason: str, detail: str) -> None:
        """A file-level quarantine row (source_row 0), counted as one row read."""
        self.n_read += 1
        self.quarantine(0, reason, detail, "")
        self.info["error"] = self.info["error"] or f"{reason}: {detail}"

    def chunk(self) -> IngestChunk:
        """The pending rows as an IngestChunk; nothing stays pending."""
        name = str(self.path)
        records = _records_frame(name, self.accepted, self.layouts_of_accepted)
        chunk = IngestChunk(records, _quarantine_frame(name, self.quarantined))
        self.accepted, self.layouts_of_accepted, self.quarantined = [], [], []
        return chunk


class Ingestor:
    """Reads input files into chunks of records and quarantine rows.

    Parameters are stored as given; `iter_chunks` does the work and leaves `files` (one dict per
    input file read: path, size, sha256, encoding, format, rows_read, rows_accepted,
    rows_quarantined, text_col, id_col, hex_columns, error) and `counts` (rows_read, rows_accepted,
    rows_quarantined, by_reason) describing the last run.

    `skip_known`: called with each file's sha256 before any of its rows is read; a file for which
    it returns True is not read, and is listed in `known_files` (path, sha256) instead of `files`.
    Each file is then hashed whole before its rows are read (otherwise beside the reading), and
    that one hash is both the one asked about and the one recorded.
    """

    def __init__(self, text_col: str | None = None, id_col: str | None = None,
                 chunk_rows: int = 5000, max_text_chars: int = 20000,
                 skip_known: Callable[[str], bool] | None = None):
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        if max_text_chars < 1:
            raise ValueError(f"max_text_chars must be at least 1, got {max_text_chars}")
        self.text_col = text_col
        self.id_col = id_col
        self.chunk_rows = chunk_rows
        self.max_text_chars = max_text_chars
        self.skip_known = skip_known
        self.files: list[dict] = []
        self.known_files: list[dict] = []
        self.counts: dict = _zero_counts()

    def iter_chunks(self, inputs: Sequence[str | Path]) -> Iterator[IngestChunk]:
        """Chunks of every input file in order (a chunk never spans two files).

        Raises FileNotFoundError for an input path that does not exist (before reading
        anything); every problem inside a file becomes a quarantine row instead.
        """
        plan = plan_inputs(inputs)
        self.files, self.known_files, self.counts = [], [], _zero_counts()
        dedup = _Dedup()
        for path, skipped in plan:
            if skipped:
                self.files.append(_file_info(path, skipped_reason=skipped))
                continue
            yield from self._ingest_file(path, dedup)
        self.counts["by_reason"] = dict(sorted(self.counts["by_reason"].items()))

    # -- one file --

    def _ingest_file(self, path: Path, dedup: _Dedup) -> Iterator[IngestChunk]:
        info = _file_info(path)
        state = _FileState(path, info)
        try:
            scan = self._scan(state)
            if scan is not None and self._is_known(state):
                return
            self.files.append(info)
            rows = None if scan is None else self._open(state, scan)
            if rows is not None:
                yield from self._consume(state, rows, dedup)
            if state.n_read == 0:
                state.file_problem(codes.EMPTY_FILE, "no records (only a header, or blank lines)")
            if state.pending():
                yield state.chunk()
            self._close(state)
        finally:  # a caller that stops reading early leaves no thread hashing the rest
            if state.digest is not None:
                state.digest.cancel()

    def _scan(self, state: _FileState) -> _Scan | None:
        """The file's head, encoding sample and digest; None (with a file-level row) when it
        cannot be read."""
        try:
            scan = _scan_file(state.path, whole=self.skip_known is not None)
        except OSError as exc:
            state.file_problem(codes.UNREADABLE_FILE, f"{type(exc).__name__}: {exc.strerror or exc}")
            return None
        state.info["size"], state.digest, state.hashed_whole = scan.size, scan.digest, scan.stat
        return scan

    def _is_known(self, state: _FileState) -> bool:
        """Whether `skip_known` says the file was loaded before (then it is listed, not read)."""
        if self.skip_known is None:
            return False
        sha256, _ = state.digest.result()
        # A file changed or replaced while it was hashed is read, not asked about (its hash is
        # dropped when the file is closed).
        if sha256 is None or not _still_hashed_file(state.path, state.hashed_whole) or not self.skip_known(sha256):
            return False
        self.known_files.append({"path": str(state.path), "sha256": sha256})
        log.info("%s: already loaded (sha256 %s), not read again", state.path, sha256[:12])
        return True

    def _open(self, state: _FileState, scan: _Scan) -> Iterator[tuple] | None:
        """Pick the file's reader; None (with a file-level row) when it cannot be read."""
        path, info = state.path, state.info
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            known = ", ".join(sorted(FORMATS))
            state.file_problem(codes.UNSUPPORTED_FORMAT, f"unknown extension {path.suffix!r}; cxtext reads {known}")
            return None
        if _is_blank(scan.head, scan.size):
            state.file_problem(codes.EMPTY_FILE, "the file is empty" if scan.size == 0 else "only whitespace")
            return None
        if fmt in ("xlsx", "parquet"):
            info.update(encoding="utf-8")  # both formats store text as UTF-8 by definition
            return _read_xlsx(path, self._is_header) if fmt == "xlsx" else self._parquet_rows(state)
        return self._open_text(state, scan, fmt)

    def _parquet_rows(self, state: _FileState) -> Iterator[tuple]:
        """The rows of a Parquet file, its binary-typed columns noted before the first row. The
        file is opened on the first row asked for, so a broken file is an UNREADABLE_FILE row."""
        import pyarrow.parquet as pq

        pfile = pq.ParquetFile(state.path)
        state.binary_columns = _binary_positions(pfile.schema_arrow)
        yield from _read_parquet(pfile, self.chunk_rows)

    def _is_header(self, cells: list[str]) -> int:
        """How a table row names the text column: NAMES_TEXT_COLUMN (a known name or text_col),
        HOLDS_TEXT_WORD (a name holding a text word, in a row of two cells or more: a title
        line such as "5月评价汇总" is one cell) or NOT_HEADER."""
        names = _header(cells)
        if _find_column(names, self.text_col, TEXT_COLUMN_NAMES) is not None:
            return NAMES_TEXT_COLUMN
        if _filled(cells) >= 2 and _find_column(names, self.text_col, TEXT_COLUMN_NAMES, _TEXT_WORDS) is not None:
            return HOLDS_TEXT_WORD
        return NOT_HEADER

    def _open_text(self, state: _FileState, scan: _Scan, fmt: str) -> Iterator[tuple] | None:
        """The reader of a text format, after the binary check and encoding detection."""
        reason = _binary_reason(scan.head)
        if reason:
            state.file_problem(codes.BINARY_FILE, f"not a text file: {reason}")
            return None
        encoding = detect_encoding(scan.head, scan.sample)
        if fmt == "txt":
            fmt = _txt_format(scan.head.decode(encoding, "replace"))
        state.info.update(format=fmt, encoding=encoding)
        if fmt in ("csv", "tsv"):
            state.separator = "\t" if fmt == "tsv" else ","
            return _read_delimited(state.path, encoding, state.separator, self._is_header)
        reader = _read_jsonl if fmt == "jsonl" else _read_json
        return reader(state.path, encoding)

    def _consume(self, state: _FileState, rows: Iterator[tuple], dedup: _Dedup) -> Iterator[IngestChunk]:
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a reader failing mid-file (corrupt workbook, I/O error)
                where = f"after row {state.n_read}: " if state.n_read else ""
                state.file_problem(codes.UNREADABLE_FILE, f"{where}{type(exc).__name__}: {exc}")
                return
            state.n_read += 1
            self._row(state, row, dedup)
            if state.pending() >= self.chunk_rows:
                yield state.chunk()

    def _row(self, state: _FileState, row: tuple, dedup: _Dedup) -> None:
        """Accept one row as a record or quarantine it with its reason."""
        n, columns, values, raw, problem = row
        cols = None if problem else self._layout(state, columns)
        if isinstance(cols, tuple):
            problem = cols
        problem = problem or self._check(columns, values, cols)
        if problem is None and cols.hexable:
            _hex_undecodable(state, columns, values, cols.hexable)
        if problem is None:
            text = values[cols.text]
            given = values[cols.id].strip() if cols.id is not None else ""
            review_id = dedup.admit(given or _derived_id(state.path, text), text)
            if review_id is not None:
                state.n_accepted += 1
                # A tuple of strings, which the garbage collector stops tracking, and the layout
                # apart: pending rows then cost no time in collections.
                state.accepted.append((review_id, text, n, tuple(values)))
                state.layouts_of_accepted.append(cols)
                return
            problem = (codes.DUPLICATE, f"review_id {given or '(derived from text)'} with the same text was already read")
        state.quarantine(n, *problem, raw if raw is not None else state.separator.join(values or ()))

    def _check(self, columns: tuple[str, ...], values: list[str], cols: _Columns) -> tuple[str, str] | None:
        """(code, detail) when a parsed row cannot be tagged: undecodable, empty or too long.
        Undecodable bytes in a hexable column (cols.hexable) are a value, not a wrong encoding."""
        if _SURROGATE.search("\x00".join(values)):
            bad = [name for i, (name, v) in enumerate(zip(columns, values))
                   if i not in cols.hexable and _SURROGATE.search(v)]
            if bad:
                return codes.DECODE_ERROR, f"undecodable bytes in column(s) {', '.join(bad)}"
        text = values[cols.text]
        if not text.strip(_BLANK):
            return codes.EMPTY_TEXT, f"column {columns[cols.text]} is empty"
        if len(text) > self.max_text_chars:
            return codes.TOO_LONG, f"{len(text)} characters, limit {self.max_text_chars}"
        return None

    def _layout(self, state: _FileState, columns: tuple[str, ...]) -> _Columns | tuple[str, str]:
        """Text, id and passthrough positions for this column set (cached per file)."""
        cached = state.layouts.get(columns)
        if cached is None:
            if len(state.layouts) > 1000:  # JSON lines with ever-new key sets: keep the cache small
                state.layouts.clear()
            cached = state.layouts[columns] = self._new_layout(columns, state.binary_columns)
            if isinstance(cached, tuple) and state.info["error"] is None:
                state.info["error"] = f"{cached[0]}: {cached[1]}"
            elif isinstance(cached, _Columns) and state.info["text_col"] is None:
                state.info["text_col"] = columns[cached.text]
                state.info["id_col"] = None if cached.id is None else columns[cached.id]
        return cached

    def _new_layout(self, columns: tuple[str, ...], binary_columns: frozenset[int]) -> _Columns | tuple[str, str]:
        text = _find_column(columns, self.text_col, TEXT_COLUMN_NAMES, _TEXT_WORDS)
        listed = ", ".join(columns) or "(none)"
        if text is None:
            wanted = f"no column {self.text_col!r}" if self.text_col else "no text column found by name"
            return codes.NO_TEXT_COLUMN, f"{wanted}; columns are: {listed}"
        ident = _find_column([c if i != text else "" for i, c in enumerate(columns)], self.id_col, ID_COLUMN_NAMES)
        if ident is None and self.id_col is not None:
            return codes.NO_ID_COLUMN, f"no column {self.id_col!r}; columns are: {listed}"
        # The text and the id must be read as text: undecodable bytes there quarantine the row.
        # A binary id (a UUID order_id) is an identifier like any other written as hex; only the text
        # must decode, since it is what gets tagged.
        return _Columns(text, ident, _passthrough(columns, (text, ident)), binary_columns - {text})

    def _close(self, state: _FileState) -> None:
        if state.digest is not None:
            sha256, hashed = state.digest.result()
            if sha256 and not _still_hashed_file(state.path, state.hashed_whole):
                # Hashed whole, then opened again by path to be read: a path that names another
                # file now (or the same file changed) may have been replaced while it was hashed or
                # before the reader opened it, so the hash may not describe the rows read (and a
                # later inbox run would skip that file unread).
                log.warning("sha256 of %s not recorded: the file was replaced or changed after it was hashed",
                            state.path)
                sha256 = None
            state.info.update(sha256=sha256, size=hashed if sha256 else state.info["size"])
        quarantined = state.n_read - state.n_accepted
        state.info.update(rows_read=state.n_read, rows_accepted=state.n_accepted, rows_quarantined=quarantined)
        if state.hexed:
            state.info["hex_columns"] = [name for _, name in sorted(state.hexed.items())]
            log.warning("%s: bytes that are not UTF-8 in binary column(s) %s kept as 0x hex",
                        state.path, ", ".join(state.info["hex_columns"]))
        self.counts["rows_read"] += state.n_read
        self.counts["rows_accepted"] += state.n_accepted
        self.counts["rows_quarantined"] += quarantined
        by_reason = self.counts["by_reason"]
        for reason, n in state.by_reason.items():
            by_reason[reason] = by_reason.get(reason, 0) + n


def _hex_undecodable(state: _FileState, columns: tuple[str, ...], values: list[str],
                     hexable: frozenset[int]) -> None:
    """Write the undecodable values of the hexable columns as hex, in place, noting their
    columns in `state.hexed` (the file's entry lists them)."""
    for i in hexable:
        if _SURROGATE.search(values[i]):
            values[i] = _as_hex(values[i])
            state.hexed.setdefault(i, columns[i])


def _txt_format(head: str) -> str:
    """The format of a .txt file, tsv or csv: the first of its first lines holding a tab or a
    comma decides. A title line above the header (5月评价汇总) holds neither, so the header decides,
    not the title (which made a tab-separated file one column wide and its header a review)."""
    for line in head.split("\n")[:HEADER_SEARCH_ROWS]:
        if "\t" in line:
            return "tsv"
        if "," in line:
            return "csv"
    return "csv"


def _passthrough(columns: tuple[str, ...], used: tuple[int | None, ...]) -> tuple[tuple[int, str], ...]:
    """(position, output name) of every column not in `used`: a reserved name becomes
    input_<name>, suffixed .1, .2 when the file has that name already (a run's own output fed
    back in has both source_file and input_source_file); otherwise one would overwrite the other."""
    taken = set(columns)
    out = []
    for i, name in enumerate(columns):
        if i in used:
            continue
        out.append((i, input_column_name(name, taken) if name in RESERVED_COLUMNS else name))
    return tuple(out)


def input_column_name(name: str, taken: set[str]) -> str:
    """The name an input column keeps beside an output column called `name`: input_<name>,
    suffixed .1, .2 while that is in `taken` (which the chosen name joins)."""
    base = renamed = f"input_{name}"
    k = 0
    while renamed in taken:
        k += 1
        renamed = f"{base}.{k}"
    taken.add(renamed)
    return renamed


def _derived_id(path: Path, text: str) -> str:
    """A stable id for a row without one: file stem and a hash of the text."""
    return f"{path.stem}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"


def _zero_counts() -> dict:
    return {"rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "by_reason": {}}


def _file_info(path: Path, skipped_reason: str | None = None) -> dict:
    info = {"path": str(path), "size": None, "sha256": None, "encoding": None,
            "format": FORMATS.get(path.suffix.lower()), "rows_read": 0, "rows_accepted": 0,
            "rows_quarantined": 0, "text_col": None, "id_col": None, "hex_columns": [], "error": None}
    if skipped_reason:
        info.update(format="skipped", error=f"{codes.UNSUPPORTED_FORMAT}: {skipped_reason}")
        try:
            info["size"] = path.stat().st_size
        except OSError:
            pass
    return info
