"""The inbox job: a folder that receives exports → the warehouse, new material only.

`process_inbox` is the plain-Python version of the `process_inbox` flow (same `RunSession`
stages): files whose sha256 the warehouse has recorded are skipped without parsing, rows whose
content hash is stored are not tagged again, and each run is one warehouse transaction, so running
it twice over the same inbox adds nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from cxtext.run import (RunOptions, RunSession, configure_logging, execute, options_from_args,
                        print_summary, retag_warehouse)


def process_inbox(inbox: str | Path, warehouse: str | Path, options: RunOptions, retag: bool = False) -> dict[str, Any]:
    """Load what is new in `inbox` into `warehouse` without Prefect; returns the run summary."""
    require_inbox_folder(inbox)
    options.new_only, options.kind, options.reports = True, "inbox", False
    if retag:
        retag_warehouse(warehouse, options)
    with RunSession([inbox], None, warehouse, options) as session:
        return execute(session)


def inbox_command(args: Any) -> int:
    """`cxtext inbox DIR`: run process_inbox once (as the process_inbox flow unless --no-prefect)."""
    configure_logging()
    options = options_from_args(args, kind="inbox")
    _require_folder(args.inbox)
    if args.no_prefect:
        summary = process_inbox(args.inbox, args.warehouse, options, retag=args.retag)
    else:
        from pipelines.flows import run_process_inbox

        summary = run_process_inbox(args.inbox, args.warehouse, options, retag=args.retag,
                                    task_runner_kind=args.task_runner, dask_address=args.dask_address)
    print_summary(summary)
    return 0


def serve_command(args: Any) -> int:
    """`cxtext serve --inbox DIR --cron ...`: serve process_inbox on a schedule until interrupted."""
    from pipelines.flows import serve_inbox

    _require_folder(args.inbox)  # now, not at the first scheduled run hours later
    options = options_from_args(args, kind="inbox")
    serve_inbox(args.inbox, args.warehouse, args.cron, options, name=args.name)
    return 0


def require_inbox_folder(inbox: str | Path) -> None:
    """An inbox is a folder that receives files; a single file or a missing path is an error."""
    if not Path(inbox).is_dir():
        raise NotADirectoryError(f"{inbox}: the inbox must be a folder")


def _require_folder(inbox: str | Path) -> None:
    try:
        require_inbox_folder(inbox)
    except NotADirectoryError as exc:
        raise SystemExit(str(exc)) from None
