"""Targets and outcomes: what a figure measures, whether it is a target, and the indicator panel.

Economists code, for each place and year, the targets a government set (主要预期目标) and the
outcomes it reported. This module reads them from the metrics of a document:

1. **What a figure measures** (:func:`annotate_metrics`). The nearest name of an indicator of
   ``resources/indicators.tsv`` before the figure, in its sentence, whose category fits the
   figure (``地区生产总值5.36万亿元`` is ``gdp``, ``增长5.3%`` after it is ``gdp_growth``), with
   only a short predicate between them (``增长``, ``控制在``, ``稳定在``) or a clause that opens
   with one (``…4520亿元，同比增长5.6%``). No indicator when another figure of the same
   category stands between, when a stop word does (``比重``, ``分别``), when the name is an
   object (``占地区生产总值比重``), or when the figure is a **part's**
   (``resources/indicator_context.tsv``): a part word before the name in its clause
   (``县域``, ``农村``, ``第一产业``), a sub-place name right before it (``锦城市地区生产总值``,
   but ``全市`` / ``我市`` are the whole), or a sentence whose subject is a sub-place
   (``锦城市要…，地区生产总值增长6%左右``).
2. **Target or outcome, and for which period** (``stance``, ``period``, ``period_end``). The
   report's parts decide first: the innermost section whose title names a review
   (``2025年工作回顾``, ``过去一年``) or a plan (``主要目标``, ``重点工作``, ``总体要求``) gives
   ``achieved`` or ``target``, and only a time word before the figure overrides it (``去年``
   in a plan part, ``今年`` in a review part): words like ``高于预期目标`` in a review never
   make a target. An explicit year before the figure in its statement (``2025年，…``) gives
   the period (before the report's year: achieved; ``到2030年``: a target). Where the
   section tree says nothing, the nearest cue word before the figure in its statement
   (back to 。！？, so a list's lead-in ``主要预期目标是：`` counts) decides, and failing that a
   figure standing before the report's target statement is an outcome. A figure after
   ``年均`` / ``累计`` is a multi-year one: its period is the plan named (``“十四五”`` =
   2021–2025), ``过去五年``, or up to ``到2030年``. A government report for year Y sets
   targets for Y and reviews Y−1; a work summary (doc_type ``总结``) reviews Y and plans Y+1.
   The words are ``resources/stance_cues.tsv``.
3. **The panel** (:func:`indicator_panel`): one row per (document, indicator, stance), the
   first place-wide single-year figure — the target for the plan year, the outcome for the
   review year — or, failing a figure, a statement of the indicator without a number
   (``居民收入增长和经济增长同步``, ``与上年持平``: ``status`` ``no_number``, value null).
   ``value`` is signed for change indicators (``下降1.2%`` → −1.2, as ``微降0.1%`` → −0.1;
   the metrics table keeps 1.2 with ``direction`` ``down``); ``qualifier`` is ``range`` when
   the figure is a range; a stretch goal after the figure (``力争6%``, ``争取更好结果``) is
   kept in ``aspiration``. :func:`panel_wide` makes the place × year table for regressions,
   :func:`write_panel` writes Parquet, ``utf-8-sig`` CSV or Stata ``.dta``.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, ResourceError
from .rules import load_tsv
from .schema import PANEL_COLUMNS, Metric

__all__ = [
    "IndicatorContext",
    "IndicatorRules",
    "annotate_metrics",
    "annotations",
    "document_panel",
    "indicator_panel",
    "indicator_rules",
    "panel_wide",
    "target_outcome_chart",
    "target_vs_outcome",
    "write_panel",
]

_CATEGORIES = frozenset({"percent", "percentage_points", "money", "people", "weight", "count"})
_CONTEXT_KINDS = frozenset(
    {"part", "part_suffix", "whole_prefix", "subject_verb", "not_subject", "stop"}
)
_CUE_KINDS = frozenset(
    {"review_title", "plan_title", "target", "achieved", "past", "future", "multi_year",
     "aspiration", "no_number"}
)  # fmt: skip
_CLAUSE_MARKS = "，,、：:"
_STATEMENT_REACH = 400  # how far back a statement (to 。！？) is searched for cues
_PARAGRAPH_REACH = 1200  # how far back a paragraph is searched for time words (过去的一年)
_NAME_REACH = 60  # how far before a figure its indicator's name may stand
_OWN_CLAUSE = 8  # a figure's own clause may open with this many characters (同比增长) only
_YEAR = re.compile(r"(19[5-9][0-9]|20[0-9]{2})(?<![0-9]{5})年(?![0-9]{1,2}月[0-9]{1,2}日)")
_PLAN_NAME = re.compile(r"[“\"]?(十[一二三四五六七八九]?|[一二三四五六七八九])五[”\"]?")
_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_FIVE_YEARS = re.compile("过去五年|五年来")
_SPACES = re.compile(r"\s+")
_COMMA = re.compile(r"[，,]")
_DIGIT_OR_PERCENT = re.compile(r"[0-9%％]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_STATA_RESERVED = frozenset({"end", "in", "if", "using", "with", "_n", "_N", "byte", "int", "long"})
_INDICATORS_FILE: str | Path = "indicators.tsv"
_CONTEXT_FILE: str | Path = "indicator_context.tsv"
_CUES_FILE: str | Path = "stance_cues.tsv"


@dataclass(frozen=True, slots=True)
class IndicatorRules:
    """The loaded lexicons: built once from the resource files by :func:`indicator_rules`."""

    names: dict[str, str]
    signed: frozenset[str]
    by_phrase: dict[str, dict[str, str]]
    phrase_re: re.Pattern[str]
    part_re: re.Pattern[str]
    part_suffix: frozenset[str]
    whole_prefix: frozenset[str]
    subject_re: re.Pattern[str]
    not_subject: tuple[str, ...]
    stop_re: re.Pattern[str]
    review_title: re.Pattern[str]
    plan_title: re.Pattern[str]
    cue_re: re.Pattern[str]
    cue_kinds: dict[str, frozenset[str]]
    cue_not_after: dict[str, tuple[str, ...]]
    aspiration_re: re.Pattern[str]
    no_number_re: re.Pattern[str]
    categories: frozenset[str]
    statement_words: tuple[str, ...]


def _words_re(words: Iterable[str]) -> re.Pattern[str]:
    from .metrics import _alternation

    words = [w for w in words if w]
    return re.compile(_alternation(words) if words else "(?!)")


@functools.cache
def indicator_rules() -> IndicatorRules:
    """Load ``indicators.tsv``, ``indicator_context.tsv`` and ``stance_cues.tsv``.

    >>> r = indicator_rules()
    >>> r.by_phrase["地区生产总值"]["percent"], r.by_phrase["地区生产总值"]["money"]
    ('gdp_growth', 'gdp')
    """
    names: dict[str, str] = {}
    signed: set[str] = set()
    by_phrase: dict[str, dict[str, str]] = {}
    for row in load_tsv(_INDICATORS_FILE, required=("id", "name", "category", "phrasings")):
        iid, cat = row["id"], row["category"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", iid) or iid in names:
            raise ResourceError(f"{row.where()}: id {iid!r} is not a new snake_case id")
        if cat not in _CATEGORIES:
            raise ResourceError(f"{row.where()}: category must be one of {sorted(_CATEGORIES)}")
        if not row["phrasings"].split():
            raise ResourceError(f"{row.where()}: no phrasings")
        names[iid] = row["name"]
        if row.get("signed") == "yes":
            signed.add(iid)
        for p in row["phrasings"].split():
            slot = by_phrase.setdefault(p, {})
            if cat in slot:
                raise ResourceError(f"{row.where()}: {p!r} already names {slot[cat]} ({cat})")
            slot[cat] = iid

    ctx: dict[str, list[str]] = {k: [] for k in _CONTEXT_KINDS}
    for row in load_tsv(_CONTEXT_FILE, required=("id", "kind", "word")):
        if row["kind"] not in _CONTEXT_KINDS:
            raise ResourceError(f"{row.where()}: kind must be one of {sorted(_CONTEXT_KINDS)}")
        ctx[row["kind"]].append(row["word"])

    cues: dict[str, list[str]] = {k: [] for k in _CUE_KINDS}
    not_after: dict[str, tuple[str, ...]] = {}
    kinds_of: dict[str, set[str]] = {}
    for row in load_tsv(_CUES_FILE, required=("id", "kind", "word")):
        kind, word = row["kind"], row["word"]
        if kind not in _CUE_KINDS:
            raise ResourceError(f"{row.where()}: kind must be one of {sorted(_CUE_KINDS)}")
        cues[kind].append(word)
        if kind in ("target", "achieved", "past", "future", "multi_year"):
            kinds_of.setdefault(word, set()).add(kind)
            if row.get("not_after").strip():
                not_after[word] = tuple(
                    set(not_after.get(word, ())) | set(row.get("not_after").split())
                )
    suffixes = "".join(re.escape(s) for s in ctx["part_suffix"])
    verbs = _words_re(ctx["subject_verb"]).pattern
    whole = "".join(re.escape(s) for s in ctx["whole_prefix"])
    return IndicatorRules(
        names=names,
        signed=frozenset(signed),
        by_phrase=by_phrase,
        phrase_re=_words_re(by_phrase),
        part_re=_words_re(ctx["part"]),
        part_suffix=frozenset(ctx["part_suffix"]),
        whole_prefix=frozenset(ctx["whole_prefix"]),
        subject_re=re.compile(
            rf"[\u4e00-\u9fff]{{1,5}}(?<![{whole}])[{suffixes}]{verbs}" if suffixes else "(?!)"
        ),
        not_subject=tuple(ctx["not_subject"]),
        stop_re=_words_re(ctx["stop"]),
        review_title=_words_re(cues["review_title"]),
        plan_title=_words_re(cues["plan_title"]),
        cue_re=_words_re(kinds_of),
        cue_kinds={w: frozenset(k) for w, k in kinds_of.items()},
        cue_not_after=not_after,
        aspiration_re=re.compile(
            f"[，,]?\\s*[^，,；;。！？\\n]{{0,8}}?(?:{_words_re(cues['aspiration']).pattern})[^，,；;。！？]*"
        ),
        no_number_re=_words_re(cues["no_number"]),
        categories=frozenset(c for slot in by_phrase.values() for c in slot),
        statement_words=tuple(w for w in cues["target"] if len(w) >= 4),
    )


# ----------------------------------------------------------------------------- context


class _DocIndex:
    """Where a document's statements and paragraphs start; its cue words and years, found
    paragraph by paragraph on first use (paragraphs without a figure are never scanned)."""

    __slots__ = ("_cues", "_years", "paragraphs", "rules", "statements", "text")

    def __init__(self, text: str, rules: IndicatorRules) -> None:
        from .metrics import sentence_breaks

        self.text, self.rules = text, rules
        # line breaks that end a sentence, and whether a colon stands before
        breaks = [(nl + 1, nl > 0 and text[nl - 1] in "：:") for nl in sentence_breaks(text)]
        self.paragraphs = [0, *(b for b, _ in breaks)]
        # a list's lead-in (目标是：⏎1.…) stays in the statement of its items
        self.statements = [0, *(b for b, colon in breaks if not colon)]
        self._cues: dict[int, list[tuple[int, int, str]]] = {}
        self._years: dict[int, list[re.Match[str]]] = {}

    def _bounds(self, i: int) -> tuple[int, int]:
        p = self.paragraphs
        return p[i], (p[i + 1] if i + 1 < len(p) else len(self.text))

    def _para_cues(self, i: int) -> list[tuple[int, int, str]]:
        found = self._cues.get(i)
        if found is None:
            text, na = self.text, self.rules.cue_not_after
            a, b = self._bounds(i)
            found = [
                (m.start(), m.end(), m.group()) for m in self.rules.cue_re.finditer(text, a, b)
                if m.group() not in na
                or not text.endswith(na[m.group()], max(0, m.start() - 4), m.start())
            ]  # fmt: skip
            self._cues[i] = found
        return found

    def cues(self, lo: int, pos: int) -> list[tuple[int, int, str]]:
        """The cue words ending by *pos* and starting at *lo* or later, in order."""
        p = self.paragraphs
        out: list[tuple[int, int, str]] = []
        for i in range(bisect.bisect_right(p, lo) - 1, bisect.bisect_right(p, pos)):
            out.extend(c for c in self._para_cues(i) if c[0] >= lo and c[1] <= pos)
        return out

    def last_year(self, lo: int, pos: int) -> re.Match[str] | None:
        """The last year (``2025年``) ending by *pos* and starting at *lo* or later."""
        p = self.paragraphs
        for i in range(bisect.bisect_right(p, pos) - 1, bisect.bisect_right(p, lo) - 2, -1):
            years = self._years.get(i)
            if years is None:
                a, b = self._bounds(i)
                years = self._years[i] = list(_YEAR.finditer(self.text, a, b))
            for y in reversed(years):
                if y.end() <= pos:
                    return y if y.start() >= lo else None
        return None


class IndicatorContext:
    """What a document tells about its figures: its parts (from the section tree), its year.

    *sections* are :class:`~corpus_tools.schema.Section` records or rows with the same
    fields; *year* is the year the document is for; *doc_type* ``总结`` (a work summary)
    reviews its own year, any other document (a government report) the year before.
    """

    def __init__(
        self,
        text: str,
        *,
        sections: Sequence[Any] | None = None,
        year: int | None = None,
        doc_type: str | None = None,
        rules: IndicatorRules | None = None,
    ) -> None:
        self.text = text
        self.rules = rules or indicator_rules()
        self.year = int(year) if year is not None and year == year else None
        summary = doc_type == "总结"
        self.plan_year = None if self.year is None else self.year + (1 if summary else 0)
        self.review_year = None if self.year is None else self.year - (0 if summary else 1)
        self._sections = self._parts(sections or ())
        self._starts = [s[0] for s in self._sections]
        self._target_pos: int | None = None
        self._index: _DocIndex | None = None
        self._has_names: bool | None = None

    @property
    def index(self) -> _DocIndex:
        """Statement and paragraph starts, cue words, years and indicator names of the text:
        found in one pass over the document on first use, then looked up by bisection."""
        if self._index is None:
            self._index = _DocIndex(self.text, self.rules)
        return self._index

    # -- parts of the report
    def _parts(self, sections: Sequence[Any]) -> list[tuple[int, int, str | None, int]]:
        """(start, end, part, parent index) per section, in document order; the part comes
        from the section's title or, failing that, its nearest classified ancestor's."""
        rows: list[tuple[int, int, str | None, int]] = []
        pos: dict[str, int] = {}
        if sections and isinstance(sections[0], Mapping):
            get: Any = lambda s, k: s[k]  # noqa: E731 - table rows
        else:
            get = getattr
        for s in sorted(sections, key=lambda s: int(get(s, "start"))):
            sid, parent = str(get(s, "section_id")), get(s, "parent_id")
            family, title = get(s, "family"), get(s, "title") or ""
            own = None
            if family not in ("enum", "preamble") and len(title) <= 40:
                own = self._classify(title)
            pj = pos.get(str(parent), -1) if parent is not None else -1
            part = own or (rows[pj][2] if pj >= 0 else None)
            pos[sid] = len(rows)
            rows.append((int(get(s, "start")), int(get(s, "end")), part, pj))
        return rows

    def _classify(self, title: str) -> str | None:
        r = self.rules
        years = [int(y) for y in _YEAR.findall(title)]
        review = r.review_title.search(title) is not None
        plan = r.plan_title.search(title) is not None
        if self.plan_year is not None and years:
            if max(years) >= self.plan_year and not review:
                return "plan"
            if max(years) < self.plan_year and not plan:
                return "review"
        if review and not plan:
            return "review"
        if plan and not review:
            return "plan"
        if review and plan:  # “十四五”时期工作回顾和2026年目标: the later word names the part
            rm = max(m.end() for m in r.review_title.finditer(title))
            pm = max(m.end() for m in r.plan_title.finditer(title))
            return "plan" if pm > rm else "review"
        return None

    def part_at(self, pos: int) -> str | None:
        """``review``, ``plan`` or None: the part of the report *pos* stands in."""
        j = bisect.bisect_right(self._starts, pos) - 1
        while j >= 0:
            start, end, part, parent = self._sections[j]
            if pos < end:
                return part
            j = parent
        return None

    # -- statements and cues
    def statement_start(self, pos: int) -> int:
        """Start of the statement around *pos*: back to 。！？ or a sentence break."""
        ix, text = self.index, self.text
        k = bisect.bisect_right(ix.statements, pos) - 1
        lo = max(ix.statements[k] if k >= 0 else 0, pos - _STATEMENT_REACH, 0)
        stop = max(text.rfind("。", lo, pos), text.rfind("！", lo, pos), text.rfind("？", lo, pos))
        return stop + 1 if stop >= 0 else lo

    def paragraph_start(self, pos: int) -> int:
        """Start of the paragraph around *pos*: back to a sentence break (at most a window)."""
        ix = self.index
        k = bisect.bisect_right(ix.paragraphs, pos) - 1
        return max(ix.paragraphs[k] if k >= 0 else 0, pos - _PARAGRAPH_REACH, 0)

    def cues(self, lo: int, pos: int) -> list[tuple[int, int, str]]:
        """The cue words in ``text[lo:pos]``: (start, end, word), excluded ones left out."""
        return self.index.cues(lo, pos)

    def target_statement_pos(self) -> int:
        """Where the report first states targets (预期目标, 主要目标); len(text) if nowhere."""
        if self._target_pos is None:
            text, rules = self.text, self.rules
            first = len(text)
            for w in rules.statement_words:  # not 力争 or 计划 in passing
                bad = rules.cue_not_after.get(w, ())
                i = text.find(w, 0, first)
                while i >= 0 and bad and text.endswith(bad, max(0, i - 4), i):
                    i = text.find(w, i + 1, first)
                if i >= 0:
                    first = i
            self._target_pos = first
        return self._target_pos

    def has_names(self) -> bool:
        if self._has_names is None:
            self._has_names = self.rules.phrase_re.search(self.text) is not None
        return self._has_names

    # -- stance and period of a figure at pos
    def stance_at(self, pos: int) -> tuple[str | None, int | None, int | None]:
        """(stance, period, period_end) of a figure starting at *pos*."""
        ix, kinds = self.index, self.rules.cue_kinds
        lo = self.statement_start(pos)
        p_lo = min(lo, self.paragraph_start(pos))
        para = ix.cues(p_lo, pos)
        time_cue = ta_cue = None
        multi = False
        for start, _, w in reversed(para):
            k = kinds[w]
            if time_cue is None and ("past" in k or "future" in k):
                time_cue = "achieved" if "past" in k else "target"
            if start >= lo:
                if ta_cue is None and ("target" in k or "achieved" in k):
                    ta_cue = "target" if "target" in k else "achieved"
                multi = multi or "multi_year" in k
        return self._decide(pos, lo, self.part_at(pos), ix.last_year(lo, pos), time_cue,
                            ta_cue, multi)  # fmt: skip

    def stances(self, positions: Sequence[int]) -> list[tuple[str | None, int | None, int | None]]:
        """:meth:`stance_at` of each of *positions* (ascending), in one sweep over the text.

        The cue words and years of the paragraphs holding figures are scanned once, in order;
        each figure then takes the last cue of each kind that still lies in its statement
        (or paragraph, for time words).
        """
        ix, text, rules = self.index, self.text, self.rules
        kinds, na = rules.cue_kinds, rules.cue_not_after
        cue_re, paragraphs = rules.cue_re, ix.paragraphs
        out: list[tuple[str | None, int | None, int | None]] = []
        cues: list[tuple[int, int, str]] = []
        years: list[re.Match[str]] = []
        scanned = ci = yi = 0
        last_time: tuple[int, str] | None = None
        last_ta: tuple[int, str] | None = None
        last_multi = -1
        last_year: re.Match[str] | None = None
        for pos in positions:
            lo = self.statement_start(pos)
            p_lo = min(lo, self.paragraph_start(pos))
            if pos >= scanned:
                a = max(scanned, p_lo)
                i = bisect.bisect_right(paragraphs, pos)
                hi = paragraphs[i] if i < len(paragraphs) else len(text)
                cues.extend(
                    (m.start(), m.end(), m.group()) for m in cue_re.finditer(text, a, hi)
                    if m.group() not in na
                    or not text.endswith(na[m.group()], max(0, m.start() - 4), m.start())
                )  # fmt: skip
                years.extend(_YEAR.finditer(text, a, hi))
                scanned = hi
            while ci < len(cues) and cues[ci][1] <= pos:
                start, _, w = cues[ci]
                k = kinds[w]
                if "past" in k or "future" in k:
                    last_time = (start, "achieved" if "past" in k else "target")
                if "target" in k or "achieved" in k:
                    last_ta = (start, "target" if "target" in k else "achieved")
                if "multi_year" in k:
                    last_multi = start
                ci += 1
            while yi < len(years) and years[yi].end() <= pos:
                last_year = years[yi]
                yi += 1
            out.append(self._decide(
                pos, lo, self.part_at(pos),
                last_year if last_year is not None and last_year.start() >= lo else None,
                last_time[1] if last_time is not None and last_time[0] >= p_lo else None,
                last_ta[1] if last_ta is not None and last_ta[0] >= lo else None,
                last_multi >= lo,
            ))  # fmt: skip
        return out

    def _decide(
        self,
        pos: int,
        lo: int,
        part: str | None,
        year_m: re.Match[str] | None,
        time_cue: str | None,
        ta_cue: str | None,
        multi: bool,
    ) -> tuple[str | None, int | None, int | None]:
        """The rules of the module docstring, from what stands before the figure."""
        text = self.text
        stance: str | None = None
        period: int | None = None
        if year_m is not None:
            y = int(year_m.group(1))
            by = text.endswith("到", 0, year_m.start()) or text.endswith("至", 0, year_m.start())
            if by or (self.plan_year is not None and y >= self.plan_year):
                stance = "target"
            elif self.plan_year is not None:
                stance = "achieved"
            period = y
        if stance is None:
            if part == "review":
                stance = time_cue or "achieved"
            elif part == "plan":
                stance = time_cue or "target"
            elif time_cue is not None:
                stance = time_cue
            elif ta_cue is not None:
                stance = ta_cue
            elif pos < self.target_statement_pos():
                stance = "achieved"
        if stance is None:
            return None, None, None
        if multi:
            return stance, *self._multi_period(lo, pos, stance, year_m)
        if period is None:
            period = self.plan_year if stance == "target" else self.review_year
        return stance, period, None

    def _multi_period(
        self, lo: int, pos: int, stance: str, year_m: re.Match[str] | None
    ) -> tuple[int | None, int | None]:
        text = self.text
        plan = None
        for m in _PLAN_NAME.finditer(text, lo, pos):
            if text.startswith(("时期", "期间", "规划", "以来"), m.end()) or m.group().startswith(
                ("“", '"')
            ):
                plan = m
        if plan is not None:
            n = _cn_int(plan.group(1))
            if n is not None and n >= 3:
                first = 1966 + 5 * (n - 3)
                return first, first + 4
        if year_m is not None and stance == "target" and self.plan_year is not None:
            return self.plan_year, int(year_m.group(1))
        if self.review_year is not None and _FIVE_YEARS.search(text, lo, pos):
            return self.review_year - 4, self.review_year
        return None, None


def _cn_int(s: str) -> int | None:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN_DIGIT.get(s[1], -100)
    return _CN_DIGIT.get(s)


# ----------------------------------------------------------------------------- indicators


def _indicator_of(
    ctx: IndicatorContext, m: Metric, previous: Sequence[Metric], lo: int
) -> tuple[str | None, int]:
    """The indicator a metric measures and where its name starts (-1 when none)."""
    r, text = ctx.rules, ctx.text
    ws = max(lo, m.start - _NAME_REACH)
    name = None
    for p in r.phrase_re.finditer(text, ws, m.start):
        name = p
    if name is None:
        return None, -1
    iid = r.by_phrase[name.group()].get(m.category)
    if iid is None:
        return None, -1
    gap = _SPACES.sub("", text[name.end() : m.start])
    if r.stop_re.search(gap):
        return None, -1
    marks = [i for i, c in enumerate(gap) if c in _CLAUSE_MARKS]
    if (not marks and len(gap) > 20) or (
        marks and (len(marks) > 2 or len(gap) - marks[-1] - 1 > _OWN_CLAUSE or len(gap) > 40)
    ):
        return None, -1
    for q in previous:
        if q.start >= name.end() and q.category == m.category:
            return None, -1  # 增长5.5%左右，力争6%: the name is the first figure's
    if _is_part(ctx, name.start(), lo):
        return None, -1
    return iid, name.start()


def _is_part(ctx: IndicatorContext, start: int, lo: int) -> bool:
    """Whether the name at *start* is of a part of the place, or no subject at all."""
    r, text = ctx.rules, ctx.text
    if text.endswith(r.not_subject, max(0, start - 3), start):
        return True
    cs = start
    while cs > lo and text[cs - 1] not in "，,；;：:。！？、\n":
        cs -= 1
    prefix = text[cs:start].strip()
    if prefix and r.part_re.search(prefix):
        return True
    if (
        len(prefix) >= 3
        and prefix[-1] in r.part_suffix
        and prefix[-2] not in r.whole_prefix
        and _CJK.match(prefix[-3])
    ):
        return True  # 锦城市地区生产总值, 东湖区…
    if not prefix and cs > lo:
        head = text[lo:cs].lstrip()
        first = _COMMA.split(head, maxsplit=1)[0]
        if r.subject_re.match(first):
            return True  # 锦城市要发挥主干作用，地区生产总值增长6%左右
    return False


def annotate_metrics(
    text: str,
    metrics: Sequence[Metric],
    *,
    sections: Sequence[Any] | None = None,
    year: int | None = None,
    doc_type: str | None = None,
    context: IndicatorContext | None = None,
) -> list[Metric]:
    """The metrics of *text* with ``indicator``, ``stance``, ``period`` and ``period_end`` set.

    :func:`~corpus_tools.extract_metrics` does this already; use it on metrics of your own.

    >>> from corpus_tools import extract_metrics, split_sections
    >>> text = ("一、2025年工作回顾\\n全省地区生产总值5.36万亿元，增长5.3%，高于预期目标0.3个百分点。"
    ...         "县域经济增长5.9%。\\n二、2026年主要目标\\n地区生产总值增长5%左右。")
    >>> ms = extract_metrics(text, sections=split_sections(text), year=2026)
    >>> [(m.raw, m.indicator, m.stance, m.period) for m in ms]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('5.36万亿元', 'gdp', 'achieved', 2025), ('5.3%', 'gdp_growth', 'achieved', 2025),
     ('0.3个百分点', None, 'achieved', 2025), ('5.9%', None, 'achieved', 2025),
     ('5%左右', 'gdp_growth', 'target', 2026)]
    """
    ctx = context or IndicatorContext(text, sections=sections, year=year, doc_type=doc_type)
    return [
        Metric(m.raw, m.value, m.value_max, m.unit, m.category, m.qualifier, m.direction,
               m.basis, m.masked, m.start, m.end, m.sentence, *a)
        for m, a in zip(metrics, annotations(ctx, metrics), strict=True)
    ]  # fmt: skip


def annotations(
    ctx: IndicatorContext, metrics: Sequence[Any]
) -> list[tuple[str | None, str | None, int | None, int | None]]:
    """(indicator, stance, period, period_end) of each metric of ``ctx.text``, in order.

    *metrics* need ``start``, ``end`` and ``category`` attributes (records or the scanner's
    own objects).
    """
    from .metrics import _sentence_bounds

    text = ctx.text
    named = ctx.has_names()
    categories = ctx.rules.categories
    out: list[str | None] = []
    lo, hi = -1, -1
    for i, m in enumerate(metrics):
        indicator = None
        if named and m.category in categories:
            if not (lo <= m.start and m.end <= hi):
                lo, hi = _sentence_bounds(text, m.start, m.end)
            indicator, _ = _indicator_of(ctx, m, metrics[max(0, i - 6) : i], lo)
        out.append(indicator)
    stances = ctx.stances([m.start for m in metrics])
    return [(ind, *st) for ind, st in zip(out, stances, strict=True)]


# ----------------------------------------------------------------------------- the panel


def _no_number_statements(
    ctx: IndicatorContext, metrics: Sequence[Metric]
) -> list[tuple[str, int, int, str]]:
    """Statements of an indicator without a number: (indicator, start, end, raw)."""
    from .metrics import _sentence_bounds

    r, text = ctx.rules, ctx.text
    spans = [(m.start, m.end) for m in metrics]
    out = []
    for p in r.phrase_re.finditer(text):
        hi = p.end()
        limit = min(len(text), p.end() + 30)
        while hi < limit and text[hi] not in "，,；;。！？":
            hi += 1
        kept = [i for i in range(p.end(), hi) if text[i] != "\n"]  # a clause may wrap
        clause = "".join(text[i] for i in kept)
        nn = r.no_number_re.search(clause)
        if nn is None or _DIGIT_OR_PERCENT.search(clause):
            continue
        k = bisect.bisect_left(spans, (p.end(), -1))
        if k < len(spans) and spans[k][0] < hi:
            continue  # a figure in the clause
        ids = r.by_phrase[p.group()]
        iid = ids.get("percent") or next(iter(ids.values()))
        lo, _ = _sentence_bounds(text, p.start(), hi)
        if _is_part(ctx, p.start(), lo):
            continue
        end = kept[nn.end() - 1] + 1
        out.append((iid, p.start(), end, text[p.start() : end]))
    return out


def document_panel(
    doc: Mapping[str, Any],
    metrics: Sequence[Metric] | Sequence[Mapping[str, Any]],
    sections: Sequence[Any] = (),
) -> list[dict[str, Any]]:
    """The panel rows of one document (``doc``: ``doc_id, place, year, doc_type, text``).

    *metrics* are the document's metrics as :func:`annotate_metrics` returns them (records or
    table rows, in document order); *sections* its sections (for ``section_id``).
    """
    from .metrics import _sentence_bounds
    from .sections import SectionIndex

    text = doc.get("text") or ""
    year = doc.get("year")
    ctx = IndicatorContext(text, sections=sections, year=year, doc_type=doc.get("doc_type"))
    rules = ctx.rules
    ms = [m if isinstance(m, Metric) else _metric_from_row(m) for m in metrics]
    want = {"target": ctx.plan_year, "achieved": ctx.review_year}
    chosen: dict[tuple[str, str], tuple[str, Any]] = {}
    for m in ms:
        if m.indicator is None or m.stance not in want or m.period_end is not None:
            continue
        if m.period is None or (want[m.stance] is not None and m.period != want[m.stance]):
            continue
        if m.value is None:
            continue
        chosen.setdefault((m.indicator, m.stance), ("stated", m))
    if ctx.has_names():
        for iid, start, end, raw in _no_number_statements(ctx, ms):
            stance, period, period_end = ctx.stance_at(start)
            if stance not in want or period_end is not None or period is None:
                continue
            if want[stance] is not None and period != want[stance]:
                continue
            chosen.setdefault((iid, stance), ("no_number", (start, end, raw, period)))
    index = None
    secs = list(sections)
    if secs and not all(isinstance(s, Mapping) for s in secs):
        index = SectionIndex(secs)
    elif secs:
        index = SectionIndex([_section_from_row(s) for s in secs])
    rows = []
    for (iid, stance), (status, item) in chosen.items():
        if status == "stated":
            m = item
            value, value_max = m.value, m.value_max
            if iid in rules.signed and m.direction == "down":
                value = -value if value is not None else None
                value_max = -value_max if value_max is not None else None
                if value_max is not None and value is not None and value_max < value:
                    value, value_max = value_max, value
            asp = rules.aspiration_re.match(text, m.end) if stance == "target" else None
            start, end, raw, period = m.start, m.end, m.raw, m.period
            qualifier = "range" if m.value_max is not None else m.qualifier
            unit = m.unit
        else:
            start, end, raw, period = item
            value = value_max = None
            qualifier = unit = None
            asp = None
        lo, hi = _sentence_bounds(text, start, end)
        rows.append({
            "doc_id": doc.get("doc_id"), "place": doc.get("place"), "year": year,
            "indicator": iid, "stance": stance, "period": period, "value": value,
            "value_max": value_max, "qualifier": qualifier, "unit": unit, "status": status,
            "aspiration": asp.group().lstrip("，, ").strip() if asp else None,
            "raw": raw, "start": start, "end": end, "sentence": text[lo:hi].strip(),
            "section_id": index.at(start) if index is not None else None,
        })  # fmt: skip
    rows.sort(key=lambda r: r["start"])
    return rows


def _metric_from_row(row: Mapping[str, Any]) -> Metric:
    def val(k: str) -> Any:
        v = row.get(k)
        return None if v is None or v != v else v  # NaN from pandas

    return Metric(
        raw=row["raw"], value=val("value"), value_max=val("value_max"), unit=row["unit"],
        category=row["category"], qualifier=row["qualifier"], direction=val("direction"),
        basis=val("basis"), masked=bool(row["masked"]), start=int(row["start"]),
        end=int(row["end"]), sentence=row["sentence"], indicator=val("indicator"),
        stance=val("stance"),
        period=None if val("period") is None else int(row["period"]),
        period_end=None if val("period_end") is None else int(row["period_end"]),
    )  # fmt: skip


def _section_from_row(row: Mapping[str, Any]) -> Any:
    from .schema import Section

    fields = {k: row[k] for k in Section.__dataclass_fields__ if k in row}
    fields.setdefault("text", "")  # sections.parquet keeps offsets only
    return Section(**fields)


def indicator_panel(source: str | Path | Mapping[str, Any]) -> Any:
    """The indicator panel (long form) of a run's output folder or of its tables.

    *source* is the folder ``corpus-tools run`` wrote (its ``indicators.parquet`` is read), or a
    mapping with the ``documents``, ``metrics`` and ``sections`` tables (DataFrames), from which
    the panel is built. Columns: :data:`corpus_tools.schema.PANEL_COLUMNS`.

    >>> import pandas as pd
    >>> from corpus_tools import extract_metrics, split_sections
    >>> text = "2026年主要目标\\n全省地区生产总值增长5%左右，城镇调查失业率5.5%以内。"
    >>> docs = pd.DataFrame([{"doc_id": "a", "place": "某省", "year": 2026, "doc_type": "报告",
    ...                       "text": text}])
    >>> secs = split_sections(text)
    >>> mets = pd.DataFrame([dict(m.__dataclass_fields__ and {f: getattr(m, f) for f in
    ...     m.__dataclass_fields__}, doc_id="a") for m in extract_metrics(text, year=2026)])
    >>> p = indicator_panel({"documents": docs, "metrics": mets, "sections": pd.DataFrame()})
    >>> p[["indicator", "stance", "period", "value", "qualifier"]].to_records(index=False).tolist()
    [('gdp_growth', 'target', 2026, 5.0, 'approx'), ('unemployment', 'target', 2026, 5.5, 'at_most')]
    """
    import pandas as pd

    if isinstance(source, (str, Path)):
        from .store import read_table

        return read_table(source, "indicators")
    if not isinstance(source, Mapping):
        raise InputError(
            f"indicator_panel takes an output folder or a mapping of tables, not {type(source)}"
        )
    missing = [k for k in ("documents", "metrics") if k not in source]
    if missing:
        raise InputError(f"indicator_panel needs the tables {missing}")
    docs, metrics = source["documents"], source["metrics"]
    sections = source.get("sections")
    rows: list[dict[str, Any]] = []
    if len(metrics):
        has = metrics[metrics["indicator"].notna()] if "indicator" in metrics else metrics
        by_doc = {k: g for k, g in metrics.groupby("doc_id", sort=False)}
        secs_by = (
            {k: g for k, g in sections.groupby("doc_id", sort=False)}
            if sections is not None and len(sections)
            else {}
        )
        wanted = set(has["doc_id"])
        for doc in docs[docs["doc_id"].isin(wanted)].to_dict("records"):
            g = by_doc[doc["doc_id"]].sort_values("start")
            s = secs_by.get(doc["doc_id"])
            rows.extend(document_panel(
                doc, g.to_dict("records"), s.to_dict("records") if s is not None else ()
            ))  # fmt: skip
    return _frame(rows)


def _frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(PANEL_COLUMNS))
    for c in ("year", "period", "start", "end"):
        df[c] = df[c].astype("Int64")
    for c in ("value", "value_max"):
        df[c] = df[c].astype("float64")
    return df


def panel_wide(panel: Any, *, documents: Any | None = None) -> Any:
    """Place × year, one column per indicator × stance (``gdp_growth_target``): for regressions.

    The value of a range is its low end (``value_max`` is in the long form); a statement
    without a number is missing. With *documents* (the documents table), documents marked as
    near-duplicates of another (``duplicate_of``) are left out first.
    """
    import pandas as pd

    df = panel
    if documents is not None and "duplicate_of" in documents:
        dups = set(documents.loc[documents["duplicate_of"].notna(), "doc_id"])
        df = df[~df["doc_id"].isin(dups)]
    df = df[df["place"].notna() & df["year"].notna()]
    if df.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=["place", "year"]))
    df = df.assign(column=df["indicator"] + "_" + df["stance"])
    wide = df.pivot_table(
        index=["place", "year"], columns="column", values="value", aggfunc="first", dropna=False
    )
    wide.columns.name = None
    return wide.sort_index()


def write_panel(panel: Any, path: str | Path) -> Path:
    """Write a panel (long or wide) as ``.parquet``, ``.csv`` (``utf-8-sig``) or Stata ``.dta``.

    Stata names are at most 32 characters: longer column names are shortened
    (``_target`` → ``_t``, ``_achieved`` → ``_a``) and keep their full name as the variable label;
    ``end``, a reserved word in Stata, is written ``_end``.
    """
    from .store import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv", ".dta"):
        raise InputError(f"write_panel writes .parquet, .csv or .dta, not {path.name!r}")
    df = panel.reset_index() if panel.index.names != [None] else panel
    with atomic_path(path) as tmp:
        if suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif suffix == ".csv":
            df.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            names, labels = {}, {}
            for c in df.columns:
                short = "_" + c if c in _STATA_RESERVED else c
                if len(c) > 32:
                    short = c.replace("_target", "_t").replace("_achieved", "_a")[:32]
                names[c] = short
                labels[short] = c[:80]
            out = df.rename(columns=names)
            for c in out.columns:
                if str(out[c].dtype) == "Int64":
                    out[c] = out[c].astype("float64")
                elif out[c].dtype == object:
                    out[c] = out[c].astype("string").fillna("").astype(object)
            long_text = [c for c in out.columns if out[c].dtype == object
                         and out[c].map(lambda v: len(str(v).encode("utf-8"))).max(initial=0) > 2000]  # fmt: skip
            out.to_stata(tmp, write_index=False, version=118, variable_labels=labels,
                         convert_strl=long_text)  # fmt: skip
    return path


def target_vs_outcome(panel: Any, indicator: str = "gdp_growth") -> Any:
    """Place × period: the target set for a year and the outcome reported for it.

    The target of year Y stands in the report for Y, its outcome in the report for Y+1;
    both are matched on (place, period). Columns ``place, period, target, target_max,
    target_qualifier, achieved``; a year with only one of them keeps the other missing.
    """
    import pandas as pd

    cols = ["place", "period", "value", "value_max", "qualifier"]
    df = panel[(panel["indicator"] == indicator) & panel["place"].notna()]
    t = df[df["stance"] == "target"][cols].rename(
        columns={"value": "target", "value_max": "target_max", "qualifier": "target_qualifier"}
    )
    a = df[df["stance"] == "achieved"][["place", "period", "value"]].rename(
        columns={"value": "achieved"}
    )
    t = t.drop_duplicates(["place", "period"])
    a = a.drop_duplicates(["place", "period"])
    out = pd.merge(t, a, on=["place", "period"], how="outer")
    return out.sort_values(["place", "period"]).reset_index(drop=True)


def target_outcome_chart(
    panel: Any, indicator: str = "gdp_growth", *, ax: Any = None, title: str | None = None
) -> Any:
    """Scatter of target (x) against outcome (y) per place and year, with Chinese labels.

    Points above the diagonal beat their target. Returns the Axes; never calls ``show()``.
    """
    from matplotlib.figure import Figure

    from .charts import cjk_font

    pairs = target_vs_outcome(panel, indicator).dropna(subset=["target", "achieved"])
    prop = cjk_font()
    if ax is None:
        ax = Figure(figsize=(6, 5), layout="constrained").add_subplot()
    name = indicator_rules().names.get(indicator, indicator)
    ax.scatter(pairs["target"], pairs["achieved"], color="#3060a0", zorder=3)
    for _, r in pairs.iterrows():
        ax.annotate(f"{r['place']} {int(r['period'])}", (r["target"], r["achieved"]),
                    textcoords="offset points", xytext=(4, 4), fontsize=8,
                    fontproperties=prop)  # fmt: skip
    if len(pairs):
        lo = float(min(pairs["target"].min(), pairs["achieved"].min())) - 0.5
        hi = float(max(pairs["target"].max(), pairs["achieved"].max())) + 0.5
        ax.plot([lo, hi], [lo, hi], color="#999999", linewidth=1, linestyle="--", zorder=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    else:
        ax.text(0.5, 0.5, "（无数据）", ha="center", va="center", fontproperties=prop,
                transform=ax.transAxes)  # fmt: skip
    ax.set_xlabel("目标", fontproperties=prop)
    ax.set_ylabel("实际", fontproperties=prop)
    ax.set_title(title or f"{name}：目标与实际", fontproperties=prop)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontproperties(prop)
    return ax
