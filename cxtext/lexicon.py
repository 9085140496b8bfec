"""Load and validate the lexicons in `lexicons/` into immutable objects.

Lexicons are plain TSV files that analysts edit (schema: `lexicons/README.md`). Loading checks every
row and reports *all* problems at once, each with its file and line, so a broken edit is fixed in one
pass. The loaded lexicon carries a version and a content hash that every output records.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping

from cxtext.paths import lexicon_dir

__all__ = ["LexiconError", "Category", "TermRule", "Lexicon", "load_lexicons", "lexicons_command"]

STAGES = ("pre", "arrival", "service", "payment", "post")
POLARITIES = ("neg", "pos", "neu")
ROLES = ("signal", "aspect", "topic", "opinion")
SCOPES = ("clause", "window", "review")
MARKER_KINDS = ("contrast", "wish", "wish_tail", "hearsay", "keep", "negation_tail", "concession")
# Markers read on the raw text after a term rather than as words of their own: not user words
# (都没有 as one word would change how jieba cuts 我们都没有, and the sentiment model's tokens).
MARKERS_NOT_WORDS = ("negation_tail",)
SPEAKER_ROLES = ("customer", "agent")
NEGATOR_KINDS = ("negator", "pseudo")


class LexiconError(ValueError):
    """Every problem found in the lexicon folder, one `file:line: message` per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid lexicons:\n  " + "\n  ".join(problems))

    def __reduce__(self):  # rebuilt from its problems when it crosses from a worker process
        return (type(self), (self.problems,))


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    stage: str
    kind: str  # "pain": can be a pain point; "context": who the customer is, intent
    labelled: bool
    description: str


@dataclass(frozen=True, slots=True)
class TermRule:
    """One lexicon row: a term of a category and how it behaves."""

    rule_id: str
    category: str
    term: str  # literal text, or a regular expression when `is_regex`
    is_regex: bool
    role: str
    polarity: str  # "" for aspects that abstain without an opinion
    negated: str  # polarity when negated
    requires: frozenset[str]
    excludes: frozenset[str]
    scope: str
    stage: str
    confidence: float
    source: str  # file:line, for error messages and rule coverage

    @property
    def pattern(self) -> re.Pattern:
        return re.compile(self.term[3:])


@dataclass(frozen=True)
class Lexicon:
    version: str
    sha256: str
    directory: str
    categories: Mapping[str, Category]
    rules: tuple[TermRule, ...]
    negators: frozenset[str]
    pseudo_negators: frozenset[str]
    intensifiers: Mapping[str, float]
    opinions: Mapping[str, str]
    markers: Mapping[str, str]
    speakers: Mapping[str, str]
    _by_id: Mapping[str, TermRule] = field(default_factory=dict, repr=False)

    def all_terms(self) -> list[str]:
        """Every literal term the segmenter should know as a word (sorted, unique)."""
        terms = {r.term for r in self.rules if not r.is_regex}
        terms.update(self.negators, self.opinions, self.speakers, self.intensifiers)
        terms.update(t for t, kind in self.markers.items() if kind not in MARKERS_NOT_WORDS)
        terms.update(t for t in self.pseudo_negators)
        for rule in self.rules:
            terms.update(rule.requires)
            terms.update(rule.excludes)
        return sorted(t for t in terms if t)

    def rule(self, rule_id: str) -> TermRule:
        return self._by_id[rule_id]

    def manifest(self) -> dict:
        return {"version": self.version, "sha256": self.sha256, "directory": self.directory,
                "categories": len(self.categories), "rules": len(self.rules)}


# --- reading ------------------------------------------------------------------------------

def _read_tsv(path: Path, columns: tuple[str, ...], problems: list[str]) -> list[tuple[int, dict]]:
    """Rows of a TSV file as (line number, dict); header must start with `columns`."""
    rows: list[tuple[int, dict]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read ({exc})")
        return rows
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())]
    content = [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        problems.append(f"{path}: empty file (expected a header row: {' | '.join(columns)})")
        return rows
    header_no, header_line = content[0]
    header = [h.strip() for h in header_line.split("\t")]
    if tuple(header[: len(columns)]) != columns:
        problems.append(f"{path}:{header_no}: header must start with {list(columns)}, got {header}")
        return rows
    for n, line in content[1:]:
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(cells) > len(header):
            problems.append(f"{path}:{n}: {len(cells)} cells but the header has {len(header)}")
            continue
        cells += [""] * (len(header) - len(cells))
        rows.append((n, {h: c.strip() for h, c in zip(header, cells)}))
    return rows


def _split_terms(value: str, contexts: Mapping[str, frozenset[str]], where: str,
                 problems: list[str]) -> frozenset[str]:
    """`a|b|@set` → {a, b, ...members of the context set}."""
    terms: set[str] = set()
    for item in filter(None, (v.strip() for v in value.split("|"))):
        if item.startswith("@"):
            if item[1:] not in contexts:
                problems.append(f"{where}: unknown context set {item} (define it in contexts.tsv)")
            else:
                terms.update(contexts[item[1:]])
        else:
            terms.add(item)
    return frozenset(terms)


def _load_categories(root: Path, problems: list[str]) -> dict[str, Category]:
    path = root / "categories.tsv"
    categories: dict[str, Category] = {}
    for n, row in _read_tsv(path, ("category", "stage", "kind", "labelled", "description"), problems):
        where = f"{path}:{n}"
        name = row["category"]
        if not re.fullmatch(r"[a-z][a-z_]*", name):
            problems.append(f"{where}: category name {name!r} must be lower_snake_case")
        if row["stage"] not in STAGES:
            problems.append(f"{where}: stage {row['stage']!r} not one of {STAGES}")
        if row["kind"] not in ("pain", "context"):
            problems.append(f"{where}: kind {row['kind']!r} must be pain or context")
        if row["labelled"] not in ("yes", "no"):
            problems.append(f"{where}: labelled must be yes or no")
        if name in categories:
            problems.append(f"{where}: category {name} defined twice")
        categories[name] = Category(name, row["stage"], row["kind"], row["labelled"] == "yes", row["description"])
    return categories


def _load_contexts(root: Path, problems: list[str]) -> dict[str, frozenset[str]]:
    path = root / "contexts.tsv"
    contexts: dict[str, frozenset[str]] = {}
    for n, row in _read_tsv(path, ("name", "terms"), problems):
        if row["name"] in contexts:
            problems.append(f"{path}:{n}: context set {row['name']} defined twice")
        terms = frozenset(t.strip() for t in row["terms"].split("|") if t.strip())
        if not terms:
            problems.append(f"{path}:{n}: context set {row['name']} has no terms")
        contexts[row["name"]] = terms
    return contexts


RULE_COLUMNS = ("id", "term", "role", "polarity", "negated", "requires", "excludes", "scope", "stage",
                "confidence", "example")


def _parse_rule(row: dict, category: Category, where: str, contexts, problems: list[str]) -> TermRule | None:
    start = len(problems)
    term = row["term"]
    is_regex = term.startswith("re:")
    if not term or (is_regex and len(term) == 3):
        problems.append(f"{where}: empty term")
    if is_regex:
        try:
            re.compile(term[3:])
        except re.error as exc:
            problems.append(f"{where}: bad regular expression {term[3:]!r}: {exc}")
    if not re.fullmatch(r"[a-z][a-z0-9_.]*", row["id"] or ""):
        problems.append(f"{where}: rule id {row['id']!r} must be lower case letters, digits, _ or .")
    if row["role"] not in ROLES:
        problems.append(f"{where}: role {row['role']!r} not one of {ROLES}")
    polarity = row["polarity"]
    if polarity not in POLARITIES and not (polarity == "" and row["role"] in ("aspect", "topic", "opinion")):
        problems.append(f"{where}: polarity {polarity!r} not one of {POLARITIES}")
    negated = row["negated"] or {"neg": "pos", "pos": "neg"}.get(polarity, polarity)
    if negated and negated not in POLARITIES + ("none",):
        problems.append(f"{where}: negated {negated!r} not one of {POLARITIES + ('none',)}")
    scope = row["scope"] or "clause"
    if scope not in SCOPES:
        problems.append(f"{where}: scope {scope!r} not one of {SCOPES}")
    stage = row["stage"] or category.stage
    if stage not in STAGES:
        problems.append(f"{where}: stage {stage!r} not one of {STAGES}")
    try:
        confidence = float(row["confidence"] or 0.8)
        if not 0 < confidence <= 1:
            raise ValueError
    except ValueError:
        problems.append(f"{where}: confidence {row['confidence']!r} must be a number in (0, 1]")
        confidence = 0.8
    requires = _split_terms(row["requires"], contexts, where, problems)
    excludes = _split_terms(row["excludes"], contexts, where, problems)
    if len(problems) > start:
        return None
    return TermRule(row["id"], category.name, term, is_regex, row["role"], polarity, negated, requires,
                    excludes, scope, stage, confidence, where)


def _load_rules(root: Path, categories: Mapping[str, Category], contexts, problems: list[str]) -> list[TermRule]:
    rules: list[TermRule] = []
    seen: dict[str, str] = {}
    folder = root / "categories"
    files = sorted(folder.glob("*.tsv")) if folder.is_dir() else []
    if not files:
        problems.append(f"{folder}: no category files (*.tsv)")
    for path in files:
        name = path.stem
        if name not in categories:
            problems.append(f"{path}: category {name!r} is not declared in categories.tsv")
            continue
        for n, row in _read_tsv(path, RULE_COLUMNS, problems):
            where = f"{path}:{n}"
            rule = _parse_rule(row, categories[name], where, contexts, problems)
            if rule is None:
                continue
            if rule.rule_id in seen:
                problems.append(f"{where}: rule id {rule.rule_id} already used at {seen[rule.rule_id]}")
                continue
            seen[rule.rule_id] = where
            rules.append(rule)
    for name in categories:
        if not (folder / f"{name}.tsv").exists():
            problems.append(f"{folder / (name + '.tsv')}: missing file for declared category {name}")
    return rules


def _load_pairs(path: Path, columns: tuple[str, str], allowed: Iterable[str] | None,
                problems: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    allowed = tuple(allowed) if allowed is not None else None
    for n, row in _read_tsv(path, columns, problems):
        key, value = row[columns[0]], row[columns[1]]
        if not key:
            problems.append(f"{path}:{n}: empty {columns[0]}")
        elif allowed is not None and value not in allowed:
            problems.append(f"{path}:{n}: {columns[1]} {value!r} not one of {allowed}")
        elif key in pairs:
            problems.append(f"{path}:{n}: {key!r} listed twice")
        else:
            pairs[key] = value
    return pairs


def _content_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".tsv", ".txt") or path.name == "VERSION":
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load_lexicons(directory: str | Path | None = None) -> Lexicon:
    """Load, validate and freeze the lexicon folder (default: the bundled `lexicons/`)."""
    root = Path(directory) if directory else lexicon_dir()
    if not root.is_dir():
        raise LexiconError([f"{root}: lexicon folder not found"])
    problems: list[str] = []
    categories = _load_categories(root, problems)
    contexts = _load_contexts(root, problems)
    rules = _load_rules(root, categories, contexts, problems)
    shared = root / "shared"
    negator_rows = _load_pairs(shared / "negators.tsv", ("term", "kind"), NEGATOR_KINDS, problems)
    intensifiers = _load_pairs(shared / "intensifiers.tsv", ("term", "weight"), None, problems)
    weights: dict[str, float] = {}
    for term, weight in intensifiers.items():
        try:
            weights[term] = float(weight)
        except ValueError:
            problems.append(f"{shared / 'intensifiers.tsv'}: weight of {term!r} is not a number: {weight!r}")
    opinions = _load_pairs(shared / "opinions.tsv", ("term", "polarity"), POLARITIES, problems)
    markers = _load_pairs(shared / "markers.tsv", ("term", "kind"), MARKER_KINDS, problems)
    speakers = _load_pairs(shared / "speakers.tsv", ("term", "role"), SPEAKER_ROLES, problems)
    version_file = root / "VERSION"
    version = version_file.read_text(encoding="utf-8").strip() if version_file.exists() else ""
    if not version:
        problems.append(f"{version_file}: missing or empty (one line, e.g. 2026.11.1)")
    if problems:
        raise LexiconError(problems)
    return Lexicon(
        version=version,
        sha256=_content_hash(root),
        directory=str(root),
        categories=MappingProxyType(categories),
        rules=tuple(rules),
        negators=frozenset(t for t, k in negator_rows.items() if k == "negator"),
        pseudo_negators=frozenset(t for t, k in negator_rows.items() if k == "pseudo"),
        intensifiers=MappingProxyType(weights),
        opinions=MappingProxyType(opinions),
        markers=MappingProxyType(markers),
        speakers=MappingProxyType(speakers),
        _by_id=MappingProxyType({r.rule_id: r for r in rules}),
    )


def lexicons_command(args) -> int:
    """`cxtext lexicons`: validate, summarise, and list terms the segmenter would still split."""
    import sys

    from cxtext.segment import Segmenter

    try:
        lexicon = load_lexicons(args.lexicons)
    except LexiconError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"lexicons {lexicon.directory}: version {lexicon.version}, sha256 {lexicon.sha256[:16]}…, "
          f"{len(lexicon.rules)} rules in {len(lexicon.categories)} categories")
    counts: dict[str, int] = {}
    for rule in lexicon.rules:
        counts[rule.category] = counts.get(rule.category, 0) + 1
    for name, category in lexicon.categories.items():
        print(f"  {name:20s} {category.stage:8s} {category.kind:8s} {counts.get(name, 0):4d} rules")
    split = Segmenter(lexicon.all_terms(), backend=args.backend).split_terms(lexicon.all_terms())
    for term, words in split:
        print(f"split by the segmenter: {term!r} -> {' / '.join(words)}")
    print(f"{len(split)} term(s) the segmenter still splits")
    return 1 if split else 0
