"""Site furniture out of a scraped page, with an audit trail of every removed line.

:func:`strip_boilerplate` runs on the RAW page text (before normalization). Each line is
matched against the rules in ``resources/boilerplate.tsv`` on a *folded* copy of the page
(traditional characters as simplified, full-width ASCII as ASCII, every kind of space as
``" "``, a scraper's literal ``<U+00A0>`` tokens as spaces), so one rule catches
``当前位置`` and ``當前位置``, ``【字体：大 中 小】`` and ``【字體:大 中 小】``. The folding is
character by character and never touches ``"\\n"``, so folded line *i* is raw line *i*; the
record keeps the raw line.

Speed: a rule with trigger words (column ``trigger``, literal words such as ``小编|小編``)
is tried only on the lines holding one of its words (one alternation of all the trigger
words, scanned once over the raw page, finds those lines); the other rules, one
anchored alternation, only on lines of at most 160 characters (furniture is short, body
paragraphs are long), so the page is never scanned by a slow pattern.

Lines are the pieces between ``"\\n"`` characters; ``line_no`` is 1-based and a trailing
``"\\r"`` is left out of the recorded text. ``Stripped.text`` is the kept raw lines joined
with ``"\\n"`` (blank lines are kept, CRLF survives).

Rule kinds (column ``kind``):

``protect``  a numbered heading (``一、``, ``（一）``, ``1、``, ``①``, ``第一章``): never removed.
``line``     the line goes.
``head``     the line goes only above the first body paragraph (e.g. ``彭永分享``).
``tail``     the line goes only below the last kept line (a page counter ``1349701``).
``lead_in``  the editor's lead-in (``下面是小编…仅供参考``): the whole paragraph goes.
``list``     a list header (``相关文章``, ``推荐阅读：``, ``猜你喜欢`` …): it goes together with
             the title-like lines under it, up to the end of the page or the next real
             paragraph, numbered heading or article title.

Structural rules (in code; they read the page's shape, so a portal never seen is cleaned
too; the furniture vocabulary is ``resources/furniture_words.tsv``):

``meta_label_value``  the value under a label line that a rule removed (``发表时间：`` ⏎
                      ``2026-02-09 09:45:30``, ``来源：`` ⏎ a newspaper, ``责任编辑：`` ⏎ a
                      name): a short line, no sentence, no numbered heading.
``breadcrumb_split``  a breadcrumb written one item per line (``首页`` ⏎ ``>`` ⏎ ``政务信息``):
                      the short lines on both sides of a separator line.
``toolbar_words``     a line made only of furniture words and separators (``下载 打印 全屏``,
                      ``【字号：``, ``微信``), above the first or below the last body
                      paragraph, or next to other furniture; never a lone word in the body.
``nav_run``           a run of three or more one-item lines above or below the body, at
                      least half of them furniture (a menu ``首页 机构 政务公开 … 走进某省``);
                      a line naming a document (``…工作报告``) is never part of one.

>>> page = ("当前位置:首页>计划>社区工作\\n\\n社区工作总结\\n\\n一、基本情况\\n\\n"
...         "相关文章:\\n社区工作计划5篇")
>>> out = strip_boilerplate(page)
>>> out.text
'\\n社区工作总结\\n\\n一、基本情况\\n'
>>> [(r.line_no, r.rule) for r in out.removed]
[(1, 'breadcrumb_label'), (7, 'related_list'), (8, 'related_list')]
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ResourceError, require_str
from .rules import load_tsv
from .schema import RemovedLine, Stripped

__all__ = ["STRUCTURAL_RULES", "fold_text", "is_numbered_heading", "strip_boilerplate"]

#: Rule ids of the structural rules (in code, not in ``boilerplate.tsv``).
STRUCTURAL_RULES: tuple[str, ...] = (
    "meta_label_value",
    "breadcrumb_split",
    "toolbar_words",
    "nav_run",
)

_RULE_FILE = "boilerplate.tsv"
_KINDS = ("protect", "line", "head", "tail", "lead_in", "list")

# A line longer than this, or holding sentence punctuation, is a body paragraph.
_BODY_MIN_CHARS = 50
_SENTENCE_END = re.compile(r"[。！？；!?;]")
# A title listed under a "related" header: short, no sentence punctuation.
_LIST_TITLE_MAX = 60
# A lead-in paragraph wrapped over lines is followed at most this many lines each way.
_LEAD_IN_MAX_LINES = 4
# Rules without trigger words see only lines up to this many characters.
_SHORT_LINE = 160


@functools.cache
def _fold_table() -> dict[int, str]:
    """Traditional → simplified (single characters, OpenCC's t2s) and width/space folding."""
    from .normalize import t2s_characters

    table: dict[int, str] = {ord(src): target for src, target in t2s_characters().items()}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[cp] = chr(cp - 0xFEE0)
    for cp in (0x3000, 0xA0, 0x2002, 0x2003, 0x2009, 0x202F, 0x205F, 0x09, 0x0B, 0x0C):
        table[cp] = " "
    for cp in (0x200B, 0x200C, 0x200D, 0xFEFF, 0x0D):  # zero-width, BOM, CR
        table[cp] = ""
    table[0x0A] = "\n"
    return table


@functools.cache
def _fold_list() -> list[int | str]:
    """:func:`_fold_table` as a list indexed by code point, for ``str.translate``.

    ``translate`` looks every character up in its table; a dict raises (and swallows) a
    KeyError for each character it does not hold, which a list lookup never does, so the
    list is 2-3 times faster on Chinese text. Characters beyond the list's end are left
    as they are, as with the dict.
    """
    table = _fold_table()
    out: list[int | str] = list(range(max(table) + 1))
    for cp, target in table.items():
        out[cp] = target
    return out


def fold_text(text: str) -> str:
    """A copy of *text* for matching rules: simplified, ASCII widths, plain spaces.

    Never adds or removes a ``"\\n"``: line *i* of the result is line *i* of *text*.

    >>> fold_text("當前位置：首頁　>　計劃")
    '当前位置:首页 > 计划'
    >>> fold_text("<U+00A0><U+00A0>各位代表：")
    '  各位代表:'
    """
    return text.translate(_fold_list()).replace("<U+00A0>", " ")


@functools.cache
def _needs_fold() -> re.Pattern[str]:
    """Finds a character that :func:`fold_text` changes, other than line ends (``\\r`` goes
    with the ``rstrip`` every caller applies). One scan of a page, in C, tells whether its
    lines need folding at all: a simplified page with plain widths needs none."""
    chars = sorted(
        cp for cp, target in _fold_table().items() if chr(cp) != target and cp not in (10, 13)
    )
    return re.compile("[" + "".join(re.escape(chr(cp)) for cp in chars) + "]|<U\\+00A0>")


def needs_fold(text: str) -> bool:
    """True if some line of *text* reads differently after :func:`fold_text` (line ends aside).

    >>> needs_fold("社区工作总结"), needs_fold("社區工作總結")
    (False, True)
    """
    return _needs_fold().search(text) is not None


@dataclass(frozen=True, slots=True)
class _Keyword:
    order: int
    rid: str
    pattern: re.Pattern[str]
    words: tuple[str, ...]  # literal triggers, looked for in the raw line


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity (a cache key)
class _Rules:
    protect: re.Pattern[str]
    plain: re.Pattern[str] | None  # one alternation of the rules without trigger words
    order: dict[str, int]  # rule id → its place in the file (earlier wins)
    keyword: tuple[_Keyword, ...]  # rules with trigger words
    kinds: dict[str, str]  # rule id → kind
    triggers: re.Pattern[str] | None  # any trigger word of any rule (literal alternation)


_PREFIX = r"[ ]*(?:#{1,6}[ ]*|[-*+][ ]+)?"


@functools.cache
def _rules() -> _Rules:
    rows = load_tsv(_RULE_FILE, required=("id", "kind", "pattern"))
    protect: list[str] = []
    plain: list[str] = []
    keyword: list[_Keyword] = []
    kinds: dict[str, str] = {}
    order: dict[str, int] = {}
    for row in rows:
        rid, kind, pattern = row["id"].strip(), row["kind"].strip(), row["pattern"]
        if kind not in _KINDS:
            raise ResourceError(f"{row.where()}: unknown kind {kind!r}; expected one of {_KINDS}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", rid) or rid in kinds:
            raise ResourceError(f"{row.where()}: rule id {rid!r} is not a new snake_case id")
        if "\\s" in pattern:
            raise ResourceError(
                f"{row.where()}: pattern of {rid!r} may span lines; use ' ' or [^\\n] instead"
            )
        try:
            compiled = re.compile(_PREFIX + "(?:" + pattern + ")")
        except re.error as exc:
            raise ResourceError(f"{row.where()}: pattern of {rid!r} is invalid: {exc}") from exc
        words = tuple(w for w in row.get("trigger").split("|") if w.strip())
        kinds[rid] = kind
        order[rid] = len(order)
        if kind == "protect":
            protect.append(f"(?:{pattern})")
        elif words:
            keyword.append(_Keyword(order[rid], rid, compiled, words))
        else:
            plain.append(f"(?P<{rid}>{pattern})")
    if not plain and not keyword:
        raise ResourceError(f"corpus_tools/resources/{_RULE_FILE} has no removal rules")
    triggers = sorted({w for kw in keyword for w in kw.words}, key=lambda w: (-len(w), w))
    return _Rules(
        protect=re.compile(_PREFIX + "(?:" + "|".join(protect or ["(?!)"]) + ")"),
        plain=re.compile(_PREFIX + "(?:" + "|".join(plain) + ")") if plain else None,
        order=order,
        keyword=tuple(keyword),
        kinds=kinds,
        triggers=re.compile("|".join(map(re.escape, triggers))) if triggers else None,
    )


def is_numbered_heading(line: str) -> bool:
    """True if *line* opens with a numbered heading marker (such a line is never removed).

    >>> is_numbered_heading("二、存在的问题"), is_numbered_heading("（三）社区服务")
    (True, True)
    >>> is_numbered_heading("相关文章")
    False
    """
    return _rules().protect.match(fold_text(require_str(line, what="line"))) is not None


def _is_title_like(folded_line: str) -> bool:
    s = folded_line.strip()
    return len(s) <= _LIST_TITLE_MAX and not _SENTENCE_END.search(s)


def _is_body(line: str) -> bool:
    s = line.strip()
    return len(s) >= _BODY_MIN_CHARS or _SENTENCE_END.search(s) is not None


_MID_SENTENCE = re.compile(r"[，、：；,:;（(“\u2018《]$")


def _continues(raw_line: str) -> bool:
    """The line stops mid-sentence, so its paragraph goes on in the next line."""
    return _MID_SENTENCE.search(fold_text(raw_line).rstrip()) is not None


def _blank(raw_line: str) -> bool:
    return (
        not raw_line
        or raw_line.isspace()
        or (needs_fold(raw_line) and not fold_text(raw_line).strip())
    )


def strip_boilerplate(text: str) -> Stripped:
    """Remove site furniture from a raw page; every removed line is listed with its rule.

    Works on traditional-script and un-normalized pages (rules see a folded copy):

    >>> raw = ("當前位置:首頁>工作總結\\n社區工作總結\\n\\n"
    ...        "時間:2023-09-23 作者:筆塵\\n二、存在的問題")
    >>> out = strip_boilerplate(raw)
    >>> for r in out.removed:
    ...     print(r.line_no, r.text, r.rule)
    1 當前位置:首頁>工作總結 breadcrumb_label
    4 時間:2023-09-23 作者:筆塵 meta_time
    >>> out.text.split("\\n")
    ['社區工作總結', '', '二、存在的問題']
    """
    require_str(text)
    if not text:
        return Stripped(text="", removed=())
    rules = _rules()
    raw_lines = text.split("\n")
    n = len(raw_lines)
    folded_cache: dict[int, str] = {}
    fold = fold_text if needs_fold(text) else str

    def folded(i: int) -> str:
        f = folded_cache.get(i)
        if f is None:
            f = folded_cache[i] = fold(raw_lines[i]).rstrip()
        return f

    hit: dict[int, str] = {}  # 0-based line index → rule id (candidates)
    # Rules without trigger words see the short lines (furniture is short).
    if rules.plain is not None:
        fold_page = fold is fold_text
        for i, line in enumerate(raw_lines):
            if len(line) <= _SHORT_LINE and line and not line.isspace():
                folded_cache[i], rid = _short_line(rules, line, fold_page)
                if rid is not None:
                    hit[i] = rid
    # Rules with trigger words see every line holding one of their words.
    if rules.triggers is not None:
        starts = list(itertools.accumulate((len(line) + 1 for line in raw_lines), initial=0))
        for i in _lines_with(text, rules.triggers, starts):
            line = raw_lines[i]
            for kw in rules.keyword:
                if not any(word in line for word in kw.words):
                    continue
                old = hit.get(i)
                if old is not None and rules.order[old] < kw.order:
                    continue
                if kw.pattern.match(folded(i)):
                    hit[i] = kw.rid

    removed: dict[int, str] = {}
    protected = functools.cache(lambda i: rules.protect.match(folded(i)) is not None)

    # The first body paragraph: ``head`` rules apply above it only.
    first_body = next((i for i in range(n) if _is_body(raw_lines[i])), n)

    for idx in sorted(hit):
        rid = hit[idx]
        if idx in removed or protected(idx):
            continue
        kind = rules.kinds[rid]
        if kind == "line":
            removed[idx] = rid
        elif kind == "head":
            if idx <= first_body:
                removed[idx] = rid
        elif kind == "lead_in":
            # a paragraph wrapped over several lines: a line ending mid-sentence (，、：)
            # continues on the next one
            lo = idx
            while lo > 0 and idx - lo < _LEAD_IN_MAX_LINES and _continues(raw_lines[lo - 1]):
                lo -= 1
            hi = idx
            while hi + 1 < n and hi - idx < _LEAD_IN_MAX_LINES and _continues(raw_lines[hi]):
                if _blank(raw_lines[hi + 1]):
                    break
                hi += 1
            span = range(lo, hi + 1)
            for j in span:
                if not protected(j):
                    removed.setdefault(j, rid)
        elif kind == "list":
            removed[idx] = rid
            j = idx + 1
            while j < n:
                if not _blank(raw_lines[j]):
                    line = folded(j)
                    if j in hit and rules.kinds[hit[j]] == "list":
                        break  # the next header takes over
                    if protected(j) or not _is_title_like(line) or _looks_like_article(line):
                        break
                    # a line another rule names (a page counter, a pager) keeps that rule
                    removed[j] = hit[j] if j in hit else rid
                j += 1
    _structure(raw_lines, folded, removed, protected)
    # ``tail`` rules: below the last kept non-blank line.
    tail_ids = {idx for idx, rid in hit.items() if rules.kinds[rid] == "tail"}
    if tail_ids:
        j = n - 1
        while j >= 0:
            if j in removed or _blank(raw_lines[j]):
                j -= 1
                continue
            if j in tail_ids and not protected(j):
                removed[j] = hit[j]
                j -= 1
                continue
            break

    kept = [raw_lines[i] for i in range(n) if i not in removed]
    records = tuple(
        RemovedLine(line_no=i + 1, text=raw_lines[i].rstrip("\r"), rule=removed[i])
        for i in sorted(removed)
    )
    return Stripped(text="\n".join(kept), removed=records)


# ------------------------------------------------------------------ structural rules

# A value standing under its label (发表时间： ⏎ 2026-02-09 09:45:30) is at most this long.
_VALUE_MAX = 40
# A label: a few characters and a colon, nothing after it (the folded, stripped line).
_LABEL_ONLY = re.compile(r"[^:：]{1,10}[:：]$")
# A breadcrumb separator on a line of its own, and the items around it.
_CRUMB_SEP = re.compile(r"(?:>{1,2}|»|›|/|\\|-{1,2}|—)$")
_CRUMB_ITEM_MAX = 24
# Toolbar, menu and share-bar lines: furniture words and these separators only.
_TOOLBAR_MAX = 80
_SEPARATORS = re.compile(r"[ |｜/·•>»<《》【】\[\]（）():：、,，\-—_*#]+")
# A navigation menu: a run of at least this many short lines (one item each) at the head
# or tail of the page, at least half of them furniture.
_NAV_RUN = 3
_NAV_ITEM_MAX = 10
# A line naming a document (a title) is never a menu item.
_NAMES_DOCUMENT = re.compile(r"总结|报告|汇报|计划|规划|纲要|方案|要点")


@functools.cache
def _furniture_words() -> re.Pattern[str]:
    rows = load_tsv("furniture_words.tsv", required=("id", "word"))
    words = sorted({r["word"].strip() for r in rows if r["word"].strip()}, key=len, reverse=True)
    if not words:
        raise ResourceError("corpus_tools/resources/furniture_words.tsv lists no word")
    return re.compile("|".join(map(re.escape, words)))


@functools.lru_cache(maxsize=16384)
def _is_toolbar(folded_line: str) -> bool:
    """A line made only of furniture words and separators (``下载 打印 【字号：加大】``)."""
    s = folded_line.strip()
    if not s or len(s) > _TOOLBAR_MAX:
        return False
    rest, n = _furniture_words().subn("", s)
    return n > 0 and not _SEPARATORS.sub("", rest)


def _structure(
    raw_lines: list[str],
    folded: Callable[[int], str],
    removed: dict[int, str],
    protected: Callable[[int], bool],
) -> None:
    """The rules read off the page's shape rather than one site's words (see the module
    docstring): label + value pairs, split breadcrumbs, toolbar lines, navigation runs."""
    n = len(raw_lines)
    nonblank = [i for i in range(n) if not _blank(raw_lines[i])]
    if not nonblank:
        return
    pos = {i: k for k, i in enumerate(nonblank)}

    def short(i: int, limit: int) -> bool:
        s = folded(i).strip()
        return 0 < len(s) <= limit and not _SENTENCE_END.search(s) and not protected(i)

    # Breadcrumbs written one item per line: 首页 ⏎ > ⏎ 政务信息 ⏎ > ⏎ …
    for k, i in enumerate(nonblank):
        if 0 < k < len(nonblank) - 1 and _CRUMB_SEP.fullmatch(folded(i).strip()):
            prev, nxt = nonblank[k - 1], nonblank[k + 1]
            if short(prev, _CRUMB_ITEM_MAX) and short(nxt, _CRUMB_ITEM_MAX):
                for j in (prev, i, nxt):
                    removed.setdefault(j, "breadcrumb_split")
    # Label lines whose value stands on the next line.
    for k, i in enumerate(nonblank[:-1]):
        if i in removed and _LABEL_ONLY.fullmatch(folded(i).strip()):
            j = nonblank[k + 1]
            if j not in removed and short(j, _VALUE_MAX) and not _LABEL_ONLY.fullmatch(
                folded(j).strip()
            ):
                removed[j] = "meta_label_value"
    # The body: from the first to the last body paragraph that is kept.
    body = [i for i in nonblank if i not in removed and _is_body(raw_lines[i])]
    first, last = (body[0], body[-1]) if body else (n, -1)
    toolbar = {i for i in nonblank if not protected(i) and _is_toolbar(folded(i))}
    furniture = toolbar | set(removed)
    for i in sorted(toolbar):
        if i in removed:
            continue
        k = pos[i]
        near = (k > 0 and nonblank[k - 1] in furniture) or (
            k + 1 < len(nonblank) and nonblank[k + 1] in furniture
        )
        if i < first or i > last or near:
            removed[i] = "toolbar_words"
    # Navigation menus: runs of one-item lines above the body or below it.
    run: list[int] = []
    for i in [*nonblank, -1]:
        item = (
            i >= 0
            and (i < first or i > last)
            and short(i, _NAV_ITEM_MAX)
            and not folded(i).rstrip().endswith((":", "："))
            and (i in furniture or not _NAMES_DOCUMENT.search(folded(i)))
        )
        if item:
            run.append(i)
            continue
        if len(run) >= _NAV_RUN and 2 * sum(1 for j in run if j in furniture) >= len(run):
            for j in run:
                removed.setdefault(j, "nav_run")
        run = []


@functools.lru_cache(maxsize=16384)
def _short_line(rules: _Rules, line: str, fold: bool) -> tuple[str, str | None]:
    """A short line folded (and right-stripped), and the rule without trigger words it
    matches. Cached: template pages repeat most of their short lines (12,468 short lines
    of the simplified corpus pages are 2,271 distinct ones)."""
    folded = (fold_text(line) if fold else line).rstrip()
    m = rules.plain.match(folded) if rules.plain is not None else None
    return folded, (m.lastgroup if m is not None else None)


def _lines_with(text: str, pattern: re.Pattern[str], starts: list[int]) -> list[int]:
    """0-based indexes of the lines of *text* where *pattern* (trigger words) matches.

    One scan of the page: the regex engine skips to the words' first characters in C,
    where a ``str.find`` per word would scan the whole page once per word. A trigger word
    never holds ``"\\n"``, so a line holds a word exactly when a search finds one in it.
    """
    found: list[int] = []
    m = pattern.search(text)
    while m is not None:
        i = bisect.bisect_right(starts, m.start()) - 1
        found.append(i)
        m = pattern.search(text, starts[i + 1])  # starts[-1] lies past the end
    return found


def _looks_like_article(folded_line: str) -> bool:
    """A line that opens an article (``…篇二``, ``…总结3``) ends a related list."""
    from .articles import is_article_marker

    return is_article_marker(folded_line)
