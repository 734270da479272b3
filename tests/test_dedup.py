"""Tests of corpus_tools.dedup: signatures, near-duplicates, repeated blocks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.dedup import (
    find_duplicates,
    jaccard,
    minhash_signature,
    remove_repeated_blocks,
)
from corpus_tools.errors import InputError

BASE = (
    "一、加强组织领导，健全工作机制。社区成立了以党支部书记为组长的创建工作领导小组，"
    "明确分工，责任到人，形成了齐抓共管的工作格局。二、深入宣传发动，营造创建氛围。"
    "通过宣传栏、居民会议、入户走访等形式，广泛宣传创建文明社区的重要意义。"
    "三、开展志愿服务，弘扬文明新风。组织党员志愿者开展环境整治、关爱老人等活动。"
)
EDITED = BASE.replace("社区成立了", "街道成立了")
OTHER = (
    "今年以来，镇妇联围绕家庭文明建设，开展了书香家庭评选、最美家庭寻访、"
    "亲子阅读等系列活动，参与家庭数量持续增加，群众反响良好，妇女儿童权益得到维护。"
)


def test_numbers_and_placeholders_masked() -> None:
    a = minhash_signature("2021年，社区开展活动12次，参与居民500人。" * 3)
    b = minhash_signature("20□年，社区开展活动二十次，参与居民八百人。" * 3)
    assert jaccard(a, b) == 1.0


def test_edit_vs_other_separate() -> None:
    base, edited, other = (minhash_signature(t) for t in (BASE, EDITED, OTHER))
    assert jaccard(base, edited) >= 0.8
    assert jaccard(base, other) <= 0.2


def test_first_copy_wins_and_chains_point_at_root() -> None:
    sigs = [
        ("a", minhash_signature(OTHER)),
        ("b", minhash_signature(BASE)),
        ("c", minhash_signature(EDITED)),
        ("d", minhash_signature(BASE)),
    ]
    assert find_duplicates(sigs) == {"c": "b", "d": "b"}


def test_empty_signatures_never_pair() -> None:
    sigs = [("a", minhash_signature("")), ("b", minhash_signature("。。，"))]
    assert find_duplicates(sigs) == {}


def test_bad_arguments() -> None:
    with pytest.raises(InputError):
        minhash_signature(b"x")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        minhash_signature("x", num_perm=0)
    with pytest.raises(InputError):
        find_duplicates([], threshold=0)
    with pytest.raises(InputError):
        find_duplicates(
            [("a", minhash_signature("社区")), ("b", minhash_signature("社区", num_perm=64))]
        )


def test_signature_is_stable_across_processes() -> None:
    code = (
        "from corpus_tools.dedup import minhash_signature;"
        "print(minhash_signature('社区文明创建工作总结').tolist()[:4])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(minhash_signature("社区文明创建工作总结").tolist()[:4])


def test_num_perm() -> None:
    sig = minhash_signature(BASE, num_perm=64)
    assert sig.shape == (64,) and sig.dtype == np.uint64


# ------------------------------------------------------------------ repeated blocks

PARA = [
    "各位代表：",
    "一、过去一年的工作",
    "过去一年，我们坚持稳中求进，经济运行总体平稳，发展质量稳步提升，民生保障有力有效。",
    "（一）稳步推进城乡基础设施建设",
    "我们围绕经济运行中的突出矛盾，注重宏观调控的预见性、及时性和有效性，取得明显成效。",
]


def test_six_copies_kept_once() -> None:
    body = "\n\n".join(PARA)
    text = "\n\n".join([body] * 6)
    kept, removed = remove_repeated_blocks(text)
    assert kept.strip() == body
    lines = text.split("\n")
    assert len(removed) == 5 * 5
    for r in removed:
        assert lines[r.line_no - 1] == r.text and r.rule == "repeated_block"


def test_short_recurring_lines_stay() -> None:
    text = "各位代表！\n第一段内容。\n各位代表！\n第二段内容很长。\n二、存在的问题\n二、存在的问题"
    assert remove_repeated_blocks(text) == (text, [])


def test_long_single_paragraph_repeated() -> None:
    para = PARA[2] + PARA[4]
    kept, removed = remove_repeated_blocks(f"{para}\n其他内容。\n{para}")
    assert kept == f"{para}\n其他内容。" and [r.line_no for r in removed] == [3]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([*PARA, "", "短句。"]), max_size=30), st.integers(1, 80))
def test_property_repeated_blocks(paras: list[str], min_chars: int) -> None:
    text = "\n".join(paras)
    kept, removed = remove_repeated_blocks(text, min_chars=min_chars)
    lines = text.split("\n")
    for r in removed:
        assert lines[r.line_no - 1] == r.text
    # every distinct paragraph survives once
    assert {ln for ln in lines if ln.strip()} == {ln for ln in kept.split("\n") if ln.strip()}


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_property_never_raises(text: str) -> None:
    sig = minhash_signature(text)
    assert sig.shape == (128,)
    kept, _removed = remove_repeated_blocks(text)
    assert len(kept) <= len(text)


def test_repeated_links_stay() -> None:
    text = "参考链接：\nhttps://bbs.example.org/viewthread.php?tid=1508&extra=page%3D1\n正文。\n"
    text += "https://bbs.example.org/viewthread.php?tid=1508&extra=page%3D1"
    assert remove_repeated_blocks(text) == (text, [])


def test_band_tasks_give_what_the_index_gives() -> None:
    # the Dask duplicate pass splits the LSH bands over tasks; resolving their pairs must
    # give find_duplicates' mapping exactly (copies of copies, empty texts, converted)
    from corpus_tools.dedup import band_groups, band_pairs, resolve_pairs

    rng = np.random.default_rng(7)
    base = [rng.integers(0, 2**32, 128, dtype=np.uint64) for _ in range(40)]
    sigs, ids = [], []
    for i in range(300):
        sig = base[int(rng.integers(0, 40))].copy()
        flip = rng.random(128) < rng.choice([0.05, 0.15, 0.3, 0.9])
        sig[flip] = rng.integers(0, 2**32, int(flip.sum()), dtype=np.uint64)
        if i % 37 == 0:
            sig[:] = np.uint64(2**32 - 1)  # a document without text
        sigs.append(sig)
        ids.append(f"d{i:03d}")
    converted = set(ids[::5])
    expected = find_duplicates(zip(ids, sigs, strict=True), threshold=0.8, converted=converted)
    assert len(expected) > 50
    rows, groups = band_groups(128, 0.8, 3)
    matrix = np.stack(sigs)
    pairs = [p for g in groups for p in band_pairs(matrix, g, rows, 0.8)]
    assert resolve_pairs(ids, pairs, converted) == expected
