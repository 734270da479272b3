"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` package).

The DOM is dumped after the page's scripts ran (``--dump-dom``) and screenshots are taken
(``--screenshot``). Without Chromium these tests are skipped with the reason, except under
CI (``CI`` set), where .ci/run installs it and a missing browser is a failure.
Set ``CORPUS_TOOLS_SCREENSHOTS=DIR`` to keep the screenshots (docs/ has two of them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report import HOSTILE, tags

from corpus_tools.config import RunConfig
from corpus_tools.pipeline import run
from corpus_tools.report import MISSING, build_report, doc_filename
from corpus_tools.store import read_table

ROOT = Path(__file__).resolve().parents[1]
BROWSER = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio"]


@pytest.fixture(scope="module", autouse=True)
def browser() -> str:
    if BROWSER is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium")
        pytest.skip("headless Chromium not found (Debian: apt-get install chromium; "
                    ".ci/run installs it)")
    return BROWSER


def chromium(url: str, *args: str, timeout: float = 180) -> str:
    """Run headless Chromium on *url* with a fresh profile; return what it printed."""
    assert BROWSER is not None
    with tempfile.TemporaryDirectory(prefix="ct-chromium-") as profile:
        proc = subprocess.run(
            [BROWSER, *FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def dump_dom(path: Path, fragment: str = "") -> str:
    dom = chromium(path.resolve().as_uri() + fragment, "--virtual-time-budget=5000",
                   "--dump-dom")
    assert "</html>" in dom, dom[-500:]
    return dom


def screenshot(path: Path, png: Path, size: str = "1280,900", fragment: str = "") -> np.ndarray:
    import matplotlib.image

    chromium(path.resolve().as_uri() + fragment, f"--screenshot={png}",
             f"--window-size={size}", "--virtual-time-budget=5000")
    assert png.exists() and png.stat().st_size > 10_000
    return matplotlib.image.imread(png)[..., :3]


def near(image: np.ndarray, rgb: tuple[int, int, int], tol: int = 6) -> int:
    """Pixels of *image* within *tol* of the colour *rgb*."""
    target = np.array(rgb, dtype=float) / 255
    return int((np.abs(image - target) <= tol / 255).all(axis=-1).sum())


def tbody_rows(dom: str, table: str) -> list[list[str]]:
    block = re.search(rf'data-table="{table}".*?<tbody>(.*?)</tbody>', dom, re.S)
    assert block, f"table {table} not in the DOM"
    return [[unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r,
                                                                     re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", block.group(1), re.S)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "out"
    run([ROOT / "data" / "raw"], out, RunConfig(workers=1))
    return out


def spec_of(page: Path) -> dict:
    html = page.read_text("utf-8")
    return json.loads(re.search(r'class="dt-data">(.*?)</script>', html, re.S).group(1))


# --------------------------------------------------------------------------- index


def test_index_table_renders_filters_and_sorts(sample: Path) -> None:
    index = sample / "report" / "index.html"
    spec = spec_of(index)
    n = len(spec["rows"])
    dom = dump_dom(index)
    assert 'data-table="documents" data-ready="1"' in dom and "data-error" not in dom
    rows = tbody_rows(dom, "documents")
    assert len(rows) == n == len(read_table(sample, "documents"))
    titles = [r[0] for r in rows]
    assert titles == [r["title"] for r in spec["rows"]]
    assert 'href="docs/' in dom

    # Filter by text (from the address, as a link to a filtered view would).
    keys = [c["key"] for c in spec["columns"]]
    expected = [r for r in spec["rows"]
                if "志愿" in "\u0001".join("" if r.get(k) is None else str(r[k]) for k in keys)]
    assert 0 < len(expected) < n
    dom = dump_dom(index, "#?documents.q=志愿")
    assert [r[0] for r in tbody_rows(dom, "documents")] == [r["title"] for r in expected]
    assert f"{len(expected)} of {n} documents" in dom

    # Filter by a facet, and sort descending by a number.
    dom = dump_dom(index, "#?documents.doc_type=汇报&documents.sort=-n_chars")
    rows = tbody_rows(dom, "documents")
    want = sorted((r for r in spec["rows"] if r["doc_type"] == "汇报"),
                  key=lambda r: -r["n_chars"])
    assert [r[0] for r in rows] == [r["title"] for r in want]
    assert 'aria-sort="descending"' in dom


def test_index_of_a_large_run_is_paginated(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    n = 2100
    docs = pd.DataFrame({
        "doc_id": [f"p{i:04d}.txt#1" for i in range(n)], "source": [f"p{i:04d}.txt"
                                                                   for i in range(n)],
        "record": [None] * n, "article_no": [1] * n, "title": [f"第{i}号社区工作总结"
                                                            for i in range(n)],
        "year": [2000 + i % 24 for i in range(n)], "doc_type": ["总结"] * n,
        "place": [None] * n, "script": ["simplified"] * n, "encoding": ["utf-8"] * n,
        "n_chars": [20 + i for i in range(n)], "masked": [0] * n, "duplicate_of": [None] * n,
        "meta": [None] * n, "text": [f"社区工作总结。全年开展活动{i}场。" for i in range(n)],
    })
    docs.to_parquet(out / "documents.parquet")
    index = build_report(out)
    assert index.stat().st_size < 2_000_000
    assert len(list((out / "report" / "docs").glob("*.html"))) == n
    dom = dump_dom(index, "#?documents.page=3&documents.sort=-n_chars")
    rows = tbody_rows(dom, "documents")
    assert len(rows) == 50
    assert rows[0][0] == f"第{n - 1 - 100}号社区工作总结"
    assert f"page 3 of {-(-n // 50)}" in dom


# --------------------------------------------------------------------------- documents


def test_document_pages_show_highlights_outline_and_removed_lines(sample: Path) -> None:
    docs = read_table(sample, "documents")
    metrics = read_table(sample, "metrics")
    sections = read_table(sample, "sections")
    removed = read_table(sample, "removed")
    # A browser per page is slow: the page with the most articles (removed lines above,
    # between and below them) and the document with the most metrics. test_report.py
    # checks every page's HTML; here the browser's DOM is checked.
    sources = {docs["source"].value_counts().index[0],
               docs.set_index("doc_id").loc[metrics["doc_id"].value_counts().index[0],
                                            "source"]}
    chosen = docs.loc[docs["source"].isin(sources), "doc_id"]
    removed = removed[removed["source"].isin(sources)]
    shown_removed = 0
    for doc_id in chosen:
        dom = dump_dom(sample / "report" / "docs" / doc_filename(doc_id))
        found = tags(dom)
        marks = [a for t, a in found if t == "mark" and "sample" not in (a.get("class") or "")]
        ms = metrics[metrics["doc_id"] == doc_id]
        assert len(marks) == len(ms), doc_id  # the sample's metrics do not overlap
        text = read_table(sample, "documents").set_index("doc_id").loc[doc_id, "text"]
        for (_, m), mark in zip(ms.sort_values("start").iterrows(), marks, strict=True):
            assert mark["id"] == f"m-{m['start']}"
            assert mark["data-unit"] == (m["unit"] or MISSING)
            assert text[m["start"]:m["end"]] == m["raw"]
        tips = re.findall(r'<span class="tip" role="tooltip"[^>]*>(.*?)</span></mark>', dom, re.S)
        assert len(tips) == len(ms)
        for tip, (_, m) in zip(tips, ms.sort_values("start").iterrows(), strict=True):
            plain = unescape(re.sub(r"<[^>]+>", " ", tip))
            assert m["raw"] in plain and "unit" in plain and "category" in plain
            assert "indicator" in plain and "stance" in plain
        ids = {a.get("id") for _, a in found}
        hrefs = [a["href"] for t, a in found if t == "a" and a.get("href", "").startswith("#")]
        for sid in sections.loc[sections["doc_id"] == doc_id, "section_id"]:
            assert f"#sec-{sid}" in hrefs
        assert all(h[1:] in ids for h in hrefs), "an outline link without its target"
        lines = [a for t, a in found if t == "del" and "sample" not in (a.get("class") or "")]
        assert all(a.get("data-rule") for a in lines)
        shown_removed += len(lines)
    assert shown_removed == len(removed)


def test_removed_lines_toggle_and_highlights_are_visible(sample: Path, tmp_path: Path) -> None:
    keep = Path(os.environ.get("CORPUS_TOOLS_SCREENSHOTS") or tmp_path)
    keep.mkdir(parents=True, exist_ok=True)
    removed = read_table(sample, "removed")
    docs = read_table(sample, "documents")
    doc_id = docs.loc[docs["source"] == removed["source"].iloc[0], "doc_id"].iloc[0]
    page = sample / "report" / "docs" / doc_filename(doc_id)
    shown = screenshot(page, keep / "report-document.png", "1280,1000")
    index = screenshot(sample / "report" / "index.html", keep / "report-index.png", "1280,1000")
    assert index.std() > 0.05 and shown.std() > 0.05  # not a blank page
    metric_px = near(shown, (0xFF, 0xF1, 0xA8))
    removed_px = near(shown, (0xFD, 0xEC, 0xEB))
    assert metric_px > 500 and removed_px > 2000
    # The same page with the box unticked: the removed lines are gone, the text stays.
    hidden_page = page.with_name("hidden-" + page.name)
    hidden_page.write_text(page.read_text("utf-8").replace(
        'class="toggle" checked>', 'class="toggle">'), "utf-8")
    hidden = screenshot(hidden_page, tmp_path / "hidden.png", "1280,1000")
    hidden_page.unlink()
    assert near(hidden, (0xFD, 0xEC, 0xEB)) < removed_px / 10
    assert near(hidden, (0xFF, 0xF1, 0xA8)) > 0
    # A metric with the keyboard focus shows its tooltip (value, unit, category …).
    focused_page = page.with_name("focused-" + page.name)
    focused_page.write_text(page.read_text("utf-8").replace(
        '<mark class="metric" tabindex="0"', '<mark class="metric" tabindex="0" autofocus', 1),
        "utf-8")
    tip = screenshot(focused_page, keep / "report-tooltip.png", "1280,1000")
    focused_page.unlink()
    assert near(shown, (0x24, 0x30, 0x3F)) < 100
    assert near(tip, (0x24, 0x30, 0x3F)) > 5000


def test_bundled_font_loads_from_the_file_system(sample: Path) -> None:
    report = sample / "report"
    probe = report / "font-probe.html"
    probe.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="assets/report.css"></head><body>'
        '<p lang="zh-CN">社区志愿服务工作总结</p><script>'
        'document.fonts.load(\'16px "Report Noto Sans CJK SC"\', "社区志愿服务").then('
        'function (f) { document.body.setAttribute("data-faces", String(f.length)); },'
        'function (e) { document.body.setAttribute("data-faces", "error " + e); });'
        "</script></body></html>", "utf-8")
    try:
        dom = dump_dom(probe)
    finally:
        probe.unlink()
    assert 'data-faces="1"' in dom


# --------------------------------------------------------------------------- hostile text


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("hostile-browser") / "raw"
    raw.mkdir()
    (raw / "hostile.txt").write_text(HOSTILE, "utf-8")
    # A file name is page text too: it is shown in the tables the script fills in.
    (raw / "<img src=x onerror=\"document.title='PWNED'\">.txt").write_text(HOSTILE, "utf-8")
    (raw / "hostile.jsonl").write_text(json.dumps(
        {"title": '</script><img src=x onerror="document.title=\'PWNED\'">标题',
         "text": "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">\n"
                 + HOSTILE}, ensure_ascii=False) + "\n", "utf-8")
    out = raw.parent / "out"
    run([raw], out, RunConfig(workers=1, themes=False, charts=False))
    return out


def _assert_no_page_script_ran(dom: str) -> None:
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert title.strip() != "PWNED" and title.endswith("corpus_tools report")
    assert "data-pwned" not in re.search(r"<body[^>]*>", dom).group(0)
    names = [t for t, _ in tags(dom)]
    assert not {"img", "iframe", "svg", "textarea"} & set(names)


@pytest.mark.parametrize("without_csp", [False, True], ids=["as-written", "csp-removed"])
def test_no_script_from_page_text_runs(hostile: Path, tmp_path: Path, without_csp: bool) -> None:
    """Escaping alone keeps page text inert: the same holds with the CSP taken out."""
    report = hostile / "report"
    if without_csp:
        copy = tmp_path / "report"
        shutil.copytree(report, copy)
        for page in copy.rglob("*.html"):
            page.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "",
                                   page.read_text("utf-8")), "utf-8")
        report = copy
    index_dom = dump_dom(report / "index.html")
    assert 'data-table="documents" data-ready="1"' in index_dom  # our own script did run
    _assert_no_page_script_ran(index_dom)
    assert "&lt;img src=x onerror=" in index_dom  # the hostile file name, as text in a cell
    assert "&lt;img src=x onerror=" in "".join(c for r in tbody_rows(index_dom, "documents")
                                            for c in r).replace("<", "&lt;")
    for page in sorted((report / "docs").glob("*.html")):
        dom = dump_dom(page)
        _assert_no_page_script_ran(dom)
        assert "&lt;script&gt;" in dom  # shown, not run
