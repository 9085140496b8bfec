"""Ingestion: formats, encodings, column detection, quarantine reason codes and row accounting.

The bad-input corpus in tests/data/bad_inputs/ is written by tests/data/make_bad_inputs.py;
its EXPECTED table says what each file must give.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from cxtext import codes
from cxtext.ingest import (
    HashSet64,
    QUARANTINE_COLUMNS, RAW_MAX_CHARS, RECORD_COLUMNS, Ingestor, canonical_column, detect_encoding,
    expand_inputs, find_id_column, find_text_column,
)

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "bad_inputs"


def _load_corpus_module():
    spec = importlib.util.spec_from_file_location("make_bad_inputs", DATA / "make_bad_inputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORPUS_MODULE = _load_corpus_module()


def ingest(inputs, **kwargs):
    """Run an Ingestor to the end: (records, quarantine, ingestor, chunks)."""
    ing = Ingestor(**kwargs)
    chunks = list(ing.iter_chunks(inputs if isinstance(inputs, list) else [inputs]))
    records = pd.concat([c.records for c in chunks], ignore_index=True) if chunks else None
    quarantine = pd.concat([c.quarantine for c in chunks], ignore_index=True) if chunks else None
    return records, quarantine, ing, chunks


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", eol: str = "\n") -> Path:
    path.write_bytes("".join(",".join(r) + eol for r in rows).encode(encoding))
    return path


def assert_accounting(ing: Ingestor, records: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    counts = ing.counts
    assert counts["rows_read"] == counts["rows_accepted"] + counts["rows_quarantined"]
    assert counts["rows_accepted"] == len(records)
    assert counts["rows_quarantined"] == len(quarantine) == sum(counts["by_reason"].values())
    for info in ing.files:
        assert info["rows_read"] == info["rows_accepted"] + info["rows_quarantined"], info["path"]
        assert (records.source_file == info["path"]).sum() == info["rows_accepted"], info["path"]
        assert (quarantine.source_file == info["path"]).sum() == info["rows_quarantined"], info["path"]
    assert sum(i["rows_read"] for i in ing.files) == counts["rows_read"]


# --- the bad-input corpus -------------------------------------------------------------------

def test_corpus_files_match_their_generator():
    assert CORPUS_MODULE.main(["--check", "--out", str(CORPUS)]) == 0


@pytest.fixture(scope="module")
def corpus_run():
    return ingest(CORPUS)


def test_corpus_accounting_holds_per_file_and_overall(corpus_run):
    records, quarantine, ing, _ = corpus_run
    assert_accounting(ing, records, quarantine)
    expected = CORPUS_MODULE.EXPECTED
    assert ing.counts["rows_read"] == sum(e[0] for e in expected.values())


@pytest.mark.parametrize("name", sorted(CORPUS_MODULE.EXPECTED))
def test_corpus_file_gives_expected_rows_reasons_and_encoding(corpus_run, name):
    records, quarantine, ing, _ = corpus_run
    rows_read, accepted, reasons, encoding = CORPUS_MODULE.EXPECTED[name]
    info = next(i for i in ing.files if i["path"] == str(CORPUS / name))
    assert (info["rows_read"], info["rows_accepted"]) == (rows_read, accepted)
    got = quarantine[quarantine.source_file == str(CORPUS / name)].reason_code.value_counts().to_dict()
    assert got == reasons
    if encoding is not None:
        assert info["encoding"] == encoding
    assert info["sha256"] == hashlib.sha256((CORPUS / name).read_bytes()).hexdigest()
    assert info["size"] == (CORPUS / name).stat().st_size


def test_corpus_folder_skips_hidden_and_lists_unknown_extensions(corpus_run):
    _, _, ing, _ = corpus_run
    paths = [i["path"] for i in ing.files]
    assert not any(".hidden" in p for p in paths)
    skipped = {Path(i["path"]).name: i for i in ing.files if i["format"] == "skipped"}
    assert sorted(skipped) == sorted(CORPUS_MODULE.SKIPPED_IN_FOLDER)
    assert all(i["rows_read"] == 0 and i["error"].startswith(codes.UNSUPPORTED_FORMAT) for i in skipped.values())
    assert paths == sorted(paths, key=lambda p: Path(p).relative_to(CORPUS).parts)


def test_corpus_every_quarantine_row_has_a_documented_code(corpus_run):
    _, quarantine, _, _ = corpus_run
    assert list(quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert set(quarantine.reason_code) <= set(codes.REASONS)
    file_level = quarantine[quarantine.reason_code.isin(codes.FILE_LEVEL)]
    assert (file_level.source_row == 0).all()
    assert (quarantine[~quarantine.reason_code.isin(codes.FILE_LEVEL)].source_row >= 1).all()
    assert quarantine.raw.str.len().max() <= RAW_MAX_CHARS + 20
    assert quarantine.detail.str.len().min() > 0


def test_corpus_good_rows_in_every_encoding_are_read_exactly(corpus_run):
    records, _, _, _ = corpus_run
    texts = set(records.text)
    assert set(CORPUS_MODULE.SIMPLIFIED) <= texts
    assert set(CORPUS_MODULE.TRADITIONAL) <= texts  # Big5 stays traditional here
    by_id = records.set_index("review_id").text
    assert by_id["u2"] == "第一行说排队太久，\r\n第二行说服务员很热情"  # quoted CRLF kept as read
    assert by_id["u3"] == '店员说"马上就好"，结果又等了半小时'
    assert by_id["T1001"].count("\n") == 2


def test_corpus_row_numbers_count_records_not_physical_lines(corpus_run):
    records, quarantine, _, _ = corpus_run
    log = records[records.source_file.str.endswith("complaint_log.csv")]
    assert list(log.source_row) == [1, 2, 3]  # the file has 9 physical data lines
    jsonl = quarantine[quarantine.source_file.str.endswith("mixed.jsonl")]
    assert jsonl.set_index("source_row").reason_code.to_dict() == {
        2: codes.MALFORMED_ROW, 5: codes.MALFORMED_ROW, 6: codes.EMPTY_TEXT, 7: codes.EMPTY_TEXT}
    assert "line 2" in jsonl.detail.iloc[0]


def test_corpus_decode_error_row_is_quarantined_with_its_bytes_shown(corpus_run):
    records, quarantine, _, _ = corpus_run
    row = quarantine[quarantine.reason_code == codes.DECODE_ERROR].iloc[0]
    assert row.source_row == 4 and "text" in row.detail
    assert row.raw.startswith("R4,\\x")
    bad_file = records[records.source_file.str.endswith("decode_error.csv")]
    assert list(bad_file.review_id) == ["R1", "R2", "R3", "R5", "R6", "R7"]


def test_corpus_duplicates_counted_once_and_reused_ids_disambiguated(corpus_run):
    records, quarantine, _, _ = corpus_run
    dup = records[records.source_file.str.endswith("duplicates.csv")]
    assert list(dup.review_id) == ["d1", "d1~2", "d2", "d3"]
    assert dup.review_id.is_unique
    assert list(quarantine[quarantine.reason_code == codes.DUPLICATE].source_row) == [2, 5]
    assert records.review_id.is_unique


def test_corpus_long_review_is_too_long_and_raw_is_truncated(corpus_run):
    _, quarantine, _, _ = corpus_run
    row = quarantine[quarantine.reason_code == codes.TOO_LONG].iloc[0]
    assert str(len(CORPUS_MODULE.LONG_REVIEW)) in row.detail
    assert len(row.raw) < RAW_MAX_CHARS + 20 and row.raw.startswith("这家店的服务")


def test_corpus_html_and_formula_text_is_kept_as_plain_text(corpus_run):
    records, _, _, _ = corpus_run
    texts = list(records[records.source_file.str.endswith("html_formula.tsv")].text)
    assert texts[0] == "<p>环境<b>很好</b></p><script>alert('x')</script>"
    assert texts[1] == '=HYPERLINK("http://example.invalid","点我")'
    assert texts[2:] == ["+SUM(1,2) 服务员算错了账", "@echo 上菜太慢了", "-1 分都不想给，蟑螂在桌上爬"]


def test_corpus_binary_and_empty_files_name_the_problem(corpus_run):
    _, quarantine, ing, _ = corpus_run
    details = quarantine.set_index("reason_code").detail
    assert "PNG" in details[codes.BINARY_FILE]
    nt = quarantine[quarantine.reason_code == codes.NO_TEXT_COLUMN].detail.iloc[0]
    assert "门店, 评分, 日期" in nt
    info = next(i for i in ing.files if i["path"].endswith("no_text_column.csv"))
    assert info["error"].startswith(codes.NO_TEXT_COLUMN)


# --- encodings ------------------------------------------------------------------------------

SENTENCES_TRAD = ["牙醫很耐心，就是等了四十分鐘", "退房時櫃檯多收了一晚房費，打電話也沒人接", "環境乾淨，店員很熱情，下次還來"]
SENTENCES_SIMP = ["牙医很耐心，就是等了四十分钟", "退房时前台多收了一晚房费，打电话也没人接", "环境干净，店员很热情，下次还来"]


@pytest.mark.parametrize("encoding,eol,bom,sentences,expected", [
    ("gbk", "\n", b"", SENTENCES_TRAD, "gb18030"),
    ("gbk", "\n", b"", SENTENCES_SIMP, "gb18030"),
    ("big5", "\n", b"", SENTENCES_TRAD, "big5"),
    # Windows Big5 (cp950) has characters Python's big5 lacks (裏, 恒): they were DECODE_ERRORs
    ("cp950", "\r\n", b"", SENTENCES_TRAD + ["店裏的冷氣很恒定，座位乾淨"], "cp950"),
    ("utf-8", "\r\n", b"\xef\xbb\xbf", SENTENCES_TRAD, "utf-8-sig"),
    ("utf-8", "\n", b"", SENTENCES_SIMP, "utf-8"),
    ("gb18030", "\r\n", b"", SENTENCES_SIMP, "gb18030"),
])
def test_encodings_round_trip_to_identical_text(tmp_path, encoding, eol, bom, sentences, expected):
    body = "".join(f"{i},{s}{eol}" for i, s in enumerate(sentences, 1))
    path = tmp_path / "reviews.csv"
    path.write_bytes(bom + f"id,review{eol}".encode(encoding) + body.encode(encoding))
    records, quarantine, ing, _ = ingest(path)
    assert ing.files[0]["encoding"] == expected
    assert list(records.text) == sentences and quarantine.empty


def test_stray_bytes_in_a_gbk_file_quarantine_only_their_row(tmp_path):
    good = [f"{i},{s}\n".encode("gbk") for i, s in enumerate(SENTENCES_SIMP * 3, 1)]
    path = tmp_path / "gbk.csv"
    path.write_bytes("编号,评论\n".encode("gbk") + b"".join(good[:4]) + b"99,\xff\x80\n" + b"".join(good[4:]))
    records, quarantine, ing, _ = ingest(path)
    assert ing.files[0]["encoding"] == "gb18030"
    assert list(records.text) == SENTENCES_SIMP * 3
    assert list(quarantine.reason_code) == [codes.DECODE_ERROR] and quarantine.source_row[0] == 5
    assert quarantine.raw[0] == "99,\\xff\\x80"


def test_detect_encoding_plain_ascii_and_boms():
    assert detect_encoding(b"id,text\n1,ok\n", b"") == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfid", b"") == "utf-8-sig"
    assert detect_encoding(b"\xff\xfei\x00", b"") == "utf-16"


@pytest.mark.parametrize("text, encoding", [
    ("上菜太慢了，等了一个小时，服务员态度也很冷淡。", "utf-8"),
    ("上菜太慢了，等了一个小时，服务员态度也很冷淡。", "gb18030"),
    ("上菜太慢了，等了一個小時，服務員態度也很冷淡。", "big5"),
])
def test_a_sample_cut_inside_a_character_is_still_read_right(text, encoding):
    # The encoding sample is a fixed number of bytes, so it usually ends inside a character.
    whole = (text + "\n").encode(encoding) * 40 + text.encode(encoding)
    for cut in (1, 2):  # the last character, 。, is two bytes in GB18030 and Big5 and three in UTF-8
        assert detect_encoding(b"id,text\n", whole[:-cut]) == encoding


def test_ascii_head_then_gbk_further_down_is_still_detected(tmp_path):
    path = tmp_path / "late.csv"
    ascii_rows = "".join(f"a{i},plain ascii comment number {i}\n" for i in range(40000))
    path.write_bytes(b"id,text\n" + ascii_rows.encode() + "z1,上菜太慢了，等了一个小时\n".encode("gbk"))
    records, quarantine, ing, _ = ingest(path)
    assert ing.files[0]["encoding"] == "gb18030" and quarantine.empty
    assert records.text.iloc[-1] == "上菜太慢了，等了一个小时"


def _big_csv(path: Path, rows: int, text: str, ascii_rows: int = 0) -> Path:
    """A CSV of a few megabytes: more than the head and encoding sample ingest reads up front
    (`ascii_rows` plain rows first, so the encoding sample is found further down)."""
    plain = "".join(f"a{i},plain ascii comment number {i}\n" for i in range(ascii_rows))
    path.write_bytes(("id,text\n" + plain + "".join(f"r{i},{text}{i}\n" for i in range(rows))).encode("utf-8"))
    return path


class _HeldBackHash:
    """Holds the background sha256 back until released, and keeps the digests made meanwhile."""

    def __init__(self, monkeypatch):
        from cxtext import ingest as ingest_module

        self.release, self.waited_too_long, self.digests = threading.Event(), False, []
        finish, init = ingest_module._FileDigest._finish, ingest_module._FileDigest.__init__

        def held_finish(digest, *args):
            self.waited_too_long = not self.release.wait(30)
            finish(digest, *args)

        def keeping_init(digest, *args):
            init(digest, *args)
            self.digests.append(digest)

        monkeypatch.setattr(ingest_module._FileDigest, "_finish", held_finish)
        monkeypatch.setattr(ingest_module._FileDigest, "__init__", keeping_init)


@pytest.mark.parametrize("ascii_rows", [0, 60_000])
def test_sha256_of_a_big_file_covers_every_byte(tmp_path, ascii_rows):
    # 60,000 plain rows first: the encoding sample starts after the first megabyte
    path = _big_csv(tmp_path / "big.csv", 120_000, "前台办理入住等了半个小时，第", ascii_rows)
    assert path.stat().st_size > 3 << 20
    records, _, ing, _ = ingest(path)
    assert len(records) == 120_000 + ascii_rows
    assert ing.files[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ing.files[0]["size"] == path.stat().st_size


def test_first_chunk_of_a_big_file_does_not_wait_for_its_sha256(tmp_path, monkeypatch):
    # The hash of the rest of the file is held back until the first chunk has arrived: before, the
    # whole file was hashed before the first row was read (about 0.3 s on a 1,000,000-review dump).
    path = _big_csv(tmp_path / "big.csv", 120_000, "前台办理入住等了半个小时，第")
    held = _HeldBackHash(monkeypatch)
    ing = Ingestor(chunk_rows=1000)
    chunks = ing.iter_chunks([path])
    first = next(chunks)
    assert len(first.records) == 1000 and ing.files[0]["sha256"] is None
    held.release.set()
    rest = list(chunks)
    assert not held.waited_too_long
    assert sum(len(c.records) for c in rest) == 119_000
    assert ing.files[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_sha256_is_of_the_file_that_was_read_when_the_path_is_replaced(tmp_path, monkeypatch):
    # An exporter replacing the file mid-run: the rows and the hash both describe the first file.
    path = _big_csv(tmp_path / "big.csv", 120_000, "前台办理入住等了半个小时，第")
    original = hashlib.sha256(path.read_bytes()).hexdigest()
    held = _HeldBackHash(monkeypatch)
    ing = Ingestor(chunk_rows=1000)
    chunks = ing.iter_chunks([path])
    next(chunks)
    replacement = _big_csv(tmp_path / "new.csv", 1000, "另一份导出")
    os.replace(replacement, path)
    held.release.set()
    assert sum(len(c.records) for c in chunks) == 119_000
    assert ing.files[0]["sha256"] == original


def _sha256_calling(hook, at_block: int):
    """hashlib.sha256 that calls `hook()` before it takes its `at_block`-th block."""
    real_sha256 = hashlib.sha256

    class Sha256:
        def __init__(self):
            self.real, self.blocks = real_sha256(), 0

        def update(self, block):
            self.blocks += 1
            if self.blocks == at_block:
                hook()
            self.real.update(block)

        def hexdigest(self):
            return self.real.hexdigest()

    return Sha256


def test_a_failure_while_hashing_records_no_sha256_and_keeps_every_row(tmp_path, monkeypatch, caplog):
    from cxtext import ingest as ingest_module

    def run_out_of_memory():
        raise MemoryError("no memory for the next block")

    monkeypatch.setattr(ingest_module.hashlib, "sha256", _sha256_calling(run_out_of_memory, at_block=4))
    path = _big_csv(tmp_path / "big.csv", 120_000, "前台办理入住等了半个小时，第")
    records, _, ing, _ = ingest(path)
    assert len(records) == 120_000
    assert ing.files[0]["sha256"] is None
    assert "sha256 of" in caplog.text and "big.csv" in caplog.text


def test_a_reader_that_stops_early_stops_the_hashing(tmp_path, monkeypatch):
    path = _big_csv(tmp_path / "big.csv", 120_000, "前台办理入住等了半个小时，第")
    held = _HeldBackHash(monkeypatch)
    ing = Ingestor(chunk_rows=1000)
    chunks = ing.iter_chunks([path])
    next(chunks)
    chunks.close()  # the caller gives up after the first chunk
    held.release.set()
    (digest,) = held.digests
    assert digest.result() == (None, digest.result()[1])
    assert digest.result()[1] < path.stat().st_size  # it stopped instead of reading on


def test_a_known_file_is_listed_with_its_sha256_and_not_read(tmp_path):
    # The inbox asks about each file's sha256 before reading it; the hash asked about is the one
    # recorded for a file that is read.
    old = _big_csv(tmp_path / "a_old.csv", 120_000, "前台办理入住等了半个小时，第")
    new = _big_csv(tmp_path / "b_new.csv", 50, "空调一直有噪音，第")
    old_sha = hashlib.sha256(old.read_bytes()).hexdigest()
    asked = []
    records, _, ing, _ = ingest(tmp_path, skip_known=lambda sha: asked.append(sha) or sha == old_sha)
    assert ing.known_files == [{"path": str(old), "sha256": old_sha}]
    assert [f["path"] for f in ing.files] == [str(new)] and len(records) == 50
    assert ing.counts["rows_read"] == 50
    assert asked == [old_sha, ing.files[0]["sha256"]]
    assert ing.files[0]["sha256"] == hashlib.sha256(new.read_bytes()).hexdigest()


def test_a_file_replaced_while_hashed_before_reading_records_no_sha256(tmp_path, monkeypatch):
    # The rows are read through the path after the hash: had it been replaced meanwhile, the hash
    # would describe a file that was never read (and a later run would skip that file unread).
    from cxtext import ingest as ingest_module

    path = _big_csv(tmp_path / "big.csv", 120_000, "前台办理入住等了半个小时，第")
    replacement = _big_csv(tmp_path / "new.csv", 30, "另一份导出，第")
    # an exporter replaces the file after its first block was hashed
    monkeypatch.setattr(ingest_module.hashlib, "sha256",
                        _sha256_calling(lambda: os.replace(replacement, path), at_block=2))
    asked = []
    records, _, ing, _ = ingest(path, skip_known=lambda sha: asked.append(sha) or True)
    assert asked == [] and ing.known_files == []  # nothing to ask about: the file is read
    assert len(records) == 30 and ing.files[0]["sha256"] is None


def test_a_file_replaced_after_its_hash_and_before_its_rows_records_no_sha256(tmp_path, caplog):
    # Between the whole-file hash (asked about) and the reading, an exporter replaces the file: the
    # rows are the new file's, so the old file's hash must not be recorded for them.
    path = _big_csv(tmp_path / "big.csv", 2_000, "前台办理入住等了半个小时，第")
    replacement = _big_csv(tmp_path / "new.csv", 30, "另一份导出，第")

    def replace_then_answer(sha):
        os.replace(replacement, path)
        return False

    records, _, ing, _ = ingest(path, skip_known=replace_then_answer)
    assert len(records) == 30 and ing.files[0]["sha256"] is None
    assert "replaced or changed after it was hashed" in caplog.text


# --- columns ----------------------------------------------------------------------------------

@pytest.mark.parametrize("columns,text,ident", [
    (["编号", "评论", "门店"], "评论", "编号"),
    (["工单号", "时间", "投诉内容"], "投诉内容", "工单号"),
    (["Review Body", "Review_ID"], "Review Body", "Review_ID"),
    (["订单号", "评价内容", "评分"], "评价内容", "订单号"),
    (["評論ID", "評論"], "評論", "評論ID"),
    (["门店", "评分"], None, None),
    (["顾客评价", "评价时间", "评价星级"], "顾客评价", None),
    (["评价时间", "用户评论内容", "评论编号"], "用户评论内容", "评论编号"),
    (["customer_comment", "comment_date"], "customer_comment", None),
    (["Ticket_ID", "created_at", "content"], "content", "Ticket_ID"),
    (["order_no", "评价内容"], "评价内容", "order_no"),
    (["review_id", "order_id", "review"], "review", "review_id"),
    # the business's replies are never the review, even when their column comes first
    (["评价时间", "商家回复内容", "用户评论"], "用户评论", None),
    (["merchant_reply_comment", "customer_comment"], "customer_comment", None),
    (["商家回复"], None, None),
])
def test_text_and_id_columns_found_by_chinese_or_english_name(columns, text, ident):
    assert find_text_column(columns) == text
    if text:
        assert find_id_column([c for c in columns if c != text]) == ident


def test_canonical_column_maps_well_known_chinese_names():
    assert [canonical_column(n) for n in ["门店", "评分", "星级", "评论时间", "日期", "渠道", "平台", "备忘"]] == [
        "store", "rating", "rating", "created_at", "created_at", "channel", "channel", None]


def test_explicit_text_and_id_columns_and_passthrough_keeps_original_names(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["单号", "备注", "客户原话", "门店", "sentiment"],
                                          ["A1", "回访过", "护士打针很轻，一点都不疼", "东区", "pos"]])
    records, _, ing, _ = ingest(path, text_col="客户原话", id_col="单号")
    assert list(records.columns) == list(RECORD_COLUMNS) + ["备注", "门店", "input_sentiment"]
    assert records.iloc[0].to_dict() | {"source_file": ""} == {
        "review_id": "A1", "text": "护士打针很轻，一点都不疼", "source_file": "", "source_row": 1,
        "备注": "回访过", "门店": "东区", "input_sentiment": "pos"}
    assert (ing.files[0]["text_col"], ing.files[0]["id_col"]) == ("客户原话", "单号")


def test_an_earlier_runs_output_fed_back_in_keeps_every_column(tmp_path):
    # n_mentions / n_pain_points were passed through as they were and then overwritten by the
    # tagger; input_source_file and a renamed source_file were one column, one value lost.
    path = write_csv(tmp_path / "reviews.csv", [
        ["review_id", "text", "n_mentions", "n_pain_points", "source_file", "input_source_file"],
        ["r1", "排队等了一个小时", "3", "1", "第二轮.csv", "第一轮.csv"]])
    records, _, _, _ = ingest(path)
    assert records.iloc[0].to_dict() | {"source_file": ""} == {
        "review_id": "r1", "text": "排队等了一个小时", "source_file": "", "source_row": 1,
        "input_n_mentions": "3", "input_n_pain_points": "1", "input_source_file.1": "第二轮.csv",
        "input_source_file": "第一轮.csv"}


def test_missing_named_columns_quarantine_every_row_with_their_code(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["id", "评论"], ["1", "挺好"], ["2", "一般"]])
    _, quarantine, ing, _ = ingest(path, text_col="正文")
    assert list(quarantine.reason_code) == [codes.NO_TEXT_COLUMN] * 2
    assert "'正文'" in quarantine.detail[0] and "id, 评论" in quarantine.detail[0]
    _, quarantine, ing, _ = ingest(path, id_col="工单号")
    assert list(quarantine.reason_code) == [codes.NO_ID_COLUMN] * 2
    assert ing.counts["rows_read"] == 2


def test_derived_ids_are_stable_and_name_the_file(tmp_path):
    path = write_csv(tmp_path / "门店点评.csv", [["评论"], ["停车很方便"], ["停车很方便"]])
    records, quarantine, _, _ = ingest(path)
    sha = hashlib.sha1("停车很方便".encode()).hexdigest()[:12]
    assert list(records.review_id) == [f"门店点评:{sha}"]
    assert list(quarantine.reason_code) == [codes.DUPLICATE]


def test_same_id_in_two_files_keeps_both_texts(tmp_path):
    a = write_csv(tmp_path / "a.csv", [["id", "text"], ["7", "排队半小时"]])
    b = write_csv(tmp_path / "b.csv", [["id", "text"], ["7", "服务很周到"], ["7", "排队半小时"]])
    records, quarantine, _, _ = ingest([a, b])
    assert list(records.review_id) == ["7", "7~2"]
    assert list(quarantine.reason_code) == [codes.DUPLICATE]


# --- formats ----------------------------------------------------------------------------------

def test_xlsx_written_with_openpyxl(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["评论编号", "评价内容", "门店", "评分", "评论时间"])
    sheet.append([1001, "医生讲解很清楚，就是挂号排了很久", "东区", 4, dt.datetime(2024, 5, 1, 9, 30)])
    sheet.append([None, None, None, None, None])
    sheet.append([1002, "=卫生间很脏", "西区", 2.5, dt.date(2024, 5, 2)])
    sheet["B4"].data_type = "s"  # a formula-looking review stored as text
    sheet.append([1003, "   ", "西区", None, None])
    path = tmp_path / "门诊评价.xlsx"
    book.save(path)
    records, quarantine, ing, _ = ingest(path)
    assert list(records.text) == ["医生讲解很清楚，就是挂号排了很久", "=卫生间很脏"]
    assert list(records.review_id) == ["1001", "1002"]
    assert list(records.source_row) == [1, 3]  # the blank row keeps its number
    assert list(records["评分"]) == ["4", "2.5"]
    assert list(records["评论时间"]) == ["2024-05-01T09:30:00", "2024-05-02T00:00:00"]
    assert list(quarantine.reason_code) == [codes.EMPTY_TEXT] and quarantine.source_row[0] == 4
    assert ing.files[0]["format"] == "xlsx"


def test_every_worksheet_is_read_and_each_record_names_its_sheet(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    cover = book.active
    cover.title = "说明"
    cover.append(["本表由门店系统导出，每月一张表"])
    may = book.create_sheet("5月")
    may.append(["编号", "评价内容", "门店"])
    may.append([1, "前台办入住很快", "东区"])
    may.append([2, "   ", "东区"])
    june = book.create_sheet("6月")
    june.append(["编号", "评价内容"])  # numbered from 1 again, one column fewer
    june.append([1, "房间有股霉味"])
    june.append([3, "早餐种类不多", "多出来的一格"])
    stats = book.create_sheet("统计")
    stats.append(["门店", "平均分"])
    stats.append(["东区", 4.6])
    path = tmp_path / "上半年评价.xlsx"
    book.save(path)
    records, quarantine, ing, _ = ingest(path)
    assert list(records.text) == ["前台办入住很快", "房间有股霉味"]
    assert list(records["sheet"]) == ["5月", "6月"]
    assert list(records.source_row) == [1, 1]  # the row within its sheet
    assert list(records.review_id) == ["1", "1~2"]  # same id, different review: both kept
    assert list(quarantine.reason_code) == [codes.EMPTY_TEXT, codes.MALFORMED_ROW, codes.NO_TEXT_COLUMN]
    assert "sheet '6月'" in quarantine.detail[1]
    assert "平均分" in quarantine.detail[2]
    assert_accounting(ing, records, quarantine)
    assert ing.counts["rows_read"] == 5


def test_a_one_sheet_workbook_has_no_sheet_column(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["评论"])
    book.active.append(["理发师很耐心"])
    book.save(tmp_path / "one.xlsx")
    records, quarantine, _, _ = ingest(tmp_path / "one.xlsx")
    assert list(records.columns) == ["review_id", "text", "source_file", "source_row"]
    assert quarantine.empty


def test_title_rows_above_the_header_are_not_records(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["2024年5月门店评价汇总"])
    sheet.append(["导出人：质检组", None, "第1页"])
    sheet.append([])
    sheet.append(["门店", "顾客评价", "星级"])
    sheet.append(["东区", "洗头的小哥很细心", 5])
    book.save(tmp_path / "汇总.xlsx")
    (tmp_path / "excel.csv").write_text("sep=,\nid,评论\n1,结账排了很长的队\n", "utf-8")
    records, quarantine, ing, _ = ingest([tmp_path / "excel.csv", tmp_path / "汇总.xlsx"], text_col="顾客评价")
    assert list(records.text) == ["洗头的小哥很细心"]
    assert list(quarantine.reason_code) == [codes.NO_TEXT_COLUMN] * 2  # excel.csv has no 顾客评价
    records, quarantine, ing, _ = ingest([tmp_path / "excel.csv", tmp_path / "汇总.xlsx"])
    assert quarantine.empty
    assert [i["text_col"] for i in ing.files] == ["评论", "顾客评价"]
    assert list(records.text) == ["结账排了很长的队", "洗头的小哥很细心"]
    assert list(records.source_row) == [1, 1]
    assert records["星级"].iloc[1] == "5"


def test_without_a_header_naming_the_text_column_the_first_row_is_the_header(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["门店", "客户原话"], ["南区", "空调太冷"]])
    assert find_text_column(["门店", "客户原话"]) is None
    _, quarantine, _, _ = ingest(path)
    assert list(quarantine.reason_code) == [codes.NO_TEXT_COLUMN] and quarantine.source_row[0] == 1
    records, _, _, _ = ingest(path, text_col="客户原话")
    assert list(records.text) == ["空调太冷"]


def test_a_review_holding_a_text_word_is_not_taken_for_the_header(tmp_path):
    # The header names no text column; the third review holds 评价. Taking that row as the
    # header lost the header and the two rows above it without a trace.
    path = write_csv(tmp_path / "心声.csv", [
        ["编号", "顾客心声", "门店"], ["1", "菜很好吃", "东区"], ["2", "服务员很热情", "西区"],
        ["3", "看了大家的评价才来的", "北区"], ["4", "上菜太慢了", "南区"]])
    records, quarantine, ing, _ = ingest(path)
    assert records.empty
    assert list(quarantine.reason_code) == [codes.NO_TEXT_COLUMN] * 4
    assert list(quarantine.source_row) == [1, 2, 3, 4]
    assert "编号, 顾客心声, 门店" in quarantine.detail[0]
    assert_accounting(ing, records, quarantine)
    records, _, _, _ = ingest(path, text_col="顾客心声")
    assert list(records.text) == ["菜很好吃", "服务员很热情", "看了大家的评价才来的", "上菜太慢了"]


def test_parquet_input_in_batches(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"review_id": ["p1", "p2", "p3"], "content": ["送餐很准时", None, "包装破了，汤洒了一半"],
                      "rating": [5, 3, 1], "price": [32.5, None, 18.0]})
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    records, quarantine, ing, chunks = ingest(path, chunk_rows=2)
    assert list(records.text) == ["送餐很准时", "包装破了，汤洒了一半"]
    assert list(records.rating) == ["5", "1"] and list(records.price) == ["32.5", "18"]
    assert list(quarantine.reason_code) == [codes.EMPTY_TEXT]
    assert [len(c.records) + len(c.quarantine) for c in chunks] == [2, 1]
    assert_accounting(ing, records, quarantine)


def test_parquet_float32_values_read_as_written(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"评论": ["房间很干净", "前台态度差", "早餐一般"],
                      "评分": pa.array([4.1, 2.0, None], pa.float32())})
    pq.write_table(table, tmp_path / "ratings.parquet")
    records, _, _, _ = ingest(tmp_path / "ratings.parquet")
    assert list(records["评分"]) == ["4.1", "2", ""]  # was "4.099999904632568"


# A UUID and the first bytes of a PNG: neither is UTF-8, so neither can be read as text.
ORDER_UUID = bytes.fromhex("3f2a9c41d07e4b8a95e6017c3db2f4a8")
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def _binary_arrow_array(values: list, binary_type: str):
    import pyarrow as pa

    if binary_type == "dictionary":
        return pa.array(values, pa.binary()).dictionary_encode()
    return pa.array(values, getattr(pa, binary_type)())


@pytest.mark.parametrize("thumb_type", ["binary", "large_binary", "binary_view", "dictionary"])
def test_parquet_binary_passthrough_columns_are_kept_as_hex(tmp_path, caplog, thumb_type):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "review_id": ["b1", "b2", "b3"],
        "content": ["骑手把餐放在门口就走了", "米饭夹生，汤倒是熬得很鲜", "退款两天就到账了"],
        "order_id": pa.array([ORDER_UUID, ORDER_UUID[::-1], None], pa.binary(16)),
        "thumb": _binary_arrow_array([PNG_HEAD, None, "无图".encode()], thumb_type),
    })
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    records, quarantine, ing, _ = ingest(path)
    assert quarantine.empty and list(records.review_id) == ["b1", "b2", "b3"]
    assert list(records.order_id) == ["0x" + ORDER_UUID.hex(), "0x" + ORDER_UUID[::-1].hex(), ""]
    assert list(records.thumb) == ["0x89504e470d0a1a0a", "", "无图"]  # UTF-8 bytes stay text
    assert ing.files[0]["hex_columns"] == ["order_id", "thumb"]
    warnings = [r.getMessage() for r in caplog.records if "hex" in r.getMessage()]
    assert len(warnings) == 1 and "order_id, thumb" in warnings[0] and "orders.parquet" in warnings[0]
    assert_accounting(ing, records, quarantine)


def test_parquet_undecodable_text_bytes_still_quarantine_their_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    column = "content"
    ids = [b"c1", b"c2", b"c3"]
    texts = ["空调一直漏水".encode(), "前台态度冷淡".encode(), "床单有污渍".encode()]
    texts[1] = "前台态度冷淡".encode("gbk")
    table = pa.table({"review_id": pa.array(ids, pa.binary()), "content": pa.array(texts, pa.binary()),
                      "thumb": pa.array([PNG_HEAD] * 3, pa.binary())})
    path = tmp_path / "rooms.parquet"
    pq.write_table(table, path)
    records, quarantine, ing, _ = ingest(path)
    assert list(records.review_id) == ["c1", "c3"] and list(records.thumb) == ["0x" + PNG_HEAD.hex()] * 2
    assert list(quarantine.reason_code) == [codes.DECODE_ERROR]
    assert (quarantine.source_file[0], quarantine.source_row[0]) == (str(path), 2)
    assert quarantine.detail[0] == f"undecodable bytes in column(s) {column}"
    assert_accounting(ing, records, quarantine)


def test_parquet_binary_id_column_keeps_undecodable_ids_as_hex(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # A UUID order_id is the id column by its name; its rows are tagged under the hex of the id.
    table = pa.table({"order_id": pa.array([ORDER_UUID, b"d2"], pa.binary()),
                      "content": ["洗手池的水龙头一直滴水", "被套上有一根长头发"]})
    pq.write_table(table, tmp_path / "ids.parquet")
    records, quarantine, ing, _ = ingest(tmp_path / "ids.parquet")
    assert quarantine.empty and list(records.review_id) == ["0x" + ORDER_UUID.hex(), "d2"]
    assert ing.files[0]["id_col"] == "order_id" and ing.files[0]["hex_columns"] == ["order_id"]
    assert_accounting(ing, records, quarantine)


def test_parquet_binary_text_column_holding_utf8_is_read_as_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Writers that do not mark strings as UTF-8 leave every text column binary.
    texts = ["快递绕了一圈第四天才送到", "纸箱外缠了三层胶带，杯子一个没碎"]
    table = pa.table({"评论": pa.array([t.encode() for t in texts], pa.binary()),
                      "门店": pa.array(["城东店".encode(), "城西店".encode()], pa.large_binary())})
    pq.write_table(table, tmp_path / "plain.parquet")
    records, quarantine, ing, _ = ingest(tmp_path / "plain.parquet")
    assert list(records.text) == texts and list(records["门店"]) == ["城东店", "城西店"]
    assert quarantine.empty and ing.files[0]["hex_columns"] == []


@pytest.mark.parametrize("name, body", [
    ("shops.csv", "编号,评论,门店\n1,拉面筋道，牛肉片切得薄,".encode() + "城东店".encode("gbk") + "\n2,酸辣汤咸得发苦,城西店\n".encode()),
    ("shops.jsonl", '{"评论": "拉面筋道，牛肉片切得薄", "门店": "'.encode() + "城东店".encode("gbk")
     + '"}\n{"评论": "酸辣汤咸得发苦", "门店": "城西店"}\n'.encode()),
], ids=["csv", "jsonl"])
def test_text_formats_still_quarantine_undecodable_bytes_in_any_column(tmp_path, name, body):
    # In a text file a byte the encoding cannot read means the file's encoding is wrong, not
    # that the column holds bytes: no hex passthrough there.
    path = tmp_path / name
    path.write_bytes(body)
    records, quarantine, ing, _ = ingest(path)
    assert list(records.text) == ["酸辣汤咸得发苦"]
    assert list(quarantine.reason_code) == [codes.DECODE_ERROR] and quarantine.source_row[0] == 1
    assert quarantine.detail[0] == "undecodable bytes in column(s) 门店"
    assert ing.files[0]["hex_columns"] == []


def test_json_array_and_unsupported_and_unreadable_files(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"text": "客服回复很及时"}, "不是对象"], ensure_ascii=False), "utf-8")
    (tmp_path / "b.docx").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "c.xlsx").write_text("评论\n这不是工作簿\n", "utf-8")
    (tmp_path / "d.parquet").write_bytes(b"PAR1 broken")
    (tmp_path / "e.csv").write_text(" \n\n", "utf-8")
    inputs = sorted(tmp_path.iterdir())
    records, quarantine, ing, _ = ingest(inputs)
    assert list(records.text) == ["客服回复很及时"]
    assert list(quarantine.reason_code) == [codes.MALFORMED_ROW, codes.UNSUPPORTED_FORMAT,
                                            codes.UNREADABLE_FILE, codes.UNREADABLE_FILE, codes.EMPTY_FILE]
    assert "element 2" in quarantine.detail[0]
    assert_accounting(ing, records, quarantine)


def test_a_carriage_return_inside_a_json_line_does_not_split_it(tmp_path):
    path = tmp_path / "cr.jsonl"
    path.write_bytes(('{"id": "a",\r"text": "空调太吵"}\r\n'      # valid: \r is JSON whitespace
                      '{"id": "b", "text": "上菜慢\r等了很久"}\r\n'  # raw \r in a string: invalid
                      '{"id": "c", "text": "前台很热情"}\r\n').encode("utf-8"))
    records, quarantine, ing, _ = ingest(path)
    assert list(records.review_id) == ["a", "c"] and list(records.source_row) == [1, 3]
    assert list(quarantine.reason_code) == [codes.MALFORMED_ROW] and list(quarantine.source_row) == [2]
    assert quarantine.raw[0] == '{"id": "b", "text": "上菜慢\r等了很久"}'
    assert ing.counts["rows_read"] == 3


def test_txt_is_sniffed_as_tab_or_comma_separated(tmp_path):
    (tmp_path / "t.txt").write_text("评论\t门店\n前台很热情\t一号店\n", "utf-8")
    (tmp_path / "c.txt").write_text("评论,门店\n房间有霉味,二号店\n", "utf-8")
    records, _, ing, _ = ingest([tmp_path / "t.txt", tmp_path / "c.txt"])
    assert list(records.text) == ["前台很热情", "房间有霉味"] and list(records["门店"]) == ["一号店", "二号店"]
    assert [i["format"] for i in ing.files] == ["tsv", "csv"]


def test_txt_with_a_title_line_is_sniffed_by_its_header(tmp_path):
    # Only the first line was looked at: a title line (no tab) made the file comma-separated,
    # one column wide, with the title as the text column and the real header tagged as a review.
    (tmp_path / "t.txt").write_text("5月评价汇总\nid\t评论\n1\t菜凉了\n", "utf-8")
    (tmp_path / "u.txt").write_bytes("本月评价汇总\r\n编号\t评论\r\n2\t汤太咸\r\n".encode("utf-16"))
    records, quarantine, ing, _ = ingest([tmp_path / "t.txt", tmp_path / "u.txt"])
    assert [i["format"] for i in ing.files] == ["tsv", "tsv"]
    assert list(records.text) == ["菜凉了", "汤太咸"] and list(records.review_id) == ["1", "2"]
    assert quarantine.empty


def test_missing_input_is_a_clear_error_and_explicit_inputs_are_never_ignored(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        expand_inputs([tmp_path / "nope.csv"])
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        list(Ingestor().iter_chunks([tmp_path / "nope.csv"]))
    (tmp_path / "notes.md").write_text("# 说明", "utf-8")
    assert expand_inputs([tmp_path]) == []
    assert expand_inputs([tmp_path / "notes.md"]) == [tmp_path / "notes.md"]
    _, quarantine, _, _ = ingest(tmp_path / "notes.md")
    assert list(quarantine.reason_code) == [codes.UNSUPPORTED_FORMAT]


def test_text_from_input_is_never_used_as_a_path(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("不该被读到", "utf-8")
    path = write_csv(tmp_path / "x.csv", [["text"], [str(secret)], ["__import__('os').remove('x')"]])
    records, _, _, _ = ingest(path)
    assert list(records.text) == [str(secret), "__import__('os').remove('x')"]
    assert secret.exists() and path.exists()


def test_ingestor_rejects_nonsense_parameters():
    with pytest.raises(ValueError, match="chunk_rows"):
        Ingestor(chunk_rows=0)
    with pytest.raises(ValueError, match="max_text_chars"):
        Ingestor(max_text_chars=0)


# --- chunks, determinism, streaming ---------------------------------------------------------

def test_chunking_gives_the_same_result_as_one_chunk(corpus_run):
    records, quarantine, _, _ = corpus_run
    for size in (1, 3):
        small_records, small_quarantine, ing, chunks = ingest(CORPUS, chunk_rows=size)
        assert all(len(c.records) + len(c.quarantine) <= size for c in chunks)
        assert all(c.records.source_file.nunique() + c.quarantine.source_file.nunique() >= 1 for c in chunks)
        pd.testing.assert_frame_equal(small_records.fillna(""), records.fillna(""))
        pd.testing.assert_frame_equal(small_quarantine, quarantine)


def test_reruns_are_identical(corpus_run):
    records, quarantine, ing, _ = corpus_run
    again_records, again_quarantine, again, _ = ingest(CORPUS)
    pd.testing.assert_frame_equal(again_records, records)
    pd.testing.assert_frame_equal(again_quarantine, quarantine)
    assert again.files == ing.files and again.counts == ing.counts


def test_chunk_frames_have_the_contract_types(corpus_run):
    _, _, _, chunks = corpus_run
    for chunk in chunks:
        assert list(chunk.records.columns[:4]) == list(RECORD_COLUMNS)
        assert list(chunk.quarantine.columns) == list(QUARANTINE_COLUMNS)
        assert chunk.records.source_row.dtype == "int64" and chunk.quarantine.source_row.dtype == "int64"
        assert all(pd.api.types.is_string_dtype(chunk.records[c]) for c in chunk.records.columns if c != "source_row")
        assert chunk.records.source_file.nunique() <= 1  # a chunk never spans two files


def test_streaming_a_200k_row_file_holds_one_chunk_at_a_time(tmp_path):
    path = tmp_path / "big.csv"
    sentences = ["排队二十分钟", "服务员很热情", "菜有点咸", "环境安静"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("id,评论,门店\n")
        fh.writelines(f"r{i},{sentences[i % 4]}，第{i}条,店{i % 7}\n" for i in range(200_000))
    ing = Ingestor(chunk_rows=5000)
    sizes, last_row = [], 0
    for chunk in ing.iter_chunks([path]):
        sizes.append(len(chunk.records))
        assert chunk.records.source_row.iloc[0] == last_row + 1  # rows arrive in order, once
        last_row = int(chunk.records.source_row.iloc[-1])
    assert sizes == [5000] * 40
    assert ing.counts == {"rows_read": 200_000, "rows_accepted": 200_000, "rows_quarantined": 0, "by_reason": {}}


class _SmallHashSet(HashSet64):
    FLUSH = 64  # flush, merge and consult the bitmap within a few hundred values


def test_hash_set_answers_like_a_python_set_across_flushes_and_merges():
    import random

    rnd = random.Random(7)
    seen, compact = set(), _SmallHashSet()
    values = [rnd.getrandbits(64) - (1 << 63) for _ in range(3000)]
    # same low bits (the bitmap's), other high bits: the bitmap says "maybe", the arrays say no
    values += [v ^ (1 << 40) for v in values[:300]] + [v ^ (1 << 63) for v in values[300:600]]
    for v in values[:2000] + values[:200] + values[3000:3300]:
        assert compact.add(v) == (v not in seen)
        seen.add(v)
    assert len(compact._levels) > 1 and compact._bitmap is not None
    for v in values:
        assert (v in compact) == (v in seen), v


def test_duplicates_found_across_many_chunks_of_a_long_file(tmp_path, monkeypatch):
    monkeypatch.setattr(HashSet64, "FLUSH", 50)
    rows = [f"r{i},第{i}条评论：上菜有点慢" for i in range(400)]
    path = tmp_path / "长评论.csv"
    path.write_text("id,text\n" + "\n".join(rows + rows[:30] + ["r5,另一家店的评论：服务员很热情"]) + "\n", encoding="utf-8")
    chunks = list(Ingestor(chunk_rows=100).iter_chunks([path]))
    records = pd.concat([c.records for c in chunks])
    quarantine = pd.concat([c.quarantine for c in chunks])
    assert len(records) == 401 and (quarantine["reason_code"] == "DUPLICATE").sum() == 30
    assert records["review_id"].tolist()[-1] == "r5~2"
