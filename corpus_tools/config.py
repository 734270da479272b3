"""Run configuration: a frozen dataclass with documented defaults, loadable from TOML.

>>> cfg = RunConfig(workers=2)
>>> cfg.workers, cfg.dedup_threshold
(2, 0.8)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["DEFAULT", "RunConfig", "load_config"]

ENGINES = ("local", "dask")
THEME_METHODS = ("nmf", "kmeans")
DECODE_ERRORS = ("strict", "replace")
THEME_SCHEMES = ("auto", "government_report", "community_summary")


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Settings of one ``corpus-tools run``.

    Only the fields marked *(output)* change what the per-page stages produce; the others
    say how the run is carried out. :meth:`fingerprint` hashes the output fields, so a
    resumed run reuses a page's cached rows only when they were made the same way.
    """

    #: *(output)* column holding the page text in ``.jsonl`` and ``.csv`` inputs.
    text_column: str = "text"
    #: *(output)* force an input encoding instead of detecting it (e.g. ``"gb18030"``).
    encoding: str | None = None
    #: *(output)* pages larger than this many bytes are skipped with a reason.
    max_page_bytes: int = 200 * 1024 * 1024
    #: *(output)* ``"strict"``: a page with a bad byte fails (nothing silently changed);
    #: ``"replace"`` (``--salvage``): it is read with U+FFFD for each bad byte sequence,
    #: their count and byte offsets recorded in the manifest entry's ``repairs``.
    decode_errors: str = "strict"
    #: seconds one input file may take in the per-page stages; a file over it is failed
    #: with the reason and the run goes on. 0 means no limit.
    page_timeout: float = 600.0
    #: MinHash Jaccard above which an article is flagged as a near-duplicate.
    dedup_threshold: float = 0.8
    #: also write ``utf-8-sig`` CSV copies of the tables (for Excel).
    csv: bool = False
    #: raise on the first failing page instead of recording it and going on.
    strict: bool = False
    #: worker processes; 0 means one per core.
    workers: int = 0
    #: ``"local"`` (processes on this machine) or ``"dask"`` (a dask.distributed cluster).
    engine: str = "local"
    #: address of a running Dask scheduler; ``None`` starts a LocalCluster.
    scheduler: str | None = None
    #: reuse the cached rows of pages whose content did not change.
    resume: bool = True
    #: fit themes and write theme tables after the per-page stages.
    themes: bool = True
    #: number of discovered themes; ``None`` lets the model choose.
    n_themes: int | None = None
    #: ``"nmf"`` or ``"kmeans"``.
    theme_method: str = "nmf"
    #: YAML lexicon of named themes for every document; ``None`` uses the shipped schemes.
    lexicon: str | None = None
    #: named-theme scheme: ``"auto"`` (by doc_type, ``resources/theme_schemes.tsv``),
    #: ``"government_report"`` or ``"community_summary"`` for every document.
    theme_scheme: str = "auto"
    #: sections the theme model is fitted on at most (a seeded sample of the rest).
    theme_sample: int = 20000
    #: seed for every random step (themes).
    random_state: int = 0
    #: draw PNG and SVG charts into ``OUT/charts/``.
    charts: bool = True
    #: write the HTML report into ``OUT/report/`` (see :mod:`corpus_tools.report`).
    report: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_type(f.name, f.type, getattr(self, f.name))
        if self.engine not in ENGINES:
            raise ConfigError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.theme_method not in THEME_METHODS:
            raise ConfigError(
                f"theme_method must be one of {THEME_METHODS}, got {self.theme_method!r}"
            )
        if self.workers < 0:
            raise ConfigError(f"workers must be >= 0 (0 = all cores), got {self.workers}")
        if not 0.0 < self.dedup_threshold <= 1.0:
            raise ConfigError(f"dedup_threshold must be in (0, 1], got {self.dedup_threshold}")
        if self.theme_scheme not in THEME_SCHEMES:
            raise ConfigError(
                f"theme_scheme must be one of {THEME_SCHEMES}, got {self.theme_scheme!r}"
            )
        if self.theme_sample < 1:
            raise ConfigError(f"theme_sample must be >= 1, got {self.theme_sample}")
        if self.n_themes is not None and self.n_themes < 1:
            raise ConfigError(f"n_themes must be >= 1 or None, got {self.n_themes}")
        if self.decode_errors not in DECODE_ERRORS:
            raise ConfigError(
                f"decode_errors must be one of {DECODE_ERRORS}, got {self.decode_errors!r}")
        if self.page_timeout < 0:
            raise ConfigError(f"page_timeout must be >= 0 (0 = no limit), got {self.page_timeout}")
        if self.max_page_bytes <= 0:
            raise ConfigError(f"max_page_bytes must be > 0, got {self.max_page_bytes}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """Hash of the settings that change per-page output (and of the toolkit version)."""
        from . import __version__

        key = {
            "version": __version__,
            "text_column": self.text_column,
            "encoding": self.encoding,
            "max_page_bytes": self.max_page_bytes,
        }
        if self.decode_errors != "strict":  # strict runs keep the fingerprint they had
            key["decode_errors"] = self.decode_errors
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a string"),
    "int": ((int,), "an integer"),
    "float": ((int, float), "a number"),
    "bool": ((bool,), "true or false"),
}


def _check_type(name: str, annotation: Any, value: Any) -> None:
    """Raise ConfigError unless *value* fits the field's annotation (``int | None`` …).

    ``True`` is not an integer here, and a number is not a string: TOML and keyword
    arguments are checked alike, so a wrong type fails at once with the setting's name.
    """
    kinds = [k.strip() for k in str(annotation).split("|")]
    if value is None and "None" in kinds:
        return
    wanted = [_KINDS[k] for k in kinds if k in _KINDS]
    if not wanted:  # pragma: no cover - a field of another type: nothing to check
        return
    for types, _ in wanted:
        if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
            return
    what = " or ".join(label for _, label in wanted)
    if "None" in kinds:
        what += " (or left out)"
    raise ConfigError(f"{name} must be {what}, got {value!r}")


DEFAULT = RunConfig()


def load_config(path: str | Path, **overrides: Any) -> RunConfig:
    """Read a TOML file (top-level keys, or a ``[run]`` table) into a :class:`RunConfig`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    data = data.get("run", data)
    known = {f.name for f in fields(RunConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; known: {sorted(known)}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return RunConfig(**data)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
