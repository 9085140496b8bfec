"""Analyst outputs of a run: report.html (charts, journey map, drill-down) and report.xlsx.

`write_reports(source)` reads a run directory or a DuckDB warehouse and writes both files;
`cxtext report SOURCE --out FILE` is the command-line form. The tables behind them live in
`cxtext.report.data` (pure functions), the rendering in `html` and `xlsx`.
"""
from __future__ import annotations

from pathlib import Path

from cxtext.report.data import ReportInputError, build_tables, load

__all__ = ["write_reports", "build_reports", "report_command", "ReportInputError"]


def build_reports(source, html_path=None, xlsx_path=None, since=None, until=None, store=None,
                  xlsx_max_rows=None) -> dict:
    """Write the HTML report and/or the workbook for `source`; returns {'html': path, 'xlsx': path}.

    `xlsx_max_rows` caps the Reviews and Mentions sheets (default: Excel's limit); the cap
    is stated in the Summary sheet. The workbook costs about 0.3 ms of CPU per review.
    """
    from cxtext.report.html import render_html
    from cxtext.report.xlsx import MAX_DATA_ROWS, write_xlsx

    data = load(source, since=since, until=until, store=store)
    tables = build_tables(data)
    written = {}
    if html_path is not None:
        html_path = Path(html_path)
        html_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = html_path.with_name(html_path.name + ".tmp")
        tmp.write_text(render_html(data, tables), encoding="utf-8")
        tmp.replace(html_path)
        written["html"] = html_path
    if xlsx_path is not None:
        write_xlsx(data, tables, Path(xlsx_path), max_rows=min(xlsx_max_rows or MAX_DATA_ROWS, MAX_DATA_ROWS))
        written["xlsx"] = Path(xlsx_path)
    return written


def write_reports(source, out_dir=None, since=None, until=None, store=None, xlsx_max_rows=None) -> dict:
    """Write report.html and report.xlsx into `out_dir` (default: the run directory itself,
    or the folder holding the warehouse file). Returns {'html': path, 'xlsx': path}."""
    source = Path(source)
    if out_dir is None:
        out_dir = source if source.is_dir() else source.parent
    out_dir = Path(out_dir)
    return build_reports(source, out_dir / "report.html", out_dir / "report.xlsx",
                         since=since, until=until, store=store, xlsx_max_rows=xlsx_max_rows)


def report_command(args) -> int:
    """`cxtext report SOURCE --out FILE`: FILE.html plus the workbook beside it (FILE.xlsx);
    an --out ending in .xlsx writes only the workbook; a folder gets report.html/report.xlsx."""
    import sys

    out = Path(args.out)
    if out.suffix.lower() == ".xlsx":
        paths = (None, out)
    elif out.suffix.lower() in (".html", ".htm"):
        paths = (out, out.with_suffix(".xlsx"))
    else:
        paths = (out / "report.html", out / "report.xlsx")
    try:
        written = build_reports(args.source, *paths, since=args.since, until=args.until, store=args.store)
    except ReportInputError as exc:
        print(f"cxtext report: {exc}", file=sys.stderr)
        return 2
    for path in written.values():
        print(path)
    return 0
