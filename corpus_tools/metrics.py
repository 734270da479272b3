"""Metric extraction: the households, people, percentages, money and areas a summary reports.

:func:`extract_metrics` reads normalized text (simplified script, ASCII digits, ``□`` for a
blanked placeholder) and returns one :class:`~corpus_tools.schema.Metric` per reported
quantity, sorted by ``start``, never overlapping, with ``text[start:end] == raw``.

How it works, so that it stays linear on a 50 MB page:

1. One precompiled scanning regex finds a number (ASCII digits with separators and magnitude
   words, a run of Chinese numerals, ``百分之…``, or a ``□`` placeholder), an optional range
   (``20-38万``), an inner qualifier (``余``/``多``), an optional magnitude word and a unit from
   ``resources/units.tsv``, then an optional trailing qualifier (``以上``). Every run in it is
   possessive and starts only where the previous character cannot continue it, so the engine
   never rescans a long run of digits.
2. Cheap Python per candidate: the number is read by :func:`corpus_tools.numerals.parse_number`,
   exclusions (``resources/metric_exclusions.tsv``) are checked around it, a qualifier word
   before it (``近``, ``超过``) is looked up in ``resources/qualifiers.tsv``, and the clause
   before it is searched for a change word (``resources/directions.tsv``) and a comparison
   basis (``resources/bases.tsv``).

Dates, ages, addresses and versions need no special rule: ``年``, ``月``, ``日``, ``岁``, ``号``
are not units, so ``2022年`` or ``乌山路81号`` never become metrics.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import ResourceError, require_str
from .numerals import BIG_UNITS, DIGIT_VALUES, MAGNITUDES, MAX_VALUE, parse_decimal, read_numeral
from .rules import load_tsv
from .schema import Metric

__all__ = ["MetricRules", "extract_metrics", "is_sentence_break", "metric_rules", "sentence_breaks"]

log = logging.getLogger(__name__)

_CATEGORIES = frozenset(
    {
        "households", "people", "person_times", "percent", "percentage_points", "money",
        "area", "length", "volume", "weight", "duration", "count",
    }
)  # fmt: skip
_QUALIFIERS = ("vague", "at_least", "at_most", "approx")  # precedence when several qualify
_POSITIONS = frozenset({"before", "inner", "after", "before_magnitude"})
_SENTENCE_WINDOW = 300
_CLAUSE_WINDOW = 40
_LIST_JOINERS = frozenset({"", "、", "和", "与", "及", "，"})
_RANGE_SEPARATORS = frozenset(
    {"-", "－", "—", "\u2013", "--", "——", "－－", "~", "～", "〜", "至", "到"}
)
_MASK = "□"

_CN_CHARS = "".join(DIGIT_VALUES) + "".join(MAGNITUDES)
_BARE_MAGNITUDES = frozenset("百千万亿佰仟萬億")
_MAGNITUDE_SET = frozenset(MAGNITUDES)
_DIGIT = "0-9\uff10-\uff19"  # ASCII and full-width digits


@dataclass(frozen=True, slots=True)
class _Unit:
    written: str
    unit: str
    category: str
    factor: float
    script: str
    not_before: tuple[str, ...]
    exact: Decimal  # the factor as written, for exact arithmetic


@dataclass(frozen=True, slots=True)
class MetricRules:
    """The compiled rule set: built once from the resource files by :func:`metric_rules`."""

    scan: re.Pattern[str]
    units: dict[str, _Unit]
    qualifier_of: dict[str, str]
    before: re.Pattern[str]
    before_not_after: dict[str, tuple[str, ...]]
    before_magnitude: tuple[str, ...]
    directions: re.Pattern[str]
    direction_of: dict[str, str]
    direction_gap: re.Pattern[str]
    bases: re.Pattern[str]
    prefixes: tuple[str, ...]
    thresholds: tuple[str, ...]
    wraps: tuple[tuple[str, str], ...]
    phrases: re.Pattern[str] | None
    phrase_reach: int


def _alternation(words: object) -> str:
    """A regex matching any of *words*, longest first, written as a trie.

    Python's ``re`` tries the branches of an alternation one by one; a trie tries each
    character once, which keeps the scanner fast with a hundred units.

    >>> _alternation(["个", "个百分点", "人", "人次"])
    '(?:个(?:百分点)?|人(?:次)?)'
    """
    trie: dict = {}
    for w in set(words):  # type: ignore[call-overload]
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_regex(trie)


def _trie_regex(node: dict) -> str:
    branches = []
    for key in sorted(k for k in node if k):
        child, label = node[key], key
        while len(child) == 1 and "" not in child:  # compress a chain of single children
            ((k2, child),) = child.items()
            label += k2
        tail = (
            _trie_regex(child) + "?"
            if "" in child and len(child) > 1
            else ("" if "" in child else _trie_regex(child))
        )
        branches.append(re.escape(label) + tail)
    return "(?:" + "|".join(branches) + ")"


@functools.cache
def metric_rules() -> MetricRules:
    """Load units, qualifiers, directions, bases and exclusions and compile the scanner.

    Cached: the resource files are read once per process, on first use.

    >>> rules = metric_rules()
    >>> rules.units["平方公里"].factor, rules.units["户"].category
    (1000000.0, 'households')
    """
    units: dict[str, _Unit] = {}
    for row in load_tsv("units.tsv", required=("id", "written", "unit", "category", "factor")):
        cat, script = row["category"], row.get("script") or "any"
        if cat not in _CATEGORIES:
            raise ResourceError(f"{row.where()}: unknown category {cat!r}")
        if script not in ("any", "digits", "cn"):
            raise ResourceError(f"{row.where()}: script must be any, digits or cn, not {script!r}")
        try:
            factor = float(row["factor"])
            exact = Decimal(row["factor"])
        except (ValueError, ArithmeticError) as exc:
            raise ResourceError(f"{row.where()}: factor {row['factor']!r} is no number") from exc
        units[row["written"]] = _Unit(
            row["written"], row["unit"], cat, factor, script,
            tuple(row.get("not_before").split()), exact,
        )

    qualifier_of: dict[str, str] = {}
    by_position: dict[str, list[str]] = {p: [] for p in _POSITIONS}
    not_after: dict[str, tuple[str, ...]] = {}
    for row in load_tsv("qualifiers.tsv", required=("id", "word", "qualifier", "position")):
        q, pos, word = row["qualifier"], row["position"], row["word"]
        if q not in _QUALIFIERS:
            raise ResourceError(f"{row.where()}: qualifier must be one of {_QUALIFIERS}")
        if pos not in _POSITIONS:
            raise ResourceError(f"{row.where()}: position must be one of {sorted(_POSITIONS)}")
        qualifier_of[word] = q
        by_position[pos].append(word)
        if row.get("not_after").strip():
            not_after[word] = tuple(row.get("not_after").split())

    direction_of: dict[str, str] = {}
    links: list[str] = []
    for row in load_tsv("directions.tsv", required=("id", "word", "direction")):
        if row["direction"] == "link":
            links.append(row["word"])
        elif row["direction"] in ("up", "down", "none"):
            direction_of[row["word"]] = row["direction"]
        else:
            raise ResourceError(f"{row.where()}: direction must be up, down, none or link")

    basis_parts = []
    for row in load_tsv("bases.tsv", required=("id", "kind", "pattern")):
        if row["kind"] == "word":
            basis_parts.append((len(row["pattern"]), re.escape(row["pattern"])))
        elif row["kind"] == "regex":
            try:
                re.compile(row["pattern"])
            except re.error as exc:
                raise ResourceError(f"{row.where()}: bad regex: {exc}") from exc
            basis_parts.append((100, row["pattern"]))
        else:
            raise ResourceError(f"{row.where()}: kind must be word or regex")
    basis_parts.sort(key=lambda p: -p[0])

    prefixes: list[str] = []
    thresholds: list[str] = []
    wraps: list[tuple[str, str]] = []
    phrases: list[str] = []
    for row in load_tsv("metric_exclusions.tsv", required=("id", "kind", "word")):
        kind, word = row["kind"], row["word"]
        if kind == "prefix":
            prefixes.append(word)
        elif kind == "threshold":
            thresholds.append(word)
        elif kind == "phrase":
            phrases.append(word)
        elif kind == "wrap":
            if word.count("|") != 1:
                raise ResourceError(f"{row.where()}: a wrap is written OPEN|CLOSE")
            o, c = word.split("|")
            wraps.append((o, c))
        else:
            raise ResourceError(f"{row.where()}: kind must be prefix, threshold, phrase or wrap")

    return MetricRules(
        scan=_compile_scanner(units, by_position["inner"], by_position["after"]),
        units=units,
        qualifier_of=qualifier_of,
        before=re.compile(f"(?:{_alternation(by_position['before'])})\\Z"),
        before_not_after=not_after,
        before_magnitude=tuple(by_position["before_magnitude"]),
        directions=re.compile(_alternation(direction_of)),
        direction_of=direction_of,
        direction_gap=re.compile(f"(?:{_alternation(links)})*" if links else ""),
        bases=re.compile("|".join(p for _, p in basis_parts)),
        prefixes=tuple(prefixes),
        thresholds=tuple(thresholds),
        wraps=tuple(wraps),
        phrases=re.compile(_alternation(phrases)) if phrases else None,
        phrase_reach=max((len(p) for p in phrases), default=0),
    )


def _compile_scanner(units: dict[str, _Unit], inner: list[str], after: list[str]) -> re.Pattern:
    d, cn, mag = _DIGIT, _CN_CHARS, "".join(MAGNITUDES)
    # Thousands separators: comma, or a (thin / no-break) space as Hong Kong texts write
    # them (3 500名); a head of at most three digits and at most five groups.
    groups = r"(?:(?<![0-9]{4})[, \u00a0\u2009\u202f，][0-9]{3}(?![0-9])){1,5}+"
    digits_tail = rf"[{d}]*+(?:[.．][{d}]++|{groups}(?:[.．][{d}]++)?)?{_MASK}*+"
    # A run starts only where the character before cannot continue it (lookbehinds placed
    # after the first character keep the fast first-character scan of the regex engine).
    num_d = (
        rf"(?:[{d}](?<![{d}{_MASK}{mag}].)(?<![{d}][.．,].){digits_tail}"
        rf"|{_MASK}(?<![{d}{_MASK}].){_MASK}*+)"
        rf"(?:[{mag}]++(?:[{d}]++(?:[.．][{d}]++)?{_MASK}*+)?)*+"
    )
    num_c = rf"[{cn}](?<![{cn}{d}{_MASK}].)[{cn}]*+"
    num = rf"(?:{num_d}|{num_c})"
    num2 = rf"(?:[{d}]++(?:[.．][{d}]++)?(?:[{mag}]++(?:[{d}]++(?:[.．][{d}]++)?)?)*+|[{cn}]++)"
    sep = r"(?:--|——|－－|[至到~～\-－—\u2013〜])"
    pct_num = rf"(?:[{cn}]++(?:点[{''.join(DIGIT_VALUES)}]++)?|[{d}]++(?:[.．][{d}]++)?)"
    after_q = f"(?P<q2>{_alternation(after)})?" if after else "(?P<q2>(?!))?"
    # 123元1角1分, 十块三毛, 5元零5分: jiao and fen after a yuan (块) unit.
    cd = "0-9" + "".join(DIGIT_VALUES)
    cents = rf"(?:(?<=[元圆块])(?P<cents>[{cd}][角毛](?:[{cd}]分)?|零?[{cd}]分))?"
    pattern = (
        rf"(?P<pct>百分之)(?P<pn>{pct_num}){after_q.replace('q2', 'pq')}"
        rf"|(?P<num>{num})(?:(?P<sep>{sep})(?P<num2>{num2}))?"
        rf"(?P<q1>{_alternation(inner)})?(?P<mag2>万亿|亿|万|千)?"
        rf"(?P<unit>{_alternation(units)}){cents}{after_q}"
    )
    return re.compile(pattern)


def _is_cn(num: str) -> bool:
    return num[0] in DIGIT_VALUES or num[0] in MAGNITUDES


def extract_metrics(
    text: str,
    *,
    sections: Sequence[Any] | None = None,
    year: int | None = None,
    doc_type: str | None = None,
) -> list[Metric]:
    """Every reported quantity in normalized *text*, sorted by ``start``, never overlapping.

    Each metric also carries what it measures (``indicator``), whether it is a target or an
    outcome (``stance``) and the year(s) it refers to (``period``, ``period_end``): see
    :mod:`corpus_tools.indicators`. *sections* (the document's section tree, as
    :func:`~corpus_tools.split_sections` returns it), *year* (the year the document is for)
    and *doc_type* tell the report's parts and years; without them stance and period are read
    from the words around each figure alone.

    >>> ms = extract_metrics("征集作品70余篇，近百名学生参加")
    >>> [(m.raw, m.value, m.unit, m.qualifier) for m in ms]
    [('70余篇', 70.0, '篇', 'approx'), ('近百名', 100.0, '人', 'approx')]
    >>> m = extract_metrics("刑事警情同比下降0.8%。")[0]
    >>> m.raw, m.value, m.category, m.direction, m.basis
    ('0.8%', 0.8, 'percent', 'down', '同比')
    >>> [(m.raw, m.value, m.unit) for m in extract_metrics("投入12万元，清理2.6平方公里")]
    [('12万元', 120000.0, '元'), ('2.6平方公里', 2600000.0, '平方米')]
    >>> [(m.raw, m.masked, m.value) for m in extract_metrics("发放宣传单20□余份")]
    [('20□余份', True, None)]
    >>> extract_metrics("2022年6月24日，第一届“三个代表”学习会在乌山路81号召开，一名同志发言")
    []
    """
    require_str(text)
    rules = metric_rules()
    out: list[_Found] = []
    last_end = 0
    sent_cache: tuple[int, int, str] = (-1, -1, "")
    search = rules.scan.search
    pos = 0
    while (m := search(text, pos)) is not None:
        pos = m.end() if m.end() > m.start() else m.start() + 1
        try:
            found = _read(text, m, rules, last_end)
        except (ValueError, OverflowError, ArithmeticError) as exc:  # pragma: no cover
            log.debug("metric candidate %r skipped: %s", m.group(), exc)
            continue
        if found is None:
            comma = text.find("，", m.start(), m.end())
            if comma >= 0:
                pos = comma + 1  # 3，500户: read the second number on its own
            continue
        start, end, value, value_max, unit, qualifier, masked = found
        prev = out[-1] if out else None
        if (
            prev is not None
            and value is not None
            and value_max is None
            and prev.value is not None
            and prev.value_max is None
            and prev.unit == unit.unit
            and prev.category == unit.category
            and text[prev.end : start] in _RANGE_SEPARATORS
            and prev.value < value
            and prev.sentence.find(text[prev.start : end]) >= 0
        ):  # 6.5%-7%, 300元至500元: one range written with the unit twice
            prev.raw = text[prev.start : end]
            prev.value_max = value
            if prev.qualifier == "exact":
                prev.qualifier = qualifier
            prev.end = end
            last_end = end
            continue
        direction, basis = _direction(text, start, rules, out)
        lo, hi, sentence = sent_cache
        if not (lo <= start and end <= hi):
            lo, hi = _sentence_bounds(text, start, end)
            sentence = text[lo:hi].strip()
            sent_cache = (lo, hi, sentence)
        out.append(
            _Found(text[start:end], value, value_max, unit.unit, unit.category, qualifier,
                   direction, basis, masked, start, end, sentence)
        )  # fmt: skip
        last_end = end
    if not out:
        return []
    from .indicators import IndicatorContext, annotations

    ctx = IndicatorContext(text, sections=sections, year=year, doc_type=doc_type)
    return [
        Metric(f.raw, f.value, f.value_max, f.unit, f.category, f.qualifier, f.direction,
               f.basis, f.masked, f.start, f.end, f.sentence, *a)
        for f, a in zip(out, annotations(ctx, out), strict=True)
    ]  # fmt: skip


class _Found:
    """A metric while the scan is still going (mutable: a range may still grow)."""

    __slots__ = ("basis", "category", "direction", "end", "masked", "qualifier", "raw",
                 "sentence", "start", "unit", "value", "value_max")  # fmt: skip

    def __init__(self, raw: str, value: float | None, value_max: float | None, unit: str,
                 category: str, qualifier: str, direction: str | None, basis: str | None,
                 masked: bool, start: int, end: int, sentence: str) -> None:  # fmt: skip
        self.raw, self.value, self.value_max, self.unit = raw, value, value_max, unit
        self.category, self.qualifier, self.direction, self.basis = (
            category, qualifier, direction, basis)  # fmt: skip
        self.masked, self.start, self.end, self.sentence = masked, start, end, sentence


def _read(
    text: str, m: re.Match[str], rules: MetricRules, last_end: int
) -> tuple[int, int, float | None, float | None, _Unit, str, bool] | None:
    """Validate one scanner match; return its fields or ``None`` when it is no metric."""
    quals: list[str] = []
    start, end = m.span()
    num_start = start
    pct, pn, pq, num, num2, q1, mag2, unit_w, q2, cents = m.group(
        "pct", "pn", "pq", "num", "num2", "q1", "mag2", "unit", "q2", "cents"
    )
    value: Decimal | None = None
    value_max: Decimal | None = None
    if pct is not None:
        num = pn
        unit = rules.units["%"]
        if pq:
            quals.append(rules.qualifier_of[pq])
        read = _numeral(num, quals)
        if read is None:
            return None
        value, value_max = read
        masked = False
        is_cn = True
        num_start = m.start("pn")
    else:
        unit = rules.units[unit_w]
        is_cn = _is_cn(num)
        if cents is not None:
            unit = rules.units["元"]  # 十块三毛: 块 is money here
        if (unit.script == "digits" and is_cn) or (unit.script == "cn" and not is_cn):
            return None
        if "，" in num and not (
            "." in num or num.count("，") > 1 or unit.category == "money"
        ):
            return None  # 3，500户: a list of two numbers, not a thousands separator
        if q2:
            quals.append(rules.qualifier_of[q2])
        elif unit.not_before and text.startswith(unit.not_before, m.end("unit")):
            return None
        if q1:
            quals.append(rules.qualifier_of[q1])
        if unit.written == "余人":
            quals.append("approx")
        masked = _MASK in num or (num2 is not None and _MASK in num2)
        if not masked:
            if num.isascii() and _PLAIN_NUMBER.fullmatch(num):
                # the common case: 2196, 5.3 (a float is exact when nothing multiplies it)
                plain = num2 is None and not mag2 and cents is None and unit.factor == 1.0
                value = float(num) if plain else Decimal(num)  # type: ignore[assignment]
            else:
                read = _numeral(num, quals)
                if read is None:
                    return None
                value, value_max = read
            if num2 is not None:
                value_max = parse_decimal(num2)
                if value_max is None:
                    return None
                scale = _range_scale(num, num2)
                if scale > 1 and value * scale <= value_max:
                    value *= scale  # 20-38万元, 一百二十到一百五十万元: both ends in 万
            if mag2:
                for c in mag2:
                    value *= _EXACT_MAG[c]
                if value_max is not None:
                    for c in mag2:
                        value_max *= _EXACT_MAG[c]
            if cents is not None:
                value += _cents(cents)
            if not is_cn and num[0] == "0" and len(num) > 1 and num[1].isdigit():
                return None  # 0571...: a code or phone number, not a count
            if not is_cn and len(num) >= 12 and num.isdigit():
                return None  # ids and phone numbers
            if is_cn and not _cn_count_ok(num, float(value)):
                return None
    # What stands before the number.
    if num_start > 0:
        ch = text[num_start - 1]
        if ch.isascii() and ch.isalpha():
            return None  # PM2.5, G20, B2栋
    if text.endswith(rules.prefixes, 0, num_start):
        return None
    for o, c in rules.wraps:
        if text.endswith(o, 0, start) and text.startswith(c, end):
            return None
    pre = rules.before.search(text, max(last_end, start - 4), start)
    if pre is not None:
        word = pre.group()
        bad = rules.before_not_after.get(word, ())
        if not (bad and text.endswith(bad, max(0, pre.start() - 2), pre.start())):
            quals.append(rules.qualifier_of[word])
            start = pre.start()
    elif num[0] in MAGNITUDES and start - 1 >= last_end:
        for w in rules.before_magnitude:
            if text.endswith(w, 0, start):
                quals.append(rules.qualifier_of[w])
                start -= len(w)
                break
    if (
        pct is None
        and not masked
        and is_cn
        and all(c in _BARE_MAGNITUDES for c in num)
        and not quals
    ):
        return None  # 万元户, 千家万户, 亿元以上项目, 每万人口: a bare 万 is no count
    qualifier = next((q for q in _QUALIFIERS if q in quals), "exact")
    if value is not None and unit.factor != 1.0:
        value *= unit.exact
        value_max = value_max * unit.exact if value_max is not None else None
    if value is not None and (value >= MAX_VALUE or (value_max or 0) >= MAX_VALUE):
        return None  # 400 nines before 亿元: no number a report states
    if qualifier in ("at_least", "at_most") and text.startswith(rules.thresholds, end):
        return None  # 亿元以上项目, 70岁以上老人: a threshold describing a group
    if is_cn and _in_phrase(text, start, end, rules):
        return None
    if start < last_end:
        return None
    if qualifier == "vague":
        value = value_max = None  # 几十万, 数十亿: an order of magnitude, no value
    return (
        start,
        end,
        None if value is None else float(value),
        None if value_max is None else float(value_max),
        unit,
        qualifier,
        masked,
    )


def _numeral(num: str, quals: list[str]) -> tuple[Decimal, Decimal | None] | None:
    """The value (and the high end of 三五百) of a number; ``approx`` added to *quals*."""
    read = read_numeral(num)
    if read is None:
        return None
    if read.approx:
        quals.append("approx")
    return read.value, read.value_max


_EXACT_MAG = {c: Decimal(v) for c, v in MAGNITUDES.items()}
_PLAIN_NUMBER = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")
_CENT_DIGIT = "0-9" + "".join(DIGIT_VALUES)


def _cents(cents: str) -> Decimal:
    """``1角1分`` / ``三毛`` / ``零5分`` as a fraction of a yuan."""
    out = Decimal(0)
    digits = [c for c in cents if c not in "角毛分零"]
    places = [c for c in cents if c in "角毛分"]
    for d, p in zip(digits, places, strict=True):
        v = int(d) if d.isdigit() else DIGIT_VALUES[d]
        out += Decimal(v) / (10 if p in "角毛" else 100)
    return out


def _range_scale(num: str, num2: str) -> Decimal:
    """The magnitude written only after the second end of a range, to apply to the first.

    ``20-38万``: 万; ``一百二十到一百五十万``: 万 (the 十 belongs to 一百五十); ``3-5千``: 千.
    None when the first end carries a magnitude as large (``5万-8万``, ``一百二十到一百五十``).
    """
    scale = Decimal(1)
    i = len(num2)
    while i > 0 and num2[i - 1] in BIG_UNITS:
        i -= 1
        scale *= _EXACT_MAG[num2[i]]
    if i == len(num2):
        if num2[-1] not in MAGNITUDES or not (num2[0].isdigit() or len(num2) == 2):
            return scale  # 一百五十: a 十 inside the number is no magnitude of the range
        scale = _EXACT_MAG[num2[-1]]
    smallest = min(MAGNITUDES[c] for c in num2[i:] or num2[-1])
    if any(MAGNITUDES.get(c, 0) >= smallest for c in num):
        return Decimal(1)
    return scale


def _cn_count_ok(num: str, value: float) -> bool:
    """A Chinese-numeral count is 2 or more, or carries 十/百/千/万/亿 (METRICS.md)."""
    if not _MAGNITUDE_SET.isdisjoint(num):
        return True
    if len(num) > 1:
        return False  # 一九五七, 三三: digit strings are years or codes, not counts
    return value >= 2 and num not in ("二", "贰", "貳")  # 二期, 二次: ordinals; the count is 两


def _in_phrase(text: str, start: int, end: int, rules: MetricRules) -> bool:
    """The number stands in a fixed phrase or a short quoted slogan (三个代表, “五个一”)."""
    if rules.phrases is not None:
        reach = rules.phrase_reach
        for p in rules.phrases.finditer(text, max(0, start - reach), end + reach):
            if p.start() < end and p.end() > start:
                return True
    o = text.rfind("“", max(0, start - 8), start)
    if o >= 0 and text.find("”", o, start) < 0:
        c = text.find("”", end, end + 8)
        if c >= 0 and text.find("“", end, c) < 0:
            return True
    return False


_LAST_BOUNDARY = re.compile(r".*[，,。；;！!？?：:]", re.S)


def _direction(
    text: str, start: int, rules: MetricRules, out: list[_Found]
) -> tuple[str | None, str | None]:
    """Change direction and comparison basis from the clause before the metric."""
    ws = max(0, start - _CLAUSE_WINDOW)
    b = _LAST_BOUNDARY.match(text, ws, start)
    cs = b.end() if b else ws
    nl = text.rfind("\n", cs, start)
    if nl >= 0 and is_sentence_break(text, nl):
        cs = nl + 1
    last = None
    for d in rules.directions.finditer(text, cs, start):
        last = d
    if last is None:
        return None, None
    direction = rules.direction_of[last.group()]
    if direction == "none":
        return None, None
    prev = out[-1] if out else None
    if prev is not None and prev.end > last.end():
        # Another metric stands between the word and this one: inherit along a list only.
        if prev.direction == direction and text[prev.end : start] in _LIST_JOINERS:
            return prev.direction, prev.basis
        return None, None
    if len(last.group()) == 1:
        if last.end() != start and text[last.end() : start] != "了":
            return None, None
    elif rules.direction_gap.fullmatch(text, last.end(), start) is None:
        return None, None
    basis = rules.bases.search(text, cs, last.start())
    return direction, basis.group() if basis else None


_SENTENCE_LAST = re.compile(r".*[。！？；]", re.S)
_SENTENCE_NEXT = re.compile(r"[。！？；]")
#: What opens a line that starts a new sentence: a list or section marker, or nothing (a blank line).
_LINE_OPENER = re.compile(
    r"[ \t\u3000]*(?:[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十0-9]{1,3}[）)]"
    r"|[0-9]{1,3}[.、．](?![0-9])|第[一二三四五六七八九十0-9]+[章节部分条]|[一二三四五六七八九十]+是"
    r"|附件|[-•·●■◆▲]|\n|\Z)"
)
_BREAK_BEFORE_OPENER = re.compile(r"\n(?=" + _LINE_OPENER.pattern + ")")
_HEADING = re.compile(r"[ \t\u3000]*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|第.{1,3}[章节部分])")
_LINE_REACH = 200
_BLANK_OR_HEADING = (
    r"(?:[ \t\u3000\r]*\n|(?=" + _HEADING.pattern + r")[^\n，。；：,;:]{1,%d}\n)" % _LINE_REACH
)
_BLANK_OR_HEADING_NEXT = re.compile(r"\n(?=" + _BLANK_OR_HEADING + ")")
_BLANK_OR_HEADING_FIRST = re.compile(_BLANK_OR_HEADING)


def is_sentence_break(text: str, nl: int) -> bool:
    r"""Whether the line break at ``text[nl]`` ends a sentence rather than wrapping one.

    A sentence runs to 。！？；, across hard line breaks (``主要预期目标⏎是：…`` is one
    sentence). A break still ends it before a blank line or a line opening with a list or
    section marker, and after a blank line or a numbered heading without punctuation.

    >>> t = "主要预期目标\n是：增长5%"
    >>> is_sentence_break(t, t.index("\n"))
    False
    >>> t = "一、基本情况\n社区现有居民2196户"
    >>> is_sentence_break(t, t.index("\n"))
    True
    """
    if _LINE_OPENER.match(text, nl + 1):
        return True
    ls = text.rfind("\n", max(0, nl - _LINE_REACH), nl)
    if ls < 0 and nl > _LINE_REACH:
        return False  # a long line: no blank line, no heading
    prev = text[ls + 1 : nl]
    if not prev.strip():
        return True
    return _HEADING.match(prev) is not None and not any(c in prev for c in "，。；：,;:")


def sentence_breaks(text: str) -> list[int]:
    r"""Offsets of every line break in *text* that ends a sentence (:func:`is_sentence_break`),
    found by three regular-expression scans rather than a check per line.

    >>> sentence_breaks("一、概况\n主要目标\n是：增长5%\n\n二、措施")
    [4, 16, 17]
    """
    found = {m.start() for m in _BREAK_BEFORE_OPENER.finditer(text)}
    # after a blank line, or a numbered heading line without punctuation: the line break
    # closing such a line (the first line of the text counts too)
    heads = [m.start() + 1 for m in _BLANK_OR_HEADING_NEXT.finditer(text)]
    if _BLANK_OR_HEADING_FIRST.match(text):
        heads.append(0)
    for ls in heads:
        nl = text.find("\n", ls)
        if nl >= 0:
            found.add(nl)
    return sorted(found)


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the sentence around ``text[start:end]`` (at most a window either side)."""
    lo_limit = max(0, start - _SENTENCE_WINDOW)
    b = _SENTENCE_LAST.match(text, lo_limit, start)
    lo = b.end() if b else lo_limit
    nl = text.rfind("\n", lo, start)
    while nl >= 0:
        if is_sentence_break(text, nl):
            lo = nl + 1
            break
        nl = text.rfind("\n", lo, nl)
    f = _SENTENCE_NEXT.search(text, end, end + _SENTENCE_WINDOW)
    hi = f.end() if f is not None else min(len(text), end + _SENTENCE_WINDOW)
    nl = text.find("\n", end, hi)
    while nl >= 0:
        if is_sentence_break(text, nl):
            return lo, nl
        nl = text.find("\n", nl + 1, hi)
    return lo, hi
