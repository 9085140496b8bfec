"""The inbox commands' argument checks (the inbox job itself is tested in test_run.py and test_flows.py)."""
from __future__ import annotations

import argparse

import pytest

from cxtext import inbox


def test_serve_refuses_an_inbox_that_is_not_a_folder(tmp_path, monkeypatch):
    import pipelines.flows

    served = []
    monkeypatch.setattr(pipelines.flows, "serve_inbox", lambda *a, **k: served.append(a))
    (tmp_path / "评价.csv").write_text("id,content\n1,上菜太慢\n", encoding="utf-8")
    for wrong in (tmp_path / "no-such-inbox", tmp_path / "评价.csv"):
        args = argparse.Namespace(inbox=str(wrong), warehouse=str(tmp_path / "wh.duckdb"), cron="0 2 * * *", name="n")
        with pytest.raises(SystemExit, match="must be a folder"):
            inbox.serve_command(args)
    assert served == []


def test_the_inbox_flow_refuses_a_file_before_doing_any_work(tmp_path):
    # A deployment's parameters (prefect.yaml) may name a file; the flow must not load it as a dump.
    from pipelines.flows import process_inbox

    dump = tmp_path / "评价.csv"
    dump.write_text("id,content\n1,上菜太慢\n", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        process_inbox.fn(str(dump), warehouse=str(tmp_path / "wh.duckdb"))
    assert not (tmp_path / "wh.duckdb").exists()


def test_process_inbox_refuses_a_missing_folder(tmp_path):
    from cxtext.run import RunOptions

    with pytest.raises(NotADirectoryError, match="must be a folder"):
        inbox.process_inbox(tmp_path / "no-such-inbox", tmp_path / "wh.duckdb", RunOptions())
