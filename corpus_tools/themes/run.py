"""The corpus step of ``corpus-tools run`` / ``corpus-tools themes``: fit, assign, write.

Memory stays bounded by the sample, not the corpus: sections are read in batches of whole
documents (:func:`iter_section_batches`); a first pass scores the named themes and feeds
the fitting units to a seeded :class:`~corpus_tools.themes.fit.Reservoir`; the model is
fitted on the sample (:meth:`ThemeModel.fit_sample`); a second pass assigns every section
(:func:`~corpus_tools.themes.model.assign_batch`). Each of these is a plain call on a batch,
so another engine can run them as tasks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, SchemaError
from ..schema import SECTION_THEME_COLUMNS, THEME_COLUMNS
from .fit import Reservoir
from .lexicon import load_lexicon, score_schemes
from .model import SELECTION_COLUMNS, UNIT_COLUMNS, ThemeModel, assign_batch, fitting_units

log = logging.getLogger(__name__)

#: Sections read per batch (whole documents are kept together, so a batch may be larger).
BATCH_ROWS = 20000
_SECTION_COLUMNS = ("doc_id", "section_id", "text")
_SECTION_OPTIONAL = ("parent_id", "start", "duplicate_of", "exclude")


def _schema_names(path: Path) -> set[str]:
    import pyarrow.dataset as ds

    return set(ds.dataset(path, format="parquet").schema.names)


def _read_table(path: Path, columns: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame:
    if not path.exists():
        raise SchemaError(f"{path} not found: run `corpus-tools run` first to write the tables")
    names = _schema_names(path)
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


def iter_section_batches(out_dir: str | Path, *, batch_rows: int = BATCH_ROWS
                         ) -> Iterator[pd.DataFrame]:
    """The sections table of a run in batches of whole documents (``doc_id, section_id,
    text`` and, when present, ``parent_id, start``).

    A table that stores offsets only gets its text from ``documents.text`` through
    :func:`corpus_tools.store.section_text`, batch by batch (only the batch's documents are
    read).
    """
    import pyarrow.dataset as ds

    out = Path(out_dir)
    path = _table_path(out, "sections")
    if not path.exists():
        raise SchemaError(f"{path} not found: run `corpus-tools run` first to write the tables")
    names = _schema_names(path)
    derived = "text" not in names
    need = ("doc_id", "section_id", "start", "end") if derived else _SECTION_COLUMNS
    missing = [c for c in need if c not in names]
    if missing:
        raise SchemaError(f"{path} lacks column(s) {missing}")
    columns = [c for c in (*_SECTION_COLUMNS, *_SECTION_OPTIONAL, "end") if c in names]
    carry: pd.DataFrame | None = None

    def finish(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        if derived:
            frame["text"] = _derived_text(out, frame)
        return frame

    for batch in ds.dataset(path, format="parquet").to_batches(
        columns=columns, batch_size=batch_rows
    ):
        frame = batch.to_pandas()
        if carry is not None:
            frame = pd.concat([carry, frame], ignore_index=True)
        if frame.empty:
            continue
        last = frame["doc_id"].iloc[-1]
        tail = (frame["doc_id"] == last).to_numpy()
        # the last document may go on in the next batch: keep it for then
        carry, frame = frame[tail], frame[~tail]
        if len(frame):
            yield finish(frame)
    if carry is not None and len(carry):
        yield finish(carry)


def _derived_text(out: Path, frame: pd.DataFrame) -> pd.Series:
    import pyarrow.parquet as pq

    from ..store import section_text

    ids = sorted(set(frame["doc_id"].astype(str)))
    docs = pq.read_table(
        _table_path(out, "documents"), columns=["doc_id", "text"],
        filters=[("doc_id", "in", ids)],
    ).to_pandas()
    return section_text(frame, docs)


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _empty(columns: Sequence[str], dtypes: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, dtypes, strict=True)})


def run_themes(
    out_dir: str | Path,
    *,
    n_themes: int | None = None,
    method: str = "nmf",
    lexicon: str | Path | Mapping[str, Any] | None = None,
    scheme: str = "auto",
    random_state: int = 0,
    sample_size: int | None = None,
    csv: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, pd.DataFrame]:
    """Fit themes on the tables in *out_dir* and write the theme tables there.

    Reads ``documents.parquet`` and ``sections.parquet`` (single files or dataset folders),
    fits a :class:`ThemeModel` on a sample of the sections of non-duplicate documents,
    assigns every section its dominant theme, codes the named themes (*lexicon* for all, or
    the *scheme* of each document's doc_type, see :func:`score_schemes`), and writes
    (atomically) ``themes.parquet``, ``section_themes.parquet``, ``named_themes.parquet`` and
    ``theme_selection.parquet`` (the curve behind the choice of k), plus CSV copies with
    *csv*. Returns the four frames by name. A corpus with no content words gives empty
    discovered-theme tables (logged), not an error.
    """
    out = Path(out_dir)
    documents = _read_table(
        _table_path(out, "documents"), ("doc_id",), ("duplicate_of", "year", "doc_type")
    )
    options = {} if sample_size is None else {"sample_size": sample_size}
    model = ThemeModel(n_themes=n_themes, method=method, random_state=random_state, **options)
    model._check_params()  # bad settings raise; only an empty corpus is tolerated below
    if lexicon is not None:
        load_lexicon(lexicon)  # a broken lexicon fails before the long fit
    elif scheme != "auto":
        score_schemes(pd.DataFrame(columns=list(_SECTION_COLUMNS)), scheme=scheme)

    reservoir = Reservoir(model.sample_size, random_state)
    named_parts: list[pd.DataFrame] = []
    n_rows = n_units = 0
    for batch in iter_section_batches(out, batch_rows=batch_rows):
        n_rows += len(batch)
        named_parts.append(score_schemes(batch, documents, scheme=scheme, lexicon=lexicon))
        units = fitting_units(batch, documents)
        n_units += len(units)
        for row in units.itertuples(index=False):
            reservoir.add((row.doc_id, row.section_id), tuple(row))
    named = pd.concat(named_parts, ignore_index=True) if named_parts else score_schemes(
        pd.DataFrame(columns=list(_SECTION_COLUMNS)), documents, scheme=scheme, lexicon=lexicon
    )
    try:
        model.fit_sample(
            pd.DataFrame(reservoir.items(), columns=list(UNIT_COLUMNS)),
            n_rows=n_rows, n_excluded=n_rows - n_units,
        )
        themes = model.themes_table()
        parts = [assign_batch(model, b) for b in iter_section_batches(out, batch_rows=batch_rows)]
        assigned = pd.concat(parts, ignore_index=True) if parts else _empty(
            SECTION_THEME_COLUMNS, ("object", "object", "int64", "float64")
        )
        selection = model.selection_
        log.info(
            "themes: %d themes on %d of %d sections (k by stability %s): %s",
            model.n_themes_, model.n_fitted_, n_units,
            dict(zip(selection["k"], selection["stability"], strict=True)) if len(selection) else "-",
            "; ".join(model.labels_),
        )
    except InputError as exc:
        log.warning("themes: %s; writing empty theme tables", exc)
        themes = _empty(THEME_COLUMNS, ("int64", "object", "object", "int64", "float64"))
        assigned = _empty(SECTION_THEME_COLUMNS, ("object", "object", "int64", "float64"))
        selection = _empty(
            SELECTION_COLUMNS, ("int64", "float64", "float64", "float64", "float64", "bool")
        )
    selection = selection.astype({"k": "int64", "chosen": "bool"})
    frames = {
        "themes": themes,
        "section_themes": assigned,
        "named_themes": named,
        "theme_selection": selection,
    }
    for name, df in frames.items():
        _write_atomic(df, out / f"{name}.parquet")
        if csv:
            from ..store import write_csv

            write_csv(out, name)
    return frames
