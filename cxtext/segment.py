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

import logging
from itertools import accumulate
from typing import Iterable

from cxtext.paths import cache_dir

__all__ = ["Segmenter", "BACKENDS"]

BACKENDS = ("jieba", "rjieba")

try:
    from cxtext import _jiebacut
except ImportError:  # built without a C compiler: jieba's Python code cuts, with the same words
    _jiebacut = None
# High enough that a user word beats the dictionary's own split of it, like jieba's suggest_freq.
USER_WORD_FREQ = 200_000


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
        for word in self.user_words:
            self._add_word(word)

    def _build(self):
        if self.backend == "rjieba":
            import rjieba

            return rjieba.Jieba()
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache_dir())
        tokenizer.initialize()
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
