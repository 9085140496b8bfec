"""Prefect flows: thin wiring over `cxtext.run.RunSession`, whose stages do all the work.

- `tag_dump`: files or folders → a run directory with the output contract (and the warehouse when
  given). `cxtext run --prefect` runs it; plain `cxtext run` calls the same stages directly.
- `process_inbox`: an inbox folder → the warehouse, new material only. `cxtext inbox` runs it once;
  `cxtext serve` and `prefect.yaml` schedule it.

Tasks work on whole chunks (thousands of rows): each task run costs milliseconds and a few KB in
Prefect's database, so one per review would dominate. Only I/O tasks retry. Task results are not
persisted and not cached: chunk frames stay in memory and are never pickled to disk.
"""
from __future__ import annotations

import pipelines  # noqa: F401  (sets Prefect's environment before Prefect is imported)

import os
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from cxtext.inbox import require_inbox_folder
from cxtext.run import (
    DEFAULT_CHUNK_ROWS,
    DEFAULT_WAREHOUSE,
    ResourceSpec,
    RunOptions,
    auto_workers,
    RunSession,
    Tagged,
    ordered_results,
    process_pool,
    retag_warehouse,
    summary_markdown,
    summary_rows,
    tag_chunk,
)

NO_PERSIST = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="discover-inputs", retries=2, retry_delay_seconds=1, **NO_PERSIST)
def discover_inputs_task(session: RunSession) -> list[Path]:
    """List the input files (the inbox skips already loaded ones as it reads). Lists only: retried."""
    return session.discover()


@task(name="tag-chunk", **NO_PERSIST)
def tag_chunk_task(records: Any, spec: ResourceSpec, pool: Any = None) -> Tagged:
    """Tag one chunk. Locally the work goes to a process pool (jieba and threads do not mix);
    on a Dask worker it runs in the worker process, whose resources load once."""
    if pool is not None:
        return pool.submit(tag_chunk, records, spec).result()
    return tag_chunk(records, spec)


@task(name="load-warehouse", retries=2, retry_delay_seconds=2, **NO_PERSIST)
def warehouse_task(session: RunSession) -> dict[str, int]:
    """Load the run into DuckDB; one transaction, so a retry after a failure starts clean."""
    return session.commit_warehouse()


# Not retried: once some files have been renamed into place, the staged copies are gone.
@task(name="commit-run-directory", **NO_PERSIST)
def commit_run_dir_task(session: RunSession) -> dict[str, Any]:
    """Move the run directory's files into place, run.json last."""
    return session.commit_run_dir()


@task(name="write-reports", retries=1, retry_delay_seconds=1, **NO_PERSIST)
def reports_task(session: RunSession) -> Any:
    """report.html / report.xlsx beside the run's files (each write replaces the last), each linked
    from the flow run as an artifact so the Prefect UI leads to them."""
    written = session.write_reports() or {}
    for kind, path in sorted(written.items()):
        create_link_artifact(link=Path(path).resolve().as_uri(), link_text=f"cxtext {kind} report",
                             key=f"cxtext-report-{kind}", description=f"The {kind} report of this run")
    return written


@task(name="retag-warehouse", **NO_PERSIST)
def retag_task(warehouse: str, options: RunOptions) -> int:
    """Re-tag stored reviews whose lexicon or model hash changed (one transaction)."""
    return retag_warehouse(warehouse, options)


def _run_stages(session: RunSession) -> dict[str, Any]:
    """extract → transform → load, each chunk's tagging a task; results written in input order."""
    files = discover_inputs_task(session)
    opts = session.options
    local = isinstance(FlowRunContext.get().task_runner, ThreadPoolTaskRunner)
    workers = opts.workers = opts.workers or auto_workers(session.input_bytes)
    pool = process_pool(session.spec, workers) if local and workers > 1 else None
    try:
        submit = lambda chunk: tag_chunk_task.submit(chunk.records, session.spec, pool)  # noqa: E731
        for chunk, tagged in ordered_results(session.chunks(files), submit, 2 * workers):
            session.add(chunk, tagged)
    finally:
        if pool is not None:
            pool.shutdown()
    session.build_summary()
    warehouse_task(session)
    summary = commit_run_dir_task(session)
    reports_task(session)
    return summary


def _publish(summary: dict[str, Any], key: str) -> None:
    create_markdown_artifact(markdown=summary_markdown(summary), key=key, description="cxtext run summary")
    create_table_artifact(table=summary_rows(summary), key=f"{key}-counts", description="cxtext run counts")


def _options(text_col: str | None, id_col: str | None, lexicons: str | None, sentiment: str, backend: str,
             chunk_rows: int, workers: int, kind: str) -> RunOptions:
    return RunOptions(text_col=text_col, id_col=id_col, chunk_rows=chunk_rows,
                      spec=ResourceSpec(lexicons, sentiment, backend), workers=workers, kind=kind,
                      new_only=kind == "inbox", reports=kind != "inbox")


@flow(name="tag_dump", persist_result=False)
def tag_dump(inputs: list[str], out: str, warehouse: str | None = None, text_col: str | None = None,
             id_col: str | None = None, lexicons: str | None = None, sentiment: str = "default",
             backend: str = "jieba", chunk_rows: int = DEFAULT_CHUNK_ROWS, workers: int = 1,
             retag: bool = False, reports: bool = True) -> dict[str, Any]:
    """Tag files or folders of reviews into the run directory `out` (and `warehouse` when given)."""
    logger = get_run_logger()
    options = _options(text_col, id_col, lexicons, sentiment, backend, chunk_rows, workers, "run")
    options.reports = reports
    if retag and warehouse:
        logger.info("re-tagged %d stored review(s)", retag_task(warehouse, options))
    with RunSession(inputs, out, warehouse, options) as session:
        summary = _run_stages(session)
    logger.info("read %d rows: tagged %d, quarantined %d %s", summary["rows_read"], summary["rows_tagged"],
                summary["rows_quarantined"], summary["quarantined_by_reason"])
    _publish(summary, "cxtext-tag-dump")
    return summary


@flow(name="process_inbox", persist_result=False)
def process_inbox(inbox: str, warehouse: str = str(DEFAULT_WAREHOUSE), text_col: str | None = None,
                  id_col: str | None = None, lexicons: str | None = None, sentiment: str = "default",
                  backend: str = "jieba", chunk_rows: int = DEFAULT_CHUNK_ROWS, workers: int = 1,
                  retag: bool = False) -> dict[str, Any]:
    """Load what is new in the `inbox` folder into the warehouse (files and rows seen before are skipped)."""
    require_inbox_folder(inbox)  # a deployment's parameter may name a file: fail before any work
    logger = get_run_logger()
    options = _options(text_col, id_col, lexicons, sentiment, backend, chunk_rows, workers, "inbox")
    if retag:
        logger.info("re-tagged %d stored review(s)", retag_task(warehouse, options))
    with RunSession([inbox], None, warehouse, options) as session:
        summary = _run_stages(session)
    logger.info("inbox %s: %d new rows tagged, %d already stored, %d quarantined, warehouse added %s",
                inbox, summary["rows_tagged"], summary["rows_known"], summary["rows_quarantined"],
                summary.get("warehouse", {}).get("added"))
    _publish(summary, "cxtext-inbox")
    return summary


# --------------------------------------------------------------------------- task runners


def current_api_url() -> str | None:
    """The Prefect API this process talks to, if one is configured (or set by a test harness)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def shared_api_url() -> str:
    """An API URL every Dask worker can share: the configured one, else this process's temporary
    server, started now (otherwise each worker would start a temporary server of its own)."""
    url = current_api_url()
    if url:
        return url
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the same instance the flow engine uses for its temporary server
    server.start()
    return server.api_url


def task_runner(kind: str = "local", address: str | None = None, workers: int = 1) -> Any:
    """`local` (threads that hand chunks to worker processes) or `dask` (a cluster at `address`, or
    a LocalCluster of `workers` processes pointed at one Prefect API)."""
    if kind == "local":
        # Threads only dispatch: the tagging itself runs in worker processes (see tag_chunk_task).
        return ThreadPoolTaskRunner(max_workers=max(2, 2 * workers))
    if kind != "dask":
        raise ValueError(f"unknown task runner {kind!r} (use local or dask)")
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    env = {name: os.environ[name] for name in (
        "PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK", "PREFECT_LOGGING_EXTRA_LOGGERS") if name in os.environ}
    env["PREFECT_API_URL"] = shared_api_url()
    return DaskTaskRunner(cluster_kwargs={"n_workers": max(1, workers), "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None, "env": env})


def _flow_parameters(options: RunOptions) -> dict[str, Any]:
    return {"text_col": options.text_col, "id_col": options.id_col, "lexicons": options.spec.lexicon_dir,
            "sentiment": options.spec.sentiment, "backend": options.spec.backend,
            "chunk_rows": options.chunk_rows, "workers": options.workers}


def run_tag_dump(inputs: list[str], out: str, options: RunOptions, warehouse: str | None = None,
                 retag: bool = False, task_runner_kind: str = "local", dask_address: str | None = None) -> dict:
    """Run the tag_dump flow once with the chosen task runner (what `cxtext run --prefect` does)."""
    if task_runner_kind == "dask" and not options.workers:
        options.workers = 2
    runner = task_runner(task_runner_kind, dask_address, options.workers or os.cpu_count() or 1)
    flow_ = tag_dump.with_options(task_runner=runner)
    return flow_(inputs=[str(p) for p in inputs], out=str(out), warehouse=str(warehouse) if warehouse else None,
                 retag=retag, reports=options.reports, **_flow_parameters(options))


def run_process_inbox(inbox: str, warehouse: str, options: RunOptions, retag: bool = False,
                      task_runner_kind: str = "local", dask_address: str | None = None) -> dict:
    """Run the process_inbox flow once (what `cxtext inbox` and the schedule do)."""
    if task_runner_kind == "dask" and not options.workers:
        options.workers = 2
    runner = task_runner(task_runner_kind, dask_address, options.workers or os.cpu_count() or 1)
    return process_inbox.with_options(task_runner=runner)(
        inbox=str(inbox), warehouse=str(warehouse), retag=retag, **_flow_parameters(options))


def serve_inbox(inbox: str, warehouse: str, cron: str, options: RunOptions, name: str = "cxtext-inbox") -> None:
    """Serve process_inbox on a cron schedule; needs a running Prefect server (`prefect server start`)."""
    if not current_api_url():
        raise SystemExit(
            "cxtext serve needs a Prefect server that outlives this process: start one with "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api (see docs/pipelines.md)"
        )
    options.workers = options.workers or 1
    process_inbox.serve(name=name, cron=cron,
                        parameters={"inbox": str(inbox), "warehouse": str(warehouse), **_flow_parameters(options)})
