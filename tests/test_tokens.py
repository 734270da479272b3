"""Tests of corpus_tools.tokens: user dictionary, stopwords, dropping, backends."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.errors import InputError
from corpus_tools.tokens import (
    _quiet_jieba,
    _segmenter,
    available_backends,
    stopwords,
    tokenize,
    user_words,
)

KEPT_WHOLE = [
    ("深入开展精神文明建设", "精神文明建设"),
    ("组织志愿服务活动", "志愿服务"),
    ("推行网格化管理", "网格化管理"),
    ("培育和践行社会主义核心价值观", "社会主义核心价值观"),
    ("加强未成年人思想道德建设", "未成年人思想道德建设"),
    ("每月举办道德讲堂", "道德讲堂"),
    ("争创全国文明城市", "全国文明城市"),
    ("整治环境卫生", "环境卫生"),
    ("维护社会治安", "社会治安"),
    ("丰富文体活动", "文体活动"),
    ("做好民生救助", "民生救助"),
]


@pytest.mark.parametrize(("text", "term"), KEPT_WHOLE, ids=[t for _, t in KEPT_WHOLE])
def test_user_dictionary_terms_stay_whole(text: str, term: str) -> None:
    assert term in tokenize(text)


@pytest.mark.parametrize(
    "word",
    [
        "进一步",
        "积极",
        "认真",
        "切实",
        "加强",
        "开展",
        "工作",
        "全面",
        "深入",
        "推进",
        "落实",
        "有效",
        "我们",
        "以及",
    ],
)
def test_formulaic_phrases_are_stopwords(word: str) -> None:
    assert word in stopwords()
    assert word not in tokenize(f"我们要进一步{word}社区志愿服务")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20□年□社区开展志愿服务", ["社区", "志愿服务"]),
        ("完成投资1234.5亿元，增长8.5%", ["完成", "投资", "增长"]),
        ("一九五八年第一个五年计划", ["第一个五年计划"]),
        ("第三，环境卫生", ["环境卫生"]),
        ("的了和是在", []),
        ("，。、；：！？（）《》", []),
        ("CnPack IDE 专家包 1.0.0", ["cnpack", "ide", "专家"]),
        ("CnPack cnpack CNPACK", ["cnpack", "cnpack", "cnpack"]),
        ("Continue to fix the bugs and do the documentation.", ["fix", "bugs", "documentation"]),
        (
            "各位代表：我代表国务院，向大会报告政府工作，请予审议，并请全国政协委员提出意见。",
            ["国务院", "政府"],
        ),
    ],
    ids=[
        "placeholders",
        "numbers_units",
        "chinese_numerals",
        "ordinal",
        "single_chars",
        "punctuation",
        "ascii_words",
        "ascii_case_folded",
        "english_function_words",
        "report_closing_formula",
    ],
)
def test_dropping(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_bytes_is_input_error() -> None:
    with pytest.raises(InputError):
        tokenize("志愿服务".encode())  # type: ignore[arg-type]


def test_user_dictionary_resource_is_large_and_unique() -> None:
    words = [w for w, _, _ in user_words()]
    assert len(words) >= 300
    assert len(words) == len(set(words))


@pytest.mark.skipif(len(available_backends()) < 2, reason="needs both rjieba and jieba")
def test_backends_give_identical_tokens() -> None:
    text = (
        "一年来，□社区在街道党工委的领导下，深入开展文明城市创建工作，组织志愿者清理卫生死角"
        "三十余处，走访慰问困难群众和空巢老人，推行网格化管理，网格员入户排查矛盾纠纷。"
        "完成国内生产总值增长5.2%，城镇新增就业1244万人。CnPack IDE Wizards 发布。"
    ) * 3
    assert tokenize(text, backend="rjieba") == tokenize(text, backend="jieba")


def test_jieba_logger_level_is_restored() -> None:
    jlog = logging.getLogger("jieba")
    old = jlog.level
    try:
        jlog.setLevel(logging.DEBUG)
        with _quiet_jieba():
            assert jlog.level == logging.WARNING
        assert jlog.level == logging.DEBUG
    finally:
        jlog.setLevel(old)


def test_root_logger_untouched() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    tokenize("志愿服务")
    assert (root.level, list(root.handlers)) == before


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_and_tokens_are_clean(text: str) -> None:
    for token in tokenize(text):
        assert len(token) >= 2
        assert token not in stopwords()
        assert "□" not in token
        assert not any(ch.isspace() for ch in token)
        assert not token.isdigit()


def test_lone_surrogates_do_not_raise() -> None:
    assert "志愿服务" in tokenize("开展志愿服务\ud800社区")


def test_jieba_start_up_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    _segmenter.cache_clear()
    try:
        assert tokenize("开展志愿服务", backend="jieba") == ["志愿服务"]
    finally:
        _segmenter.cache_clear()
    assert "prefix dict" not in capfd.readouterr().err.lower()
