"""The `cxtext` command. Each subcommand parses its arguments here and calls library code."""
from __future__ import annotations

import argparse
import sys


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="tag files or folders of reviews into a run directory")
    p.add_argument("inputs", nargs="+", help="files (CSV, TSV, JSONL, XLSX, Parquet) or folders of them")
    p.add_argument("--out", required=True, help="run directory to write (created if missing)")
    p.add_argument("--text-col", default=None, help="name of the text column (default: detected)")
    p.add_argument("--id-col", default=None, help="name of the id column (default: detected)")
    p.add_argument("--lexicons", default=None, help="lexicon folder (default: the bundled lexicons/)")
    p.add_argument("--sentiment", default="default", help="sentiment model: default, snownlp, snownlp-retrained, none")
    p.add_argument("--backend", default="jieba", choices=["jieba", "rjieba"], help="segmentation backend")
    _add_job_options(p)
    p.add_argument("--warehouse", default=None, help="also load the run into this DuckDB warehouse file")
    p.add_argument("--prefect", action="store_true", help="run as the Prefect tag_dump flow (starts a temporary server)")
    p.add_argument("--no-reports", action="store_true", help="skip report.html / report.xlsx")
    p.set_defaults(func=_cmd_run)


def _add_job_options(p: argparse.ArgumentParser) -> None:
    """Options shared by run, inbox and serve (their logic lives in cxtext.run / cxtext.inbox)."""
    p.add_argument("--workers", type=int, default=0,
                   help="tagging processes (default 0: one for small inputs, else up to 4 cores)")
    p.add_argument("--chunk-rows", type=int, default=5000, help="rows per chunk read, tagged and written")
    p.add_argument("--retag", action="store_true",
                   help="first re-tag warehouse reviews tagged with other lexicons or models")
    p.add_argument("--task-runner", default="local", choices=["local", "dask"],
                   help="where chunks are tagged under Prefect: local processes or a Dask cluster")
    p.add_argument("--dask-address", default=None, help="scheduler address of an existing Dask cluster")


def _cmd_run(args: argparse.Namespace) -> int:
    from cxtext.workers import early_pool

    # Workers start before the imports below (pandas and the run machinery, about a second), so
    # their own start-up overlaps this process's.
    pool = early_pool(args)
    try:
        from cxtext.run import run_command

        return run_command(args, pool=pool)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _add_inbox(sub: argparse._SubParsersAction) -> None:
    for name, help_ in (("inbox", "load new files of an inbox folder into the warehouse (process_inbox, once)"),
                        ("serve", "serve process_inbox on a cron schedule (needs `prefect server start`)")):
        p = sub.add_parser(name, help=help_)
        if name == "inbox":
            p.add_argument("inbox", help="folder whose files are loaded (files seen before are skipped)")
            p.add_argument("--no-prefect", action="store_true", help="run the same stages without Prefect")
        else:
            p.add_argument("--inbox", required=True, help="folder to watch")
            p.add_argument("--cron", default="0 2 * * *", help="schedule (cron syntax, default 02:00 daily)")
            p.add_argument("--name", default="cxtext-inbox", help="deployment name")
        p.add_argument("--warehouse", default="out/cxtext.duckdb", help="DuckDB warehouse file")
        p.add_argument("--text-col", default=None)
        p.add_argument("--id-col", default=None)
        p.add_argument("--lexicons", default=None)
        p.add_argument("--sentiment", default="default")
        p.add_argument("--backend", default="jieba", choices=["jieba", "rjieba"])
        _add_job_options(p)
        p.set_defaults(func=_cmd_inbox)


def _cmd_inbox(args: argparse.Namespace) -> int:
    from cxtext.inbox import inbox_command, serve_command

    return inbox_command(args) if args.command == "inbox" else serve_command(args)


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score the tagger against a gold JSONL file")
    p.add_argument("gold", help="gold JSONL (see the data README for the format)")
    p.add_argument("--lexicons", default=None)
    p.add_argument("--sentiment", default="default")
    p.add_argument("--backend", default="jieba", choices=["jieba", "rjieba"])
    p.add_argument("--errors", default=None, help="write per-review disagreements to this JSONL file")
    p.add_argument("--part", default="all", choices=["all", "tune", "holdout"],
                   help="score all rows, or the two-thirds the lexicons were tuned on, or the held-out third")
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from cxtext.evaluate import eval_command

    return eval_command(args)


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write report.html (charts, journey map, evidence) and report.xlsx")
    p.add_argument("source", help="a run directory or a DuckDB warehouse file (*.duckdb)")
    p.add_argument("--out", required=True, help="report.html to write (the .xlsx goes beside it), or a folder")
    p.add_argument("--since", default=None, type=_date, help="first day to include (YYYY-MM-DD)")
    p.add_argument("--until", default=None, type=_date, help="last day to include (YYYY-MM-DD)")
    p.add_argument("--store", default=None, help="only this store (value of the store/门店 column)")
    p.set_defaults(func=_cmd_report)


def _date(value: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _cmd_report(args: argparse.Namespace) -> int:
    from cxtext.report import report_command

    return report_command(args)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model on labelled data")
    tsub = p.add_subparsers(dest="model", required=True)
    s = tsub.add_parser("sentiment", help="train a review sentiment model (use it with --sentiment DIR)")
    s.add_argument("data", help="labelled CSV/TSV/XLSX/JSONL with text and label columns, "
                   "or 'shared' to retrain the default on ../shared/data")
    s.add_argument("--text-col", default="text", help="text column (default: text)")
    s.add_argument("--label-col", default="label", help="label column: 1/0, pos/neg, positive/negative, 正面/负面")
    s.add_argument("--out", required=True, help="model folder to write")
    s.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from cxtext.train import train_command

    return train_command(args)


def _add_lexicons(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lexicons", help="validate the lexicons and list terms the segmenter still splits")
    p.add_argument("--lexicons", default=None, help="lexicon folder (default: the bundled lexicons/)")
    p.add_argument("--backend", default="jieba", choices=["jieba", "rjieba"])
    p.set_defaults(func=_cmd_lexicons)


def _cmd_lexicons(args: argparse.Namespace) -> int:
    from cxtext.lexicon import lexicons_command

    return lexicons_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxtext",
        description="Customer-experience insight from Chinese reviews and complaint logs: touchpoints, "
                    "pain points, sentiment and the evidence for each tag.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_run, _add_eval, _add_report, _add_inbox, _add_train, _add_lexicons):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    import signal

    if hasattr(signal, "SIGPIPE") and argv is None:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `cxtext … | head` ends quietly, like other tools
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:
        # A broken lexicon folder or model folder is the user's input, not a bug: say what and
        # where (the messages name file and line) instead of printing a traceback.
        from cxtext.lexicon import LexiconError
        from cxtext.sentiment import SentimentModelError

        if isinstance(exc, (LexiconError, SentimentModelError)):
            print(f"cxtext {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
