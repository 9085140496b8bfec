"""Text normalisation with an offset map back to the original text.

The tagger reads normalised text (simplified characters, half-width ASCII, no HTML, no emoji, no
pinyin annotations, collapsed punctuation and whitespace, spaced-out characters like 服 务 态 度 差
joined up), but every evidence span it reports must point into the *original* text. `normalize`
therefore returns, for each normalised character, the span of original characters it came from.

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
    table[0xA0] = " "  # no-break space (HTML exports): a plain space, so it separates spaced-out characters too
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
_ENTITY = r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});"
_EDITS = re.compile(
    r"(?P<tag><[a-zA-Z/!][^<>]{0,300}>)"
    rf"|(?P<entity>{_ENTITY})"
    rf"|(?<=[\u4e00-\u9fff])(?P<ruby>[(（][{_PINYIN}]{{1,7}}[1-5]?[)）])"
    rf"|(?P<emoji>[{_EMOJI}]+)"
    rf"|(?P<punct>([{_REPEATED_PUNCT}])\6+)"
    r"|(?P<space>\s{2,}|[\t\r\n])"
)
# A run of spaced-out characters (服 务 态 度 差, 等 了 4 0 分 钟), written to stress a point or to
# get round a word filter: Chinese characters and digits, each standing alone, separated by single
# spaces. A character touching a letter, digit or Chinese character belongs to a phrase: the run
# stops before it and the space between them stays, a clause break as often as not. The run's
# spaces are deleted when it holds three Chinese characters or more (see _apply_edits). Its own
# regex, tried only on text with a member between two spaces: as a branch of _EDITS it cost every
# text with something else to edit 15% more time.
_RUN_MEMBER = "\u4e00-\u9fff0-9"
_WORDLIKE = "\u4e00-\u9fff0-9A-Za-z"
_SPACED_RUN = re.compile(
    rf"(?P<spaced>[{_RUN_MEMBER}] (?<![{_WORDLIKE}]. )[{_RUN_MEMBER}](?: [{_RUN_MEMBER}])+(?![{_WORDLIKE}]))"
)
_MAY_JOIN = re.compile(rf" [{_RUN_MEMBER}] ")  # a run's middle member
_CJK = re.compile("[\u4e00-\u9fff]")
# Matches wherever _EDITS or _SPACED_RUN can (the first character of each of _EDITS' branches, a
# doubled punctuation mark, two spaces, a run's middle member) and is three times faster to rule a
# text out: _EDITS, with its look-behind and six branches, is tried at every position. A single
# space between Chinese characters, common between phrases, does not match.
_MAY_EDIT = re.compile(rf"[<&(（\t\r\n{_EMOJI}]|\s\s| [{_RUN_MEMBER}] |([{_REPEATED_PUNCT}])\1")


# An entity standing for a Chinese character or a space (&#22909;, &nbsp;) is decoded before the
# other edits look at the text (see _decode_character_entities), so a spaced-out run through it
# joins and a pinyin annotation after it goes. The others (&amp;, &lt;) are decoded by the edits
# themselves, so what they give is never taken for a tag or another entity.
_ENTITY_RE = re.compile(_ENTITY)


def _replacement(match: re.Match) -> str:
    kind = match.lastgroup
    if kind == "tag":
        # A line or paragraph break separates thoughts: keep it as a clause boundary.
        return "。" if _BLOCK_TAGS.match(match.group()) else ""
    if kind == "entity":
        return html.unescape(match.group())
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
    if _MAY_EDIT.search(translated) is None or not _has_edit(translated):
        stripped = translated.strip()
        if stripped == translated:
            return Normalized(translated, text)
    return _apply_edits(translated, text)


def _has_edit(translated: str) -> bool:
    """Whether _apply_edits has anything to do (text _MAY_EDIT matched is mostly left as it is)."""
    return _EDITS.search(translated) is not None or (
        _MAY_JOIN.search(translated) is not None and _SPACED_RUN.search(translated) is not None)


def _edit_matches(translated: str):
    """The matches of _EDITS and, where there may be one, of _SPACED_RUN, in text order."""
    if _MAY_JOIN.search(translated) is None:
        return _EDITS.finditer(translated)
    return sorted([*_EDITS.finditer(translated), *_SPACED_RUN.finditer(translated)], key=re.Match.start)


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


class _Rebuilt:
    """Text rebuilt from `source` left to right, each of its characters with the [start, end) span
    of `source` it came from: stretches kept as they are, matches replaced."""

    def __init__(self, source: str):
        self.source = source
        self.pieces: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.cursor = 0  # how far `source` has been used

    def keep(self, end: int, step: int = 1) -> None:
        """source[cursor:end] kept, every `step`-th character of it, each at its own position."""
        self.pieces.append(self.source[self.cursor:end:step])
        self.starts.extend(range(self.cursor, end, step))
        self.ends.extend(range(self.cursor + 1, end + 1, step))
        self.cursor = end

    def replace(self, start: int, end: int, text: str) -> None:
        """source[cursor:start] kept, then source[start:end] replaced by `text`, whose characters
        all come from the whole of [start, end)."""
        self.keep(start)
        self.pieces.append(text)
        self.starts.extend([start] * len(text))
        self.ends.extend([end] * len(text))
        self.cursor = end

    def finish(self) -> tuple[str, list[int], list[int]]:
        self.keep(len(self.source))
        return "".join(self.pieces), self.starts, self.ends


def _decode_character_entities(translated: str) -> tuple[str, list[int], list[int]] | None:
    """`translated` with every entity for a Chinese character or a space replaced by that
    character (translated like the rest; any space as " ") and, per character, its [start, end)
    span in `translated`; None when there is no such entity."""
    rebuilt = _Rebuilt(translated)
    for match in _ENTITY_RE.finditer(translated) if "&" in translated else ():
        char = _translate(html.unescape(match.group()))
        if char.isspace():
            char = " "
        elif len(char) != 1 or not _CJK.match(char):
            continue
        rebuilt.replace(*match.span(), char)
    return rebuilt.finish() if rebuilt.pieces else None


def _apply_edits(translated: str, original: str) -> Normalized:
    decoded = _decode_character_entities(translated)
    if decoded is None:
        return _strip(_edited(translated, original))
    norm = _edited(decoded[0], original)
    # Spans in the decoded text → spans in the original: a decoded character covers its entity.
    starts, ends = decoded[1], decoded[2]
    return _strip(Normalized(norm.text, original, tuple(starts[s] for s in norm.starts),
                             tuple(ends[e - 1] for e in norm.ends)))


def _edited(translated: str, original: str) -> Normalized:
    """The edits applied to `translated`, with spans into `translated` itself."""
    rebuilt = _Rebuilt(translated)
    for match in _edit_matches(translated):
        m_start, m_end = match.span()
        if m_start < rebuilt.cursor:
            continue  # a spaced-out run inside an HTML tag, which goes as a whole
        if match.lastgroup == "spaced":
            # Members and spaces alternate: keep every member at its own position. A run with
            # fewer than three Chinese characters (1 2 3 好, 等 4 0 分) stays as it is.
            rebuilt.keep(m_start)
            rebuilt.keep(m_end, 2 if len(_CJK.findall(match.group())) >= 3 else 1)
            continue
        rebuilt.replace(m_start, m_end, _replacement(match))
    text, starts, ends = rebuilt.finish()
    return Normalized(text, original, tuple(starts), tuple(ends))


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
