"""Discovered themes: :class:`ThemeModel` (TF-IDF + NMF or k-means, topic-quality choice of k).

Choice of the number of themes (``n_themes=None``): every k in ``candidates`` is fitted and
scored by its *topic quality* (Dieng, Ruiz & Blei 2020, "Topic modeling in embedding
spaces"): ``TQ(k) = coherence(k) * diversity(k)``, where coherence is the mean NPMI of the
top-10 term pairs of each theme (co-occurrence counted in the fitted text pieces) and
diversity is the share of unique terms among all themes' top-25 terms (1.0 when no theme
repeats another's terms; redundant or over-broad themes lower it). The chosen k is the
*largest* k whose TQ is at least ``(1 - tolerance)`` * the best TQ: on a heterogeneous
corpus coherence is highest for a few source-sized themes (one per source, one for the
reports' closing formula), while finer themes cost little coherence; taking the most
themes within the tolerance keeps those finer themes instead of collapsing to the minimum.
Scores are kept in ``coherence_``, ``diversity_`` and ``quality_``.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import InputError
from ..schema import SECTION_THEME_COLUMNS, THEME_COLUMNS
from ..tokens import tokenize
from .units import _chunks, _require_columns, _simplified, own_text

log = logging.getLogger(__name__)

_METHODS = ("nmf", "kmeans")
_COHERENCE_TOP = 10
_DIVERSITY_TOP = 25
_SELECT_MAX_ROWS = 6000


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


def _diversity(top: Sequence[Sequence[int]]) -> float:
    """Share of unique terms among all themes' top terms (Dieng et al. 2020).

    >>> _diversity([[1, 2, 3], [4, 5, 6]]), _diversity([[1, 2], [1, 2]])
    (1.0, 0.5)
    """
    total = sum(len(row) for row in top)
    return len({t for row in top for t in row}) / total if total else 0.0


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
        Number of themes; ``None`` chooses one in *candidates*: the largest k whose topic
        quality (mean NPMI coherence * topic diversity) is within *tolerance* of the best
        (see the module doc).
    method : "nmf" or "kmeans"
    random_state : int
    candidates : the k tried when ``n_themes`` is None (default 4..15).
    tolerance : relative loss of topic quality accepted for more themes (default 0.25:
        the chosen k keeps at least 75 % of the best topic quality); 0 picks the best k.
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
        one blurred sample); sections are still assigned and counted whole. The default 800
        gives paragraph-sized samples, in which 农业, 就业 or 教育 stand out as themes.
    balance : for fitting only, each piece's squared error is weighted ``n ** -balance``
        when its document was cut into n pieces; 0 (default) weighs all pieces alike, 1
        gives every document the same total weight (many short summaries then count as
        much as a few long reports).
    relevance : λ of the term ranking behind ``top_terms_`` and ``labels_``: terms are
        ranked by ``λ·log φ + (1-λ)·log(φ/p)`` (φ the theme's term distribution, p the
        corpus-wide one); 1.0 ranks by weight, the default 0.6 prefers distinctive terms.

    Learned attributes: ``n_themes_``, ``labels_`` (list, by theme_id), ``top_terms_``
    (list of lists), ``sizes_``, ``coherence_`` ({k: mean NPMI}), ``diversity_``
    ({k: topic diversity}), ``quality_`` ({k: coherence * diversity}), ``vectorizer_``,
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
        max_chars: int = 800,
        simplify: bool = True,
        tolerance: float = 0.25,
        balance: float = 0.0,
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
        self.tolerance = tolerance
        self.balance = balance

    # -- fitting ---------------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.method not in _METHODS:
            raise InputError(f"method must be one of {_METHODS}, got {self.method!r}")
        if self.n_themes is not None and (
            not isinstance(self.n_themes, (int, np.integer)) or self.n_themes < 1
        ):
            raise InputError(f"n_themes must be a positive int or None, got {self.n_themes!r}")
        if not 0 <= float(self.tolerance) < 1:
            raise InputError(f"tolerance must be in [0, 1), got {self.tolerance!r}")
        if not 0 <= float(self.balance) <= 1:
            raise InputError(f"balance must be in [0, 1], got {self.balance!r}")

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

    def _choose_k(self, X: Any, binary: Any) -> int:
        n, m = X.shape
        ks = sorted({int(k) for k in self.candidates if 2 <= k <= min(n - 1, m)})
        if not ks:
            return max(1, min(n, m, 2))
        if n > _SELECT_MAX_ROWS:  # score k on a fixed sample; the final fit uses all rows
            rng = np.random.RandomState(self.random_state)
            rows = np.sort(rng.choice(n, _SELECT_MAX_ROWS, replace=False))
            X, binary = X[rows], binary[rows]
        for k in ks:
            _, H, _ = self._factorize(X, k)
            keep = np.array([row for row in H if row.max() > 0])
            npmi = _npmi(binary, self._top(keep, _COHERENCE_TOP))
            div = _diversity(self._top(keep, _DIVERSITY_TOP))
            self.coherence_[k] = round(npmi, 6)
            self.diversity_[k] = round(div, 6)
            self.quality_[k] = round(npmi * div, 6)
            log.debug("themes: k=%d NPMI %.4f diversity %.4f", k, npmi, div)
        best = max(self.quality_.values())
        floor = best - abs(best) * float(self.tolerance)
        return max(k for k in ks if self.quality_[k] >= floor)

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
        pieces, owner = [], []
        for doc, text in zip(df["doc_id"].to_numpy()[use], fit_texts, strict=True):
            chunks = _chunks([text], self.max_chars)
            pieces.extend(chunks)
            owner.extend([doc] * len(chunks))
        vec, X = self._vectorize(pieces)
        nonempty = np.asarray(X.getnnz(axis=1) > 0)
        X = X[nonempty]
        if self.balance:
            # Each row's squared error counts n**-balance for a document cut into n pieces,
            # so one long report does not outweigh many short summaries.
            codes, counts = np.unique(
                np.asarray(owner, dtype=object)[nonempty].astype(str),
                return_inverse=True,
                return_counts=True,
            )[1:]
            scale = counts[codes].astype(float) ** (-float(self.balance) / 2)
            X = sparse.diags(scale) @ X
        binary = (X > 0).astype(np.int32).tocsc()
        self.coherence_: dict[int, float] = {}
        self.diversity_: dict[int, float] = {}
        self.quality_: dict[int, float] = {}
        if self.n_themes is None:
            k = self._choose_k(X, binary)
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
