"""Headless Chromium for the report: a screenshot for the docs and the DOM for the tests.

Runs Debian's `chromium` with a throwaway profile and everything that would reach the
network switched off. `python -m cxtext.report.browser REPORT.html SHOT.png` is what
`make report` calls.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--virtual-time-budget=2000")


def find_chromium() -> str | None:
    """Path of a chromium executable on PATH, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def run_chromium(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    """Run chromium headless with `args`; raises RuntimeError when it is not installed."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="cxtext-chromium-") as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)


def dump_dom(html: Path) -> str:
    """The DOM after the page loaded (and any script it was allowed to run), serialised."""
    return run_chromium(["--dump-dom", Path(html).resolve().as_uri()]).stdout


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 4000) -> Path:
    """Render `html` at width x height CSS pixels into `png`."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    done = run_chromium([f"--screenshot={png}", f"--window-size={width},{height}", Path(html).resolve().as_uri()])
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot to {png}: {done.stderr.strip()[-500:]}")
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="screenshot a report.html with headless Chromium")
    parser.add_argument("html")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args(argv)
    try:
        print(screenshot(Path(args.html), Path(args.png), args.width, args.height))
    except RuntimeError as exc:
        print(f"screenshot: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
