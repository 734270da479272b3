"""Document metadata the text itself gives: year, document type, place.

:func:`extract_metadata` looks at an article's title and its opening:

- ``year``: a 4-digit year (1900 to 2099) in the title, else one written ``2021年`` (or
  ``二〇二一年``) in the opening 200 characters; never a placeholder (``20□年``).
- ``doc_type``: ``总结``, ``汇报``, ``计划``, ``规划``, ``报告`` or ``other``, from the word of
  ``resources/doc_types.tsv`` that ends last in the title (a Chinese title's head noun comes
  last: ``国民经济计划草案的报告`` is a ``报告``).
- ``place``: the community, street, town, district, city or province named in the title,
  else in the first paragraph: 2 to 5 Chinese characters before a suffix of
  ``resources/place_suffixes.tsv`` (``乌山社区``, ``人民路街道``), cut after a boundary character
  (``将原官塘社区`` → ``官塘社区``) and rejected when generic (``文明社区``, ``本社区``, ``小区``;
  ``resources/place_stoplist.tsv``). A heuristic without a gazetteer: it prefers saying
  nothing to naming a wrong place.

Traditional-script titles work too (they are folded to simplified first).

>>> extract_metadata("2022年文明社区的创建工作总结", "乌山社区位于乌山路，辖区面积35万平方米。")
{'year': 2022, 'doc_type': '总结', 'place': '乌山社区'}
>>> extract_metadata("20□最新创建文明城市活动总结",
...                  "□年上半年□社区文明创建工作在人民路街道办事处的指导下开展。")
{'year': None, 'doc_type': '总结', 'place': '人民路街道'}
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from .errors import ResourceError, require_str
from .rules import load_tsv

__all__ = [
    "document_title",
    "extract_doc_type",
    "extract_metadata",
    "extract_place",
    "extract_year",
    "is_report",
]

_OPENING = 200
_FIRST_PARAGRAPH = 300
_NAME_MIN, _NAME_MAX = 2, 5
_YEAR_TITLE = re.compile(r"(?<![0-9])(19[0-9]{2}|20[0-9]{2})(?![0-9])")
_YEAR_TEXT = re.compile(r"(?<![0-9])(19[0-9]{2}|20[0-9]{2}) ?年")
_YEAR_CN = re.compile(r"([一二三四五六七八九〇零○]{4}) ?年")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0"}
_ALL_CJK = re.compile(r"[\u4e00-\u9fff]+")
_lock = threading.Lock()
OTHER = "other"


def _fold(text: str) -> str:
    from .boilerplate import fold_text

    return fold_text(text)


def extract_year(title: str, text: str = "") -> int | None:
    """The document's year from its title, else from its opening.

    >>> extract_year("关于一九五八年度国民经济计划草案的报告")
    1958
    >>> extract_year("20□年社区工作总结", "今年以来，社区在2019年的基础上……")
    2019
    >>> extract_year("社区总结", "共2000余人参加") is None
    True
    """
    title = _fold(require_str(title, what="title"))
    year = _year_in_title(title)
    if year is not None:
        return year
    opening = _fold(require_str(text)[:_OPENING])
    m = _YEAR_TEXT.search(opening)
    if m:
        return int(m.group(1))
    m = _YEAR_CN.search(opening)
    return _cn_year(m.group(1)) if m else None


def _year_in_title(title: str) -> int | None:
    m = _YEAR_TITLE.search(title)
    if m:
        return int(m.group(1))
    m = _YEAR_CN.search(title)
    return _cn_year(m.group(1)) if m else None


def _cn_year(digits: str) -> int | None:
    year = int("".join(_CN_DIGIT[c] for c in digits))
    return year if 1900 <= year <= 2099 else None


@functools.cache
def _doc_type_words() -> tuple[tuple[str, str], ...]:
    rows = load_tsv("doc_types.tsv", required=("id", "doc_type", "word"))
    return tuple((r["word"].strip(), r["doc_type"].strip()) for r in rows)


def extract_doc_type(title: str) -> str:
    """``总结`` / ``汇报`` / ``计划`` / ``规划`` / ``报告`` / ``other`` from a title.

    >>> extract_doc_type("社区文明社区创建工作规划"), extract_doc_type("社區創建工作匯報")
    ('规划', '汇报')
    >>> extract_doc_type("开发成员们，您好！")
    'other'
    """
    title = _fold(require_str(title, what="title"))
    best: tuple[int, int, str] | None = None
    for word, doc_type in _doc_type_words():
        end = title.rfind(word)
        if end < 0:
            continue
        key = (end + len(word), len(word), doc_type)
        if best is None or key[:2] > best[:2]:
            best = key
    if best and best[2] == "计划" and _SUMMARY_AND_PLAN.search(title):
        # "2023年工作总结和2024年工作计划": two head nouns joined; the title's year (the
        # first) is the summary's, so the document is a summary that also plans ahead.
        return "总结"
    return best[2] if best else OTHER


# A summary coordinated with the next period's plan (总结和…计划 / 总结及…安排 / 总结暨…打算).
_SUMMARY_AND_PLAN = re.compile(r"(?:总结|小结)[^，。,]{0,3}?[和及与暨并][^，。,]{0,24}?(?:计划|打算|安排|要点|思路)")


@dataclass(frozen=True, slots=True)
class _PlaceRules:
    suffix: re.Pattern[str]
    not_place: frozenset[str]
    generic: tuple[str, ...]
    boundary: frozenset[str]
    lead: tuple[str, ...]


@functools.cache
def _place_rules() -> _PlaceRules:
    suffixes: list[str] = []
    not_place: set[str] = set()
    for row in load_tsv("place_suffixes.tsv", required=("id", "kind", "text")):
        kind, text = row["kind"].strip(), row["text"].strip()
        if kind == "suffix":
            suffixes.append(text)
        elif kind == "not_place":
            not_place.add(text)
        else:
            raise ResourceError(f"{row.where()}: kind must be suffix or not_place, got {kind!r}")
    generic: list[str] = []
    boundary: set[str] = set()
    lead: list[str] = []
    for row in load_tsv("place_stoplist.tsv", required=("id", "kind", "text")):
        kind, text = row["kind"].strip(), row["text"].strip()
        if kind == "generic":
            generic.append(text)
        elif kind == "boundary":
            if len(text) != 1:
                raise ResourceError(f"{row.where()}: a boundary is one character, got {text!r}")
            boundary.add(text)
        elif kind == "lead":
            lead.append(text)
        else:
            raise ResourceError(
                f"{row.where()}: kind must be generic, boundary or lead, got {kind!r}"
            )
    if not suffixes:
        raise ResourceError("corpus_tools/resources/place_suffixes.tsv lists no suffix")
    alternation = "|".join(re.escape(s) for s in sorted(suffixes, key=len, reverse=True))
    return _PlaceRules(
        suffix=re.compile(alternation),
        not_place=frozenset(not_place),
        generic=tuple(sorted(generic, key=len, reverse=True)),
        boundary=frozenset(boundary),
        lead=tuple(sorted(lead, key=len, reverse=True)),
    )


# jieba part-of-speech flags a token of a place name may carry (nouns, place and proper
# names, numerals as in 清潭三社区, unknown words); a verb, preposition, adverb, pronoun …
# before the suffix ends the name.
_NAME_FLAGS = frozenset({"n", "ns", "nr", "nrt", "nz", "nt", "j", "x", "eng", "m", "l", "i"})


@functools.cache
def _pos_tokenizer() -> Any:
    import jieba
    import jieba.posseg

    jlog = logging.getLogger("jieba")
    level = jlog.level
    jlog.setLevel(logging.WARNING)
    try:
        tokenizer = jieba.Tokenizer()
        # POSTokenizer(tokenizer) would parse jieba's dictionary a second time for the
        # word -> tag table (~350,000 lines, about 0.6 s per process): read it from a cache
        tok = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
        tok.tokenizer = tokenizer
        tok.word_tag_tab = _word_tags(tok)
        tok.tokenizer.initialize()
    finally:
        jlog.setLevel(level)
    return tok


#: Version of the cached word -> tag table's layout (part of its file name).
_TAGS_CACHE_VERSION = 1


def _word_tags(tok: Any) -> dict[str, str]:
    """jieba's word -> part-of-speech table of *tok*'s dictionary, as its own
    ``load_word_tag`` parses it, cached (marshal) next to jieba's own cache and keyed on
    the SHA-256 of the dictionary's bytes; parsed (and the cache written) when missing or
    unreadable. Tags are interned: the table then holds a few dozen tag strings, not one
    per word."""
    import hashlib
    import marshal
    import os
    import sys
    import tempfile

    with tok.tokenizer.get_dict_file() as fh:
        data = fh.read()
    key = hashlib.sha256(data).hexdigest()[:20]
    folder = tok.tokenizer.tmp_dir or tempfile.gettempdir()
    path = os.path.join(folder, f"corpus_tools.jieba_tags.v{_TAGS_CACHE_VERSION}.{key}.marshal")
    try:
        with open(path, "rb") as fh:
            table = marshal.loads(fh.read())  # load(fh) would read object by object
        if isinstance(table, dict) and table:
            return table
    except (OSError, EOFError, ValueError, TypeError):
        pass
    import io

    tok.load_word_tag(io.BytesIO(data))
    table = {word: sys.intern(tag) for word, tag in tok.word_tag_tab.items()}
    try:
        fd, tmp = tempfile.mkstemp(prefix=".corpus_tools.jieba_tags.", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            marshal.dump(table, fh)
        os.replace(tmp, path)
    except OSError:  # an unwritable cache folder: parse again next time
        try:
            os.unlink(tmp)
        except (OSError, NameError):
            pass
    return table


def _cut(text: str) -> list[tuple[str, str]]:
    with _lock:
        return [(w.word, w.flag) for w in _pos_tokenizer().cut(text)]


def _acceptable(name: str, suffix: str, rules: _PlaceRules, *, cut: bool = True) -> str | None:
    if cut:  # a boundary character inside a guessed name ends the text before it
        at = max((i for i, ch in enumerate(name) if ch in rules.boundary), default=-1)
        name = name[at + 1 :]
    for word in rules.lead:
        if name.startswith(word) and len(name) - len(word) >= _NAME_MIN:
            name = name[len(word) :]
            break
    if not (_NAME_MIN <= len(name) <= _NAME_MAX) or not _ALL_CJK.fullmatch(name):
        return None
    full = name + suffix
    if any(full.endswith(w) for w in rules.not_place):
        return None
    if any(name.endswith(g) or name.startswith(g) for g in rules.generic):
        return None
    return full


def _places(text: str) -> str | None:
    """The first place name in *text*: jieba tokens give the name's left edge."""
    rules = _place_rules()
    if not rules.suffix.search(text):
        return None
    tokens = _cut(text)
    for i, (word, flag) in enumerate(tokens):
        m = rules.suffix.search(word)
        if m is None or m.end() != len(word):
            continue
        if len(word) > m.end() - m.start():
            # one token holds name and suffix (连云区, 狮子山区): jieba knows it as a place
            if flag == "ns" and word not in rules.not_place:
                found = _acceptable(word[: m.start()], m.group(), rules)
                if found:
                    return found
            continue
        # the suffix alone: the name is the one or two name-like tokens before it
        parts: list[str] = []
        j = i - 1
        while (
            j >= 0
            and len(parts) < 2
            and tokens[j][1] in _NAME_FLAGS
            and _ALL_CJK.fullmatch(tokens[j][0])
        ):
            if tokens[j][1] == "m" and parts:
                break  # a numeral only directly before the suffix (清潭三社区)
            parts.insert(0, tokens[j][0])
            j -= 1
        if parts and tokens[i - 1][1] == "m" and len(parts) == 1:
            continue  # a bare number before the suffix is no name
        if len(parts) == 2 and any(ch in rules.boundary for ch in parts[0]):
            parts = parts[1:]  # 将原 + 官塘 → 官塘
        found = _acceptable("".join(parts), word, rules, cut=len(parts) > 1)
        if found:
            return found
    return None


def extract_place(title: str, text: str = "") -> str | None:
    """The place a document is about, named in its title or first paragraph; else None.

    >>> extract_place("社区创建工作汇报", "全区直管社区体制改革后，将原官塘社区、新苑社区合并。")
    '官塘社区'
    >>> extract_place("文明社区创建工作总结", "本社区今年创建文明小区两个。") is None
    True
    """
    title = _fold(require_str(title, what="title"))
    found = _places(title)
    if found:
        return found
    text = require_str(text).lstrip()
    first = text.split("\n", 1)[0][:_FIRST_PARAGRAPH]
    return _places(_fold(first))


# ------------------------------------------------------------------ government reports

# How far into a report its title, dateline and speaker are looked for.
_REPORT_OPENING = 800
# A title line is at most this long (after the dateline is cut off).
_TITLE_LINE_MAX = 60
_DASHES = re.compile(r"[—－-]{1,2}|――")
# The report is given to a people's congress by the government (我代表国务院/省人民政府).
_REPORT_SIGNAL = re.compile(
    r"我代表[^。！？\n]{0,16}(?:国务院|人民政府|政府)[^。！？\n]{0,16}向[^。！？\n]{0,8}(?:大会|会议)"
    r"[^。！？\n]{0,4}(?:报告|作)"
)
_NATIONAL = re.compile(r"我代表国务院|国务院总理|全国人民代表大会第[一二三四五六七八九十]{1,3}次会议")
# ——2026年1月25日在某省第十四届人民代表大会第五次会议上: the year the report is given in.
_DATELINE = re.compile(r"(?<![0-9])(19[0-9]{2}|20[0-9]{2}) ?年 ?[0-9]{1,2} ?月 ?[0-9]{1,2} ?日 ?在")
# 2026年政府工作任务 / 2026年经济社会发展总体要求: the year the report plans for.
_PLAN_YEAR = re.compile(
    r"(?<![0-9])(19[0-9]{2}|20[0-9]{2}) ?年(?:是|的)?(?:经济社会发展|国民经济和社会发展|政府工作任务"
    r"|政府工作|重点工作|工作总体部署|主要预期目标|发展主要预期目标|主要目标任务|工作安排|工作建议"
    r"|主要任务|工作任务)"
)
# 2025年工作回顾: the year before the report's.
_REVIEW_YEAR = re.compile(r"(?<![0-9])(19[0-9]{2}|20[0-9]{2}) ?年(?:政府)?工作回顾")
_PLACE_SUFFIX = r"(?:特别行政区|自治区|自治州|自治县|自治旗|省|市|县|区|州|盟|旗)"
_GOV_PLACE = re.compile(rf"([\u4e00-\u9fff]{{2,10}}?{_PLACE_SUFFIX})(?:人民)?政府")
_CONGRESS_PLACE = re.compile(
    rf"在([\u4e00-\u9fff]{{2,10}}?{_PLACE_SUFFIX})第[一二三四五六七八九十]{{1,3}}届人民代表大会"
)
_SPEAKER_PLACE = re.compile(
    rf"([\u4e00-\u9fff]{{2,10}}?{_PLACE_SUFFIX})(?:人民政府)?(?:代理|代)?"
    r"(?:省长|市长|县长|区长|州长|盟长|旗长|主席|行政长官)"
)
_TITLE_LEAD = re.compile(r"(?:(?:19|20)[0-9]{2} ?年(?:度)?|关于)+")


def is_report(title: str, text: str = "") -> bool:
    """A government work report: ``报告`` in the title, or the opening's
    ``我代表…政府向大会报告`` when the title names no type.

    >>> is_report("", "各位代表：\\n现在，我代表国务院，向大会报告政府工作，请予审议。")
    True
    """
    if extract_doc_type(title) == "报告":
        return True
    return _REPORT_SIGNAL.search(_fold(require_str(text)[:_REPORT_OPENING])) is not None


def document_title(title: str, text: str) -> str:
    """The line that names the document (``…政府工作报告``, ``…工作总结``): *title* when it
    names one, else the first such line of the opening (cut before its dateline ``——``),
    else *title*.

    >>> document_title("", "政府工作报告——2017年3月5日在第十二届全国人民代表大会第五次会议上")
    '政府工作报告'
    >>> document_title("首页", "2026年某市政府工作报告\\n各位代表：")
    '2026年某市政府工作报告'
    >>> document_title("社区工作汇报", "今年以来……")
    '社区工作汇报'
    >>> document_title("政府工作报告——2016年3月5日在第十二届全国人民代表大会", "")
    '政府工作报告'
    """
    require_str(title, what="title")
    if extract_doc_type(title) != OTHER:
        head = _DASHES.split(title, 1)[0].strip()
        return head if head != title and extract_doc_type(head) != OTHER else title
    for line in require_str(text)[:_REPORT_OPENING].split("\n")[:12]:
        head = _DASHES.split(line.strip(" \t\u3000#*"), 1)[0].strip()
        if head.startswith("各位代表"):
            break
        if 0 < len(head) <= _TITLE_LINE_MAX and not re.search("[。！？；，]", head):
            folded = _fold(head)
            if extract_doc_type(folded) != OTHER and folded.endswith(
                tuple(w for w, _t in _doc_type_words())
            ):
                return head
    return title


def _report_year(title: str, opening: str, text: str) -> int | None:
    m = _DATELINE.search(opening)
    if m:
        return int(m.group(1))
    head = _fold(text[:20000]) if len(text) > len(opening) else opening
    plans = [int(y) for y in _PLAN_YEAR.findall(head)]
    if plans:
        return max(set(plans), key=lambda y: (plans.count(y), y))
    m = _REVIEW_YEAR.search(head)
    return int(m.group(1)) + 1 if m else None


def _report_place(title: str, opening: str) -> str | None:
    if "国务院" in title or _NATIONAL.search(opening):
        return "全国"
    core = _TITLE_LEAD.sub("", title, count=1) if _TITLE_LEAD.match(title) else title
    for pattern, where in ((_GOV_PLACE, core), (_CONGRESS_PLACE, opening),
                           (_SPEAKER_PLACE, opening), (_GOV_PLACE, opening)):
        m = pattern.match(where) if where is core else pattern.search(where)
        if m and _report_place_ok(m.group(1)):
            return m.group(1)
    return None


def _report_place_ok(name: str) -> bool:
    rules = _place_rules()
    return not any(name.endswith(w) for w in rules.not_place) and not name.startswith(
        ("全", "本", "我", "各", "该", "省", "市", "县")
    )


def extract_metadata(title: str, text: str) -> dict[str, Any]:
    """``{'year': int | None, 'doc_type': str, 'place': str | None}`` for one document.

    A government work report (see :func:`is_report`) is read as such: ``year`` is the
    year it is for (the title's, else the dateline's ``——2026年1月25日在…``, else the
    year its tasks are set for, ``2026年政府工作任务``, else the year after its review,
    ``2025年工作回顾``); ``place`` is ``全国`` for the State Council's reports, else the
    government of the title (``2026年某省人民政府工作报告``), the congress of the dateline
    or the speaker's office (``某市市长``); ``doc_type`` is ``报告``.

    >>> extract_metadata("2008年国务院政府工作报告", "各位代表：")
    {'year': 2008, 'doc_type': '报告', 'place': '全国'}
    >>> extract_metadata("", "现在，我代表国务院，向大会报告政府工作。一、2023年工作回顾……"
    ...                  "二、2024年经济社会发展总体要求和政策取向")
    {'year': 2024, 'doc_type': '报告', 'place': '全国'}
    >>> extract_metadata("2026年湖南省人民政府工作报告", "各位代表：")
    {'year': 2026, 'doc_type': '报告', 'place': '湖南省'}
    """
    require_str(title, what="title")
    require_str(text)
    if is_report(title, text):
        ftitle = _fold(title)
        opening = _fold(text[:_REPORT_OPENING])
        year = _year_in_title(ftitle)
        return {
            "year": year if year is not None else (
                _report_year(ftitle, opening, text) or extract_year(title, text)),
            "doc_type": "报告",
            "place": _report_place(ftitle, opening) or extract_place(title, text),
        }
    return {
        "year": extract_year(title, text),
        "doc_type": extract_doc_type(title),
        "place": extract_place(title, text),
    }
