"""The run job end to end (real ingest, tagger and writers), its crash safety and the inbox job."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import write_dump
from cxtext import codes, store
from cxtext.cli import main
from cxtext.inbox import process_inbox
from cxtext.run import (RunOptions, ordered_results, pieces_with_unique_ids, retag_warehouse, run_dump,
                        summary_markdown, summary_rows)

PROJECT = Path(__file__).resolve().parents[1]
BAD_INPUTS = PROJECT / "tests" / "data" / "bad_inputs"


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: store.read_table(out / f"{name}.parquet") for name in ("reviews", "mentions", "quarantine")}


def _same_tables(left: Path, right: Path) -> None:
    a, b = _tables(left), _tables(right)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False)


# --------------------------------------------------------------------------- pure helpers


class _Slow:
    """A future that records how many were pending when it was resolved."""

    def __init__(self, value, pending):
        self.value, self.pending = value, pending

    def result(self):
        self.pending.remove(self.value)
        return self.value * 10


def test_ordered_results_keeps_input_order_and_bounds_in_flight():
    pending: list[int] = []
    seen_max = []

    def submit(item):
        pending.append(item)
        seen_max.append(len(pending))
        return _Slow(item, pending)

    out = list(ordered_results(range(7), submit, max_inflight=3))
    assert out == [(i, i * 10) for i in range(7)]
    assert max(seen_max) == 3


def test_summary_rows_and_markdown_name_counts_reasons_and_pain_points():
    summary = {"run_id": "x", "kind": "run", "rows_read": 10, "rows_tagged": 8, "rows_quarantined": 2,
               "mentions": 5, "quarantined_by_reason": {"EMPTY_TEXT": 2},
               "pain_points": {"waiting_time": 3, "hygiene": 1}, "timings_s": {"total": 1.0}}
    rows = {r["measure"]: r["value"] for r in summary_rows(summary)}
    assert rows["rows_read"] == 10 and rows["quarantined: EMPTY_TEXT"] == 2
    assert rows["pain point: waiting_time"] == 3
    md = summary_markdown(summary)
    assert "| pain point: hygiene | 1 |" in md and md.startswith("# cxtext run x")


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def plain_run(dump_dir, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("plain") / "run"
    summary = run_dump([dump_dir], out, RunOptions(chunk_rows=150, workers=1, reports=False))
    return out, summary


def test_run_writes_the_output_contract(plain_run):
    out, summary = plain_run
    assert store.verify_run_dir(out) == []
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["rows_read"] == info["rows_tagged"] + info["rows_quarantined"] == 600
    assert info["quarantined_by_reason"] == {"DUPLICATE": 2, "EMPTY_TEXT": 6}
    assert {f["encoding"] for f in info["inputs"]} >= {"utf-8", "gb18030"}
    assert info["resources"]["lexicon"]["sha256"] and "tag" in info["timings_s"]
    t = _tables(out)
    assert list(t["mentions"].columns) == store.MENTIONS_SCHEMA.names
    assert {"review_id", "text", "text_norm", "sentiment", "sentiment_score", "source_file", "source_row",
            "门店", "评分"} <= set(t["reviews"].columns)
    reviews = t["reviews"].set_index("review_id")
    for m in t["mentions"].itertuples():
        assert reviews.loc[m.review_id, "text"][m.start:m.end] == m.evidence
    assert set(t["quarantine"]["reason_code"]) <= set(codes.REASONS)
    # reviews from the GB18030 file read back as the Chinese we wrote
    assert reviews.loc["r1000", "门店"] in ("静安店", "徐汇店", "浦东店")


def test_csv_export_is_excel_friendly_and_formula_safe(plain_run):
    out, _ = plain_run
    raw = (out / "reviews.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    csv_reviews = pd.read_csv(out / "reviews.csv", encoding="utf-8-sig", dtype=str)
    assert (csv_reviews["text"] == "'=1+1 结账的时候多收了钱").sum() == 2  # one per file
    assert not csv_reviews["text"].str.match(r"^[=+\-@]").any()


def test_two_workers_give_the_same_tables_as_one(plain_run, dump_dir, tmp_path):
    out, _ = plain_run
    run_dump([dump_dir], tmp_path / "w2", RunOptions(chunk_rows=150, workers=2, reports=False))
    _same_tables(out, tmp_path / "w2")


def test_rerun_into_the_same_directory_replaces_it_identically(plain_run, dump_dir, tmp_path):
    out, _ = plain_run
    again = tmp_path / "again"
    for _ in range(2):
        run_dump([dump_dir], again, RunOptions(chunk_rows=150, workers=1, reports=False))
    _same_tables(out, again)
    assert store.verify_run_dir(again) == []
    assert not list(again.glob(".staging-*"))


# --------------------------------------------------------------------------- warehouse and inbox


def test_second_process_inbox_adds_zero_rows_and_new_file_adds_only_its_rows(tmp_path):
    inbox = tmp_path / "inbox"
    write_dump(inbox / "day1.csv", 300, seed=3)
    wh = tmp_path / "wh.duckdb"
    first = process_inbox(inbox, wh, RunOptions(chunk_rows=100))
    assert first["warehouse"]["added"] == {"reviews": 296, "mentions": first["mentions"], "quarantine": 4}
    second = process_inbox(inbox, wh, RunOptions(chunk_rows=100))
    assert second["warehouse"]["added"] == {"reviews": 0, "mentions": 0, "quarantine": 0}
    assert second["rows_read"] == 0 and len(second["files_skipped"]) == 1
    # day 2's export repeats day 1's first 100 rows and adds 50 new ones
    write_dump(inbox / "day2.csv", 100, seed=3)
    write_dump(inbox / "day2_extra.csv", 50, seed=9, start_id=5000)
    third = process_inbox(inbox, wh, RunOptions(chunk_rows=100))
    assert third["rows_known"] > 0
    with store.Warehouse(wh) as w:
        assert third["warehouse"]["added"]["reviews"] == w.count("reviews") - 296
        dupes = w.query("SELECT count(*) - count(DISTINCT content_hash) AS d FROM reviews")["d"][0]
        assert dupes == 0 and w.count("runs") == 3


class _FileHashes:
    """Counts the sha256 computations fed with a given file's first bytes (the file hashed whole,
    as opposed to the per-row content hashes, which never start with a CSV header)."""

    def __init__(self, monkeypatch, head: bytes):
        import hashlib

        real, hashes = hashlib.sha256, self

        class Watching:
            def __init__(self, data=b""):
                self._real, self._fed = real(data), bool(data)

            def update(self, block):
                if not self._fed and block.startswith(head):
                    hashes.count += 1
                self._fed = True
                self._real.update(block)

            def __getattr__(self, name):
                return getattr(self._real, name)

        self.count = 0
        monkeypatch.setattr(hashlib, "sha256", Watching)


def test_inbox_hashes_each_file_once_and_records_that_hash(tmp_path, monkeypatch):
    # The warehouse's known-file check and the sha256 recorded for the file are one hash, taken
    # through the file that is then read (they were two full reads and hashes of every file).
    import hashlib

    path = write_dump(tmp_path / "inbox" / "day1.csv", 300, seed=3)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    hashes = _FileHashes(monkeypatch, path.read_bytes()[:64])
    wh = tmp_path / "wh.duckdb"
    first = process_inbox(tmp_path / "inbox", wh, RunOptions(chunk_rows=100))
    assert hashes.count == 1 and first["rows_read"] == 300
    with store.Warehouse(wh) as w:
        assert w.query("SELECT sha256 FROM input_files")["sha256"].tolist() == [expected]
    second = process_inbox(tmp_path / "inbox", wh, RunOptions(chunk_rows=100))
    assert hashes.count == 2 and second["rows_read"] == 0
    assert second["files_skipped"] == [{"path": str(path), "sha256": expected}]


def test_run_with_warehouse_twice_adds_nothing_the_second_time(dump_dir, tmp_path):
    wh = tmp_path / "wh.duckdb"
    first = run_dump([dump_dir], tmp_path / "o1", RunOptions(chunk_rows=200, reports=False), warehouse=wh)
    second = run_dump([dump_dir], tmp_path / "o2", RunOptions(chunk_rows=200, reports=False), warehouse=wh)
    assert first["warehouse"]["added"]["reviews"] == first["rows_tagged"]
    assert second["warehouse"]["added"] == {"reviews": 0, "mentions": 0, "quarantine": 0}


def test_retag_updates_rows_tagged_with_older_lexicons(dump_dir, tmp_path):
    lex = tmp_path / "lexicons"
    import shutil

    shutil.copytree(PROJECT / "lexicons", lex)
    wh = tmp_path / "wh.duckdb"
    run_dump([dump_dir], None, RunOptions(chunk_rows=300, spec=_spec(lex)), warehouse=wh)
    (lex / "VERSION").write_text("9999.1.1\n", encoding="utf-8")  # a new lexicon release
    rc = main(["run", str(dump_dir / "a_门店评价.csv"), "--out", str(tmp_path / "o"), "--warehouse", str(wh),
               "--retag", "--lexicons", str(lex), "--workers", "1", "--no-reports"])
    assert rc == 0
    with store.Warehouse(wh) as w:
        versions = w.query("SELECT DISTINCT resources_hash FROM reviews")
        assert len(versions) == 1
        runs = w.query("SELECT kind, reviews_retagged FROM runs ORDER BY run_id")
        assert runs["reviews_retagged"].max() == 592
        assert w.query("SELECT count(*) - count(DISTINCT content_hash) AS d FROM reviews")["d"][0] == 0


def test_retag_keeps_mentions_with_their_review_when_two_dumps_share_ids(tmp_path):
    # Two stores' exports both number their reviews from 1; the warehouse holds both, and a re-tag
    # reads them back in one batch: each review must get its own mentions again.
    (tmp_path / "a.csv").write_text("id,text\n1,排队排了一个小时，太慢了\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,text\n1,房间很干净，前台也热情\n", encoding="utf-8")
    wh = tmp_path / "wh.duckdb"
    for name in ("a.csv", "b.csv"):
        run_dump([tmp_path / name], None, RunOptions(workers=1, reports=False), warehouse=wh)
    query = ("SELECT r.text, m.category FROM mentions m JOIN reviews r USING (content_hash) "
             "ORDER BY r.text, m.category")
    with store.Warehouse(wh) as w:
        before = w.query(query)
        w.con.execute("UPDATE reviews SET resources_hash = 'an older lexicon'").fetchall()
    assert set(before["category"]) >= {"waiting_time", "hygiene", "staff_attitude"}
    assert retag_warehouse(wh, RunOptions(workers=1, reports=False)) == 2
    with store.Warehouse(wh) as w:
        after = w.query(query)
    pd.testing.assert_frame_equal(after, before)


def test_pieces_with_unique_ids_keep_every_row_once():
    records = pd.DataFrame({"review_id": ["1", "2", "1", "1", "3"], "text": list("abcde")})
    pieces = pieces_with_unique_ids(records)
    assert [p["review_id"].is_unique for p in pieces] == [True, True, True]
    assert sorted(t for p in pieces for t in p["text"]) == list("abcde")
    assert len(pieces_with_unique_ids(records.iloc[:0])) == 1


def test_a_session_refuses_workers_started_for_other_resources(tmp_path):
    # It would tag with the workers' lexicons while its options name others.
    from cxtext.run import ResourceSpec, RunSession

    started_for = ResourceSpec(lexicon_dir=str(tmp_path / "other-lexicons")).with_fingerprint()
    with pytest.raises(ValueError, match="other-lexicons"):
        RunSession([tmp_path], tmp_path / "out", None, RunOptions(), spec=started_for)
    same = ResourceSpec().with_fingerprint()
    assert RunSession([tmp_path], tmp_path / "out", None, RunOptions(), spec=same).spec is same


def _spec(lexicon_dir: Path):
    from cxtext.run import ResourceSpec

    return ResourceSpec(lexicon_dir=str(lexicon_dir))


# --------------------------------------------------------------------------- crash safety


def _wait_for(predicate, proc, timeout=120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.005)
    return False


def test_sigkill_midway_then_rerun_gives_exactly_the_right_rows(plain_run, dump_dir, tmp_path):
    ref_out, reference = plain_run  # the same dump, run once without interruption
    out, wh = tmp_path / "out", tmp_path / "wh.duckdb"
    args = [sys.executable, "-m", "cxtext.cli", "run", str(dump_dir), "--out", str(out), "--warehouse", str(wh),
            "--chunk-rows", "20", "--workers", "1", "--no-reports"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill as soon as the first of 30 chunks is tagged and staged, long before the run can finish
    staged = lambda: any(p.stat().st_size > 0 for p in out.glob(".staging-*/reviews.parquet.part*"))  # noqa: E731
    assert _wait_for(staged, proc), "the run finished or failed before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL

    assert not (out / "run.json").exists()  # nothing committed: the directory reads as unfinished
    with store.Warehouse(wh) as w:
        assert w.count("reviews") == 0 and w.count("runs") == 0

    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert store.verify_run_dir(out) == []
    assert not list(out.glob(".staging-*"))
    _same_tables(ref_out, out)
    expected = _tables(ref_out)
    with store.Warehouse(wh) as w:
        hashes = w.query("SELECT content_hash FROM reviews")["content_hash"].tolist()
        assert sorted(hashes) == sorted(store.content_hashes(expected["reviews"]))
        q = w.query("SELECT quarantine_hash FROM quarantine")["quarantine_hash"].tolist()
        assert sorted(q) == sorted(store.quarantine_hashes(expected["quarantine"]))
        assert w.count("mentions") == reference["mentions"] == len(expected["mentions"])
        assert w.count("runs") == 1


# --------------------------------------------------------------------------- bad-input corpus


def test_bad_input_corpus_runs_to_the_end_with_every_row_accounted(tmp_path):
    if not BAD_INPUTS.is_dir():
        pytest.skip(f"{BAD_INPUTS} is missing (written by tests/data/make_bad_inputs.py)")
    out = tmp_path / "bad"
    # the real command in a fresh interpreter, which must not import Prefect for a plain run
    code = (
        "import sys; from cxtext.cli import main; "
        f"rc = main(['run', {str(BAD_INPUTS)!r}, '--out', {str(out)!r}, '--workers', '1']); "
        "print('PREFECT' if 'prefect' in sys.modules else 'NO-PREFECT', rc)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "NO-PREFECT 0" in done.stdout
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["rows_read"] == info["rows_tagged"] + info["rows_quarantined"]
    assert info["rows_quarantined"] > 0 and info["rows_tagged"] > 0
    t = _tables(out)
    assert t["quarantine"]["reason_code"].isin(list(codes.REASONS)).all()
    assert (t["quarantine"]["detail"].str.len() > 0).all()
    tagged_files = set(t["reviews"]["source_file"])
    for f in info["inputs"]:
        if f.get("rows_accepted"):
            assert f["path"] in tagged_files, f"good rows of {f['path']} ({f['encoding']}) were not tagged"
    assert store.verify_run_dir(out) == []


def test_chunk_manifest_is_the_resources_manifest_and_each_chunk_gets_its_own():
    from cxtext.run import ResourceSpec, process_resources, tag_chunk

    spec = ResourceSpec().with_fingerprint()
    records = pd.DataFrame({"review_id": ["a1", "a2"], "text": ["上菜太慢了", "前台服务员态度很热情"],
                            "source_file": ["x.csv", "x.csv"], "source_row": [1, 2]})
    first = tag_chunk(records, spec)
    assert first.manifest == process_resources(spec).manifest()
    first.manifest["added_by_caller"] = True
    assert "added_by_caller" not in tag_chunk(records, spec).manifest
