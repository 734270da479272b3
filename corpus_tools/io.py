"""Reading pages from disk (PAGES.md §1); writing tables comes further down.

:func:`read_page` turns one file into :class:`~corpus_tools.schema.Page` records:

- ``.txt``, ``.md`` (and any other suffix): one page, the decoded text;
- ``.html``, ``.htm``, ``.xhtml``: one page, the visible text (``script``, ``style``,
  ``head``, ``noscript``, ``template`` and ``svg`` dropped; block elements end lines);
- ``.jsonl``, ``.ndjson``, ``.json``, ``.csv``, ``.tsv``: one page per record, the text
  from ``text_column``, every other field kept in ``Page.meta``;
- ``.docx``: one page, the paragraphs of ``word/document.xml``.

Encodings are detected with strict decoding, in this order: a BOM (UTF-8, UTF-16,
UTF-32), UTF-8, then GB18030 (which covers GBK and GB2312) against Big5 (with its cp950
and HKSCS extensions); when both decode, the reading with the larger share of common
Chinese characters wins. Bytes are never dropped: a file that no encoding decodes raises
:class:`~corpus_tools.errors.InputError`, as do empty, binary and unreadable files. A bad
record in a JSONL or CSV file does not fail the file: it is skipped and reported in the
second element of :func:`read_page`'s result.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import io as _io
import json
import os
import re
import stat
import threading
import zipfile
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .errors import EmptyInputError, InputError, NotRegularFileError
from .schema import Page

__all__ = [
    "Issue",
    "NotRegularFileError",
    "decode_bytes",
    "html_main_content",
    "html_to_text",
    "read_page",
    "read_regular_file",
]

#: A per-record problem: ``(record, reason)``; *record* is 0-based.
Issue = tuple[int, str]

# ============================================================================ reading pages

_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISDIR, "a folder"))


def read_regular_file(path: str | Path, *, limit: int | None = None) -> bytes:
    """The bytes of *path* (at most *limit*), which must be a regular file.

    Opened without blocking and checked on the open descriptor, so a named pipe (which
    would wait for a writer forever), a device or a socket is never read: it raises
    :class:`~corpus_tools.errors.NotRegularFileError`. Other failures raise ``OSError``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotRegularFileError("not a regular file (a folder); never opened") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a file")
            raise NotRegularFileError(f"not a regular file ({kind}); never opened")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return fh.read() if limit is None else fh.read(limit)


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP archive (.docx, .xlsx, .zip)"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xd0\xcf\x11\xe0", "OLE document (.doc, .xls)"),
    (b"7z\xbc\xaf", "7z archive"),
    (b"Rar!", "RAR archive"),
)
# Byte values that do not occur in text: C0 controls other than \t \n \v \f \r and ESC.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
_ENCODING_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5",
    "cp950": "cp950",
    "big5hkscs": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf16": "utf-16",
    "utf-16": "utf-16",
    "utf-32": "utf-32",
}


def _canonical(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    return _ENCODING_ALIASES.get(name, name)


#: NUL bytes up to this share of a page are stray (a broken scraper, a bad copy): they are
#: dropped and counted. More is binary (or UTF-16 without a byte-order mark).
STRAY_NUL_SHARE = 0.01


def _binary_reason(data: bytes) -> str | None:
    """Why *data* (without a BOM) looks binary, or ``None``: a file signature, more NUL
    bytes than :data:`STRAY_NUL_SHARE` of the file, or more than 5% other control bytes."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return f"binary file: {kind}"
    nul = data.count(0)
    if nul > STRAY_NUL_SHARE * len(data):
        share = 100 * nul / len(data)
        sample = data[:1 << 20]
        # Text in UTF-16 without a BOM: the NUL bytes (high bytes of ASCII characters)
        # mostly at even or mostly at odd offsets; in other binary data they fall anywhere.
        in_sample = max(1, sample.count(0))
        utf16 = in_sample >= 8 and max(sample[0::2].count(0), sample[1::2].count(0)) \
            >= 0.75 * in_sample
        hint = " (UTF-16 without a byte-order mark is not supported)" if utf16 else ""
        figure = f"{share:.1f}" if share < 10 else f"{share:.0f}"
        return f"binary file: {figure}% NUL bytes{hint}"
    sample = data[:65536].replace(b"\0", b"")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > 0.05 * len(sample):
        return f"binary file: {round(100 * controls / len(sample))}% control bytes"
    return None


@functools.cache
def _common_hanzi() -> frozenset[str]:
    """The most common Chinese characters: GB2312 level 1 and Big5 level 1 (~8,000)."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):  # A440-C67E (C6A1 onwards holds kana and symbols)
        for trail in (*range(0x40, 0x7F), *(range(0xA1, 0xFF) if lead < 0xC6 else ())):
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(c for c in chars if "\u4e00" <= c <= "\u9fff")


_NON_ASCII_RE = re.compile("[^\x00-\x7f]")
_CJK_PUNCT = frozenset("，。、；：？！（）“”‘’《》【】「」『』…—～·　")  # noqa: RUF001


def _chinese_score(text: str) -> float:
    """Share of common Chinese characters and punctuation among the non-ASCII characters
    of a sample of *text*. A wrong reading of Big5 as GB18030 (or back) is full of rare
    characters, private-use code points and symbols, and scores low."""
    chars = _NON_ASCII_RE.findall(text[:20000])
    if not chars:
        return 0.0
    common = _common_hanzi()
    return sum(1 for c in chars if c in common or c in _CJK_PUNCT) / len(chars)


def _strict(data: bytes, encoding: str) -> tuple[str | None, int]:
    """``(text, -1)`` if *data* decodes strictly, else ``(None, offset of the bad byte)``."""
    try:
        return data.decode(encoding), -1
    except UnicodeDecodeError as exc:
        return None, exc.start


class _Replaced(threading.local):
    """Bad byte sequences met by the ``corpus_tools_replace`` error handler."""

    count = 0
    offsets: list[int]

    def __init__(self) -> None:
        self.offsets = []


_REPLACED = _Replaced()
#: Offsets of bad bytes recorded in the manifest (the count is always complete).
MAX_RECORDED_OFFSETS = 50
#: A page with more bad bytes than this share is not salvaged (it is not text in any of
#: the encodings tried).
MAX_SALVAGED_SHARE = 0.01


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):  # pragma: no cover - decoding only
        raise exc
    _REPLACED.count += 1
    if len(_REPLACED.offsets) < MAX_RECORDED_OFFSETS:
        _REPLACED.offsets.append(exc.start)
    return "\ufffd", exc.end


codecs.register_error("corpus_tools_replace", _count_and_replace)


def _replacing(data: bytes, encoding: str) -> tuple[str, int, list[int]]:
    """*data* decoded with U+FFFD for each bad sequence; the count and first offsets."""
    _REPLACED.count, _REPLACED.offsets = 0, []
    text = data.decode(encoding, "corpus_tools_replace")
    return text, _REPLACED.count, _REPLACED.offsets


def _salvage(data: bytes, names: tuple[str, ...], failure: str,
             report: dict[str, Any] | None) -> tuple[str, str]:
    """The best reading of *data* with bad bytes replaced, recorded in *report*."""
    readings = []
    for name in names:
        text, count, offsets = _replacing(data, name)
        readings.append((text, name, count, offsets))
    # The reading most like Chinese; among equals, the one with fewer bad bytes.
    text, name, count, offsets = max(readings, key=lambda r: (_chinese_score(r[0]), -r[2]))
    if count > max(8, MAX_SALVAGED_SHARE * len(data)):
        raise InputError(f"{failure}; not salvaged: {count} bad byte sequences as "
                         f"{name.upper()}, more than {MAX_SALVAGED_SHARE:.0%} of the file")
    if report is not None:
        report.update(salvaged=name, replaced=count, replaced_offsets=offsets)
    return text, name


def _drop_nul(text: str, report: dict[str, Any] | None) -> str:
    if "\0" not in text:
        return text
    if report is not None:
        report["nul_dropped"] = report.get("nul_dropped", 0) + text.count("\0")
    return text.replace("\0", "")


def decode_bytes(data: bytes, *, encoding: str | None = None, errors: str = "strict",
                 report: dict[str, Any] | None = None) -> tuple[str, str]:
    """Decode a page's bytes strictly; return ``(text, encoding_name)``.

    With *encoding* given, only that encoding is tried. Otherwise: a BOM, UTF-8, then
    GB18030 and Big5 (cp950, Big5-HKSCS), keeping the reading that looks most like
    Chinese when several decode. Raises :class:`~corpus_tools.errors.InputError` for
    binary data and data no supported encoding decodes; nothing is silently changed.

    Stray NUL bytes (at most :data:`STRAY_NUL_SHARE` of the page) are dropped and counted
    in ``report["nul_dropped"]``. With ``errors="replace"`` (``--salvage``), data that no
    encoding decodes strictly is read in the encoding that fits it best with U+FFFD for
    each bad byte sequence; *report* gets ``salvaged`` (the encoding), ``replaced`` (how
    many) and ``replaced_offsets`` (the byte offsets of the first
    :data:`MAX_RECORDED_OFFSETS`). A page with more than :data:`MAX_SALVAGED_SHARE` bad
    bytes still fails.

    >>> decode_bytes("社区工作总结".encode("gb18030"))
    ('社区工作总结', 'gb18030')
    >>> decode_bytes("社區工作總結".encode("big5"))
    ('社區工作總結', 'big5')
    >>> decode_bytes("\\ufeff社区".encode("utf-16"))[1]
    'utf-16'
    >>> report = {}
    >>> decode_bytes("社区".encode() + b"\\xff" + "工作".encode(), errors="replace",
    ...              report=report)
    ('社区\\ufffd工作', 'utf-8')
    >>> report
    {'salvaged': 'utf-8', 'replaced': 1, 'replaced_offsets': [6]}
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"data must be bytes, got {type(data).__name__}")
    if errors not in ("strict", "replace"):
        raise InputError(f"errors must be 'strict' or 'replace', got {errors!r}")
    text, name = _decode(bytes(data), encoding, errors, report)
    return _drop_nul(text.removeprefix("\ufeff"), report), name


def _decode(data: bytes, encoding: str | None, errors: str,
            report: dict[str, Any] | None) -> tuple[str, str]:
    salvage = errors == "replace"
    if encoding is not None:
        name = _canonical(encoding)
        text, bad = _strict(data, name)
        if text is None:
            failure = f"not decodable as {encoding} (first bad byte at offset {bad})"
            if salvage:
                return _salvage(data, (name,), failure, report)
            raise InputError(failure)
        return text, name
    for bom, name in _BOMS:
        if data.startswith(bom):
            text, bad = _strict(data, name)
            if text is None:
                failure = (f"has a {name.upper()} byte-order mark but is not valid "
                           f"{name.upper()} (first bad byte at offset {bad})")
                if salvage:
                    return _salvage(data, (name,), failure, report)
                raise InputError(failure)
            return text, name
    reason = _binary_reason(data)
    if reason:
        raise InputError(reason)
    text, bad_utf8 = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    candidates: list[tuple[str, str]] = []
    gb, bad_gb = _strict(data, "gb18030")
    if gb is not None:
        candidates.append((gb, "gb18030"))
    bad_big5 = -1
    for name in ("big5", "cp950", "big5hkscs"):
        big5, bad = _strict(data, name)
        if big5 is not None:
            candidates.append((big5, name))
            break
        bad_big5 = max(bad_big5, bad)
    if not candidates:
        failure = ("not decodable as UTF-8, UTF-16, GB18030 or Big5 (first bad byte at offset "
                   f"{bad_utf8} as UTF-8, {bad_gb} as GB18030, {bad_big5} as Big5)")
        if salvage:
            return _salvage(data, ("utf-8", "gb18030", "big5hkscs"), failure, report)
        raise InputError(failure)
    # Ties go to GB18030, listed first: max() keeps the first of equal scores.
    text, name = max(candidates, key=lambda c: _chinese_score(c[0]))
    return text, name


# ---------------------------------------------------------------------------- HTML

_SKIP_TAGS = frozenset({"script", "style", "head", "noscript", "template", "svg", "title"})
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre "
    "section summary table tbody thead tfoot tr ul option caption".split()
)
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_WS_RUN_RE = re.compile(r"[ \t\r\n\f\v]+")
_SPACES_RE = re.compile("  +")


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements break lines, cells are separated by spaces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        self.title: list[str] = []
        self.in_title = False
        # Text inside the outermost hiding element (script, style …), kept until it closes:
        # if it never does, the rest of the page was hidden and is recorded as removed.
        self.hidden: list[str] = []
        self.hidden_open: tuple[str, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if tag in _BLOCK_TAGS and not self.skip:
                self.parts.append("\n")
            return
        if tag == "title":
            self.in_title = True
        if tag == "body":
            self.skip = 0  # a <head> left open ends where the body starts
            self.hidden, self.hidden_open = [], None
        if tag in _SKIP_TAGS:
            if not self.skip:
                self.hidden_open = (tag, self.getpos()[0])
            self.skip += 1
        elif not self.skip:
            self._boundary(tag)
            if tag == "pre":
                self.pre += 1

    def _boundary(self, tag: str) -> None:
        """A block element starts or ends a line; a table cell is set off by a space."""
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and not self.skip:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS:
            return
        if tag == "title":
            self.in_title = False
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
            if not self.skip:
                self.hidden, self.hidden_open = [], None
        elif not self.skip:
            self._boundary(tag)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip:
            self.hidden.append(data)
            return
        self.parts.append(data if self.pre else _WS_RUN_RE.sub(" ", data))


def html_to_text(html: str) -> tuple[str, str]:
    """The visible text of an HTML page and its ``<title>``.

    >>> html_to_text("<html><head><title>标题</title><style>p{}</style></head>"
    ...              "<body><p>第一段</p><script>var a;</script><div>第二<b>段</b></div>"
    ...              "</body></html>")
    ('第一段\\n第二段', '标题')
    """
    return _extract_html(html)[:2]


def _extract_html(html: str) -> tuple[str, str, dict[str, Any] | None]:
    """:func:`html_to_text`, and what an element left open to the end (an unclosed
    ``<script>``) hid: ``{"tag", "line", "text"}`` or ``None``."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        unclosed = None
        if parser.skip and parser.hidden_open is not None:
            # Inside <script> or <style> the parser holds the rest back as raw data.
            rest = "".join(parser.hidden) + parser.rawdata
            tag, line = parser.hidden_open
            if rest.strip():
                unclosed = {"tag": tag, "line": line, "text": rest}
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything left is a broken page
        raise InputError(f"unreadable HTML: {exc}") from exc
    # Each block becomes one line; the empty lines between nested blocks go.
    lines = (line.strip(" ") for line in "".join(parser.parts).split("\n"))
    lines = (_SPACES_RE.sub(" ", line) for line in lines)
    text = "\n".join(line for line in lines if line)
    title = " ".join("".join(parser.title).split())
    return text, title, unclosed


def _squash(text: str) -> str:
    return "".join(text.split())


def html_main_content(html: str, visible: str) -> tuple[tuple[int, ...], dict[str, str]]:
    """Which lines of *visible* (:func:`html_to_text` of *html*) lie outside the page's
    main content, by trafilatura, and the metadata it reads (``title``, ``date``,
    ``site_name``) plus ``extractor``: ``trafilatura``, or ``fallback: <why>`` when it is
    not installed, fails or finds no main text (then no line is left out).

    A visible line is main content when its text (spaces aside) occurs in trafilatura's
    main text, read in order; the line that repeats the extracted title above it stays
    too, so the title heads the document.

    >>> page = ("<html><body><div class='nav'><a>首页</a> <a>政务公开</a></div><article>"
    ...         "<h1>社区工作总结</h1>" + "<p>今年社区工作扎实有效，居民满意度明显提升，"
    ...         "全年开展志愿服务活动46场。</p>" * 3 + "</article>"
    ...         "<div class='footer'>主办单位：某某社区居委会</div></body></html>")
    >>> visible, _ = html_to_text(page)
    >>> dropped, meta = html_main_content(page, visible)
    >>> [visible.split("\\n")[i - 1] for i in dropped], meta["extractor"]
    (['首页 政务公开', '主办单位：某某社区居委会'], 'trafilatura')
    """
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a dependency
        return (), {"extractor": "fallback: trafilatura is not installed"}
    try:
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=True,
            include_images=False, deduplicate=False,
        )
    except Exception as exc:  # a page trafilatura cannot parse is read whole
        return (), {"extractor": f"fallback: trafilatura failed ({type(exc).__name__})"}
    main = _squash(getattr(doc, "text", "") or "") if doc is not None else ""
    if not main:
        return (), {"extractor": "fallback: trafilatura found no main text"}
    meta = {"extractor": "trafilatura"}
    for key, attr in (("title", "title"), ("date", "date"), ("site_name", "sitename")):
        value = getattr(doc, attr, None)
        if value:
            meta[key] = str(value)
    title = _squash(meta.get("title", ""))
    lines = visible.split("\n")
    kept: set[int] = set()
    pos = 0
    for i, line in enumerate(lines):
        key = _squash(line)
        if not key:
            continue
        at = main.find(key, pos)
        if at >= 0:
            kept.add(i)
            pos = at + len(key)
    if not kept:
        return (), {**meta, "extractor": "fallback: no visible line is in the main text"}
    first = min(kept)
    if title:  # the title line above the main text heads the document
        for i in range(first - 1, -1, -1):
            if _squash(lines[i]) == title:
                kept.add(i)
                break
    dropped = tuple(i + 1 for i, line in enumerate(lines) if i not in kept and line.strip())
    return dropped, meta


_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]{2,20})""", re.IGNORECASE
)


def _decode_html(data: bytes, encoding: str | None, errors: str = "strict",
                 report: dict[str, Any] | None = None) -> tuple[str, str]:
    """Decode HTML: an explicit encoding, else a BOM, else ``<meta charset>`` if it
    decodes strictly, else detection (with *errors* and *report* of :func:`decode_bytes`)."""
    if encoding is None and not any(data.startswith(bom) for bom, _ in _BOMS):
        match = _META_CHARSET_RE.search(data[:4096])
        if match:
            try:
                declared = _canonical(match.group(1).decode("ascii"))
                return decode_bytes(data, encoding=declared, report=report)
            except InputError:
                pass  # a wrong or unknown declaration: detect instead
    return decode_bytes(data, encoding=encoding, errors=errors, report=report)


# ---------------------------------------------------------------------------- records


def _record_page(
    source: str, encoding: str, index: int, record: Any, text_column: str
) -> Page | str:
    """A Page from one record, or the reason it cannot be one."""
    if not isinstance(record, dict):
        return f"not an object but {type(record).__name__}"
    if text_column not in record or record[text_column] is None:
        return f"no {text_column!r} field (fields: {', '.join(map(str, record)) or 'none'})"
    text = record[text_column]
    if not isinstance(text, str):
        return f"{text_column!r} is {type(text).__name__}, not text"
    if not text.strip():
        return f"empty {text_column!r}"
    meta = {str(k): v for k, v in record.items() if k != text_column}
    return Page(source=source, text=text, encoding=encoding, record=index, meta=meta)


def _collect(
    records: Iterable[tuple[int, object]], source: str, encoding: str, text_column: str
) -> tuple[list[Page], list[Issue]]:
    """Pages from ``(index, record)`` pairs; a record that is an error message is an issue."""
    pages: list[Page] = []
    issues: list[Issue] = []
    for index, record in records:
        page = (record.message if isinstance(record, _BadRecord)
                else _record_page(source, encoding, index, record, text_column))
        if isinstance(page, str):
            issues.append((index, page))
        else:
            pages.append(page)
    return pages, issues


class _BadRecord:
    """A record that could not be parsed, standing in its place with the reason."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _jsonl_records(text: str) -> Iterator[tuple[int, object]]:
    for index, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        try:
            yield index, json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield index, _BadRecord(f"invalid JSON: {exc}"[:200])


def _read_jsonl(
    text: str, source: str, encoding: str, text_column: str
) -> tuple[list[Page], list[Issue]]:
    return _collect(_jsonl_records(text), source, encoding, text_column)


def _read_json(
    text: str, source: str, encoding: str, text_column: str
) -> tuple[list[Page], list[Issue]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON: {exc}"[:200]) from exc
    records = data if isinstance(data, list) else [data]
    return _collect(enumerate(records), source, encoding, text_column)


def _read_csv(
    text: str, source: str, encoding: str, text_column: str, delimiter: str
) -> tuple[list[Page], list[Issue]]:
    """Pages from CSV/TSV rows. A quote that never closes would make the last record
    swallow every line after it (two or more records merged silently): that record is
    read up to the end of its own line, an issue says so, and the lines after it are read
    as records again."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # a page's text may exceed the default 128 KiB
    try:
        lines = list(_io.StringIO(text, newline=""))
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise EmptyInputError("empty file: no CSV header") from None
        except csv.Error as exc:
            raise InputError(f"unreadable CSV header: {exc}") from exc
        header = [h.strip() for h in header]
        if text_column not in header:
            raise InputError(
                f"no {text_column!r} column (columns: {', '.join(header)}); "
                "choose one with text_column"
            )
        pages: list[Page] = []
        issues: list[Issue] = []
        index = -1
        base = 0  # lines before the current reader's first
        while True:
            index += 1
            begin = base + reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                issues.append((index, f"unreadable CSV row: {exc}"))
                break  # the reader cannot resynchronise after a broken row
            end = base + reader.line_num
            if end == len(lines) and end - begin > 1 and _unterminated(lines[begin:]):
                issues.append((index, f"unterminated quote: the record would take the "
                                      f"{end - begin - 1} line(s) after it; it is read up "
                                      "to the end of its line, those lines as records"))
                row = next(csv.reader(lines[begin:begin + 1], delimiter=delimiter))
                row[-1] = row[-1].rstrip("\r\n")
                base = begin + 1
                reader = csv.reader(lines[base:], delimiter=delimiter)
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(header):
                issues.append((index, f"{len(row)} fields, header has {len(header)}"))
                continue
            page = _record_page(
                source, encoding, index, dict(zip(header, row, strict=True)), text_column
            )
            if isinstance(page, str):
                issues.append((index, page))
            else:
                pages.append(page)
        return pages, issues
    finally:
        csv.field_size_limit(old_limit)


def _unterminated(lines: list[str]) -> bool:
    """Whether a record spanning *lines* to the end of the file opened a quote that never
    closes: an odd number of quote characters (a quote inside a quoted field is doubled)."""
    return sum(line.count('"') for line in lines) % 2 == 1


# ---------------------------------------------------------------------------- .docx

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCX_MAX_XML = 256 * 1024 * 1024


def _read_docx(data: bytes) -> str:
    try:
        with zipfile.ZipFile(_io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > _DOCX_MAX_XML:
                raise InputError(f"docx document.xml too large ({info.file_size} bytes)")
            xml = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError) as exc:
        raise InputError(f"not a readable .docx: {exc}") from exc
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise InputError(f"not a readable .docx: document.xml: {exc}") from exc
    paragraphs: list[str] = []
    for paragraph in root.iter(f"{_W}p"):
        pieces: list[str] = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t" and node.text:
                pieces.append(node.text)
            elif node.tag == f"{_W}tab":
                pieces.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                pieces.append("\n")
        paragraphs.append("".join(pieces))
    return "\n".join(paragraphs)


# ---------------------------------------------------------------------------- read_page

_TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
#: Suffixes read as HTML (main content by trafilatura).
HTML_SUFFIXES = _HTML_SUFFIXES
_RECORD_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json", ".csv", ".tsv"})
#: Suffixes read_page knows; any other file is read as plain text.
PAGE_SUFFIXES = _TEXT_SUFFIXES | _HTML_SUFFIXES | _RECORD_SUFFIXES | {".docx"}


_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def _replace_surrogates(value: Any, count: list[int]) -> Any:
    if isinstance(value, str):
        if _SURROGATE_RE.search(value) is None:
            return value
        new, n = _SURROGATE_RE.subn("\ufffd", value)
        count[0] += n
        return new
    if isinstance(value, dict):
        return {_replace_surrogates(k, count): _replace_surrogates(v, count)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v, count) for v in value]
    return value


def _without_surrogates(pages: list[Page], report: dict[str, Any] | None) -> list[Page]:
    """JSON may escape lone surrogates (``"\\ud800"``: half of a cut-off emoji), which no
    UTF-8 table can hold: each becomes U+FFFD, counted in ``report["surrogates"]``."""
    count = [0]
    out = [p if _SURROGATE_RE.search(p.text) is None and not p.meta else
           dataclasses.replace(p, text=_replace_surrogates(p.text, count),
                               meta=_replace_surrogates(p.meta, count))
           for p in pages]
    if count[0] and report is not None:
        report["surrogates"] = report.get("surrogates", 0) + count[0]
    return out


def read_page(
    path: str | Path,
    *,
    root: str | Path | None = None,
    text_column: str = "text",
    encoding: str | None = None,
    source: str | None = None,
    errors: str = "strict",
    report: dict[str, Any] | None = None,
    data: bytes | None = None,
) -> tuple[list[Page], list[Issue]]:
    """Read one file into pages; return ``(pages, issues)``.

    ``Page.source`` is *source* if given, else *path* relative to *root* (POSIX style), else
    *path* as given. A text, Markdown, HTML or .docx file gives one page (``record`` None);
    a JSONL/JSON/CSV/TSV file gives one page per record (``record`` = 0-based line of a
    JSONL file, 0-based data row of a CSV file, index in a JSON array), the text from
    *text_column* and the other fields in ``meta``. A record that cannot be a page (bad
    JSON, missing or empty text, wrong field count) is skipped and listed in *issues* as
    ``(record, reason)``. An HTML page's ``<title>`` goes to ``meta["title"]``.

    Raises :class:`~corpus_tools.errors.InputError`, with a short reason, when the whole
    file cannot be read: unreadable, not a regular file (a named pipe is never opened),
    empty (0 bytes or whitespace only), binary, not decodable, or a CSV without the text
    column.

    *errors* is ``"strict"`` (the default: a file with one bad byte fails, nothing is
    silently changed) or ``"replace"`` (salvage: see :func:`decode_bytes`). *data*, when
    given, is the file's content already read (it is not read again).

    What was repaired on the way goes into *report* (a dict, when given), so that it can
    be recorded: ``nul_dropped`` (stray NUL bytes), ``salvaged``, ``replaced`` and
    ``replaced_offsets`` (bad bytes read as U+FFFD under ``errors="replace"``),
    ``surrogates`` (lone surrogates of JSON replaced with U+FFFD), ``unclosed`` (an HTML
    element that hides text, such as ``<script>``, left open until the end: what it hid,
    as ``{"tag", "line", "text"}``), ``csv_unterminated`` (records whose quote never
    closed).
    """
    path = Path(path)
    if source is None:
        try:
            source = (path.relative_to(root) if root is not None else path).as_posix()
        except ValueError:  # not under root
            source = path.as_posix()
    if data is None:
        try:
            data = read_regular_file(path)
        except OSError as exc:
            raise InputError(f"unreadable: {exc.strerror or exc}") from exc
    if not data:
        raise EmptyInputError("empty file (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".docx":
        text = _read_docx(data)
        if not text.strip():
            raise EmptyInputError("empty file (no text in the document)")
        return [Page(source=source, text=text, encoding="docx")], []
    if suffix in _HTML_SUFFIXES:
        raw, name = _decode_html(data, encoding, errors, report)
        text, title, unclosed = _extract_html(raw)
        if unclosed and report is not None:
            report["unclosed"] = unclosed
        if not text.strip():
            raise EmptyInputError("empty file (no visible text)")
        dropped, meta = html_main_content(raw, text)
        if title and "title" not in meta:
            meta["title"] = title
        return [Page(source=source, text=text, encoding=name, meta=meta, dropped=dropped)], []
    text, name = decode_bytes(data, encoding=encoding, errors=errors, report=report)
    del data
    if not text.strip():
        raise EmptyInputError("empty file (whitespace only)")
    if suffix in (".jsonl", ".ndjson", ".json"):
        read = _read_json if suffix == ".json" else _read_jsonl
        pages, issues = read(text, source, name, text_column)
        return _without_surrogates(pages, report), issues
    if suffix in (".csv", ".tsv"):
        return _read_csv(text, source, name, text_column, "\t" if suffix == ".tsv" else ",")
    return [Page(source=source, text=text, encoding=name)], []


# ============================================================================ writing tables
