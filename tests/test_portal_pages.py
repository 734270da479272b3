"""Government portal pages and work reports, read end to end (made-up pages).

The gold pages in ``tests/gold/pages`` (tags stripped) and every page in ``data/raw`` go
through the per-page stages as the pipeline runs them. Nothing real is dropped: every
non-blank raw line is in a document (its text or its title) or in ``removed`` with a rule,
and no rule removes a line holding a numbered heading.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_gold_pages import PAGES, _load

from corpus_tools.boilerplate import is_numbered_heading
from corpus_tools.config import RunConfig
from corpus_tools.io import read_page
from corpus_tools.normalize import normalize_text
from corpus_tools.pipeline import process_page, run
from corpus_tools.schema import Page
from corpus_tools.store import read_table

HERE = Path(__file__).parent
RAW = HERE.parent / "data" / "raw"


def _pages() -> list[tuple[str, Page]]:
    out = [(p.name, Page(source=p.name, text=_load(p).raw, encoding="utf-8")) for p in PAGES]
    for path in [*sorted(RAW.iterdir()), *sorted((HERE / "pages").iterdir())]:
        if path.is_file() and not path.name.startswith("."):
            pages, _issues = read_page(path, source=path.name)
            out += [(f"{path.name}:{pg.record}", pg) for pg in pages]
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(("name", "page"), _pages(), ids=lambda v: v if isinstance(v, str) else "")
def test_nothing_real_is_dropped(name: str, page: Page) -> None:
    rows = process_page(page)
    removed = {}
    for r in rows["removed"]:
        assert r["rule"], r
        if r["line_no"] is not None:
            removed[r["line_no"]] = r
    kept = _squash("\n".join(d["text"] for d in rows["documents"]))
    titles = [_squash(d["title"]) for d in rows["documents"] if d["title"]]
    for no, line in enumerate(page.text.split("\n"), 1):
        content = _squash(normalize_text(line))
        if not content:
            continue
        if no in removed:
            assert not is_numbered_heading(line.replace("<U+00A0>", " ")), (
                f"{name}:{no}: numbered heading removed by {removed[no]['rule']}: {line!r}")
            continue
        assert content in kept or any(t and t in content for t in titles), (
            f"{name}:{no}: line neither kept nor in removed: {line!r}")


def _gold(name: str) -> str:
    return _load(HERE / "gold" / "pages" / name).raw


def test_report_with_annexes_is_one_document_with_parts() -> None:
    rows = process_page(Page("report.txt", _gold("portal_oneword_toolbar.txt"), "utf-8"))
    (doc,) = rows["documents"]
    assert doc["title"] == "2026年湖南省人民政府工作报告"
    assert (doc["year"], doc["doc_type"], doc["place"]) == (2026, "报告", "湖南省")
    assert "下载" not in doc["text"] and "首页" not in doc["text"]
    assert "附件1" in doc["text"] and "20.2026年民生实事" in doc["text"]
    parts = {s["section_id"]: (s["part"], s["family"], s["marker"]) for s in rows["sections"]
             if s["parent_id"] is None}
    assert ("annex", "part", "附件1") in parts.values()
    assert ("glossary", "part", "附件2") in parts.values()
    assert not [r for r in rows["removed"] if r["rule"] == "page_preamble"]
    glossary = [s for s in rows["sections"] if s["part"] == "glossary" and s["family"] == "num"]
    assert [(s["ordinal"], s["title"][:5]) for s in glossary] == [(19, "“三高四新"), (20, "2026年")]


def test_unnumbered_parts_and_joined_labels() -> None:
    rows = process_page(Page("city.txt", _gold("portal_joined_labels.txt"), "utf-8"))
    (doc,) = rows["documents"]
    assert (doc["year"], doc["doc_type"], doc["place"]) == (2026, "报告", "绵阳市")
    tops = [(s["family"], s["title"]) for s in rows["sections"] if s["parent_id"] is None]
    assert ("part", "“十四五”时期工作回顾") in tops and ("part", "2026年重点工作") in tops
    assert "ICP" not in doc["text"] and "相关报道" not in doc["text"]


def test_traditional_portal_copy() -> None:
    rows = process_page(Page("tc.txt", _gold("portal_traditional.txt"), "utf-8"))
    (doc,) = rows["documents"]
    assert (doc["year"], doc["doc_type"], doc["place"]) == (2026, "报告", "宁远县")
    assert "下载" not in doc["text"] and "微信" not in doc["text"]


def test_manifest_warns_when_a_page_loses_a_fifth(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "clean.txt").write_text("社区工作总结\n\n一、基本情况\n今年社区工作扎实有效，居民满意度提升。\n",
                                   encoding="utf-8")
    (src / "chrome.txt").write_text(_gold("portal_joined_labels.txt"), encoding="utf-8")
    (src / "lossy.txt").write_text(
        "今年社区工作扎实有效，居民满意度提升。\n" + "相关文章：\n" + "社区工作计划范文\n" * 40,
        encoding="utf-8")
    result = run([src], tmp_path / "out", RunConfig(workers=1, themes=False, charts=False))
    by = {e["source"]: e for e in result.entries}
    assert by["clean.txt"]["removed_share"] == 0 and "warnings" not in by["clean.txt"]
    assert by["lossy.txt"]["removed_share"] > 0.2
    assert "went to removed" in by["lossy.txt"]["warnings"][0]
    assert 0 < by["chrome.txt"]["removed_share"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))
    assert manifest["summary"]["warnings"] == sum(len(e.get("warnings", ())) for e in by.values())
    sections = read_table(tmp_path / "out", "sections")
    assert "part" in sections.columns and set(sections["part"]) <= {"body", "annex", "glossary"}


def test_html_portal_page_gives_only_the_body(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "portal.html").write_bytes((HERE / "pages" / "portal_report.html").read_bytes())
    result = run([src], tmp_path / "out", RunConfig(workers=1, themes=False, charts=False))
    (entry,) = result.entries
    assert entry["html_extractor"] == "trafilatura"
    docs = read_table(tmp_path / "out", "documents")
    (doc,) = docs.to_dict("records")
    assert doc["title"] == "2026年青川县人民政府工作报告"
    assert (doc["year"], doc["doc_type"], doc["place"]) == (2026, "报告", "青川县")
    assert doc["text"].startswith("——2026年1月12日")
    assert doc["text"].rstrip().endswith("新增城镇就业1500人以上。")
    for chrome in ("首页", "搜索", "下载", "分享到", "责任编辑", "相关链接", "主办单位", "ICP备"):
        assert chrome not in doc["text"]
    removed = read_table(tmp_path / "out", "removed")
    html_rows = removed[removed["rule"] == "html_main_content"]
    assert {"首页", "搜索", "相关链接"} <= set(html_rows["text"])
    assert html_rows["line_no"].notna().all()


# ------------------------------------------------------------------ ids and duplicates


def test_source_does_not_depend_on_how_inputs_are_passed(tmp_path: Path) -> None:
    from corpus_tools.pipeline import discover

    d = tmp_path / "corpus" / "reports"
    d.mkdir(parents=True)
    for name in ("a.txt", "b.txt"):
        (d / name).write_text("社区工作总结\n今年工作扎实。\n", encoding="utf-8")
    one = {f.source for f in discover([d / "a.txt"])}
    folder = {f.source for f in discover([d])}
    files = {f.source for f in discover([d / "a.txt", d / "b.txt"])}
    assert one == {"a.txt"} and folder == {"a.txt", "b.txt"} and files == folder
    # the parent folder: the same file, relative to the common root
    assert {f.source for f in discover([tmp_path / "corpus"])} == {"reports/a.txt",
                                                                  "reports/b.txt"}
    other = tmp_path / "corpus" / "summaries"
    other.mkdir()
    (other / "c.txt").write_text("社区工作总结\n今年工作扎实。\n", encoding="utf-8")
    assert {f.source for f in discover([d, other / "c.txt"])} == {
        "reports/a.txt", "reports/b.txt", "summaries/c.txt"}


def test_duplicate_of_points_at_the_simplified_copy(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    import opencc

    sc = _gold("portal_joined_labels.txt")
    tc = opencc.OpenCC("s2t").convert(sc)  # a machine-converted copy
    (src / "a_traditional.txt").write_text(tc, encoding="utf-8")  # first in run order
    (src / "b_simplified.txt").write_text(sc, encoding="utf-8")
    run([src], tmp_path / "out", RunConfig(workers=1, themes=False, charts=False))
    docs = read_table(tmp_path / "out", "documents").set_index("source")
    assert docs.loc["a_traditional.txt", "script"] == "traditional"
    assert docs.loc["a_traditional.txt", "duplicate_of"] == "b_simplified.txt#1"
    assert not isinstance(docs.loc["b_simplified.txt", "duplicate_of"], str)
