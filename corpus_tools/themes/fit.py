"""Plain functions behind :class:`~corpus_tools.themes.ThemeModel`: sample, factorize, score k.

Bounded memory: a fit never holds the whole corpus. :class:`Reservoir` keeps a sample of
fitting units (sections' own text) of at most ``size`` units while any number stream past;
it is a *priority* reservoir: each unit's priority is a seeded hash of its ``(doc_id,
section_id)``, and the sample is the ``size`` units of lowest priority. So the sample depends
on the seed and on the units only, never on their order, on how they were batched or on
which worker saw them (``--workers 1``, ``2`` and ``--engine dask`` sample alike).

Choice of k by stability (Greene, O'Callaghan & Cunningham 2014, "How many topics?
Stability analysis for topic models"): ``n_resamples`` random subsets (80 % each) of the
fitted rows (of at most ``select_rows`` of them, drawn once) are each factorized at every candidate
k; one truncated SVD per subset gives the NNDSVDa start of every k, so k is never refitted
on the full sample. The stability of k is the mean, over pairs of subsets, of the matched
overlap of their themes: themes paired one-to-one by the Hungarian algorithm on the Jaccard
overlap of their 10 most relevant terms (:func:`relevance`: the distinctive terms a reader
sees, not the corpus-wide words every broad theme shares), unmatched themes counting 0. Too few themes merge different
things in different subsets, too many split them at random: both lower the score, which is
therefore not monotone in k. Coherence (mean NPMI of top-term pairs) and diversity (unique
share of top-25 terms) are reported beside it.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["Reservoir", "matched_overlap", "priority", "stability_curve"]

COHERENCE_TOP = 10
DIVERSITY_TOP = 25
MATCH_TOP = 10


def priority(random_state: int, *key: object) -> int:
    """A seeded 64-bit hash of *key*: the sampling priority of one unit.

    >>> priority(0, "doc", "1") == priority(0, "doc", "1") != priority(1, "doc", "1")
    True
    """
    data = "\x1f".join([str(int(random_state)), *(str(k) for k in key)]).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


class Reservoir:
    """The *size* items of lowest :func:`priority` among all added (order-independent).

    >>> r = Reservoir(2, random_state=0)
    >>> for i in range(10):
    ...     r.add(("d", str(i)), i)
    >>> s = Reservoir(2, random_state=0)
    >>> for i in reversed(range(10)):
    ...     s.add(("d", str(i)), i)
    >>> r.items() == s.items() and len(r.items()) == 2
    True
    """

    def __init__(self, size: int, random_state: int = 0) -> None:
        self.size = int(size)
        self.random_state = random_state
        self.seen = 0
        self._heap: list[tuple[int, tuple[str, ...], Any]] = []  # (-priority, key, item)

    def add(self, key: Sequence[object], item: Any) -> None:
        self.seen += 1
        k = tuple(str(x) for x in key)
        p = priority(self.random_state, *k)
        entry = (-p, k, item)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, entry)
        elif self._heap and (-p, k) > (self._heap[0][0], self._heap[0][1]):
            heapq.heapreplace(self._heap, entry)

    def merge(self, other: Reservoir) -> Reservoir:
        """The sample of both reservoirs' items (same size and seed): the reservoirs of
        batches handled by different tasks combine into the one a single pass would give.

        >>> a, b, whole = Reservoir(3, 1), Reservoir(3, 1), Reservoir(3, 1)
        >>> for i in range(8):
        ...     (a if i % 2 else b).add(("d", str(i)), i)
        ...     whole.add(("d", str(i)), i)
        >>> a.merge(b).items() == whole.items()
        True
        """
        if (other.size, other.random_state) != (self.size, self.random_state):
            raise ValueError("reservoirs of different size or seed do not merge")
        out = Reservoir(self.size, self.random_state)
        out.seen = self.seen + other.seen
        out._heap = heapq.nlargest(self.size, [*self._heap, *other._heap],
                                   key=lambda e: (e[0], e[1]))
        heapq.heapify(out._heap)
        return out

    def items(self) -> list[Any]:
        """The sampled items, ordered by key."""
        return [item for _, _, item in sorted(self._heap, key=lambda e: e[1])]


def top_indices(H: np.ndarray, n: int) -> list[list[int]]:
    """Column indices of each row's *n* largest values (ties broken by column)."""
    return [list(np.lexsort((np.arange(row.size), -row))[:n]) for row in H]


def relevance(H: np.ndarray, lam: float = 0.6) -> np.ndarray:
    """Term relevance per theme (Sievert & Shirley 2014): ``λ·log φ + (1-λ)·log(φ/p)``,
    φ the theme's term distribution, p the corpus-wide one; -inf where a weight is 0."""
    totals = H.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    phi = H / totals
    p = H.sum(axis=0) / max(H.sum(), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = lam * np.log(phi) + (1 - lam) * np.log(phi / p)
    rel[~np.isfinite(rel)] = -np.inf
    rel[H <= 0] = -np.inf
    return rel


def diversity(top: Sequence[Sequence[int]]) -> float:
    """Share of unique terms among all themes' top terms (Dieng et al. 2020).

    >>> diversity([[1, 2, 3], [4, 5, 6]]), diversity([[1, 2], [1, 2]])
    (1.0, 0.5)
    """
    total = sum(len(row) for row in top)
    return len({t for row in top for t in row}) / total if total else 0.0


def npmi(binary: Any, top: Sequence[Sequence[int]]) -> float:
    """Mean NPMI over all term pairs of every theme's top terms (co-occurrence in rows)."""
    n_docs = binary.shape[0]
    terms = sorted({t for row in top for t in row})
    if n_docs == 0 or not terms:
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
                elif joint >= 1:
                    pair_scores.append(1.0)
                else:
                    pmi = math.log(joint / ((df[i] / n_docs) * (df[j] / n_docs)))
                    pair_scores.append(pmi / -math.log(joint))
        if pair_scores:
            scores.append(float(np.mean(pair_scores)))
    return float(np.mean(scores)) if scores else -1.0


def _jaccard(a: Iterable[int], b: Iterable[int]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def matched_overlap(
    a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]
) -> tuple[float, np.ndarray]:
    """``(agreement, per_theme)``: themes of *a* paired one-to-one with themes of *b*
    (Hungarian algorithm on the Jaccard overlap of their top terms).

    ``per_theme[i]`` is theme i's overlap with its partner (0 when it has none); the
    agreement is their sum over ``max(len(a), len(b))``, so extra themes count 0.

    >>> agreement, per = matched_overlap([[1, 2], [3, 4]], [[3, 4], [1, 5]])
    >>> round(agreement, 3), per.round(3).tolist()
    (0.667, [0.333, 1.0])
    """
    from scipy.optimize import linear_sum_assignment

    per = np.zeros(len(a))
    if not len(a) or not len(b):
        return 0.0, per
    sim = np.array([[_jaccard(x, y) for y in b] for x in a])
    rows, cols = linear_sum_assignment(-sim)
    per[rows] = sim[rows, cols]
    return float(per.sum() / max(len(a), len(b))), per


# -- factorization ---------------------------------------------------------------------------


def svd(X: Any, rank: int, random_state: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.utils.extmath import randomized_svd
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return randomized_svd(X, rank, random_state=random_state)  # type: ignore[no-any-return]


def nndsvda(
    X: Any, U: np.ndarray, S: np.ndarray, V: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD start (Boutsidis & Gallopoulos 2008) of k themes from an SVD of rank >= k;
    zeros filled with the mean of X ("a" variant), as scikit-learn's ``init="nndsvda"``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _nndsvda(X, U, S, V, k)


def _nndsvda(
    X: Any, U: np.ndarray, S: np.ndarray, V: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    eps = 1e-6
    n_rows, n_cols = X.shape
    W = np.zeros((n_rows, k))
    H = np.zeros((k, n_cols))
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = np.sqrt(S[0]) * np.abs(V[0, :])
    for j in range(1, k):
        x, y = U[:, j], V[j, :]
        xp, yp = np.maximum(x, 0), np.maximum(y, 0)
        xn, yn = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
        xpn, ypn = np.linalg.norm(xp), np.linalg.norm(yp)
        xnn, ynn = np.linalg.norm(xn), np.linalg.norm(yn)
        mp, mn = xpn * ypn, xnn * ynn
        if mp > mn and xpn > 0 and ypn > 0:
            u, v, sigma = xp / xpn, yp / ypn, mp
        elif xnn > 0 and ynn > 0:
            u, v, sigma = xn / xnn, yn / ynn, mn
        else:
            continue
        lbd = np.sqrt(S[j] * sigma)
        W[:, j] = lbd * u
        H[j, :] = lbd * v
    W[W < eps] = 0
    H[H < eps] = 0
    avg = float(X.mean())
    W[W == 0] = avg
    H[H == 0] = avg
    return W, H


def factorize(
    X: Any,
    k: int,
    *,
    method: str,
    random_state: int,
    start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_iter: int = 400,
    tol: float = 1e-4,
    n_init: int = 10,
) -> tuple[Any, np.ndarray]:
    """One model with k themes on rows X: ``(estimator, components)``.

    NMF starts from NNDSVDa of *start* (an SVD of X of rank >= k; computed when None);
    k-means uses ``n_init`` seeded starts.
    """
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the dense products here are small, and threads that wait for work
    # cost more than they bring (also when other processes share the cores).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        # sklearn's NMF loss takes sqrt of a rounding-error negative on exact fits
        warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
        if method == "nmf":
            from sklearn.decomposition import NMF

            U, S, V = start if start is not None else svd(X, k, random_state)
            W0, H0 = nndsvda(X, U, S, V, k)
            est = NMF(
                n_components=k, init="custom", random_state=random_state, max_iter=max_iter,
                tol=tol,
            )
            est.fit_transform(X, W=W0, H=H0)
            return est, np.asarray(est.components_)
        from sklearn.cluster import KMeans

        est = KMeans(n_clusters=k, n_init=n_init, random_state=random_state)
        est.fit(X)
        return est, np.clip(est.cluster_centers_, 0, None)


def stability_curve(
    X: Any,
    binary: Any,
    ks: Sequence[int],
    *,
    method: str,
    random_state: int,
    n_resamples: int,
    select_rows: int,
    map_fn: Callable[..., Iterable[Any]] | None = None,
) -> tuple[dict[int, dict[str, float]], dict[int, list[list[list[int]]]]]:
    """Score every k in *ks* on random subsets of the rows of X (see the module doc).

    The subsets are 80 % each of at most *select_rows* rows drawn once, so the cost is
    bounded and the share of rows two subsets have in common does not depend on the corpus.

    The subsets are fitted by :func:`subset_fits`, one call each, through *map_fn*
    (default: the builtin ``map``; a pool's or a cluster's map runs them side by side,
    with the same results).

    Returns ``(scores, tops)``: ``scores[k]`` has ``stability``, ``coherence``,
    ``diversity``; ``tops[k]`` the top-term indices of every subset's themes at k (to
    measure each final theme's stability against).
    """
    n = X.shape[0]
    rng = np.random.RandomState(random_state)
    pool = np.arange(n) if n <= select_rows else np.sort(rng.choice(n, select_rows, replace=False))
    m = max(2, int(0.8 * len(pool)))
    subsets = [
        np.sort(rng.choice(pool, m, replace=False)) for _ in range(max(2, n_resamples))
    ]
    ks = [k for k in ks if k < m]
    tops: dict[int, list[list[list[int]]]] = {k: [] for k in ks}
    coh: dict[int, list[float]] = {k: [] for k in ks}
    div: dict[int, list[float]] = {k: [] for k in ks}
    tasks = [(X[rows], binary[rows], ks, method, random_state + b)
             for b, rows in enumerate(subsets)]
    for fits in (map_fn or map)(subset_fits, tasks):
        for k, (top, c, d) in zip(ks, fits, strict=True):
            tops[k].append(top)
            coh[k].append(c)
            div[k].append(d)
    scores: dict[int, dict[str, float]] = {}
    for k in ks:
        pairs = [
            matched_overlap(tops[k][i], tops[k][j])[0]
            for i in range(len(subsets))
            for j in range(i + 1, len(subsets))
        ]
        scores[k] = {
            "stability": round(float(np.mean(pairs)), 6),
            "coherence": round(float(np.mean(coh[k])), 6),
            "diversity": round(float(np.mean(div[k])), 6),
        }
    return scores, tops


def subset_fits(task: tuple[Any, Any, Sequence[int], str, int]
                ) -> list[tuple[list[list[int]], float, float]]:
    """One subset of :func:`stability_curve` at every k: ``(top terms by relevance,
    coherence, diversity)`` per k. *task* is ``(X rows, binary rows, ks, method, seed)``."""
    Xb, Bb, ks, method, seed = task
    start = svd(Xb, max(ks), seed) if method == "nmf" and ks else None
    out = []
    for k in ks:
        _, H = factorize(Xb, k, method=method, random_state=seed, start=start,
                         max_iter=200, tol=1e-3, n_init=3)
        H = np.array([row for row in H if row.max() > 0])
        out.append((top_indices(relevance(H), MATCH_TOP), npmi(Bb, top_indices(H, COHERENCE_TOP)),
                    diversity(top_indices(H, DIVERSITY_TOP))))
    return out
