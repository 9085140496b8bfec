"""The `cxtext` command line: user mistakes end in a message that says what and where, exit 2."""
from __future__ import annotations

from pathlib import Path

import pytest

from cxtext.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _one_review_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("id,text\n1,前台小姐姐态度很好，就是等了四十分钟才办完入住。\n", encoding="utf-8")
    return path


def test_unknown_sentiment_model_is_a_message_not_a_traceback(tmp_path, capsys):
    missing = tmp_path / "no-such-model"
    code = main(["run", str(_one_review_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--sentiment", str(missing), "--no-reports"])
    err = capsys.readouterr().err
    assert code == 2
    assert "cxtext run:" in err and "no-such-model" in err
    assert "Traceback" not in err


def test_model_folder_missing_its_files_names_the_file(tmp_path, capsys):
    model_dir = tmp_path / "half-model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text("{}", encoding="utf-8")
    code = main(["run", str(_one_review_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--sentiment", str(model_dir), "--no-reports"])
    err = capsys.readouterr().err
    assert code == 2
    assert "half-model" in err and "weights.npz" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_broken_lexicon_folder_names_file_and_line(tmp_path, capsys, workers):
    # With two workers the folder is loaded in the worker processes: the message must still come
    # back whole (it did not: a failing pool initializer only said "terminated abruptly").
    import shutil

    lexicons = tmp_path / "lexicons"
    shutil.copytree(Path(__file__).resolve().parents[1] / "lexicons", lexicons)
    negators = lexicons / "shared" / "negators.tsv"
    lines = negators.read_text(encoding="utf-8").splitlines()
    lines.append("这一行没有制表符")  # a row without the tab-separated columns the schema needs
    negators.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["run", str(_one_review_file(tmp_path)), "--out", str(tmp_path / "out"),
                 "--lexicons", str(lexicons), "--no-reports", "--workers", workers])
    err = capsys.readouterr().err
    assert code == 2
    assert f"negators.tsv:{len(lines)}" in err
    assert "Traceback" not in err


def test_two_workers_started_early_give_the_tables_of_one(tmp_path, monkeypatch):
    import pandas as pd

    from cxtext import run, workers

    # The run tags with the spec its early workers loaded: one fingerprint of the lexicon and model
    # files, not a second one that a lexicon edited meanwhile would make differ from the workers'.
    fingerprints, sessions, real_fingerprint, real_execute = [], [], workers.resource_fingerprint, run.execute
    monkeypatch.setattr(workers, "resource_fingerprint", lambda spec: fingerprints.append(spec) or real_fingerprint(spec))
    monkeypatch.setattr(run, "execute", lambda session, pool=None: sessions.append((session.spec, pool and pool.spec))
                        or real_execute(session, pool))
    rows = ["id,text"] + [f"{i},第{i}位客人：排队等了{i % 50 + 5}分钟，前台态度{'很好' if i % 3 else '很差'}。"
                          for i in range(1, 401)]
    dump = tmp_path / "dump.csv"
    dump.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for workers_arg in ("1", "2"):
        fingerprints.clear()
        assert main(["run", str(dump), "--out", str(tmp_path / f"w{workers_arg}"), "--workers", workers_arg,
                     "--chunk-rows", "100", "--no-reports"]) == 0
        assert len(fingerprints) == 1
    session_spec, pool_spec = sessions[-1]
    assert pool_spec == session_spec and session_spec.token
    for table in ("reviews", "mentions"):
        one = pd.read_parquet(tmp_path / "w1" / f"{table}.parquet")
        two = pd.read_parquet(tmp_path / "w2" / f"{table}.parquet")
        pd.testing.assert_frame_equal(one, two)


def test_early_pool_only_for_plain_runs_on_several_processes(tmp_path):
    import argparse

    from cxtext.workers import early_pool

    def args(**kw):
        base = dict(inputs=[str(SAMPLE)], workers=0, prefect=False, task_runner="local",
                    lexicons=None, sentiment="default", backend="jieba")
        return argparse.Namespace(**{**base, **kw})

    small = args()
    assert early_pool(small) is None and small.workers == 1  # the bundled sample: one process
    assert early_pool(args(workers=2, prefect=True)) is None  # Prefect runs start their own
    assert early_pool(args(workers=2, task_runner="dask")) is None
    assert early_pool(args(inputs=[str(tmp_path / "missing.csv")])) is None  # the run reports it


def test_workers_0_counts_only_the_files_the_run_reads(tmp_path):
    # A folder's hidden files and files of unknown extensions are not read, so they must not make
    # a small dump look big enough for several processes (they did: 6 MB of them started a pool
    # for 60 bytes of reviews), and the early count is the one the run itself makes.
    import argparse

    from cxtext.run import RunOptions, RunSession
    from cxtext.workers import early_pool, input_bytes

    folder = tmp_path / "exports"
    folder.mkdir()
    dump = folder / "五月.csv"
    dump.write_text("id,text\n1,退房时前台结账很快。\n", encoding="utf-8")
    (folder / ".五月.csv.swp").write_bytes(b"\0" * 3_000_000)
    (folder / "五月.zip").write_bytes(b"\0" * 3_000_000)
    args = argparse.Namespace(inputs=[str(folder)], workers=0, prefect=False, task_runner="local",
                              lexicons=None, sentiment="default", backend="jieba")
    pool = early_pool(args)
    if pool is not None:
        pool.shutdown(cancel_futures=True)
    assert pool is None and args.workers == 1
    assert input_bytes([folder]) == dump.stat().st_size
    with RunSession([folder], tmp_path / "out", None, RunOptions()) as session:
        session.discover()
        assert session.input_bytes == dump.stat().st_size


def test_the_workers_module_does_not_import_pandas_or_numpy():
    # The command imports it first to start workers early; pandas and NumPy would delay them.
    import subprocess
    import sys

    code = ("import sys, cxtext.workers; "
            "print(sorted(m for m in ('pandas', 'numpy', 'cxtext.tagger', 'cxtext.ingest') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_fork_server_preload_loads_the_spec_it_is_given_and_nothing_otherwise():
    # Workers forked from the pool's fork server start with the resources it loaded at its start
    # (cxtext._preload reads the spec from the environment the pool sets for the server only).
    import subprocess
    import sys

    code = ("import dataclasses, gc, json, os, sys\n"
            "from cxtext.workers import PRELOAD_ENV, ResourceSpec, _PROCESS_RESOURCES\n"
            "spec = ResourceSpec().with_fingerprint()\n"
            "if sys.argv[1] == 'set':\n"
            "    os.environ[PRELOAD_ENV] = json.dumps(dataclasses.asdict(spec))\n"
            "import cxtext._preload\n"
            "print(list(_PROCESS_RESOURCES) == [spec], gc.get_freeze_count() > 0)\n")
    runs = {how: subprocess.run([sys.executable, "-c", code, how], capture_output=True, text=True, check=True)
            for how in ("set", "unset")}
    assert runs["set"].stdout.split() == ["True", "True"]
    assert runs["unset"].stdout.split() == ["False", "False"]


def test_a_pool_tags_with_workers_forked_from_the_preloaded_server_where_there_is_one():
    import multiprocessing
    import os
    import sys

    from cxtext.workers import ResourceSpec, started_pool

    pool = started_pool(ResourceSpec().with_fingerprint(), 1)
    try:
        parent_of_worker = pool.submit(os.getppid).result(timeout=120)
    finally:
        pool.shutdown()
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        assert pool.start_method == "forkserver" and parent_of_worker != os.getpid()
    else:
        assert pool.start_method == "spawn" and parent_of_worker == os.getpid()
