"""The batch pipeline: streams every input page through the stages and writes tables.

Per input file (in a worker process, or on a Dask worker)::

    read → strip_boilerplate → normalize_text → split_articles
         → per article: remove_repeated_blocks → metadata → split_sections
                        → extract_metrics (+ section_at) → MinHash signature

The rows of each file go to its own part (see :mod:`corpus_tools.store`), so the run can
resume and memory stays flat. Then the second furniture signal: a short line standing at
the head or tail of at least 3 pages, and of at least half the pages, of one site (the
pages of one folder) is that site's furniture (headings, titles, salutations and
speakers' lines are never candidates, see :func:`corpus_tools.boilerplate.zone_lines`);
the files holding such lines are run again with them removed (rule ``recurring_line``),
on the same engine, so the tables do not depend on it. After all files: near-duplicate
flags over the whole run, the tables assembled in input order, themes and charts, the
manifest, then the HTML report (:mod:`corpus_tools.report`), whose time the manifest
records.

A page that cannot be read becomes a ``failed`` or ``skipped`` manifest entry with its
reason; a stage that raises on a page becomes a row of ``errors.parquet``; the run goes
on unless ``strict`` is set.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, store
from .config import DEFAULT, RunConfig
from .errors import ConfigError, CorpusToolsError, EmptyInputError, InputError
from .io import HTML_SUFFIXES, PAGE_SUFFIXES
from .schema import Page, as_row

__all__ = [
    "SUPPORTED_SUFFIXES",
    "InputFile",
    "RunResult",
    "discover",
    "escape_name",
    "unescape_name",
    "make_doc_id",
    "process_file",
    "process_page",
    "run",
]

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = PAGE_SUFFIXES


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file found among the inputs; ``problem`` set when it is not to be read."""

    path: str
    source: str
    problem: str | None = None


@dataclass(slots=True)
class RunResult:
    """What :func:`run` did: the manifest (as written) and where the tables are."""

    out_dir: Path
    manifest: dict[str, Any]
    tables: dict[str, Path] = field(default_factory=dict)

    @property
    def entries(self) -> list[dict[str, Any]]:
        return self.manifest["inputs"]


# --------------------------------------------------------------------------- inputs


_NON_REGULAR = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _not_regular(path: Path) -> str | None:
    """Why *path* (followed if a link) is not a regular file we may open, or ``None``.

    Opening a named pipe blocks until a writer comes, a device may never end: such files
    are never opened.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _NON_REGULAR if test(mode)), "not a file")
    return f"skipped: not a regular file ({kind}); never opened"


def escape_name(name: str) -> str:
    """A file name as text that always encodes to UTF-8, losslessly.

    ``os`` hands undecodable bytes of a file name (a GBK name from a Windows archive) over
    as lone surrogates, which no table or JSON file can hold. A name holding one (or a
    backslash) has each byte that is not UTF-8 written ``\\xNN`` and each backslash
    doubled, so the escape can be undone; any other name is returned as it is.

    >>> escape_name("社区.txt")
    '社区.txt'
    >>> escape_name(b"\\xc9\\xe7\\xc7\\xf8.txt".decode("utf-8", "surrogateescape"))
    '\\\\xc9\\\\xe7\\\\xc7\\\\xf8.txt'
    """
    if "\\" not in name and not _SURROGATE_RE.search(name):
        return name
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no OS name decodes to
        raw = name.encode("utf-8", "surrogatepass")
    raw = raw.replace(b"\\", b"\\\\")
    return raw.decode("utf-8", "backslashreplace")


_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_ESCAPE_RE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def unescape_name(name: str) -> bytes:
    """The bytes of the file name that :func:`escape_name` wrote as *name*.

    >>> unescape_name(escape_name(os.fsdecode(b"\\xc9\\xe7\\\\.txt")))
    b'\\xc9\\xe7\\\\.txt'
    """
    out = bytearray()
    pos = 0
    for m in _ESCAPE_RE.finditer(name):
        out += name[pos:m.start()].encode("utf-8")
        out += b"\\" if m.group(1) == "\\" else bytes((int(m.group(1)[1:], 16),))
        pos = m.end()
    return bytes(out + name[pos:].encode("utf-8"))


def is_output_folder(folder: Path) -> bool:
    """Whether *folder* holds the outputs of a corpus-tools run (``.parts`` or a manifest)."""
    if (folder / ".parts").is_dir():
        return True
    try:
        with open(folder / "manifest.json", "rb") as fh:
            return b'"toolkit": "corpus_tools"' in fh.read(512)
    except OSError:
        return False


_OUTPUT_FOLDER = ("skipped: output folder of a corpus-tools run (it holds a manifest or "
                  ".parts); never read as input")


def discover(inputs: Sequence[str | Path], *,
             exclude: Sequence[str | Path] = ()) -> list[InputFile]:
    """Every file under *inputs*, in a stable order, each with its ``source`` name.

    ``source`` is the path relative to the common root of the inputs (a folder given, or
    the folder of a file given; with several inputs, the folder they all lie in), so a
    file, its folder or several of its siblings give the file the same ``source`` and
    ``doc_id``; escaped by :func:`escape_name` when the name is not UTF-8.
    Nothing goes unaccounted for: symlinked folders are not followed (a link loop cannot
    trap the walk) and are listed as skipped; named pipes, sockets and devices are
    skipped unopened; a folder that cannot be listed is a failed entry; the folders in
    *exclude* (a run's ``OUT``) and any folder holding a corpus-tools run's outputs are
    skipped entries, never inputs. A path that does not exist is a failed entry.
    """
    found: list[InputFile] = []
    common = _common_root(inputs)
    excluded = {Path(p).resolve() for p in exclude}

    def is_excluded(p: Path) -> bool:
        return p.resolve() in excluded or is_output_folder(p)

    for item in inputs:
        root = Path(item)
        prefix = _prefix(root, common)
        label = escape_name(str(item))
        if root.is_dir():
            if is_excluded(root) or any(p in excluded for p in root.resolve().parents):
                found.append(InputFile(str(root), prefix.rstrip("/") or label, _OUTPUT_FOLDER))
                continue
        elif root.is_file():
            name = escape_name(root.name)
            found.append(InputFile(str(root), prefix + name))
            continue
        elif os.path.lexists(root):
            reason = _not_regular(root) or "unreadable: broken or looping symbolic link"
            name = escape_name(root.name)
            found.append(InputFile(str(root), prefix + name, reason))
            continue
        else:
            found.append(InputFile(str(root), label, "unreadable: no such file or folder"))
            continue

        def walk_error(exc: OSError, root: Path = root, prefix: str = prefix) -> None:
            where = Path(exc.filename) if exc.filename else root
            try:
                rel = where.relative_to(root).as_posix()
            except ValueError:
                rel = where.as_posix()
            source = prefix + escape_name(rel) if rel != "." else (prefix.rstrip("/")
                                                                    or escape_name(str(root)))
            found.append(InputFile(str(where), source,
                                   f"unreadable: folder cannot be listed: {exc.strerror or exc}"))

        for dirpath, dirnames, filenames in os.walk(root, onerror=walk_error,
                                                    followlinks=False):
            dirnames.sort()
            base = Path(dirpath)
            keep = []
            for d in dirnames:
                rel = prefix + escape_name((base / d).relative_to(root).as_posix())
                if (base / d).is_symlink():
                    found.append(InputFile(str(base / d), rel,
                                           "skipped: symlinked folder not followed"))
                elif d.startswith("."):
                    continue
                elif is_excluded(base / d):
                    found.append(InputFile(str(base / d), rel, _OUTPUT_FOLDER))
                else:
                    keep.append(d)
            dirnames[:] = keep
            for name in sorted(filenames):
                p = base / name
                rel = prefix + escape_name(p.relative_to(root).as_posix())
                if p.is_symlink() and not p.exists():
                    found.append(InputFile(str(p), rel,
                                           "unreadable: broken or looping symbolic link"))
                elif (problem := _not_regular(p)) is not None:
                    found.append(InputFile(str(p), rel, problem))
                elif name.startswith("."):
                    found.append(InputFile(str(p), rel, "skipped: hidden file"))
                elif p.suffix.lower() not in SUPPORTED_SUFFIXES:
                    found.append(InputFile(
                        str(p), rel,
                        f"skipped: unsupported file type {escape_name(p.suffix) or '(none)'!r}; "
                        f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"))
                else:
                    found.append(InputFile(str(p), rel))
    seen: dict[str, int] = {}
    unique = []
    for f in found:
        n = seen.get(f.source, 0)
        seen[f.source] = n + 1
        unique.append(f if n == 0 else InputFile(f.path, f"{f.source}~{n}", f.problem))
    return unique


def _common_root(inputs: Sequence[str | Path]) -> str | None:
    """The folder all *inputs* lie in (a folder given counts as itself, a file as its
    folder); None when they share none (different drives)."""
    bases = []
    for item in inputs:
        p = Path(item)
        bases.append(os.path.abspath(p if p.is_dir() else p.parent))
    try:
        return os.path.commonpath(bases) if bases else None
    except ValueError:
        return None


def _prefix(root: Path, common: str | None) -> str:
    """What stands before the names found under *root*: its folder relative to *common*."""
    base = os.path.abspath(root if root.is_dir() else root.parent)
    if common is None:
        return f"{escape_name(Path(base).name)}/"
    rel = Path(os.path.relpath(base, common)).as_posix()
    return "" if rel == "." else f"{escape_name(rel)}/"


def make_doc_id(source: str, record: int | None, article_no: int) -> str:
    """A document's id: readable and stable across runs.

    >>> make_doc_id("pages/a.txt", None, 2)
    'pages/a.txt#2'
    >>> make_doc_id("scrape.jsonl", 14, 1)
    'scrape.jsonl:14#1'
    """
    return f"{source}#{article_no}" if record is None else f"{source}:{record}#{article_no}"


# --------------------------------------------------------------------------- one page


_CONTENT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class _RawLines:
    """Maps a line of the normalized page back to its line in the raw file.

    Boilerplate removal works on raw lines; later stages see the normalized text, where
    blank lines are collapsed. Non-blank lines correspond one to one (each kept raw line
    that does not normalize to nothing), so the k-th non-blank normalized line is the k-th
    such raw line. Built only when a later stage removes something.
    """

    def __init__(self, raw: str, removed: set[int], normalized: str,
                 normalize: Callable[[str], str]) -> None:
        self.raw, self.removed = raw, removed
        self.normalized, self.normalize = normalized, normalize
        self._raw_nos: list[int] | None = None
        self._starts: list[int] = []

    def _build(self) -> None:
        # A line holding a Chinese character never normalizes to
        # nothing; only the rest (rules, stray marks, odd spaces) is asked.
        self._raw_nos = [
            i for i, line in enumerate(self.raw.split("\n"), 1)
            if i not in self.removed and line.strip()
            and (_CONTENT.search(line) is not None or self.normalize(line).strip())
        ]
        pos = 0
        for line in self.normalized.split("\n"):
            if line.strip():
                self._starts.append(pos)
            pos += len(line) + 1
        if len(self._starts) != len(self._raw_nos):
            self._raw_nos = []  # the correspondence does not hold: give no line number

    def line_no(self, offset: int) -> int | None:
        """The raw line number of the normalized line holding *offset*, if known."""
        import bisect

        if self._raw_nos is None:
            self._build()
        assert self._raw_nos is not None
        k = bisect.bisect_right(self._starts, offset) - 1
        return self._raw_nos[k] if self._raw_nos and 0 <= k < len(self._raw_nos) else None

    def lines(self, start: int, end: int) -> Iterator[tuple[int | None, str]]:
        """(raw line number, raw text) of every non-blank normalized line in [start, end)."""
        raw = self.raw.split("\n")
        pos = start
        for line in self.normalized[start:end].split("\n"):
            if line.strip():
                no = self.line_no(pos)
                yield no, (raw[no - 1].rstrip("\r") if no else line.strip())
            pos += len(line) + 1


class _Errors:
    """Collects a page's stage errors as rows, or raises them in strict mode."""

    def __init__(self, page: Page, strict: bool) -> None:
        self.page, self.strict = page, strict
        self.rows: list[dict[str, Any]] = []

    def call(self, stage: str, fn: Callable[..., Any], *args: Any, default: Any = None) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            if self.strict:
                raise
            log.warning("%s: stage %s failed: %s", self.page.source, stage, exc)
            self.rows.append({"source": self.page.source, "record": self.page.record,
                              "stage": stage, "error": type(exc).__name__,
                              "message": str(exc)[:2000]})
            return default


def process_page(page: Page, config: RunConfig = DEFAULT,
                 recurring: Sequence[int] = ()) -> dict[str, list[dict[str, Any]]]:
    """Run every per-page stage on one page; return its rows by table name.

    *recurring*: 1-based lines of the page that recur on many pages of its site (found by
    :func:`run` after a first pass); they go to ``removed`` with rule ``recurring_line``.
    """
    from .articles import page_preamble, split_articles
    from .boilerplate import fold_text, strip_boilerplate, zone_lines
    from .dedup import minhash_signature, remove_repeated_blocks
    from .indicators import document_panel
    from .metadata import document_title, extract_metadata
    from .metrics import extract_metrics
    from .normalize import count_placeholders, detect_script, normalize_text
    from .schema import Article, Stripped
    from .sections import SectionIndex, split_sections

    err = _Errors(page, config.strict)
    src, rec = page.source, page.record
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in store.PART_TABLES}

    raw = page.text
    drops = [(no, "html_main_content") for no in page.dropped]  # outside the HTML main text
    drops += [(no, "recurring_line") for no in recurring]  # on many pages of the site
    recurred: list[tuple[int, str]] = []
    if drops:
        lines = raw.split("\n")
        for no, rule in sorted(drops):
            if not 1 <= no <= len(lines) or not lines[no - 1]:
                continue
            out["removed"].append({"source": src, "record": rec, "article_no": None,
                                   "line_no": no, "text": lines[no - 1].rstrip("\r"),
                                   "rule": rule})
            if rule == "recurring_line":
                recurred.append((no, "".join(fold_text(lines[no - 1]).split())))
            lines[no - 1] = ""
        raw = "\n".join(lines)
    script = err.call("script", detect_script, raw, default="unknown")
    stripped = err.call("boilerplate", strip_boilerplate, raw, default=Stripped(raw, ()))
    for r in stripped.removed:
        out["removed"].append(as_row(r, source=src, record=rec, article_no=None))
    # Head and tail lines, for the lines recurring across a site's pages (see run()).
    kept_lines = raw.split("\n")
    for r in stripped.removed:
        kept_lines[r.line_no - 1] = ""
    zones = err.call("boilerplate", zone_lines, "\n".join(kept_lines), default=[]) or []
    out["zone_lines"] = [{"record": rec, "line_no": no, "key": key}
                         for no, key in sorted([*zones, *recurred])]
    text = err.call("normalize", normalize_text, stripped.text, default=None)
    if text is None:
        out["errors"] = err.rows
        return out
    articles = err.call("articles", split_articles, text, default=None)
    if articles is None:
        articles = [Article(1, "", text, 0, len(text))] if text.strip() else []
    meta_json = json.dumps(page.meta, ensure_ascii=False, default=str) if page.meta else None
    raw_lines = _RawLines(raw, {r.line_no for r in stripped.removed}, text, normalize_text)

    # Nothing real is lost: what stands above the first article is recorded as removed.
    preamble = err.call("articles", page_preamble, text, articles, default="") or ""
    if preamble:
        begin = text.find(preamble)
        for no, line in raw_lines.lines(begin, begin + len(preamble)):
            out["removed"].append({"source": src, "record": rec, "article_no": None,
                                   "line_no": no, "text": line, "rule": "page_preamble"})

    for art in articles:
        doc_id = make_doc_id(src, rec, art.number)
        doc_text, repeats = err.call("repeated_blocks", remove_repeated_blocks, art.text,
                                     default=(art.text, []))
        if repeats:
            line_starts = list(
                itertools.accumulate((len(x) + 1 for x in art.text.split("\n")), initial=0))
        for r in repeats:
            offset = art.start + line_starts[min(r.line_no, len(line_starts)) - 1]
            out["removed"].append({"source": src, "record": rec, "article_no": art.number,
                                   "line_no": raw_lines.line_no(offset), "text": r.text,
                                   "rule": r.rule})
        title = err.call("metadata", document_title, art.title, doc_text, default=art.title)
        meta = err.call("metadata", extract_metadata, title, doc_text, default={}) or {}
        # Where each line came from, so a reader (the report) can show removed lines in
        # place; only needed (and only computed) when something was removed from the page.
        line_nos = (_doc_line_nos(raw_lines, art, {r.line_no for r in repeats}, doc_text)
                    if out["removed"] else None)
        out["documents"].append({
            "doc_id": doc_id, "source": src, "record": rec, "article_no": art.number,
            "title": title, "year": meta.get("year"), "doc_type": meta.get("doc_type"),
            "place": meta.get("place"), "script": script, "encoding": page.encoding,
            "n_chars": len(doc_text), "masked": count_placeholders(doc_text),
            "duplicate_of": None, "meta": meta_json, "text": doc_text, "line_nos": line_nos,
        })
        sections = err.call("sections", split_sections, doc_text, default=[]) or []
        for s in sections:
            out["sections"].append(as_row(s, doc_id=doc_id))
        index = SectionIndex(sections)
        metrics = err.call("metrics", functools.partial(
            extract_metrics, sections=sections, year=meta.get("year"),
            doc_type=meta.get("doc_type")), doc_text, default=[]) or []
        for m in metrics:
            out["metrics"].append(as_row(m, doc_id=doc_id, section_id=index.at(m.start)))
        if any(m.indicator is not None for m in metrics):
            out["indicators"].extend(err.call(
                "indicators", document_panel, out["documents"][-1], metrics, sections,
                default=[]) or [])
        sig = err.call("signature", minhash_signature, doc_text, default=None)
        if sig is not None:
            # numpy's tolist gives the same Python ints as int() of each, at once
            values = sig.tolist() if hasattr(sig, "tolist") else [int(x) for x in sig]
            out["signatures"].append({"doc_id": doc_id, "signature": values})
    out["errors"] = err.rows
    return out


def _doc_line_nos(raw_lines: _RawLines, art: Any, dropped: set[int],
                  doc_text: str) -> list[int] | None:
    """The raw line number of every non-blank line of *doc_text*, in order, or ``None``.

    *doc_text* is the article's text without the lines in *dropped* (1-based within the
    article: the repeated blocks). ``None`` when the correspondence does not hold.
    """
    nos: list[int] = []
    pos = art.start
    for t, line in enumerate(art.text.split("\n"), 1):
        if t not in dropped and line.strip():
            no = raw_lines.line_no(pos)
            if no is None:
                return None
            nos.append(no)
        pos += len(line) + 1
    kept = sum(1 for line in doc_text.split("\n") if line.strip())
    return nos if len(nos) == kept else None


# --------------------------------------------------------------------------- one file


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def process_file(task: tuple[InputFile, str, RunConfig]) -> dict[str, Any]:
    """Read one input file, run its pages, write its part; return its manifest entry.

    Runs in worker processes and on Dask workers, so it takes and returns plain data.
    """
    from .io import NotRegularFileError, read_page, read_regular_file

    item, out, config, *more = task
    # lines recurring across the site's pages, [record, line_no] pairs (second pass only)
    recurring: list[list[Any]] | None = more[0] if more else None
    out_dir = Path(out)
    entry = _blank_entry(item)
    if item.problem:
        status, _, reason = item.problem.partition(": ")
        if status == "unreadable":
            return _failed(entry, item.problem, config)
        entry.update(status="skipped", reason=reason)
        return entry
    try:
        data = read_regular_file(item.path, limit=config.max_page_bytes + 1)
    except NotRegularFileError as exc:
        entry.update(status="skipped", reason=str(exc))
        return entry
    except OSError as exc:
        return _failed(entry, f"unreadable: {exc.strerror or exc}", config)
    entry["bytes"] = len(data)
    if len(data) > config.max_page_bytes:
        entry.update(status="skipped",
                     reason=f"larger than max_page_bytes ({config.max_page_bytes} bytes)")
        return entry
    entry["sha256"] = sha = _sha256(data)
    fingerprint = config.fingerprint()
    if config.resume:
        state, damage = store.check_part(out_dir, item.source)
        if (state and state.get("sha256") == sha and state.get("fingerprint") == fingerprint
                and (recurring is None or state.get("recurring", []) == recurring)):
            cached = dict(state["entry"], path=entry["path"], cached=True)
            return cached
        if damage:
            log.warning("%s: %s; redoing it", item.source, damage)
            entry["repaired"] = damage
    if not data.strip():
        entry.update(status="skipped", reason="empty file")
        _write(out_dir, item, {}, entry, sha, fingerprint)
        return entry
    repairs: dict[str, Any] = {}
    try:
        pages, issues = read_page(item.path, root=None, text_column=config.text_column,
                                  encoding=config.encoding, source=item.source,
                                  errors=config.decode_errors, report=repairs, data=data)
    except EmptyInputError as exc:
        entry.update(status="skipped", reason=str(exc))
        _write(out_dir, item, {}, entry, sha, fingerprint)
        return entry
    except InputError as exc:
        _failed(entry, str(exc), config)
        _write(out_dir, item, {}, entry, sha, fingerprint)
        return entry
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in store.PART_TABLES}
    for record, reason in issues:
        tables["errors"].append({"source": item.source, "record": record, "stage": "read",
                                 "error": "InputError", "message": reason})
    unclosed = repairs.pop("unclosed", None)
    if unclosed:  # the text an unclosed <script> hid: nothing real is lost unrecorded
        tables["removed"].append({"source": item.source, "record": None, "article_no": None,
                                  "line_no": None, "text": unclosed["text"],
                                  "rule": f"html_unclosed_{unclosed['tag']}"})
        repairs["unclosed"] = {"tag": unclosed["tag"], "line": unclosed["line"],
                               "chars": len(unclosed["text"])}
    removed_chars = total_chars = 0
    warnings: list[str] = []
    if config.page_timeout > 0 and pages:
        _warm_up(config)
    try:
        with _time_limit(config.page_timeout):
            results = [(page, _run_page(page, config, recurring)) for page in pages]
    except PageTimeout:
        # Not cached in a part: a later run (perhaps with a longer limit) tries again.
        entry.update(pages=len(pages), encoding=pages[0].encoding if pages else None)
        return _failed(entry, _timeout_reason(config.page_timeout), config)
    for page, page_rows in results:
        if not page_rows["documents"] and not page_rows["errors"] and page.record is not None:
            tables["errors"].append({"source": item.source, "record": page.record,
                                     "stage": "normalize", "error": "EmptyInputError",
                                     "message": _NO_TEXT})
        for name, rows in page_rows.items():
            tables[name].extend(rows)
        gone, total = _removed_chars(page, page_rows["removed"])
        removed_chars += gone
        total_chars += total
        if total and gone > REMOVED_WARN_SHARE * total:
            where = "" if page.record is None else f"record {page.record}: "
            warnings.append(f"{where}{gone / total:.0%} of the text went to removed")
    entry["removed_share"] = round(removed_chars / total_chars, 4) if total_chars else 0.0
    if pages and Path(item.path).suffix.lower() in HTML_SUFFIXES:
        entry["html_extractor"] = pages[0].meta.get("extractor")
    if warnings:
        entry["warnings"] = warnings
    entry["pages"] = len(pages)
    entry["encoding"] = pages[0].encoding if pages else None
    if repairs:
        entry["repairs"] = repairs
    entry["errors"] = len(tables["errors"])
    if not pages:
        entry.update(status="failed", reason="no readable page: " +
                     "; ".join(f"record {r}: {m}" for r, m in issues[:3]))
    elif not tables["documents"] and all(r["message"] == _NO_TEXT for r in tables["errors"]):
        # Only NBSP, zero-width or other characters that normalization removes.
        tables["errors"] = []
        entry.update(status="skipped", reason=_NO_TEXT, errors=0)
    elif tables["errors"]:
        stages = sorted({row["stage"] for row in tables["errors"]})
        entry["reason"] = f"{len(tables['errors'])} error row(s) in stage(s) {', '.join(stages)}"
    if recurring:
        entry["recurring_lines"] = len(recurring)
    _write(out_dir, item, tables, entry, sha, fingerprint, recurring)
    return entry


def _blank_entry(item: InputFile) -> dict[str, Any]:
    return {
        "source": item.source, "path": escape_name(item.path), "status": "ok", "reason": None,
        "sha256": None, "bytes": None, "encoding": None, "pages": 0, "cached": False,
        "rows": {}, "errors": 0,
    }


_NO_TEXT = "no text after normalization"


class PageTimeout(BaseException):
    """An input file's per-page stages went over ``page_timeout``.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that a stage's ``except
    Exception`` does not turn it into an error row and carry on with the same page."""


_WARM: list[bool] = []


def _warm_up(config: RunConfig) -> None:
    """Load every stage's rules once per process, so that the time limit counts a page's
    own work and not the loading of dictionaries that the first page would pay for."""
    if not _WARM:
        _WARM.append(True)
        process_page(Page(source="warm-up", text="一、基本情况\n社区共有居民1200户。",
                          encoding="utf-8"), config)


def _timeout_reason(seconds: float) -> str:
    return (f"timed out after {seconds:g} s in the per-page stages (page_timeout; "
            "--page-timeout to change it)")


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`PageTimeout` in this block after *seconds* (0: no limit).

    A timer signal, so it interrupts a long regular-expression scan too; it needs the main
    thread of a process (worker processes run their files there; Dask tasks are sent to a
    child process for it, see :func:`_supervised`). Elsewhere the block runs unlimited.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer") \
            or threading.current_thread() is not threading.main_thread():
        yield
        return

    fired: list[bool] = []

    def on_alarm(signum: int, frame: Any) -> None:
        # An exception raised where Python ignores it (a weakref or GC callback) would be
        # lost: the timer is re-armed until one lands, and the block checks at its end.
        fired.append(True)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        raise PageTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:
        raise PageTimeout


#: A page that loses more than this share of its characters to ``removed`` gets a warning.
REMOVED_WARN_SHARE = 0.2


def _removed_chars(page: Page, removed: list[dict[str, Any]]) -> tuple[int, int]:
    """Characters (spaces aside) of *page* that went to ``removed``, and of the page."""
    gone = sum(len("".join(str(r["text"] or "").split())) for r in removed)
    return gone, len("".join(page.text.split()))


def _run_page(page: Page, config: RunConfig,
              recurring: list[list[Any]] | None) -> dict[str, list[dict[str, Any]]]:
    """:func:`process_page`, with the page's recurring lines when there are any."""
    drop = [no for r, no in recurring or () if r == page.record]
    return process_page(page, config, drop) if drop else process_page(page, config)


def _failed(entry: dict[str, Any], reason: str, config: RunConfig) -> dict[str, Any]:
    if config.strict:
        raise InputError(f"{entry['source']}: {reason}")
    entry.update(status="failed", reason=reason)
    return entry


def _write(out_dir: Path, item: InputFile, tables: dict[str, list[dict[str, Any]]],
           entry: dict[str, Any], sha: str, fingerprint: str,
           recurring: list[list[Any]] | None = None) -> None:
    entry["rows"] = {name: len(tables.get(name, [])) for name in store.TABLES}
    try:
        store.write_part(out_dir, item.source, tables,
                         {"sha256": sha, "fingerprint": fingerprint, "entry": entry,
                          "recurring": recurring or []})
    except CorpusToolsError as exc:  # rows a table cannot hold: the file fails, not the run
        if not tables:
            raise
        entry.update(status="failed", reason=f"rows not writable: {exc}"[:2000])
        _write(out_dir, item, {}, entry, sha, fingerprint)


# --------------------------------------------------------------------------- engines


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _exit_with_parent(parent: int) -> None:
    """Initializer of worker processes: exit when the run's process dies (kill -9 too).

    The kernel kills the worker when its own parent dies (``PR_SET_PDEATHSIG``; with
    forkserver that is the server, which exits with the run), and a thread checks the
    run's process every second in case the worker's parent lives on.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(70)
            except PermissionError:  # pragma: no cover - the pid was reused by another user
                os._exit(70)

    threading.Thread(target=watch, name="corpus-tools-parent-watch", daemon=True).start()


def _pool(workers: int, *, preload: bool = False) -> Any:
    """A pool of *workers* processes. With *preload* (the page workers), the forkserver
    they are forked from first loads the per-page stages and their rules
    (:mod:`corpus_tools._preload`): once per run, shared by the workers, instead of once
    per worker. A forkserver already running (started by an earlier pool of this process)
    keeps what it loaded."""
    from concurrent.futures import ProcessPoolExecutor

    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if preload and method == "forkserver":
        context.set_forkserver_preload(["__main__", "corpus_tools._preload"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


def _map_local(tasks: list[Any], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(process_file, tasks)
        return
    pool = _pool(workers, preload=True)
    try:
        yield from pool.map(process_file, tasks, chunksize=1)
    except BaseException:
        # Stopped (SIGTERM, Ctrl-C, an error while collecting): the workers are killed
        # now rather than left to finish their files, which can take minutes.
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True)


def _stop_workers(pool: Any) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, ValueError):  # pragma: no cover - already gone
            pass
    for process in processes:
        process.join(5)


#: A Dask worker's own child process, which runs its files under the page time limit
#: (Dask runs tasks in threads, and only a process's main thread can be interrupted).
_CHILD: list[Any] = []
#: How long past the time limit a child that does not answer is waited for, then killed.
_CHILD_GRACE = 30.0


def _supervised(task: tuple[Any, ...]) -> dict[str, Any]:
    """:func:`process_file` for a Dask task, under ``page_timeout`` (see :data:`_CHILD`).

    *task* is what :func:`process_file` takes, the recurring lines of a second pass included.
    """
    item, _, config, *_more = task
    if config.page_timeout <= 0 or threading.current_thread() is threading.main_thread():
        return process_file(task)
    from concurrent.futures import TimeoutError as FutureTimeout

    if not _CHILD:
        # Dask's worker processes are daemonic, which multiprocessing takes to mean "no
        # children" (so that none is orphaned); this child exits with its parent anyway.
        multiprocessing.current_process()._config["daemon"] = False  # type: ignore[attr-defined]
        _CHILD.append(_pool(1))
    future = _CHILD[0].submit(process_file, task)
    try:
        return future.result(timeout=config.page_timeout + _CHILD_GRACE)
    except FutureTimeout:
        pool = _CHILD.pop()
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        entry = _blank_entry(item)
        return _failed(entry, _timeout_reason(config.page_timeout), config)


def _map_dask(tasks: list[Any], workers: int, scheduler: str | None,
              finish: Callable[[Any, int], None] | None = None) -> Iterator[dict[str, Any]]:
    """Run *tasks* on a Dask cluster; once every result has been consumed, ``finish(client,
    n_workers)`` runs corpus-level tasks on the same cluster before it is closed."""
    with _dask_client(workers, scheduler) as client:
        from distributed import as_completed

        futures = client.map(_supervised, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            yield {**fut.result(), "_index": index[fut.key]}
        if finish is not None:
            finish(client, max(1, len(client.scheduler_info().get("workers", {})) or workers))


@contextmanager
def _dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A client of the Dask scheduler at *scheduler*, or of a LocalCluster of *workers*
    single-threaded worker processes (closed on exit)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise CorpusToolsError(
            "engine 'dask' needs dask.distributed: pip install 'corpus-tools[dask]'") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1,
                               processes=True, dashboard_address=":0")
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- a run


def _collect(stream: Iterable[dict[str, Any]], entries: list[dict[str, Any] | None],
             assembly: _Assembly, bar: Any, order: list[int] | None = None) -> None:
    """Put each entry of *stream* in its place (*order* maps a stream's task index to
    the entry's) and feed the parts to *assembly* in input order as they are ready."""
    ready = 0  # entries[:ready] are in the tables

    def advance() -> None:
        nonlocal ready
        while ready < len(entries) and entries[ready] is not None:
            if entries[ready]["rows"]:  # type: ignore[index]
                assembly.add(entries[ready]["source"])  # type: ignore[index]
            ready += 1

    try:
        advance()
        for i, entry in enumerate(stream):
            k = entry.pop("_index", i)
            entries[order[k] if order is not None else k] = entry
            advance()
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(entry["source"][-40:], refresh=False)
    except BaseException as exc:
        assembly.abort(exc)
        raise


#: A head/tail line is a site's furniture when it recurs on at least this many pages of
#: the site (the pages of one folder) and on at least this share of them.
RECURRING_MIN_PAGES = 3
RECURRING_MIN_SHARE = 0.5


def _recurring_lines(out_dir: Path,
                     done: list[dict[str, Any] | None]) -> dict[int, list[list[Any]]]:
    """Files (index into *done*, the entries in input order) whose lines to drop differ from what their part applied:
    ``{index: [[record, line_no], ...]}``. Deterministic: counts over the parts' head and
    tail lines (computed before any such drop), whatever the engine or worker count."""
    import math
    import posixpath

    found: dict[int, list[tuple[Any, int, str]]] = {}
    pages: dict[str, int] = {}
    holders: dict[tuple[str, str], set[tuple[str, Any]]] = {}
    for i, e in enumerate(done):
        if e is None or e.get("status") != "ok" or not e.get("rows"):
            continue
        site = posixpath.dirname(e["source"])
        pages[site] = pages.get(site, 0) + int(e.get("pages") or 0)
        try:
            part = store.read_part(out_dir, e["source"], "zone_lines")
        except (OSError, ValueError, KeyError):
            continue  # a part from before this table: nothing to count
        rows = list(zip(part.column("record").to_pylist(), part.column("line_no").to_pylist(),
                        part.column("key").to_pylist(), strict=True))
        found[i] = rows
        for record, _no, key in rows:
            holders.setdefault((site, key), set()).add((e["source"], record))
    redo: dict[int, list[list[Any]]] = {}
    for i, e in enumerate(done):
        if e is None or (i not in found and not e.get("recurring_lines")):
            continue
        site = posixpath.dirname(e["source"])
        need = max(RECURRING_MIN_PAGES, math.ceil(RECURRING_MIN_SHARE * pages.get(site, 0)))
        drop = [[record, no] for record, no, key in found.get(i, ())
                if len(holders[(site, key)]) >= need]
        state = store.read_part_state(out_dir, e["source"]) or {}
        if drop != state.get("recurring", []):
            redo[i] = drop
    return redo


class _Assembly:
    """The corpus-level work done while pages are still being processed: each file's part,
    as soon as it and every file before it are done, goes through the duplicate index and
    into the tables (:class:`corpus_tools.store.TableAssembler`). So nothing but the last
    row groups is left for after the pages, and ``--workers N`` is not held back by a
    serial tail in the parent.

    ``duplicate_of`` is set from :class:`corpus_tools.dedup.DuplicateIndex` as each
    document arrives; if the final mapping re-points a document already written (a
    traditional copy came first and its simplified original later: the original is the
    native copy), :meth:`close` rewrites the documents table with it.
    """

    def __init__(self, out: Path, threshold: float, *, banded: bool = False) -> None:
        from .dedup import DuplicateIndex

        self.out = out
        self.threshold = threshold
        self.index = DuplicateIndex(threshold)
        self.tables = store.TableAssembler(out)
        # banded (the Dask engine): signatures go to a file, and the duplicate pass runs
        # as Dask tasks over groups of LSH bands (dedup_on) once all parts are in
        self.banded = banded
        self.ids: list[str] = []
        self.final: dict[str, str] | None = None
        self.signatures = (store.TableAssembler(out, ("signatures",), folder=out / ".dedup")
                           if banded else None)
        self.written: dict[str, str] = {}  # duplicate_of as written
        self.converted: set[str] = set()  # traditional copies: the simplified one is the original
        self.seconds = {"duplicates": 0.0, "tables": 0.0}

    def add(self, source: str) -> None:
        import numpy as np
        import pyarrow as pa

        t0 = time.perf_counter()
        part = store.read_part_tables(self.out, source)
        sigs = part.pop("signatures")
        t1 = time.perf_counter()
        flags = {}
        if self.signatures is not None:
            self.signatures.add({"signatures": sigs})
            self.ids.extend(sigs.column("doc_id").to_pylist())
        else:
            for doc_id, sig in zip(sigs.column("doc_id").to_pylist(),
                                   sigs.column("signature").to_numpy(zero_copy_only=False),
                                   strict=True):
                first = self.index.add(doc_id, np.asarray(sig, dtype=np.uint64))
                if first is not None:
                    flags[doc_id] = first
        t2 = time.perf_counter()
        self.written.update(flags)
        docs = part["documents"]
        self.converted.update(
            d for d, script in zip(docs.column("doc_id").to_pylist(),
                                   docs.column("script").to_pylist(), strict=True)
            if script == "traditional")
        if flags and docs.num_rows:
            dup = pa.array([flags.get(i) for i in docs.column("doc_id").to_pylist()],
                           type=pa.string())
            part["documents"] = docs.set_column(
                docs.schema.get_field_index("duplicate_of"), "duplicate_of", dup)
        self.tables.add(part)
        self.seconds["duplicates"] += t2 - t1
        self.seconds["tables"] += (t1 - t0) + (time.perf_counter() - t2)

    def dedup_on(self, client: Any, n_workers: int) -> None:
        """The duplicate pass as Dask tasks: each reads the run's signatures and checks
        some of the LSH bands; the client only resolves the pairs they return."""
        from .dedup import band_groups, resolve_pairs

        t0 = time.perf_counter()
        assert self.signatures is not None
        path = self.signatures.close()["signatures"]
        self.signatures = None
        pairs: list[tuple[int, int]] = []
        if self.ids:
            import pyarrow.parquet as pq

            first = pq.ParquetFile(path).read_row_group(0, columns=["signature"])
            rows, groups = band_groups(len(first.column(0)[0]), self.threshold, 2 * n_workers)
            futures = client.map(_band_task, [(str(path), g, rows, self.threshold)
                                              for g in groups], pure=False)
            for found in client.gather(futures):
                pairs.extend(found)
        self.final = resolve_pairs(self.ids, pairs, self.converted)
        self.seconds["duplicates"] += time.perf_counter() - t0

    def close(self) -> tuple[dict[str, Path], dict[str, str]]:
        t0 = time.perf_counter()
        if self.signatures is not None:  # banded, but no cluster came to run the tasks
            self.dedup_on(_LocalClient(), 1)
        paths = self.tables.close()
        duplicates = (self.final if self.final is not None
                      else self.index.mapping(self.converted))
        if duplicates != self.written:
            _rewrite_duplicates(self.out, duplicates)
        self.seconds["tables"] += time.perf_counter() - t0
        return paths, duplicates

    def abort(self, exc: BaseException) -> None:
        self.tables.abort(exc)
        if self.signatures is not None:
            self.signatures.abort(exc)


def _band_task(task: tuple[str, list[int], int, float]) -> list[tuple[int, int]]:
    """One Dask task of the duplicate pass: the verified pairs of some LSH bands."""
    import numpy as np
    import pyarrow.parquet as pq

    from .dedup import band_pairs

    path, bands, rows, threshold = task
    column = pq.read_table(path, columns=["signature"]).column("signature").combine_chunks()
    n = len(column)
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.uint64)
    return band_pairs(flat.reshape(n, -1) if n else flat.reshape(0, 0), bands, rows, threshold)


class _LocalClient:
    """Enough of a Dask client to run the band tasks in this process."""

    def map(self, fn: Callable[[Any], Any], items: list[Any], **_: Any) -> list[Any]:
        return [fn(x) for x in items]

    def gather(self, results: list[Any]) -> list[Any]:
        return results


def _rewrite_duplicates(out: Path, mapping: dict[str, str]) -> None:
    """Set ``documents.duplicate_of`` from *mapping*, row group by row group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = out / "documents.parquet"
    source = pq.ParquetFile(path)
    with store.atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, source.schema_arrow, compression=store.TABLE_COMPRESSION,
                              compression_level=store.TABLE_COMPRESSION_LEVEL) as writer:
            for i in range(source.num_row_groups):
                table = source.read_row_group(i)
                dup = pa.array([mapping.get(d) for d in table.column("doc_id").to_pylist()],
                               type=pa.string())
                writer.write_table(table.set_column(
                    table.schema.get_field_index("duplicate_of"), "duplicate_of", dup))


def run(
    inputs: Sequence[str | Path] = ("data/raw",),
    out_dir: str | Path = "data/processed",
    config: RunConfig = DEFAULT,
    *,
    progress: bool = False,
) -> RunResult:
    """Process every page under *inputs* and write the tables into *out_dir*.

    Writes ``documents``, ``removed``, ``sections``, ``metrics`` and ``errors`` as Parquet
    (and CSV with ``config.csv``), ``manifest.json`` with one entry per input file, and
    (unless switched off) the theme tables and charts.
    """
    started = time.time()
    out = Path(out_dir)
    if config.themes and config.lexicon is not None:  # before the first page, not after all
        from .themes.lexicon import load_lexicon

        try:
            load_lexicon(config.lexicon)
        except CorpusToolsError as exc:
            raise ConfigError(f"lexicon {config.lexicon}: {exc}") from exc
    if out.exists() and not out.is_dir():
        raise InputError(f"output folder {out} is a file; give --out a folder")
    out.mkdir(parents=True, exist_ok=True)
    previous = _read_manifest(out)
    stale = store.clean_stale_temporaries(out)
    if stale:
        log.info("removed %d temporary file(s) left by a killed run", len(stale))
    files = discover(inputs, exclude=[out])
    workers = config.workers or _cpu_count()
    tasks = [(f, str(out), config) for f in files]

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), unit="file", desc="pages")
    entries: list[dict[str, Any] | None] = [None] * len(tasks)
    stream: Iterable[dict[str, Any]]
    assembly = _Assembly(out, config.dedup_threshold, banded=config.engine == "dask")
    if config.engine == "dask":
        stream = _map_dask(tasks, workers, config.scheduler, finish=assembly.dedup_on)
    else:
        stream = _map_local(tasks, workers)
    _collect(stream, entries, assembly, bar)
    if bar is not None:
        bar.close()

    # Second signal: lines recurring at the head or tail of many pages of one site. The
    # files holding them run again with those lines removed (rule recurring_line), on the
    # same engine, and the tables are assembled anew (only when there are such lines).
    # Its time counts with the pages'.
    redo = _recurring_lines(out, entries)
    if redo:
        assembly.abort(RuntimeError("lines recur on a site: the tables are assembled again"))
        assembly = _Assembly(out, config.dedup_threshold, banded=config.engine == "dask")
        order = sorted(redo)
        again = [(files[i], str(out), config, redo[i]) for i in order]
        for i in order:
            entries[i] = None
        if config.engine == "dask":
            stream = _map_dask(again, workers, config.scheduler, finish=assembly.dedup_on)
        else:
            stream = _map_local(again, workers)
        _collect(stream, entries, assembly, None, order)
    timings = {"pages": round(time.time() - started, 3)}
    done = [e for e in entries if e is not None]

    # Parts of inputs that disappeared since the last run.
    current = {store.part_key(e["source"]) for e in done}
    vanished = []
    parts_root = out / ".parts"
    if parts_root.is_dir():
        for d in sorted(parts_root.iterdir()):
            if d.name.startswith("."):
                shutil.rmtree(d, ignore_errors=True)  # a temporary left by a killed run
            elif d.name not in current:
                try:
                    vanished.append(json.loads((d / "state.json").read_text("utf-8"))
                                    ["entry"]["source"])
                except (OSError, ValueError, KeyError):
                    pass
                shutil.rmtree(d, ignore_errors=True)

    t0 = time.time()
    duplicates = assembly.index.mapping()

    def manifest(complete: bool, steps: dict[str, Any]) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for e in done:
            counts[e["status"]] = counts.get(e["status"], 0) + 1
        return {
            "toolkit": "corpus_tools",
            "version": __version__,
            "complete": complete,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.time() - started, 3),
            "timings": timings,
            "inputs_given": [escape_name(str(i)) for i in inputs],
            "config": config.to_dict(),
            "summary": {
                "files": len(done), **counts,
                "cached": sum(1 for e in done if e.get("cached")),
                "repaired": sum(1 for e in done if e.get("repaired")),
                "documents": sum(e["rows"].get("documents", 0) for e in done),
                "duplicates": len(duplicates),
                "vanished": len(vanished),
                "warnings": sum(len(e.get("warnings", ())) for e in done),
            },
            "inputs": done,
            "vanished": vanished,
            "steps": steps,
        }

    # A run's outputs change together: until every table, theme table and chart is
    # replaced, the manifest says the folder is incomplete (read_table refuses it).
    store.write_json(out / "manifest.json", manifest(False, {}))
    steps: dict[str, Any] = {}
    key = _step_key(done, config)
    with store.writing_run(out):
        t0 = time.time()
        tables, duplicates = assembly.close()
        if config.csv:
            for name in tables:
                store.write_csv(out, name)
        # Seconds spent on each, mostly while the pages were still running; "tail" is
        # what was left after the last page.
        timings["duplicates"] = round(assembly.seconds["duplicates"], 3)
        timings["tables"] = round(assembly.seconds["tables"], 3)
        timings["tail"] = round(time.time() - t0, 3)
        for step, wanted in (("themes", config.themes), ("charts", config.charts)):
            if not wanted:
                continue
            t0 = time.time()
            # charts draw the theme tables: redrawn whenever the themes were refitted
            fresh = step == "charts" and "themes" in steps and not steps["themes"].get("reused")
            reused = _reusable(previous, step, key, out) if config.resume and not fresh else None
            if reused is None:
                steps[step] = _corpus_step(step, out, config)
                steps[step].update(key=key, outputs=_stats(out, steps[step], step))
            else:
                steps[step] = reused
            timings[step] = round(time.time() - t0, 3)
        final = manifest(True, steps)
        store.write_json(out / "manifest.json", final)
    if config.report:
        # The report shows the manifest, so it comes after it; its own time is added after.
        t0 = time.time()
        steps["report"] = _corpus_step("report", out, config)
        timings["report"] = round(time.time() - t0, 3)
        final = manifest(True, steps)
        store.write_json(out / "manifest.json", final)
    return RunResult(out, final, tables)


#: What the theme step writes (the charts step lists its files in the manifest).
THEME_FILES = ("themes.parquet", "section_themes.parquet", "named_themes.parquet")


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _step_key(done: list[dict[str, Any]], config: RunConfig) -> str:
    """What the corpus steps' outputs depend on: the content of every input, the settings
    of the pages, duplicates, themes and charts, and the toolkit version."""
    lexicon = config.lexicon
    if lexicon:
        try:
            lexicon = _sha256(Path(lexicon).read_bytes())
        except OSError:
            pass
    key = {
        "fingerprint": config.fingerprint(), "dedup_threshold": config.dedup_threshold,
        "themes": config.themes, "n_themes": config.n_themes, "method": config.theme_method,
        "random_state": config.random_state, "lexicon": lexicon,
        "inputs": [[e["source"], e.get("sha256"), e["status"]] for e in done],
    }
    return _sha256(json.dumps(key, sort_keys=True, default=str).encode("utf-8"))


def _reusable(previous: dict[str, Any], name: str, key: str, out: Path) -> dict[str, Any] | None:
    """The previous run's result of step *name*, if it was made from the same inputs and
    settings (same key) and its files are still there: nothing to do twice."""
    step = (previous.get("steps") or {}).get(name)
    if not isinstance(step, dict) or step.get("status") != "ok" or step.get("key") != key:
        return None
    if not step.get("outputs") or step["outputs"] != _stats(out, step, name):
        return None  # a file is gone, or was rewritten since (`corpus-tools themes`)
    return {**step, "reused": True}


def _stats(out: Path, step: dict[str, Any], name: str) -> dict[str, list[int]] | None:
    """Size and modification time of each file a step wrote (``None`` if one is missing)."""
    files = THEME_FILES if name == "themes" else step.get("files") or ()
    found: dict[str, list[int]] = {}
    for f in files:
        try:
            st = (out / f).stat()
        except OSError:
            return None
        found[f] = [st.st_size, st.st_mtime_ns]
    return found


def _corpus_step(name: str, out: Path, config: RunConfig) -> dict[str, Any]:
    """Run a corpus-level step; a failure is reported in the manifest, not raised."""
    try:
        if name == "themes":
            from .themes.run import theme_step

            with _theme_executor(config) as executor:
                done = theme_step(out, n_themes=config.n_themes, method=config.theme_method,
                                  lexicon=config.lexicon, random_state=config.random_state,
                                  scheme=config.theme_scheme, sample_size=config.theme_sample,
                                  csv=config.csv, executor=executor)
            return {"status": "ok", "rows": done["rows"],
                    # the curve behind the choice of the number of themes
                    "selection": done["theme_selection"].to_dict(orient="records")}
        if name == "report":
            from .report import build_report

            return {"status": "ok", "files": [str(build_report(out).relative_to(out))]}
        from .charts import draw_charts

        paths = draw_charts(out)
        return {"status": "ok", "files": [str(Path(p).relative_to(out)) for p in paths]}
    except Exception as exc:
        if config.strict:
            raise
        log.warning("corpus step %s failed: %s", name, exc)
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}


@contextmanager
def _theme_executor(config: RunConfig) -> Iterator[Any]:
    """Who runs the theme step's tasks: the Dask cluster on ``--engine dask`` (the
    scheduler given, or a LocalCluster of ``workers``), a process pool with ``--workers``
    above 1, else this process (:mod:`corpus_tools.themes.run`)."""
    from .themes.run import DaskExecutor, InlineExecutor, PoolExecutor

    workers = config.workers or _cpu_count()
    if config.engine == "dask":
        with _dask_client(workers, config.scheduler) as client:
            yield DaskExecutor(client)
    elif workers > 1:
        executor = PoolExecutor(functools.partial(_pool, workers))
        try:
            yield executor
        finally:
            executor.close()
    else:
        yield InlineExecutor()
