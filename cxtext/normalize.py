"""Text normalisation with an offset map back to the original text.

The tagger reads normalised text (simplified characters, half-width ASCII, no HTML, no emoji, no
pinyin annotations, collapsed punctuation and whitespace), but every evidence span it reports must
point into the *original* text. `normalize` therefore returns, for each normalised character, the
span of original characters it came from.

Speed matters (this runs on every review): character-for-character mappings (traditional →
simplified, full-width → half-width, ASCII lower case) are one `str.translate` call, and the regex
pass that deletes or replaces runs only when the text has something to delete or replace.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

__all__ = ["Normalized", "normalize", "normalize_frame"]


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text plus, per normalised character, its [start, end) span in the original.

    `starts`/`ends` are None when the normalised text is aligned 1:1 with the original.
    """

    text: str
    original: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text to a span of the original text."""
        if start >= end:
            raise ValueError(f"empty span [{start}, {end})")
        if self.starts is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


# --- character tables (1:1, so they keep offsets) -------------------------------------------

def _opencc_dictionary_dir() -> Path:
    import opencc

    return Path(opencc.__file__).resolve().parent / "dictionary"


@lru_cache(maxsize=1)
def _char_table() -> dict[int, str]:
    """Traditional → simplified (single characters), full-width → half-width, ASCII lower case."""
    table: dict[int, str] = {}
    with open(_opencc_dictionary_dir() / "TSCharacters.txt", encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2 and len(parts[0]) == 1:
                target = parts[1].split(" ")[0]
                if len(target) == 1:
                    table[ord(parts[0])] = target
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "  # ideographic space
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    for code in range(0xFF21, 0xFF3B):  # full-width capitals straight to lower case
        table[code] = chr(code - 0xFEE0 + 32)
    return table


@lru_cache(maxsize=1)
def _phrase_converter():
    """OpenCC's phrase-aware t2s converter, used only on text that held traditional characters."""
    import opencc

    return opencc.OpenCC("t2s")


# --- deletions and replacements (change length, so they build the offset map) ----------------

_BLOCK_TAGS = re.compile(r"<\s*/?\s*(br|p|div|li|tr|h[1-6])\b", re.I)
_PINYIN = "a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüń"
_EMOJI = "\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u20E3"
_REPEATED_PUNCT = "!?。！？，,~～.…、；;"
_EDITS = re.compile(
    r"(?P<tag><[a-zA-Z/!][^<>]{0,300}>)"
    r"|(?P<entity>&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});)"
    rf"|(?<=[\u4e00-\u9fff])(?P<ruby>[(（][{_PINYIN}]{{1,7}}[1-5]?[)）])"
    rf"|(?P<emoji>[{_EMOJI}]+)"
    rf"|(?P<punct>([{_REPEATED_PUNCT}])\6+)"
    r"|(?P<space>\s{2,}|[\t\r\n\u00a0])"
)
# Matches wherever _EDITS can (the first character of each of its branches, a doubled
# punctuation mark, two spaces) and is three times faster to rule a text out: _EDITS, with its
# look-behind and six branches, is tried at every position.
_MAY_EDIT = re.compile(rf"[<&(（\t\r\n\u00a0{_EMOJI}]|\s\s|([{_REPEATED_PUNCT}])\1")


def _replacement(match: re.Match) -> str:
    kind = match.lastgroup
    if kind == "tag":
        # A line or paragraph break separates thoughts: keep it as a clause boundary.
        return "。" if _BLOCK_TAGS.match(match.group()) else ""
    if kind == "entity":
        text = html.unescape(match.group())
        return " " if text == "\xa0" else text
    if kind == "punct":
        return match.group()[0]
    if kind == "space":
        return " "
    return ""  # ruby annotation, emoji


def normalize(text: str) -> Normalized:
    """Normalise one text; see the module docstring for what changes."""
    translated = _translate(text)
    if translated != text and _has_traditional(text):
        translated = _convert_phrases(translated)
    if _MAY_EDIT.search(translated) is None or _EDITS.search(translated) is None:
        stripped = translated.strip()
        if stripped == translated:
            return Normalized(translated, text)
    return _apply_edits(translated, text)


def _translate(text: str) -> str:
    # str.translate with a dict raises and clears a KeyError for every character the dict lacks
    # (most of them); a list indexed by code point, holding every BMP character, does not, and
    # halves the cost. Text with characters beyond the BMP (emoji) takes the dict.
    if _ASTRAL.search(text):
        return text.translate(_char_table())
    return text.translate(_bmp_char_list())


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


@lru_cache(maxsize=1)
def _bmp_char_list() -> list:
    """_char_table as a list over the BMP: the mapped character, or the code point itself."""
    table = _char_table()
    return [table.get(code, code) for code in range(0x10000)]


def _has_traditional(text: str) -> bool:
    # One character-class search in C (a Python loop here cost more than jieba); the few
    # traditional characters beyond the BMP are looked for only in text that has such characters.
    bmp, astral = _traditional_chars()
    return bmp.search(text) is not None or (_ASTRAL.search(text) is not None and not astral.isdisjoint(text))


@lru_cache(maxsize=1)
def _traditional_chars() -> tuple[re.Pattern, frozenset[str]]:
    """Traditional characters: those of the BMP as a character class, the others as a set."""
    codes = [code for code in _char_table() if code > 0x2E80 and code not in range(0xFF01, 0xFF5F)]
    bmp = "".join(re.escape(chr(code)) for code in sorted(codes) if code < 0x10000)
    return re.compile(f"[{bmp}]"), frozenset(chr(code) for code in codes if code >= 0x10000)


def _convert_phrases(translated: str) -> str:
    """Phrase-level t2s (e.g. 乾淨 → 干净) only when it keeps the length, so offsets stay valid."""
    converted = _phrase_converter().convert(translated)
    return converted if len(converted) == len(translated) else translated


def _apply_edits(translated: str, original: str) -> Normalized:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cursor = 0
    for match in _EDITS.finditer(translated):
        m_start, m_end = match.span()
        pieces.append(translated[cursor:m_start])
        starts.extend(range(cursor, m_start))
        ends.extend(range(cursor + 1, m_start + 1))
        replacement = _replacement(match)
        pieces.append(replacement)
        starts.extend([m_start] * len(replacement))
        ends.extend([m_end] * len(replacement))
        cursor = m_end
    pieces.append(translated[cursor:])
    starts.extend(range(cursor, len(translated)))
    ends.extend(range(cursor + 1, len(translated) + 1))
    return _strip(Normalized("".join(pieces), original, tuple(starts), tuple(ends)))


def _strip(norm: Normalized) -> Normalized:
    text = norm.text
    left = len(text) - len(text.lstrip())
    right = len(text.rstrip())
    if left == 0 and right == len(text):
        return norm
    return Normalized(text[left:right], norm.original, norm.starts[left:right], norm.ends[left:right])


def normalize_frame(frame: pd.DataFrame, column: str = "text") -> pd.Series:
    """The normalised text of every row of `frame[column]` (the frame itself is not modified)."""
    return pd.Series([normalize(t).text for t in frame[column]], index=frame.index, name="text_norm", dtype=object)
