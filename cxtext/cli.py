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
    p.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from cxtext.run import run_command

    return run_command(args)


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score the tagger against a gold JSONL file")
    p.add_argument("gold", help="gold JSONL (see the data README for the format)")
    p.add_argument("--lexicons", default=None)
    p.add_argument("--sentiment", default="default")
    p.add_argument("--backend", default="jieba", choices=["jieba", "rjieba"])
    p.add_argument("--errors", default=None, help="write per-review disagreements to this JSONL file")
    p.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from cxtext.evaluate import eval_command

    return eval_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxtext", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_run, _add_eval):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
