"""Recurring themes of a corpus: discovered (NMF or k-means) and named (a lexicon).

Discovered themes
    :class:`ThemeModel` follows scikit-learn: ``__init__`` stores arguments, ``fit`` returns
    ``self``, learned attributes end in ``_``. Sections are weighted with TF-IDF over
    :func:`corpus_tools.tokens.tokenize` and factorised with NMF (``init="nndsvda"``) or
    clustered with k-means (fixed ``n_init``). Results depend only on the rows given (they
    are sorted by ``doc_id, section_id`` first) and on ``random_state``: two fits give
    identical tables.

    Sections of the pipeline are nested (a parent's text spans its children): each row is
    fitted, assigned and scored on its *own* text, up to its first child (:func:`own_text`).

    Which rows are fitted: rows of duplicate documents are left out of fitting (they are
    still transformed and assigned). A document is a duplicate when ``documents_df`` (passed
    to :meth:`ThemeModel.fit`) has a non-null ``duplicate_of`` for it, or when the sections
    frame itself has a non-null ``duplicate_of`` column value or a true ``exclude`` column
    value on the row. Sections shorter than ``min_chars`` characters (headings, preambles)
    and sections without any content token are left out of fitting too.

    Number of themes: with ``n_themes=None`` every k in ``candidates`` (default 4..15,
    capped by the number of fitted sections) is fitted and scored by topic coherence, the
    mean NPMI (normalised pointwise mutual information) of all pairs among each theme's 10
    top terms, counted as co-occurrence within sections; the k with the highest mean
    coherence wins, the smaller k on ties. The scores are kept in ``coherence_``.

    Themes never come out empty: a component that no fitted section has as its dominant
    theme is dropped, and themes are numbered by size (``theme_id`` 0 is the largest).

Named themes
    :func:`score_lexicon` counts, in each section, the occurrences of each theme's seed terms
    (substring matches, longest term first, no overlaps) from a YAML lexicon
    (``resources/themes.yaml`` by default). The coding rule: a section has a named theme
    when it contains at least ``min_hits`` (default 2) occurrences of that theme's terms.
    ``score`` is the number of hits per 1,000 characters of the section.

Frequencies
    :func:`theme_frequency` counts, per group (``year``, ``doc_type``, ``place``, ...), how
    many documents and sections have each theme, and divides by the number of documents in
    the group, so that a year with ten reports does not look ten times more thematic.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, ResourceError, SchemaError
from .rules import load_yaml
from .schema import SECTION_THEME_COLUMNS, THEME_COLUMNS
from .tokens import tokenize

__all__ = [
    "FREQUENCY_COLUMNS",
    "NAMED_THEME_COLUMNS",
    "ThemeModel",
    "load_lexicon",
    "own_text",
    "run_themes",
    "score_lexicon",
    "theme_frequency",
]

log = logging.getLogger(__name__)

NAMED_THEME_COLUMNS: tuple[str, ...] = ("doc_id", "section_id", "theme", "score", "hits")
FREQUENCY_COLUMNS: tuple[str, ...] = (
    "theme",
    "n_sections",
    "n_docs",
    "docs_in_group",
    "share",
    "sections_in_group",
    "section_share",
)
_METHODS = ("nmf", "kmeans")
_COHERENCE_TOP = 10
_SELECT_MAX_ROWS = 6000


def _require_columns(df: Any, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(
            f"{what} lacks column(s) {missing}; it has {list(df.columns)}. "
            "Pass the sections table written by corpus_tools.pipeline (sections.parquet)."
        )


def _excluded_mask(sections: pd.DataFrame, documents: pd.DataFrame | None) -> np.ndarray:
    """True for rows left out of fitting because their document is a duplicate."""
    mask = np.zeros(len(sections), dtype=bool)
    if "duplicate_of" in sections.columns:
        mask |= sections["duplicate_of"].notna().to_numpy()
    if "exclude" in sections.columns:
        mask |= sections["exclude"].fillna(False).astype(bool).to_numpy()
    if documents is not None:
        _require_columns(documents, ("doc_id",), "documents_df")
        if "duplicate_of" in documents.columns:
            dup = documents.loc[documents["duplicate_of"].notna(), "doc_id"]
            mask |= sections["doc_id"].isin(set(dup)).to_numpy()
    return mask


def own_text(sections_df: pd.DataFrame) -> pd.Series:
    """Each section's own text: its text up to its first child section.

    Sections of the pipeline are nested (a parent's text spans its children); themes are
    fitted, assigned and scored on these non-overlapping pieces, so that no sentence is
    counted twice. Without ``parent_id``/``start`` columns the text is taken as it is.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"doc_id": ["d", "d"], "section_id": ["1", "1.1"],
    ...                    "parent_id": [None, "1"], "start": [0, 5], "end": [10, 10],
    ...                    "text": ["一、总体。1、甲乙", "1、甲乙"]})
    >>> own_text(df).tolist()
    ['一、总体。', '1、甲乙']
    """
    text = sections_df["text"].fillna("").astype(str)
    if (
        not {"doc_id", "section_id", "parent_id", "start"} <= set(sections_df.columns)
        or sections_df.empty
    ):
        return text
    kids = sections_df.loc[sections_df["parent_id"].notna(), ["doc_id", "parent_id", "start"]]
    if kids.empty:
        return text
    first = kids.groupby(["doc_id", "parent_id"], sort=False)["start"].min()
    key = pd.MultiIndex.from_arrays([sections_df["doc_id"], sections_df["section_id"]])
    child_start = pd.Series(first.reindex(key).to_numpy(), index=sections_df.index)
    cut = (child_start - pd.to_numeric(sections_df["start"], errors="coerce")).to_numpy()
    out = [t if c != c or c < 0 else t[: int(c)] for t, c in zip(text, cut, strict=True)]
    return pd.Series(out, index=sections_df.index, dtype=object)


def _simplified(texts: Iterable[str]) -> list[str]:
    """Texts in traditional or mixed script normalized (to simplified); others unchanged."""
    from .normalize import detect_script, normalize_text

    return [normalize_text(t) if t and detect_script(t) != "simplified" else t for t in texts]


def _chunks(texts: list[str], max_chars: int) -> list[str]:
    """Texts longer than *max_chars* cut into line-aligned pieces of about that size."""
    if max_chars <= 0:
        return texts
    out: list[str] = []
    for text in texts:
        if len(text) <= max_chars:
            out.append(text)
            continue
        piece: list[str] = []
        size = 0
        for line in text.splitlines(keepends=True):
            while len(line) > max_chars:
                out.append(line[:max_chars])
                line = line[max_chars:]
            if size + len(line) > max_chars and piece:
                out.append("".join(piece))
                piece, size = [], 0
            piece.append(line)
            size += len(line)
        if piece:
            out.append("".join(piece))
    return out


def _npmi(binary: Any, top: Sequence[Sequence[int]]) -> float:
    """Mean NPMI over all term pairs of every theme's top terms (document co-occurrence)."""
    n_docs = binary.shape[0]
    if n_docs == 0:
        return -1.0
    terms = sorted({t for row in top for t in row})
    if not terms:
        return -1.0
    pos = {t: i for i, t in enumerate(terms)}
    sub = binary[:, terms]
    co = (sub.T @ sub).toarray().astype(float)
    df = np.diag(co).copy()
    scores = []
    for row in top:
        idx = [pos[t] for t in row]
        pair_scores = []
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                i, j = idx[a], idx[b]
                joint = co[i, j] / n_docs
                if joint <= 0:
                    pair_scores.append(-1.0)
                    continue
                if joint >= 1:
                    pair_scores.append(1.0)
                    continue
                pmi = math.log(joint / ((df[i] / n_docs) * (df[j] / n_docs)))
                pair_scores.append(pmi / -math.log(joint))
        if pair_scores:
            scores.append(float(np.mean(pair_scores)))
    return float(np.mean(scores)) if scores else -1.0


class ThemeModel:
    """Discovered themes over sections, scikit-learn style.

    Parameters
    ----------
    n_themes : int or None
        Number of themes; ``None`` chooses one in *candidates* by topic coherence (NPMI).
    method : "nmf" or "kmeans"
    random_state : int
    candidates : the k tried when ``n_themes`` is None (default 4..15).
    n_top_terms : terms kept per theme in ``top_terms_``.
    label_terms : terms joined with ``·`` into a theme's label.
    min_chars : sections shorter than this are not used for fitting (still assigned).
    min_df, max_df : document-frequency bounds of the TF-IDF vocabulary (not applied below
        50 fitted samples, nor when they would leave fewer than two terms).
    max_features : vocabulary cap.
    simplify : sections in traditional or mixed script (``normalize.detect_script``) are
        passed through ``normalize.normalize_text`` first, so a corpus that did not go
        through the pipeline gets the same vocabulary as one that did.
    max_chars : for fitting only, a section longer than this is cut into pieces of about
        this size at line breaks (an unnumbered 30,000-character report would otherwise be
        one blurred sample); sections are still assigned and counted whole.
    relevance : λ of the term ranking behind ``top_terms_`` and ``labels_``: terms are
        ranked by ``λ·log φ + (1-λ)·log(φ/p)`` (φ the theme's term distribution, p the
        corpus-wide one); 1.0 ranks by weight, the default 0.6 prefers distinctive terms.

    Learned attributes: ``n_themes_``, ``labels_`` (list, by theme_id), ``top_terms_``
    (list of lists), ``sizes_``, ``coherence_`` ({k: mean NPMI}), ``vectorizer_``,
    ``n_fitted_`` (sections used for fitting).

    >>> import pandas as pd
    >>> rows = [("a", "1", "组织志愿服务队走访慰问困难群众，发放慰问金和米面油。"),
    ...         ("a", "2", "开展垃圾分类宣传，清理卫生死角，整治环境卫生和背街小巷。"),
    ...         ("b", "1", "志愿服务队走访慰问困难群众和空巢老人，送去慰问金。"),
    ...         ("b", "2", "清理卫生死角和背街小巷，推进垃圾分类，改善环境卫生。")]
    >>> df = pd.DataFrame(rows, columns=["doc_id", "section_id", "text"])
    >>> model = ThemeModel(n_themes=2, min_chars=0).fit(df)
    >>> sorted(model.labels_)
    ['卫生死角·垃圾分类·清理', '困难群众·志愿服务队·慰问金']
    >>> model.assign(df)["theme_id"].tolist() == model.assign(df)["theme_id"].tolist()
    True
    """

    def __init__(
        self,
        n_themes: int | None = None,
        method: str = "nmf",
        random_state: int = 0,
        *,
        candidates: Sequence[int] = tuple(range(4, 16)),
        n_top_terms: int = 10,
        label_terms: int = 3,
        min_chars: int = 20,
        min_df: int | float = 2,
        max_df: float = 0.5,
        max_features: int | None = 20000,
        relevance: float = 0.6,
        max_chars: int = 3000,
        simplify: bool = True,
    ) -> None:
        self.n_themes = n_themes
        self.method = method
        self.random_state = random_state
        self.candidates = candidates
        self.n_top_terms = n_top_terms
        self.label_terms = label_terms
        self.min_chars = min_chars
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.relevance = relevance
        self.max_chars = max_chars
        self.simplify = simplify

    # -- fitting ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.method not in _METHODS:
            raise InputError(f"method must be one of {_METHODS}, got {self.method!r}")
        if self.n_themes is not None and (
            not isinstance(self.n_themes, (int, np.integer)) or self.n_themes < 1
        ):
            raise InputError(f"n_themes must be a positive int or None, got {self.n_themes!r}")

    def _vectorize(self, texts: list[str]) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        n = len(texts)
        # Below 50 samples document-frequency bounds throw away most of the vocabulary.
        attempts = [(self.min_df, self.max_df)] if n >= 50 else []
        attempts.append((1, 1.0))
        last: Exception | None = None
        for min_df, max_df in attempts:
            vec = TfidfVectorizer(
                tokenizer=tokenize,
                lowercase=False,
                token_pattern=None,
                min_df=min_df,
                max_df=max_df,
                max_features=self.max_features,
                sublinear_tf=True,
                dtype=np.float64,
            )
            try:
                X = vec.fit_transform(texts)
            except ValueError as exc:  # empty vocabulary
                last = exc
                continue
            if X.shape[1] >= 2:
                return vec, X
        raise InputError(
            f"no content tokens to fit themes on: the {n} section(s) used for fitting contain "
            "fewer than two distinct content words after stopwords, numbers and "
            "placeholders are dropped (is the text empty, or not Chinese?)"
        ) from last

    def _factorize(self, X: Any, k: int) -> tuple[Any, np.ndarray, np.ndarray]:
        """Fit one model with k themes; return (estimator, components, row weights)."""
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # sklearn's NMF loss takes sqrt of a rounding-error negative on exact fits
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
            if self.method == "nmf":
                from sklearn.decomposition import NMF

                est = NMF(
                    n_components=k, init="nndsvda", random_state=self.random_state, max_iter=400
                )
                W = est.fit_transform(X)
                H = est.components_
            else:
                from sklearn.cluster import KMeans

                est = KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
                est.fit(X)
                H = np.clip(est.cluster_centers_, 0, None)
                W = self._kmeans_weights(X, H)
        return est, H, W

    @staticmethod
    def _kmeans_weights(X: Any, centers: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(centers, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.clip(np.asarray(X @ (centers / norms).T), 0, None)

    @staticmethod
    def _top(H: np.ndarray, n: int) -> list[list[int]]:
        # Stable sort on (-weight, column) so ties break the same way every time.
        return [list(np.lexsort((np.arange(row.size), -row))[:n]) for row in H]

    def _relevance(self, H: np.ndarray) -> np.ndarray:
        """Term relevance per theme (Sievert & Shirley 2014): ``λ·log φ + (1-λ)·log(φ/p)``,
        φ the theme's term distribution, p the corpus-wide one. λ = ``relevance``; 1.0
        ranks by weight alone, lower values favour terms distinctive of the theme."""
        lam = float(self.relevance)
        totals = H.sum(axis=1, keepdims=True)
        totals[totals == 0] = 1.0
        phi = H / totals
        p = H.sum(axis=0) / max(H.sum(), 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = lam * np.log(phi) + (1 - lam) * np.log(phi / p)
        rel[~np.isfinite(rel)] = -np.inf
        rel[H <= 0] = -np.inf
        return rel

    def _choose_k(self, X: Any, binary: Any) -> tuple[int, dict[int, float]]:
        n, m = X.shape
        ks = sorted({int(k) for k in self.candidates if 2 <= k <= min(n - 1, m)})
        if not ks:
            return max(1, min(n, m, 2)), {}
        if n > _SELECT_MAX_ROWS:  # score k on a fixed sample; the final fit uses all rows
            rng = np.random.RandomState(self.random_state)
            rows = np.sort(rng.choice(n, _SELECT_MAX_ROWS, replace=False))
            X, binary = X[rows], binary[rows]
        scores: dict[int, float] = {}
        for k in ks:
            _, H, _ = self._factorize(X, k)
            keep = [row for row in H if row.max() > 0]
            scores[k] = round(_npmi(binary, self._top(np.array(keep), _COHERENCE_TOP)), 6)
            log.debug("themes: k=%d mean NPMI %.4f", k, scores[k])
        best = max(ks, key=lambda k: (scores[k], -k))
        return best, scores

    def fit(
        self, sections_df: pd.DataFrame, documents_df: pd.DataFrame | None = None
    ) -> ThemeModel:
        """Fit themes on the sections (see the module doc for which rows are used)."""
        self._check_params()
        _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
        df = self._ordered(sections_df)
        excluded = _excluded_mask(df, documents_df)
        texts = own_text(df)
        if self.simplify:
            texts = pd.Series(_simplified(texts), index=texts.index, dtype=object)
        use = ~excluded & (texts.str.len() >= self.min_chars).to_numpy()
        fit_texts = texts[use].tolist()
        if not fit_texts:
            raise InputError(
                f"no sections to fit themes on: {len(df)} row(s), {int(excluded.sum())} of "
                f"duplicate documents, none of the rest has {self.min_chars}+ characters"
            )
        vec, X = self._vectorize(_chunks(fit_texts, self.max_chars))
        X = X[np.asarray(X.getnnz(axis=1) > 0)]
        binary = (X > 0).astype(np.int32).tocsc()
        self.coherence_: dict[int, float] = {}
        if self.n_themes is None:
            k, self.coherence_ = self._choose_k(X, binary)
        else:
            k = int(min(self.n_themes, X.shape[0], X.shape[1]))
        est, H, _ = self._factorize(X, k)
        # Sizes and the themes kept come from the sections themselves (not their chunks),
        # exactly as assign() will see them, so that no kept theme is empty.
        X_sec = vec.transform(fit_texts)
        W = self._weights(est, H, X_sec)
        has = np.asarray(X_sec.getnnz(axis=1) > 0)
        dominant = np.where(W.max(axis=1) > 0, W.argmax(axis=1), -1)[has]
        sizes = np.bincount(dominant[dominant >= 0], minlength=k)
        live = [i for i in range(k) if sizes[i] > 0 and H[i].max() > 0]
        if not live:  # every weight zero: one graceful theme from the mean profile
            H = np.asarray(X.mean(axis=0))
            live, sizes = [0], np.array([int(has.sum())])
            est = None
        terms = vec.get_feature_names_out()
        rel = self._relevance(H[live])
        tops = [
            [t for t in row if np.isfinite(r[t])]
            for row, r in zip(self._top(rel, self.n_top_terms), rel, strict=True)
        ]
        order = sorted(
            range(len(live)), key=lambda i: (-sizes[live[i]], [terms[t] for t in tops[i]])
        )
        self.vectorizer_ = vec
        self._estimator = est
        self._components = H
        self._columns = [live[i] for i in order]
        self.n_themes_ = len(self._columns)
        self.top_terms_ = [[str(terms[t]) for t in tops[i]] for i in order]
        self.sizes_ = [int(sizes[live[i]]) for i in order]
        self.labels_ = self._labels(self.top_terms_)
        self.n_fitted_ = int(has.sum())
        return self

    def _weights(self, est: Any, H: np.ndarray, X: Any) -> np.ndarray:
        if self.method == "kmeans":
            return self._kmeans_weights(X, H)
        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # sklearn's NMF loss takes sqrt of a rounding-error negative on exact fits
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
            return np.asarray(est.transform(X))

    def _labels(self, top_terms: list[list[str]]) -> list[str]:
        labels: list[str] = []
        for terms in top_terms:
            n = self.label_terms
            label = "·".join(terms[:n]) or "(无内容)"
            while label in labels and n < len(terms):
                n += 1
                label = "·".join(terms[:n])
            if label in labels:
                label = f"{label}#{len(labels)}"
            labels.append(label)
        return labels

    @staticmethod
    def _ordered(df: pd.DataFrame) -> pd.DataFrame:
        key = df[["doc_id", "section_id"]].astype(str)
        order = np.lexsort(
            (np.arange(len(df)), key["section_id"].to_numpy(), key["doc_id"].to_numpy())
        )
        return df.iloc[order].reset_index(drop=True)

    # -- using a fitted model --------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            raise InputError("this ThemeModel is not fitted yet: call .fit(sections_df) first")

    def transform(self, sections_df: pd.DataFrame) -> np.ndarray:
        """Theme weights of each row, shape ``(len(sections_df), n_themes_)``, rows sum to 1
        (or are all 0 for a section without content words); columns are theme_ids."""
        self._check_fitted()
        _require_columns(sections_df, ("text",), "sections_df")
        texts = own_text(sections_df).tolist()
        X = self.vectorizer_.transform(_simplified(texts) if self.simplify else texts)
        if self._estimator is None:
            W = np.asarray(X.sum(axis=1)).reshape(-1, 1)
        else:
            W = self._weights(self._estimator, self._components, X)
        W = np.asarray(W)[:, self._columns] if self._estimator is not None else W
        total = W.sum(axis=1, keepdims=True)
        return np.divide(W, total, out=np.zeros_like(W, dtype=float), where=total > 0)

    def assign(
        self, sections_df: pd.DataFrame, *, top: int = 1, min_weight: float = 0.0
    ) -> pd.DataFrame:
        """``doc_id, section_id, theme_id, weight``: each section's *top* themes by weight.

        Sections without any content word get no row; themes below *min_weight* are left
        out. Rows keep the input order, then decreasing weight.
        """
        _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
        W = self.transform(sections_df)
        top = max(1, min(int(top), W.shape[1]))
        order = np.argsort(-W, axis=1, kind="stable")[:, :top]
        rows = np.repeat(np.arange(len(W)), top)
        theme = order.reshape(-1)
        weight = W[rows, theme]
        keep = (weight > 0) & (weight >= min_weight)
        out = pd.DataFrame(
            {
                "doc_id": sections_df["doc_id"].to_numpy()[rows[keep]],
                "section_id": sections_df["section_id"].to_numpy()[rows[keep]],
                "theme_id": theme[keep].astype("int64"),
                "weight": weight[keep].round(6),
            }
        )
        return out[list(SECTION_THEME_COLUMNS)].reset_index(drop=True)

    def themes_table(self) -> pd.DataFrame:
        """``theme_id, label, top_terms, size`` (top terms joined with ``、``)."""
        self._check_fitted()
        return pd.DataFrame(
            {
                "theme_id": np.arange(self.n_themes_, dtype="int64"),
                "label": self.labels_,
                "top_terms": ["、".join(t) for t in self.top_terms_],
                "size": np.asarray(self.sizes_, dtype="int64"),
            }
        )[list(THEME_COLUMNS)]


# -- named themes (lexicon) ------------------------------------------------------------------


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


# -- frequencies ---------------------------------------------------------------------------


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


# -- corpus step -----------------------------------------------------------------------------


def _read_table(path: Path, columns: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame:
    import pyarrow.dataset as ds

    if not path.exists():
        raise SchemaError(f"{path} not found: run `corpus-tools run` first to write the tables")
    names = set(ds.dataset(path, format="parquet").schema.names)
    missing = [c for c in columns if c not in names]
    if missing:
        raise SchemaError(f"{path} lacks column(s) {missing}")
    wanted = [*columns, *(c for c in optional if c in names)]
    return pd.read_parquet(path, columns=wanted)


def _table_path(out_dir: Path, name: str) -> Path:
    for candidate in (out_dir / f"{name}.parquet", out_dir / name):
        if candidate.exists():
            return candidate
    return out_dir / f"{name}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def run_themes(
    out_dir: str | Path,
    *,
    n_themes: int | None = None,
    method: str = "nmf",
    lexicon: str | Path | Mapping[str, Any] | None = None,
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Fit themes on the tables in *out_dir* and write the theme tables there.

    Reads ``documents.parquet`` and ``sections.parquet`` (single files or dataset folders),
    fits a :class:`ThemeModel` on sections of non-duplicate documents, assigns every section
    its dominant theme, scores the lexicon, and writes (atomically) ``themes.parquet``,
    ``section_themes.parquet`` and ``named_themes.parquet``. Returns the three frames by
    name (``themes``, ``section_themes``, ``named_themes``). A corpus with no content words
    gives empty discovered-theme tables (logged), not an error.
    """
    out = Path(out_dir)
    documents = _read_table(
        _table_path(out, "documents"), ("doc_id",), ("duplicate_of", "year", "doc_type")
    )
    sections = _read_table(
        _table_path(out, "sections"), ("doc_id", "section_id", "text"), ("parent_id", "start")
    )
    model = ThemeModel(n_themes=n_themes, method=method, random_state=random_state)
    model._check_params()  # bad settings raise; only an empty corpus is tolerated below
    lex = load_lexicon(lexicon)  # a broken lexicon fails before the long fit
    try:
        model.fit(sections, documents)
        themes = model.themes_table()
        assigned = model.assign(sections)
        log.info(
            "themes: %d themes on %d sections: %s",
            model.n_themes_,
            model.n_fitted_,
            "; ".join(model.labels_),
        )
    except InputError as exc:
        log.warning("themes: %s; writing empty theme tables", exc)
        themes = pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(THEME_COLUMNS, ("int64", "object", "object", "int64"), strict=True)
            }
        )
        assigned = pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(
                    SECTION_THEME_COLUMNS, ("object", "object", "int64", "float64"), strict=True
                )
            }
        )
    if getattr(model, "coherence_", None):
        log.info("themes: mean NPMI by number of themes: %s", model.coherence_)
    named = score_lexicon(sections, lex)
    frames = {"themes": themes, "section_themes": assigned, "named_themes": named}
    for name, df in frames.items():
        _write_atomic(df, out / f"{name}.parquet")
    return frames
