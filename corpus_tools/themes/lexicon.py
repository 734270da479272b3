"""Named themes: a YAML lexicon of theme → seed terms, and the coding rule."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ResourceError
from ..rules import load_yaml
from .units import _require_columns, _simplified, own_text

NAMED_THEME_COLUMNS: tuple[str, ...] = ("doc_id", "section_id", "theme", "score", "hits")


def load_lexicon(
    lexicon: str | Path | Mapping[str, Any] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Theme name → seed terms, from a YAML file path, a dict, or the shipped default.

    The YAML maps each theme to a list of terms, or to ``{terms: [...], note: ...}``.

    >>> load_lexicon({"志愿服务": ["志愿者", "志愿服务"]})
    {'志愿服务': ('志愿服务', '志愿者')}
    >>> "网格化管理" in load_lexicon()
    True
    """
    if lexicon is None:
        data, label = load_yaml("themes.yaml"), "corpus_tools/resources/themes.yaml"
    elif isinstance(lexicon, Mapping):
        data, label = lexicon, "lexicon"
    elif not isinstance(lexicon, (str, Path)):
        raise ResourceError(
            f"lexicon must be a YAML path or a mapping of theme → terms, got "
            f"{type(lexicon).__name__}"
        )
    else:
        data, label = load_yaml(Path(lexicon)), str(lexicon)
    if isinstance(data, Mapping) and "themes" in data and isinstance(data["themes"], Mapping):
        data = data["themes"]
    if not isinstance(data, Mapping) or not data:
        raise ResourceError(f"{label}: expected a mapping of theme name → list of seed terms")
    out: dict[str, tuple[str, ...]] = {}
    for name, spec in data.items():
        terms = spec.get("terms") if isinstance(spec, Mapping) else spec
        if not isinstance(terms, (list, tuple)) or not terms:
            raise ResourceError(f"{label}: theme {name!r} needs a non-empty list of terms")
        clean = []
        for term in terms:
            if not isinstance(term, str) or not term.strip():
                raise ResourceError(
                    f"{label}: theme {name!r} has an empty or non-text term {term!r}"
                )
            clean.append(term.strip())
        out[str(name)] = tuple(sorted(set(clean), key=lambda t: (-len(t), t)))
    return out


def _trie_regex(terms: Iterable[str]) -> str:
    """A regex matching any of *terms*, longest first, built as a prefix trie (linear)."""
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return "(?:" + body + ")?"
        return body

    return build(trie)


@functools.lru_cache(maxsize=16)
def _lexicon_matcher(
    items: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    term_themes: dict[str, list[str]] = {}
    for name, terms in items:
        for term in terms:
            term_themes.setdefault(term, []).append(name)
    pattern = re.compile(_trie_regex(term_themes))
    return pattern, {t: tuple(v) for t, v in term_themes.items()}


def score_lexicon(
    sections_df: pd.DataFrame,
    lexicon: str | Path | Mapping[str, Any] | None = None,
    *,
    min_hits: int = 2,
    simplify: bool = True,
) -> pd.DataFrame:
    """Named themes of each section: ``doc_id, section_id, theme, score, hits``.

    ``hits`` counts occurrences of the theme's seed terms in the section text (longest
    match first, no overlaps: 志愿服务队 counts once even if 志愿服务 is also a term);
    ``score`` is hits per 1,000 characters. Only rows with ``hits >= min_hits`` are
    returned: that is the coding rule (pass ``min_hits=1`` to see every hit). Nested
    sections are scored on their own text (see :func:`own_text`), so no hit counts twice.
    With *simplify*, text in traditional or mixed script is normalized to simplified first
    (the lexicon is written in simplified characters).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"doc_id": ["d"], "section_id": ["1"],
    ...                    "text": ["组织志愿者开展志愿服务，网格员入户走访。"]})
    >>> score_lexicon(df, {"志愿服务": ["志愿者", "志愿服务"], "网格化管理": ["网格员"]})
    ... # doctest: +NORMALIZE_WHITESPACE
      doc_id section_id   theme  score  hits
    0      d          1  志愿服务   100.0     2
    """
    _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
    lex = load_lexicon(lexicon)
    pattern, term_themes = _lexicon_matcher(tuple(lex.items()))
    records: list[tuple[Any, Any, str, float, int]] = []
    names = list(lex)
    for doc_id, section_id, text in zip(
        sections_df["doc_id"],
        sections_df["section_id"],
        _simplified(own_text(sections_df)) if simplify else own_text(sections_df),
        strict=True,
    ):
        if not isinstance(text, str) or not text:
            continue
        counts: dict[str, int] = {}
        for m in pattern.finditer(text):
            term = m.group()
            if not term:
                continue
            for name in term_themes.get(term, ()):
                counts[name] = counts.get(name, 0) + 1
        for name in names:
            hits = counts.get(name, 0)
            if hits and hits >= min_hits:
                records.append(
                    (doc_id, section_id, name, round(hits * 1000.0 / len(text), 3), hits)
                )
    out = pd.DataFrame.from_records(records, columns=list(NAMED_THEME_COLUMNS))
    return out.astype({"theme": "object", "score": "float64", "hits": "int64"})
