"""The corpus step of ``corpus-tools run`` / ``corpus-tools themes``: fit, assign, write."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, SchemaError
from ..schema import SECTION_THEME_COLUMNS, THEME_COLUMNS
from .lexicon import load_lexicon, score_lexicon
from .model import ThemeModel

log = logging.getLogger(__name__)


def _read_table(path: Path, columns: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame:
    import pyarrow.dataset as ds

    if not path.exists():
        raise SchemaError(f"{path} not found: run `corpus-tools run` first to write the tables")
    names = set(ds.dataset(path, format="parquet").schema.names)
    missing = [c for c in columns if c not in names]
    if missing:
        raise SchemaError(f"{path} lacks column(s) {missing}")
    wanted = [*columns, *(c for c in optional if c in names)]
    return pd.read_parquet(path, columns=wanted)


def _table_path(out_dir: Path, name: str) -> Path:
    for candidate in (out_dir / f"{name}.parquet", out_dir / name):
        if candidate.exists():
            return candidate
    return out_dir / f"{name}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def run_themes(
    out_dir: str | Path,
    *,
    n_themes: int | None = None,
    method: str = "nmf",
    lexicon: str | Path | Mapping[str, Any] | None = None,
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Fit themes on the tables in *out_dir* and write the theme tables there.

    Reads ``documents.parquet`` and ``sections.parquet`` (single files or dataset folders),
    fits a :class:`ThemeModel` on sections of non-duplicate documents, assigns every section
    its dominant theme, scores the lexicon, and writes (atomically) ``themes.parquet``,
    ``section_themes.parquet`` and ``named_themes.parquet``. Returns the three frames by
    name (``themes``, ``section_themes``, ``named_themes``). A corpus with no content words
    gives empty discovered-theme tables (logged), not an error.
    """
    out = Path(out_dir)
    documents = _read_table(
        _table_path(out, "documents"), ("doc_id",), ("duplicate_of", "year", "doc_type")
    )
    sections = _read_table(
        _table_path(out, "sections"),
        ("doc_id", "section_id"),
        ("text", "parent_id", "start", "end"),
    )
    if "text" not in sections.columns:  # stored as offsets into documents.text
        from ..store import section_text

        sections["text"] = section_text(sections, out)
    model = ThemeModel(n_themes=n_themes, method=method, random_state=random_state)
    model._check_params()  # bad settings raise; only an empty corpus is tolerated below
    lex = load_lexicon(lexicon)  # a broken lexicon fails before the long fit
    try:
        model.fit(sections, documents)
        themes = model.themes_table()
        assigned = model.assign(sections)
        log.info(
            "themes: %d themes on %d sections: %s",
            model.n_themes_,
            model.n_fitted_,
            "; ".join(model.labels_),
        )
    except InputError as exc:
        log.warning("themes: %s; writing empty theme tables", exc)
        themes = pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(THEME_COLUMNS, ("int64", "object", "object", "int64"), strict=True)
            }
        )
        assigned = pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(
                    SECTION_THEME_COLUMNS, ("object", "object", "int64", "float64"), strict=True
                )
            }
        )
    if getattr(model, "quality_", None):
        log.info(
            "themes: by number of themes, mean NPMI %s, diversity %s, quality %s",
            model.coherence_,
            model.diversity_,
            model.quality_,
        )
    named = score_lexicon(sections, lex)
    frames = {"themes": themes, "section_themes": assigned, "named_themes": named}
    for name, df in frames.items():
        _write_atomic(df, out / f"{name}.parquet")
    return frames
