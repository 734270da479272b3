"""Vocabulary of discovered themes: what never becomes a theme term, and label word classes.

Three filters keep person names, report formulas and portal words out of theme terms (the
tables keep every character; only the theme vocabulary is filtered):

``resources/theme_stopterms.tsv`` (rule ids ``person_*``, ``formula_*``, ``portal_*``)
    A shipped list: leaders, officials and signatories of national and regional reports,
    report header and closing formulas (各位代表, 请予审议, 人民日报), and portal or site
    words (全屏, 减小, 还原, 责任编辑, 浏览次数).

Formula lines (:func:`split_formula_lines`)
    A document's header and closing lines: in its first section, the short lines before
    the first line of prose; in its last section, the short lines after the last line of
    prose. A line is prose when it ends with sentence punctuation (。！？；…) or is longer
    than 60 characters. Formula lines are left out of the fitting text (title, date line,
    ``国务院总理 温家宝``, ``（《人民日报》…第2版）``), and a term whose occurrences are
    mostly (half or more, at least twice) in formula lines is dropped from the vocabulary.

Names next to official titles (:func:`name_terms`, ``resources/official_titles.tsv``)
    A term that stands, at least twice and in at least half of its occurrences, right after
    a title (``总理 X``, ``主任X``, followed by a line end or punctuation) or right before
    one (``X同志``, ``X总理``) is a person's name and is dropped.

Labels are built from distinctive nouns: :func:`demoted` tells, from jieba's dictionary
part-of-speech tags, which terms are verbs, adjectives, adverbs or idioms (成立, 明确,
不够, 统领); labels put those last.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Iterable

from ..rules import load_tsv

__all__ = ["demoted", "name_terms", "split_formula_lines", "stopterms"]

_PROSE_END = tuple("。！？；…!?;")
_FORMULA_MAX = 60
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff]"
#: jieba tags of words that should not lead a label: verbs, adjectives, adverbs, idioms.
_DEMOTED_TAGS = frozenset(
    {"v", "vd", "vg", "vi", "vq", "a", "ad", "ag", "d", "dg", "i", "l", "c", "p", "r", "u"}
)


@functools.cache
def stopterms() -> frozenset[str]:
    """The shipped list of terms that never become theme terms.

    >>> {"温家宝", "全屏", "各位代表"} <= stopterms()
    True
    """
    rows = load_tsv("theme_stopterms.tsv", required=("id", "kind", "term"))
    return frozenset(row["term"] for row in rows)


@functools.cache
def _title_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    rows = load_tsv("official_titles.tsv", required=("id", "position", "title"))
    before = sorted({r["title"] for r in rows if r["position"] == "before"}, key=len, reverse=True)
    after = sorted({r["title"] for r in rows if r["position"] == "after"}, key=len, reverse=True)
    pre = re.compile(
        "(?:" + "|".join(map(re.escape, before)) + r")[ \t\u3000]*(" + _CJK + "{2,4})"
        r"(?=$|[\s，,。、；;：:）)])",
        re.M,
    )
    post = re.compile("(" + _CJK + "{2,3})(?:" + "|".join(map(re.escape, after)) + ")")
    return pre, post


def _is_prose(line: str) -> bool:
    s = line.strip()
    return len(s) > _FORMULA_MAX or s.endswith(_PROSE_END)


def split_formula_lines(text: str, *, head: bool, tail: bool) -> tuple[str, str]:
    """``(kept, formula)``: *text* without its header (*head*) and closing (*tail*) lines.

    >>> kept, formula = split_formula_lines(
    ...     "政府工作报告\\n国务院总理 某某某\\n各位代表：\\n现在，我代表国务院报告工作。\\n"
    ...     "二〇〇八年报告\\n", head=True, tail=True)
    >>> kept
    '现在，我代表国务院报告工作。\\n'
    >>> formula.splitlines()
    ['政府工作报告', '国务院总理 某某某', '各位代表：', '二〇〇八年报告']
    """
    if not (head or tail) or not text:
        return text, ""
    lines = text.splitlines(keepends=True)
    prose = [i for i, line in enumerate(lines) if line.strip() and _is_prose(line)]
    if not prose:  # nothing but short lines: a heading or a list, not a header
        return text, ""
    first = prose[0] if head else 0
    last = prose[-1] + 1 if tail else len(lines)
    return "".join(lines[first:last]), "".join(lines[:first] + lines[last:])


def name_terms(texts: Iterable[str], counts: Counter[str], *, min_count: int = 2) -> set[str]:
    """Terms of *counts* (term → occurrences) that mostly stand next to an official title.

    >>> c = Counter({"温家宝": 2, "指出": 9})
    >>> sorted(name_terms(["国务院总理 温家宝\\n", "温家宝同志指出，", "主席指出，"], c))
    ['温家宝']
    """
    pre, post = _title_patterns()
    near: Counter[str] = Counter()
    for text in texts:
        for m in pre.finditer(text):
            cap = m.group(1)
            for n in range(2, len(cap) + 1):
                near[cap[:n]] += 1
        for m in post.finditer(text):
            cap = m.group(1)
            for n in range(2, len(cap) + 1):
                near[cap[-n:]] += 1
    return {
        t for t, n in near.items() if n >= min_count and t in counts and n >= 0.5 * counts[t]
    }


@functools.cache
def _jieba_dict() -> str:
    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


@functools.cache
def _user_tags() -> dict[str, str]:
    from ..tokens import user_words

    # the domain dictionary is noun phrases unless it says otherwise
    return {word: tag or "n" for word, _freq, tag in user_words()}


def tags(terms: Iterable[str]) -> dict[str, str]:
    """jieba dictionary part-of-speech tags of *terms* (``n`` when the word is not there).

    One regex pass over jieba's dictionary for the terms asked, instead of loading all of it.

    >>> tags(["成立", "领导小组", "某某某某"])
    {'成立': 'v', '领导小组': 'n', '某某某某': 'n'}
    """
    terms = list(dict.fromkeys(terms))
    out = {t: "n" for t in terms}
    wanted = [t for t in terms if t not in _user_tags()]
    if wanted:
        alternation = "|".join(map(re.escape, sorted(wanted, key=len, reverse=True)))
        for m in re.finditer(rf"^({alternation}) \d+ (\S+)$", _jieba_dict(), re.M):
            out[m.group(1)] = m.group(2)
    out.update({t: _user_tags()[t] for t in terms if t in _user_tags()})
    return out


def demoted(terms: Iterable[str]) -> set[str]:
    """The verbs, adjectives, adverbs and idioms among *terms* (by jieba's dictionary tag).

    >>> sorted(demoted(["成立", "领导小组", "志愿服务", "明确"]))
    ['成立', '明确']
    """
    return {t for t, tag in tags(terms).items() if tag in _DEMOTED_TAGS}
