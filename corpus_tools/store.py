"""A run's on-disk state: per-page parts, the assembled tables, atomic writes.

Each input file's rows are written by whoever processed it (a worker process or a Dask
worker) into ``OUT/.parts/<key>/``: one file, :data:`PART_FILE`, holding the Arrow IPC
streams of its tables compressed as one zstd frame (Chinese text takes about a third of
its size), and, last of all, ``state.json``, which marks the part complete and records
the input's content hash, where each table lies in the file, and the file's size and
SHA-256. A run that is killed leaves at most
a temporary folder (removed by the next run); a part whose files are missing, truncated
or altered (a full disk, a crash of the machine, a stray edit) fails its checksums, and
the next run redoes that input and says so in its manifest entry (``repaired``). Parts
are not fsynced (that would cost a disk flush per input): the checksums catch what a
crash could leave behind.

The tables users read (``OUT/documents.parquet`` …, zstd Parquet) are assembled from the
parts one file at a time while the pages are still running (:class:`TableAssembler`), so
memory does not grow with the corpus. Tables and the manifest are written
to a temporary sibling, fsynced, renamed over the old file and the folder fsynced, with
the permissions of the user's umask (as ``open()`` would give them). Temporaries left by
a killed run are removed by :func:`clean_stale_temporaries` at the start of the next.
While a run replaces its tables, ``manifest.json`` says ``"complete": false``, and
:func:`read_table` refuses to mix tables of two runs.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import IncompleteRunError, SchemaError
from .schema import TABLES

__all__ = [
    "ARROW_SCHEMAS",
    "PART_FILE",
    "PART_TABLES",
    "TableAssembler",
    "atomic_path",
    "check_part",
    "clean_stale_temporaries",
    "part_dir",
    "part_key",
    "read_part",
    "read_part_state",
    "read_part_tables",
    "read_table",
    "run_is_complete",
    "section_text",
    "write_csv",
    "write_json",
    "write_part",
    "writing_run",
]

_S, _I, _F, _B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

_TYPES: dict[str, pa.DataType] = {
    "doc_id": _S, "source": _S, "record": _I, "article_no": _I, "title": _S, "year": _I,
    "doc_type": _S, "place": _S, "script": _S, "encoding": _S, "n_chars": _I, "masked": _I,
    "duplicate_of": _S, "text": _S, "meta": _S, "line_no": _I, "rule": _S,
    "section_id": _S, "parent_id": _S, "level": _I, "family": _S, "marker": _S,
    "ordinal": _I, "start": _I, "end": _I, "raw": _S, "value": _F, "value_max": _F,
    "unit": _S, "category": _S, "qualifier": _S, "direction": _S, "basis": _S,
    "sentence": _S, "stage": _S, "error": _S, "message": _S, "part": _S, "key": _S,
    "signature": pa.list_(pa.uint64()), "line_nos": pa.list_(pa.int64()),
    "indicator": _S, "stance": _S, "period": _I, "period_end": _I, "status": _S,
    "aspiration": _S,
}
# metrics.masked is a flag, documents.masked a count of placeholders.
_OVERRIDES = {("metrics", "masked"): _B}


def _schema(table: str, columns: Iterable[str]) -> pa.Schema:
    return pa.schema(
        [pa.field(c, _OVERRIDES.get((table, c), _TYPES[c])) for c in columns]
    )


#: Tables kept per part: the public ones plus the MinHash signatures used for duplicates
#: and the head/tail lines used for lines recurring across pages.
PART_TABLES: dict[str, tuple[str, ...]] = {
    **TABLES,
    "signatures": ("doc_id", "signature"),
    # short lines at a page's head and tail, for lines recurring across a site's pages
    "zone_lines": ("record", "line_no", "key"),
}
ARROW_SCHEMAS: dict[str, pa.Schema] = {n: _schema(n, c) for n, c in PART_TABLES.items()}


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, racing threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):  # pragma: no cover - not Linux
        pass
    old = os.umask(0o022)  # pragma: no cover
    os.umask(old)  # pragma: no cover
    return old  # pragma: no cover


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - a platform without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path, *, is_dir: bool = False, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling of *path*; on success rename it over *path*.

    An exception (or a kill) leaves *path* as it was: never half-written. The result has
    the permissions ``open()`` would give it under the umask (``mkstemp`` makes 0600).
    With *durable* (files only) the data is fsynced before the rename and the folder
    after it, so a crash of the machine cannot leave an empty file under *path*.
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
        os.chmod(tmp, (0o777 if is_dir else 0o666) & ~_umask())
        if durable and not is_dir:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        if is_dir and path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
        if durable and not is_dir:
            _fsync_dir(path.parent)
    except BaseException:
        if is_dir:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


# Temporaries of atomic_path (".name.XXXXXXXX.tmp", a folder ".key.XXXXXXXX") and of the
# theme and chart writers (".name.tmp-PID").
_STALE_FILE_RE = re.compile(r"^\..+(\.[A-Za-z0-9_]{8}\.tmp|\.tmp-\d+)$")


def clean_stale_temporaries(out_dir: Path) -> list[str]:
    """Remove the temporaries a killed run left in *out_dir*; return their names.

    Call it only when no other run writes into *out_dir* (a run does, at its start).
    """
    removed: list[str] = []
    for folder in (out_dir, out_dir / "charts"):
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if _STALE_FILE_RE.match(p.name) and p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                removed.append(p.relative_to(out_dir).as_posix())
    parts = out_dir / ".parts"
    if parts.is_dir():
        for p in parts.iterdir():
            if p.name.startswith(".") and p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p.relative_to(out_dir).as_posix())
    return sorted(removed)


def write_json(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")


def part_key(source: str) -> str:
    """The folder name of a source's part: stable, filesystem-safe.

    A source holding lone surrogates (an undecodable file name) still has a key.
    """
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def part_dir(out_dir: Path, source: str) -> Path:
    return out_dir / ".parts" / part_key(source)


def _to_arrow(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    try:
        # Arrow gathers the columns itself (missing keys are nulls, extra keys ignored)
        return pa.Table.from_pylist(rows, schema=ARROW_SCHEMAS[table])
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError) as exc:
        raise SchemaError(f"rows for table {table!r} do not fit its schema: {exc}") from exc


#: A part is one file: the Arrow IPC streams of its non-empty tables, one after another,
#: compressed as one zstd frame (``state.json`` records where each table lies). One file,
#: not one per table, and one frame, not one per column buffer: a page's tables are small,
#: and per-file and per-buffer overhead made the parts 1.6x the input; now about 0.8x, and
#: a part reads in one open.
PART_FILE = "rows.arrows.zst"
#: Compression of the parts and of the assembled tables (Parquet).
PART_COMPRESSION = "zstd"
PART_COMPRESSION_LEVEL = 3
TABLE_COMPRESSION = "zstd"
TABLE_COMPRESSION_LEVEL = 3


# Explicit options: the default ones are read from two environment variables per stream.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions()


def _ipc_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


@functools.cache
def _codec() -> pa.Codec:
    return pa.Codec(PART_COMPRESSION, compression_level=PART_COMPRESSION_LEVEL)


def write_part(
    out_dir: Path, source: str, tables: dict[str, list[dict[str, Any]]], state: dict[str, Any]
) -> None:
    """Write one input file's rows and its ``state.json`` (last) as one atomic folder.

    ``state.json`` gets ``files`` (the size and SHA-256 of :data:`PART_FILE`, checked by
    :func:`check_part` before the part is reused) and ``tables`` (each table's offset and
    length in the uncompressed file; length 0 for an empty table).
    """
    target = part_dir(out_dir, source)
    index: dict[str, list[int]] = {}
    sink = pa.BufferOutputStream()  # the streams one after another, in one buffer
    for name in PART_TABLES:
        rows = tables.get(name)
        start = sink.tell()
        if rows:
            table = _to_arrow(name, rows)
            with pa.ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
                writer.write_table(table)
        index[name] = [start, sink.tell() - start]
    raw = sink.getvalue()
    data = _codec().compress(raw, asbytes=True)
    files = {PART_FILE: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                         "raw_bytes": raw.size}}
    with atomic_path(target, is_dir=True) as tmp:
        (tmp / PART_FILE).write_bytes(data)
        (tmp / "state.json").write_text(
            json.dumps({**state, "files": files, "tables": index}, ensure_ascii=False,
                       default=str), "utf-8"
        )


def check_part(out_dir: Path, source: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(state, None)`` for a sound part; ``(None, what is wrong)`` for a damaged one;
    ``(None, None)`` when there is no part.

    Sound means: ``state.json`` parses, locates every table, and the part file has the size
    and SHA-256 it records. A part written before checksums were kept, or in an older
    layout, counts as damaged (it is redone).
    """
    d = part_dir(out_dir, source)
    if not d.is_dir():
        return None, None
    try:
        state = json.loads((d / "state.json").read_text("utf-8"))
    except FileNotFoundError:
        return None, "damaged part: no state.json"
    except (OSError, ValueError) as exc:
        return None, f"damaged part: state.json unreadable ({type(exc).__name__})"
    files = state.get("files") if isinstance(state, dict) else None
    if not isinstance(files, dict):
        return None, "damaged part: state.json records no checksums (an older version)"
    index = state.get("tables")
    if not isinstance(index, dict) or any(name not in index for name in PART_TABLES):
        return None, "damaged part: state.json does not locate every table (an older layout)"
    meta = files.get(PART_FILE)
    path = d / PART_FILE
    if not isinstance(meta, dict):
        return None, f"damaged part: no checksum for {PART_FILE}"
    try:
        size = path.stat().st_size
    except OSError:
        return None, f"damaged part: {PART_FILE} missing"
    if size != meta.get("bytes"):
        return None, (f"damaged part: {PART_FILE} has {size} bytes, "
                      f"state.json records {meta.get('bytes')}")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        return None, f"damaged part: {PART_FILE} unreadable ({exc.strerror or exc})"
    if digest.hexdigest() != meta.get("sha256"):
        return None, f"damaged part: {PART_FILE} fails its checksum"
    return state, None


def read_part_state(out_dir: Path, source: str) -> dict[str, Any] | None:
    """The state of a complete, sound part, or ``None`` (none, incomplete or damaged)."""
    return check_part(out_dir, source)[0]


def read_part_tables(out_dir: Path, source: str, tables: Iterable[str] = PART_TABLES
                     ) -> dict[str, pa.Table]:
    """Tables of one source's part, by name (one read of the part file)."""
    d = part_dir(out_dir, source)
    state = json.loads((d / "state.json").read_text("utf-8"))
    index = state["tables"]
    raw = pa.decompress((d / PART_FILE).read_bytes(),
                        decompressed_size=state["files"][PART_FILE]["raw_bytes"],
                        codec=PART_COMPRESSION)
    found: dict[str, pa.Table] = {}
    for name in tables:
        offset, length = index[name]
        if length:
            # a copy of the table's own bytes: a view would pin the whole decompressed part
            # (the document text too) for as long as the table waits in a row-group buffer
            own = pa.py_buffer(raw[offset:offset + length].to_pybytes())
            found[name] = pa.ipc.open_stream(own).read_all()
        else:
            found[name] = ARROW_SCHEMAS[name].empty_table()
    return found


def read_part(out_dir: Path, source: str, table: str) -> pa.Table:
    """One table of one source's part."""
    return read_part_tables(out_dir, source, (table,))[table]


#: Parts are gathered into row groups of about this size before they are written.
ROW_GROUP_BYTES = 64 * 1024 * 1024


class TableAssembler:
    """Writes the run's tables while the pages are still being processed.

    Opened before the first page; :meth:`add` appends one input file's part (in input
    order, as each becomes ready), gathered into row groups of about
    :data:`ROW_GROUP_BYTES` (a part per row group would make thousands of tiny ones), so
    memory stays bounded by that size per table; :meth:`close` writes the last row groups
    and moves every table into place (``OUT/<table>.parquet``, each atomically). Until then
    the tables of the previous run stay as they were; :meth:`abort` leaves them so.
    """

    def __init__(self, out_dir: Path, tables: Iterable[str] = TABLES, *,
                 folder: Path | None = None) -> None:
        self.out_dir = out_dir if folder is None else folder
        self.names = tuple(tables)
        self.rows = dict.fromkeys(self.names, 0)
        self._stack = ExitStack()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._buffers: dict[str, list[pa.Table]] = {n: [] for n in self.names}
        self._sizes = dict.fromkeys(self.names, 0)
        try:
            for name in self.names:
                tmp = self._stack.enter_context(atomic_path(self.out_dir / f"{name}.parquet"))
                self._writers[name] = pq.ParquetWriter(
                    tmp, ARROW_SCHEMAS[name], compression=TABLE_COMPRESSION,
                    compression_level=TABLE_COMPRESSION_LEVEL)
        except BaseException as exc:
            self.abort(exc)
            raise

    def add(self, part: dict[str, pa.Table]) -> None:
        """Append one part's tables (missing ones count as empty)."""
        for name in self.names:
            table = part.get(name)
            if table is None or not table.num_rows:
                continue
            self._buffers[name].append(table)
            self._sizes[name] += table.nbytes
            self.rows[name] += table.num_rows
            if self._sizes[name] >= ROW_GROUP_BYTES:
                self._flush(name)

    def _flush(self, name: str) -> None:
        if self._buffers[name]:
            self._writers[name].write_table(pa.concat_tables(self._buffers[name]))
        self._buffers[name], self._sizes[name] = [], 0

    def close(self) -> dict[str, Path]:
        """Write what is buffered and move every table into place; return their paths."""
        try:
            for name in self.names:
                self._flush(name)
                self._writers.pop(name).close()
        except BaseException as exc:
            self.abort(exc)
            raise
        self._stack.close()
        return {name: self.out_dir / f"{name}.parquet" for name in self.names}

    def abort(self, exc: BaseException | None = None) -> None:
        """Drop the new tables (the previous run's stay in place)."""
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # pragma: no cover - closing a broken writer
                pass
        self._writers.clear()
        error = exc or RuntimeError("aborted")
        self._stack.__exit__(type(error), error, error.__traceback__)


#: Columns a table does not store but :func:`read_table` derives: name -> (column, after).
DERIVED: dict[str, tuple[str, str]] = {"sections": ("text", "title")}


def _document_texts(documents: Any) -> dict[str, str]:
    """``doc_id -> text`` from a documents frame, or from the run folder holding one."""
    if isinstance(documents, (str, Path)):
        path = Path(documents) / "documents.parquet"
        if not path.exists():
            raise FileNotFoundError(f"no table 'documents' in {documents}: "
                                    "run `corpus-tools run` first")
        table = pq.read_table(path, columns=["doc_id", "text"])
        return dict(zip(table.column("doc_id").to_pylist(), table.column("text").to_pylist(),
                        strict=True))
    return dict(zip(documents["doc_id"], documents["text"], strict=True))


def section_text(sections: Any, documents: Any) -> Any:
    """The text of every section: ``documents.text[start:end]`` of its document.

    *sections* is a frame with ``doc_id``, ``start`` and ``end`` (the ``sections`` table);
    *documents* the documents frame (``doc_id``, ``text``) or a run's output folder. Returns
    a pandas Series aligned with *sections*. The sections table stores offsets only, so that
    a run stores its text once; :func:`read_table` adds this column.

    >>> import pandas as pd
    >>> docs = pd.DataFrame({"doc_id": ["a#1"], "text": ["一、党建\\n开展活动12次"]})
    >>> secs = pd.DataFrame({"doc_id": ["a#1", "a#1"], "start": [0, 5], "end": [4, 12]})
    >>> section_text(secs, docs).tolist()
    ['一、党建', '开展活动12次']
    """
    import pandas as pd

    texts = _document_texts(documents)
    values = [
        texts[d][s:e] if d in texts else None
        for d, s, e in zip(sections["doc_id"], sections["start"], sections["end"], strict=True)
    ]
    return pd.Series(values, index=sections.index, dtype=object, name="text")


def _iter_section_texts(out_dir: Path, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Array]:
    """The text of each batch of sections, reading ``documents`` alongside in step.

    Both tables are written in the same document order, so the documents are read once,
    in batches, and only the current and the next batch are held."""
    docs = pq.ParquetFile(out_dir / "documents.parquet").iter_batches(
        batch_size=2048, columns=["doc_id", "text"])
    held: dict[str, str] = {}
    previous: dict[str, str] = {}
    exhausted = False
    for batch in batches:
        values: list[str | None] = []
        for d, s, e in zip(batch.column("doc_id").to_pylist(), batch.column("start").to_pylist(),
                           batch.column("end").to_pylist(), strict=True):
            while d not in held and d not in previous and not exhausted:
                nxt = next(docs, None)
                if nxt is None:
                    exhausted = True
                    break
                previous, held = held, dict(zip(nxt.column("doc_id").to_pylist(),
                                                nxt.column("text").to_pylist(), strict=True))
            text = held.get(d, previous.get(d))
            values.append(None if text is None else text[s:e])
        yield pa.array(values, type=pa.string())


#: Excel's limit on the characters of one cell.
EXCEL_CELL_CHARS = 32767


def _csv_splits(batches: Iterable[Any]) -> dict[str, int]:
    """String columns with cells over :data:`EXCEL_CELL_CHARS` → parts their longest needs."""
    import pyarrow.compute as pc

    longest: dict[str, int] = {}
    for batch in batches:
        for field in batch.schema:
            if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
                continue
            col = batch.column(field.name)
            m = pc.max(pc.utf8_length(col)).as_py() if len(col) else None
            if m is not None and m > longest.get(field.name, 0):
                longest[field.name] = m
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

    A derived column (a section's text) is written too, so the CSV reads on its own.
    Excel holds at most 32,767 characters in a cell: a text column with longer values is
    split into ``col``, ``col_2``, … (each at most that long; joined in order they give the
    whole value) and a ``col_parts`` column says how many parts each row used; a warning
    names the table and column. The Parquet table keeps the full text.
    """
    import logging

    source = out_dir / f"{table}.parquet"
    target = out_dir / f"{table}.csv"
    pf = pq.ParquetFile(source)
    derived = DERIVED.get(table)
    if derived and derived[0] in pf.schema_arrow.names:
        derived = None
    names = list(pf.schema_arrow.names)
    if derived:
        names.insert(names.index(derived[1]) + 1 if derived[1] in names else len(names),
                     derived[0])

    def batches() -> Iterator[Any]:
        stream: Iterable[Any] = pf.iter_batches(batch_size=5000)
        if derived:
            plain, again = itertools.tee(stream)
            stream = (b.append_column(derived[0], t).select(names) for b, t in zip(
                plain, _iter_section_texts(out_dir, again), strict=True))
        yield from stream

    splits = _csv_splits(batches())  # a first pass: the columns' longest cells
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
            for batch in batches():
                frame = batch.to_pandas()
                if splits:
                    frame = _split_cells(frame, splits)
                frame.to_csv(fh, index=False, header=header)
                header = False
            if header:
                fh.write(",".join(names) + "\n")
    return target


#: Output folders this process is writing a run into (its own steps may read them).
_WRITING: set[Path] = set()


@contextmanager
def writing_run(out_dir: Path) -> Iterator[None]:
    """Within this block, the process writes a run into *out_dir*: the manifest says
    ``"complete": false`` to everyone else, while the run's own corpus steps (themes,
    charts) still read its new tables with :func:`read_table`."""
    key = Path(out_dir).resolve()
    _WRITING.add(key)
    try:
        yield
    finally:
        _WRITING.discard(key)


def run_is_complete(out_dir: str | Path) -> bool:
    """``False`` while (or after a kill during) a run's replacing of the tables; always
    ``True`` inside :func:`writing_run` of the same folder."""
    if _WRITING and Path(out_dir).resolve() in _WRITING:
        return True
    try:
        with open(Path(out_dir) / "manifest.json", "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True
    return b'"complete": false' not in head


def read_table(out_dir: str | Path, name: str, *, columns: list[str] | None = None):
    """Read a table a run wrote, as a pandas DataFrame.

    ``sections`` gets its ``text`` column from ``documents`` (see :func:`section_text`)
    unless *columns* leaves it out.

    Raises :class:`IncompleteRunError` while a run is replacing the tables (or was killed
    doing so): its ``manifest.json`` says ``"complete": false`` and the folder may hold
    tables of two runs.

    >>> read_table("no-such-dir", "documents")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    FileNotFoundError: no table 'documents' in no-such-dir: run `corpus-tools run` first
    """
    import pandas as pd

    path = Path(out_dir) / f"{name}.parquet"
    if not run_is_complete(out_dir):
        raise IncompleteRunError(
            f"{out_dir} holds a run that has not finished (still running, or killed while "
            "writing its tables): its tables may come from two runs. Wait for it, or run "
            "`corpus-tools run` again.")
    if not path.exists():
        raise FileNotFoundError(f"no table {name!r} in {out_dir}: run `corpus-tools run` first")
    derived = DERIVED.get(name)
    stored = pq.read_schema(path).names
    if derived is None or derived[0] in stored or (columns is not None
                                                    and derived[0] not in columns):
        return pd.read_parquet(path, columns=columns)
    column, after = derived
    wanted = [c for c in (columns or stored) if c != column]
    extra = [c for c in ("doc_id", "start", "end") if c not in wanted]
    frame = pd.read_parquet(path, columns=wanted + extra)
    text = section_text(frame, out_dir)
    frame = frame.drop(columns=extra)
    if columns is not None:
        frame[column] = text
        return frame[columns]
    frame.insert(frame.columns.get_loc(after) + 1 if after in frame.columns else len(
        frame.columns), column, text)
    return frame
