"""Tests of corpus_tools.numerals: the written forms of numbers, exactly, and a differential
property test against cn2an (an independent, well-kept converter)."""

from __future__ import annotations

from decimal import Decimal

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.metrics import extract_metrics
from corpus_tools.numerals import parse_decimal, parse_number, read_numeral


@pytest.mark.parametrize(
    ("raw", "value"),
    [("一千零十一", 1011), ("两千零十", 2010), ("一万零十五", 10015), ("一千零五", 1005),
     ("十万零一十", 100010), ("一万零五百", 10500), ("三百五", 350), ("两万五", 25000),
     ("二〇二六", 2026), ("零", 0), ("零点五", Decimal("0.5")), ("三点五万", 35000),
     ("十二点五亿", 1250000000), ("11.37万亿", 11370000000000), ("2.6万", 26000),
     ("82，225.00", 82225), ("肆佰叁拾萬", 4300000), ("一万亿", 10**12),
     ("五千万亿", 5 * 10**15)],
)  # fmt: skip
def test_exact_values(raw: str, value: int | Decimal) -> None:
    assert parse_decimal(raw) == value
    assert parse_number(raw) == float(value)


def test_float_products_are_exact() -> None:
    # 11.37 * 1e12 in floats is 11369999999999.998
    assert parse_number("11.37万亿") == 11370000000000.0
    m = extract_metrics("全年财政收入11.37万亿元。")[0]
    assert m.value == 11370000000000.0


@pytest.mark.parametrize("raw", ["9" * 400, "9" * 400 + "亿", "十四五", "点", "五点", ""])
def test_rejected(raw: str) -> None:
    assert parse_number(raw) is None


@pytest.mark.parametrize(
    ("raw", "lo", "hi"),
    [("三五百", 300, 500), ("四五千", 4000, 5000), ("一百二三十", 120, 130), ("十七八", 17, 18),
     ("两三万", 20000, 30000), ("七八十万", 700000, 800000)],
)  # fmt: skip
def test_approximate_ranges(raw: str, lo: int, hi: int) -> None:
    n = read_numeral(raw)
    assert n is not None and n.approx
    assert (n.value, n.value_max) == (lo, hi)
    assert parse_number(raw) is None  # a range is no single number


@pytest.mark.parametrize("raw", ["一九五七", "三十五", "二十", "五三"])
def test_not_approximate_ranges(raw: str) -> None:
    n = read_numeral(raw)
    assert n is not None and not n.approx and n.value_max is None


@pytest.mark.parametrize(
    ("text", "raw", "value", "value_max", "unit", "qualifier"),
    [("九成群体", None, None, None, None, None),
     ("满意率达9成。", "9成", 90, None, "%", "exact"),
     ("七成以上的村", "七成以上", 70, None, "%", "at_least"),
     ("投资一百二十到一百五十万元", "一百二十到一百五十万元", 1.2e6, 1.5e6, "元", "exact"),
     ("增长4.5-5%", "4.5-5%", 4.5, 5, "%", "exact"),
     ("来了三五百人", "三五百人", 300, 500, "人", "approx"),
     ("筹资四五千元", "四五千元", 4000, 5000, "元", "approx"),
     ("吸引几十万人", "几十万人", None, None, "人", "vague"),
     ("投入数十亿元", "数十亿元", None, None, "元", "vague"),
     ("单价123元1角1分", "123元1角1分", 123.11, None, "元", "exact"),
     ("车费十块三毛", "十块三毛", 10.3, None, "元", "exact"),
     ("人民币肆佰叁拾万圆整", "肆佰叁拾万圆整", 4.3e6, None, "元", "exact"),
     ("合计82，225.00元", "82，225.00元", 82225, None, "元", "exact"),
     ("共5元零5分", "5元零5分", 5.05, None, "元", "exact")],
)  # fmt: skip
def test_metric_forms(text, raw, value, value_max, unit, qualifier) -> None:
    ms = extract_metrics(text)
    if raw is None:
        assert ms == []
        return
    assert len(ms) == 1, ms
    m = ms[0]
    assert (m.raw, m.unit, m.qualifier) == (raw, unit, qualifier)
    assert m.value == (None if value is None else pytest.approx(value))
    assert m.value_max == (None if value_max is None else pytest.approx(value_max))


def test_absurd_values_rejected() -> None:
    assert extract_metrics("9" * 400 + "亿元") == []
    assert all(m.value is None or m.value < 1e18 for m in extract_metrics("9" * 30 + "万亿元"))


def test_fullwidth_comma_list_is_two_numbers() -> None:
    # a Chinese comma between numbers is a list unless the number is money or has decimals
    assert [m.raw for m in extract_metrics("分别为3，500户")] == ["500户"]


# ---------------------------------------------------------------- differential (cn2an)


@settings(max_examples=1500, deadline=None)
@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["low", "up"]))
def test_property_cn2an_integers(n: int, mode: str) -> None:
    written = cn2an.an2cn(n, mode)  # 一千零一十一 / 壹仟零壹拾壹
    assert parse_decimal(written) == n, written
    assert parse_number(written) == float(n)


@settings(max_examples=600, deadline=None)
@given(st.integers(min_value=0, max_value=10**8), st.sampled_from(["low", "up"]))
def test_property_cn2an_roundtrip(n: int, mode: str) -> None:
    # cn2an reads our reading of its own output back to the same number
    written = cn2an.an2cn(n, mode)
    assert cn2an.cn2an(written, "strict") == parse_decimal(written)


@settings(max_examples=600, deadline=None)
@given(
    st.decimals(min_value=0, max_value=99999, places=4, allow_nan=False, allow_infinity=False),
    st.sampled_from([("万", 10**4), ("亿", 10**8), ("万亿", 10**12)]),
)
def test_property_decimals_with_magnitudes(d: Decimal, mag: tuple[str, int]) -> None:
    word, factor = mag
    assert parse_decimal(f"{d}{word}") == d * factor
    written = cn2an.an2cn(str(d), "low") + word  # 十二点五 + 亿
    assert parse_decimal(written) == d * factor, written
