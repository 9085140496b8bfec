"""Where the project's data files live (lexicons, cache), overridable by environment."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def shipped_model_dir() -> Path:
    """Folder of the default sentiment model inside the installed package."""
    return PACKAGE_DIR / "models" / "sentiment-zh"


def lexicon_dir() -> Path:
    """The lexicon folder: $CXTEXT_LEXICONS, else `lexicons/` beside the package."""
    return Path(os.environ.get("CXTEXT_LEXICONS", PROJECT_DIR / "lexicons"))


def cache_dir() -> Path:
    """A cache folder owned by cxtext (jieba's dictionary cache goes here, not a shared temp file)."""
    base = os.environ.get("CXTEXT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "cxtext"
    )
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_data_dir() -> Path | None:
    """`../shared/data` beside the project when present (team-only corpora and gold)."""
    path = Path(os.environ.get("CXTEXT_SHARED_DATA", PROJECT_DIR.parent / "shared" / "data"))
    return path if path.is_dir() else None
