"""Word segmentation with a tokenizer the project owns.

jieba's module-level functions share one global tokenizer whose dictionary any caller can change, so
results would depend on call order; each `Segmenter` owns its `jieba.Tokenizer` (or an `rjieba.Jieba`),
loads the lexicon terms as user words, and keeps jieba's dictionary cache in cxtext's own cache dir
instead of a shared temp file.

HMM new-word discovery is off by default: the lexicon terms are in the dictionary already, and
without HMM jieba is ~45% faster with the same boundaries for dictionary words.

Without HMM, the jieba backend cuts with `cxtext._jiebacut` when that optional C extension was
built at install: jieba's own algorithm over this tokenizer's own dictionary (`FREQ`, `total`), so
the words are identical (tests/test_scaling.py compares them), about four times faster. Without
a compiler the install skips it and `jieba.Tokenizer.lcut` does the work.
"""
from __future__ import annotations

import array
import hashlib
import logging
import marshal
import os
import sys
import tempfile
import threading
from itertools import accumulate
from pathlib import Path
from typing import Iterable

from cxtext.paths import cache_dir

__all__ = ["Segmenter", "BACKENDS"]

BACKENDS = ("jieba", "rjieba")

try:
    from cxtext import _jiebacut
except ImportError:  # built without a C compiler: jieba's Python code cuts, with the same words
    _jiebacut = None
log = logging.getLogger("cxtext.segment")
# High enough that a user word beats the dictionary's own split of it, like jieba's suggest_freq.
USER_WORD_FREQ = 200_000
# jieba adds each user word's frequency to the dictionary's total, and the total enters the score
# of every route: with the lexicons' ~1,900 words it is 7x jieba's own, and each word added to a
# lexicon moved cuts that have nothing to do with it (工作效率, 时长 became one word or two). The
# total is pinned at jieba's own plus this many user words (the lexicons' size when it was pinned,
# so the cuts of that day stay as they were): a lexicon edit changes only cuts that meet its words.
REFERENCE_USER_WORDS = 1913


_JIEBA_IMPORT_LOCK = threading.Lock()


def _import_jieba():
    """jieba, imported without the pkg_resources it reaches for first.

    jieba's _compat imports pkg_resources only to open its own data files, and falls back to
    plain `open` beside its module when that import fails; importing pkg_resources costs about 0.3 s
    (a third of loading jieba), paid by every worker before its first chunk. It is hidden for the
    duration of jieba's import only, so other code still gets it.
    """
    # Prefect's thread runner tags chunks in threads: without the lock a second thread could see
    # jieba in sys.modules while the first is still importing it and get a half-built module.
    with _JIEBA_IMPORT_LOCK:
        if "jieba" in sys.modules:
            return sys.modules["jieba"]
        hide = "pkg_resources" not in sys.modules
        if hide:
            sys.modules["pkg_resources"] = None  # makes `import pkg_resources` raise ImportError
        try:
            import jieba
        finally:
            if hide and sys.modules.get("pkg_resources", 0) is None:
                del sys.modules["pkg_resources"]
        return jieba


def _dictionary_cache(jieba) -> Path:
    """cxtext's cache of jieba's prefix dictionary, named after jieba's version and dict.txt."""
    source = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    st = source.stat()
    key = hashlib.sha256(f"{jieba.__version__}|{source}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_dir() / f"jieba-prefix-{key}.marshal"


def _load_dictionary(tokenizer) -> None:
    """Give a fresh jieba tokenizer its default dictionary (`FREQ`, `total`), as `initialize` does.

    jieba's own cache is one marshalled dict and takes ~0.8 s to load in every process; the same
    entries as one newline-joined string and an int64 array load in ~0.3 s, which matters for a run's first row and for every
    worker. The first use builds them with jieba's `initialize`; a cache that cannot be read is
    rebuilt the same way.
    """
    jieba = _import_jieba()
    path = _dictionary_cache(jieba)
    try:
        with open(path, "rb") as fh:
            joined, packed, total = marshal.load(fh)
        words = joined.split("\n")
        freqs = array.array("q")
        freqs.frombytes(packed)
        if len(words) != len(freqs) or not isinstance(total, int):
            raise ValueError("unexpected layout")
    except (OSError, EOFError, ValueError, TypeError, AttributeError):
        tokenizer.initialize()
        _write_dictionary_cache(path, tokenizer)
        return
    tokenizer.FREQ = dict(zip(words, freqs.tolist()))
    tokenizer.total = total
    tokenizer.initialized = True


def _write_dictionary_cache(path: Path, tokenizer) -> None:
    # Through a temp file and a rename: parallel workers may write it at the same moment.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            # Dictionary words hold no newline (jieba reads dict.txt line by line).
            packed = array.array("q", tokenizer.FREQ.values()).tobytes()
            marshal.dump(("\n".join(tokenizer.FREQ), packed, tokenizer.total), fh)
        os.replace(tmp, path)
    except OSError:
        log.warning("could not write jieba's dictionary cache %s", path)
        Path(tmp).unlink(missing_ok=True)


class Segmenter:
    """Cuts text into words; `user_words` are added to the dictionary so they stay whole."""

    def __init__(self, user_words: Iterable[str] = (), backend: str = "jieba", hmm: bool = False,
                 accelerate: bool = True):
        if backend not in BACKENDS:
            raise ValueError(f"unknown segmentation backend {backend!r}; choose one of {BACKENDS}")
        self.backend = backend
        self.hmm = hmm
        # True when cuts go through cxtext._jiebacut (same words as jieba's lcut, in C).
        self.accelerated = bool(accelerate and _jiebacut is not None and backend == "jieba" and not hmm)
        self.user_words = tuple(sorted(set(w for w in user_words if w and not w.isspace())))
        self._tokenizer = self._build()
        self.dictionary_total = getattr(self._tokenizer, "total", None)  # jieba's own, before user words
        for word in self.user_words:
            self._add_word(word)
        if self.backend == "jieba" and self.dictionary_total is not None:
            self._tokenizer.total = self.dictionary_total + USER_WORD_FREQ * REFERENCE_USER_WORDS

    def _build(self):
        if self.backend == "rjieba":
            import rjieba

            return rjieba.Jieba()
        jieba = _import_jieba()
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache_dir())
        _load_dictionary(tokenizer)
        return tokenizer

    def _add_word(self, word: str) -> None:
        if self.backend == "rjieba":
            self._tokenizer.add_word(word, USER_WORD_FREQ, None)
        else:
            self._tokenizer.add_word(word, freq=USER_WORD_FREQ)

    def cut(self, text: str) -> list[str]:
        """The words of `text`, in order; joining them gives `text` back."""
        if self.accelerated:
            return _jiebacut.cut(text, self._tokenizer.FREQ, self._tokenizer.total)
        if self.backend == "rjieba":
            return self._tokenizer.cut(text, self.hmm)
        return self._tokenizer.lcut(text, HMM=self.hmm)

    def boundaries(self, text: str) -> tuple[list[str], list[int]]:
        """Words and the offset where each starts (plus len(text) at the end)."""
        words = self.cut(text)
        return words, list(accumulate(map(len, words), initial=0))

    def split_terms(self, terms: Iterable[str]) -> list[tuple[str, list[str]]]:
        """Terms that this segmenter still cuts into several words, with the cut it makes."""
        report = []
        for term in terms:
            words = self.cut(term)
            if len(words) > 1:
                report.append((term, words))
        return report

    def __getstate__(self):
        # Worker processes rebuild the tokenizer rather than pickling jieba's large dictionary.
        return {"user_words": self.user_words, "backend": self.backend, "hmm": self.hmm,
                "accelerate": self.accelerated}

    def __setstate__(self, state):
        self.__init__(state["user_words"], state["backend"], state["hmm"], state.get("accelerate", True))
