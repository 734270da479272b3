"""The run's report: static HTML in ``OUT/report/`` that a researcher checks in a browser.

``build_report(out_dir)`` reads the tables and the manifest of a run and writes::

    report/index.html          the run's summary, a sortable, filterable, paginated table of
                               documents, the charts (the run's SVGs), themes, inputs, errors
    report/indicators.html     the indicator panel as a sortable table (when the run has one)
    report/docs/<doc>.html     one page per document: outline, text with every metric
                               highlighted, section headings marked, removed lines in place
    report/assets/             report.css, report.js and a subset of Noto Sans CJK SC

It opens from the file system: no server, no network, no CDN. Every page carries a
Content-Security-Policy that allows only the report's own script file (document pages: no
script at all), and every piece of page text goes through Jinja2's autoescaping, so a
``<script>`` in a scraped page shows as text and cannot run. Page text that a script puts
on screen (the documents table) is set with ``textContent``, never as HTML.

Removed lines are placed where they stood on the raw page: ``documents.line_nos`` holds the
raw line number of each non-blank line of ``documents.text``, ``removed.line_no`` that of
each removed line, so a removed line goes before the first kept line below it. When a run
has no ``line_nos`` (or a line has no number) the lines are listed above the text instead.

Memory is bounded by a batch of documents, not by the corpus: the documents' text is read
a batch at a time while their pages are written, and the per-document tables (sections,
metrics, removed lines, theme rows) are streamed in step, since a run writes them in
document order (a table in another order is read once and looked up by a stable sort).
What is held whole is one small row per document, for the index. Measured on a 100 MB
distinct corpus (4,689 documents): 832 MB peak before, 357 MB after.

Tables and columns are read as they exist: a column another version of the toolkit does
not write (``sections.part``, ``metrics.indicator`` …) is left out, an extra one is shown.

Fonts: the pages ask for the system's CJK fonts first and fall back to a web font cut
from the Noto Sans CJK SC that ``mplfonts`` ships, subset (fontTools) to the characters
the report uses (HarfBuzz's subsetter through ``uharfbuzz``; fontTools where it is
missing), written as WOFF.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import itertools
import json
import logging
import math
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .store import atomic_path

__all__ = ["build_report", "doc_filename", "markup_text"]

log = logging.getLogger(__name__)

#: Index columns (documents-table columns first, then counts); absent ones are dropped.
INDEX_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("title", "Title", "text"),
    ("year", "Year", "facet"),
    ("place", "Place", "facet"),
    ("doc_type", "Type", "facet"),
    ("script", "Script", "facet"),
    ("n_chars", "Chars", "num"),
    ("n_sections", "Sections", "num"),
    ("n_metrics", "Metrics", "num"),
    ("n_removed", "Removed lines", "num"),
    ("duplicate_of", "Duplicate of", "text"),
    ("source", "Source", "text"),
)
#: Documents columns not shown as index columns (text, ids, internals).
_NOT_INDEXED = {"doc_id", "record", "article_no", "encoding", "masked", "meta", "text",
                "line_nos"}
#: How an empty cell is shown (an en dash).
MISSING = "\u2013"
#: Metric fields always shown in a highlight's tooltip (:data:`MISSING` when empty or absent).
TIP_FIELDS = ("value", "unit", "category", "qualifier", "direction", "indicator", "stance")
#: Metric columns never shown in the tooltip (placement and context).
_NOT_TIPPED = {"doc_id", "raw", "start", "end", "sentence", "section_id"}
_FONT_FILE = "NotoSansCJKsc-Regular.otf"
_TEMPLATES = "report_templates"
_CSP_SCRIPT = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "font-src 'self'; base-uri 'none'; form-action 'none'")
_CSP_NO_SCRIPT = ("default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
                  "base-uri 'none'; form-action 'none'")


# --------------------------------------------------------------------------- reading


def _read(out: Path, name: str, drop: Iterable[str] = ()) -> list[dict[str, Any]] | None:
    """Rows of ``OUT/<name>.parquet`` (columns in *drop* not read), or ``None`` if absent."""
    import pyarrow.parquet as pq

    path = out / f"{name}.parquet"
    if not path.exists():
        return None
    names = pq.read_schema(path).names
    table = pq.read_table(path, columns=[c for c in names if c not in set(drop)])
    return table.to_pylist()


#: Rows read at a time from a table while the pages are written.
_BATCH_ROWS = 4096


class _RowsByKey:
    """The rows of a table, handed out one key (a document, a page) at a time.

    The report walks the documents in table order; *position* gives each key the place of
    its document (or page) in that walk. A table written by a run lists its rows in the
    same order, so it is streamed in batches, never held whole; a table in another order
    (written by other means) is read once and looked up through a stable sort instead.
    Rows whose key is not in *position* are kept in :attr:`unknown` (the removed lines of
    a page that kept no document). Columns in *drop* are not read.
    """

    def __init__(self, path: Path, keys: Sequence[str], position: dict[Any, int],
                 drop: Iterable[str] = ()) -> None:
        import pyarrow.parquet as pq

        self.unknown: list[dict[str, Any]] = []
        self._keys = tuple(keys)
        self._position = position
        self._pending: tuple[int, dict[str, Any]] | None = None
        self._file = pq.ParquetFile(path) if path.exists() else None
        self._stream: Iterator[tuple[int, dict[str, Any]]] = iter(())
        self.ordered = True
        if self._file is None:
            return
        names = self._file.schema_arrow.names
        self._columns = [c for c in names if c not in set(drop)]
        if not all(k in names for k in keys):  # no key: every row is of no known document
            self._stream = ((-1, row) for row in self._rows())
            return
        self.ordered = self._in_order()
        if self.ordered:
            self._stream = ((self._at(row), row) for row in self._rows())
        else:
            self._look_up()

    def _at(self, row: dict[str, Any]) -> int:
        key = row[self._keys[0]] if len(self._keys) == 1 else tuple(row[k] for k in self._keys)
        return self._position.get(key, -1)

    def _key_positions(self) -> Iterator[int]:
        assert self._file is not None
        for batch in self._file.iter_batches(batch_size=_BATCH_ROWS * 16, columns=list(self._keys)):
            cols = [batch.column(k).to_pylist() for k in self._keys]
            row_keys = cols[0] if len(self._keys) == 1 else zip(*cols, strict=True)
            yield from (self._position.get(k, -1) for k in row_keys)

    def _in_order(self) -> bool:
        last = -1
        for p in self._key_positions():
            if p >= 0:
                if p < last:
                    return False
                last = p
        return True

    def _look_up(self) -> None:
        import numpy as np

        assert self._file is not None
        pos = np.fromiter(self._key_positions(), dtype=np.int64)
        self._order = np.argsort(pos, kind="stable")
        self._sorted = pos[self._order]
        self._table = self._file.read(columns=self._columns)
        self.unknown = self._take(0, int(np.searchsorted(self._sorted, 0, "left")))

    def _rows(self) -> Iterator[dict[str, Any]]:
        assert self._file is not None
        for batch in self._file.iter_batches(batch_size=_BATCH_ROWS, columns=self._columns):
            yield from batch.to_pylist()

    def _take(self, lo: int, hi: int) -> list[dict[str, Any]]:
        return self._table.take(self._order[lo:hi]).to_pylist() if hi > lo else []

    def rows(self, at: int) -> list[dict[str, Any]]:
        """The rows whose key stands at position *at* (called with rising positions)."""
        if not self.ordered:
            lo = int(self._sorted.searchsorted(at, "left"))
            return self._take(lo, int(self._sorted.searchsorted(at, "right")))
        found: list[dict[str, Any]] = []
        while True:
            if self._pending is None:
                self._pending = next(self._stream, None)
                if self._pending is None:
                    break
            p, row = self._pending
            if p > at:
                break
            self._pending = None
            if p == at:
                found.append(row)
            elif p < 0:
                self.unknown.append(row)
        return found

    def finish(self) -> list[dict[str, Any]]:
        """Read what is left; return the rows of no known key (:attr:`unknown`)."""
        if self.ordered:
            rest = [self._pending] if self._pending is not None else []
            self._pending = None
            for p, row in itertools.chain(rest, self._stream):
                if p < 0:
                    self.unknown.append(row)
        return self.unknown


def _full_documents(out: Path) -> Iterator[dict[str, Any]]:
    """The documents' rows with every column, a batch at a time."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(out / "documents.parquet").iter_batches(batch_size=64):
        yield from batch.to_pylist()


def _document_rows(out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every document's row without its text, line numbers and meta (those are read again
    batch by batch while its page is written), and the last raw line number each keeps."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(out / "documents.parquet")
    names = pf.schema_arrow.names
    light = [c for c in names if c not in {"text", "meta"}]
    docs: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=light):
        for row in batch.to_pylist():
            if "line_nos" in row:
                nos = row.pop("line_nos")
                last[row["doc_id"]] = max(nos) if nos else None
            docs.append(row)
    return docs, last


def _columns(out: Path, name: str) -> list[str]:
    import pyarrow.parquet as pq

    path = out / f"{name}.parquet"
    return pq.read_schema(path).names if path.exists() else []


def _group(rows: Iterable[dict[str, Any]] | None, key: str) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows or ():
        grouped[row.get(key)].append(row)
    return grouped


def doc_filename(doc_id: str) -> str:
    """The file name of a document's page: readable, safe on any file system, unique.

    >>> doc_filename("scrape.jsonl:14#1")
    'scrape.jsonl_14_1-1a0b7703.html'
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", doc_id).strip("._")[:60]
    digest = hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}.html"


# --------------------------------------------------------------------------- the text


def _fmt(value: Any) -> str:
    """A cell value as shown: integers without ``.0``, missing as :data:`MISSING`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.6g}" if abs(value) >= 1e6 else f"{value:g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "、".join(_fmt(v) for v in value)
    return str(value)


def escape(value: Any) -> str:
    """HTML-escape text (``& < > " '``): the one way page text reaches the markup built here.

    >>> escape('<script>alert("1")</script>')
    '&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    open: str
    close: str
    rank: int  # outer spans (headings) rank lower and open first at the same offset


@dataclass(slots=True)
class Marked:
    """What :func:`markup_text` made: the HTML and what it could not place."""

    html: str
    n_metrics: int = 0
    n_removed_placed: int = 0
    unplaced: list[dict[str, Any]] = field(default_factory=list)


def _metric_tip(metrics: Sequence[dict[str, Any]], labels: dict[str, str]) -> str:
    parts = []
    for m in metrics:
        rows = [f'<span class="tip-raw">{escape(m.get("raw") or "")}</span>']
        keys = list(TIP_FIELDS) + [k for k in m if k not in TIP_FIELDS and k not in _NOT_TIPPED]
        for k in keys:
            v = m.get(k)
            if k not in TIP_FIELDS and (v is None or v is False):
                continue
            shown = _fmt(v)
            if k == "value" and m.get("value_max") is not None:
                shown = f"{_fmt(v)} {MISSING} {_fmt(m['value_max'])}"
            elif k == "value_max":
                continue
            elif k == "category" and v in labels:
                shown = f"{v} {labels[v]}"
            parts_k = f'<span class="k">{escape(k)}</span> <span class="v">{escape(shown)}</span>'
            rows.append(f'<span class="tip-row">{parts_k}</span>')
        parts.append("".join(rows))
    return '<span class="tip-sep"></span>'.join(parts)


#: A section title longer than this is a run-in sentence: only its marker is marked.
HEADING_MAX_CHARS = 30


def _heading_end(text: str, start: int, end: int, section: dict[str, Any]) -> int:
    """Where a section's heading ends: after its title when that is heading-sized, after
    its marker when the title is a whole sentence (``1、成立了……``), never past the line."""
    line_end = text.find("\n", start, end)
    line_end = line_end if line_end >= 0 else min(end, len(text))
    line = text[start:line_end]
    title = (section.get("title") or "").strip()
    marker = section.get("marker") or ""
    at = line.find(title) if title else -1
    if title and len(title) <= HEADING_MAX_CHARS and at >= 0:
        return start + at + len(title)
    if marker and line.startswith(marker):
        return start + len(marker)
    return line_end if len(line) <= HEADING_MAX_CHARS else start


def _line_starts(text: str) -> list[int]:
    """Offsets of the non-blank lines of *text*, in order."""
    starts = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            starts.append(pos)
        pos += len(line) + 1
    return starts


def markup_text(
    text: str,
    *,
    sections: Sequence[dict[str, Any]] = (),
    metrics: Sequence[dict[str, Any]] = (),
    removed: Sequence[dict[str, Any]] = (),
    line_nos: Sequence[int] | None = None,
    category_labels: dict[str, str] | None = None,
    window: tuple[int, int] | None = None,
) -> Marked:
    """The document text as escaped HTML: headings marked, metrics highlighted, removed
    lines (rows with ``line_no``, ``text``, ``rule``) struck through where they stood.

    With *window* ``(lo, hi)`` only ``text[lo:hi]`` is written (a part of a very long
    document); offsets and anchors stay those of the whole text.

    >>> m = markup_text("一、概况\\n<b>x</b>走访600户",
    ...                 sections=[{"section_id": "1", "level": 1, "start": 0, "end": 19}],
    ...                 metrics=[{"raw": "600户", "start": 15, "end": 19, "value": 600.0}],
    ...                 removed=[{"line_no": 2, "text": "相关文章", "rule": "related_list"}],
    ...                 line_nos=[1, 3])
    >>> "&lt;b&gt;x&lt;/b&gt;" in m.html, m.n_metrics, m.n_removed_placed
    (True, 1, 1)
    """
    labels = category_labels or {}
    spans: list[_Span] = []
    n = len(text)
    lo, hi = window if window is not None else (0, n)
    for s in sections:
        start, end = int(s["start"]), int(s["end"])
        if not lo <= start <= hi or (start == hi and hi < n):
            continue
        sid = escape(s["section_id"])
        if int(s.get("level") or 0) <= 0:
            spans.append(_Span(start, start, f'<span class="anchor" id="sec-{sid}"></span>',
                               "", 0))
            continue
        head_end = _heading_end(text, start, end, s)
        part = s.get("part")
        part_attr = f' data-part="{escape(part)}"' if part else ""
        spans.append(_Span(
            start, head_end,
            f'<span class="heading lvl-{int(s["level"])}" id="sec-{sid}" '
            f'data-section="{sid}"{part_attr}>', "</span>", 0))

    ordered = sorted((m for m in metrics if m.get("start") is not None
                      and lo <= int(m["start"]) < hi),
                     key=lambda m: (int(m["start"]), int(m["end"])))
    groups: list[list[dict[str, Any]]] = []
    for m in ordered:
        if groups and int(m["start"]) < int(groups[-1][-1]["end"]):
            groups[-1].append(m)  # overlapping figures share one highlight
        else:
            groups.append([m])
    for k, group in enumerate(groups):
        first = group[0]
        start = int(first["start"])
        end = max(int(m["end"]) for m in group)
        attrs = "".join(
            f' data-{key.replace("_", "-")}="{escape(_fmt(first.get(key)))}"'
            for key in TIP_FIELDS
        )
        spans.append(_Span(
            start, end,
            f'<mark class="metric" tabindex="0" id="m-{start}" aria-describedby="tip-{k}"'
            f'{attrs}>',
            f'<span class="tip" role="tooltip" id="tip-{k}">{_metric_tip(group, labels)}'
            "</span></mark>", 1))

    # Removed lines: inserted before the first kept line that stood below them.
    inserts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    unplaced: list[dict[str, Any]] = []
    starts = _line_starts(text)
    nos = list(line_nos) if line_nos is not None and len(line_nos) == len(starts) else None
    placed = 0
    for r in sorted(removed, key=lambda r: (r.get("line_no") is None, r.get("line_no") or 0)):
        no = r.get("line_no")
        if nos is None or no is None:
            unplaced.append(r)
            continue
        k = bisect.bisect_right(nos, int(no))
        at = starts[k] if k < len(starts) else n
        if lo <= at < hi or at == hi == n:
            inserts[at].append(r)
            placed += 1
    if lo > 0:
        unplaced = []  # listed with the first part

    # Boundaries: at an offset, spans close (inner first), then removed lines go in,
    # then spans open (outer first). A span that crosses an outer one's end is cut there.
    opens: dict[int, list[_Span]] = defaultdict(list)
    for sp in spans:
        opens[sp.start].append(sp)
    points = sorted(set(opens) | set(inserts) | {min(sp.end, hi) for sp in spans} | {lo, hi})
    out: list[str] = []
    stack: list[_Span] = []
    prev = lo
    for p in points:
        if p > hi:
            break
        out.append(escape(text[prev:p]))
        prev = p
        reopen: list[_Span] = []
        while stack and any(sp.end <= p for sp in stack):
            sp = stack.pop()
            out.append(sp.close)
            if sp.end > p:
                reopen.append(sp)  # an inner span outlives its parent: close and reopen
        if p in inserts:
            out.append(_removed_html(inserts[p]))
        for sp in sorted(reopen + opens.get(p, []), key=lambda s: (s.rank, -s.end)):
            if sp.end == sp.start:
                out.append(sp.open + sp.close)
                continue
            out.append(sp.open if sp not in reopen else
                       sp.open.replace(' id="', ' data-cont="', 1))
            stack.append(sp)
    out.append(escape(text[prev:hi]))
    while stack:
        out.append(stack.pop().close)
    return Marked("".join(out), sum(len(g) for g in groups), placed, unplaced)


def _removed_html(rows: Sequence[dict[str, Any]]) -> str:
    lines = "".join(
        f'<del class="removed-line" data-rule="{escape(r.get("rule") or "")}" '
        f'data-line="{escape(_fmt(r.get("line_no")))}">'
        f'<span class="rule">{escape(r.get("rule") or "?")}</span>'
        f'<span class="lno">{escape(_fmt(r.get("line_no")))}</span>'
        f'{escape(r.get("text") or "")}</del>'
        for r in rows
    )
    return f'<span class="removed">{lines}</span>'


# --------------------------------------------------------------------------- the pages


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("corpus_tools", _TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.ChainableUndefined,  # a column an older run lacks shows empty
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False,
                                         "default": str}
    env.filters["fmt"] = _fmt
    return env


def _outline(sections: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The section tree as nested nodes ``{section, children}``, in text order."""
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for s in sorted(sections, key=lambda s: (int(s["start"]), int(s.get("level") or 0))):
        node = {"section": s, "children": []}
        nodes[s["section_id"]] = node
        parent = nodes.get(s.get("parent_id") or "")
        (parent["children"] if parent else roots).append(node)
    return roots


def _doc_themes(doc_id: str, section_themes: dict[Any, list[dict[str, Any]]],
                themes: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    by_theme: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in section_themes.get(doc_id, ()):
        by_theme[row.get("theme_id")].append(row)
    out = []
    for theme_id, rows in by_theme.items():
        info = themes.get(theme_id, {})
        out.append({
            "theme_id": theme_id, "label": info.get("label") or str(theme_id),
            "top_terms": info.get("top_terms"), "stability": info.get("stability"),
            "sections": sorted({str(r["section_id"]) for r in rows if r.get("section_id")}),
            "weight": sum(float(r.get("weight") or 0.0) for r in rows),
        })
    return sorted(out, key=lambda t: -t["weight"])


def _doc_named(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by[(row.get("theme"), row.get("scheme"))].append(row)
    out = [{"theme": theme, "scheme": scheme,
            "sections": sorted({str(r["section_id"]) for r in rs if r.get("section_id")}),
            "hits": sum(int(r.get("hits") or 0) for r in rs)}
           for (theme, scheme), rs in by.items()]
    return sorted(out, key=lambda t: -t["hits"])


def _assign_removed(page_docs: Sequence[dict[str, Any]],
                    rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Which document of a page each removed line is shown on.

    A line removed from one article (``article_no`` set) goes to that article; a line of
    the page goes to the first document whose last line stands at or below it (the last
    document takes the page's tail), so lines between two articles open the second.
    *page_docs*: ``doc_id``, ``article_no`` and ``last_line_no`` (the largest of its
    ``line_nos``, ``None`` without them) of each document of the page, in table order.
    """
    by_article = {d.get("article_no"): d["doc_id"] for d in page_docs}
    lasts = [d.get("last_line_no") for d in page_docs]
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        target = by_article.get(r.get("article_no")) if r.get("article_no") is not None else None
        if target is None:
            no = r.get("line_no")
            target = page_docs[-1]["doc_id"]
            if no is not None:
                for d, last in zip(page_docs, lasts, strict=True):
                    if last is not None and last >= no:
                        target = d["doc_id"]
                        break
        out[target].append(r)
    return out


#: A document longer than this many characters is shown on several pages ("parts").
PART_CHARS = 400_000


def _windows(text: str, size: int | None = None) -> list[tuple[int, int]]:
    """Where a long text is cut into parts: at a line end past each *size* characters
    (a sentence end when a line runs on), so that no highlight is cut.

    >>> _windows("一二三。\\n四五六。\\n七八九。\\n", size=4)
    [(0, 5), (5, 10), (10, 15)]
    """
    size = size or PART_CHARS
    n = len(text)
    if n <= size * 3 // 2:
        return [(0, n)]
    cuts = [0]
    while n - cuts[-1] > size * 3 // 2:
        target = cuts[-1] + size
        at = text.find("\n", target, target + size // 2)
        if at < 0:
            at = text.find("。", target, target + size // 2)
        cuts.append(at + 1 if at >= 0 else target)
    return list(zip(cuts, [*cuts[1:], n], strict=True))


def part_files(doc_id: str, n_parts: int) -> list[str]:
    """The page files of a document shown in *n_parts* parts (the first is its page)."""
    first = doc_filename(doc_id)
    return [first] + [first.replace(".html", f"-p{i}.html") for i in range(2, n_parts + 1)]


def _doc_context(doc: dict[str, Any], *, sections: list[dict[str, Any]],
                 metrics: list[dict[str, Any]], removed: list[dict[str, Any]],
                 names: dict[str, dict[str, Any]], duplicates_of_this: list[str],
                 discovered: list[dict[str, Any]], named: list[dict[str, Any]],
                 labels: dict[str, str], windows: list[tuple[int, int]],
                 part: int) -> dict[str, Any]:
    text = doc.get("text") or ""
    files = part_files(doc["doc_id"], len(windows))
    marked = markup_text(text, sections=sections, metrics=metrics, removed=removed,
                         line_nos=doc.get("line_nos"), category_labels=labels,
                         window=windows[part])
    starts = [lo for lo, _ in windows]

    def href(offset: Any) -> str:
        k = max(0, bisect.bisect_right(starts, int(offset or 0)) - 1)
        return "" if k == part else files[k]

    linked = [{**s, "href": href(s.get("start")) + f"#sec-{s['section_id']}"} for s in sections]
    fields = [(k, doc.get(k)) for k in doc if k not in {"text", "line_nos", "meta", "title"}]
    dup = doc.get("duplicate_of")
    return {
        "doc": doc, "fields": fields, "marked": marked, "outline": _outline(linked),
        "n_sections": len(sections),
        "n_removed": len(removed),
        "duplicate": names.get(dup) if dup else None, "duplicate_id": dup,
        "duplicates_of_this": [names[d] for d in duplicates_of_this if d in names],
        "discovered": discovered, "named": named,
        "section_hrefs": {s["section_id"]: s["href"] for s in linked},
        "parts": [{"href": f, "number": i + 1, "current": i == part}
                  for i, f in enumerate(files)] if len(files) > 1 else [],
    }


def _index_rows(docs: Sequence[dict[str, Any]], counts: dict[str, dict[str, int]],
                names: dict[str, dict[str, Any]], extra: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for d in docs:
        c = counts[d["doc_id"]]
        row: dict[str, Any] = {
            "title": d.get("title") or d["doc_id"], "href": names[d["doc_id"]]["href"],
            "year": d.get("year"), "place": d.get("place"), "doc_type": d.get("doc_type"),
            "script": d.get("script"), "n_chars": d.get("n_chars"),
            "n_sections": c["sections"], "n_metrics": c["metrics"], "n_removed": c["removed"],
            "source": d.get("source"),
        }
        dup = d.get("duplicate_of")
        row["duplicate_of"] = (names[dup]["title"] if dup in names else dup) if dup else None
        if dup in names:
            row["duplicate_of_href"] = names[dup]["href"]
        for col in extra:
            v = d.get(col)
            row[col] = v if v is None or isinstance(v, (str, int, float, bool)) else _fmt(v)
        rows.append(row)
    return rows


def _table_spec(columns: Sequence[tuple[str, str, str]], rows: list[dict[str, Any]],
                **options: Any) -> dict[str, Any]:
    present = [c for c in columns if any(r.get(c[0]) is not None for r in rows)] or list(columns)
    return {"columns": [{"key": k, "label": lbl, "type": t} for k, lbl, t in present],
            "rows": rows, **options}


def _generic_columns(names: Sequence[str], skip: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    skipped = set(skip)
    numeric = ("n_", "value", "year", "period", "start", "end", "size", "weight", "score",
               "hits", "bytes", "pages", "errors", "seconds", "share", "stability", "line_no")
    return [(n, n, "num" if n.startswith(numeric) else "text") for n in names if n not in skipped]


def _inputs(manifest: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The manifest's input entries as rows, and those that need attention."""
    rows, attention = [], []
    for e in manifest.get("inputs", []):
        warnings = e.get("warnings") or ([e["warning"]] if e.get("warning") else [])
        if isinstance(warnings, str):
            warnings = [warnings]
        row = {"source": e.get("source"), "status": e.get("status"),
               "encoding": e.get("encoding"), "bytes": e.get("bytes"), "pages": e.get("pages"),
               "documents": (e.get("rows") or {}).get("documents"),
               "removed": (e.get("rows") or {}).get("removed"),
               "errors": e.get("errors"), "reason": e.get("reason"),
               "warnings": "; ".join(str(w) for w in warnings) or None}
        for k, v in e.items():  # per-page figures a newer pipeline records (removed share …)
            if k not in row and k not in {"path", "sha256", "rows", "warning", "cached"} \
                    and isinstance(v, (int, float, str)) and not isinstance(v, bool):
                row[k] = v
        rows.append(row)
        if e.get("status") != "ok" or warnings or e.get("reason"):
            attention.append(row)
    return rows, attention


# --------------------------------------------------------------------------- fonts


class _CharSet:
    """The characters of many pages, counted in bulk (``set(page)`` makes a string object
    per character: 1 s for 10 M characters; a bincount of the UTF-16 units takes 0.05 s)."""

    _ASTRAL = re.compile("[\U00010000-\U0010FFFF]")

    def __init__(self) -> None:
        import numpy as np

        self._bmp = np.zeros(0x10000, dtype=bool)
        self._astral: set[str] = set()

    def add(self, page: str) -> None:
        import numpy as np

        units = np.frombuffer(page.encode("utf-16-le", "surrogatepass"), dtype="<u2")
        self._bmp |= np.bincount(units, minlength=0x10000).astype(bool)
        if self._bmp[0xD800:0xE000].any():
            self._astral.update(self._ASTRAL.findall(page))

    def chars(self) -> set[str]:
        import numpy as np

        bmp = self._bmp.copy()
        bmp[0xD800:0xE000] = False  # halves of astral characters, counted whole above
        return {chr(int(u)) for u in np.flatnonzero(bmp)} | self._astral



def _font_source() -> Path | None:
    try:
        import mplfonts
    except ImportError:  # pragma: no cover - mplfonts is a dependency
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / _FONT_FILE
    return path if path.exists() else None


#: Tables a browser does not need for horizontal text (layout, vertical metrics, baseline).
_DROP_TABLES = ("GSUB", "GPOS", "BASE", "VORG", "vhea", "vmtx", "DSIG")


def _subset_harfbuzz(source: Path, unicodes: set[int]) -> bytes:
    """The font cut to *unicodes* by HarfBuzz's subsetter (C++: ~0.1 s for 3,000 glyphs of
    Noto Sans CJK, where fontTools' pure-Python subsetter takes 2-5 s)."""
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(str(source)))
    spec = hb.SubsetInput()
    spec.unicode_set.update(unicodes)
    spec.layout_feature_tag_set.clear()
    for tag in _DROP_TABLES:
        spec.drop_table_tag_set.add(int.from_bytes(tag.encode("ascii"), "big"))
    spec.flags = hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.NOTDEF_OUTLINE
    return bytes(hb.subset(face, spec).blob.data)


def _subset_fonttools(source: Path, unicodes: set[int]) -> bytes:
    """The same cut with fontTools (used where no uharfbuzz wheel is installed)."""
    import io

    from fontTools import subset

    options = subset.Options()
    options.layout_features = []
    options.drop_tables += list(_DROP_TABLES)
    options.desubroutinize = True
    options.notdef_outline = True
    font = subset.load_font(str(source), options, lazy=True)
    cff = font["CFF "] if "CFF " in font else None
    if cff is not None and hasattr(cff.cff.topDictIndex[0], "ROS"):
        # The CFF closure only looks for seac accent components, which a CID-keyed font
        # cannot have; running it executes every kept glyph's charstring (4-5 s here).
        cff.closure_glyphs = lambda _subsetter: None
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    font.close()
    return buf.getvalue()


def subset_font(chars: Iterable[str], target_dir: Path) -> Path | None:
    """Write the bundled CJK font cut to *chars* into *target_dir* as WOFF; return its path.

    WOFF 1 (zlib) rather than WOFF2: it needs no brotli and every browser reads it. ``None``
    (and a warning) when the font is missing: the pages then rely on the system's fonts.
    """
    import io

    from fontTools.ttLib import TTFont

    source = _font_source()
    if source is None:
        log.warning("report: Noto Sans CJK (mplfonts) not found; pages use system fonts only")
        return None
    wanted = {ord(c) for c in chars if not c.isspace()} | set(range(0x21, 0x7F))
    try:
        data = _subset_harfbuzz(source, wanted)
    except ImportError:
        data = _subset_fonttools(source, wanted)
    # the source font's timestamp is kept, so the same pages give the same bytes
    font = TTFont(io.BytesIO(data), lazy=True, recalcTimestamp=False)
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf, reorderTables=False)
    font.close()
    target = target_dir / "cjk.woff"
    target.write_bytes(buf.getvalue())
    return target


# --------------------------------------------------------------------------- building


def build_report(out_dir: str | Path, *, report_dir: str | Path | None = None) -> Path:
    """Write the HTML report of the run in *out_dir*; return the path of its index page.

    The report goes to ``OUT/report/`` (or *report_dir*), replaced as a whole: a failure
    leaves the previous report as it was.
    """
    from .charts import category_labels
    from .store import read_table

    out = Path(out_dir)
    target = Path(report_dir) if report_dir is not None else out / "report"
    read_table(out, "documents", columns=["doc_id"])  # a clear error when there is no run
    manifest: dict[str, Any] = {}
    if (out / "manifest.json").exists():
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))

    # Memory stays bounded by a batch of documents, not the corpus: the documents' text is
    # read batch by batch as their pages are written, the per-document tables streamed in
    # step (see _RowsByKey); what is kept whole is one small row per document (the index).
    docs, last_line = _document_rows(out)
    errors = _read(out, "errors") or []
    themes_rows = _read(out, "themes") or []
    themes = {t.get("theme_id"): t for t in themes_rows}
    indicators = _read(out, "indicators")
    labels = category_labels()

    names = {d["doc_id"]: {"doc_id": d["doc_id"], "title": d.get("title") or d["doc_id"],
                           "href": "docs/" + doc_filename(d["doc_id"])} for d in docs}
    dups: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        if d.get("duplicate_of"):
            dups[d["duplicate_of"]].append(d["doc_id"])
    position = {d["doc_id"]: i for i, d in enumerate(docs)}
    pages: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        pages[(d.get("source"), d.get("record"))].append(
            {"doc_id": d["doc_id"], "article_no": d.get("article_no"),
             "last_line_no": last_line.get(d["doc_id"])})
    page_keys = list(pages)
    page_at = {key: i for i, key in enumerate(page_keys)}
    page_of = [page_at[(d.get("source"), d.get("record"))] for d in docs]
    sections = _RowsByKey(out / "sections.parquet", ("doc_id",), position, drop=("text",))
    metrics = _RowsByKey(out / "metrics.parquet", ("doc_id",), position, drop=("sentence",))
    section_themes = _RowsByKey(out / "section_themes.parquet", ("doc_id",), position)
    named_themes = _RowsByKey(out / "named_themes.parquet", ("doc_id",), position)
    removed_lines = _RowsByKey(out / "removed.parquet", ("source", "record"), page_at)
    removed: dict[str, list[dict[str, Any]]] = {}
    n_removed = 0
    fetched_page = -1

    env = _env()
    seen = _CharSet()
    with atomic_path(target, is_dir=True) as tmp:
        (tmp / "docs").mkdir()
        assets = tmp / "assets"
        assets.mkdir()

        def write(rel: str, page: str) -> None:
            seen.add(page)  # the web font is cut to exactly what the pages show
            (tmp / rel).write_text(page, "utf-8")

        doc_page = env.get_template("document.html")
        counts: dict[str, dict[str, int]] = {}
        starts_of: dict[str, list[int]] = {}
        for i, d in enumerate(_full_documents(out)):
            doc_id = d["doc_id"]
            if page_of[i] > fetched_page:  # a page's removed lines, shared by its documents
                for p in range(fetched_page + 1, page_of[i] + 1):
                    rows = removed_lines.rows(p)
                    n_removed += len(rows)
                    removed.update(_assign_removed(pages[page_keys[p]], rows))
                fetched_page = page_of[i]
            doc_removed = removed.pop(doc_id, [])
            doc_sections = sections.rows(i)
            windows = _windows(d.get("text") or "")
            starts_of[doc_id] = [lo for lo, _ in windows]
            counts[doc_id] = {"sections": len(doc_sections), "metrics": 0,
                              "removed": len(doc_removed)}
            doc_metrics = metrics.rows(i)
            discovered = _doc_themes(doc_id, {doc_id: section_themes.rows(i)}, themes)
            named = _doc_named(named_themes.rows(i))
            for part, name in enumerate(part_files(doc_id, len(windows))):
                ctx = _doc_context(
                    d, sections=doc_sections, metrics=doc_metrics,
                    removed=doc_removed, names=names,
                    duplicates_of_this=dups.get(doc_id, []),
                    discovered=discovered, named=named, labels=labels,
                    windows=windows, part=part)
                counts[doc_id]["metrics"] += ctx["marked"].n_metrics
                write("docs/" + name, doc_page.render(
                    root="../", csp=_CSP_NO_SCRIPT, title=names[doc_id]["title"],
                    prev=names[docs[i - 1]["doc_id"]] if i else None,
                    next=names[docs[i + 1]["doc_id"]] if i + 1 < len(docs) else None,
                    position=i + 1, total=len(docs), **ctx))
        orphans = removed_lines.finish()
        n_removed += len(orphans)

        extra = [c for c in _columns(out, "documents")
                 if c not in _NOT_INDEXED and c not in {k for k, _, _ in INDEX_COLUMNS}]
        index_rows = _index_rows(docs, counts, names, extra)
        doc_table = _table_spec([*INDEX_COLUMNS, *((c, c, "text") for c in extra)],
                                index_rows, link={"title": "href",
                                                  "duplicate_of": "duplicate_of_href"},
                                page_size=50, label="documents")
        input_rows, attention = _inputs(manifest)
        input_table = _table_spec(
            _generic_columns(list(dict.fromkeys(k for r in input_rows for k in r))),
            input_rows, page_size=25, label="input files")
        error_table = _table_spec(_generic_columns(_columns(out, "errors")), errors,
                                  page_size=25, label="errors") if errors else None
        charts = _copy_charts(out, tmp)

        indicator_table = None
        if indicators is not None:
            cols = _columns(out, "indicators")
            for row in indicators:
                if row.get("doc_id") in names:
                    start = row.get("start")
                    starts = starts_of[row["doc_id"]]
                    files = part_files(row["doc_id"], len(starts))
                    k = max(0, bisect.bisect_right(starts, int(start or 0)) - 1)
                    row["href"] = f"docs/{files[k]}" + (f"#m-{start}" if start is not None
                                                        else "")
            indicator_table = _table_spec(_generic_columns(cols, skip=("sentence",)),
                                          indicators, link={"doc_id": "href"}, page_size=100,
                                          label="indicator rows")
            write("indicators.html", env.get_template("indicators.html").render(
                root="", csp=_CSP_SCRIPT, title="Indicator panel", manifest=manifest,
                table=indicator_table, n_rows=len(indicators)))

        timings = manifest.get("timings") or {}
        total = sum(v for v in timings.values() if isinstance(v, (int, float))) or None
        write("index.html", env.get_template("index.html").render(
            root="", csp=_CSP_SCRIPT, title="Report of the run", manifest=manifest,
            summary=manifest.get("summary") or {"documents": len(docs)},
            timings=timings, total_time=total, steps=manifest.get("steps") or {},
            attention=attention, n_docs=len(docs), doc_table=doc_table,
            input_table=input_table, error_table=error_table, charts=charts,
            themes=themes_rows, theme_columns=_columns(out, "themes"),
            has_indicators=indicator_table is not None, orphans=orphans,
            n_removed=n_removed, n_errors=len(errors)))

        font = subset_font(seen.chars(), assets)
        static = resources.files("corpus_tools").joinpath(_TEMPLATES)
        (assets / "report.js").write_text(static.joinpath("report.js").read_text("utf-8"),
                                          "utf-8")
        (assets / "report.css").write_text(
            env.get_template("report.css").render(font=font.name if font else None), "utf-8")
    target.chmod(0o755)  # made as a private temporary folder; a report is for reading
    return target / "index.html"


def _copy_charts(out: Path, tmp: Path) -> list[dict[str, str]]:
    """The run's SVG charts, copied into the report (so it can be moved as one folder)."""
    charts: list[dict[str, str]] = []
    source = out / "charts"
    if not source.is_dir():
        return charts
    for svg in sorted(source.glob("*.svg")):
        (tmp / "charts").mkdir(exist_ok=True)
        shutil.copyfile(svg, tmp / "charts" / svg.name)
        charts.append({"href": f"charts/{svg.name}",
                       "title": svg.stem.replace("_", " ").capitalize()})
    return charts
