"""Hostile input: no input stops, stalls or silently corrupts a run.

Each case is built in a temporary folder and run; every test asserts how the run ends
(exit code or status), within a time bound where a hang is the failure, and that every
input is in the manifest with a reason. Cases that need a child process (a hang, a kill)
run the command line with a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _timing import assert_linear
from test_pipeline import assert_same_tables

from corpus_tools import store
from corpus_tools.cli import main
from corpus_tools.config import RunConfig
from corpus_tools.errors import ConfigError, IncompleteRunError, InputError
from corpus_tools.io import read_page
from corpus_tools.pipeline import discover, escape_name, run, unescape_name
from corpus_tools.store import read_table

FAST = RunConfig(workers=1, themes=False, charts=False)
PAGE = "一、基本情况\n社区共有居民1200户，3000人。全年开展活动46场。\n二、下一步打算\n继续壮大志愿者队伍。\n"


def page(n: int = 0) -> str:
    return PAGE.replace("1200", str(1200 + n))


def entries(out: Path) -> dict[str, dict]:
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    return {e["source"]: e for e in manifest["inputs"]}


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command line in a child process; a hang fails the test at *timeout*."""
    cmd = [sys.executable, "-m", "corpus_tools", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`corpus-tools {' '.join(args)}` did not end within {timeout} s")


# ----------------------------------------------------------------------- files that are not


def test_fifo_in_a_folder_is_skipped_unopened(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ok.txt").write_text(page(), "utf-8")
    os.mkfifo(raw / "pipe.txt")
    out = tmp_path / "out"
    done = cli("run", str(raw), "--out", str(out), "--workers", "1", "--no-themes",
               "--no-charts", "-q", timeout=90)
    assert done.returncode == 0, done.stderr
    e = entries(out)
    assert e["pipe.txt"]["status"] == "skipped"
    assert "not a regular file" in e["pipe.txt"]["reason"]
    assert e["ok.txt"]["status"] == "ok"


def test_fifo_given_as_argument_is_skipped(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    ok = tmp_path / "ok.txt"
    ok.write_text(page(), "utf-8")
    result = run([fifo, ok], tmp_path / "out", FAST)
    by_name = {e["source"].rsplit("/", 1)[-1]: e for e in result.entries}
    assert by_name["pipe.txt"]["status"] == "skipped"
    assert "not a regular file" in by_name["pipe.txt"]["reason"]


def test_read_page_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys\nfrom corpus_tools import read_page\n"
         "try:\n    read_page(sys.argv[1])\nexcept Exception as e:\n    print(e)\n",
         str(fifo)], capture_output=True, text=True, timeout=60)
    assert "not a regular file" in done.stdout


def test_devices_sockets_and_a_folder_named_like_a_page(tmp_path: Path) -> None:
    import socket

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "null.txt").symlink_to("/dev/null")
    (raw / "zero.txt").symlink_to("/dev/zero")
    sock = socket.socket(socket.AF_UNIX)
    sock_path = raw / "s.txt"
    try:
        sock.bind(str(sock_path))
        (raw / "x.txt").mkdir()
        (raw / "x.txt" / "inner.txt").write_text(page(), "utf-8")
        t0 = time.monotonic()
        result = run([raw], tmp_path / "out", FAST)
        assert time.monotonic() - t0 < 60
    finally:
        sock.close()
    e = {x["source"]: x for x in result.entries}
    for name in ("null.txt", "zero.txt", "s.txt"):
        assert e[name]["status"] == "skipped" and "not a regular file" in e[name]["reason"]
    assert e["x.txt/inner.txt"]["status"] == "ok"


def test_undecodable_file_name_is_read_under_an_escaped_name(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    gbk = "社区总结.txt".encode("gbk")
    with open(os.path.join(os.fsencode(raw), gbk), "w", encoding="utf-8") as fh:
        fh.write(page())
    (raw / "ok.txt").write_text(page(1), "utf-8")
    out = tmp_path / "out"
    result = run([raw], out, FAST)
    escaped = gbk.decode("utf-8", "backslashreplace")
    e = entries(out)
    assert set(e) == {escaped, "ok.txt"}
    assert e[escaped]["status"] == "ok" and e[escaped]["rows"]["documents"] == 1
    docs = read_table(out, "documents")
    assert escaped in set(docs["source"])
    # Lossless: the escape undoes to the bytes of the name on disk.
    assert unescape_name(escaped) == gbk
    assert unescape_name(escape_name("a\\b.txt")) == b"a\\b.txt"
    assert result.manifest["summary"]["ok"] == 2


# ----------------------------------------------------------------------- records and parts


def test_lone_surrogate_in_jsonl_is_replaced_and_counted(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = [json.dumps({"text": page(0) + "志愿服务\ud83d"}),
             json.dumps({"text": page(1), "title": "\udc00标题"})]
    (raw / "scrape.jsonl").write_text("\n".join(lines) + "\n", "ascii")
    (raw / "ok.txt").write_text(page(2), "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST)
    e = entries(out)["scrape.jsonl"]
    assert e["status"] == "ok" and e["pages"] == 2
    assert e["repairs"]["surrogates"] == 2
    docs = read_table(out, "documents")
    text = docs[docs["source"] == "scrape.jsonl"]["text"].str.cat()
    assert "志愿服务\ufffd" in text


def many_pages(raw: Path, n: int) -> None:
    raw.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (raw / f"p{i:02d}.txt").write_text(page(i), "utf-8")


@pytest.mark.parametrize("damage", ["truncate", "empty", "flip", "no_state", "empty_state",
                                    "old_state"])
def test_damaged_part_is_redone_and_reported(tmp_path: Path, damage: str) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 3)
    out = tmp_path / "out"
    run([raw], out, FAST)
    part = store.part_dir(out, "p01.txt")
    arrow = part / store.PART_FILE
    if damage == "truncate":
        arrow.write_bytes(arrow.read_bytes()[:100])
    elif damage == "empty":
        arrow.write_bytes(b"")
    elif damage == "flip":
        data = bytearray(arrow.read_bytes())
        data[len(data) // 2] ^= 0xFF
        arrow.write_bytes(bytes(data))
    elif damage == "no_state":
        (part / "state.json").unlink()
    elif damage == "empty_state":
        (part / "state.json").write_bytes(b"")
    else:  # a part written before checksums were kept
        state = json.loads((part / "state.json").read_text("utf-8"))
        del state["files"]
        (part / "state.json").write_text(json.dumps(state), "utf-8")
    result = run([raw], out, FAST)
    e = {x["source"]: x for x in result.entries}
    assert not e["p01.txt"]["cached"] and "damaged part" in e["p01.txt"]["repaired"]
    assert e["p00.txt"]["cached"] and e["p02.txt"]["cached"]
    assert result.manifest["summary"]["repaired"] == 1
    run([raw], tmp_path / "fresh", FAST)
    assert_same_tables(out, tmp_path / "fresh")


# ----------------------------------------------------------------------- folders


def test_unreadable_subfolder_is_a_failed_entry(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 2)
    (raw / "locked").mkdir()
    (raw / "locked" / "inside.txt").write_text(page(), "utf-8")
    real = os.scandir

    def scandir(path: object = ".") -> object:  # we may be root: chmod 000 would not do
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run([raw], tmp_path / "out", FAST)
    e = {x["source"]: x for x in result.entries}
    assert e["locked"]["status"] == "failed"
    assert "Permission denied" in e["locked"]["reason"]
    assert e["p00.txt"]["status"] == "ok"


def test_out_inside_the_input_folder_is_never_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 3)
    out = raw / "out"
    counts = []
    for _ in range(3):
        result = run([raw], out, FAST)
        counts.append(result.manifest["summary"]["documents"])
    assert counts == [3, 3, 3]
    e = entries(out)
    assert e["out"]["status"] == "skipped" and "output folder" in e["out"]["reason"]


def test_a_folder_holding_another_runs_outputs_is_never_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 2)
    run([raw], raw / "old_run", FAST)
    result = run([raw], tmp_path / "out", FAST)
    e = {x["source"]: x for x in result.entries}
    assert e["old_run"]["status"] == "skipped"
    assert not any(s.startswith("old_run/") for s in e)
    assert result.manifest["summary"]["documents"] == 2
    # Passed as the input itself, it is skipped too.
    result = run([raw / "old_run"], tmp_path / "out2", FAST)
    assert [x["status"] for x in result.entries] == ["skipped"]


def test_discover_accounts_for_a_missing_input(tmp_path: Path) -> None:
    (found,) = discover([tmp_path / "nope"])
    assert found.problem and "no such file" in found.problem


# ----------------------------------------------------------------------- a run's outputs


def test_outputs_of_two_runs_are_never_mixed(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus_tools.pipeline as pipeline

    raw = tmp_path / "raw"
    many_pages(raw, 3)
    out = tmp_path / "out"
    run([raw], out, FAST)
    assert read_table(out, "documents").shape[0] == 3
    (raw / "p03.txt").write_text(page(3), "utf-8")

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the run dies while it replaces the tables

    monkeypatch.setattr(pipeline._Assembly, "close", killed)
    with pytest.raises(KeyboardInterrupt):
        run([raw], out, FAST)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["complete"] is False
    with pytest.raises(IncompleteRunError, match="two runs"):
        read_table(out, "documents")
    monkeypatch.undo()
    result = run([raw], out, FAST)
    assert result.manifest["complete"] is True
    assert read_table(out, "documents").shape[0] == 4


def test_stale_temporaries_are_cleaned(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 2)
    out = tmp_path / "out"
    run([raw], out, FAST)
    stale = [out / ".documents.parquet.k3j_x9a2.tmp", out / ".themes.parquet.tmp-4242",
             out / ".manifest.json.abcdefgh.tmp"]
    for p in stale:
        p.write_bytes(b"half a table")
    (out / ".parts" / ".0123abcd.zz9_k2lm").mkdir()
    keep = out / "notes.tmp"
    keep.write_text("mine", "utf-8")
    run([raw], out, FAST)
    assert not any(p.exists() for p in stale)
    assert not (out / ".parts" / ".0123abcd.zz9_k2lm").exists()
    assert keep.exists()


def test_tables_are_fsynced_before_the_rename(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b)))
    target = tmp_path / "t.json"
    store.write_json(target, {"a": 1})
    assert events[:2] == ["fsync", "replace"] and json.loads(target.read_text()) == {"a": 1}


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_outputs_follow_the_umask(tmp_path: Path, umask: int) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 2)
    out = tmp_path / "out"
    old = os.umask(umask)
    try:
        run([raw], out, RunConfig(workers=1, themes=True, charts=False, n_themes=2,
                                  csv=True))
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    files = [*out.glob("*.parquet"), *out.glob("*.csv"), out / "manifest.json"]
    assert any(p.name == "section_themes.parquet" for p in files)
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == \
        {p.name: oct(want) for p in files}


# ----------------------------------------------------------------------- settings and CLI


def test_nonexistent_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "nope"), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "no such file or folder" in err and len(err.strip().splitlines()) == 1
    assert not (out / "manifest.json").exists()


def test_nonexistent_input_beside_others_is_failed_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 1)
    out = tmp_path / "out"
    code = main(["run", str(raw), str(tmp_path / "nope"), "--out", str(out), "-q",
                 "--no-themes", "--no-charts", "--workers", "1"])
    assert code == 1
    e = entries(out)
    missing = [x for x in e.values() if x["status"] == "failed"]
    assert len(missing) == 1 and "no such file" in missing[0]["reason"]
    assert "no such file or folder" in capsys.readouterr().err


def test_out_naming_a_file_is_a_one_line_error(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 1)
    target = tmp_path / "out.txt"
    target.write_text("not a folder", "utf-8")
    assert main(["run", str(raw), "--out", str(target), "-q"]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and len(err.strip().splitlines()) == 1
    assert target.read_text("utf-8") == "not a folder"
    with pytest.raises(InputError, match="is a file"):
        run([raw], target, FAST)


@pytest.mark.parametrize(("toml", "message"), [
    ('workers = "two"', "workers must be an integer, got 'two'"),
    ("csv = 1", "csv must be true or false, got 1"),
    ("dedup_threshold = \"high\"", "dedup_threshold must be a number"),
    ("n_themes = 2.5", "n_themes must be an integer"),
    ("lexicon = 3", "lexicon must be a string"),
    ("workers = true", "workers must be an integer, got True"),
])
def test_settings_are_type_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   toml: str, message: str) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text(toml + "\n", "utf-8")
    assert main(["run", str(tmp_path), "--config", str(cfg), "-q"]) == 2
    assert message in capsys.readouterr().err
    key, _, value = toml.partition(" = ")
    with pytest.raises(ConfigError, match=message.split(",")[0]):
        RunConfig(**{key: json.loads(value.replace("true", "true"))})


def test_missing_lexicon_is_found_before_the_first_page(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    many_pages(raw, 1)
    out = tmp_path / "out"
    code = main(["run", str(raw), "--out", str(out), "--lexicon", str(tmp_path / "no.yaml"),
                 "-q", "--workers", "1"])
    assert code == 2
    assert "no.yaml" in capsys.readouterr().err
    assert not (out / ".parts").exists()


def test_read_page_reports_nothing_for_a_clean_page(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"text": page()}) + "\n", "utf-8")
    report: dict = {}
    pages, issues = read_page(p, report=report)
    assert len(pages) == 1 and not issues and report == {}


# ----------------------------------------------------------------------- stalls


@pytest.mark.parametrize("make", [
    lambda n: "#" * n + "a",
    lambda n: "＃" * n,
    lambda n: "_" * n + "a",
    lambda n: "社区" + "＿" * n + "b",
], ids=["hash_before_letter", "fullwidth_hash_run", "underscore_before_letter",
        "fullwidth_underscore_in_chinese"])
def test_normalize_is_linear_on_runs_of_placeholder_marks(make) -> None:
    from corpus_tools.normalize import normalize_text

    assert_linear(normalize_text, make, 20_000, 80_000, bound=8)


@pytest.mark.parametrize("make", [
    lambda n: " " * n + "社区工作",
    lambda n: "\u3000" * n + "社区工作",  # not a heading: the grammar fails after the run
    lambda n: "\u3000" * n + "一、社区工作",
    lambda n: "# " + " " * n + "社区",
    lambda n: "- " + "\u3000" * n + "社区",
], ids=["spaces", "ideographic_spaces", "ideographic_spaces_then_heading",
        "markdown_hash_then_spaces", "bullet_then_spaces"])
def test_split_sections_is_linear_on_runs_of_spaces(make) -> None:
    from corpus_tools.sections import split_sections

    assert_linear(split_sections, make, 5_000, 20_000, bound=8)


# ----------------------------------------------------------------------- decoding


def test_stray_nul_bytes_are_dropped_and_counted(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    text = (page() * 270).encode("utf-8")
    assert len(text) > 36_000
    cut = text.index(b"\n", 18_000) + 1  # between two characters
    (raw / "one_nul.txt").write_bytes(text[:cut] + b"\0" + text[cut:])
    (raw / "binary.bin.txt").write_bytes((b"\0\0\0\x01" + b"abcdef") * 4000)
    result = run([raw], tmp_path / "out", FAST)
    e = {x["source"]: x for x in result.entries}
    assert e["one_nul.txt"]["status"] == "ok"
    assert e["one_nul.txt"]["repairs"] == {"nul_dropped": 1}
    docs = read_table(tmp_path / "out", "documents")
    assert "\0" not in docs["text"].str.cat()
    # Binary by real evidence, and the figure is the file's.
    assert e["binary.bin.txt"]["status"] == "failed"
    assert "30% NUL" in e["binary.bin.txt"]["reason"]
    assert "UTF-16" not in e["binary.bin.txt"]["reason"]


def test_utf16_without_bom_is_still_named(tmp_path: Path) -> None:
    from corpus_tools.io import decode_bytes

    with pytest.raises(InputError, match="UTF-16 without a byte-order mark"):
        decode_bytes(("Community report 2023, " * 50).encode("utf-16-le"))


def bad_bytes_corpus(raw: Path) -> tuple[bytes, bytes]:
    raw.mkdir()
    good = (page() * 80).encode("utf-8")
    a, b, c = (good.index(b"\n", n) + 1 for n in (3000, 6000, 9000))  # between characters
    damaged = good[:a] + b"\xff" + good[a:b] + b"\xfe" + good[b:c] + b"\x80" + good[c:]
    (raw / "three_bad.txt").write_bytes(damaged)
    gb = (page() * 40).encode("gb18030")
    truncated = gb + "社区".encode("gb18030")[:-1]
    (raw / "truncated.txt").write_bytes(truncated)
    return damaged, truncated


def test_bad_bytes_fail_by_default_and_are_salvaged_on_request(tmp_path: Path) -> None:
    damaged, truncated = bad_bytes_corpus(tmp_path / "raw")
    strict = run([tmp_path / "raw"], tmp_path / "strict", FAST)
    assert {e["status"] for e in strict.entries} == {"failed"}
    out = tmp_path / "salvaged"
    code = main(["run", str(tmp_path / "raw"), "--out", str(out), "--salvage", "-q",
                 "--workers", "1", "--no-themes", "--no-charts"])
    assert code == 0
    e = entries(out)
    three = e["three_bad.txt"]
    assert three["status"] == "ok" and three["encoding"] == "utf-8"
    assert three["repairs"]["replaced"] == 3
    offsets = three["repairs"]["replaced_offsets"]
    assert [damaged[o:o + 1] for o in offsets] == [b"\xff", b"\xfe", b"\x80"]
    trunc = e["truncated.txt"]
    assert trunc["status"] == "ok" and trunc["encoding"] == "gb18030"
    assert trunc["repairs"]["replaced_offsets"] == [len(truncated) - 1]
    kept = pd.concat([read_table(out, "documents")["text"], read_table(out, "removed")["text"]])
    assert kept.str.count("\ufffd").sum() == 4  # each bad byte is one U+FFFD, kept or removed
    # A file that is not text is not "salvaged" into a page of U+FFFD.
    report: dict = {}
    from corpus_tools.io import decode_bytes

    with pytest.raises(InputError, match="not salvaged"):
        decode_bytes(bytes(range(128, 256)) * 100, errors="replace", report=report)


# ----------------------------------------------------------------------- records and HTML


def test_unterminated_csv_quote_is_an_error_row_and_the_rest_is_read(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "rows.csv").write_text(
        'id,text\n1,"社区开展活动12场\n2,全年服务群众300人次\n3,新建活动室2个\n', "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST)
    e = entries(out)["rows.csv"]
    assert e["status"] == "ok" and e["pages"] == 3 and e["errors"] == 1
    errors = read_table(out, "errors")
    assert errors["message"].str.contains("unterminated quote").any()
    docs = read_table(out, "documents")
    assert list(docs["record"]) == [0, 1, 2]
    assert docs["text"].tolist()[1] == "全年服务群众300人次"


def test_unclosed_script_is_recorded_as_removed(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "page.html").write_text(
        "<html><body><p>一、基本情况</p><p>社区共有居民1200户。</p>"
        "<script>var a = 1;\n<p>二、主要做法</p><p>开展活动46场。</p></body></html>", "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST)
    e = entries(out)["page.html"]
    assert e["status"] == "ok" and e["repairs"]["unclosed"]["tag"] == "script"
    removed = read_table(out, "removed")
    hidden = removed[removed["rule"] == "html_unclosed_script"]
    assert len(hidden) == 1 and "开展活动46场" in hidden["text"].iloc[0]


def test_page_of_invisible_characters_is_skipped_with_a_reason(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "nbsp.txt").write_text("\u200b\xa0\u200b\ufeff\u200d\n\u2060\xa0" * 50, "utf-8")
    (raw / "records.jsonl").write_text(
        json.dumps({"text": "\u200b\u200c" * 10}) + "\n" + json.dumps({"text": page()}) + "\n",
        "utf-8")
    out = tmp_path / "out"
    run([raw], out, FAST)
    e = entries(out)
    assert e["nbsp.txt"]["status"] == "skipped"
    assert e["nbsp.txt"]["reason"] == "no text after normalization"
    assert e["records.jsonl"]["status"] == "ok" and e["records.jsonl"]["errors"] == 1
    errors = read_table(out, "errors")
    assert (errors["message"] == "no text after normalization").sum() == 1


# ----------------------------------------------------------------------- watchdog and kills


# A timer signal's exception that lands in a GC callback is reported "unraisable" (and the
# timer fires again until one lands): expected here, not a failure.
_UNRAISABLE = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@_UNRAISABLE
def test_a_page_over_the_time_limit_is_failed_and_the_run_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus_tools.pipeline as pipeline

    raw = tmp_path / "raw"
    many_pages(raw, 3)
    (raw / "stall.txt").write_text("STALL\n" + page(9), "utf-8")
    real = pipeline.process_page

    def slow(page, config=pipeline.DEFAULT):  # a stage stuck in a loop
        while "STALL" in page.text:
            pass
        return real(page, config)

    monkeypatch.setattr(pipeline, "process_page", slow)
    t0 = time.monotonic()
    result = run([raw], tmp_path / "out", FAST.replace(page_timeout=2.0))
    assert time.monotonic() - t0 < 60
    e = {x["source"]: x for x in result.entries}
    assert e["stall.txt"]["status"] == "failed" and "timed out" in e["stall.txt"]["reason"]
    assert [e[f"p0{i}.txt"]["status"] for i in range(3)] == ["ok"] * 3
    assert result.manifest["summary"]["documents"] == 3


def big_page(raw: Path) -> None:
    """A page whose stages take well over a second: 100,000 distinct lines."""
    lines = [f"{i}、社区开展第{i}次志愿服务活动，服务群众{i * 7 % 1000}人次，发放物资{i % 97}份。"
             for i in range(100_000)]
    (raw / "big.txt").write_text("\n".join(lines), "utf-8")


@_UNRAISABLE
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["workers2", "dask"])
def test_the_time_limit_holds_on_every_engine(tmp_path: Path, engine: str) -> None:
    if engine == "dask":
        pytest.importorskip("distributed")
    raw = tmp_path / "raw"
    many_pages(raw, 4)
    big_page(raw)
    config = FAST.replace(page_timeout=1.0, workers=2,
                          engine="dask" if engine == "dask" else "local")
    result = run([raw], tmp_path / engine, config)
    e = {x["source"]: x for x in result.entries}
    assert e["big.txt"]["status"] == "failed" and "timed out" in e["big.txt"]["reason"]
    assert all(e[f"p0{i}.txt"]["status"] == "ok" for i in range(4))
    run([raw], tmp_path / "one", FAST.replace(page_timeout=1.0))
    assert_same_tables(tmp_path / "one", tmp_path / engine)


def _children(pid: int) -> set[int]:
    """Every descendant of *pid* (from /proc)."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


@pytest.mark.slow
def test_workers_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    import signal

    raw = tmp_path / "raw"
    many_pages(raw, 2)
    big_page(raw)
    (raw / "big2.txt").write_text((raw / "big.txt").read_text("utf-8") + "\n完", "utf-8")
    cmd = [sys.executable, "-m", "corpus_tools", "run", str(raw), "--out", str(tmp_path / "out"),
           "--workers", "2", "--no-themes", "--no-charts", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    kids: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        kids = _children(proc.pid)
        if len(kids) >= 3 and (tmp_path / "out" / ".parts").is_dir():
            break
        time.sleep(0.1)
    assert proc.poll() is None and len(kids) >= 3, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    alive = kids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {k for k in alive if Path(f"/proc/{k}").exists()
                 and "Z" not in Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1][:3]}
    assert not alive, f"orphaned processes left: {sorted(alive)}"


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_terminated_run_stops_its_workers_and_says_so(tmp_path: Path, signame: str) -> None:
    import signal

    signum = getattr(signal, signame)
    raw = tmp_path / "raw"
    many_pages(raw, 2)
    big_page(raw)
    (raw / "big2.txt").write_text((raw / "big.txt").read_text("utf-8") + "\n完", "utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "corpus_tools", "run", str(raw), "--out", str(out),
           "--workers", "2", "--no-themes", "--no-charts", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    kids: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        kids = _children(proc.pid)
        if len(kids) >= 3 and (out / ".parts").is_dir():
            break
        time.sleep(0.1)
    assert proc.poll() is None and len(kids) >= 3, "the run ended before it could be stopped"
    t0 = time.monotonic()
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 10, "the run took too long to stop"
    assert proc.returncode == 128 + signum, err
    assert f"stopped by {signame}" in err and "resumes" in err
    alive, deadline = kids, time.monotonic() + 5  # the forkserver exits with its parent
    while alive and time.monotonic() < deadline:
        alive = {k for k in alive if Path(f"/proc/{k}").exists()
                 and "Z" not in Path(f"/proc/{k}/stat").read_text().rsplit(")", 1)[1][:3]}
        time.sleep(0.1)
    assert not alive, f"processes left running: {sorted(alive)}"
    # Outputs as after a kill: no tables of this run yet (or a manifest saying incomplete).
    manifest = out / "manifest.json"
    assert not manifest.exists() or not json.loads(manifest.read_text("utf-8"))["complete"]
    assert not list(out.glob("*.parquet"))
