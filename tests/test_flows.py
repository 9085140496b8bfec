"""Prefect flows: same tables as the plain run, artifacts, the inbox flow, the Dask task runner.

Flow tests share one session-scoped `prefect_test_harness` (its server takes 15-25 s to start) and
are marked `flow`; `pytest -m "not flow"` leaves them out.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import pipelines  # noqa: F401  (Prefect environment before Prefect is imported)
from conftest import write_dump
from cxtext import store
from cxtext.run import RunOptions, run_dump

PROJECT = Path(__file__).resolve().parents[1]


def _assert_same_tables(left: Path, right: Path) -> None:
    for name in ("reviews", "mentions", "quarantine"):
        pd.testing.assert_frame_equal(store.read_table(left / f"{name}.parquet"),
                                      store.read_table(right / f"{name}.parquet"), check_dtype=False)


@pytest.fixture(scope="module")
def plain_out(dump_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("flows") / "plain"
    run_dump([dump_dir], out, RunOptions(chunk_rows=150, workers=1, reports=False))
    return out


def test_prefect_yaml_deploys_the_inbox_flow_on_a_schedule():
    config = yaml.safe_load((PROJECT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = config["deployments"]
    path, name = deployment["entrypoint"].split(":")
    assert (PROJECT / path).is_file()
    from pipelines import flows

    assert getattr(flows, name).name == "process_inbox"
    assert deployment["schedules"][0]["cron"] == "0 2 * * *"
    assert set(deployment["parameters"]) <= set(flows.process_inbox.parameters.properties)


@pytest.mark.flow
def test_tag_dump_flow_writes_the_same_tables_and_publishes_artifacts(prefect_harness, dump_dir, plain_out, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from pipelines.flows import run_tag_dump

    options = RunOptions(chunk_rows=150, workers=2, reports=True)
    summary = run_tag_dump([str(dump_dir)], str(tmp_path / "flow"), options, warehouse=str(tmp_path / "wh.duckdb"))
    assert summary["rows_read"] == summary["rows_tagged"] + summary["rows_quarantined"] == 600
    _assert_same_tables(plain_out, tmp_path / "flow")
    assert store.verify_run_dir(tmp_path / "flow") == []
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["cxtext-tag-dump", "cxtext-tag-dump-counts"])))
    kinds = {a.key: a for a in found}
    assert "EMPTY_TEXT" in kinds["cxtext-tag-dump"].data
    table = kinds["cxtext-tag-dump-counts"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert {"measure": "rows_read", "value": 600} in rows
    with get_client(sync_client=True) as client:
        links = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["cxtext-report-html", "cxtext-report-xlsx"])))
    assert {a.key for a in links} == {"cxtext-report-html", "cxtext-report-xlsx"}
    assert all((tmp_path / "flow").resolve().as_uri() in a.data for a in links)


@pytest.mark.flow
def test_process_inbox_flow_twice_adds_zero_rows(prefect_harness, tmp_path):
    from pipelines.flows import run_process_inbox

    inbox = tmp_path / "inbox"
    write_dump(inbox / "export.csv", 250, seed=11)
    wh = tmp_path / "wh.duckdb"
    first = run_process_inbox(str(inbox), str(wh), RunOptions(chunk_rows=100, workers=1))
    second = run_process_inbox(str(inbox), str(wh), RunOptions(chunk_rows=100, workers=1))
    assert first["warehouse"]["added"]["reviews"] == first["rows_tagged"] > 0
    assert second["warehouse"]["added"] == {"reviews": 0, "mentions": 0, "quarantine": 0}
    with store.Warehouse(wh) as w:
        assert w.count("reviews") == first["rows_tagged"] and w.count("runs") == 2


@pytest.mark.flow
def test_dask_local_cluster_gives_the_same_tables_as_the_local_run(prefect_harness, dump_dir, plain_out, tmp_path):
    from pipelines.flows import run_tag_dump

    options = RunOptions(chunk_rows=150, workers=2, reports=False)
    summary = run_tag_dump([str(dump_dir)], str(tmp_path / "dask"), options, task_runner_kind="dask")
    assert summary["rows_tagged"] == 592
    _assert_same_tables(plain_out, tmp_path / "dask")
