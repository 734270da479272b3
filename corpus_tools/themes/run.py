"""The corpus step of ``corpus-tools run`` / ``corpus-tools themes``: fit, assign, write.

Memory stays bounded by the sample and the batch, not the corpus. The sections table is
cut into batches of whole documents (:func:`plan_batches`: row ranges of
``sections.parquet`` and of the ``documents.parquet`` rows holding their text), and every
step is a task on one batch that reads its own rows (:func:`read_batch`):

1. *scan* (per batch): feed the fitting units to a seeded
   :class:`~corpus_tools.themes.fit.Reservoir`;
2. *merge*: the batches' reservoirs combine into the sample one pass would give;
3. *fit* (one task): :meth:`ThemeModel.fit_sample` on the sample;
4. *assign* (per batch): score the named themes and assign the discovered ones
   (:func:`~corpus_tools.themes.model.assign_batch`) on each section's own text, cut out,
   normalized and tokenized once, each written to a part file of the batch.

The part files are then concatenated in batch order into ``section_themes.parquet`` and
``named_themes.parquet``, one batch at a time. Who runs the tasks is an *executor*: this
process (:class:`InlineExecutor`), a local process pool (:class:`PoolExecutor`, for
``--workers N``) or a Dask cluster (:class:`DaskExecutor`, for ``--engine dask``: the tasks
run on the workers, which read and write OUT themselves, so a cluster user is not bound by
the client's memory). The batches and the sample do not depend on the executor, so the
tables are the same whoever runs the tasks.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, SchemaError
from ..schema import SECTION_THEME_COLUMNS, THEME_COLUMNS
from .fit import Reservoir
from .lexicon import NAMED_THEME_COLUMNS, load_lexicon, score_schemes
from .model import SELECTION_COLUMNS, UNIT_COLUMNS, ThemeModel, assign_batch, fitting_units
from .units import _simplified, own_text

log = logging.getLogger(__name__)

#: Sections read per batch (whole documents are kept together, so a batch may be larger).
BATCH_ROWS = 20000
_SECTION_COLUMNS = ("doc_id", "section_id", "text")
_SECTION_OPTIONAL = ("parent_id", "start", "duplicate_of", "exclude")
_DOCUMENT_OPTIONAL = ("duplicate_of", "year", "doc_type")
#: Where the tasks write their part files while the step runs (removed after it).
WORK_DIR = ".themes"


def _arrow_schemas() -> dict[str, Any]:
    import pyarrow as pa

    s, i, f = pa.string(), pa.int64(), pa.float64()
    types = {"doc_id": s, "section_id": s, "theme_id": i, "weight": f, "theme": s,
             "score": f, "hits": i, "scheme": s}
    return {
        "section_themes": pa.schema([(c, types[c]) for c in SECTION_THEME_COLUMNS]),
        "named_themes": pa.schema([(c, types[c]) for c in NAMED_THEME_COLUMNS]),
    }


def _schema_names(path: Path) -> list[str]:
    import pyarrow.dataset as ds

    return list(ds.dataset(path, format="parquet").schema.names)


def _table_path(out_dir: Path, name: str) -> Path:
    for candidate in (out_dir / f"{name}.parquet", out_dir / name):
        if candidate.exists():
            return candidate
    return out_dir / f"{name}.parquet"


def _require(path: Path) -> None:
    if not path.exists():
        raise SchemaError(f"{path} not found: run `corpus-tools run` first to write the tables")


# -- batches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionBatch:
    """One batch of whole documents: ``rows`` of the sections table (``[start, stop)``,
    counted over its files in order) and ``doc_rows``, the rows of the documents table
    holding the batch's documents (their text, duplicate flag and doc_type)."""

    index: int
    rows: tuple[int, int]
    doc_rows: tuple[int, int]


def _row_groups(path: Path) -> list[tuple[str, int, int, int]]:
    """``(file, row_group, first_row, n_rows)`` of a table (a file or a dataset folder)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    files = [str(path)] if path.is_file() else list(ds.dataset(path, format="parquet").files)
    out, first = [], 0
    for name in files:
        meta = pq.ParquetFile(name).metadata
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            out.append((name, g, first, n))
            first += n
    return out


def _read_rows(path: Path, columns: Sequence[str], start: int, stop: int,
               chunk: int = 8192) -> Any:
    """Rows ``[start, stop)`` of a table as one Arrow table: only the row groups needed,
    decoded *chunk* rows at a time up to *stop* (small chunks for long texts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pieces = []
    for name, g, first, n in _row_groups(path):
        if first + n <= start or first >= stop:
            continue
        pos = first
        for batch in pq.ParquetFile(name).iter_batches(
            batch_size=chunk, row_groups=[g], columns=list(columns)
        ):
            lo, hi = max(start - pos, 0), min(stop - pos, batch.num_rows)
            if hi > lo:
                pieces.append(batch.slice(lo, hi - lo))
            pos += batch.num_rows
            if pos >= stop:
                break
    if not pieces:
        import pyarrow.dataset as ds

        return ds.dataset(path, format="parquet").schema.empty_table().select(list(columns))
    return pa.Table.from_batches(pieces)


def plan_batches(out_dir: str | Path, *, batch_rows: int | None = None) -> list[SectionBatch]:
    """The batches of a run's sections table: about *batch_rows* rows each, whole documents
    (a document is never split; the last one of a read goes to the next batch).

    Reads only the ``doc_id`` columns of the sections and documents tables, streamed; holds
    one row number per document.
    """
    import numpy as np
    import pyarrow.dataset as ds

    batch_rows = batch_rows or BATCH_ROWS
    out = Path(out_dir)
    sections, documents = _table_path(out, "sections"), _table_path(out, "documents")
    _require(sections)
    _require(documents)
    doc_row: dict[str, int] = {}
    for batch in ds.dataset(documents, format="parquet").to_batches(columns=["doc_id"]):
        for d in batch.column(0).to_pylist():
            doc_row.setdefault(str(d), len(doc_row))
    plan: list[SectionBatch] = []
    pending: list[str] = []  # doc_id of the rows read but not yet in a batch
    start = 0

    def emit(ids: list[str]) -> None:
        nonlocal start
        rows = [doc_row[d] for d in set(ids) if d in doc_row]
        doc_rows = (min(rows), max(rows) + 1) if rows else (0, 0)
        plan.append(SectionBatch(len(plan), (start, start + len(ids)), doc_rows))
        start += len(ids)

    for batch in ds.dataset(sections, format="parquet").to_batches(
        columns=["doc_id"], batch_size=batch_rows
    ):
        ids = pending + [str(d) for d in batch.column(0).to_pylist()]
        if not ids:
            continue
        last = ids[-1]
        tail = np.asarray(ids, dtype=object) == last
        cut = int(np.argmax(tail))  # rows of the last document run to the end
        if not tail[cut:].all():  # the last document also appears earlier: keep order
            cut = len(ids) - int(np.argmin(tail[::-1]))
        head, pending = ids[:cut], ids[cut:]
        if head:
            emit(head)
    if pending:
        emit(pending)
    return plan


def read_batch(out_dir: str | Path, batch: SectionBatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(sections, documents)`` of one batch: the sections (``doc_id, section_id, text``
    and, when present, ``parent_id, start, duplicate_of, exclude``) and the documents rows
    holding them (``doc_id`` and, when present, ``duplicate_of, year, doc_type``).

    A sections table that stores offsets only gets its text from ``documents.text``
    (:func:`corpus_tools.store.section_text`) of the batch's own documents rows.
    """
    from ..store import section_text

    out = Path(out_dir)
    spath, dpath = _table_path(out, "sections"), _table_path(out, "documents")
    names = _schema_names(spath)
    derived = "text" not in names
    need = ("doc_id", "section_id", "start", "end") if derived else _SECTION_COLUMNS
    missing = [c for c in need if c not in names]
    if missing:
        raise SchemaError(f"{spath} lacks column(s) {missing}")
    columns = [c for c in (*_SECTION_COLUMNS, *_SECTION_OPTIONAL, "end") if c in names]
    frame = _read_rows(spath, columns, *batch.rows).to_pandas()
    dnames = _schema_names(dpath)
    dcols = ["doc_id", *(c for c in _DOCUMENT_OPTIONAL if c in dnames)]
    docs = _read_rows(dpath, dcols + (["text"] if derived else []), *batch.doc_rows,
                      chunk=256).to_pandas()
    if derived:
        frame["text"] = section_text(frame, docs)
        docs = docs[dcols]
    return frame, docs


def iter_section_batches(out_dir: str | Path, *, batch_rows: int | None = None
                         ) -> Iterator[pd.DataFrame]:
    """The sections table of a run in batches of whole documents (:func:`plan_batches`,
    :func:`read_batch`): ``doc_id, section_id, text`` and, when present, ``parent_id,
    start``. Text that the table does not store comes from ``documents.text``."""
    for batch in plan_batches(out_dir, batch_rows=batch_rows):
        yield read_batch(out_dir, batch)[0]


# -- tasks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What every task of one theme step needs to know (small, sent with each task)."""

    out: str
    work: str
    scheme: str
    lexicon: Any
    sample_size: int
    random_state: int


def _write_part(df: pd.DataFrame, path: Path, table: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schemas()[table]
    pq.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False), path)
    return len(df)


def _scan_task(job: _Job, batch: SectionBatch) -> tuple[Reservoir, int, int]:
    """The reservoir of one batch's fitting units (and how many rows and units it had)."""
    sections, docs = read_batch(job.out, batch)
    units = fitting_units(sections, docs)
    reservoir = Reservoir(job.sample_size, job.random_state)
    for row in units.itertuples(index=False):
        reservoir.add((row.doc_id, row.section_id), tuple(row))
    return reservoir, len(sections), len(units)


def _merge_task(a: tuple[Reservoir, int, int], b: tuple[Reservoir, int, int]
                ) -> tuple[Reservoir, int, int]:
    return a[0].merge(b[0]), a[1] + b[1], a[2] + b[2]


def _dask_map(fn: Callable[..., Any], items: Sequence[Any]) -> list[Any]:
    """``map`` from inside a Dask task: the calls run as tasks of the same cluster."""
    from distributed import worker_client

    with worker_client() as client:
        return client.gather(client.map(fn, list(items), pure=False))  # type: ignore[no-any-return]


def _fit_task(params: dict[str, Any], scan: tuple[Reservoir, int, int],
              map_fn: Callable[..., Any] | str | None = None) -> tuple[ThemeModel | None, str]:
    """The model fitted on the merged sample, or ``(None, why)`` when there is nothing to
    fit (a corpus without content words is not an error). *map_fn* runs the resample fits
    (``"dask"``: as tasks of the cluster this task runs on)."""
    reservoir, n_rows, n_units = scan
    model = ThemeModel(**params)
    try:
        model.fit_sample(pd.DataFrame(reservoir.items(), columns=list(UNIT_COLUMNS)),
                         n_rows=n_rows, n_excluded=n_rows - n_units,
                         map_fn=_dask_map if map_fn == "dask" else map_fn)  # type: ignore[arg-type]
    except InputError as exc:
        return None, str(exc)
    return model, ""


def _assign_task(job: _Job, batch: SectionBatch, model: tuple[ThemeModel | None, str]) -> int:
    """Named themes and (with a model) discovered themes of one batch, each written to the
    batch's part file; each section's own text is cut out and normalized once for both."""
    sections, docs = read_batch(job.out, batch)
    own = own_text(sections)
    simplified = pd.Series(_simplified(own.tolist()), index=own.index, dtype=object)
    named = score_schemes(sections, docs, scheme=job.scheme, lexicon=job.lexicon,
                          texts=simplified)
    _write_part(named, Path(job.work) / f"named-{batch.index:06d}.parquet", "named_themes")
    fitted = model[0]
    if fitted is None:
        return 0
    texts = simplified.tolist() if fitted.simplify else own.tolist()
    return _write_part(assign_batch(fitted, sections, texts),
                       Path(job.work) / f"section-{batch.index:06d}.parquet", "section_themes")


# -- executors -------------------------------------------------------------------------------


class InlineExecutor:
    """Runs the tasks one after the other in this process."""

    def map(self, fn: Callable[..., Any], items: Sequence[Any], **kwargs: Any) -> Iterator[Any]:
        return (fn(x, **kwargs) for x in items)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def fit(self, params: dict[str, Any], scan: Any) -> Any:
        return _fit_task(params, scan)

    def gather(self, x: Any) -> Any:
        return x


class PoolExecutor(InlineExecutor):
    """Runs the per-batch tasks on a ``concurrent.futures`` process pool (results in batch
    order), started by *factory* when a step has more than one batch; merging and the fit
    run in this process. :meth:`close` shuts the pool down."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory
        self.pool: Any = None

    def map(self, fn: Callable[..., Any], items: Sequence[Any], **kwargs: Any) -> Iterator[Any]:
        if len(items) <= 1 and self.pool is None:
            return super().map(fn, items, **kwargs)
        if self.pool is None:
            self.pool = self.factory()
        return self.pool.map(functools.partial(fn, **kwargs), items)  # type: ignore[no-any-return]

    def fit(self, params: dict[str, Any], scan: Any) -> Any:
        return _fit_task(params, scan, lambda fn, items: self.map(fn, list(items)))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


class DaskExecutor:
    """Runs every task, merges and the fit included, on a Dask cluster; only small results
    (row counts, the fitted model) come back to the client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, fn: Callable[..., Any], items: Sequence[Any], **kwargs: Any) -> list[Any]:
        return self.client.map(fn, items, pure=False, **kwargs)  # type: ignore[no-any-return]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def fit(self, params: dict[str, Any], scan: Any) -> Any:
        return self.client.submit(_fit_task, params, scan, "dask", pure=False)

    def gather(self, x: Any) -> Any:
        return self.client.gather(x)


def _scan(item: SectionBatch, job: _Job) -> tuple[Reservoir, int, int]:
    return _scan_task(job, item)


def _assign(item: SectionBatch, job: _Job, model: Any) -> int:
    return _assign_task(job, item, model)


def _reduce(executor: Any, results: Any) -> Any:
    """Merge the scan results pairwise (on the executor), in a tree; ``None`` if none."""
    if isinstance(executor, DaskExecutor):
        level = list(results)
        while len(level) > 1:
            nxt = [executor.submit(_merge_task, level[i], level[i + 1])
                   for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return level[0] if level else None
    merged = None  # one at a time, as they come: at most two reservoirs held
    for r in results:
        merged = r if merged is None else _merge_task(merged, r)
    return merged


# -- the step --------------------------------------------------------------------------------


def _empty(columns: Sequence[str], dtypes: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, dtypes, strict=True)})


def _concat_parts(parts: Sequence[Path], dest: Path, table: str) -> int:
    """Write the part files, in order, into *dest* (atomically), one part at a time."""
    import pyarrow.parquet as pq

    from ..store import TABLE_COMPRESSION, TABLE_COMPRESSION_LEVEL, atomic_path

    schema = _arrow_schemas()[table]
    rows = 0
    with atomic_path(dest) as tmp, pq.ParquetWriter(
        tmp, schema, compression=TABLE_COMPRESSION, compression_level=TABLE_COMPRESSION_LEVEL
    ) as writer:
        for part in parts:
            t = pq.read_table(part, schema=schema)
            if t.num_rows:
                writer.write_table(t)
                rows += t.num_rows
    return rows


def _write_frame(df: pd.DataFrame, path: Path) -> None:
    from ..store import atomic_path

    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def theme_step(
    out_dir: str | Path,
    *,
    n_themes: int | None = None,
    method: str = "nmf",
    lexicon: str | Path | Mapping[str, Any] | None = None,
    scheme: str = "auto",
    random_state: int = 0,
    sample_size: int | None = None,
    csv: bool = False,
    batch_rows: int | None = None,
    executor: Any = None,
) -> dict[str, Any]:
    """Fit themes on the tables in *out_dir*, write the theme tables there, and return
    ``{"rows": {table: n}, "themes": frame, "theme_selection": frame}`` (the two small
    tables; the large ones stay on disk). See :func:`run_themes`; *executor* runs the
    tasks (default: this process)."""
    out = Path(out_dir)
    _require(_table_path(out, "documents"))
    _require(_table_path(out, "sections"))
    options = {} if sample_size is None else {"sample_size": sample_size}
    params = {"n_themes": n_themes, "method": method, "random_state": random_state, **options}
    model = ThemeModel(**params)
    model._check_params()  # bad settings raise; only an empty corpus is tolerated below
    if lexicon is not None:
        load_lexicon(lexicon)  # a broken lexicon fails before the long fit
    elif scheme != "auto":
        score_schemes(pd.DataFrame(columns=list(_SECTION_COLUMNS)), scheme=scheme)
    executor = executor or InlineExecutor()
    plan = plan_batches(out, batch_rows=batch_rows)
    root = out / WORK_DIR
    shutil.rmtree(root, ignore_errors=True)  # what a killed step left
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="step-", dir=root))
    job = _Job(str(out), str(work), scheme, lexicon, model.sample_size, random_state)
    try:
        scanned = _reduce(executor, executor.map(_scan, plan, job=job))
        fitted = executor.fit(params, scanned) if scanned is not None else None
        if fitted is None:
            fitted = (None, "no sections to fit themes on: the sections table is empty")
        fit_model, why = executor.gather(fitted)
        sum(executor.gather(executor.map(_assign, plan, job=job, model=fitted)))
        rows = {"named_themes": _concat_parts(
            [work / f"named-{b.index:06d}.parquet" for b in plan],
            out / "named_themes.parquet", "named_themes")}
        if fit_model is not None:
            themes = fit_model.themes_table()
            selection = fit_model.selection_
            parts = [work / f"section-{b.index:06d}.parquet" for b in plan]
            log.info(
                "themes: %d themes on %d of %d sections (k by stability %s): %s",
                fit_model.n_themes_, fit_model.n_fitted_, fit_model.n_sampled_,
                dict(zip(selection["k"], selection["stability"], strict=True))
                if len(selection) else "-",
                "; ".join(fit_model.labels_),
            )
        else:
            log.warning("themes: %s; writing empty theme tables", why)
            themes = _empty(THEME_COLUMNS, ("int64", "object", "object", "int64", "float64"))
            selection = _empty(
                SELECTION_COLUMNS, ("int64", "float64", "float64", "float64", "float64", "bool")
            )
            parts = []
        rows["section_themes"] = _concat_parts(parts, out / "section_themes.parquet",
                                               "section_themes")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    selection = selection.astype({"k": "int64", "chosen": "bool"})
    _write_frame(themes, out / "themes.parquet")
    _write_frame(selection, out / "theme_selection.parquet")
    rows = {"themes": len(themes), "section_themes": rows["section_themes"],
            "named_themes": rows["named_themes"], "theme_selection": len(selection)}
    if csv:
        from ..store import write_csv

        for name in ("themes", "section_themes", "named_themes", "theme_selection"):
            write_csv(out, name)
    return {"rows": rows, "themes": themes, "theme_selection": selection}


def run_themes(out_dir: str | Path, **options: Any) -> dict[str, pd.DataFrame]:
    """Fit themes on the tables in *out_dir* and write the theme tables there.

    Reads ``documents.parquet`` and ``sections.parquet`` (single files or dataset folders),
    fits a :class:`ThemeModel` on a sample of the sections of non-duplicate documents,
    assigns every section its dominant theme, codes the named themes (*lexicon* for all, or
    the *scheme* of each document's doc_type, see :func:`score_schemes`), and writes
    (atomically) ``themes.parquet``, ``section_themes.parquet``, ``named_themes.parquet`` and
    ``theme_selection.parquet`` (the curve behind the choice of k), plus CSV copies with
    *csv*. Returns the four frames by name (read back from the files: the step itself holds
    one batch at a time; :func:`theme_step` returns row counts instead). A corpus with no
    content words gives empty discovered-theme tables (logged), not an error.

    *options* are those of :func:`theme_step`: ``n_themes``, ``method`` ("nmf" or
    "kmeans"), ``lexicon``, ``scheme``, ``random_state``, ``sample_size``, ``csv``,
    ``batch_rows`` and ``executor``.
    """
    summary = theme_step(out_dir, **options)
    out = Path(out_dir)
    return {
        "themes": summary["themes"],
        "section_themes": pd.read_parquet(out / "section_themes.parquet"),
        "named_themes": pd.read_parquet(out / "named_themes.parquet"),
        "theme_selection": summary["theme_selection"],
    }
