"""Split a template page into its articles.

A template site puts several summaries on one page, each under a numbered title line
(``…工作总结1`` … ``总结5``, ``…汇报篇一`` … ``篇六``, ``…活动总结【篇1】``) or a numbered
label that opens its first paragraph (``社区创建工作汇报1:全区直管社区…``). The markers are
rules in ``resources/articles.tsv``. A sequence of markers counts only when its numbers run
1, 2, 3, … in page order (a lone ``总结1`` in a sentence is no marker); a lone marker
numbered 1 counts only near the top of the page, and never in the weak ``…总结1`` form.
What stands above the first marker (the
page's own title repeated, an intro) is the page preamble, see :func:`page_preamble`,
unless it holds a numbered heading or more than a fifth of the page (and more than 400
characters): then it is an article of its own, so nothing real is dropped. Annex and
glossary headings (``附件1``, ``附件二：…``, ``名词解释``; ``resources/parts.tsv``) are never
article markers: they belong to the report they close (see :mod:`corpus_tools.sections`).

A page without markers is one article: number 1, its title the page's first line when that
line is an evident title, else ``""``.

:func:`split_articles` runs on the normalized, stripped page text; every
:class:`~corpus_tools.schema.Article` slices back: ``page[a.start:a.end] == a.text``.

>>> page = ("社区工作汇报\\n\\n社区工作汇报篇一\\n一年来成绩显著。\\n\\n"
...         "社区工作汇报篇二\\n今年工作扎实。")
>>> [(a.number, a.title, a.text) for a in split_articles(page)]
[(1, '社区工作汇报', '一年来成绩显著。'), (2, '社区工作汇报', '今年工作扎实。')]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import ResourceError, require_str
from .rules import load_tsv
from .schema import Article

__all__ = ["is_article_marker", "page_preamble", "split_articles"]

_RULE_FILE = "articles.tsv"
_TITLE_MAX = 60
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_LEAD = re.compile(r"[ \t\u3000]*(?:#{1,6}[ \t\u3000]*)?(?:\*\*)?")
_SPACES = " \t\u3000\r"
# Characters of a line's content that marker rules see (a label and its number fit).
_SCAN = 80
_COLON = re.compile(r"[:：]")
_TITLE_STRIP = " \t\u3000-—_:：·|\uff5c"
# A lone marker (sequence of one) is accepted only with this little above it.
_LONE_MAX_LINES = 4
_LONE_MAX_CHARS = 400
_LONE_MIN_TITLE = 4

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(num: str) -> int | None:
    """``"3"`` → 3, ``"十二"`` → 12, ``"二十"`` → 20; None if not a number 1 to 99."""
    if num.isdigit():
        return int(num)
    if num == "十":
        return 10
    if "十" in num:
        tens, _, units = num.partition("十")
        t = _CN_DIGITS.get(tens, 0) if tens else 1
        u = _CN_DIGITS.get(units, 0) if units else 0
        return t * 10 + u if (not tens or tens in _CN_DIGITS) and (not units or u) else None
    return _CN_DIGITS.get(num) if len(num) == 1 else None


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity (cache keys)
class _Rule:
    rid: str
    kind: str  # "title" or "label"
    same_title: bool
    pattern: re.Pattern[str]


@functools.cache
def _rules() -> tuple[_Rule, ...]:
    out = []
    for row in load_tsv(_RULE_FILE, required=("id", "kind", "same_title", "pattern")):
        kind = row["kind"].strip()
        if kind not in ("title", "label", "skip"):
            raise ResourceError(f"{row.where()}: kind must be title, label or skip, got {kind!r}")
        try:
            pat = re.compile(row["pattern"])
        except re.error as exc:
            raise ResourceError(f"{row.where()}: invalid pattern: {exc}") from exc
        need = set() if kind == "skip" else {"title", "num"}
        need |= {"rest"} if kind == "label" else set()
        if not need <= set(pat.groupindex):
            raise ResourceError(f"{row.where()}: pattern needs named groups {sorted(need)}")
        same = row["same_title"].strip().lower()
        if same not in ("yes", "no"):
            raise ResourceError(f"{row.where()}: same_title must be yes or no")
        out.append(_Rule(row["id"].strip(), kind, same == "yes", pat))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Marker:
    rule: str
    kind: str
    same_title: bool
    number: int
    title: str
    line_start: int  # offset of the marker line in the page
    body_start: int  # where the article's text may begin
    next_line: int  # offset just past the marker line


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line), line
        pos += len(line) + 1


@functools.cache
def _fold_text() -> Callable[[str], str]:
    from .boilerplate import fold_text  # boilerplate imports this module

    return fold_text


def _core(line: str, fold: bool = True) -> tuple[int, str, bool]:
    """Offset of the line's content after its markdown/space prefix, the content folded to
    simplified script (at most ``_SCAN`` characters of it), and whether it was cut there.
    ``fold=False`` when the caller knows the page needs no folding."""
    fold_text = _fold_text()
    m = _LEAD.match(line)
    lead = m.end() if m else 0
    rest = line[lead:].rstrip(_SPACES)
    if rest.endswith("**"):
        rest = rest[:-2].rstrip(_SPACES)
    truncated = len(rest) > _SCAN
    return lead, fold_text(rest[:_SCAN]) if fold else rest[:_SCAN], truncated


def _match(
    core: str, truncated: bool = False, rules: tuple[_Rule, ...] | None = None
) -> tuple[_Rule, re.Match[str]] | None:
    """The first marker rule the line's content matches (only labels on a long line)."""
    if not core:
        return None
    if _part_of(core) is not None:
        return None  # 附件1 / 名词解释: a part of the report above, not a new article
    for rule in _rules() if rules is None else rules:
        if rule.kind == "skip" or (truncated and rule.kind != "label"):
            continue
        m = rule.pattern.fullmatch(core)
        if m is None:
            continue
        if rule.kind == "title" and len(core) > _TITLE_MAX + 8:
            continue
        if _number(m["num"]) is None:
            continue
        return rule, m
    return None


@functools.cache
def _part_heads() -> Callable[[str], str | None]:
    from .sections import part_of_heading  # sections does not import this module

    return part_of_heading


def _part_of(core: str) -> str | None:
    return _part_heads()(core)


def is_article_marker(line: str) -> bool:
    """True if *line* has the form of an article title line (``…篇二``, ``…总结3``).

    >>> is_article_marker("## 社区文明城市创建工作汇报篇二"), is_article_marker("二、存在的问题")
    (True, False)
    """
    _lead, core, truncated = _core(require_str(line, what="line"))
    hit = _match(core, truncated)
    return hit is not None and hit[0].kind == "title"


# Lines up to this long are looked up in a cache (template pages repeat their headings).
_CACHE_LINE_MAX = 200
_PAD = _SPACES + "#*"


@functools.lru_cache(maxsize=8192)
def _line_hit(
    rules: tuple[_Rule, ...], line: str, fold: bool
) -> tuple[int, tuple[_Rule, re.Match[str]] | None]:
    """:func:`_core` offset and :func:`_match` of one line (*rules* is the cache's key to
    the rule set in force)."""
    lead, core, truncated = _core(line, fold)
    return lead, _match(core, truncated, rules)


def _markers(text: str) -> list[_Marker]:
    out = []
    from .boilerplate import needs_fold

    fold = needs_fold(text)
    rules = _rules()
    longest_title = _TITLE_MAX + 8
    colon_end = _SCAN + 20
    pos = 0
    for line in text.split("\n"):
        start = pos
        end = pos + len(line)
        pos = end + 1
        if not line or line.isspace():
            continue
        # Cheap pre-filter: a title line is short and a label has its colon near the start;
        # most lines of a long report are neither.
        if (
            len(line) > longest_title
            and line.find(":", 0, colon_end) < 0
            and line.find("：", 0, colon_end) < 0
            and len(line.strip(_PAD)) > longest_title
        ):
            continue
        if len(line) <= _CACHE_LINE_MAX:
            lead, hit = _line_hit(rules, line, fold)
        else:
            lead, core, truncated = _core(line, fold)
            hit = _match(core, truncated, rules)
        if hit is None:
            continue
        rule, m = hit
        title = m["title"].strip(_TITLE_STRIP)
        if rule.kind == "label":
            # the label holds no colon: the first one in the raw line ends it
            colon = _COLON.search(line, lead)
            body = start + colon.end() if colon else end
        else:
            body = end + 1
        out.append(
            _Marker(
                rule.rid,
                rule.kind,
                rule.same_title,
                _number(m["num"]) or 0,
                title,
                start,
                min(body, len(text)),
                min(end + 1, len(text)),
            )
        )
    return out


def _chain(markers: list[_Marker]) -> list[_Marker]:
    """The longest plausible numbered sequence 1, 2, 3, … among the markers of one rule.

    One pass per rule: a marker numbered one more than the open sequence's last extends it
    (with the same title where the rule asks for it), a marker numbered 1 opens a new one.
    Ties go to the earlier sequence.
    """
    best: list[_Marker] = []
    by_rule: dict[str, list[_Marker]] = {}
    for mk in markers:
        by_rule.setdefault(mk.rule, []).append(mk)
    for group in by_rule.values():
        chain: list[_Marker] = []
        for mk in group:
            if (
                chain
                and mk.number == chain[-1].number + 1
                and (not mk.same_title or mk.title == chain[0].title)
            ):
                chain.append(mk)
            elif mk.number == 1:
                chain = [mk]
            else:
                continue
            if len(chain) > len(best) or (
                len(chain) == len(best) and chain[0].line_start < best[0].line_start
            ):
                best = list(chain)
    return best


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _evident_title(text: str) -> tuple[str, int] | None:
    """The page's first line if it reads as a title: (title, offset just past it).

    Blank lines and datelines (rules of kind ``skip``) above it are passed over.
    """
    from .boilerplate import is_numbered_heading

    skips = [r.pattern for r in _rules() if r.kind == "skip"]
    for _start, end, line in _lines(text):
        _lead, core, truncated = _core(line)
        title = core.strip(_TITLE_STRIP)
        if not title:
            continue
        if any(p.fullmatch(core) for p in skips):
            continue
        if (
            not truncated
            and len(title) <= _TITLE_MAX
            and not _SENTENCE_END.search(title)
            and "，" not in title
            and not core.endswith((":", "："))
            and not is_numbered_heading(core)
            and text[end:].strip()
        ):
            return line.strip(" \t\u3000#*\r"), min(end + 1, len(text))
        return None
    return None


def split_articles(text: str) -> list[Article]:
    """Split a normalized page into its articles (at least one unless the page is blank).

    >>> page = ("社區創建工作匯報\\n\\n"
    ...         "社区创建工作汇报1:全区直管社区综合体制改革后，面积2.6平方公里。")
    >>> [(a.number, a.title, a.text) for a in split_articles(page)]
    [(1, '社区创建工作汇报', '全区直管社区综合体制改革后，面积2.6平方公里。')]
    >>> [(a.title, a.text) for a in split_articles("社区工作总结\\n\\n今年社区工作扎实。")]
    [('社区工作总结', '今年社区工作扎实。')]
    >>> split_articles("   ")
    []
    """
    require_str(text)
    if not text.strip():
        return []
    chain = _chain(_markers(text))
    if len(chain) == 1:
        head = text[: chain[0].line_start]
        lines = [ln for ln in head.split("\n") if ln.strip()]
        if (
            len(lines) > _LONE_MAX_LINES
            or len(head.strip()) > _LONE_MAX_CHARS
            or len(chain[0].title) < _LONE_MIN_TITLE
            or (chain[0].kind == "title" and chain[0].same_title)  # a lone 总结1 is too weak
        ):
            chain = []
    articles: list[Article] = []
    if chain and _head_is_article(text, chain[0].line_start):
        # Nothing real is dropped: a head holding headings or much of the page is an
        # article of its own (a report above its 附件, a summary above a 篇二).
        head = text[: chain[0].line_start]
        found = _evident_title(head)
        title, body = found if found is not None else ("", 0)
        s, e = _trim(text, body, len(head))
        if s < e:
            articles.append(Article(1, title, text[s:e], s, e))
    if chain:
        for i, mk in enumerate(chain):
            stop = chain[i + 1].line_start if i + 1 < len(chain) else len(text)
            s, e = _trim(text, mk.body_start, max(mk.body_start, stop))
            articles.append(Article(mk.number, mk.title, text[s:e], s, e))
        # a marker with nothing under it is no article (a table of contents, a stray title)
        kept = [a for a in articles if a.text]
        if kept and [a.number for a in kept] == list(range(1, len(kept) + 1)):
            return kept
        if kept:
            return [Article(i + 1, a.title, a.text, a.start, a.end) for i, a in enumerate(kept)]
    found = _evident_title(text)
    if found is not None:
        title, body = found
        s, e = _trim(text, body, len(text))
        return [Article(1, title, text[s:e], s, e)]
    s, e = _trim(text, 0, len(text))
    return [Article(1, "", text[s:e], s, e)]


# The text above a page's first marker is an article, not a preamble, when it holds a
# numbered heading or more than this share of the page (and more than _LONE_MAX_CHARS).
_HEAD_SHARE = 0.2


def _head_is_article(text: str, first_marker: int) -> bool:
    from .boilerplate import is_numbered_heading

    head = text[:first_marker]
    size = len(head.strip())
    if not size:
        return False
    if size > _LONE_MAX_CHARS and size > _HEAD_SHARE * len(text.strip()):
        return True
    return any(is_numbered_heading(line) for line in head.split("\n") if line.strip())


def page_preamble(text: str, articles: list[Article]) -> str:
    """What stands above the first article's title line (the page title repeated, an intro).

    >>> page = ("社区工作汇报\\n\\n社区工作汇报篇一\\n一年来成绩显著。\\n\\n"
    ...         "社区工作汇报篇二\\n今年工作扎实。")
    >>> page_preamble(page, split_articles(page))
    '社区工作汇报'
    """
    require_str(text)
    if not articles or articles[0].start <= 0:
        return ""
    head = text[: articles[0].start].rstrip()
    if not head:
        return ""
    # drop the first article's own title line (or the label that opens its paragraph)
    cut = head.rfind("\n") + 1
    return head[:cut].strip()
