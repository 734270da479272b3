"""Reading the number inside a metric candidate: ASCII, full-width, Chinese and financial numerals.

:func:`parse_number` reads one numeral string as it stands inside a metric (``2.6万``,
``1万6千``, ``八百二十七亿一千万``, ``壹佰贰拾万``, ``1,512,000``). It is applied only to the
short span the metric scanner found, never to a whole document (cn2an over a document turns
``一、`` into ``1、``). The values of the numeral characters are the Chinese number system
itself, not a tunable rule, so they live here rather than in a resource file.

Arithmetic is exact: :func:`parse_decimal` computes in :class:`~decimal.Decimal` (``11.37万亿``
is 11370000000000, not the float product 11369999999999.998) and :func:`parse_number`
converts the exact result to a float once, at the end. Rules of the written number:

- ``零`` after a magnitude holds a place and implies ``一`` before a following ``十``:
  ``一千零十一`` = 1011, ``两千零十`` = 2010, ``一万零十五`` = 10015.
- A trailing digit after ``百``/``千``/``万`` is abbreviated: ``三百五`` = 350, ``两万五`` = 25000.
- Two adjacent digits in rising order (at most two apart) at the head of the number or right
  after a magnitude, and followed by a magnitude or the end, are an approximate range
  (:func:`read_numeral`): ``三五百`` = 300–500, ``四五千`` = 4000–5000, ``一百二三十`` = 120–130,
  ``十七八`` = 17–18. ``一九五七`` stays a digit string (a year), and :func:`parse_number`
  returns ``None`` for a range.
- A value of 10^18 or more is rejected as no number (a run of 400 nines before ``亿元``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "BIG_UNITS",
    "DIGIT_VALUES",
    "MAGNITUDES",
    "MAX_VALUE",
    "SMALL_UNITS",
    "Numeral",
    "parse_decimal",
    "parse_number",
    "read_numeral",
]

#: Chinese digits (common, financial and traditional forms) → value.
DIGIT_VALUES: dict[str, int] = {
    "零": 0, "\u3007": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "貳": 2, "兩": 2,
    "三": 3, "叁": 3, "參": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "陸": 6,
    "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
#: 十/百/千 (and financial forms): multiply the digit before them within a 万-section.
SMALL_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
#: 万/亿 (and traditional forms): close a section.
BIG_UNITS: dict[str, int] = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
#: Every magnitude character.
MAGNITUDES: dict[str, int] = {**SMALL_UNITS, **BIG_UNITS}
#: Values at or above this are no number a report states (ids, runs of digits).
MAX_VALUE = Decimal(10) ** 18

_FULLWIDTH = str.maketrans(
    "".join(chr(0xFF10 + i) for i in range(10)) + "\uff0e\uff0c \u00a0\u2009\u202f",
    "0123456789.,,,,,",
)
_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|.", re.S)
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DEC_MAG = {c: Decimal(v) for c, v in MAGNITUDES.items()}
_ZERO, _ONE, _TEN = Decimal(0), Decimal(1), Decimal(10)


@dataclass(frozen=True, slots=True)
class Numeral:
    """A numeral as read: an exact value, or an approximate range ``value``–``value_max``."""

    value: Decimal
    value_max: Decimal | None = None
    approx: bool = False


def _ascii_value(tok: str) -> Decimal | None:
    if "," in tok:
        head, *groups = tok.split(",")
        if not head or len(head) > 3 or any(len(g) != 3 or "." in g for g in groups[:-1]):
            return None
        if "." in groups[-1]:
            last_int = groups[-1].split(".")[0]
            if len(last_int) != 3:
                return None
        elif len(groups[-1]) != 3:
            return None
        tok = tok.replace(",", "")
    if tok.count(".") > 1:
        return None
    return Decimal(tok)


def parse_number(s: str) -> float | None:
    """Value of a numeral string as it stands in a metric, or ``None`` if it is not a number.

    >>> parse_number("2.6万")
    26000.0
    >>> parse_number("1万6千")
    16000.0
    >>> parse_number("八百二十七亿一千万")
    82710000000.0
    >>> parse_number("壹佰贰拾万")
    1200000.0
    >>> parse_number("11.37万亿")
    11370000000000.0
    >>> parse_number("六十八"), parse_number("两万五"), parse_number("一百零五")
    (68.0, 25000.0, 105.0)
    >>> parse_number("一千零十一"), parse_number("两千零十"), parse_number("一万零十五")
    (1011.0, 2010.0, 10015.0)
    >>> parse_number("1,512,000"), parse_number("\uff19\uff0e\uff11"), parse_number("82，225.00")
    (1512000.0, 9.1, 82225.0)
    >>> parse_number("0.9.1") is None, parse_number("十四五") is None, parse_number("9" * 400) is None
    (True, True, True)
    """
    d = parse_decimal(s)
    return None if d is None else float(d)


def parse_decimal(s: str) -> Decimal | None:
    """The exact value of one numeral string, or ``None`` (see :func:`parse_number`).

    >>> parse_decimal("11.37万亿"), parse_decimal("三点五万")
    (Decimal('11370000000000'), Decimal('35000'))
    """
    if not s.isascii() and _approx_pair(s) is not None:
        return None  # 三五百: an approximate range (read_numeral), no single number
    return _exact(s)


def _exact(s: str) -> Decimal | None:
    try:
        d = _parse(s)
    except InvalidOperation:  # pragma: no cover - guarded by the token shapes
        return None
    if d is None or d >= MAX_VALUE:
        return None
    return d.to_integral_value() if d == d.to_integral_value() else d


@functools.lru_cache(maxsize=8192)
def read_numeral(s: str) -> Numeral | None:
    """A numeral with its approximate range form (``三五百``, ``四五千``), or ``None``.

    Cached: the same short numerals (一, 两, 十) recur on every page.

    >>> n = read_numeral("三五百")
    >>> (int(n.value), int(n.value_max), n.approx)
    (300, 500, True)
    >>> n = read_numeral("一百二三十")
    >>> (int(n.value), int(n.value_max))
    (120, 130)
    >>> read_numeral("一九五七").value
    Decimal('1957')
    """
    pair = _approx_pair(s)
    if pair is not None:
        i, d1, d2 = pair
        lo = parse_decimal(s[:i] + d1 + s[i + 2 :])
        hi = parse_decimal(s[:i] + d2 + s[i + 2 :])
        if lo is not None and hi is not None and lo < hi:
            return Numeral(lo, hi, True)
    d = _exact(s)
    return None if d is None else Numeral(d)


def _approx_pair(s: str) -> tuple[int, str, str] | None:
    """Where two adjacent rising digits stand for "three or five" (三五百), if anywhere."""
    found = None
    for i in range(len(s) - 1):
        a, b = s[i], s[i + 1]
        if a in DIGIT_VALUES and b in DIGIT_VALUES:
            if found is not None:
                return None  # more than one pair: a digit string (一九五七)
            da, db = DIGIT_VALUES[a], DIGIT_VALUES[b]
            if (
                0 < da < db <= da + 2
                and (i == 0 or s[i - 1] in MAGNITUDES)
                and (i + 2 == len(s) or s[i + 2] in MAGNITUDES)
            ):
                found = (i, a, b)
            else:
                return None
    return found


def _parse(s: str) -> Decimal | None:
    if not s:
        return None
    head = s.rstrip("十百千万亿")
    if head and head.isascii() and _PLAIN.fullmatch(head):
        plain = Decimal(head)  # the common case: 2196, 0.8, 928亿, 5.2万亿
        for c in s[len(head) :]:
            plain *= _DEC_MAG[c]
        return plain
    s = s.translate(_FULLWIDTH)
    if "点" in s:
        whole, _, frac = s.partition("点")
        mags = frac[len(frac.rstrip("十百千万亿")) :]
        frac = frac[: len(frac) - len(mags)]
        if not frac or any(c not in DIGIT_VALUES for c in frac):
            return None
        head_value = _parse(whole) if whole else _ZERO
        if head_value is None:
            return None
        value = head_value + Decimal("0." + "".join(str(DIGIT_VALUES[c]) for c in frac))
        for c in mags:
            value *= _DEC_MAG[c]
        return value
    total = _ZERO
    section = _ZERO
    number: Decimal | None = None
    last_unit = 0
    zero_seen = False  # a 零 holds a place since the last magnitude
    prev_cn_digit = False
    for tok in _TOKEN.findall(s):
        c = tok[0]
        if "0" <= c <= "9":
            if number is not None:
                return None
            v = _ascii_value(tok)
            if v is None:
                return None
            number = v
            prev_cn_digit = False
        elif c in DIGIT_VALUES:
            d = DIGIT_VALUES[c]
            if number is not None and prev_cn_digit:
                if last_unit and number != 0:
                    return None  # 十四五: a plan's name, not a number
                number = number * _TEN + d  # 一九五七, 二〇二六: digit by digit
            elif number is not None:
                return None
            elif d == 0:
                zero_seen = True  # 一千零十一: a place holder, not yet a digit
                if not last_unit:
                    number, prev_cn_digit = _ZERO, True  # 〇 or 零 heading a digit string
                continue
            else:
                number = Decimal(d)
            prev_cn_digit = True
        elif c in SMALL_UNITS:
            u = SMALL_UNITS[c]
            section += (_ONE if number is None else number) * u
            number, last_unit, zero_seen, prev_cn_digit = None, u, False, False
        elif c in BIG_UNITS:
            u = BIG_UNITS[c]
            acc = section + (number or _ZERO)
            if acc == 0:
                acc = _ONE
            if u == 100_000_000:
                total = (total + acc) * u
                section = _ZERO
            else:
                section = acc * u
            number, last_unit, zero_seen, prev_cn_digit = None, u, False, False
        else:
            return None
    if number is not None:
        if last_unit >= 100 and not zero_seen and number < 10 and number == int(number):
            number *= Decimal(last_unit) / _TEN  # 三百五 = 350, 两万五 = 25000
        section += number
    return total + section
