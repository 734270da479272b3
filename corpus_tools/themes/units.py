"""Text units of the theme steps: column checks, each section's own text, script, chunks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..errors import SchemaError


def _require_columns(df: Any, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{what} lacks column(s) {missing}; it has {list(df.columns)}. "
            "Pass the sections table written by corpus_tools.pipeline (sections.parquet)."
        )


def own_text(sections_df: pd.DataFrame) -> pd.Series:
    """Each section's own text: its text up to its first child section.

    Sections of the pipeline are nested (a parent's text spans its children); themes are
    fitted, assigned and scored on these non-overlapping pieces, so that no sentence is
    counted twice. Without ``parent_id``/``start`` columns the text is taken as it is.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"doc_id": ["d", "d"], "section_id": ["1", "1.1"],
    ...                    "parent_id": [None, "1"], "start": [0, 5], "end": [10, 10],
    ...                    "text": ["一、总体。1、甲乙", "1、甲乙"]})
    >>> own_text(df).tolist()
    ['一、总体。', '1、甲乙']
    """
    text = sections_df["text"].fillna("").astype(str)
    if (
        not {"doc_id", "section_id", "parent_id", "start"} <= set(sections_df.columns)
        or sections_df.empty
    ):
        return text
    kids = sections_df.loc[sections_df["parent_id"].notna(), ["doc_id", "parent_id", "start"]]
    if kids.empty:
        return text
    first = kids.groupby(["doc_id", "parent_id"], sort=False)["start"].min()
    key = pd.MultiIndex.from_arrays([sections_df["doc_id"], sections_df["section_id"]])
    child_start = pd.Series(first.reindex(key).to_numpy(), index=sections_df.index)
    cut = (child_start - pd.to_numeric(sections_df["start"], errors="coerce")).to_numpy()
    out = [t if c != c or c < 0 else t[: int(c)]
           for t, c in zip(text.tolist(), cut.tolist(), strict=True)]
    return pd.Series(out, index=sections_df.index, dtype=object)


def _simplified(texts: Iterable[str]) -> list[str]:
    """Texts in traditional or mixed script normalized (to simplified); others unchanged."""
    from ..normalize import detect_script, normalize_text

    return [normalize_text(t) if t and detect_script(t) != "simplified" else t for t in texts]


def _chunks(texts: list[str], max_chars: int) -> list[str]:
    """Texts longer than *max_chars* cut into line-aligned pieces of about that size."""
    if max_chars <= 0:
        return texts
    out: list[str] = []
    for text in texts:
        if len(text) <= max_chars:
            out.append(text)
            continue
        piece: list[str] = []
        size = 0
        for line in text.splitlines(keepends=True):
            while len(line) > max_chars:
                out.append(line[:max_chars])
                line = line[max_chars:]
            if size + len(line) > max_chars and piece:
                out.append("".join(piece))
                piece, size = [], 0
            piece.append(line)
            size += len(line)
        if piece:
            out.append("".join(piece))
    return out
