"""Tests for corpus_tools.normalize: example table, properties, script detection."""

# ruff: noqa: RUF001 - the strategies use full-width and look-alike characters on purpose
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from corpus_tools.errors import InputError
from corpus_tools.normalize import (
    PLACEHOLDER,
    _t2s,
    count_placeholders,
    detect_script,
    normalize_text,
    t2s_characters,
)

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases" / "normalize.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_cases(case: dict) -> None:
    assert normalize_text(case["input"]) == case["expected"], case["note"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_cases_are_fixed_points(case: dict) -> None:
    assert normalize_text(case["expected"]) == case["expected"]


def test_case_ids_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("value", [b"abc", bytearray(b"x"), None, 3])
def test_rejects_non_str(value: object) -> None:
    with pytest.raises(InputError):
        normalize_text(value)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        detect_script(value)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        count_placeholders(value)  # type: ignore[arg-type]


def test_bytes_message_says_decode() -> None:
    with pytest.raises(InputError, match="decode"):
        normalize_text("社区".encode())


# ---------------------------------------------------------------- script detection


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("社区创建工作汇报，志愿服务", "simplified"),
        ("社區創建工作匯報，誌願服務", "traditional"),
        ("社區創建工作匯報\n社区创建工作汇报，志愿服务，关注民生", "mixed"),
        ("", "simplified"),
        ("GDP 5.3% 2024", "simplified"),
        ("人民", "simplified"),
        ("壹是統壹部署", "traditional"),
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


def test_normalized_traditional_reads_simplified() -> None:
    out = normalize_text("社區創建工作匯報1:壹是統壹部署,關註群眾,誌願服務紮實開展。")
    assert detect_script(out) == "simplified"
    assert "一是统一部署" in out and "关注" in out and "志愿" in out and "扎实" in out


def test_mixed_page_converts_only_traditional_lines() -> None:
    text = "工作总结\n乾隆年间的故事\n社區服務\n"
    # 乾 is not traditional-only, so its line is left alone on a simplified page.
    assert normalize_text(text) == "工作总结\n乾隆年间的故事\n社区服务"


# ---------------------------------------------------------------- placeholders


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("20xx年__社区在xx的领导下", 3),
        ("没有占位符", 0),
        ("□□社区□", 2),
        ("", 0),
    ],
)
def test_count_placeholders(text: str, n: int) -> None:
    assert count_placeholders(normalize_text(text)) == n


def test_placeholder_is_white_square() -> None:
    assert PLACEHOLDER == "\u25a1"


# ---------------------------------------------------------------- line structure


def test_headings_keep_starting_lines() -> None:
    text = "\u3000\u3000一、总体情况\r\n  （一）主要做法\r\n1、建立机制\r\n①完善制度"
    lines = normalize_text(text).split("\n")
    assert lines == ["一、总体情况", "（一）主要做法", "1、建立机制", "①完善制度"]


def test_splitlines_agrees_with_newlines() -> None:
    text = "一\x0b二\x0c三\x1c四\x85五\u2028六\u2029七"
    out = normalize_text(text)
    assert out.split("\n") == out.splitlines()


def test_long_inputs_are_linear() -> None:
    # Shapes that make a backtracking regex quadratic; these must simply finish.
    for text in (
        "1" * 100_000,
        " " * 100_000 + "x",
        "x" * 50_000,
        "_" * 50_000,
        "壹" * 50_000,
        "万" * 50_000,
        "?" * 50_000,
        "a" * 100_000 + "@b.cn",
        "社区," * 30_000,
        "(" * 50_000,
        "-" * 50_000,
        "* " * 30_000,
    ):
        out = normalize_text(text)
        assert normalize_text(out) == out


# ---------------------------------------------------------------- properties

CHINESE = st.sampled_from(
    list("社区工作总结一二三四五年月日人户万元的是在和了统壹進關註誌願紮實裏區雙創周評著乾")
)
MARKS = st.sampled_from(
    [
        *"?？_＿x X×#＃*＊-－—,，.。:：;；!！()（）□ \n\t\r\u3000\u00a0\u200b0123456789０１９．％",
        *["20", "<U+00A0>", "**", "__", "\\_", "## ", "- ", "http://a.cn/x__y?z", "a@b.cn"],
    ]
)
CHINESE_HEAVY = st.lists(st.one_of(CHINESE, CHINESE, MARKS), max_size=60).map("".join)


@settings(max_examples=600, deadline=None)
@given(CHINESE_HEAVY)
@example("x□x年")
@example("中,**社区")
@example("甲?乙?丙?丁")
def test_idempotent_chinese_heavy(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
@example("\\\\.")  # two backslashes and a dot: unescaped one at a time, it took two passes
@example("a\\\\\\*b")
def test_idempotent_any_text(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_never_raises(text: str) -> None:
    out = normalize_text(text)
    assert isinstance(out, str)
    assert detect_script(text) in {"simplified", "traditional", "mixed"}
    assert count_placeholders(out) >= 0
    assert "\r" not in out
    assert out == out.strip(" \n")


# --------------------------------------------------------------------------- OpenCC binding


def _script_sets() -> tuple[str, str]:
    from corpus_tools.rules import load_tsv

    rows = {row["id"]: row["chars"] for row in load_tsv("script_chars.tsv")}
    return rows["traditional_only"], rows["simplified_only"]


def test_converter_is_opencc_cpp_binding() -> None:
    # opencc-python-reimplemented installs the same import name; it must not be the one used
    import opencc

    from corpus_tools.normalize import _opencc

    assert _opencc() is opencc
    assert _t2s()("體育場館") == "体育场馆"


def test_script_chars_agree_with_installed_converter() -> None:
    # resources/script_chars.tsv comes from OpenCC's text dictionaries; the converter must
    # change every traditional-only character, leave every simplified-only one, and never
    # produce a traditional-only character (normalize_text's idempotence rests on it).
    traditional, simplified = _script_sets()
    assert len(traditional) > 3000 and len(simplified) > 3000
    convert = _t2s()
    out_t = convert("\n".join(traditional)).split("\n")
    assert [c for c, o in zip(traditional, out_t, strict=True) if o == c] == []
    assert not set("".join(out_t)) & set(traditional)
    assert convert(simplified) == simplified
    assert not set(traditional) & set(simplified)


def test_t2s_characters_is_the_converter_table() -> None:
    table = t2s_characters()
    assert table["體"] == "体" and table["區"] == "区"
    assert "体" not in table and "社" not in table  # unchanged characters are not listed
    sample = "".join(list(table)[:2000:7])
    assert _t2s()("\n".join(sample)).replace("\n", "") == "".join(table[c] for c in sample)


@pytest.mark.parametrize("n_t,n_s", [(0, 0), (1, 0), (0, 5), (300, 33), (300, 34), (2000, 223),
                                     (2000, 222), (30, 270), (31, 270), (5000, 5000),
                                     (3000, 1), (1, 3000), (2304, 256), (256, 2304)])
def test_script_decided_by_capped_counts_as_by_full_counts(n_t: int, n_s: int) -> None:
    from corpus_tools.normalize import _classify, _script_of

    traditional, simplified = _script_sets()
    t = (traditional[:97] * 60)[:n_t]
    s = (simplified[:89] * 60)[:n_s]
    text = "".join(a + b for a, b in zip(t.ljust(max(n_t, n_s), "的"),
                                           s.ljust(max(n_t, n_s), "是"), strict=True))
    assert _script_of(text) == _classify(n_t, n_s)
