"""Numbered section trees: one document's outline (一、 > （一） > 1、 > （1） > ①).

:func:`split_sections` reads a document's normalized text once, line by line, and returns
its numbered sections in document order; :func:`section_at` (or a :class:`SectionIndex`)
answers which section an offset falls in. The rules are those of ``SECTIONS.md``:

* A heading starts a line, after optional indentation, Markdown ``#``s or a list dash.
  Families: ``part`` (第一章), ``cn`` (一、), ``cn_paren`` (（一）), ``num`` (1、 1.),
  ``num_paren`` (（1） ⑴), ``circled`` (①), ``enum`` (一是, 第一，, 首先).
* Levels come from nesting, read like a stack: a family already open on the path closes
  what lies below it and becomes a sibling there; a family not open becomes a child of the
  current section; a family that carries on the current numbering (``第三`` then ``四、``)
  is a sibling.
* Numbering must stay plausible: a stray ``七、`` right after ``一、`` is text, ``1、2、3号楼``
  and ``1.5`` are not markers, ``一是…`` is a heading only when ``二是…`` opens a line too,
  and ``一加强组织建设`` (no delimiter) only on a short line whose sibling follows as a line.

Government work reports add these rules (beyond SECTIONS.md):

* ``enum`` is the lowest family: a later ``（一）`` or ``一、`` closes an open ``一是…八是``
  and is never its child.
* Annexes (``附件1``, ``附件一：…``, ``附表1``) and glossaries (``名词解释``) close the report:
  each opens a top-level section of family ``part`` whose ``part`` column is ``annex`` or
  ``glossary`` (every section below it has the same ``part``; the body's is ``body``); an
  annex heading right above ``名词解释`` makes one glossary. Their lists number from 1
  again. The headings are ``resources/parts.tsv``.
* Unnumbered part headings (a short line of its own ending in a part word of
  ``section_markers.tsv``: ``…工作回顾``, ``…重点工作``, ``…总体要求``) start top-level
  sections of family ``part`` (marker ``""``), only when the document has no ``一、`` (or
  ``第一章``) level.
* ``20.2026年…`` is item 20 (a number and ``.`` before a year ``YYYY年``), not 20.2026.
* In a text stored as one line (a line over 2,000 characters), a ``一、``, ``（二）``,
  ``第三部分`` or ``4、`` right after a sentence end (``。一、``) starts a section there.

The marker words and numerals are data: ``resources/section_markers.tsv`` and
``resources/cn_numerals.tsv``.

>>> doc = "总结如下。\\n一、组织建设。内容\\n1、成立小组\\n2、制定方案\\n二、宣传工作\\n"
>>> [(s.section_id, s.level, s.family, s.marker, s.ordinal, s.title)
...  for s in split_sections(doc)]  # doctest: +NORMALIZE_WHITESPACE
[('0', 0, 'preamble', '', 0, '总结如下'), ('1', 1, 'cn', '一、', 1, '组织建设'),
 ('1.1', 2, 'num', '1、', 1, '成立小组'), ('1.2', 2, 'num', '2、', 2, '制定方案'),
 ('2', 1, 'cn', '二、', 2, '宣传工作')]
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ResourceError, require_str
from .rules import load_tsv
from .schema import Section

__all__ = ["FAMILIES", "PREAMBLE", "SectionIndex", "section_at", "split_sections"]

log = logging.getLogger(__name__)

#: The heading families, in their usual order from the top of an outline down.
FAMILIES: tuple[str, ...] = ("part", "cn", "cn_paren", "num", "num_paren", "circled", "enum")
#: ``family`` of section ``0``, the text before the first heading.
PREAMBLE = "preamble"

# A delimiter-less heading (一加强组织建设) must be a short line: at most this many characters
# from its numeral to the end of the line.
_MAX_WEAK_LINE = 40
# Items a list may skip between two siblings (1、 2、 4、) before the number is implausible.
_MAX_GAP = 2
# Outlines deeper than this are runs of numbers, not headings; it also bounds the work per line.
_MAX_DEPTH = 12
# Families whose numbering one may carry on at the same level (壹是 二是 第三 四、 五、).
_CARRY_ON = frozenset({"enum", "cn"})
# Strong headings of these families between two weak ones break their chain: 一是 under 一、
# and 二是 under 二、 are two inline lists, not siblings.
_CHAIN_BREAKERS = {"cn": frozenset({"part", "cn"}), "enum": frozenset({"part", "cn", "cn_paren"})}

_SPACE = " \t\u3000\xa0"
_TITLE_STOP = "。！？；：\r\n"
_CJK = "\u4e00-\u9fff\u3400-\u4dbf"
_MARKER_KINDS = (
    "part_suffix",
    "enum_suffix",
    "enum_di_delim",
    "enum_word",
    "paren_open",
    "paren_close",
    "cn_delim",
    "num_delim",
    "char_range",
    "part_word",
)


@dataclass(frozen=True, slots=True)
class _Grammar:
    """The compiled marker grammar, built once from the resource files."""

    regex: re.Pattern[str]
    title: re.Pattern[str]
    digits: dict[str, int]
    units: dict[str, int]
    ranges: tuple[tuple[str, str, str, int], ...]
    words: dict[str, int]
    part_heading: re.Pattern[str]


def _alt(items: list[str]) -> str:
    """A regex alternation of literal *items*, longest first (no overlapping prefixes)."""
    return "|".join(re.escape(x) for x in sorted(set(items), key=len, reverse=True))


@functools.cache
def _grammar() -> _Grammar:
    digits: dict[str, int] = {}
    units: dict[str, int] = {}
    for row in load_tsv("cn_numerals.tsv", required=("id", "char", "value", "role")):
        char, role = row["char"], row["role"]
        if len(char) != 1 or not row["value"].isdigit() or role not in ("digit", "unit"):
            raise ResourceError(
                f"{row.where()}: expected one character, an integer value and role "
                f"digit|unit, got {char!r}, {row['value']!r}, {role!r}"
            )
        (digits if role == "digit" else units)[char] = int(row["value"])
    by_kind: dict[str, list[str]] = {k: [] for k in _MARKER_KINDS}
    ranges: list[tuple[str, str, str, int]] = []
    words: dict[str, int] = {}
    for row in load_tsv("section_markers.tsv", required=("id", "family", "kind", "text")):
        kind, text, family = row["kind"], row["text"], row["family"]
        if kind not in by_kind or family not in FAMILIES:
            raise ResourceError(
                f"{row.where()}: unknown kind {kind!r} or family {family!r}; kinds are "
                f"{', '.join(_MARKER_KINDS)}, families {', '.join(FAMILIES)}"
            )
        if kind == "char_range":
            lo, sep, hi = text.partition("-")
            if not sep or len(lo) != 1 or len(hi) != 1 or lo > hi:
                raise ResourceError(f"{row.where()}: expected a range like ①-⑳, got {text!r}")
            ranges.append((lo, hi, family, int(row.get("ordinal") or 1)))
        elif kind == "enum_word":
            words[text] = int(row.get("ordinal") or 0)
        by_kind[kind].append(text)
    cn = "[" + re.escape("".join(digits) + "".join(units)) + "]"
    opens = "[" + re.escape("".join(by_kind["paren_open"])) + "]"
    closes = "[" + re.escape("".join(by_kind["paren_close"])) + "]"
    rng = "[" + "".join(f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi, _, _ in ranges) + "]"
    enum_suffix = _alt(by_kind["enum_suffix"])
    sp = f"[{_SPACE}]"
    # Every piece is bounded or a single character class: no nested quantifiers, so the
    # scan stays linear on 50 MB single-line pages and 100,000-digit runs. The runs of
    # spaces are possessive (*+, ++): no marker starts with a space, so giving spaces back
    # never helps, and splitting a long run between two of them would be quadratic.
    pattern = (
        rf"^(?:{sp}|<U\+00A0>)*+(?:#{{1,6}}{sp}*+|[-*+•·]{sp}++|\*\*)?{sp}*+"
        r"(?:"
        rf"(?P<part>第(?P<part_n>{cn}{{1,5}})(?:{_alt(by_kind['part_suffix'])}))"
        rf"|(?P<edi>第(?P<edi_n>{cn}{{1,3}})(?:{_alt(by_kind['enum_di_delim'])}))"
        rf"|(?P<ew>(?:{_alt(list(words))})[，,]?)"
        rf"|(?P<cp>{opens}{sp}?(?P<cp_n>{cn}{{1,4}}){sp}?{closes})"
        rf"|(?P<np>{opens}{sp}?(?P<np_n>\d{{1,3}}){sp}?{closes}(?:{enum_suffix})?)"
        rf"|(?P<rng>(?P<rng_c>{rng})(?:{enum_suffix})?)"
        rf"|(?P<num>(?P<num_n>\d{{1,3}}){sp}?(?:{_alt(by_kind['num_delim'])}))"
        r"(?:(?!\d)|(?=(?:19|20)\d\d年))"
        rf"|(?P<en>(?P<en_n>{cn}{{1,3}})(?:{enum_suffix}))"
        rf"|(?P<cn>(?P<cn_n>{cn}{{1,4}}){sp}?(?:{_alt(by_kind['cn_delim'])}))"
        rf"|(?P<cnw>{cn}{{1,3}})(?={sp}*(?:[{_CJK}]|\r?$))"
        r")"
    )
    return _Grammar(
        regex=re.compile(pattern, re.MULTILINE),
        title=re.compile(f"[{_SPACE}]*([^{_TITLE_STOP}]*)"),
        digits=digits,
        units=units,
        ranges=tuple(ranges),
        words=words,
        part_heading=re.compile(
            rf"[^{_TITLE_STOP}，、]{{0,{_PART_MAX}}}(?:{_alt(by_kind['part_word']) or '(?!)'})"
        ),
    )


def _cn_value(s: str, digits: dict[str, int], units: dict[str, int]) -> int | None:
    """The value of a Chinese numeral (``十一`` → 11), or None if it is not well formed.

    >>> g = _grammar()
    >>> [_cn_value(s, g.digits, g.units) for s in ("十一", "二十", "一百零三", "叁", "一二")]
    [11, 20, 103, 3, None]
    """
    total = 0
    cur: int | None = None
    last_unit: int | None = None
    for ch in s:
        if ch in digits:
            if cur:  # two digits in a row: 一二 is a run, not a number
                return None
            cur = digits[ch]
        else:
            unit = units[ch]
            if last_unit is not None and unit >= last_unit:
                return None
            total += (1 if cur is None else cur) * unit
            cur, last_unit = None, unit
    total += cur or 0
    return total or None


@dataclass(slots=True)
class _Cand:
    """A marker at the start of a line, before the tree decides whether it is a heading."""

    family: str
    ordinal: int  # 0 for 最后: "one more than the previous item"
    weak: bool  # needs a sibling that opens a line too (一是, 一加强组织建设)
    line_start: int
    start: int  # the marker, after indentation and Markdown prefixes
    end: int  # end of the marker
    line_end: int
    top: bool = False  # an unnumbered part heading: always a top-level section


def _candidates(text: str, g: _Grammar) -> list[_Cand]:
    out: list[_Cand] = []
    for m in g.regex.finditer(text):
        kind = m.lastgroup
        if kind is None:  # pragma: no cover - every alternative is a named group
            continue
        line_end = text.find("\n", m.end())
        if line_end < 0:
            line_end = len(text)
        weak = False
        value: int | None
        if kind == "part":
            family, value = "part", _cn_value(m["part_n"], g.digits, g.units)
        elif kind == "edi":
            family, weak = "enum", True
            value = _cn_value(m["edi_n"], g.digits, g.units)
        elif kind == "ew":
            family, weak = "enum", True
            value = g.words.get(m["ew"].rstrip("，,"), 0)
        elif kind == "cp":
            family, value = "cn_paren", _cn_value(m["cp_n"], g.digits, g.units)
        elif kind == "np":
            family, value = "num_paren", int(m["np_n"])
        elif kind == "rng":
            c = m["rng_c"]
            family, value = next(
                (fam, first + ord(c) - ord(lo)) for lo, hi, fam, first in g.ranges if lo <= c <= hi
            )
        elif kind == "num":
            family, value = "num", int(m["num_n"])
        elif kind == "en":
            family, weak = "enum", True
            value = _cn_value(m["en_n"], g.digits, g.units)
        elif kind == "cn":
            family, value = "cn", _cn_value(m["cn_n"], g.digits, g.units)
        else:  # cnw: 一加强组织建设 / 一 加强组织建设
            if line_end - m.start(kind) > _MAX_WEAK_LINE:
                continue
            family, weak = "cn", True
            value = _cn_value(m["cnw"], g.digits, g.units)
        if value is None or (value == 0 and kind != "ew"):
            continue
        start = m.start(kind)
        out.append(_Cand(family, value, weak, m.start(), start, m.end(kind), line_end))
    return out


def _chain_weak(cands: list[_Cand]) -> list[_Cand]:
    """Keep strong candidates, and weak ones whose sibling opens a line next to them.

    ``一是`` is kept when the next enum marker opening a line is ``二是`` (or the previous
    kept one was the number before), with no ``二、`` of the outline between the two.
    """
    n = len(cands)
    breaks = {fam: [0] * (n + 1) for fam in _CHAIN_BREAKERS}
    for fam, brk in _CHAIN_BREAKERS.items():
        acc = breaks[fam]
        for i, c in enumerate(cands):
            acc[i + 1] = acc[i] + (not c.weak and c.family in brk)
    # 一加强组织建设 chains only with 二推进…, not with a 二、 heading: "一年来，…" is text.
    keys = [f"{c.family}_weak" if c.weak and c.family == "cn" else c.family for c in cands]
    nxt = [-1] * n
    following: dict[str, int] = {}
    for i in range(n - 1, -1, -1):
        if cands[i].weak:
            nxt[i] = following.get(keys[i], -1)
        following[keys[i]] = i
    kept: list[_Cand] = []
    last: dict[str, int] = {}  # chain key -> index of the last kept weak candidate
    for i, c in enumerate(cands):
        if not c.weak:
            kept.append(c)
            continue
        acc = breaks[c.family]
        ok = False
        j = nxt[i]
        if j >= 0 and c.ordinal and cands[j].ordinal in (c.ordinal + 1, 0):
            ok = acc[j] == acc[i + 1]
        k = last.get(keys[i], -1)
        if not ok and k >= 0 and acc[i] == acc[k + 1]:
            ok = c.ordinal in (cands[k].ordinal + 1, 0)
        if ok:
            kept.append(c)
            last[keys[i]] = i
    return kept


@dataclass(slots=True)
class _Node:
    cand: _Cand
    ordinal: int
    parent: int  # index into the node list, -1 for top level
    level: int
    section_id: str
    end: int = -1


def _build(cands: list[_Cand], n_text: int) -> list[_Node]:
    """Place the candidates on a stack of open sections; drop implausible numbers."""
    nxt = [-1] * len(cands)
    following: dict[str, int] = {}
    for i in range(len(cands) - 1, -1, -1):
        nxt[i] = following.get(cands[i].family, -1)
        following[cands[i].family] = i
    by_family: dict[str, list[int]] = {}
    by_number: dict[tuple[str, int], list[int]] = {}
    for i, c in enumerate(cands):
        by_family.setdefault(c.family, []).append(i)
        by_number.setdefault((c.family, c.ordinal), []).append(i)

    def comes_later(fam: str, ordinal: int, i: int) -> bool:
        """Whether a candidate *fam* numbered *ordinal* follows candidate *i*."""
        idx = by_number.get((fam, ordinal), [])
        return bool(idx) and idx[-1] > i

    def next_ordinal(fam: str, i: int) -> int | None:
        """The ordinal of the first candidate of *fam* after candidate *i*."""
        idx = by_family.get(fam, [])
        j = bisect.bisect_right(idx, i)
        return cands[idx[j]].ordinal if j < len(idx) else None

    nodes: list[_Node] = []
    path: list[int] = []
    counts: dict[int, int] = {}
    above: set[tuple[str, str]] = set()  # (parent family, child family) seen so far
    last_o: dict[str, int] = {}  # family -> ordinal of its last heading

    def fam_at(k: int) -> str:
        return nodes[path[k]].cand.family

    for i, c in enumerate(cands):
        fam, o = c.family, c.ordinal
        nxt_o = cands[nxt[i]].ordinal if nxt[i] >= 0 else None
        same = [k for k in range(len(path) - 1, -1, -1) if nodes[path[k]].cand.family == fam]
        keep: int | None = None  # the sibling's depth: path[:keep] stays open
        if c.top:  # an unnumbered part heading closes everything
            keep = 0
        elif o == 0:  # 最后，…: one more than the open item of its family
            if not same:
                continue
            keep, o = same[0], nodes[path[same[0]]].ordinal + 1
        elif same:
            keep = next((k for k in same if nodes[path[k]].ordinal + 1 == o), None)
            if keep is None:
                k = same[0]
                p = nodes[path[k]].ordinal
                if o == 1:
                    # A restart: a list nested in the current item when the list it
                    # interrupts carries on afterwards (五、 一、 六、, or 三、 （一） 一、 二、
                    # （二）), else a new list at the same level.
                    below = [nodes[m] for m in path[k + 1 :]]
                    resumes = (
                        any(next_ordinal(b.cand.family, i) == b.ordinal + 1 for b in below)
                        if below
                        else nxt_o == p + 1 != 2
                    )
                    keep = len(path) if resumes else k
                elif p <= o <= p + _MAX_GAP + 1 or (o > p and nxt_o == o + 1):
                    keep = k
                else:
                    continue  # 七、 right after 一、: text, not a heading
        else:
            leaf = nodes[path[-1]] if path else None
            if (
                leaf is not None
                and o >= 3
                and o == leaf.ordinal + 1
                and {leaf.cand.family, fam} <= _CARRY_ON
            ):
                keep = len(path) - 1  # 第三 then 四、: the numbering carries on
            elif o == 1 or last_o.get(fam) == o - 1 or comes_later(fam, o + 1, i):
                # A new list; it may begin past 1 if its next item follows (## 2、 ## 3、)
                # or the numbering runs on from the previous list (paragraphs 4. | 5.).
                # It closes open items of families this document has put below it
                # (一、 after the paragraphs 39. 40. of a chapter whose 一、 held 10. 11.).
                keep = len(path)
                while (
                    keep
                    and (fam, fam_at(keep - 1)) in above
                    and ((fam_at(keep - 1), fam) not in above)
                ):
                    keep -= 1
                # ``enum`` is the lowest family: （一） or 一、 after 八是 closes it
                while keep and fam != "enum" and fam_at(keep - 1) == "enum":
                    keep -= 1
            else:
                continue
        if keep is None or keep >= _MAX_DEPTH:
            continue
        for k in path[keep:]:
            nodes[k].end = c.line_start
        del path[keep:]
        parent = path[-1] if path else -1
        if parent >= 0:
            above.add((nodes[parent].cand.family, fam))
        counts[parent] = counts.get(parent, 0) + 1
        prefix = nodes[parent].section_id + "." if parent >= 0 else ""
        nodes.append(_Node(c, o, parent, len(path) + 1, f"{prefix}{counts[parent]}"))
        path.append(len(nodes) - 1)
        last_o[fam] = o
    for k in path:
        nodes[k].end = n_text
    return nodes


def split_sections(text: str) -> list[Section]:
    """Split one document's normalized text into its numbered sections, in document order.

    Text before the first heading, when not blank, is section ``0`` (level 0, family
    ``preamble``); a document without headings is one such section. Every section's
    ``text == document_text[start:end]``, and a parent's span contains its children's.

    >>> doc = ("一是统一部署，建立组织架构\\n内容\\n二是完善工作机制。\\n"
    ...        "第三，加大宣传力度。\\n四、开展活动\\n（一）文化活动\\n")
    >>> [(s.section_id, s.parent_id, s.family, s.ordinal) for s in split_sections(doc)]
    ...  # doctest: +NORMALIZE_WHITESPACE
    [('1', None, 'enum', 1), ('2', None, 'enum', 2), ('3', None, 'enum', 3),
     ('4', None, 'cn', 4), ('4.1', '4', 'cn_paren', 1)]

    ``一是…二是…`` inside one paragraph is an inline list, not sections:

    >>> [s.section_id for s in split_sections("一是加强学习，二是改进作风。\\n")]
    ['0']

    Annexes and glossaries are top-level sections with their ``part``:

    >>> doc = "一、工作回顾\\n内容。\\n附件1\\n1.新建幼儿园10所。\\n名词解释\\n1.双减：……\\n"
    >>> [(s.section_id, s.family, s.marker, s.part) for s in split_sections(doc)]
    ...  # doctest: +NORMALIZE_WHITESPACE
    [('1', 'cn', '一、', 'body'), ('2', 'part', '附件1', 'annex'), ('2.1', 'num', '1.', 'annex'),
     ('3', 'part', '名词解释', 'glossary'), ('3.1', 'num', '1.', 'glossary')]
    """
    text = require_str(text)
    if not text.strip():
        return []
    g = _grammar()
    scan = _one_line_breaks(text)
    cands = _candidates(scan, g)
    regions = _part_regions(scan)
    body_end = regions[0][0] if regions else len(text)
    out: list[Section] = []
    body = [c for c in cands if c.line_start < body_end]
    body = _chain_weak(body)
    if not any(c.family in ("cn", "part") and not c.weak for c in body):
        body = _with_part_headings(scan, g, body, body_end)
    nodes = _build(body, body_end)
    first = nodes[0].cand.line_start if nodes else body_end
    if text[:first].strip():
        t = g.title.match(text, len(text[:first]) - len(text[:first].lstrip()))
        title = t.group(1).strip() if t else ""
        out.append(Section("0", None, 0, PREAMBLE, "", 0, title, text[:first], 0, first))
    out.extend(_sections(text, g, nodes, "", 0, "body"))
    top = sum(1 for nd in nodes if nd.parent < 0)
    for k, (start, end, part, head_end, ordinal, marker_end) in enumerate(regions):
        sid = str(top + k + 1)
        head_start = start + len(text[start:marker_end]) - len(text[start:marker_end].lstrip())
        marker = text[head_start:marker_end].rstrip()
        m = _PART_NUMBER.match(marker)
        if m:  # 附件2: its own number
            ordinal = (int(m.group(1)) if m.group(1).isdigit()
                       else _cn_value(m.group(1), g.digits, g.units) or ordinal)
        t = g.title.match(text, head_start + len(marker), marker_end)
        title = t.group(1).strip() if t else ""
        if not title:  # 附件1 ⏎ 2026年重点民生实事: the next line names the annex
            nxt = text[head_start + len(marker):end].lstrip()
            t = g.title.match(nxt)
            title = t.group(1).strip()[:_PART_MAX] if t else ""
        out.append(Section(sid, None, 1, "part", marker, ordinal, title,
                           text[head_start:end], head_start, end, part))
        inner = _chain_weak([c for c in cands if head_end <= c.line_start < end])
        out.extend(_sections(text, g, _build(inner, end), sid, 1, part))
    return out


def _sections(text: str, g: _Grammar, nodes: list[_Node], parent_id: str, depth: int,
              part: str) -> list[Section]:
    """The nodes of one region as sections, nested under *parent_id* (``""`` at the top)."""
    out = []
    prefix = f"{parent_id}." if parent_id else ""
    for node in nodes:
        c = node.cand
        t = g.title.match(text, c.end, c.line_end)
        out.append(
            Section(
                section_id=prefix + node.section_id,
                parent_id=(prefix + nodes[node.parent].section_id if node.parent >= 0
                           else parent_id or None),
                level=node.level + depth,
                family=c.family,
                marker=text[c.start : c.end],
                ordinal=node.ordinal,
                title=t.group(1).strip() if t else "",
                text=text[c.start : node.end],
                start=c.start,
                end=node.end,
                part=part,
            )
        )
    return out


# A part heading (附件1, 名词解释, an unnumbered 2026年重点工作) is a short line.
_PART_MAX = 40
# Lines longer than this are a text stored as one line: markers after a sentence end count.
_ONE_LINE = 2000
_INLINE_MARKER = re.compile(
    r"[。！？；](?=[ \u3000]*(?:[（(][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}、"
    r"|第[一二三四五六七八九十]{1,3}(?:部分|章)|\d{1,2}、))"
)


def _one_line_breaks(text: str) -> str:
    """*text* with a ``"\\n"`` for each sentence end that a marker follows on a very long
    line (a whole report stored as one line): same length, so offsets hold."""
    if len(text) <= _ONE_LINE or all(len(x) <= _ONE_LINE for x in text.split("\n")):
        return text
    out, pos = [], 0
    for line in text.split("\n"):
        out.append(_INLINE_MARKER.sub("\n", line) if len(line) > _ONE_LINE else line)
        pos += len(line) + 1
    return "\n".join(out)


@functools.cache
def _parts() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for row in load_tsv("parts.tsv", required=("id", "part", "pattern")):
        part = row["part"].strip()
        if part not in ("annex", "glossary"):
            raise ResourceError(f"{row.where()}: part must be annex or glossary, got {part!r}")
        try:
            out.append((part, re.compile(row["pattern"])))
        except re.error as exc:
            raise ResourceError(f"{row.where()}: invalid pattern: {exc}") from exc
    return tuple(out)


_PART_NUMBER = re.compile(r"附 ?[件表] ?(\d{1,2}|[一二三四五六七八九十]{1,3})")
_LEAD_RE = re.compile(r"[ \t\u3000]*(?:#{1,6}[ \t\u3000]*)?(?:\*\*)?")


def part_of_heading(line: str) -> str | None:
    """``"annex"`` or ``"glossary"`` if *line* opens such a part of a report (rules in
    ``resources/parts.tsv``), else None.

    >>> part_of_heading("附件1"), part_of_heading("附件二：2026年民生实事"), part_of_heading("名词解释")
    ('annex', 'annex', 'glossary')
    >>> part_of_heading("附件1所列项目已全部完成。") is None
    True
    """
    from .boilerplate import fold_text

    core = line[_LEAD_RE.match(line).end():].strip().removesuffix("**").strip()  # type: ignore[union-attr]
    if not core or len(core) > _PART_MAX + 30:
        return None
    core = fold_text(core)
    return next((part for part, pat in _parts() if pat.fullmatch(core)), None)


def _part_regions(text: str) -> list[tuple[int, int, str, int, int, int]]:
    """(start, end, part, end of the heading lines, ordinal, end of the first heading
    line) of each annex or glossary."""
    heads: list[tuple[int, int, str]] = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        if len(line) <= _PART_MAX + 40 and ("附" in line or "解" in line or "注" in line):
            part = part_of_heading(line)
            if part is not None:
                heads.append((pos, min(end + 1, len(text)), part))
        pos = end + 1
    regions: list[list[Any]] = []
    counts: dict[str, int] = {}
    for start, head_end, part in heads:
        if regions and not text[regions[-1][3] : start].strip():
            # 附件2 ⏎ 名词解释: one part, a glossary, under the annex heading
            last = regions[-1]
            last[2] = "glossary" if "glossary" in (last[2], part) else last[2]
            last[3] = head_end
            continue
        counts[part] = counts.get(part, 0) + 1
        regions.append([start, start, part, head_end, counts[part], head_end])
    for i, region in enumerate(regions):
        region[1] = regions[i + 1][0] if i + 1 < len(regions) else len(text)
    return [tuple(r) for r in regions]  # type: ignore[misc]


def _with_part_headings(text: str, g: _Grammar, cands: list[_Cand], stop: int) -> list[_Cand]:
    """*cands* with the unnumbered part headings of a report (``2026年重点工作``) added:
    short lines of their own, ending in a part word of ``section_markers.tsv``."""
    found: list[_Cand] = []
    starts = {c.line_start for c in cands}
    pos = 0
    first = True
    for line in text[:stop].split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        core = line.strip(_SPACE + "#*\r")
        if not core:
            continue
        if first:  # the document's first line is its title, not a part
            first = False
            continue
        if len(core) > _PART_MAX or start in starts or not g.part_heading.fullmatch(core):
            continue
        lead = start + len(line) - len(line.lstrip(_SPACE + "#*"))
        found.append(_Cand("part", len(found) + 1, False, start, lead, lead, end, top=True))
    if not found:
        return cands
    return sorted([*cands, *found], key=lambda c: c.line_start)


class SectionIndex:
    """Answers "which section is this offset in" in O(log n).

    >>> secs = split_sections("前言\\n一、总体情况\\n1、成立小组\\n二、主要做法\\n")
    >>> idx = SectionIndex(secs)
    >>> [idx.at(i) for i in (0, 4, 10, 17, 99)]
    ['0', '1', '1.1', '2', None]
    """

    __slots__ = ("_ends", "_ids", "_parents", "_starts", "sections")

    def __init__(self, sections: Sequence[Section]) -> None:
        self.sections = sections
        self._starts = [s.start for s in sections]
        self._ends = [s.end for s in sections]
        self._ids = [s.section_id for s in sections]
        pos = {s.section_id: i for i, s in enumerate(sections)}
        self._parents = [
            pos.get(s.parent_id, -1) if s.parent_id is not None else -1 for s in sections
        ]
        if any(a > b for a, b in zip(self._starts, self._starts[1:], strict=False)):
            raise ValueError("sections must be in document order (as split_sections returns)")

    def at(self, offset: int) -> str | None:
        """The ``section_id`` of the deepest section containing *offset*, or None."""
        j = bisect.bisect_right(self._starts, offset) - 1
        while j >= 0:
            if offset < self._ends[j]:
                return self._ids[j]
            j = self._parents[j]
        return None


_last_index: tuple[Sequence[Section], SectionIndex] | None = None


def section_at(sections: Sequence[Section], offset: int) -> str | None:
    """The ``section_id`` of the deepest section containing *offset* (None if none).

    Repeated calls with the same list reuse one :class:`SectionIndex`, so calling it once
    per metric costs O(log n) each.

    >>> secs = split_sections("一、组织领导\\n（一）成立小组\\n二、宣传发动\\n")
    >>> section_at(secs, 9), section_at(secs, 15)
    ('1.1', '2')
    """
    global _last_index
    cached = _last_index
    if cached is None or cached[0] is not sections or len(cached[1]._ids) != len(sections):
        cached = (sections, SectionIndex(sections))
        _last_index = cached
    return cached[1].at(offset)
