"""Mention detection: lexicon rows → rules → mentions with polarity and evidence.

A `Detector` is built once from a `Lexicon` by `build_detector` (the rule factory) and is immutable.
For one normalised text and its segmentation it:

1. keeps only the customer's turns of a complaint log (speaker markers from `speakers.tsv`);
2. splits clauses on punctuation and contrast markers (但是, 就是, 不过 …);
3. finds every lexicon term, keeping a match only where it does not cut a word in two, except for a
   word that is just a modifier plus the term (很快, 不干净) — so 快 never matches inside 快递 and
   满意 is read together with the 不 of 不满意;
4. turns each match into a mention or abstains: a *signal* stands alone; an *aspect* needs an
   opinion word in its clause (else it abstains, or is `neu` when its row says so);
5. applies negation (counted, so double negation cancels), wishes (希望…, …就更好了: a wished-for
   good state is a pain point now) and hearsay (听说, 本以为: not the customer's experience).

Offsets here are into the normalised text; the tagger maps them back to the original.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache, reduce
from operator import or_
from typing import Any, Iterable, Iterator, NamedTuple

import ahocorasick

from cxtext.lexicon import Lexicon, TermRule

__all__ = ["Mention", "Detector", "build_detector", "dedupe_mentions", "MODIFIER_CHARS", "PARTICLE_CHARS"]

# A word may hold a term plus these around it and still count as that term (很快, 不干净, 慢死了).
MODIFIER_CHARS = frozenset("很太不没好超真挺蛮巨特非常比较较更最有点还都也极贼忒够老一些略偏稍")
PARTICLE_CHARS = frozenset("了的啊呀吧啦嘛哦呢哈滴喔噢咯么死点些多")
CLAUSE_PUNCT = frozenset(",.!?;:，。！？；：~～…\n\r\t ()（）【】[]「」『』\"“”")
_PUNCT = re.escape("".join(sorted(CLAUSE_PUNCT)))
_CLAUSE_TEXT_RE = re.compile(f"[^{_PUNCT}]+")
# The same runs without whitespace at either end (\s is str.isspace, as in str.strip).
_CLAUSE_TRIMMED_RE = re.compile(rf"[^\s{_PUNCT}](?:[^{_PUNCT}]*[^\s{_PUNCT}])?")
# Between two clauses of one sentence there is no full stop, question or exclamation mark.
_SENTENCE_END_RE = re.compile("[。！？!?；;\n]")
NEGATION_WINDOW = 6
# What may follow a closing negation (一点耐心都没有啊): sentence-final particles only.
TAIL_PARTICLES = "了啊呀呢的吧哦哈嘛"
# An opinion belongs to an aspect only when close: 服务态度很好 yes, a 好 twenty characters on no.
ASPECT_REACH = 8
OPINION_BEFORE_REACH = 2
MARKER_REACH = 24  # characters between a wish/hearsay marker and the term it governs
# Degree words besides the lexicon's intensifiers that grade a one-character opinion (这么差的客服).
DEMONSTRATIVE_DEGREE = ("这么", "那么", "这样", "那样", "如此", "多么")
WISH_FLIP = {"pos": "neg"}
# Results a verb can reach (沟通好, 做到位, 打扫干净); 没 + verb before one denies it.
RESULT_COMPLEMENTS = ("好", "到位", "干净", "清楚")
# 没 and one or two characters of a verb just before the result: 没沟通好, 没有做到位.
_UNFINISHED_RE = re.compile("(?:没有|没)(?:(?![也又还都很太])[\u4e00-\u9fff]){1,2}$")
# Before 干净/到位/清楚 不 + a cleaning or telling verb denies the result too (不处理干净,
# 不说清楚); 不 + any word would catch 不大不小干净, and before 好 also 不得不说好吃.
_NOT_REACHED_RE = re.compile(_UNFINISHED_RE.pattern
                             + "|不(?:洗|擦|处理|打扫|收拾|清理|清洗|弄|搞|冲|刷|扫|说|讲|写|解释|交代|讲解|标)$")
# Between an aspect and an opinion: a verb of the aspect, 的 and what it made or chose
# (推荐的红烧肉, 端上来的汤): the opinion is about that thing. Matched up to the opinion; a
# degree word or a negator after 的 makes it a complement instead (卫生做的不好, 隔音做的不错).
_RELATIVE_CLAUSE_RE = re.compile("(?:推荐|介绍|做|炒|烤|煮|拿|端|上|送|给|卖|选|配)[^的得，。！？,.!?]{0,3}的"
                                 "(?!很|不|太|非常|挺|特别|真|还|比较|蛮|超|相当|十分|也|都|好|不错|可以)[^，。！？,.!?]+$")
# After 一般 these make it an adverb or an attribute (一般都, 一般会, 一般来说, 一般情况, 一般人):
# it does not judge what came before.
ADVERBIAL_AFTER_YIBAN = frozenset("都会来是要在就情人能可")
# After 好 these start a quantity (好几天, 好久, 好半天, 好些): 好 is then a degree word, not praise.
QUANTITY_AFTER_HAO = frozenset("几久半些")


@dataclass(frozen=True, slots=True)
class Mention:
    category: str
    stage: str
    polarity: str
    start: int  # offsets into the normalised text
    end: int
    rule: str
    confidence: float
    clause: int
    # A neutral mention with no opinion in reach: the tagger may settle its polarity from the
    # sentiment of `window` (its clause and the next), as lexicon cues are absent there.
    open: bool = False
    window: tuple[int, int] = (0, 0)


class _Match(NamedTuple):
    # A tuple, not a frozen dataclass: about ten are made per review and tuples build in C.
    start: int
    end: int
    term: str
    word_start: int  # start of the word holding the match (太慢 for 慢): where evidence begins


class Detector:
    """Immutable rules compiled from a lexicon; `detect` is a pure function of its inputs."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self._rules_by_term: dict[str, list[TermRule]] = {}
        self._regex_rules = [r for r in lexicon.rules if r.is_regex]
        self._regex_pairs = [(r, r.pattern) for r in self._regex_rules]
        self._regex_prefilter = _regex_prefilter(self._regex_pairs)
        self._degree_words = tuple(lexicon.intensifiers) + DEMONSTRATIVE_DEGREE
        # The pattern's own words that hold an opinion, shared or a category's own (好评 in 让我给好评,
        # 便宜 in 没有…便宜): inside a match these are the phrase's, while an opinion in one of the
        # pattern's free gaps ([^，。]{0,12}) is not.
        opinion_words = set(lexicon.opinions)
        opinion_words |= {r.term for r in lexicon.rules if r.role == "opinion" and not r.is_regex}
        self._claiming_literals = [
            tuple(sorted({lit for lit in _literal_strings(_parsed(pattern))
                          if any(op in lit for op in opinion_words)}, key=len, reverse=True))
            for _, pattern in self._regex_pairs]
        for rule in lexicon.rules:
            if not rule.is_regex:
                self._rules_by_term.setdefault(rule.term, []).append(rule)
        vocabulary = set(self._rules_by_term) | set(lexicon.opinions) | set(lexicon.negators)
        vocabulary |= set(lexicon.markers) | set(lexicon.pseudo_negators)
        # One pass over the text finds every term and every string the regex rules need
        # (Aho-Corasick, in C; a per-character scan in Python cost as much as segmentation). The
        # pass costs about 0.3 µs per character, so the two share it. Payload: (the term or None,
        # bits of the regex requirements the string satisfies).
        payload = {term: (term, 0) for term in vocabulary if term}
        for literal, bits in self._regex_prefilter.strings.items():
            payload[literal] = (payload.get(literal, (None, 0))[0], bits)
        self._automaton = ahocorasick.Automaton()
        for literal, value in payload.items():
            self._automaton.add_word(literal, value)
        if not payload:  # an empty automaton cannot be iterated
            self._automaton.add_word("\0", (None, 0))
        self._automaton.make_automaton()
        self._negator_index = _first_char_index(lexicon.negators | lexicon.pseudo_negators)
        self._contrast = frozenset(t for t, k in lexicon.markers.items() if k == "contrast")
        self._contrast_openers = tuple(self._contrast)  # for str.startswith: does a clause open with one
        by_kind: dict[str, list[str]] = {}
        for term, kind in lexicon.markers.items():
            by_kind.setdefault(kind, []).append(term)
        self._marker_res = {k: re.compile("|".join(map(re.escape, sorted(ts, key=len, reverse=True))))
                            for k, ts in by_kind.items()}
        # 一点耐心都没有: a negation after the term, closing its clause (only particles may follow).
        tail = self._marker_res.get("negation_tail")
        self._negation_tail_re = re.compile(f"(?:{tail.pattern})[{TAIL_PARTICLES}]{{0,3}}") if tail else None
        self._speaker_re = _speaker_pattern(lexicon.speakers)
        # Every turn marker holds a speaker word; most reviews hold none (a plain search is quick).
        self._speaker_names = re.compile("|".join(map(re.escape, sorted(lexicon.speakers, key=len, reverse=True))))
        self._rule_terms = frozenset(self._rules_by_term)
        self._pseudo_negators = tuple(lexicon.pseudo_negators)  # for str.startswith
        # Words that only ever judge negatively: a shared opinion or a category's own opinion or
        # signal, never positive in another row (大 is a loud noise but a generous portion). Before
        # one of them 好 is a degree word (好差, 态度好恶劣), not praise.
        judging = [(t, pol) for t, pol in lexicon.opinions.items()]
        judging += [(r.term, r.polarity) for r in lexicon.rules
                    if not r.is_regex and r.role in ("opinion", "signal")]
        praising = {t for t, pol in judging if pol == "pos"}
        self._negative_words = frozenset(t for t, pol in judging if pol == "neg" and t not in praising)

    # --- complaint logs ------------------------------------------------------------------
    def customer_spans(self, text: str) -> tuple[list[tuple[int, int]], bool]:
        """Spans of `text` said by the customer, and whether the text is a log with turns."""
        if self._speaker_re is None or not self._speaker_names.search(text):
            return [(0, len(text))], False
        found = [(m.start(), m.end(), self.lexicon.speakers[m.group("who") or m.group("tag") or m.group("said")],
                  bool(m.group("who") or m.group("tag")))
                 for m in self._speaker_re.finditer(text)]
        if {role for _, _, role, _ in found} != {"customer", "agent"}:
            # One side only: "客服回复超级慢" is a review about the agent, not a turn. A colon-form
            # reply (酒店回复2026年3月2日：…) still ends the customer's part.
            found = [f for f in found if f[3] and f[2] == "agent"]
        marks = [(start, end, role) for start, end, role, _ in found]
        if not marks:
            return [(0, len(text))], False
        spans = [(0, marks[0][0])] if marks[0][0] > 0 else []
        for i, (_, end, role) in enumerate(marks):
            stop = marks[i + 1][0] if i + 1 < len(marks) else len(text)
            if role == "customer" and stop > end:
                spans.append((end, stop))
        roles = {role for _, _, role in marks}
        return [s for s in spans if s[1] > s[0]], roles == {"customer", "agent"}

    # --- clauses -------------------------------------------------------------------------
    def clauses(self, text: str, words: list[str], starts: list[int],
                spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """Clause spans within `spans`: cut at punctuation and before contrast words.

        A clause is a run of text between punctuation, cut again where a contrast word starts,
        clipped to each span and stripped of whitespace; empty pieces are dropped.
        """
        contrast = not self._contrast.isdisjoint(words)
        if not contrast and spans == [(0, len(text))]:  # most reviews: runs are the clauses
            return [found.span() for found in _CLAUSE_TRIMMED_RE.finditer(text)]
        runs = [found.span() for found in _CLAUSE_TEXT_RE.finditer(text)]
        if contrast:
            runs = _cut_runs(runs, sorted(s for w, s in zip(words, starts) if w in self._contrast))
        result = []
        for span_start, span_end in spans:
            for a, b in runs:
                a, b = max(a, span_start), min(b, span_end)
                if b > a:
                    piece = text[a:b]
                    b = a + len(piece.rstrip())
                    a += len(piece) - len(piece.lstrip())
                    if b > a:
                        result.append((a, b))
        return result

    # --- matching ------------------------------------------------------------------------
    def _matches(self, text: str, starts: list[int], hits: list) -> list[_Match]:
        found = []
        for last, (term, _) in hits:
            if term is None:
                continue  # a string only a regex rule needs
            s, e = last - len(term) + 1, last + 1
            first = bisect_right(starts, s) - 1
            if _fits_words(text, s, e, starts, first):
                found.append(_Match(s, e, term, starts[first]))
        return found

    def _without_non_judging(self, text: str, matches: list[_Match]) -> list[_Match]:
        """Drop a term whose last word does not judge here, keeping the aspect it starts with
        (态度好 → 态度) when that is a term:
        - 好 running straight into a negative word or a quantity grades what follows (服务态度好差
          is 'very bad', 价格好贵 'so expensive', 快递好几天才到 'quite a few days'). Before a
          positive word both readings praise (服务好周到), and 好多了 is 'much better': those stay.
        - 一般 before more words is an adverb or an attribute (一般都会满足你 'usually', 一般来说,
          一般人); a verdict ends its phrase (服务一般, 服务一般吧)."""
        hao, yiban = "好" in text, "一般" in text
        if not hao and not yiban:
            return matches
        negative_starts = {m.start for m in matches if m.term in self._negative_words} if hao else set()
        kept = []
        for m in matches:
            if hao and m.term.endswith("好") and (m.end in negative_starts or _quantity_after(text, m.end)):
                word = 1
            elif yiban and m.term.endswith("一般") and text[m.end:m.end + 1] in ADVERBIAL_AFTER_YIBAN:
                word = 2
            else:
                kept.append(m)
                continue
            if m.term[:-word] in self._rule_terms:
                kept.append(_Match(m.start, m.end - word, m.term[:-word], m.word_start))
        return kept

    def detect(self, text: str, words: list[str], starts: list[int]) -> tuple[list[Mention], bool]:
        """Mentions in `text` (normalised) given its segmentation; and whether it is a complaint log."""
        spans, is_log = self.customer_spans(text)
        clauses = self.clauses(text, words, starts, spans)
        if not clauses:
            return [], is_log
        hits = list(self._automaton.iter(text))
        matches = self._without_non_judging(text, self._matches(text, starts, hits))
        mentions: list[Mention] = []
        clause_of = _ClauseLookup(clauses)
        by_clause: dict[int, list[_Match]] = {}
        for m in matches:
            c = clause_of.holding(m.start, m.end)
            if c >= 0:
                by_clause.setdefault(c, []).append(m)
        # Phrase rules first: a shared opinion inside another category's phrase is that phrase's
        # word, not a judgement of a neighbouring aspect (老板让我给好评: 好评 does not praise 老板).
        phrases, claimed = self._regex_mentions(text, clauses, clause_of, self._candidates_among(hits))
        for c, clause_matches in by_clause.items():
            mentions.extend(self._clause_mentions(text, clauses, c, clause_matches, by_clause, claimed))
        if phrases:
            mentions = _without_overruled(mentions, phrases)
        mentions.extend(phrases)
        return dedupe_mentions(self._without_conceded(mentions, text, clauses)), is_log

    def _without_conceded(self, mentions: list[Mention], text: str, clauses) -> list[Mention]:
        """Drop a judgement the customer concedes and then answers: in 虽然有点贵，但是很值 the
        price complaint is granted only to be outweighed, so the review's price verdict is 值.

        A mention yields when a concession marker (虽然, 尽管) comes before it in its clause, the
        next clause opens with a contrast word (但是, 不过), and that clause or a later one of the
        same sentence holds the opposite judgement of the same category from a signal (a verdict
        on the same thing). An aspect there names something else and does not answer it:
        虽然前台态度不好，但是经理很热情 keeps the complaint about the front desk."""
        concession = self._marker_res.get("concession")
        if concession is None or not concession.search(text):
            return mentions
        verdicts: dict[int, list[Mention]] = {}
        subjects: set[tuple[int, str]] = set()  # (clause, category) with an aspect or topic of its own
        for m in mentions:
            if self.lexicon.rule(m.rule.split("+")[0]).role == "signal":
                verdicts.setdefault(m.clause, []).append(m)
            else:
                subjects.add((m.clause, m.category))
        kept = []
        for m in mentions:
            if m.polarity == "neu" or not concession.search(text, clauses[m.clause][0], m.start):
                kept.append(m)
                continue
            answered = any(a.category == m.category and a.polarity not in ("neu", m.polarity)
                           and (c, m.category) not in subjects
                           for c in self._answering_clauses(text, clauses, m.clause) for a in verdicts.get(c, ()))
            if not answered:
                kept.append(m)
        return kept

    def _answering_clauses(self, text: str, clauses, c: int) -> list[int]:
        """The clauses after clause `c` in its sentence, when the first of them opens with a
        contrast word; else none."""
        if c + 1 >= len(clauses) or not text.startswith(self._contrast_openers, clauses[c + 1][0]):
            return []
        out = []
        for k in range(c + 1, len(clauses)):
            if _SENTENCE_END_RE.search(text, clauses[k - 1][1], clauses[k][0]):
                break
            out.append(k)
        return out

    def _clause_mentions(self, text: str, clauses, c: int, matches: list[_Match],
                         by_clause: dict[int, list[_Match]], claimed: list[tuple[int, int, str]]) -> list[Mention]:
        all_rule_matches = [m for m in matches if m.term in self._rule_terms]
        if not all_rule_matches:  # only opinions, negators or markers here
            return []
        # A term inside a longer one (送餐 in 送餐员) does not count for pain categories; context
        # categories (tenure, intent) read every cue, so 老会员 still counts inside 老会员反而.
        rule_matches = _drop_contained(all_rule_matches)
        kept = set(rule_matches)
        opinions = [m for m in matches if m.term in self.lexicon.opinions]
        out = []
        for m in all_rule_matches:
            for rule in self._rules_by_term[m.term]:
                if m not in kept and self.lexicon.categories[rule.category].kind != "context":
                    continue
                mention = self._apply_rule(rule, m, text, clauses, c, opinions, rule_matches, by_clause, claimed)
                if mention is not None:
                    out.append(mention)
        return out

    def _apply_rule(self, rule: TermRule, m: _Match, text: str, clauses, c: int,
                    opinions: list[_Match], rule_matches: list[_Match],
                    by_clause: dict[int, list[_Match]], claimed: list[tuple[int, int, str]]) -> Mention | None:
        if rule.role == "opinion" or not self._context_ok(rule, text, clauses, c):
            return None
        clause_start, clause_end = clauses[c]
        is_open = False
        floor = _previous_end(rule_matches, opinions, m.start, clause_start)
        if rule.role == "signal":
            polarity, start = self._polarity(rule.polarity, rule.negated, text, floor, m.start)
            start, end = _extend_left(text, clause_start, min(start, m.word_start)), m.end
            polarity, end = self._negation_after(polarity, rule.polarity, rule.negated, text, end, clause_end)
        else:
            opinion = self._opinion_for(rule, m, opinions, rule_matches, claimed, (text, clauses, c))
            if opinion is None:
                if not rule.polarity:
                    return None
                polarity, start = self._polarity(rule.polarity, rule.negated, text, floor, m.start)
                end = m.end
                if polarity == "neu" and start == m.start:
                    is_open = True
            else:
                op_match, op_pol, op_neg = opinion
                op_floor = m.end if op_match.start >= m.end else _previous_end(rule_matches, opinions, op_match.start, clause_start)
                polarity, neg_start = self._polarity(op_pol, op_neg, text, op_floor, op_match.start)
                start = _extend_left(text, clause_start, min(m.word_start, neg_start, op_match.word_start))
                end = max(m.end, op_match.end)
                polarity, end = self._negation_after(polarity, op_pol, op_neg, text, end, clause_end)
        if polarity == "none":
            return None
        markers = self._markers_before(text, clause_start, m.start) | self._markers_after(text, m.end, clause_end)
        if "hearsay" in markers:
            return None
        if ("wish" in markers or "wish_tail" in markers) and "keep" not in markers:
            polarity = WISH_FLIP.get(polarity, polarity)
            is_open = False
        window = (clause_start, clauses[min(c + 1, len(clauses) - 1)][1])
        return Mention(rule.category, rule.stage, polarity, start, end, rule.rule_id, rule.confidence, c,
                       is_open, window)

    def _opinion_for(self, rule: TermRule, aspect: _Match, opinions: list[_Match], rule_matches,
                     claimed: list[tuple[int, int, str]], where: tuple):
        """The opinion nearest after the aspect in its clause (else nearest before), with its polarity;
        `claimed`: phrase-rule spans (start, end, category) whose opinion words are the phrase's,
        not an aspect's to use (the phrase gives its own category's verdict: in 会员价还没有平台便宜
        the 便宜 belongs to 没有…便宜, price neg, and does not make 会员价 cheap); `where` (text,
        clauses, clause index): where an opinion row's own requires/excludes are checked (see
        `_opinion_row_ok`)."""
        def phrase_word(m: _Match) -> bool:
            return any(s <= m.start and m.end <= e for s, e, _ in claimed)

        candidates = []
        for m in rule_matches:
            if phrase_word(m):
                continue
            for r in self._rules_by_term[m.term]:
                if r.role == "opinion" and r.category == rule.category and _opinion_row_ok(r, m, where):
                    candidates.append((m, r.polarity, r.negated))
        for m in opinions if rule.role == "aspect" else ():
            if phrase_word(m):
                continue
            if not any(c[0].start <= m.start and m.end <= c[0].end for c in candidates):
                pol = self.lexicon.opinions[m.term]
                candidates.append((m, pol, {"neg": "pos", "pos": "neg"}.get(pol, pol)))
        text = where[0]
        # 老板推荐的红烧肉很一般: the opinion judges the dish the aspect's verb led to, not the aspect
        after = [c for c in candidates if aspect.end <= c[0].start <= aspect.end + ASPECT_REACH
                 and not _RELATIVE_CLAUSE_RE.match(text, aspect.end, c[0].start)]
        before = [c for c in candidates
                  if aspect.start - OPINION_BEFORE_REACH <= c[0].end <= aspect.start
                  and self._judges_from_before(c[0], c[1], aspect, text)]
        if after:
            return min(after, key=lambda c: c[0].start)
        if before:
            return max(before, key=lambda c: c[0].end)
        return None

    def _judges_from_before(self, opinion: "_Match", polarity: str, aspect: "_Match", text: str) -> bool:
        """Whether an opinion just before its aspect judges it: a word-length opinion does (很差的服务);
        one character does when 的 joins it to the aspect and it is a complaint (差的服务) or a degree
        word grades it (这么好的服务). 小房间 (a noun), 条件好的房间 (a relative clause) and 更好的服务
        (a promise) are no judgement."""
        if len(opinion.term) >= 2:
            return True
        return text[opinion.end:aspect.start] == "的" and (
            polarity == "neg" or text.endswith(self._degree_words, 0, opinion.start))

    def _polarity(self, polarity: str, negated: str, text: str, floor: int, at: int) -> tuple[str, int]:
        """Polarity after counting the negators that scope over the term at `at`; and where the
        evidence starts. A negator scopes over the term when only modifiers or perception verbs
        stand between them (不太干净, 没有任何异味, 没闻到烟味), never across another verb
        (饮料也不上，催了半天: 不 belongs to 上)."""
        lo = max(floor, at - NEGATION_WINDOW - 2)  # 2 more, so that 个别 at the edge is not read as 别
        window = text[lo:at]
        found: list[tuple[int, int, bool]] = []  # (start, end, is_negator) in window coordinates
        i = 0
        while i < len(window):
            term = _longest_at(window, i, self._negator_index)
            if term is None:
                i += 1
                continue
            found.append((i, i + len(term), term in self.lexicon.negators))
            i += len(term)
        count, first, reach = 0, at, len(window)
        for start, end, is_negator in reversed(found):
            if not _bridgeable(window[end:reach]):
                break
            if is_negator:
                count += 1
                first = lo + start
            reach = start
        if count % 2 == 1:
            return negated, first
        if not count and text.startswith(RESULT_COMPLEMENTS, at) and not text.startswith("好好", at):
            # 没 + verb + result (没沟通好, 没处理好, 没有做到位): 没 denies the result
            # (read on the text: the verb may be the aspect itself, 没打扫好)
            pattern = _UNFINISHED_RE if text.startswith("好", at) else _NOT_REACHED_RE
            unfinished = pattern.search(text, max(0, at - 4), at)
            # …but not 不错 or 不过 (a judgement, a conjunction) ending in front of it: 不错也干净
            if unfinished and not text.startswith(self._pseudo_negators, unfinished.start()):
                return negated, unfinished.start()
        return polarity, (first if count else at)

    def _negation_after(self, polarity: str, plain: str, negated: str, text: str, end: int,
                        clause_end: int) -> tuple[str, int]:
        """Polarity and evidence end once a negation that closes the clause right after the evidence
        is counted (一点耐心都没有, 一点异味也没有): one more negator, so `plain` and `negated` swap."""
        if self._negation_tail_re is None or not self._negation_tail_re.fullmatch(text, end, clause_end):
            return polarity, end
        return (negated if polarity == plain else plain), clause_end

    # A wish or hearsay marker reaches this far: a review written without punctuation is one
    # clause, and a 建议 sixty characters earlier is not about the price at its end.
    def _markers_before(self, text: str, clause_start: int, at: int) -> set[str]:
        return self._markers_in(text[max(clause_start, at - MARKER_REACH):at], ("wish", "hearsay", "keep"))

    def _markers_after(self, text: str, at: int, clause_end: int) -> set[str]:
        return self._markers_in(text[at:min(clause_end, at + MARKER_REACH)], ("wish_tail", "keep"))

    def _markers_in(self, segment: str, kinds: tuple[str, ...]) -> set[str]:
        return {k for k in kinds if k in self._marker_res and self._marker_res[k].search(segment)}

    def _context_ok(self, rule: TermRule, text: str, clauses, c: int) -> bool:
        if not rule.requires and not rule.excludes:
            return True
        scope_text = _scope_text(rule, text, clauses, c)
        if rule.requires and not any(t in scope_text for t in rule.requires):
            return False
        return not any(t in scope_text for t in rule.excludes)

    def regex_candidates(self, text: str) -> list[int]:
        """Indexes (in lexicon order) of the regex rules that can match `text`: every string their
        matches need occurs in it (see `_regex_prefilter`); the others are not run at all."""
        return self._candidates_among(self._automaton.iter(text))

    def _candidates_among(self, hits) -> list[int]:
        """Regex rules whose requirements all occur among the automaton's `hits` over a text."""
        return self._regex_prefilter.candidates(reduce(or_, [bits for _, (_, bits) in hits], 0))

    def _regex_mentions(self, text: str, clauses, clause_of,
                        candidates: list[int]) -> tuple[list[Mention], list[tuple[int, int, str]]]:
        """Mentions of the phrase (regex) rules; and the spans (start, end, category) of the pattern's
        own opinion-holding words inside each match (see `_claiming_literals`)."""
        out, spans = [], []
        for k in candidates:
            rule, pattern = self._regex_pairs[k]
            for found in pattern.finditer(text):
                s, e = found.span()
                c = clause_of[s] if e > s else -1
                if c < 0 or not self._context_ok(rule, text, clauses, c):
                    continue
                clause_start, clause_end = clauses[c]
                e = min(e, clause_end)
                # Claimed even when the phrase is negated or hearsay (没让我给好评): its words are still
                # the phrase's, not a judgement of a neighbouring aspect.
                spans += _occurrences(text, self._claiming_literals[k], s, e, rule.category)
                polarity, start = self._polarity(rule.polarity, rule.negated, text, clause_start, s)
                start = _extend_left(text, clause_start, start)
                markers = self._markers_before(text, clause_start, s) | self._markers_after(text, e, clause_end)
                if polarity == "none" or "hearsay" in markers:
                    continue
                if ("wish" in markers or "wish_tail" in markers) and "keep" not in markers:
                    polarity = WISH_FLIP.get(polarity, polarity)
                out.append(Mention(rule.category, rule.stage, polarity, start, e, rule.rule_id, rule.confidence, c))
        return out, spans


def build_detector(lexicon: Lexicon) -> Detector:
    """The rule factory: every lexicon row becomes a rule of the returned detector."""
    return Detector(lexicon)


# --- helpers ---------------------------------------------------------------------------

def _regex_prefilter(pairs: list) -> "_RegexPrefilter":
    """Which regex rules can match a text, decided by one Aho-Corasick pass over it.

    Every match of a pattern contains one string of each of its requirements (literal runs such
    as 的性价比, alternations such as 小时|分钟, small character classes). A rule is tried only
    when every one of its requirements occurs in the text; running each pattern whose first
    character occurred (about 27 per review, 0.2 of them matching) cost more than segmentation.
    Rules with no derivable requirement always run.

    Each distinct requirement is one bit; `strings` maps each string to the bits of the
    requirements it satisfies (the detector's automaton finds them), and `candidates` takes the
    bits present in a text.
    """
    always, bits, anchored, need = [], {}, {}, []
    for k, (_, pattern) in enumerate(pairs):
        reqs = [] if pattern.flags & re.IGNORECASE else _requirements(_parsed(pattern))
        if not reqs:
            always.append(k)
            need.append(0)
            continue
        need.append(sum(1 << _bit_of(req, bits) for req in set(reqs)))
        anchored.setdefault(1 << bits[max(reqs, key=_selectivity)], []).append((k, need[k]))
    strings: dict[str, int] = {}
    for req, bit in bits.items():
        for literal in req:
            strings[literal] = strings.get(literal, 0) | 1 << bit
    return _RegexPrefilter(tuple(always), strings, tuple(need),
                           {bit: tuple(ks) for bit, ks in anchored.items()}, sum(anchored))


@dataclass(frozen=True)
class _RegexPrefilter:
    always: tuple[int, ...]  # rules with no requirement
    strings: dict[str, int]  # string → bits of the requirements it satisfies
    need: tuple[int, ...]  # per rule: bits of all its requirements
    # A rule is looked at only when its most selective requirement (its anchor) is present, so
    # only a few rules are checked per text: anchor bit → (rule, its `need`) pairs.
    by_anchor: dict[int, tuple[tuple[int, int], ...]]
    anchor_bits: int

    def candidates(self, present: int) -> list[int]:
        """Rules (in lexicon order) all of whose requirements are among the bits `present`."""
        wanted = list(self.always)
        anchors = present & self.anchor_bits
        while anchors:
            low = anchors & -anchors
            wanted += [k for k, need in self.by_anchor[low] if need & present == need]
            anchors ^= low
        return sorted(wanted)  # each rule has one anchor: no duplicates


def _bit_of(req: frozenset[str], bits: dict[frozenset[str], int]) -> int:
    return bits.setdefault(req, len(bits))


_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _requirements(items) -> list[frozenset[str]]:
    """For a parsed regex sequence: sets of strings, one string of each set occurring in any match.

    Consecutive literal characters form one string; an optional or unknown item adds nothing
    (so the list may be empty, meaning no prefilter). Sets are minimal: a string that contains
    another string of its set is dropped (the shorter one occurs wherever it does).
    """
    reqs: list[frozenset[str]] = []
    for name, arg in _joined_literals(items):
        if name == "LITERALS":
            reqs.append(frozenset((arg,)))
        elif name in _REPEATS:
            low, _, sub = arg
            reqs += _requirements(sub) if low >= 1 else []
        elif name == "SUBPATTERN":
            reqs += [] if arg[1] & re.IGNORECASE else _requirements(arg[-1])
        elif name == "ATOMIC_GROUP":
            reqs += _requirements(arg)
        elif name in ("BRANCH", "IN"):
            found = _branch_strings(arg[1]) if name == "BRANCH" else _class_chars(arg)
            reqs += [_minimal(found)] if found else []
    return reqs


def _scope_text(rule: TermRule, text: str, clauses, c: int) -> str:
    """The text a rule's requires/excludes look at: its clause, the clause and its neighbours, or all."""
    if rule.scope == "review":
        return text
    if rule.scope == "window":
        return text[clauses[max(c - 1, 0)][0]: clauses[min(c + 1, len(clauses) - 1)][1]]
    return text[clauses[c][0]: clauses[c][1]]


@lru_cache(maxsize=None)
def _parsed(pattern: re.Pattern):
    """A compiled pattern's parse tree, made once per pattern (the prefilter and the claimed
    literals both walk it; parsing is about a third of building a detector)."""
    return re._parser.parse(pattern.pattern, pattern.flags)


def _literal_strings(items) -> set[str]:
    """Every run of literal characters anywhere in a parsed regex, optional parts and each branch
    of an alternation included."""
    found: set[str] = set()
    for name, arg in _joined_literals(items):
        if name == "LITERALS":
            found.add(arg)
        elif name in _REPEATS:
            found |= _literal_strings(arg[2])
        elif name == "SUBPATTERN":
            found |= _literal_strings(arg[-1])
        elif name == "ATOMIC_GROUP":
            found |= _literal_strings(arg)
        elif name == "BRANCH":
            for seq in arg[1]:
                found |= _literal_strings(seq)
    return found


def _joined_literals(items) -> Iterator[tuple[str, Any]]:
    """The items of a parsed regex sequence as (op name, arg), consecutive literal characters
    joined into one ("LITERALS", string)."""
    run = ""
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            run += chr(arg)
            continue
        if run:
            yield "LITERALS", run
            run = ""
        yield name, arg
    if run:
        yield "LITERALS", run


def _occurrences(text: str, literals: tuple[str, ...], start: int, end: int, category: str) -> list[tuple[int, int, str]]:
    """(start, end, category) of each occurrence of `literals` within text[start:end]."""
    out = []
    for lit in literals:
        i = text.find(lit, start, end)
        while i >= 0:
            out.append((i, i + len(lit), category))
            i = text.find(lit, i + 1, end)
    return out


def _opinion_row_ok(rule: TermRule, m: "_Match", where: tuple) -> bool:
    """Whether an opinion row may be used at `m`: its `requires` in its scope, and none of its
    `excludes` overlapping the opinion itself (快 inside 快睡着 is "almost"; a 快关门 elsewhere in the
    clause says nothing about 上菜很快)."""
    if not rule.requires and not rule.excludes:
        return True
    text = where[0]
    if rule.requires and not any(t in _scope_text(rule, *where) for t in rule.requires):
        return False
    for term in rule.excludes:
        i = text.find(term, max(0, m.start - len(term) + 1), m.end + len(term) - 1)
        while i >= 0 and i < m.end:
            if i + len(term) > m.start:
                return False
            i = text.find(term, i + 1, m.end + len(term) - 1)
    return True


def _branch_strings(alternatives) -> set[str] | None:
    """Strings one of which any match of the alternation contains (each branch's best set)."""
    union: set[str] = set()
    for seq in alternatives:
        reqs = _requirements(seq)
        if not reqs:
            return None
        union |= max(reqs, key=_selectivity)
    return union


def _selectivity(req: frozenset[str]) -> tuple[int, int]:
    """How rare a requirement is likely to be: its shortest string's length, then fewer strings."""
    return min(map(len, req)), -len(req)


def _class_chars(arg) -> set[str] | None:
    chars: set[str] = set()
    for op, value in arg:
        if str(op) == "LITERAL":
            chars.add(chr(value))
        elif str(op) == "RANGE" and value[1] - value[0] < 64:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    return chars


def _minimal(strings: set[str]) -> frozenset[str]:
    return frozenset(s for s in strings if not any(o != s and o in s for o in strings))


def _first_char_index(terms: Iterable[str]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for term in terms:
        if term:
            index.setdefault(term[0], []).append(term)
    return {ch: tuple(sorted(ts, key=len, reverse=True)) for ch, ts in index.items()}


def _longest_at(text: str, i: int, index: dict[str, tuple[str, ...]]) -> str | None:
    for term in index.get(text[i], ()):
        if text.startswith(term, i):
            return term
    return None


def _fits_words(text: str, s: int, e: int, starts: list[int], first: int) -> bool:
    """The match [s, e) does not cut a word, except a word of modifiers + term + particles."""
    last = bisect_right(starts, e - 1) - 1
    return MODIFIER_CHARS.issuperset(text[starts[first]:s]) and PARTICLE_CHARS.issuperset(text[e:starts[last + 1]])


# What may stand between a negator and the term it negates.
BRIDGE_WORDS = ("闻到", "闻见", "发现", "看到", "看见", "见到", "遇到", "感觉", "觉得", "出现", "什么", "任何", "怎么",
                "那么", "这么", "那种", "这种", "过于", "太过", "一点", "半点", "丝毫", "明显", "其他", "别的", "有",
                "是", "算", "够", "会", "用",
                "需要", "需", "要", "能", "再", "闻", "见", "得", "的", "地",
                # causatives before a feeling: 不让人满意, 一点也不令人失望
                "让人", "令人", "叫人", "使人",
                # resultative verbs before 干净/好: 没洗干净, 没打扫干净, 没弄好
                "打扫", "清理", "收拾", "处理", "洗", "擦", "扫", "刷", "冲", "弄", "搞", "整理")
BRIDGE_WORD_SET = frozenset(BRIDGE_WORDS)
BRIDGE_CHARS = MODIFIER_CHARS | frozenset("也都还就")


def _quantity_after(text: str, at: int) -> bool:
    """Whether a quantity starts at `at` (几天, 久, 半天, 些, 多 but not 多了): after 好 it makes 好 a
    degree word."""
    nxt = text[at:at + 1]
    return nxt in QUANTITY_AFTER_HAO or (nxt == "多" and text[at + 1:at + 2] != "了")


def _bridgeable(gap: str) -> bool:
    """True when `gap` holds only modifiers and bridge words (so a negator before it still scopes).

    就 after anything but the negator itself closes a "not even … yet" clause: in 还没用就让我给好评
    and 还没到就催评价 the negator belongs to 用/到, and what follows 就 happened (不就是… and 也就
    keep it as a bridge: the gap starts with it or 就 follows a modifier)."""
    i = 0
    while i < len(gap):
        if gap[i] == "就" and i > 0 and gap[i - 1] not in BRIDGE_CHARS:
            return False
        word = next((w for w in BRIDGE_WORDS if gap.startswith(w, i)), None)
        if word:
            i += len(word)
        elif gap[i] in BRIDGE_CHARS:
            i += 1
        else:
            return False
    return True


def _previous_end(rule_matches: list[_Match], opinions: list[_Match], at: int, clause_start: int) -> int:
    """End of the last matched term before `at` in the clause: negation does not reach past it."""
    # A term that is also a bridge word (处理 is a waiting_time aspect) does not stop the negation
    # in 鱿鱼没处理干净.
    ends = [m.end for m in rule_matches if m.end <= at and m.term not in BRIDGE_WORD_SET]
    ends += [m.end for m in opinions if m.end <= at]
    return max([clause_start, *ends])


def _extend_left(text: str, floor: int, start: int, limit: int = 3) -> int:
    """Widen evidence over the intensifiers just before it (太慢, 非常干净)."""
    while start > floor and limit and text[start - 1] in MODIFIER_CHARS:
        start -= 1
        limit -= 1
    return start


def _cut_runs(runs: list[tuple[int, int]], cuts: list[int]) -> list[tuple[int, int]]:
    """Split each [a, b) of `runs` at the `cuts` (sorted) that fall strictly inside it."""
    out = []
    for a, b in runs:
        for cut in cuts[bisect_right(cuts, a):bisect_left(cuts, b)]:
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


class _ClauseLookup:
    """clause index of a character offset (-1 outside every clause), by bisection."""

    def __init__(self, clauses: list[tuple[int, int]]):
        self._clauses = clauses
        self.starts = [a for a, _ in clauses]

    def __getitem__(self, pos: int) -> int:
        k = bisect_right(self.starts, pos) - 1
        return k if k >= 0 and pos < self._clauses[k][1] else -1

    def holding(self, start: int, end: int) -> int:
        """The clause holding all of [start, end), or -1 (clauses are sorted and disjoint, so the
        span is inside the clause of its first character when it ends by that clause's end)."""
        k = bisect_right(self.starts, start) - 1
        return k if k >= 0 and end <= self._clauses[k][1] else -1


def _without_overruled(mentions: list[Mention], phrases: list[Mention]) -> list[Mention]:
    """Drop a term's judgement inside a phrase rule's match of the same category that reads the
    other way: the phrase is the construction around the word, so in 还没有团购划算 the phrase
    没有…划算 (price neg) is the verdict and the 划算 inside it is not a second, opposite one."""
    return [m for m in mentions
            if not any(p.category == m.category and p.polarity != m.polarity and p.start <= m.start and m.end <= p.end
                       for p in phrases)]


def _drop_contained(matches: list[_Match]) -> list[_Match]:
    """Drop a match that lies strictly inside a longer one (送餐 inside 送餐员)."""
    ordered = sorted(matches, key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[_Match] = []
    for m in ordered:
        if any(k.start <= m.start and m.end <= k.end and (k.end - k.start) > (m.end - m.start) for k in kept):
            continue
        kept.append(m)
    return kept


def dedupe_mentions(mentions: list[Mention]) -> list[Mention]:
    """One mention per clause, category and polarity; a neutral one yields to a judged one."""
    best: dict[tuple[int, str, str], Mention] = {}
    for m in mentions:
        key = (m.clause, m.category, m.polarity)
        old = best.get(key)
        if old is None or (m.confidence, m.end - m.start) > (old.confidence, old.end - old.start):
            best[key] = m
    judged = {(m.clause, m.category) for m in best.values() if m.polarity != "neu"}
    kept = [m for m in best.values() if m.polarity != "neu" or (m.clause, m.category) not in judged]
    return sorted(kept, key=lambda m: (m.start, m.end, m.category))


def _speaker_pattern(speakers) -> re.Pattern | None:
    if not speakers:
        return None
    names = "|".join(re.escape(s) for s in sorted(speakers, key=len, reverse=True))
    # A speaker word opens a turn when a colon follows (客户：, 宾馆反馈2008年8月6日：) or when it
    # stands alone in brackets as ticket systems write it (【客户】, [客服]), or, at the start of a
    # sentence, before a verb of speaking (顾客说, 坐席回复); "联系客服说…" mid-sentence is the
    # customer reporting, not a turn.
    return re.compile(
        rf"(?P<who>{names})[^，。！？,.!?:：\s]{{0,16}}[:：]"
        rf"|[【\[〔［]\s*(?P<tag>{names})\s*[】\]〕］]"
        rf"|(?:^|(?<=[。！？!?\s；;，,]))(?P<said>{names})(?=说|反映|表示|称|回复|答复|解释)"
    )
