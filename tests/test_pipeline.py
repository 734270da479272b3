"""The batch pipeline: every input accounted for, resumable, identical across engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.config import RunConfig
from corpus_tools.pipeline import discover, run
from corpus_tools.schema import TABLES
from corpus_tools.store import read_table

FAST = RunConfig(workers=1, themes=False, charts=False)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(out, name) for name in TABLES}


def assert_same_tables(a: Path, b: Path) -> None:
    ta, tb = tables(a), tables(b)
    for name in TABLES:
        pd.testing.assert_frame_equal(ta[name], tb[name], obj=name)


def entries(out: Path) -> dict[str, dict]:
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    return {e["source"]: e for e in manifest["inputs"]}


def test_run_writes_tables_and_manifest(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run([corpus_dir], out, FAST.replace(csv=True))
    docs = read_table(out, "documents")
    assert set(docs["source"]) == {"summary.txt", "portal.txt", "sub/traditional.txt"}
    assert (docs.groupby("source").size()["summary.txt"]) == 2
    assert docs["doc_id"].is_unique
    trad = docs[docs["source"] == "sub/traditional.txt"].iloc[0]
    assert trad["script"] == "traditional"
    assert trad["encoding"] == "big5"
    assert "一是统一部署" in trad["text"] and "关注" in trad["text"] and "志愿" in trad["text"]
    assert result.manifest["summary"]["ok"] == 3
    for e in result.entries:
        assert len(e["sha256"]) == 64 and e["rows"]["documents"] >= 1
    # CSV for Excel: UTF-8 with a byte-order mark.
    assert (out / "documents.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_offsets_slice_back_in_written_tables(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([corpus_dir], out, FAST)
    docs = read_table(out, "documents").set_index("doc_id")["text"]
    metrics = read_table(out, "metrics")
    sections = read_table(out, "sections")
    assert len(metrics) > 5 and len(sections) > 5
    for m in metrics.itertuples():
        assert docs[m.doc_id][m.start:m.end] == m.raw
    for s in sections.itertuples():
        assert docs[s.doc_id][s.start:s.end] == s.text
    removed = read_table(out, "removed")
    assert {"source", "line_no", "text", "rule"} <= set(removed.columns)
    assert (removed["source"] == "summary.txt").any()


def test_section_text_is_stored_once(corpus_dir: Path, tmp_path: Path) -> None:
    # sections.parquet holds offsets only; read_table, section_text and the CSV derive text
    import pyarrow.parquet as pq

    from corpus_tools import section_text

    out = tmp_path / "out"
    run([corpus_dir], out, FAST.replace(csv=True))
    assert "text" not in pq.read_schema(out / "sections.parquet").names
    sections = read_table(out, "sections")
    assert list(sections.columns)[list(sections.columns).index("title") + 1] == "text"
    docs = read_table(out, "documents")
    assert section_text(sections, docs).tolist() == sections["text"].tolist()
    assert section_text(sections, out).tolist() == sections["text"].tolist()
    assert read_table(out, "sections", columns=["section_id", "text"]).equals(
        sections[["section_id", "text"]])
    assert "text" not in read_table(out, "sections", columns=["doc_id", "start"]).columns
    csv = pd.read_csv(out / "sections.csv", encoding="utf-8-sig", keep_default_na=False)
    assert csv["text"].tolist() == sections["text"].tolist()
    assert csv.columns.tolist() == sections.columns.tolist()


def hostile_corpus(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.md").write_text("  \n\n \u3000\n", encoding="utf-8")
    good = "一、基本情况\n社区共有居民1200户，3000人。\n".encode("gb18030")
    (d / "truncated_gb18030.txt").write_bytes(good * 20 + "社区".encode("gb18030")[:-1])
    (d / "mixed.txt").write_bytes("一、总体情况\n".encode() + "社區工作".encode("big5"))
    (d / "digits.txt").write_text("9" * 100_000, encoding="utf-8")
    (d / "brackets.txt").write_text(
        "（" * 5000 + "一二三四" * 5000 + "）" * 5000 + "\n" + "一、二、三、四、" * 3000,
        encoding="utf-8")
    (d / "one_line.txt").write_text("社区开展志愿服务活动12场，服务群众300人次。" * 30_000,
                                    encoding="utf-8")
    (d / "notes.docx.bak").write_bytes(b"whatever")
    (d / "loop").symlink_to(d / "loop")
    (d / "dirlink").symlink_to(d)
    (d / "ok.txt").write_text("一、基本情况\n全年开展活动46场。\n二、下一步\n继续努力。\n",
                              encoding="utf-8")


def test_hostile_input_is_accounted_for(tmp_path: Path) -> None:
    raw = tmp_path / "hostile"
    hostile_corpus(raw)
    out = tmp_path / "out"
    result = run([raw], out, FAST)
    seen = entries(out)
    on_disk = {p.name for p in raw.iterdir()}
    assert set(seen) == on_disk, "every input file is in the manifest"
    status = {name: e["status"] for name, e in seen.items()}
    assert status["binary.txt"] == "failed" and "binary" in seen["binary.txt"]["reason"]
    assert status["empty.txt"] == "skipped"
    assert status["blank.md"] == "skipped" and "empty" in seen["blank.md"]["reason"]
    assert status["truncated_gb18030.txt"] == "failed"
    assert "GB18030" in seen["truncated_gb18030.txt"]["reason"]
    assert status["mixed.txt"] == "failed" and "not decodable" in seen["mixed.txt"]["reason"]
    assert status["digits.txt"] == "ok"
    assert status["brackets.txt"] == "ok"
    assert status["one_line.txt"] == "ok"
    assert status["notes.docx.bak"] == "skipped"
    assert status["loop"] == "failed" and "unreadable" in seen["loop"]["reason"]
    assert status["dirlink"] == "skipped"
    assert status["ok.txt"] == "ok"
    assert result.manifest["summary"]["files"] == len(on_disk)
    docs = read_table(out, "documents")
    assert "ok.txt" in set(docs["source"])
    metrics = read_table(out, "metrics")
    assert (metrics[metrics["doc_id"].str.startswith("one_line.txt")]["raw"] == "12场").sum() \
        == 30_000


def test_unreadable_file_is_failed_not_fatal(corpus_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def fake_open(file, flags, *args, **kwargs):
        if str(file).endswith("portal.txt"):
            raise PermissionError(13, "Permission denied")
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake_open)  # we may be root: chmod 000 would not do
    run([corpus_dir], tmp_path / "out", FAST)
    e = entries(tmp_path / "out")["portal.txt"]
    assert e["status"] == "failed" and "Permission denied" in e["reason"]


def test_strict_raises(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(Exception, match="binary"):
        run([raw], tmp_path / "out", FAST.replace(strict=True))


def test_discover_is_sorted_and_relative(corpus_dir: Path) -> None:
    found = discover([corpus_dir])
    assert [f.source for f in found] == ["portal.txt", "summary.txt", "sub/traditional.txt"]


def test_rerun_reuses_unchanged_pages_and_reports_vanished(corpus_dir: Path,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([corpus_dir], out, FAST)
    first = tables(out)
    (corpus_dir / "portal.txt").unlink()
    (corpus_dir / "summary.txt").write_text(
        (corpus_dir / "summary.txt").read_text("utf-8").replace("1860户", "1870户"), "utf-8")
    (corpus_dir / "new.txt").write_text("一、新情况\n新增居民20户。\n", "utf-8")
    result = run([corpus_dir], out, FAST)
    seen = {e["source"]: e for e in result.entries}
    assert seen["sub/traditional.txt"]["cached"] is True
    assert seen["summary.txt"]["cached"] is False
    assert seen["new.txt"]["cached"] is False
    assert result.manifest["vanished"] == ["portal.txt"]
    docs = read_table(out, "documents")
    assert "portal.txt" not in set(docs["source"])
    assert "1870户" in read_table(out, "metrics")["raw"].tolist()
    trad = first["documents"][first["documents"]["source"] == "sub/traditional.txt"]
    pd.testing.assert_frame_equal(
        trad.reset_index(drop=True),
        docs[docs["source"] == "sub/traditional.txt"].reset_index(drop=True))


def many_pages(d: Path, n: int) -> None:
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).parent))
    from conftest import PAGE_PORTAL, PAGE_SUMMARY, PAGE_TRADITIONAL

    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = (PAGE_SUMMARY, PAGE_PORTAL, PAGE_TRADITIONAL)[i % 3]
        (d / f"page_{i:03d}.txt").write_text(text.replace("46场", f"{i + 1}场"), "utf-8")


def test_two_workers_give_identical_tables(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 12)
    run([raw], tmp_path / "one", FAST)
    run([raw], tmp_path / "two", FAST.replace(workers=2))
    assert_same_tables(tmp_path / "one", tmp_path / "two")


def test_sigkilled_run_resumes_to_identical_tables(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 60)
    run([raw], tmp_path / "whole", FAST)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "corpus_tools", "run", str(raw), "--out", str(out),
           "--workers", "1", "--no-themes", "--no-charts", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = out / ".parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len([p for p in parts.iterdir()]) >= 5:
            break
        time.sleep(0.005)
    killed_midway = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert killed_midway, "the run ended before it could be killed; make the corpus larger"
    assert not (out / "manifest.json").exists()
    result = run([raw], out, FAST)
    assert 0 < result.manifest["summary"]["cached"] < 60
    assert_same_tables(tmp_path / "whole", out)


THEME_TABLES = ("themes", "section_themes", "named_themes", "theme_selection")


def test_dask_engine_gives_identical_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    pytest.importorskip("distributed")
    import corpus_tools.themes.run as theme_run

    # batches of a few sections: the theme step runs as many tasks (planned in the client)
    monkeypatch.setattr(theme_run, "BATCH_ROWS", 4)
    raw = tmp_path / "raw"
    many_pages(raw, 6)
    config = FAST.replace(themes=True, n_themes=2)
    run([raw], tmp_path / "local", config)
    run([raw], tmp_path / "two", config.replace(workers=2))  # the theme tasks on a pool
    result = run([raw], tmp_path / "dask", config.replace(engine="dask", workers=2))
    assert_same_tables(tmp_path / "local", tmp_path / "dask")
    assert len(theme_run.plan_batches(tmp_path / "local")) > 2
    for name in THEME_TABLES:
        local = pd.read_parquet(tmp_path / "local" / f"{name}.parquet")
        assert len(local), name
        for other in ("two", "dask"):
            pd.testing.assert_frame_equal(
                local, pd.read_parquet(tmp_path / other / f"{name}.parquet"), obj=name)
    assert not (tmp_path / "dask" / theme_run.WORK_DIR).exists()
    # the duplicate pass ran as Dask tasks over the bands, and found the copies
    assert result.manifest["summary"]["duplicates"] > 0
    assert (tmp_path / "dask" / ".dedup" / "signatures.parquet").is_file()


def test_fifty_megabyte_page_on_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    unit = "社区积极开展志愿服务活动，营造文明和谐的社区氛围。" * 9 + "全年服务群众300人次。"
    n = 50_000_000 // len(unit.encode())
    (raw / "one_line.txt").write_text(unit * n, encoding="utf-8")
    result = run([raw], tmp_path / "out", FAST)
    entry = result.entries[0]
    assert entry["status"] == "ok" and entry["bytes"] > 49_000_000
    assert entry["rows"]["metrics"] == n
    docs = read_table(tmp_path / "out", "documents", columns=["n_chars"])
    assert docs["n_chars"].iloc[0] == len(unit) * n


def test_unchanged_rerun_reuses_themes_and_charts(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = RunConfig(workers=1, n_themes=2)
    first = run([corpus_dir], out, config).manifest["steps"]
    assert first["themes"]["status"] == "ok" and not first["themes"].get("reused")
    stamp = (out / "themes.parquet").stat().st_mtime_ns
    again = run([corpus_dir], out, config).manifest["steps"]
    assert again["themes"]["reused"] and again["charts"]["reused"]
    assert (out / "themes.parquet").stat().st_mtime_ns == stamp
    # another setting, a changed input, or theme tables rewritten since: fitted again
    assert not run([corpus_dir], out, config.replace(random_state=1)).manifest["steps"][
        "themes"].get("reused")
    (corpus_dir / "summary.txt").write_text(
        (corpus_dir / "summary.txt").read_text("utf-8") + "\n三、其他\n新增居民20户。\n", "utf-8")
    steps = run([corpus_dir], out, config.replace(random_state=1)).manifest["steps"]
    assert not steps["themes"].get("reused") and not steps["charts"].get("reused")
    from corpus_tools.themes import run_themes

    run_themes(out, n_themes=3)
    assert not run([corpus_dir], out, config.replace(random_state=1)).manifest["steps"][
        "themes"].get("reused")
    assert not run([corpus_dir], out, config.replace(resume=False)).manifest["steps"][
        "themes"].get("reused")


def test_page_workers_start_with_the_stages_loaded(tmp_path: Path) -> None:
    """The forkserver of the page workers loads the stages and their rules once, before it
    forks them (corpus_tools._preload); a worker then finds them loaded, and the
    dictionaries for place names not loaded (only a page asking for a place loads them)."""
    code = (
        "import functools\n"
        "from corpus_tools import pipeline\n"
        "probe = ('[\"corpus_tools._preload\" in __import__(\"sys\").modules,'\n"
        "         ' bool(__import__(\"corpus_tools.pipeline\", fromlist=[\"_\"])._WARM),'\n"
        "         ' \"jieba.posseg\" in __import__(\"sys\").modules]')\n"
        "with pipeline._pool(2, preload=True) as pool:\n"
        "    print(pool.submit(functools.partial(eval, probe)).result())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[True, True, False]"
