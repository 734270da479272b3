"""A run's on-disk state: per-page parts, the assembled tables, atomic writes.

Each input file's rows are written by whoever processed it (a worker process or a Dask
worker) into ``OUT/.parts/<key>/``: one small Arrow IPC file per table (uncompressed: a
part is written once and read once, so speed beats size there) and, last of all,
``state.json``, which marks the part complete and records the file's content hash. A run
that is killed leaves at most an incomplete part without ``state.json``; the next run
redoes that file. The tables users read (``OUT/documents.parquet`` …) are assembled from
the parts one file at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from .errors import SchemaError
from .schema import TABLES

__all__ = [
    "ARROW_SCHEMAS",
    "PART_TABLES",
    "assemble_table",
    "atomic_path",
    "part_dir",
    "part_key",
    "read_part",
    "read_part_state",
    "read_table",
    "write_csv",
    "write_json",
    "write_part",
]

_S, _I, _F, _B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

_TYPES: dict[str, pa.DataType] = {
    "doc_id": _S, "source": _S, "record": _I, "article_no": _I, "title": _S, "year": _I,
    "doc_type": _S, "place": _S, "script": _S, "encoding": _S, "n_chars": _I, "masked": _I,
    "duplicate_of": _S, "text": _S, "meta": _S, "line_no": _I, "rule": _S,
    "section_id": _S, "parent_id": _S, "level": _I, "family": _S, "marker": _S,
    "ordinal": _I, "start": _I, "end": _I, "raw": _S, "value": _F, "value_max": _F,
    "unit": _S, "category": _S, "qualifier": _S, "direction": _S, "basis": _S,
    "sentence": _S, "stage": _S, "error": _S, "message": _S,
    "signature": pa.list_(pa.uint64()),
}
# metrics.masked is a flag, documents.masked a count of placeholders.
_OVERRIDES = {("metrics", "masked"): _B}


def _schema(table: str, columns: Iterable[str]) -> pa.Schema:
    return pa.schema(
        [pa.field(c, _OVERRIDES.get((table, c), _TYPES[c])) for c in columns]
    )


#: Tables kept per part: the public ones plus the MinHash signatures used for duplicates.
PART_TABLES: dict[str, tuple[str, ...]] = {**TABLES, "signatures": ("doc_id", "signature")}
ARROW_SCHEMAS: dict[str, pa.Schema] = {n: _schema(n, c) for n, c in PART_TABLES.items()}


@contextmanager
def atomic_path(path: Path, *, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of *path*; on success rename it over *path*.

    An exception (or a kill) leaves *path* as it was: never half-written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if is_dir and path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        if is_dir:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")


def part_key(source: str) -> str:
    """The folder name of a source's part: stable, filesystem-safe."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]


def part_dir(out_dir: Path, source: str) -> Path:
    return out_dir / ".parts" / part_key(source)


def _to_arrow(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = ARROW_SCHEMAS[table]
    columns = {name: [row.get(name) for row in rows] for name in schema.names}
    try:
        return pa.table(columns, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SchemaError(f"rows for table {table!r} do not fit its schema: {exc}") from exc


def write_part(
    out_dir: Path, source: str, tables: dict[str, list[dict[str, Any]]], state: dict[str, Any]
) -> None:
    """Write one input file's rows and its ``state.json`` (last) as one atomic folder."""
    target = part_dir(out_dir, source)
    with atomic_path(target, is_dir=True) as tmp:
        for name in PART_TABLES:
            feather.write_feather(_to_arrow(name, tables.get(name, [])), tmp / f"{name}.arrow",
                                  compression="uncompressed")
        (tmp / "state.json").write_text(
            json.dumps(state, ensure_ascii=False, default=str), "utf-8"
        )


def read_part_state(out_dir: Path, source: str) -> dict[str, Any] | None:
    """The state of a complete part, or ``None`` if there is none (or it is incomplete)."""
    d = part_dir(out_dir, source)
    try:
        state = json.loads((d / "state.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not all((d / f"{name}.arrow").exists() for name in PART_TABLES):
        return None
    return state if isinstance(state, dict) else None


def read_part(out_dir: Path, source: str, table: str) -> pa.Table:
    return feather.read_table(part_dir(out_dir, source) / f"{table}.arrow", memory_map=False)


#: Parts are gathered into row groups of about this size before they are written.
ROW_GROUP_BYTES = 64 * 1024 * 1024


def assemble_table(
    out_dir: Path,
    sources: Iterable[str],
    table: str,
    *,
    transform: Callable[[pa.Table], pa.Table] | None = None,
) -> int:
    """Stream the parts of *sources* (in order) into ``OUT/<table>.parquet``; return rows.

    Parts are gathered into row groups of about :data:`ROW_GROUP_BYTES` (a part per row
    group would make thousands of tiny ones), so memory stays bounded by that size.
    """
    schema = ARROW_SCHEMAS[table]
    target = out_dir / f"{table}.parquet"
    n = 0
    with atomic_path(target) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            buffer: list[pa.Table] = []
            size = 0
            for source in sources:
                part = read_part(out_dir, source, table)
                if transform is not None:
                    part = transform(part)
                if part.num_rows:
                    buffer.append(part)
                    size += part.nbytes
                    n += part.num_rows
                if size >= ROW_GROUP_BYTES:
                    writer.write_table(pa.concat_tables(buffer))
                    buffer, size = [], 0
            if buffer:
                writer.write_table(pa.concat_tables(buffer))
    return n


#: Excel's limit on the characters of one cell.
EXCEL_CELL_CHARS = 32767


def _csv_splits(pf: pq.ParquetFile) -> dict[str, int]:
    """String columns with cells over :data:`EXCEL_CELL_CHARS` → parts their longest needs."""
    import pyarrow.compute as pc

    longest: dict[str, int] = {}
    names = [f.name for f in pf.schema_arrow
             if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    if not names:
        return {}
    for batch in pf.iter_batches(batch_size=5000, columns=names):
        for name in names:
            col = batch.column(name)
            m = pc.max(pc.utf8_length(col)).as_py() if len(col) else None
            if m is not None and m > longest.get(name, 0):
                longest[name] = m
    return {n: -(-m // EXCEL_CELL_CHARS) for n, m in longest.items() if m > EXCEL_CELL_CHARS}


def _split_cells(df: Any, splits: dict[str, int]) -> Any:
    """Columns named in *splits* cut into ``col``, ``col_2`` … (each at most the cell limit)
    with ``col_parts``, the number of parts the row's value needed, right after them."""
    import pandas as pd

    lim = EXCEL_CELL_CHARS
    columns: dict[str, Any] = {}
    for name in df.columns:
        if name not in splits:
            columns[name] = df[name]
            continue
        values = df[name]
        text = values.fillna("").astype(str)
        for i in range(splits[name]):
            part = text.str.slice(i * lim, (i + 1) * lim)
            columns[name if i == 0 else f"{name}_{i + 1}"] = (
                part.where(values.notna(), None) if i == 0 else part
            )
        columns[f"{name}_parts"] = (-(-text.str.len() // lim)).clip(lower=1).astype("int64")
    return pd.DataFrame(columns)


def write_csv(out_dir: Path, table: str) -> Path:
    """Write ``OUT/<table>.csv`` in ``utf-8-sig`` (Excel opens it as UTF-8), batch by batch.

    Excel holds at most 32,767 characters in a cell: a text column with longer values is
    split into ``col``, ``col_2``, … (each at most that long; joined in order they give the
    whole value) and a ``col_parts`` column says how many parts each row used; a warning
    names the table and column. The Parquet table keeps the full text.
    """
    import logging

    source = out_dir / f"{table}.parquet"
    target = out_dir / f"{table}.csv"
    pf = pq.ParquetFile(source)
    splits = _csv_splits(pf)
    for name, parts in splits.items():
        logging.getLogger(__name__).warning(
            "%s.csv: column %s has cells over Excel's %d-character limit; split into %s "
            "(%s_parts says how many each row uses); %s.parquet keeps the full text",
            table, name, EXCEL_CELL_CHARS,
            ", ".join([name, *(f"{name}_{i}" for i in range(2, parts + 1))]), name, table,
        )
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            header = True
            for batch in pf.iter_batches(batch_size=5000):
                frame = batch.to_pandas()
                if splits:
                    frame = _split_cells(frame, splits)
                frame.to_csv(fh, index=False, header=header)
                header = False
            if header:
                names = list(pf.schema_arrow.names)
                if splits:
                    import pandas as pd

                    names = list(_split_cells(pd.DataFrame(columns=names), splits).columns)
                fh.write(",".join(names) + "\n")
    return target


def read_table(out_dir: str | Path, name: str, *, columns: list[str] | None = None):
    """Read a table a run wrote, as a pandas DataFrame.

    >>> read_table("no-such-dir", "documents")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: no table 'documents' in no-such-dir: run `corpus-tools run` first
    """
    import pandas as pd

    path = Path(out_dir) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"no table {name!r} in {out_dir}: run `corpus-tools run` first")
    return pd.read_parquet(path, columns=columns)
