"""Reading the number inside a metric candidate: ASCII, full-width, Chinese and financial numerals.

:func:`parse_number` reads one numeral string as it stands inside a metric (``2.6万``,
``1万6千``, ``八百二十七亿一千万``, ``壹佰贰拾万``, ``1,512,000``). It is applied only to the
short span the metric scanner found, never to a whole document (cn2an over a document turns
``一、`` into ``1、``). The values of the numeral characters are the Chinese number system
itself, not a tunable rule, so they live here rather than in a resource file.
"""

from __future__ import annotations

import re

__all__ = ["BIG_UNITS", "DIGIT_VALUES", "MAGNITUDES", "SMALL_UNITS", "parse_number"]

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

_FULLWIDTH = str.maketrans(
    "".join(chr(0xFF10 + i) for i in range(10)) + "\uff0e\uff0c \u00a0\u2009\u202f",
    "0123456789.,,,,,",
)
_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|.", re.S)


def _ascii_value(tok: str) -> float | None:
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
    return float(tok)


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
    >>> parse_number("11.7万亿")
    11700000000000.0
    >>> parse_number("六十八"), parse_number("两万五"), parse_number("一百零五")
    (68.0, 25000.0, 105.0)
    >>> parse_number("1,512,000"), parse_number("\uff19\uff0e\uff11")
    (1512000.0, 9.1)
    >>> parse_number("0.9.1") is None, parse_number("十四五") is None
    (True, True)
    """
    if not s:
        return None
    head = s.rstrip("十百千万亿")
    if head and head.isascii() and head[0] != "." and head[-1] != ".":
        try:
            plain = float(head)  # the common case: 2196, 0.8, 928亿, 5.2万亿
        except ValueError:
            pass
        else:
            for c in s[len(head) :]:
                plain *= MAGNITUDES[c]
            return plain
    s = s.translate(_FULLWIDTH)
    if "点" in s:
        whole, _, frac = s.partition("点")
        if not frac or any(c not in DIGIT_VALUES for c in frac):
            return None
        head_value = parse_number(whole) if whole else 0.0
        if head_value is None:
            return None
        return head_value + float("0." + "".join(str(DIGIT_VALUES[c]) for c in frac))
    total = 0.0
    section = 0.0
    number: float | None = None
    last_unit = 0
    zero_seen = False
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
            if d == 0:
                zero_seen = True
            if number is not None and prev_cn_digit:
                if last_unit and number != 0:
                    return None  # 十四五: a plan's name, not a number
                number = number * 10 + d  # 一九五七: digit by digit; 一万零五
            elif number is not None:
                return None
            else:
                number = float(d)
            prev_cn_digit = True
        elif c in SMALL_UNITS:
            u = SMALL_UNITS[c]
            section += (1.0 if number is None else number) * u
            number, last_unit, zero_seen, prev_cn_digit = None, u, False, False
        elif c in BIG_UNITS:
            u = BIG_UNITS[c]
            acc = section + (number or 0.0)
            if acc == 0:
                acc = 1.0
            if u == 100_000_000:
                total = (total + acc) * u
                section = 0.0
            else:
                section = acc * u
            number, last_unit, zero_seen, prev_cn_digit = None, u, False, False
        else:
            return None
    if number is not None:
        if last_unit >= 100 and not zero_seen and number < 10 and number == int(number):
            number *= last_unit / 10  # 三百五 = 350, 两万五 = 25000
        section += number
    return total + section
