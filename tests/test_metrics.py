"""Tests of corpus_tools.metrics: example table, properties, gold floors, rule-file errors."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.errors import InputError
from corpus_tools.metrics import extract_metrics, metric_rules
from corpus_tools.numerals import parse_number

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases" / "metrics.yaml").read_text(encoding="utf-8"))
GOLD_DOCS = yaml.safe_load((HERE / "gold" / "metrics" / "gold.yaml").read_text(encoding="utf-8"))
GOLD_ANN = yaml.safe_load(
    (HERE / "gold" / "metrics" / "annotations.yaml").read_text(encoding="utf-8")
)

#: Pinned floors: a change that lowers either fails.
PRECISION_FLOOR = 0.97
RECALL_FLOOR = 0.97


def _same(field: str, got: object, want: object) -> bool:
    if field in ("value", "value_max") and want is not None and got is not None:
        return math.isclose(float(got), float(want), rel_tol=1e-6)  # type: ignore[arg-type]
    if field == "raw":
        return str(got) == str(want)
    return got == want


@pytest.mark.parametrize("case", CASES, ids=[f"{c['phenomenon']}:{c['id']}" for c in CASES])
def test_example_table(case: dict) -> None:
    text = case["input"]
    got = extract_metrics(text)
    want = case["expected"]
    assert [m.raw for m in got] == [str(w["raw"]) for w in want], case.get("note", "")
    for m, w in zip(got, want, strict=True):
        for field, value in w.items():
            assert _same(field, getattr(m, field), value), (field, m)


def test_case_ids_unique_and_phenomena_covered() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    kinds = Counter(c["phenomenon"] for c in CASES)
    for kind in ("numbers", "units", "qualifiers", "direction", "masked", "exclusions"):
        assert kinds[kind] >= 3, kind
        negatives = [
            c
            for c in CASES
            if c["phenomenon"] == kind and (c["id"].startswith("neg-") or kind == "exclusions")
        ]
        assert negatives, f"no negative case for {kind}"


def test_fields_and_sentence() -> None:
    text = "一、基本情况\n社区现有居民2196户、6405人。刑事警情同比下降0.8%！"
    ms = extract_metrics(text)
    assert [m.raw for m in ms] == ["2196户", "6405人", "0.8%"]
    assert ms[0].sentence == "社区现有居民2196户、6405人。"
    assert ms[2].sentence == "刑事警情同比下降0.8%！"
    assert all(text[m.start : m.end] == m.raw for m in ms)
    assert ms[0].value_max is None and ms[0].masked is False


def test_bytes_rejected() -> None:
    with pytest.raises(InputError):
        extract_metrics("100户".encode())  # type: ignore[arg-type]


def test_rules_are_data() -> None:
    rules = metric_rules()
    assert rules.units["平方公里"].factor == 1e6
    assert rules.units["亩"].unit == "平方米"
    assert rules.qualifier_of["以上"] == "at_least"
    assert rules.direction_of["下降"] == "down"
    assert "第" in rules.prefixes


@pytest.mark.parametrize(
    ("raw", "value"),
    [("0", 0.0), ("十", 10.0), ("十五", 15.0), ("三百五", 350.0), ("一千零五", 1005.0),
     ("1亿2千万", 1.2e8), ("5.2万亿", 5.2e12), ("一九五七", 1957.0),
     ("\uff12\uff0e\uff16万", 26000.0)],
)  # fmt: skip
def test_parse_number(raw: str, value: float) -> None:
    assert parse_number(raw) == pytest.approx(value)


@pytest.mark.parametrize("raw", ["", "0.9.1", "1,5123", "点", "百分", "12ab"])
def test_parse_number_rejects(raw: str) -> None:
    assert parse_number(raw) is None


# ---------------------------------------------------------------- properties

_ALPHABET = st.sampled_from(
    list("0123456789.,%％\uff10\uff11□一二两三十百千万亿零壹佰第近约余多几数以上下户人名个元平方米公里角分"
         "亩吨次份年月日岁号，。、；\n-至到“”【】增长下降同比 abcX")
)  # fmt: skip
_texty = st.text(alphabet=_ALPHABET, max_size=80) | st.text(max_size=60)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texty)
def test_property_offsets_slice_back_and_no_overlap(text: str) -> None:
    ms = extract_metrics(text)
    last = 0
    for m in ms:
        assert text[m.start : m.end] == m.raw
        assert m.start >= last, "metrics overlap or are unsorted"
        last = m.end
        assert m.raw in m.sentence or "\n" in m.raw
        assert (m.value is None) == (m.masked or m.qualifier == "vague")
        if m.value_max is not None:
            assert m.value is not None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789,.万亿千百十一二□")), max_size=200))
def test_property_number_runs_never_raise(text: str) -> None:
    extract_metrics(text + "户")
    extract_metrics(text)


def test_long_runs_are_linear() -> None:
    # Not a timing test: these finish only if the scanner is linear (quadratic would hang).
    assert extract_metrics("1" * 100_000) == []
    assert extract_metrics("1," * 50_000) == []
    assert extract_metrics("一" * 100_000) == []
    assert len(extract_metrics("5户、" * 20_000)) == 20_000
    for unit in ("1万", "万1", "1,1", "1 1", "1.", "1-", "1至", "□1", "一1", "百分之", "十百"):
        extract_metrics(unit * 40_000)


# ---------------------------------------------------------------- gold floors


def _key(raw: object, value: object, unit: str, category: str, qualifier: str) -> tuple:
    v = None if value is None else round(float(value), 2)  # type: ignore[arg-type]
    return (str(raw), v, unit, category, qualifier)


def test_gold_floors() -> None:
    tp = fp = fn = 0
    misses = []
    for doc in GOLD_DOCS:
        pred = Counter(
            _key(m.raw, m.value, m.unit, m.category, m.qualifier)
            for m in extract_metrics(doc["text"])
        )
        gold = Counter(_key(*row) for row in GOLD_ANN[doc["id"]])
        tp += sum((pred & gold).values())
        fp += sum((pred - gold).values())
        fn += sum((gold - pred).values())
        misses += [(doc["id"], "FP", k) for k in pred - gold]
        misses += [(doc["id"], "FN", k) for k in gold - pred]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert tp >= 70, "the gold set shrank"
    assert precision >= PRECISION_FLOOR, misses
    assert recall >= RECALL_FLOOR, misses


def test_sentence_runs_across_hard_line_breaks() -> None:
    # issue 10 item 6: a sentence runs to 。！？；, not to the end of a line
    text = "今年主要预期目标\n是：地区生产总值增长5%左右，城镇新增就业\n60万人以上。\n一、基本情况\n社区现有居民2196户\n\n党员120名"
    ms = extract_metrics(text)
    assert ms[0].sentence == "今年主要预期目标\n是：地区生产总值增长5%左右，城镇新增就业\n60万人以上。"
    assert ms[1].sentence == ms[0].sentence
    assert ms[2].sentence == "社区现有居民2196户"  # after a heading, before a blank line
    assert ms[3].sentence == "党员120名"
    items = "目标是：\n1.地区生产总值增长5%\n2.城镇调查失业率5.5%"
    assert [m.sentence for m in extract_metrics(items)] == [
        "1.地区生产总值增长5%", "2.城镇调查失业率5.5%"
    ]
