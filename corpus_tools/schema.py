"""Records passed between stages, and the columns of every table the toolkit writes.

Records are frozen dataclasses; tables are built from them at the edge (the pipeline, the
CLI, a notebook). Column names are stable snake_case English and declared once, here.
Offsets (``start``/``end``) always slice back: ``text[start:end] == raw`` for a metric,
``document_text[start:end] == section.text`` for a section (the ``sections`` table stores
the offsets only; its ``text`` is derived on reading, so the text is stored once).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "DOCUMENT_COLUMNS",
    "ERROR_COLUMNS",
    "METRIC_COLUMNS",
    "PANEL_COLUMNS",
    "REMOVED_COLUMNS",
    "SECTION_COLUMNS",
    "SECTION_THEME_COLUMNS",
    "TABLES",
    "THEME_COLUMNS",
    "Article",
    "Metric",
    "Page",
    "RemovedLine",
    "Section",
    "Stripped",
    "as_row",
]


@dataclass(frozen=True, slots=True)
class Page:
    """One scraped page as read from disk, before any stage ran.

    ``source`` is the input path relative to the input folder; a JSONL or CSV file gives one
    page per record, told apart by ``record`` (0-based; ``None`` for a one-page file).
    """

    source: str
    text: str
    encoding: str
    record: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: 1-based lines of ``text`` the reader left out (an HTML page's lines outside its main
    #: content); the pipeline records them in ``removed`` with rule ``html_main_content``.
    dropped: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RemovedLine:
    """A line (or block) taken out of a page, with the rule that took it."""

    line_no: int
    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class Stripped:
    """What :func:`corpus_tools.strip_boilerplate` returns: the kept text and the audit."""

    text: str
    removed: tuple[RemovedLine, ...]


@dataclass(frozen=True, slots=True)
class Article:
    """One article of a page: ``text == page_text[start:end]``."""

    number: int
    title: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Section:
    """One numbered section of a document: ``text == document_text[start:end]``."""

    section_id: str
    parent_id: str | None
    level: int
    family: str
    marker: str
    ordinal: int
    title: str
    text: str
    start: int
    end: int
    part: str = "body"  # body, annex (附件1) or glossary (名词解释): the part of the report


@dataclass(frozen=True, slots=True)
class Metric:
    """One reported quantity: ``text[start:end] == raw``."""

    raw: str
    value: float | None
    value_max: float | None
    unit: str
    category: str
    qualifier: str
    direction: str | None
    basis: str | None
    masked: bool
    start: int
    end: int
    sentence: str
    #: what the figure measures (an id of resources/indicators.tsv), None when no indicator
    indicator: str | None = None
    #: ``target`` (set for a coming period), ``achieved`` (reported for a past one) or None
    stance: str | None = None
    #: the year the figure refers to; a multi-year figure runs from ``period`` to ``period_end``
    period: int | None = None
    period_end: int | None = None


def as_row(record: Any, /, **extra: Any) -> dict[str, Any]:
    """A record as a table row (a dict), with *extra* columns in front.

    >>> as_row(RemovedLine(3, "相关文章", "related_list"), source="a.txt")
    {'source': 'a.txt', 'line_no': 3, 'text': '相关文章', 'rule': 'related_list'}
    """
    row = dict(extra)
    if hasattr(record, "__dataclass_fields__"):
        # shallow (the fields are scalars): dataclasses.asdict deep-copies and is 10x slower
        names, getter = _field_getter(type(record))
        row.update(zip(names, getter(record)))
    else:
        row.update(record)
    return row


@functools.cache
def _field_getter(cls: type) -> tuple[tuple[str, ...], Any]:
    """A dataclass's field names and one getter of all their values (as a tuple)."""
    names = tuple(cls.__dataclass_fields__)
    if not names:
        return names, lambda record: ()
    getter = operator.attrgetter(*names)
    if len(names) == 1:
        return names, lambda record: (getter(record),)
    return names, getter


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


DOCUMENT_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "source",
    "record",
    "article_no",
    "title",
    "year",
    "doc_type",
    "place",
    "script",
    "encoding",
    "n_chars",
    "masked",
    "duplicate_of",
    "meta",
    "text",
    "line_nos",
)
REMOVED_COLUMNS: tuple[str, ...] = ("source", "record", "article_no", "line_no", "text", "rule")
# A section's text is not stored: it is documents.text[start:end] (store.section_text),
# and store.read_table(out, "sections") derives it.
SECTION_COLUMNS: tuple[str, ...] = ("doc_id", *(n for n in _names(Section) if n != "text"))
METRIC_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "section_id",
    *(n for n in _names(Metric)),
)
#: The indicator panel (corpus_tools.indicators): one row per (document, indicator, stance).
PANEL_COLUMNS: tuple[str, ...] = (
    "doc_id", "place", "year", "indicator", "stance", "period", "value", "value_max",
    "qualifier", "unit", "status", "aspiration", "raw", "start", "end", "sentence",
    "section_id",
)  # fmt: skip
THEME_COLUMNS: tuple[str, ...] = ("theme_id", "label", "top_terms", "size", "stability")
SECTION_THEME_COLUMNS: tuple[str, ...] = ("doc_id", "section_id", "theme_id", "weight")
ERROR_COLUMNS: tuple[str, ...] = ("source", "record", "stage", "error", "message")

#: The per-page tables the pipeline writes, by name.
TABLES: dict[str, tuple[str, ...]] = {
    "documents": DOCUMENT_COLUMNS,
    "removed": REMOVED_COLUMNS,
    "sections": SECTION_COLUMNS,
    "metrics": METRIC_COLUMNS,
    "indicators": PANEL_COLUMNS,
    "errors": ERROR_COLUMNS,
}
