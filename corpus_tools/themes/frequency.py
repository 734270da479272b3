"""Theme frequencies per group, normalized by the documents in each group."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SchemaError
from .units import _require_columns

FREQUENCY_COLUMNS: tuple[str, ...] = (
    "theme",
    "n_sections",
    "n_docs",
    "docs_in_group",
    "share",
    "sections_in_group",
    "section_share",
)


def theme_frequency(
    assignments: pd.DataFrame,
    documents: pd.DataFrame | None = None,
    by: str = "doc_type",
    *,
    theme_col: str | None = None,
    labels: Mapping[Any, str] | pd.DataFrame | None = None,
    sections: pd.DataFrame | None = None,
    exclude_duplicates: bool = True,
) -> pd.DataFrame:
    """Tidy theme counts per group: ``<by>, theme, n_sections, n_docs, docs_in_group, share,
    sections_in_group, section_share``.

    *assignments* is :meth:`ThemeModel.assign` output (``theme_id``) or
    :func:`score_lexicon` output (``theme``); *theme_col* overrides the guess. *by* is a
    column of *documents* (``year``, ``doc_type``, ``place``, ...) or of *assignments*, or
    ``"doc_id"``. ``docs_in_group`` counts every document of the group in *documents*
    (duplicates left out when *exclude_duplicates*), with or without a theme; without
    *documents* it counts the documents seen in *assignments*. ``share = n_docs /
    docs_in_group``. Every (group, theme) pair is present (zeros included). *labels* maps
    theme ids to labels (a dict, or a :meth:`ThemeModel.themes_table` frame).

    ``section_share = n_sections / sections_in_group`` suits groups of one long document
    (a national report per year): ``sections_in_group`` counts the rows of *sections*
    (``doc_id, section_id``) in the group when given, else the distinct sections of the
    group that appear in *assignments* (sections with any theme).

    With lexicon scores (a ``hits`` column) and a ``n_chars`` column in *documents*, a
    ``hits_per_10k`` column gives the theme's seed-term hits per 10,000 characters of the
    group's documents: independent of how documents were cut into sections and of their
    length (hits of rows below the ``min_hits`` rule are not in the table, so it is a floor).

    >>> import pandas as pd
    >>> docs = pd.DataFrame({"doc_id": ["a", "b", "c"], "year": [2020, 2020, 2021]})
    >>> hits = pd.DataFrame({"doc_id": ["a", "a", "c"], "section_id": ["1", "2", "1"],
    ...                      "theme": ["党建", "党建", "党建"]})
    >>> theme_frequency(hits, docs, by="year")[["year", "n_sections", "n_docs", "share"]]
       year  n_sections  n_docs  share
    0  2020           2       1    0.5
    1  2021           1       1    1.0
    """
    if theme_col is None:
        theme_col = "theme" if "theme" in assignments.columns else "theme_id"
    _require_columns(assignments, ("doc_id", theme_col), "assignments")
    a = assignments[
        [
            c
            for c in dict.fromkeys(("doc_id", "section_id", theme_col, by, "hits"))
            if c in assignments.columns
        ]
    ].copy()
    a = a.rename(columns={theme_col: "theme"}) if theme_col != "theme" else a
    if labels is not None:
        if isinstance(labels, pd.DataFrame):
            labels = dict(zip(labels["theme_id"], labels["label"], strict=True))
        a["theme"] = a["theme"].map(lambda t: labels.get(t, t))
    if documents is not None:
        _require_columns(documents, ("doc_id",), "documents")
        docs = documents
        if exclude_duplicates and "duplicate_of" in docs.columns:
            docs = docs[docs["duplicate_of"].isna()]
        if by != "doc_id":
            _require_columns(docs, (by,), "documents")
        docs = docs[list(dict.fromkeys(("doc_id", by)))].drop_duplicates("doc_id")
        a = a[a["doc_id"].isin(set(docs["doc_id"]))]
        if by != "doc_id":
            a = a.drop(columns=[by], errors="ignore").merge(docs, on="doc_id", how="left")
    else:
        if by not in a.columns:
            raise SchemaError(f"group column {by!r} is not in assignments: pass documents=")
        docs = a[list(dict.fromkeys(("doc_id", by)))].drop_duplicates("doc_id")
    group_key = _group_keys(docs[by])
    in_group = group_key.value_counts(sort=False)
    a_key = _group_keys(a[by])
    a = a.assign(_g=a_key)
    n_sections = a.groupby(["_g", "theme"], sort=False).size()
    n_docs = a.groupby(["_g", "theme"], sort=False)["doc_id"].nunique()
    groups = sorted(in_group.index, key=_sort_key)
    themes = sorted(a["theme"].dropna().unique(), key=_sort_key)
    idx = pd.MultiIndex.from_product([groups, themes], names=["_g", "theme"])
    out = pd.DataFrame(
        {
            "n_sections": n_sections.reindex(idx, fill_value=0).astype("int64"),
            "n_docs": n_docs.reindex(idx, fill_value=0).astype("int64"),
        }
    ).reset_index()
    out["docs_in_group"] = out["_g"].map(in_group).astype("int64")
    out["share"] = (out["n_docs"] / out["docs_in_group"]).round(6)
    if sections is not None:
        _require_columns(sections, ("doc_id", "section_id"), "sections")
        s = sections[sections["doc_id"].isin(set(docs["doc_id"]))][["doc_id", "section_id"]]
    else:
        s = a[[c for c in ("doc_id", "section_id") if c in a.columns]]
    s = (
        s.drop_duplicates().merge(docs, on="doc_id", how="left")
        if by != "doc_id"
        else (s.drop_duplicates().assign(**{by: lambda d: d["doc_id"]}))
    )
    s_key = _group_keys(s[by])
    per_group = s_key.value_counts(sort=False)
    out["sections_in_group"] = out["_g"].map(per_group).fillna(0).astype("int64")
    out["section_share"] = (
        (out["n_sections"] / out["sections_in_group"].where(out["sections_in_group"] > 0))
        .fillna(0.0)
        .round(6)
    )
    if "hits" in assignments.columns and documents is not None and "n_chars" in documents:
        chars = documents[documents["doc_id"].isin(set(docs["doc_id"]))]
        chars = chars.drop_duplicates("doc_id")
        chars_per_group = (
            pd.to_numeric(chars["n_chars"], errors="coerce")
            .fillna(0)
            .groupby(_group_keys(chars[by]).to_numpy())
            .sum()
        )
        total_hits = a.groupby(["_g", "theme"], sort=False)["hits"].sum()
        out["hits_per_10k"] = (
            total_hits.reindex(pd.MultiIndex.from_frame(out[["_g", "theme"]])).fillna(0).to_numpy()
            * 10000.0
            / out["_g"].map(chars_per_group).replace(0, np.nan).to_numpy()
        )
        out["hits_per_10k"] = out["hits_per_10k"].fillna(0.0).round(4)
    out = out.rename(columns={"_g": by})
    extra = ["hits_per_10k"] if "hits_per_10k" in out.columns else []
    return out[[by, *FREQUENCY_COLUMNS, *extra]].reset_index(drop=True)


def _group_keys(values: pd.Series) -> pd.Series:
    """Group labels: missing → ``(未知)``; whole floats (years read as float) → int."""

    def clean(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return "(未知)"
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return int(v)
        if isinstance(v, np.integer):
            return int(v)
        return v

    return values.astype(object).map(clean)


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float, np.integer, np.floating)) and not pd.isna(value):
        return (0, float(value))
    return (1, str(value))
