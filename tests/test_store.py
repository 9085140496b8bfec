"""Run-directory writers and the DuckDB warehouse, fed with hand-made tagged frames."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cxtext import store

MANIFEST_A = {"lexicon": {"version": "1", "sha256": "aaa"}, "model": {"name": "m", "sha256": "mmm"}}
MANIFEST_B = {"lexicon": {"version": "2", "sha256": "bbb"}, "model": {"name": "m", "sha256": "mmm"}}


def _reviews(ids, texts, **extra) -> pd.DataFrame:
    n = len(ids)
    df = pd.DataFrame(
        {
            "review_id": ids,
            "text": texts,
            "source_file": ["店铺评价.csv"] * n,
            "source_row": list(range(1, n + 1)),
            "text_norm": texts,
            "sentiment": ["neg"] * n,
            "sentiment_score": [0.2] * n,
        }
    )
    for key, values in extra.items():
        df[key] = values
    return df


def _mentions(ids, category="waiting_time") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "review_id": ids,
            "category": [category] * len(ids),
            "stage": ["arrival"] * len(ids),
            "polarity": ["neg"] * len(ids),
            "start": [0] * len(ids),
            "end": [2] * len(ids),
            "evidence": ["排队"] * len(ids),
            "rule": ["kw:排队"] * len(ids),
            "confidence": [0.9] * len(ids),
        }
    )


def _quarantine(rows) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": ["店铺评价.csv"] * len(rows),
            "source_row": rows,
            "reason_code": ["EMPTY_TEXT"] * len(rows),
            "detail": ["文本为空"] * len(rows),
            "raw": [""] * len(rows),
        }
    )


EMPTY_Q = _quarantine([])


def test_formula_cells_are_neutralised_and_others_kept():
    df = pd.DataFrame({"text": ["=HYPERLINK(\"x\")", "+86 电话", "-差评", "@客服", "服务很好", None], "n": range(6)})
    out = store.neutralise_frame(df)
    assert out["text"].tolist()[:5] == ["'=HYPERLINK(\"x\")", "'+86 电话", "'-差评", "'@客服", "服务很好"]
    assert out["n"].tolist() == list(range(6))
    assert df["text"][0].startswith("=")  # input untouched


def test_parquet_sink_merges_parts_with_different_passthrough_columns(tmp_path):
    sink = store.ParquetSink(tmp_path / "reviews.parquet")
    sink.write(_reviews(["a1"], ["排队等了一个小时"], store=["朝阳店"]))
    sink.write(_reviews(["b1", "b2"], ["前台态度很差", "房间有异味"], rating=[1, 2]))
    sink.write(_reviews([], []))
    assert sink.close() == 3
    table = pq.read_table(tmp_path / "reviews.parquet").to_pandas()
    assert table["review_id"].tolist() == ["a1", "b1", "b2"]
    assert table["store"].tolist()[0] == "朝阳店" and pd.isna(table["store"].tolist()[1])
    assert table["rating"].tolist()[1:] == [1, 2]
    assert not list(tmp_path.glob("*.part*"))


def test_closing_a_sink_again_keeps_its_file(tmp_path):
    sink = store.ParquetSink(tmp_path / "reviews.parquet")
    sink.write(_reviews(["a1"], ["排队等了一个小时"], store=["朝阳店"]))
    sink.write(_reviews(["b1"], ["前台态度很差"], rating=[1]))
    assert sink.close() == 2
    assert sink.close() == 2  # a retried task closes its sinks again
    assert pq.read_table(tmp_path / "reviews.parquet").num_rows == 2


def test_warehouse_load_can_be_retried_after_a_failed_transaction(tmp_path):
    stage = store.WarehouseStage(tmp_path / "r1")
    stage.add(_reviews(["a1"], ["上菜太慢"]), _mentions(["a1"]), _quarantine([2]), MANIFEST_A)
    with store.Warehouse(tmp_path / "wh.duckdb") as wh:
        broken = dict(stage.close(), quarantine=tmp_path / "does-not-exist.parquet")
        with pytest.raises(Exception):
            wh.commit_run(broken, {"run_id": "r1"}, [])
        assert wh.commit_run(stage.close(), {"run_id": "r1"}, []) == {"reviews": 1, "mentions": 1, "quarantine": 1}


def test_run_dir_commit_writes_contract_files_and_verifies(tmp_path):
    out = tmp_path / "run"
    stage = store.RunDir(out, "r1")
    assert not (out / "run.json").exists()
    stage.add(_reviews(["a1", "a2"], ["=SUM(A1) 价格太贵", "服务员很热情"]), _mentions(["a1"]), _quarantine([3]))
    info = stage.commit({"run_id": "r1", "rows_read": 3})
    assert info["outputs"]["reviews.parquet"]["rows"] == 2
    assert store.verify_run_dir(out) == []
    csv = (out / "reviews.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")  # BOM so Excel reads UTF-8 Chinese
    assert "'=SUM(A1) 价格太贵" in csv.decode("utf-8-sig")
    assert not list(out.glob(".staging-*"))
    # a changed file no longer matches run.json
    (out / "mentions.parquet").write_bytes(b"x")
    assert any("mentions.parquet" in p for p in store.verify_run_dir(out))


def test_run_dir_without_rows_still_has_every_column(tmp_path):
    stage = store.RunDir(tmp_path, "r0")
    stage.add(_reviews([], []), _mentions([]), EMPTY_Q)
    stage.commit({"run_id": "r0"})
    assert pq.read_schema(tmp_path / "mentions.parquet").names == store.MENTIONS_SCHEMA.names
    assert pq.read_schema(tmp_path / "reviews.parquet").names == [
        "review_id", "text", "text_norm", "sentiment", "sentiment_score", "tenure", "is_complaint_log",
        "n_mentions", "n_pain_points", "source_file", "source_row"]  # docs/outputs.md, even with no rows


def test_csv_header_of_passthrough_columns_is_neutralised(tmp_path):
    stage = store.RunDir(tmp_path, "r1")
    stage.add(_reviews(["a1"], ["上菜太慢"], **{"=HYPERLINK(\"x\")": ["朝阳店"], "@门店": ["东店"]}),
              _mentions(["a1"]), EMPTY_Q)
    stage.commit({"run_id": "r1"})
    header = (tmp_path / "reviews.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith(',"\'=HYPERLINK(""x"")",\'@门店')
    assert pq.read_schema(tmp_path / "reviews.parquet").names[-1] == "@门店"  # Parquet keeps the real names


def test_csv_copies_written_chunk_by_chunk_match_the_parquet_files(tmp_path):
    stage = store.RunDir(tmp_path / "run", "r1")
    stage.add(_reviews(["a1", "a2"], ["排队排了四十分钟", "+86 的号码打不通"], store=["朝阳店", None]),
              _mentions(["a1"]), EMPTY_Q)
    stage.add(_reviews(["b1"], ["服务员态度冷淡"], store=["东店"]), _mentions(["b1"], "staff_attitude"), _quarantine([7]))
    assert stage.reviews.parts == 1  # same columns: the CSV copy is the one written chunk by chunk
    stage.commit({"run_id": "r1"})
    for name in store.CSV_FILES:
        store.parquet_to_csv(tmp_path / "run" / name.replace(".csv", ".parquet"), tmp_path / name)
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / name).read_bytes()
    reviews = pd.read_csv(tmp_path / "run" / "reviews.csv", encoding="utf-8-sig")
    assert reviews["review_id"].tolist() == ["a1", "a2", "b1"]
    assert reviews["text"].tolist()[1] == "'+86 的号码打不通"
    assert pd.read_csv(tmp_path / "run" / "mentions.csv", encoding="utf-8-sig")["category"].tolist() == [
        "waiting_time", "staff_attitude"]


def test_csv_copy_has_every_column_when_input_files_differ(tmp_path):
    stage = store.RunDir(tmp_path, "r1")
    stage.add(_reviews(["a1"], ["上菜太慢"], store=["朝阳店"]), _mentions(["a1"]), EMPTY_Q)
    stage.add(_reviews(["b1"], ["卫生间有点脏"], rating=[2]), _mentions(["b1"], "hygiene"), EMPTY_Q)
    stage.commit({"run_id": "r1"})
    reviews = pd.read_csv(tmp_path / "reviews.csv", encoding="utf-8-sig")
    assert reviews.columns[-2:].tolist() == ["store", "rating"]
    assert reviews["store"].tolist()[0] == "朝阳店" and pd.isna(reviews["store"].tolist()[1])
    assert reviews["rating"].tolist()[1] == 2
    assert store.verify_run_dir(tmp_path) == []


def test_csv_copies_without_rows_have_their_headers(tmp_path):
    stage = store.RunDir(tmp_path, "r0")
    stage.add(_reviews([], []), _mentions([]), EMPTY_Q)
    stage.commit({"run_id": "r0"})
    header = (tmp_path / "mentions.csv").read_text(encoding="utf-8-sig").strip()
    assert header.split(",") == store.MENTIONS_SCHEMA.names


def test_abandoned_staging_is_cleared_by_next_run(tmp_path):
    store.RunDir(tmp_path, "killed")  # a run that died before commit
    assert (tmp_path / ".staging-killed").is_dir()
    store.RunDir(tmp_path, "next")
    assert not (tmp_path / ".staging-killed").exists()


def test_directory_lock_refuses_a_second_writer(tmp_path):
    with store.directory_lock(tmp_path):
        with pytest.raises(RuntimeError, match="another cxtext run"):
            with store.directory_lock(tmp_path):
                pass
    with store.directory_lock(tmp_path):  # released
        pass


def _stage_and_commit(wh, tmp_path, run_id, reviews, mentions, quarantine, manifest=MANIFEST_A):
    stage = store.WarehouseStage(tmp_path / run_id)
    stage.add(reviews, mentions, quarantine, manifest)
    run = {"run_id": run_id, "kind": "test", "rows_read": len(reviews) + len(quarantine)}
    return wh.commit_run(stage.close(), run, [{"sha256": run_id, "path": "x.csv", "size": 1}])


def test_warehouse_is_incremental_by_content_hash(tmp_path):
    reviews = _reviews(["a1", "a2", "a1"], ["排队太久了", "卫生间很脏", "排队太久了"], store=["东店", "西店", "东店"])
    with store.Warehouse(tmp_path / "wh.duckdb") as wh:
        added = _stage_and_commit(wh, tmp_path, "r1", reviews, _mentions(["a1", "a2", "a1"]), _quarantine([4]))
        assert added == {"reviews": 2, "mentions": 2, "quarantine": 1}
        again = _stage_and_commit(wh, tmp_path, "r2", reviews, _mentions(["a1", "a2", "a1"]), _quarantine([4]))
        assert again == {"reviews": 0, "mentions": 0, "quarantine": 0}
        assert wh.count("runs") == 2 and wh.count("reviews") == 2
        extra = json.loads(wh.query("SELECT extra FROM reviews WHERE review_id = 'a2'")["extra"][0])
        assert extra == {"store": "西店"}
        assert wh.known_reviews([store.content_hash("a1", "排队太久了"), "nope"]) == {
            store.content_hash("a1", "排队太久了")
        }


def test_warehouse_that_cannot_create_its_tables_closes_the_connection(tmp_path, monkeypatch):
    import duckdb

    opened = []
    real_connect = duckdb.connect

    def connect(*args, **kwargs):
        opened.append(real_connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(duckdb, "connect", connect)
    monkeypatch.setattr(store, "WAREHOUSE_DDL", "CREATE TABLE reviews (")  # the step after connect fails
    path = tmp_path / "wh.duckdb"
    with pytest.raises(RuntimeError, match="wh.duckdb: cannot create the warehouse tables"):
        store.Warehouse(path)
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("SELECT 1").fetchall()  # closed: the constructor did not leave it open
    # Nothing in this process holds the file any more: a read-only open is refused while any
    # connection to it (read-write) is still alive.
    real_connect(str(path), read_only=True).close()


def test_failed_commit_leaves_warehouse_unchanged(tmp_path):
    with store.Warehouse(tmp_path / "wh.duckdb") as wh:
        stage = store.WarehouseStage(tmp_path / "r1")
        stage.add(_reviews(["a1"], ["上菜太慢"]), _mentions(["a1"]), EMPTY_Q, MANIFEST_A)
        staged = stage.close()
        staged["quarantine"] = tmp_path / "does-not-exist.parquet"
        with pytest.raises(Exception):
            wh.commit_run(staged, {"run_id": "r1"}, [])
        assert wh.count("reviews") == 0 and wh.count("runs") == 0


def test_retag_replaces_mentions_of_stale_rows_only(tmp_path):
    with store.Warehouse(tmp_path / "wh.duckdb") as wh:
        _stage_and_commit(wh, tmp_path, "r1", _reviews(["a1", "a2"], ["排队太久了", "价格实惠"]),
                          _mentions(["a1", "a2"]), EMPTY_Q)
        stale = wh.stale_reviews(store.resources_hash(MANIFEST_B))
        assert len(stale) == 2
        rows = wh.fetch_reviews(stale)
        records = store.records_from_warehouse(rows)
        assert set(records.columns) >= {"review_id", "text", "source_file", "source_row"}
        stage = store.WarehouseStage(tmp_path / "retag")
        stage.add(_reviews(records["review_id"].tolist(), records["text"].tolist()),
                  _mentions(["a1"], category="price"), EMPTY_Q, MANIFEST_B)
        assert wh.commit_retag(stage.close(), {"run_id": "t1", "kind": "retag"}) == 2
        assert wh.query("SELECT category FROM mentions")["category"].tolist() == ["price"]
        assert wh.stale_reviews(store.resources_hash(MANIFEST_B)) == []
        assert wh.query("SELECT DISTINCT lexicon_sha256 FROM reviews")["lexicon_sha256"].tolist() == ["bbb"]
