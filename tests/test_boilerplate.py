"""Tests of corpus_tools.boilerplate: example table per rule, properties, rule-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _cases import case_params
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools import boilerplate as bp
from corpus_tools.boilerplate import fold_text, is_numbered_heading, strip_boilerplate
from corpus_tools.errors import InputError, ResourceError
from corpus_tools.rules import load_tsv

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases" / "boilerplate.yaml").read_text(encoding="utf-8"))


def _params() -> list[object]:
    return case_params('boilerplate')


def check_invariants(text: str, out: bp.Stripped) -> None:
    """Removed lines point at raw lines with the same text; kept + removed = the page."""
    lines = text.split("\n")
    removed_nos = [r.line_no for r in out.removed]
    assert removed_nos == sorted(set(removed_nos))
    for r in out.removed:
        assert 1 <= r.line_no <= len(lines)
        assert lines[r.line_no - 1].rstrip("\r") == r.text
        assert r.rule
    kept = [line for i, line in enumerate(lines, 1) if i not in set(removed_nos)]
    assert out.text == "\n".join(kept)


@pytest.mark.parametrize("case", _params())
def test_cases(case: dict) -> None:
    out = strip_boilerplate(case["input"])
    check_invariants(case["input"], out)
    assert [f"{r.line_no} | {r.rule}" for r in out.removed] == case["expected"]


def test_case_ids_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_rule_has_a_case_and_negatives_exist() -> None:
    rules = {r["id"] for r in load_tsv("boilerplate.tsv") if r["kind"] != "protect"}
    rules |= set(bp.STRUCTURAL_RULES)
    used = {e.split(" | ")[1] for c in CASES for e in c["expected"]}
    assert rules - used == set(), "rules without an example"
    assert used - rules == set(), "examples naming unknown rules"
    assert sum(1 for c in CASES if not c["expected"]) >= 8


def test_bytes_rejected() -> None:
    with pytest.raises(InputError, match="decode"):
        strip_boilerplate(b"\xe5\xbd\x93")  # type: ignore[arg-type]


def test_fold_keeps_lines() -> None:
    text = "當前位置：首頁\r\n【字體：大　中　小】\n<U+00A0>各位代表\u200b"
    assert fold_text(text).count("\n") == text.count("\n")
    assert fold_text(text).split("\n")[1] == "【字体:大 中 小】"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("一、总体情况", True),
        ("（二）主要做法", True),
        ("3、加强宣传", True),
        ("①以社区为载体", True),
        ("第三章 工作目标", True),
        ("3.5%的增长", False),
        ("一是加强领导", False),
        ("相关文章", False),
    ],
)
def test_numbered_heading(line: str, expected: bool) -> None:
    assert is_numbered_heading(line) is expected


def test_long_line_only_with_trigger() -> None:
    body = "社区工作扎实推进，" * 30
    assert strip_boilerplate("来源：" + body).removed == ()
    lead = body + "下面是小编整理的范文，仅供参考。"
    assert [r.rule for r in strip_boilerplate(lead).removed] == ["lead_in_opener"]


def test_huge_single_line_and_digits() -> None:
    for text in ("1" * 100_000, "社" * 200_000, "\n" * 50_000, ">" * 10_000 + "\n首页>"):
        check_invariants(text, strip_boilerplate(text))


FURNITURE_CHARS = list("当前位置首页>:：\n\r 【】字体大中小来源小编下面整理仅供参考")
FURNITURE_CHARS += list("相关文章一、1234。，")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(FURNITURE_CHARS), max_size=300))
def test_property_furniture_alphabet(text: str) -> None:
    check_invariants(text, strip_boilerplate(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_property_any_text(text: str) -> None:
    check_invariants(text, strip_boilerplate(text))


def _with_rules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str) -> None:
    path = tmp_path / "rules.tsv"
    path.write_text("id\tkind\tpattern\ttrigger\tnote\n" + body, encoding="utf-8")
    monkeypatch.setattr(bp, "_RULE_FILE", path)
    bp._rules.cache_clear()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x\tnope\tabc\t\t\n", "unknown kind"),
        ("x\tline\t(abc\t\t\n", "invalid"),
        ("x\tline\ta\\sb\t\t\n", "span lines"),
        ("Bad-Id\tline\tabc\t\t\n", "snake_case"),
        ("p\tprotect\tabc\t\t\n", "no removal rules"),
    ],
)
def test_broken_rule_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str, message: str
) -> None:
    _with_rules(monkeypatch, tmp_path, body)
    try:
        with pytest.raises(ResourceError, match=message):
            strip_boilerplate("正文")
    finally:
        bp._rules.cache_clear()
