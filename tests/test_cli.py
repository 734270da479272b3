"""The command line: run, themes, charts; exit codes; settings from flags and TOML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus_tools.cli import main, parse_args
from corpus_tools.store import read_table


def test_parse_args_defaults() -> None:
    args = parse_args(["run"])
    assert args.inputs == ["data/raw"] and args.out == "data/processed"
    assert args.workers is None and args.csv is None


def test_run_themes_and_charts(corpus_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["run", str(corpus_dir), "--out", str(out), "--workers", "1", "--n-themes", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 files" in printed and "3 ok" in printed
    themes = read_table(out, "themes")
    assert len(themes) == 2 and themes["label"].str.len().min() > 0
    assert (out / "charts").is_dir() and list((out / "charts").glob("*.png"))

    assert main(["themes", "--out", str(out), "--n-themes", "3", "--method", "kmeans"]) == 0
    assert len(read_table(out, "themes")) == 3
    for png in (out / "charts").glob("*.png"):
        png.unlink()
    assert main(["charts", "--out", str(out)]) == 0
    assert list((out / "charts").glob("*.png"))


def test_strict_run_exits_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "binary.txt").write_bytes(b"\x00\xff" * 200)
    out = tmp_path / "out"
    assert main(["run", str(raw), "--out", str(out), "--quiet", "--no-themes",
                 "--no-charts"]) == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["inputs"][0]["status"] == "failed"
    assert main(["run", str(raw), "--out", str(out), "--strict", "--no-resume"]) == 1
    assert "binary" in capsys.readouterr().err


def test_config_file(corpus_dir: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text('[run]\nworkers = 1\nthemes = false\ncharts = false\ncsv = true\n', "utf-8")
    out = tmp_path / "out"
    assert main(["run", str(corpus_dir), "--out", str(out), "--config", str(cfg), "-q"]) == 0
    assert (out / "documents.csv").exists() and not (out / "themes.parquet").exists()


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text("wokers = 2\n", "utf-8")
    assert main(["run", str(tmp_path), "--config", str(cfg)]) == 2  # could not start
    assert "unknown setting" in capsys.readouterr().err


def test_missing_tables_are_a_clear_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["charts", "--out", str(tmp_path / "nothing")]) == 1
    assert "corpus-tools run" in capsys.readouterr().err
