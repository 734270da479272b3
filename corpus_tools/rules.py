"""Loading the rule files in ``corpus_tools/resources/``.

Rules are data: flat lists in TSV with a header (and a ``note`` column), nested rules in
YAML, word lists as plain text. Files are read with :mod:`importlib.resources`, cached, and
never at import time. A missing file, an empty file or a malformed row raises
:class:`~corpus_tools.errors.ResourceError` naming the file and the line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ResourceError

__all__ = ["TsvRow", "load_lines", "load_tsv", "load_yaml", "read_resource"]


@dataclass(frozen=True, slots=True)
class TsvRow:
    """One row of a TSV rule file: its fields by column name and where it stands."""

    fields: dict[str, str]
    file: str
    line_no: int

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    def where(self) -> str:
        return f"{self.file}:{self.line_no}"


def read_resource(name: str | Path) -> tuple[str, str]:
    """Return ``(label, text)`` of a packaged resource, or of a user file given as a Path.

    A :class:`~pathlib.Path` (or a string containing a path separator) names a user's own
    file; a bare name is looked up in ``corpus_tools/resources/``.
    """
    if isinstance(name, Path) or "/" in str(name) or "\\" in str(name):
        path = Path(name)
        try:
            return str(path), path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ResourceError(f"cannot read rule file {path}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ResourceError(f"rule file {path} is not UTF-8: {exc}") from exc
    label = f"corpus_tools/resources/{name}"
    try:
        text = resources.files("corpus_tools").joinpath("resources", str(name)).read_text(
            encoding="utf-8-sig"
        )
    except (OSError, FileNotFoundError) as exc:
        raise ResourceError(f"missing rule file {label}: reinstall corpus_tools") from exc
    return label, text


@functools.cache
def load_tsv(name: str | Path, required: tuple[str, ...] = ()) -> tuple[TsvRow, ...]:
    """Load a TSV rule file: a header line, then one rule per line.

    Lines that are blank or start with ``#`` are skipped. Every row must have as many
    fields as the header (a trailing empty ``note`` may be left out), and every column in
    *required* must be present and non-empty.
    """
    label, text = read_resource(name)
    lines = text.splitlines()
    header_idx = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), None
    )
    if header_idx is None:
        raise ResourceError(f"{label} is empty: expected a header line and rules")
    header = lines[header_idx].split("\t")
    missing = [c for c in required if c not in header]
    if missing:
        raise ResourceError(f"{label}:{header_idx + 1}: header lacks column(s) {missing}")
    rows: list[TsvRow] = []
    for i in range(header_idx + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) == len(header) - 1 and header[-1] == "note":
            parts.append("")
        if len(parts) != len(header):
            raise ResourceError(
                f"{label}:{i + 1}: expected {len(header)} tab-separated fields "
                f"({', '.join(header)}), got {len(parts)}"
            )
        fields = dict(zip(header, parts, strict=True))
        for col in required:
            if not fields[col].strip():
                raise ResourceError(f"{label}:{i + 1}: column {col!r} is empty")
        rows.append(TsvRow(fields, label, i + 1))
    if not rows:
        raise ResourceError(f"{label} has a header but no rules")
    return tuple(rows)


@functools.cache
def load_lines(name: str | Path) -> tuple[str, ...]:
    """Load a word list: one entry per line, ``#`` comments and blank lines skipped."""
    label, text = read_resource(name)
    items = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    if not items:
        raise ResourceError(f"{label} is empty: expected one entry per line")
    return items


@functools.cache
def load_yaml(name: str | Path) -> Any:
    """Load a YAML rule file with ``yaml.safe_load``."""
    import yaml

    label, text = read_resource(name)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ResourceError(f"{label}{where}: invalid YAML: {exc}") from exc
    if not data:
        raise ResourceError(f"{label} is empty")
    return data
