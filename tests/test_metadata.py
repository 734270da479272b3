"""Tests of corpus_tools.metadata: example table, properties, rule-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.errors import InputError
from corpus_tools.metadata import OTHER, extract_doc_type, extract_metadata

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases" / "metadata.yaml").read_text(encoding="utf-8"))
TYPES = {"总结", "汇报", "计划", "规划", "报告", OTHER}


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_cases(case: dict) -> None:
    got = extract_metadata(case["input"]["title"], case["input"]["text"])
    assert got == case["expected"]


def test_case_ids_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("CnPack开发组2012年工作总结", "总结"),
        ("政府工作报告", "报告"),
        ("十四五规划纲要", "规划"),
        ("工作总结报告", "报告"),
        ("2024年工作安排", "计划"),
        ("述职报告", "报告"),
    ],
)
def test_doc_type(title: str, expected: str) -> None:
    assert extract_doc_type(title) == expected


def test_bytes_rejected() -> None:
    with pytest.raises(InputError):
        extract_metadata(b"x", "")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        extract_metadata("x", b"")  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60), st.text(max_size=300))
def test_property_never_raises(title: str, text: str) -> None:
    got = extract_metadata(title, text)
    assert set(got) == {"year", "doc_type", "place"}
    assert got["doc_type"] in TYPES
    assert got["year"] is None or 1900 <= got["year"] <= 2099
    assert got["place"] is None or 3 <= len(got["place"]) <= 8


def test_word_tags_cache_matches_jiebas_own_table(tmp_path: Path) -> None:
    """The word -> tag table read from the cache is jieba's own parse of its dictionary;
    a damaged cache file is parsed again and replaced, never trusted."""
    import jieba
    import jieba.posseg

    from corpus_tools.metadata import _word_tags

    def fresh() -> object:
        tok = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
        tok.tokenizer = jieba.Tokenizer()
        tok.tokenizer.tmp_dir = str(tmp_path)
        return tok

    expected = jieba.posseg.POSTokenizer(jieba.Tokenizer()).word_tag_tab
    assert _word_tags(fresh()) == expected  # parsed, cache written
    (cache,) = tmp_path.glob("corpus_tools.jieba_tags.*")
    assert _word_tags(fresh()) == expected  # read from the cache
    cache.write_bytes(b"\x00not marshal")
    assert _word_tags(fresh()) == expected
    assert cache.read_bytes() != b"\x00not marshal"
