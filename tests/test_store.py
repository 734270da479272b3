"""Tests of corpus_tools.store.write_csv: Excel's cell limit (Parquet keeps the full text)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.store import EXCEL_CELL_CHARS, write_csv


def test_long_cells_are_split_with_a_parts_column_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    long_text = "社区" * 40000  # 80,000 characters: three cells
    df = pd.DataFrame({"doc_id": ["a", "b", "c"], "text": [long_text, "短文本", None],
                       "n_chars": [80000, 3, 0]})
    df.to_parquet(tmp_path / "documents.parquet")
    with caplog.at_level(logging.WARNING, logger="corpus_tools.store"):
        path = write_csv(tmp_path, "documents")
    assert "32767" in caplog.text and "text" in caplog.text
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert list(back.columns) == ["doc_id", "text", "text_2", "text_3", "text_parts", "n_chars"]
    for col in ("text", "text_2", "text_3"):
        assert back[col].str.len().max() <= EXCEL_CELL_CHARS
    assert "".join(back.loc[0, ["text", "text_2", "text_3"]]) == long_text
    assert back["text_parts"].tolist() == [3, 1, 1]
    assert back.loc[1, "text"] == "短文本" and back.loc[1, "text_2"] == ""
    assert pd.read_parquet(tmp_path / "documents.parquet")["text"][0] == long_text


def test_short_cells_are_written_as_they_are(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    pd.DataFrame({"theme_id": [0], "label": ["志愿服务·慰问"]}).to_parquet(
        tmp_path / "themes.parquet")
    with caplog.at_level(logging.WARNING, logger="corpus_tools.store"):
        path = write_csv(tmp_path, "themes")
    assert caplog.text == ""
    assert path.read_text("utf-8-sig").splitlines() == ["theme_id,label", "0,志愿服务·慰问"]
