"""Discovered themes: :class:`ThemeModel` (TF-IDF + NMF or k-means, k chosen by stability).

The fit works on a sample (:class:`~corpus_tools.themes.fit.Reservoir`, ``sample_size``
sections, seeded) so that memory does not grow with the corpus; every section is then
assigned in batches (:meth:`ThemeModel.assign`). The two halves are plain calls that a
scheduler can run as tasks: :func:`fitting_units` on each batch of sections, a
:class:`Reservoir` over them, :meth:`ThemeModel.fit_sample` on the sample, and
:func:`assign_batch` on each batch.

Each sampled section is tokenized once: its pieces' term counts are summed back into the
section's counts for sizes and labels.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import InputError
from ..schema import SECTION_THEME_COLUMNS, THEME_COLUMNS
from ..tokens import tokenize
from . import fit as _fit
from .units import _chunks, _require_columns, _simplified, own_text
from .vocab import demoted, name_terms, split_formula_lines, stopterms

log = logging.getLogger(__name__)

_METHODS = ("nmf", "kmeans")
#: Themes whose stability is below this are reported as unstable (logged, and visible in
#: the ``stability`` column of ``themes.parquet``).
UNSTABLE_BELOW = 0.5
UNIT_COLUMNS: tuple[str, ...] = ("doc_id", "section_id", "text", "formula")
#: Columns of ``ThemeModel.selection_`` (and of ``theme_selection.parquet``).
SELECTION_COLUMNS: tuple[str, ...] = (
    "k", "stability", "coherence", "diversity", "quality", "chosen"
)


def _identity(tokens: list[str]) -> list[str]:
    return tokens


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


def fitting_units(
    sections_df: pd.DataFrame, documents_df: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``doc_id, section_id, text, formula``: the sections a fit may sample from.

    Rows of duplicate documents are left out; ``text`` is the section's own text
    (:func:`own_text`) without the document's header and closing lines, which are in
    ``formula`` (:func:`~corpus_tools.themes.vocab.split_formula_lines`: applied to the
    first and last section of each document, known from ``start``). Pass whole documents.
    """
    _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
    keep = ~_excluded_mask(sections_df, documents_df)
    texts = own_text(sections_df)
    df = sections_df.loc[keep]
    texts = texts[keep]
    head = tail = np.zeros(len(df), dtype=bool)
    if "start" in df.columns and len(df):
        start = pd.to_numeric(df["start"], errors="coerce").fillna(0)
        g = start.groupby(df["doc_id"].to_numpy())
        head = (start.to_numpy() == g.transform("min").to_numpy())
        tail = (start.to_numpy() == g.transform("max").to_numpy())
    kept, formula = [], []
    for text, h, t in zip(texts, head, tail, strict=True):
        a, b = split_formula_lines(text, head=bool(h), tail=bool(t))
        kept.append(a)
        formula.append(b)
    return pd.DataFrame(
        {
            "doc_id": df["doc_id"].astype(str).to_numpy(),
            "section_id": df["section_id"].astype(str).to_numpy(),
            "text": kept,
            "formula": formula,
        },
        columns=list(UNIT_COLUMNS),
    )


class ThemeModel:
    """Discovered themes over sections, scikit-learn style.

    Parameters
    ----------
    n_themes : int or None
        Number of themes; ``None`` chooses one in *candidates* by stability (the largest k
        whose stability is within *tolerance* of the best; see
        :mod:`corpus_tools.themes.fit`).
    method : "nmf" or "kmeans"
    random_state : int (sampling, resampling, factorization)
    candidates : the k tried when ``n_themes`` is None (default 4..15).
    tolerance : relative stability slack for a larger k (default 0: the most stable k).
    sample_size : sections fitted at most (a seeded reservoir sample of the others).
    n_resamples, select_rows : random subsets (80 % each of at most *select_rows* fitted
        pieces) fitted at every candidate k, for the stability of k and of each theme.
    n_top_terms : terms kept per theme in ``top_terms_``.
    label_terms : terms joined with ``·`` into a theme's label (2–4).
    min_chars : sections shorter than this are not used for fitting (still assigned).
    min_df, max_df : document-frequency bounds of the TF-IDF vocabulary (not applied below
        50 fitted pieces, nor when they would leave fewer than two terms).
    max_features : vocabulary cap.
    simplify : sections in traditional or mixed script are normalized first.
    max_chars : for fitting, sections longer than this are cut into pieces of about this
        size at line breaks; sections are still assigned and counted whole.
    balance : each piece's squared error is weighted ``n ** -balance`` when its document
        was cut into n pieces (0 weighs all pieces alike, 1 every document alike).
    relevance : λ of the ranking behind ``top_terms_``: ``λ·log φ + (1-λ)·log(φ/p)``.

    Learned attributes: ``n_themes_``, ``labels_``, ``top_terms_``, ``sizes_``,
    ``stability_`` (per theme, matched top-term overlap with the resample fits),
    ``agreement_`` (mean stability), ``selection_`` (DataFrame ``k, stability,
    coherence, diversity, chosen``), ``coherence_``/``diversity_``/``quality_`` ({k:
    score}), ``excluded_terms_`` (names, formulas, portal words kept out),
    ``vectorizer_``, ``n_fitted_``, ``n_sampled_``.

    >>> import pandas as pd
    >>> rows = [("a", "1", "组织志愿服务队走访慰问困难群众，发放慰问金和米面油。"),
    ...         ("a", "2", "开展垃圾分类宣传，清理卫生死角，整治环境卫生和背街小巷。"),
    ...         ("b", "1", "志愿服务队走访慰问困难群众和空巢老人，送去慰问金。"),
    ...         ("b", "2", "清理卫生死角和背街小巷，推进垃圾分类，改善环境卫生。")]
    >>> df = pd.DataFrame(rows, columns=["doc_id", "section_id", "text"])
    >>> model = ThemeModel(n_themes=2, min_chars=0).fit(df)
    >>> sorted(model.labels_)
    ['卫生死角·垃圾分类·环境卫生', '困难群众·志愿服务队·慰问金']
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
        tolerance: float = 0.0,
        balance: float = 0.0,
        sample_size: int = 20000,
        n_resamples: int = 4,
        select_rows: int = 1500,
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
        self.sample_size = sample_size
        self.n_resamples = n_resamples
        self.select_rows = select_rows

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
        if int(self.sample_size) < 1:
            raise InputError(f"sample_size must be >= 1, got {self.sample_size!r}")
        if not 2 <= int(self.label_terms) <= 4:
            raise InputError(f"label_terms must be 2, 3 or 4, got {self.label_terms!r}")

    def fit(self, sections_df: pd.DataFrame, documents_df: pd.DataFrame | None = None) -> Any:
        """Fit on a sample of the sections of non-duplicate documents; return ``self``."""
        self._check_params()
        _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
        units = fitting_units(sections_df, documents_df)
        reservoir = _fit.Reservoir(self.sample_size, self.random_state)
        for row in units.itertuples(index=False):
            reservoir.add((row.doc_id, row.section_id), tuple(row))
        return self.fit_sample(
            pd.DataFrame(reservoir.items(), columns=list(UNIT_COLUMNS)),
            n_rows=len(sections_df),
            n_excluded=len(sections_df) - len(units),
        )

    def fit_sample(self, units: pd.DataFrame, *, n_rows: int | None = None,
                   n_excluded: int = 0, map_fn: Callable[..., Iterable[Any]] | None = None
                   ) -> Any:
        """Fit on sampled :func:`fitting_units` rows (all of them); return ``self``.

        *map_fn* (like the builtin ``map``, the default) runs the resample fits of the
        choice of k, e.g. on a process pool; the results do not depend on it."""
        self._check_params()
        _require_columns(units, ("doc_id", "section_id", "text"), "units")
        units = units.sort_values(["doc_id", "section_id"], kind="stable").reset_index(drop=True)
        texts = units["text"].fillna("").astype(str).tolist()
        formula = (
            units["formula"].fillna("").astype(str).tolist()
            if "formula" in units.columns
            else [""] * len(texts)
        )
        if self.simplify:
            texts, formula = _simplified(texts), _simplified(formula)
        use = [i for i, t in enumerate(texts) if len(t) >= self.min_chars]
        if not use:
            raise InputError(
                f"no sections to fit themes on: {n_rows if n_rows is not None else len(units)}"
                f" row(s), {n_excluded} of duplicate documents, none of the rest has "
                f"{self.min_chars}+ characters"
            )
        pieces: list[list[str]] = []
        owner: list[int] = []
        for j, i in enumerate(use):
            for chunk in _chunks([texts[i]], self.max_chars):
                pieces.append(tokenize(chunk))
                owner.append(j)
        self.excluded_terms_ = sorted(self._excluded_terms(pieces, [texts[i] for i in use],
                                                           formula))
        if self.excluded_terms_:
            drop = set(self.excluded_terms_)
            pieces = [[t for t in p if t not in drop] for p in pieces]
        counter, tfidf, C = self._vectorize(pieces)
        own = np.asarray(owner)
        nonempty = np.asarray(C.getnnz(axis=1) > 0)
        X = tfidf.transform(C[nonempty])
        if self.balance:
            # Each row's squared error counts n**-balance for a document cut into n pieces,
            # so one long report does not outweigh many short summaries.
            docs = units["doc_id"].to_numpy()[np.asarray(use)][own[nonempty]].astype(str)
            codes, counts = np.unique(docs, return_inverse=True, return_counts=True)[1:]
            X = sparse.diags(counts[codes].astype(float) ** (-float(self.balance) / 2)) @ X
        X = sparse.csr_matrix(X)
        binary = (X > 0).astype(np.int32).tocsc()
        k, tops = self._select(X, binary, map_fn)
        est, H = _fit.factorize(X, k, method=self.method, random_state=self.random_state)
        # Sections' counts are the sums of their pieces' counts: no second tokenization.
        agg = sparse.csr_matrix(
            (np.ones(len(owner)), (own, np.arange(len(owner)))), shape=(len(use), len(owner))
        )
        C_sec = sparse.csr_matrix(agg @ C)
        X_sec = tfidf.transform(C_sec)
        W = self._weights(est, H, X_sec)
        has = np.asarray(C_sec.getnnz(axis=1) > 0)
        dominant = np.where(W.max(axis=1) > 0, W.argmax(axis=1), -1)
        dominant[~has] = -1
        sizes = np.bincount(dominant[dominant >= 0], minlength=k)
        live = [i for i in range(k) if sizes[i] > 0 and H[i].max() > 0]
        if not live:  # every weight zero: one graceful theme from the mean profile
            H = np.asarray(X.mean(axis=0))
            live, sizes, est = [0], np.array([int(has.sum())]), None
            dominant = np.where(has, 0, -1)
        terms = counter.get_feature_names_out()
        rel = self._relevance(H[live])
        tops_rel = [
            [t for t in row if np.isfinite(r[t])]
            for row, r in zip(_fit.top_indices(rel, self.n_top_terms), rel, strict=True)
        ]
        order = sorted(
            range(len(live)), key=lambda i: (-sizes[live[i]], [terms[t] for t in tops_rel[i]])
        )
        stab = self._theme_stability(H[live], tops.get(k, []))
        self.vectorizer_ = counter
        self._tfidf = tfidf
        self._estimator = est
        self._components = H
        self._columns = [live[i] for i in order]
        self.n_themes_ = len(self._columns)
        self.top_terms_ = [[str(terms[t]) for t in tops_rel[i]] for i in order]
        self.sizes_ = [int(sizes[live[i]]) for i in order]
        self.stability_ = [round(float(stab[i]), 4) for i in order]
        self.agreement_ = round(float(np.mean(self.stability_)), 4) if self.stability_ else 0.0
        self.labels_ = self._labels(self.top_terms_)
        self.n_fitted_ = int(has.sum())
        self.n_sampled_ = len(units)
        unstable = [
            f"{lab} ({s:.2f})"
            for lab, s in zip(self.labels_, self.stability_, strict=True)
            if s < UNSTABLE_BELOW
        ]
        if unstable and tops.get(k):
            log.warning(
                "themes: %d of %d themes are unstable across resamples (matched top-term "
                "overlap < %.1f): %s", len(unstable), self.n_themes_, UNSTABLE_BELOW,
                "; ".join(unstable),
            )
        return self

    def _excluded_terms(
        self, pieces: list[list[str]], texts: list[str], formula: list[str]
    ) -> set[str]:
        """Listed stop terms, terms mostly seen in formula lines, names next to titles."""
        counts: Counter[str] = Counter()
        for p in pieces:
            counts.update(p)
        out = {t for t in counts if t in stopterms()}
        in_formula: Counter[str] = Counter()
        for text in formula:
            if text:
                in_formula.update(tokenize(text))
        out |= {
            t for t, n in in_formula.items() if n >= 2 and n >= counts.get(t, 0)
        }  # n formula occurrences vs n in the fitted text: half or more in formula lines
        out |= name_terms([*texts, *formula], counts + in_formula)
        return out

    def _vectorize(self, pieces: list[list[str]]) -> tuple[Any, Any, Any]:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        n = len(pieces)
        # Below 50 pieces document-frequency bounds throw away most of the vocabulary.
        attempts = [(self.min_df, self.max_df)] if n >= 50 else []
        attempts.append((1, 1.0))
        last: Exception | None = None
        for min_df, max_df in attempts:
            vec = CountVectorizer(
                analyzer=_identity,
                min_df=min_df,
                max_df=max_df,
                max_features=self.max_features,
                dtype=np.float64,
            )
            try:
                C = vec.fit_transform(pieces)
            except ValueError as exc:  # empty vocabulary
                last = exc
                continue
            if C.shape[1] >= 2:
                tfidf = TfidfTransformer(sublinear_tf=True).fit(C)
                return vec, tfidf, sparse.csr_matrix(C)
        raise InputError(
            f"no content tokens to fit themes on: the {n} piece(s) used for fitting contain "
            "fewer than two distinct content words after stopwords, numbers and "
            "placeholders are dropped (is the text empty, or not Chinese?)"
        ) from last

    def _select(self, X: Any, binary: Any, map_fn: Callable[..., Iterable[Any]] | None = None
                ) -> tuple[int, dict[int, list[list[list[int]]]]]:
        """The number of themes, and the resample fits' top terms by k."""
        n, m = X.shape
        self.coherence_: dict[int, float] = {}
        self.diversity_: dict[int, float] = {}
        self.quality_: dict[int, float] = {}
        self.stability_k_: dict[int, float] = {}
        if self.n_themes is not None:
            ks = [int(min(self.n_themes, n, m))]
        else:
            ks = sorted({int(k) for k in self.candidates if 2 <= k <= min(n - 1, m)})
        self.selection_ = pd.DataFrame(columns=list(SELECTION_COLUMNS))
        if not ks:
            return max(1, min(n, m, 2)), {}
        if n < 6 or self.n_resamples < 2:
            return ks[-1] if self.n_themes is not None else ks[0], {}
        scores, tops = _fit.stability_curve(
            X, binary, ks, method=self.method, random_state=self.random_state,
            n_resamples=int(self.n_resamples), select_rows=int(self.select_rows),
            map_fn=map_fn,
        )
        if not scores:
            return ks[0] if self.n_themes is None else ks[-1], {}
        for k, s in scores.items():
            self.stability_k_[k] = s["stability"]
            self.coherence_[k] = s["coherence"]
            self.diversity_[k] = s["diversity"]
            self.quality_[k] = round(s["coherence"] * s["diversity"], 6)
        score = self.stability_k_
        if self.n_themes is not None:
            chosen = ks[-1]
        else:
            best = max(score.values())
            floor = best - abs(best) * float(self.tolerance)
            chosen = max(k for k, v in score.items() if v >= floor)
            scored = sorted(scores)
            if len(scored) > 2 and chosen in (scored[0], scored[-1]):
                log.warning(
                    "themes: the best number of themes, %d, is at the edge of the "
                    "candidates %d..%d: widen them (ThemeModel(candidates=...)) to check",
                    chosen, scored[0], scored[-1],
                )
        self.selection_ = pd.DataFrame(
            [
                {"k": k, "stability": s["stability"], "coherence": s["coherence"],
                 "diversity": s["diversity"], "quality": self.quality_[k],
                 "chosen": k == chosen}
                for k, s in sorted(scores.items())
            ],
            columns=list(SELECTION_COLUMNS),
        )
        return chosen, tops

    @staticmethod
    def _theme_stability(H: np.ndarray, resample_tops: list[list[list[int]]]) -> np.ndarray:
        """Each theme's mean matched top-term overlap with the resample fits (NaN-free)."""
        if not resample_tops:
            return np.full(len(H), np.nan)
        mine = _fit.top_indices(_fit.relevance(H), _fit.MATCH_TOP)
        per = [_fit.matched_overlap(mine, other)[1] for other in resample_tops]
        return np.mean(per, axis=0)

    def _weights(self, est: Any, H: np.ndarray, X: Any) -> np.ndarray:
        if self.method == "kmeans" or est is None:
            return self._kmeans_weights(X, H)
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # sklearn's NMF loss takes sqrt of a rounding-error negative on exact fits
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
            return np.asarray(est.transform(X))

    @staticmethod
    def _kmeans_weights(X: Any, centers: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(centers, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.clip(np.asarray(X @ (centers / norms).T), 0, None)

    def _relevance(self, H: np.ndarray) -> np.ndarray:
        return _fit.relevance(H, float(self.relevance))

    def _labels(self, top_terms: list[list[str]]) -> list[str]:
        """2–4 terms per theme: its most distinctive terms (``top_terms_``, ranked by
        relevance, i.e. lift against the corpus), nouns first, verbs and evaluatives last."""
        labels: list[str] = []
        low = demoted({t for terms in top_terms for t in terms})
        for terms in top_terms:
            pool = sorted(terms, key=lambda t: t in low)  # stable: nouns keep their rank
            n = self.label_terms
            label = "·".join(pool[:n]) or "(无内容)"
            while label in labels and n < min(4, len(pool)):
                n += 1
                label = "·".join(pool[:n])
            if label in labels:
                label = f"{label}#{len(labels)}"
            labels.append(label)
        return labels

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
        return self.transform_texts(texts)

    def transform_texts(self, texts: Iterable[str], *, simplified: bool = False) -> np.ndarray:
        """Theme weights of own texts (see :meth:`transform`), each tokenized once
        (*simplified*: the texts were already normalized as ``simplify`` says)."""
        self._check_fitted()
        texts = list(texts)
        texts = _simplified(texts) if self.simplify and not simplified else texts
        X = self._tfidf.transform(self.vectorizer_.transform([tokenize(t) for t in texts]))
        if self._estimator is None:
            W = np.asarray(X.sum(axis=1)).reshape(-1, 1)
        else:
            W = np.asarray(self._weights(self._estimator, self._components, X))[:, self._columns]
        total = W.sum(axis=1, keepdims=True)
        return np.divide(W, total, out=np.zeros_like(W, dtype=float), where=total > 0)

    def assign(
        self, sections_df: pd.DataFrame, *, top: int = 1, min_weight: float = 0.0,
        texts: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """``doc_id, section_id, theme_id, weight``: each section's *top* themes by weight.

        Sections without any content word get no row; themes below *min_weight* are left
        out. Rows keep the input order, then decreasing weight. *texts*, aligned with the
        rows, are their own texts already normalized as ``simplify`` says (when the caller
        has them).
        """
        _require_columns(sections_df, ("doc_id", "section_id", "text"), "sections_df")
        W = (self.transform(sections_df) if texts is None
             else self.transform_texts(texts, simplified=True))
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
        """``theme_id, label, top_terms, size, stability`` (top terms joined with ``、``)."""
        self._check_fitted()
        return pd.DataFrame(
            {
                "theme_id": np.arange(self.n_themes_, dtype="int64"),
                "label": self.labels_,
                "top_terms": ["、".join(t) for t in self.top_terms_],
                "size": np.asarray(self.sizes_, dtype="int64"),
                "stability": np.asarray(self.stability_, dtype="float64"),
            }
        )[list(THEME_COLUMNS)]


def assign_batch(model: ThemeModel, sections_df: pd.DataFrame,
                 texts: Sequence[str] | None = None) -> pd.DataFrame:
    """:meth:`ThemeModel.assign` of one batch of sections (a plain call for a task)."""
    return model.assign(sections_df, texts=texts)
