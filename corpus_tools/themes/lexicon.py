"""Named themes: YAML lexicons (schemes) of theme → seed terms, and the coding rule.

Two schemes are shipped: ``community_summary`` (``resources/themes.yaml``: 志愿服务,
网格化管理, 环境卫生 …) and ``government_report`` (``resources/themes_gov.yaml``: 经济发展,
科技创新, 生态环境, 民生保障 …), each theme with seed terms and a citation-ready
``description``. :func:`score_schemes` codes each document with the scheme of its
``doc_type`` (``resources/theme_schemes.tsv``: 报告 and 规划 → government_report, the rest →
community_summary), or with one scheme or lexicon for all; the ``scheme`` column of
``named_themes.parquet`` records which.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ResourceError
from ..rules import load_yaml
from .units import _require_columns, _simplified, own_text

NAMED_THEME_COLUMNS: tuple[str, ...] = (
    "doc_id", "section_id", "theme", "score", "hits", "scheme"
)
#: The shipped schemes and their files in ``corpus_tools/resources``.
SCHEMES: dict[str, str] = {
    "community_summary": "themes.yaml",
    "government_report": "themes_gov.yaml",
}
DEFAULT_SCHEME = "community_summary"


def _read_lexicon(
    lexicon: str | Path | Mapping[str, Any] | None,
) -> tuple[Any, str, str]:
    """``(data, label, scheme name)`` of a lexicon given as a scheme name, path or mapping."""
    if lexicon is None:
        lexicon = DEFAULT_SCHEME
    if isinstance(lexicon, str) and lexicon in SCHEMES:
        name = SCHEMES[lexicon]
        return load_yaml(name), f"corpus_tools/resources/{name}", lexicon
    if isinstance(lexicon, Mapping):
        data, label, scheme = lexicon, "lexicon", "custom"
    elif not isinstance(lexicon, (str, Path)):
        raise ResourceError(
            f"lexicon must be a scheme name {sorted(SCHEMES)}, a YAML path or a mapping of "
            f"theme → terms, got {type(lexicon).__name__}"
        )
    else:
        data, label, scheme = load_yaml(Path(lexicon)), str(lexicon), Path(lexicon).stem
    if isinstance(data, Mapping) and isinstance(data.get("scheme"), str):
        scheme = data["scheme"]
    return data, label, scheme


def lexicon_scheme(lexicon: str | Path | Mapping[str, Any] | None = None) -> str:
    """The scheme name of a lexicon (its ``scheme:`` key, else the file stem or ``custom``).

    >>> lexicon_scheme(), lexicon_scheme("government_report"), lexicon_scheme({"a": ["b"]})
    ('community_summary', 'government_report', 'custom')
    """
    return _read_lexicon(lexicon)[2]


def theme_descriptions(lexicon: str | Path | Mapping[str, Any] | None = None) -> dict[str, str]:
    """Theme → citation-ready description (``""`` when the lexicon gives none).

    >>> theme_descriptions("government_report")["科技创新"][:4]
    '科学技术'
    """
    data = _read_lexicon(lexicon)[0]
    if isinstance(data, Mapping) and isinstance(data.get("themes"), Mapping):
        data = data["themes"]
    return {
        str(k): str(v.get("description", "")) if isinstance(v, Mapping) else ""
        for k, v in (data.items() if isinstance(data, Mapping) else [])
    }


@functools.cache
def _doc_type_schemes() -> dict[str, str]:
    from ..rules import load_tsv

    rows = load_tsv("theme_schemes.tsv", required=("id", "doc_type", "scheme"))
    out = {}
    for row in rows:
        if row["scheme"] not in SCHEMES:
            raise ResourceError(
                f"{row.where()}: unknown scheme {row['scheme']!r}; known: {sorted(SCHEMES)}"
            )
        out[row["doc_type"]] = row["scheme"]
    return out


def scheme_for(doc_type: Any) -> str:
    """The scheme a document of *doc_type* is coded with (``resources/theme_schemes.tsv``).

    >>> scheme_for("报告"), scheme_for("总结"), scheme_for(None)
    ('government_report', 'community_summary', 'community_summary')
    """
    table = _doc_type_schemes()
    key = doc_type if isinstance(doc_type, str) else ""
    return table.get(key, table.get("*", DEFAULT_SCHEME))


def load_lexicon(
    lexicon: str | Path | Mapping[str, Any] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Theme name → seed terms, from a YAML file path, a dict, or the shipped default.

    *lexicon* is a shipped scheme's name (``community_summary``, the default, or
    ``government_report``), a YAML path or a mapping. The YAML maps each theme to a list of
    terms, or to ``{terms: [...], description: ..., note: ...}``, optionally under a
    ``themes:`` key beside ``scheme:`` and ``description:``.

    >>> load_lexicon({"志愿服务": ["志愿者", "志愿服务"]})
    {'志愿服务': ('志愿服务', '志愿者')}
    >>> "网格化管理" in load_lexicon(), "科技创新" in load_lexicon("government_report")
    (True, True)
    """
    data, label, _scheme = _read_lexicon(lexicon)
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
    texts: pd.Series | None = None,
) -> pd.DataFrame:
    """Named themes of each section: ``doc_id, section_id, theme, score, hits, scheme``.

    ``hits`` counts occurrences of the theme's seed terms in the section text (longest
    match first, no overlaps: 志愿服务队 counts once even if 志愿服务 is also a term);
    ``score`` is hits per 1,000 characters. Only rows with ``hits >= min_hits`` are
    returned: that is the coding rule (pass ``min_hits=1`` to see every hit). Nested
    sections are scored on their own text (see :func:`own_text`), so no hit counts twice.
    With *simplify*, text in traditional or mixed script is normalized to simplified first
    (the lexicon is written in simplified characters). *texts*, aligned with
    *sections_df*, are the sections' own texts when the caller already has them (simplified
    as *simplify* says).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"doc_id": ["d"], "section_id": ["1"],
    ...                    "text": ["组织志愿者开展志愿服务，网格员入户走访。"]})
    >>> score_lexicon(df, {"志愿服务": ["志愿者", "志愿服务"], "网格化管理": ["网格员"]})
    ... # doctest: +NORMALIZE_WHITESPACE
      doc_id section_id   theme  score  hits  scheme
    0      d          1  志愿服务   100.0     2  custom
    """
    _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
    lex = load_lexicon(lexicon)
    scheme = lexicon_scheme(lexicon)
    pattern, term_themes = _lexicon_matcher(tuple(lex.items()))
    records: list[tuple[Any, Any, str, float, int, str]] = []
    names = list(lex)
    if texts is None:
        texts = own_text(sections_df)
        texts = _simplified(texts) if simplify else texts
    for doc_id, section_id, text in zip(
        sections_df["doc_id"].tolist(),
        sections_df["section_id"].tolist(),
        list(texts),
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
                    (doc_id, section_id, name, round(hits * 1000.0 / len(text), 3), hits,
                     scheme)
                )
    out = pd.DataFrame.from_records(records, columns=list(NAMED_THEME_COLUMNS))
    return out.astype(
        {"theme": "object", "score": "float64", "hits": "int64", "scheme": "object"}
    )


def score_schemes(
    sections_df: pd.DataFrame,
    documents_df: pd.DataFrame | None = None,
    *,
    scheme: str = "auto",
    lexicon: str | Path | Mapping[str, Any] | None = None,
    min_hits: int = 2,
    texts: pd.Series | None = None,
) -> pd.DataFrame:
    """:func:`score_lexicon` with the scheme that fits each document.

    *lexicon* (a path or mapping) codes every section with that one lexicon; otherwise
    *scheme* names one shipped scheme for all, or ``"auto"`` (default) picks each
    document's scheme from its ``doc_type`` in *documents_df* (:func:`scheme_for`).

    >>> import pandas as pd
    >>> docs = pd.DataFrame({"doc_id": ["r", "s"], "doc_type": ["报告", "总结"]})
    >>> secs = pd.DataFrame({"doc_id": ["r", "s"], "section_id": ["1", "1"],
    ...     "text": ["加强科技创新和自主创新。", "组织志愿者开展志愿服务。"]})
    >>> score_schemes(secs, docs)[["doc_id", "theme", "scheme"]].values.tolist()
    [['r', '科技创新', 'government_report'], ['s', '志愿服务', 'community_summary']]
    """
    if lexicon is not None:
        return score_lexicon(sections_df, lexicon, min_hits=min_hits, texts=texts)
    if scheme != "auto":
        if scheme not in SCHEMES:
            raise ResourceError(f"unknown scheme {scheme!r}: expected 'auto' or {sorted(SCHEMES)}")
        return score_lexicon(sections_df, scheme, min_hits=min_hits, texts=texts)
    _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
    types: dict[Any, Any] = {}
    if documents_df is not None and "doc_type" in documents_df.columns:
        types = dict(zip(documents_df["doc_id"], documents_df["doc_type"], strict=True))
    chosen = sections_df["doc_id"].map(lambda d: scheme_for(types.get(d)))
    parts = [
        score_lexicon(sections_df[chosen == name], name, min_hits=min_hits,
                      texts=None if texts is None else pd.Series(
                          list(texts), index=sections_df.index, dtype=object)[chosen == name])
        for name in SCHEMES
        if (chosen == name).any()
    ]
    if not parts:
        return score_lexicon(sections_df.iloc[:0], DEFAULT_SCHEME, min_hits=min_hits)
    out = pd.concat(parts, ignore_index=True)
    # back to the sections' order, so the table does not depend on the scheme order
    pos: dict[tuple[Any, Any], int] = {}
    for i, k in enumerate(zip(sections_df["doc_id"], sections_df["section_id"], strict=True)):
        pos.setdefault(k, i)
    key = [pos[k] for k in zip(out["doc_id"], out["section_id"], strict=True)]
    return out.iloc[np.lexsort((np.arange(len(out)), key))].reset_index(drop=True)
