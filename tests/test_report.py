"""The HTML report: what each page holds, escaping of page text, size, graceful degradation.

These tests read the HTML the report writes; tests/test_report_browser.py renders it in a
real browser (headless Chromium) and checks what scripts and styles do.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.cli import main
from corpus_tools.config import RunConfig
from corpus_tools.pipeline import run
from corpus_tools.report import build_report, doc_filename, markup_text
from corpus_tools.store import read_table

ROOT = Path(__file__).resolve().parents[1]
FAST = RunConfig(workers=1, themes=False, charts=False)

HOSTILE = """<script>alert(1)</script>社区工作总结</textarea>
<img src=x onerror="document.title='PWNED'">

一、基本情况
社区现有居民1200户。<script>document.body.setAttribute('data-pwned','1')</script>
&lt;b&gt;实体&amp;amp;汤&#x3C;script&#x3E;alert(2)&#x3C;/script&#x3E;
&nbsp;&copy; ]]> <!-- 注释 --> {{ 7*7 }}
"</title></style><svg onload=alert(3)>" 全年开展活动36场。
二、主要做法
<iframe src="javascript:alert(4)"></iframe>组织志愿者120名。
"""


class _Tags(HTMLParser):
    """Counts the elements of a page (as a browser's parser would see them)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


# --------------------------------------------------------------------------- markup


def test_markup_escapes_text_and_marks_metrics_headings_and_removed_lines() -> None:
    text = "一、基本情况\n<b>居民</b>1200户，志愿者86名。\n二、做法\n开展活动36场。"
    sections = [
        {"section_id": "1", "level": 1, "start": 0, "end": 27, "marker": "一、",
         "title": "基本情况"},
        {"section_id": "2", "level": 1, "start": 27, "end": len(text), "marker": "二、",
         "title": "做法"},
    ]
    m1, m2, m3 = (text.index(r) for r in ("1200户", "86名", "36场"))
    metrics = [
        {"raw": "1200户", "start": m1, "end": m1 + 5, "value": 1200.0, "unit": "户",
         "category": "households", "qualifier": "exact", "direction": None},
        {"raw": "86名", "start": m2, "end": m2 + 3, "value": 86.0, "unit": "人"},
        {"raw": "36场", "start": m3, "end": m3 + 3, "value": 36.0, "unit": "场"},
    ]
    removed = [{"line_no": 1, "text": "首页>社区", "rule": "breadcrumb_arrows"},
               {"line_no": 4, "text": "<script>x()</script>", "rule": "related_list"},
               {"line_no": 9, "text": "上一篇", "rule": "page_nav"}]
    marked = markup_text(text, sections=sections, metrics=metrics, removed=removed,
                         line_nos=[2, 3, 5, 6], category_labels={"households": "户数"})
    html = marked.html
    assert "<b>" not in html and "&lt;b&gt;居民&lt;/b&gt;" in html
    assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert marked.n_metrics == 3 and html.count('<mark class="metric"') == 3
    assert marked.n_removed_placed == 3 and not marked.unplaced
    # Lines go where they stood: line 1 above line 2, line 4 between 3 and 5, 9 at the end.
    order = [html.index(s) for s in ("首页&gt;社区", "一、", "&lt;script&gt;x()", "二、",
                                     "36场", "上一篇")]
    assert order == sorted(order)
    assert 'id="sec-1"' in html and 'id="sec-2"' in html
    assert re.search(r'<span class="heading lvl-1" id="sec-1"[^>]*>一、基本情况</span>', html)
    assert 'data-category="households"' in html and "户数" in html
    # Taking the markup away gives the text back, character for character.
    plain = re.sub(r'<span class="tip".*?</span></mark>', "</mark>", html)
    plain = re.sub(r'<span class="removed">.*?</del></span>', "", plain)
    import html as html_lib
    assert html_lib.unescape(re.sub(r"<[^>]+>", "", plain)) == text


def test_markup_run_in_heading_marks_only_the_marker_and_overlaps_share_a_highlight() -> None:
    text = "1、成立了以社区党委书记为组长的志愿服务工作领导小组，明确2名专职工作人员负责日常管理。"
    s = {"section_id": "1", "level": 3, "start": 0, "end": len(text), "marker": "1、",
         "title": text[2:-1]}
    a = text.index("2名")
    metrics = [{"raw": "2名", "start": a, "end": a + 2, "value": 2.0},
               {"raw": "2", "start": a, "end": a + 1, "value": 2.0}]
    marked = markup_text(text, sections=[s], metrics=metrics)
    assert re.search(r'id="sec-1"[^>]*>1、</span>', marked.html)
    assert marked.html.count("<mark") == 1 and marked.n_metrics == 2


def test_markup_without_line_numbers_lists_removed_lines_apart() -> None:
    marked = markup_text("正文一行。", removed=[{"line_no": 3, "text": "相关文章", "rule": "r"}])
    assert marked.n_removed_placed == 0 and [r["text"] for r in marked.unplaced] == ["相关文章"]


def test_markup_ignores_offsets_outside_the_text() -> None:
    marked = markup_text("短文", metrics=[{"raw": "x", "start": 5, "end": 9}],
                         sections=[{"section_id": "1", "level": 1, "start": 40, "end": 50}])
    assert "短文" in marked.html


def test_doc_filenames_are_safe_and_distinct() -> None:
    names = {doc_filename(d) for d in ("a/b.txt#1", "a_b.txt#1", "页面.txt#1", "x" * 300 + "#1")}
    assert len(names) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+\.html", n) and len(n) < 90 for n in names)


# --------------------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run of data/raw/ with every step, as `corpus-tools run` does it."""
    out = tmp_path_factory.mktemp("sample") / "out"
    run([ROOT / "data" / "raw"], out, RunConfig(workers=1))
    return out


def _doc_pages(out: Path) -> dict[str, str]:
    docs = read_table(out, "documents", columns=["doc_id"])
    return {d: (out / "report" / "docs" / doc_filename(d)).read_text("utf-8")
            for d in docs["doc_id"]}


def test_run_writes_the_report_and_records_its_time(sample_run: Path) -> None:
    manifest = json.loads((sample_run / "manifest.json").read_text("utf-8"))
    assert manifest["steps"]["report"]["status"] == "ok", manifest["steps"]["report"]
    assert manifest["timings"]["report"] > 0
    # The run's time is written after the report, so it includes it.
    assert manifest["seconds"] >= manifest["timings"]["pages"] + manifest["timings"]["report"]
    report = sample_run / "report"
    assert (report / "index.html").exists() and (report / "assets" / "cjk.woff").exists()
    docs = read_table(sample_run, "documents")
    assert len(list((report / "docs").glob("*.html"))) == len(docs)


def test_sample_report_is_under_two_megabytes(sample_run: Path) -> None:
    size = sum(p.stat().st_size for p in (sample_run / "report").rglob("*") if p.is_file())
    assert size < 2 * 1024 * 1024, size


def test_every_metric_and_section_is_on_its_document_page(sample_run: Path) -> None:
    metrics = read_table(sample_run, "metrics")
    sections = read_table(sample_run, "sections")
    for doc_id, page in _doc_pages(sample_run).items():
        ms = metrics[metrics["doc_id"] == doc_id]
        found = {int(a["id"][2:]) for t, a in tags(page) if t == "mark" and a.get("id")}
        assert set(ms["start"]) <= found | {s for s in ms["start"]
                                            if any(s2 < s < e2 for s2, e2 in
                                                   zip(ms["start"], ms["end"], strict=True))}
        ids = {a.get("id") for _, a in tags(page)}
        links = {a["href"] for t, a in tags(page) if t == "a" and (a.get("href") or "")
                 .startswith("#sec-")}
        for sid in sections.loc[sections["doc_id"] == doc_id, "section_id"]:
            assert f"sec-{sid}" in ids and f"#sec-{sid}" in links


def test_every_removed_line_is_shown_once_with_its_rule(sample_run: Path) -> None:
    removed = read_table(sample_run, "removed")
    pages = _doc_pages(sample_run)
    shown = [(a.get("data-rule"), a.get("data-line")) for page in pages.values()
             for t, a in tags(page) if t == "del" and "removed-line" in (a.get("class") or "")
             and "sample" not in (a.get("class") or "")]
    assert len(shown) == len(removed)
    assert sorted(r for r, _ in shown) == sorted(removed["rule"])
    # In place, not in the list of lines without a position.
    assert not any("unplaced" in page for page in pages.values())


def test_index_lists_every_document_and_the_summary(sample_run: Path) -> None:
    index = (sample_run / "report" / "index.html").read_text("utf-8")
    spec = json.loads(re.search(r'<script type="application/json" class="dt-data">(.*?)'
                                r"</script>", index, re.S).group(1))
    docs = read_table(sample_run, "documents")
    assert [r["title"] for r in spec["rows"]] == [t or d for t, d in
                                                  zip(docs["title"], docs["doc_id"],
                                                      strict=True)]
    keys = [c["key"] for c in spec["columns"]]
    for col in ("title", "doc_type", "script", "n_chars", "n_sections", "n_metrics"):
        assert col in keys
    for row in spec["rows"]:
        assert (sample_run / "report" / row["href"]).exists()
    assert "Time per phase" in index and "charts/" in index
    for _, a in tags(index):
        if a.get("src"):
            assert (sample_run / "report" / a["src"]).exists()


def test_report_subcommand_rebuilds(sample_run: Path, capsys: pytest.CaptureFixture) -> None:
    index = sample_run / "report" / "index.html"
    index.unlink()
    assert main(["report", "--out", str(sample_run)]) == 0
    assert index.exists() and str(index) in capsys.readouterr().out


def test_report_without_a_run_is_a_clear_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    assert main(["report", "--out", str(tmp_path)]) == 1
    assert "corpus-tools run" in capsys.readouterr().err


# --------------------------------------------------------------------------- hostile pages


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("hostile") / "raw"
    raw.mkdir()
    (raw / "hostile.txt").write_text(HOSTILE, "utf-8")
    (raw / "hostile.jsonl").write_text(
        json.dumps({"title": "</script><script>alert(5)</script>标题",
                    "text": "</script><script>alert(6)</script>\n" + HOSTILE},
                   ensure_ascii=False) + "\n", "utf-8")
    out = raw.parent / "out"
    run([raw], out, FAST)
    return out


def test_page_text_cannot_add_elements_to_the_report(hostile_run: Path) -> None:
    report = hostile_run / "report"
    pages = list(report.rglob("*.html"))
    assert len(pages) >= 3
    for page in pages:
        html = page.read_text("utf-8")
        found = tags(html)
        names = [t for t, _ in found]
        assert "img" not in names and "iframe" not in names and "svg" not in names
        assert "textarea" not in names
        for t, a in found:
            assert not any(k.startswith("on") for k in a), (page.name, t, a)
            if t == "script":  # ours only: the table data and the report's script file
                assert a.get("type") == "application/json" or a.get("src") == \
                    "assets/report.js", (page.name, a)
        # The only closing script tags are those of our own script elements.
        assert html.lower().count("</script") == names.count("script")
        assert "Content-Security-Policy" in html


def test_page_text_is_shown_as_text(hostile_run: Path) -> None:
    docs = read_table(hostile_run, "documents")
    row = docs[docs["source"] == "hostile.txt"].iloc[0]
    page = (hostile_run / "report" / "docs" / doc_filename(row["doc_id"])).read_text("utf-8")
    assert "&lt;script&gt;document.body.setAttribute" in page
    assert "&amp;lt;b&amp;gt;实体&amp;amp;amp;汤" in page  # entities stay as written
    assert "{{ 7*7 }}" in page  # not a template


# --------------------------------------------------------------------------- degrading


def _strip(out: Path, table: str, drop: list[str]) -> None:
    path = out / f"{table}.parquet"
    t = pq.read_table(path)
    pq.write_table(t.drop_columns([c for c in drop if c in t.column_names]), path)


def test_report_of_older_or_partial_runs(tmp_path: Path) -> None:
    """A run without themes, charts, line numbers or some columns still gets a report."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("相关阅读：首页\n\n社区工作总结\n\n一、基本情况\n"
                               "社区现有居民860户。\n二、主要做法\n开展活动12场。\n\n上一篇：无\n",
                               "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST.replace(report=False))
    assert not (out / "report").exists()
    _strip(out, "documents", ["line_nos", "place", "year"])
    _strip(out, "metrics", ["direction", "qualifier"])
    _strip(out, "sections", ["marker"])
    (out / "manifest.json").unlink()
    index = build_report(out)
    page = next((out / "report" / "docs").glob("*.html")).read_text("utf-8")
    n_removed = len(read_table(out, "removed"))
    if n_removed:
        assert "position not recorded" in page
    assert 'class="metric"' in page and "860户" in page
    assert index.exists()


def test_new_columns_and_the_indicator_panel_are_shown(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "r.txt").write_text("县政府工作报告\n\n一、过去一年工作回顾\n地区生产总值增长6.5%。\n"
                               "附件\n名词解释\n", "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST.replace(report=False))
    metrics = read_table(out, "metrics")
    metrics["indicator"] = "gdp_growth"
    metrics["stance"] = "achieved"
    metrics.to_parquet(out / "metrics.parquet")
    sections = read_table(out, "sections")
    sections["part"] = "body"
    sections.loc[sections.index[-1], "part"] = "annex"
    sections.to_parquet(out / "sections.parquet")
    docs = read_table(out, "documents")
    docs["site"] = "某县人民政府网"
    docs.to_parquet(out / "documents.parquet")
    m = metrics.iloc[0]
    panel = pd.DataFrame([{"doc_id": m["doc_id"], "place": "某县", "year": 2023,
                           "indicator": "gdp_growth", "stance": "achieved", "value": 6.5,
                           "raw": m["raw"], "start": int(m["start"]), "end": int(m["end"])}])
    pq.write_table(pa.Table.from_pandas(panel), out / "indicators.parquet")
    build_report(out)
    report = out / "report"
    page = (report / "docs" / doc_filename(m["doc_id"])).read_text("utf-8")
    assert 'data-indicator="gdp_growth"' in page and 'data-stance="achieved"' in page
    assert 'data-part="annex"' in page or "annex" in page
    index = (report / "index.html").read_text("utf-8")
    assert "indicators.html" in index and "某县人民政府网" in index
    panel_page = (report / "indicators.html").read_text("utf-8")
    spec = json.loads(re.search(r'class="dt-data">(.*?)</script>', panel_page, re.S).group(1))
    assert spec["rows"][0]["href"].endswith(f"#m-{int(m['start'])}")
    assert f'id="m-{int(m["start"])}"' in page


@pytest.mark.parametrize("engine", ["harfbuzz", "fonttools"])
def test_web_font_holds_the_characters_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            engine: str) -> None:
    from fontTools.ttLib import TTFont

    from corpus_tools import report

    if engine == "fonttools":
        def no_harfbuzz(*_: object) -> bytes:
            raise ImportError("uharfbuzz")

        monkeypatch.setattr(report, "_subset_harfbuzz", no_harfbuzz)
    path = report.subset_font("社区志愿服务工作总结，2023年。□", tmp_path)
    assert path is not None and path.suffix == ".woff"
    font = TTFont(path)
    assert font.flavor == "woff"
    cmap = font.getBestCmap()
    assert all(ord(c) in cmap for c in "社区志愿服务工作总结，2023年。□")
    assert ord("鑫") not in cmap and len(cmap) < 200
    assert path.stat().st_size < 100_000


def test_a_very_long_document_is_shown_in_parts(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus_tools import report

    monkeypatch.setattr(report, "PART_CHARS", 3000)
    raw = tmp_path / "raw"
    raw.mkdir()
    body = "".join(f"{'一二三四五六七八九十'[i % 10]}、第{i}项工作\n社区全年开展活动{i + 1}场，"
                   f"服务居民{100 + i}人次。\n" for i in range(400))
    (raw / "long.txt").write_text("社区工作总结\n\n" + body, "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST)
    docs = read_table(out, "documents")
    doc_id = docs["doc_id"].iloc[0]
    n_parts = len(report._windows(docs["text"].iloc[0]))
    assert n_parts > 3
    files = report.part_files(doc_id, n_parts)
    pages = {f: (out / "report" / "docs" / f).read_text("utf-8") for f in files}
    for page in pages.values():  # each part holds its share of the text, not all of it
        article = re.search(r'<article class="text".*?</article>', page, re.S).group(0)
        shown = re.sub(r'<span class="(tip|removed)".*?</span></(mark|del)>', "", article)
        assert len(re.sub(r"<[^>]+>", "", shown)) < 2 * 3000
    marks = [a["id"] for p in pages.values() for t, a in tags(p) if t == "mark"
             and a.get("id")]
    metrics = read_table(out, "metrics")
    assert sorted(marks) == sorted(f"m-{s}" for s in metrics["start"])
    ids = {f: {a.get("id") for _, a in tags(p)} for f, p in pages.items()}
    for f, page in pages.items():
        for t, a in tags(page):
            href = a.get("href") or ""
            if t == "a" and "#sec-" in href:
                target, _, anchor = href.partition("#")
                assert anchor in ids[target or f], (f, href)


def _pages_of(out: Path) -> dict[str, str]:
    return {p.relative_to(out / "report").as_posix(): p.read_text("utf-8")
            for p in (out / "report").rglob("*.html")}


def test_tables_in_another_order_give_the_same_report(sample_run: Path, tmp_path: Path) -> None:
    """A run's tables list rows in document order and are streamed; a table written in
    another order (by other means) is looked up instead, with the same pages."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(sample_run, out, ignore=shutil.ignore_patterns("report", ".parts"))
    build_report(out)
    ordered = _pages_of(out)
    for name in ("sections", "metrics", "removed", "section_themes", "named_themes"):
        path = out / f"{name}.parquet"
        t = pq.read_table(path)
        keys = ["source", "record"] if name == "removed" else ["doc_id"]
        groups: dict[tuple, list[int]] = {}
        for i, key in enumerate(zip(*(t.column(k).to_pylist() for k in keys), strict=True)):
            groups.setdefault(key, []).append(i)
        assert len(groups) > 1, name
        # the documents (pages) in reverse order, each one's rows in their own order
        pq.write_table(t.take([i for rows in reversed(groups.values()) for i in rows]), path)
    build_report(out)
    assert _pages_of(out) == ordered


def test_report_reads_the_text_a_batch_of_documents_at_a_time(
        sample_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory is bounded by a batch, not the corpus: no read of a table asks for the
    documents' text of the whole run, and the per-document tables are streamed."""
    import shutil

    import corpus_tools.report as report

    out = tmp_path / "out"
    shutil.copytree(sample_run, out, ignore=shutil.ignore_patterns("report", ".parts"))
    whole_reads: list[str] = []
    real_read_table = pq.read_table

    def watched(source, *args, **kwargs):
        columns = kwargs.get("columns")
        if columns is None or "text" in columns:
            whole_reads.append(Path(str(source)).name)
        return real_read_table(source, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", watched)
    streams: list[bool] = []
    real_init = report._RowsByKey.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        streams.append(self.ordered)

    monkeypatch.setattr(report._RowsByKey, "__init__", init)
    build_report(out)
    assert "documents.parquet" not in whole_reads and "sections.parquet" not in whole_reads
    assert streams and all(streams)


def test_web_font_is_the_same_bytes_for_the_same_pages(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuilt report is byte-identical: the subset font keeps the source's timestamp."""
    import time

    from corpus_tools.report import subset_font

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = subset_font("社区工作总结开展活动", tmp_path / "a")
    clock = time.time
    monkeypatch.setattr(time, "time", lambda: clock() + 86_400)  # a day later
    second = subset_font("社区工作总结开展活动", tmp_path / "b")
    if first is None:
        pytest.skip("the bundled CJK font is not installed")
    assert first.read_bytes() == second.read_bytes()
