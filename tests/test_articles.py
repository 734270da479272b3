"""Tests of corpus_tools.articles: example table, properties, rule-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools import articles as arts
from corpus_tools.articles import is_article_marker, page_preamble, split_articles
from corpus_tools.errors import InputError, ResourceError
from corpus_tools.schema import Article

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "cases" / "articles.yaml").read_text(encoding="utf-8"))


def _short(a: Article) -> str:
    text = a.text if len(a.text) <= 12 else a.text[:12] + "…"
    return f"{a.number} | {a.title} | {text}"


def check_invariants(text: str, found: list[Article]) -> None:
    assert [a.number for a in found] == list(range(1, len(found) + 1))
    last = 0
    for a in found:
        assert text[a.start : a.end] == a.text
        assert a.start >= last
        last = a.end
        assert a.text == a.text.strip()
        assert a.text or (len(found) == 1 and not text.strip())
        assert "\n" not in a.title


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES])
def test_cases(case: dict) -> None:
    found = split_articles(case["input"])
    check_invariants(case["input"], found)
    assert [_short(a) for a in found] == case["expected"]
    assert page_preamble(case["input"], found) == case["preamble"]


def test_case_ids_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


def test_nothing_is_lost() -> None:
    page = "页面标题\n\n工作汇报篇一\n内容一。\n\n工作汇报篇二\n内容二。"
    found = split_articles(page)
    kept = page_preamble(page, found) + "".join(a.title + a.text for a in found)
    assert all(ch in kept for ch in page if not ch.isspace() and ch not in "篇一二")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("## 社区工作汇报篇三", True),
        ("活动总结【篇2】", True),
        ("2022年社区工作总结4", True),
        ("二、存在的问题", False),
        ("社区工作总结5篇", False),
        ("我们完成了总结1份。", False),
    ],
)
def test_is_article_marker(line: str, expected: bool) -> None:
    assert is_article_marker(line) is expected


def test_bytes_rejected() -> None:
    with pytest.raises(InputError):
        split_articles(b"abc")  # type: ignore[arg-type]


def test_huge_inputs() -> None:
    for text in ("1" * 100_000, "篇一\n" * 20_000, "总结1\n" * 5_000 + "x"):
        check_invariants(text, split_articles(text))


MARKER_CHARS = list("社区总结汇报篇一二三【】1234:：\n #。，内容")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(MARKER_CHARS), max_size=200))
def test_property_marker_alphabet(text: str) -> None:
    found = split_articles(text)
    check_invariants(text, found)
    page_preamble(text, found)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_property_any_text(text: str) -> None:
    found = split_articles(text)
    check_invariants(text, found)
    assert isinstance(page_preamble(text, found), str)


def test_broken_rule_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "articles.tsv"
    path.write_text(
        "id\tkind\tsame_title\tpattern\tnote\nx\ttitle\tno\t(?P<title>a)\t\n", encoding="utf-8"
    )
    monkeypatch.setattr(arts, "_RULE_FILE", path)
    arts._rules.cache_clear()
    try:
        with pytest.raises(ResourceError, match="named groups"):
            split_articles("社区总结篇一\n内容")
    finally:
        arts._rules.cache_clear()
