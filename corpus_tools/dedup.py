"""Duplicates: near-duplicate documents across a run, and blocks repeated inside one document.

**Across documents.** :func:`minhash_signature` hashes a document's character 5-grams after
masking what template sites change between copies: every run of digits, Chinese numerals
and placeholders (``2021``, ``20□``, ``十七``, ``□``) becomes one ``#``, and spaces and
punctuation go. The signature is a MinHash (``num_perm`` values; shingles hashed with a
polynomial hash and splitmix64, permuted by multiply-shift hashing) computed with numpy
from a fixed seed, so it is the same in every process and on every machine.
:func:`find_duplicates` banks signatures into LSH bands (the scheme of datasketch's
``MinHashLSH``) and maps each near-duplicate to the first copy in the order given.

**Inside one document.** :func:`remove_repeated_blocks` keeps the first copy of a run of
paragraphs that occurs again (scrapers that saved one report six times) and returns every
removed line as a :class:`~corpus_tools.schema.RemovedLine` with rule ``repeated_block``:
one record per removed non-blank line, ``line_no`` 1-based in the text given.

>>> a = minhash_signature("今年社区共开展志愿服务活动12次，参与居民500余人次，群众满意度明显提升。")
>>> b = minhash_signature("今年社区共开展志愿服务活动20次，参与居民800余人次，群众满意度明显提升。")
>>> float(jaccard(a, b))
1.0
>>> find_duplicates([("p1", a), ("p2", b)])
{'p2': 'p1'}
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from .errors import InputError, require_str
from .schema import RemovedLine

__all__ = [
    "SEED",
    "SHINGLE",
    "DuplicateIndex",
    "band_groups",
    "band_pairs",
    "find_duplicates",
    "jaccard",
    "minhash_signature",
    "remove_repeated_blocks",
    "resolve_pairs",
]

#: Characters per shingle.
SHINGLE = 5
#: Seed of the permutations: signatures from different runs are comparable.
SEED = 20240501
_SHIFT = np.uint64(32)
_MAX = np.uint64((1 << 32) - 1)
_EMPTY = np.uint64((1 << 32) - 1)
_CHUNK = 8_000  # shingles per block (measured: longer rows are faster up to about this)

_NUMBERS = re.compile(
    "[0-9\uff10-\uff19\u3007零一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟□xX_\uff3f.．%％]+"
)
_DROP = re.compile(r"[\W_]+")
_HAN = re.compile(r"[\u3400-\u9fff]+")
_REPEAT_RULE = "repeated_block"
# A repeated run of paragraphs is removed when it holds at least this many characters.
_MIN_BLOCK_CHARS = 60


@functools.cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(SEED)
    a = gen.randint(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = gen.randint(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def _masked(text: str) -> str:
    return _DROP.sub("", _NUMBERS.sub("#", text))


@functools.cache
def _bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: is it kept in a line key (``_DROP`` spares it, or it is a line
    end), is it kept in a masked text (neither ``_NUMBERS`` nor ``_DROP`` takes it: a
    number run becomes ``#``, which ``_DROP`` then removes). Read off the regexes
    themselves, so the tables agree with them by construction."""
    bmp = "".join(map(chr, range(0x10000)))
    key = np.ones(0x10000, dtype=bool)
    for m in _DROP.finditer(bmp):
        key[m.start() : m.end()] = False
    masked = key.copy()
    for m in _NUMBERS.finditer(bmp):
        masked[m.start() : m.end()] = False
    key[0x0A] = True
    return key, masked


def _bmp_units(text: str) -> np.ndarray | None:
    """The UTF-16 code units of *text*, one per character, or None if it has a character
    beyond U+FFFF (then the regexes do the work). A lone surrogate is one unit too."""
    data = text.encode("utf-16-le", "surrogatepass")
    if len(data) != 2 * len(text):
        return None
    return np.frombuffer(data, dtype=np.uint16)


def _masked_codes(text: str) -> np.ndarray:
    """The code points of ``_masked(text)`` as ``uint64``, by table lookup when it can."""
    units = _bmp_units(text)
    if units is None:
        s = _masked(text)
        return np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    return units[_bmp_tables()[1][units]].astype(np.uint64)


def _shingle_hashes(text: str) -> np.ndarray:
    """32-bit hashes of the distinct character k-grams of *text* (vectorized).

    Each gram's polynomial hash is computed in place; the grams are made distinct before
    the splitmix64 finalizer (a bijection on 64 bits, so no two distinct grams meet there),
    with a sort, which numpy does several times faster than ``np.unique``'s hash table.
    Two distinct grams can still share their low 32 bits; a repeated value changes no
    minimum.
    """
    cps = _masked_codes(text)
    if not len(cps):
        return np.zeros(0, dtype=np.uint64)
    k = min(SHINGLE, len(cps))
    n = len(cps) - k + 1
    h = cps[:n].copy()  # the first step of h = h * mult + c from h = 0
    mult = np.uint64(1_000_003)
    with np.errstate(over="ignore"):
        for j in range(1, k):
            h *= mult
            h += cps[j : j + n]
        h.sort()
        if n > 1:
            h = h[np.concatenate(([True], h[1:] != h[:-1]))]
        # finalizer (splitmix64) so that nearby grams spread over 32 bits
        tmp = np.empty_like(h)
        h ^= np.right_shift(h, np.uint64(30), out=tmp)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= np.right_shift(h, np.uint64(27), out=tmp)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= np.right_shift(h, np.uint64(31), out=tmp)
    h &= _MAX
    return h


def minhash_signature(text: str, *, num_perm: int = 128) -> np.ndarray:
    """MinHash signature (``uint64`` array of *num_perm* values) of a document's text.

    Digits, Chinese numerals and placeholders are masked, so copies that differ only in
    their numbers (or in ``20xx`` against ``2021``) get the same signature. A text with no
    characters left after masking gets the all-maximum "empty" signature, which
    :func:`find_duplicates` never pairs.

    >>> sig = minhash_signature("社区文明创建工作总结")
    >>> sig.shape, sig.dtype.name
    ((128,), 'uint64')
    >>> bool((sig == minhash_signature("社区文明创建工作总结")).all())
    True
    """
    require_str(text)
    if not isinstance(num_perm, int) or num_perm < 1:
        raise InputError(f"num_perm must be a positive int, got {num_perm!r}")
    a, b = _permutations(num_perm)
    hv = _shingle_hashes(text)
    if not len(hv):
        return np.full(num_perm, _EMPTY, dtype=np.uint64)
    best = np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    # one row per permutation: numpy's inner loops then run along a row of shingles
    # (long and contiguous), about twice as fast as one row per shingle
    buf = np.empty((num_perm, min(_CHUNK, len(hv))), dtype=np.uint64)
    a_col, b_col = a[:, None], b[:, None]
    with np.errstate(over="ignore"):
        for i in range(0, len(hv), _CHUNK):
            # multiply-shift hashing: the high 32 bits of a*x + b (mod 2**64); the shift
            # is monotone, so it is applied once to the minimum
            part = hv[i : i + _CHUNK]
            out = buf[:, : len(part)]
            np.multiply(a_col, part, out=out)
            out += b_col
            np.minimum(best, out.min(axis=1), out=best)
    sig = best >> _SHIFT
    return sig


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal values).

    >>> jaccard(minhash_signature("居民自治"), minhash_signature("居民自治"))
    1.0
    """
    if len(a) != len(b):
        raise InputError(f"signatures differ in length: {len(a)} and {len(b)}")
    return float(np.count_nonzero(np.asarray(a) == np.asarray(b))) / max(len(a), 1)


def _bands(num_perm: int, threshold: float) -> tuple[int, int]:
    """(bands, rows): the most rows per band that still finds pairs at ``threshold - 0.1``.

    Candidates are checked against the full signature afterwards, so recall matters more
    than precision here.
    """
    target = max(0.05, threshold - 0.1)
    best = (num_perm, 1)
    for r in range(1, num_perm + 1):
        b = num_perm // r
        if b < 1:
            break
        if 1 - (1 - target**r) ** b >= 0.995:
            best = (b, r)
    return best


def find_duplicates(
    items: Iterable[tuple[str, np.ndarray]],
    *,
    threshold: float = 0.8,
    converted: Collection[str] = (),
) -> dict[str, str]:
    """Map each near-duplicate's ``doc_id`` to the ``doc_id`` of the original copy.

    *items* are ``(doc_id, signature)`` pairs in corpus order. A document whose estimated
    Jaccard similarity with an earlier one reaches *threshold* is a duplicate of the
    original of that group (so a copy of a copy points at the original). The original is
    the group's first document not listed in *converted* (the ``doc_id``s of copies in
    another script than the native one: a traditional copy machine-converted from a
    simplified report), else its first document. Documents that are not duplicates are
    absent from the result.

    >>> s = minhash_signature("一、加强组织领导，健全工作机制，社区成立了创建工作领导小组。")
    >>> find_duplicates([("tc", s), ("sc", s)], converted={"tc"})
    {'tc': 'sc'}

    >>> s1 = minhash_signature("一、加强组织领导，健全工作机制，社区成立了创建工作领导小组。")
    >>> s2 = minhash_signature("一、加强组织领导，健全工作机制，街道成立了创建工作领导小组。")
    >>> s3 = minhash_signature("二、丰富文体活动，组织居民开展广场舞比赛和读书活动。")
    >>> find_duplicates([("a", s1), ("b", s3), ("c", s2)], threshold=0.5)
    {'c': 'a'}
    """
    index = DuplicateIndex(threshold)
    for doc_id, sig in items:
        index.add(doc_id, sig)
    return index.mapping(converted)


class DuplicateIndex:
    """:func:`find_duplicates` one document at a time: the LSH tables grow as signatures
    arrive (in corpus order), so the pipeline flags each document while the pages of later
    files are still being processed.

    :meth:`add` returns the first copy of the new document (or ``None``);
    :meth:`mapping` is the result of :func:`find_duplicates` over everything added (a
    group's original can change when a native copy follows converted ones).

    >>> idx = DuplicateIndex(0.5)
    >>> s = minhash_signature("一、加强组织领导，健全工作机制，社区成立了创建工作领导小组。")
    >>> idx.add("a", s), idx.add("b", s)
    (None, 'a')
    """

    def __init__(self, threshold: float = 0.8) -> None:
        if not 0.0 < threshold <= 1.0:
            raise InputError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self._tables: list[dict[bytes, list[int]]] = []
        self._ids: list[str] = []
        self._sigs: list[np.ndarray] = []
        self._root: list[int] = []
        self._out: dict[str, str] = {}
        self._band_rows: tuple[int, int] | None = None

    def add(self, doc_id: str, sig: np.ndarray) -> str | None:
        sig = np.asarray(sig, dtype=np.uint64)
        if self._band_rows is None:
            self._band_rows = _bands(len(sig), self.threshold)
            self._tables = [{} for _ in range(self._band_rows[0])]
        elif len(sig) != len(self._sigs[0]):
            raise InputError(
                f"signature of {doc_id!r} has {len(sig)} values, expected {len(self._sigs[0])}"
            )
        nb, r = self._band_rows
        idx = len(self._ids)
        self._ids.append(str(doc_id))
        self._sigs.append(sig)
        self._root.append(idx)
        if (sig == _EMPTY).all():
            return None
        keys = [sig[i * r : (i + 1) * r].tobytes() for i in range(nb)]
        candidates: set[int] = set()
        for table, key in zip(self._tables, keys, strict=True):
            candidates.update(table.get(key, ()))
        best = None
        for c in sorted(candidates):
            if jaccard(sig, self._sigs[c]) >= self.threshold - 1e-9:
                best = self._root[c] if best is None else min(best, self._root[c])
        if best is not None:
            self._root[idx] = best
            self._out[self._ids[idx]] = self._ids[best]
        for table, key in zip(self._tables, keys, strict=True):
            table.setdefault(key, []).append(idx)
        return self._out.get(self._ids[idx])

    def mapping(self, converted: Collection[str] = ()) -> dict[str, str]:
        """Each near-duplicate's ``doc_id`` → the ``doc_id`` of its group's original: the
        first document not in *converted* (see :func:`find_duplicates`), else the first."""
        return _reroot(self._ids, dict(self._out), converted)


def _reroot(ids: Sequence[str], out: dict[str, str], converted: Collection[str]) -> dict[str, str]:
    """Make each group's original its first document not in *converted*."""
    if not converted or not out:
        return out
    roots = set(out.values())
    groups: dict[str, list[str]] = {}
    for doc_id in ids:
        if doc_id in out or doc_id in roots:
            groups.setdefault(out.get(doc_id, doc_id), []).append(doc_id)
    out = {}
    for members in groups.values():
        original = next((d for d in members if d not in converted), members[0])
        out.update({d: original for d in members if d != original})
    return out


# ----------------------------------------------------------------- the same, by bands


def band_groups(num_perm: int, threshold: float, n_tasks: int) -> tuple[int, list[list[int]]]:
    """``(rows per band, bands split into up to n_tasks groups)`` for :func:`band_pairs`."""
    nb, r = _bands(num_perm, threshold)
    n_tasks = max(1, min(n_tasks, nb))
    return r, [list(range(nb))[i::n_tasks] for i in range(n_tasks)]


def band_pairs(sigs: np.ndarray, bands: Sequence[int], rows: int,
               threshold: float) -> list[tuple[int, int]]:
    """Verified near-duplicate pairs ``(earlier, later)`` (row numbers of *sigs*) among the
    documents that share a bucket in one of *bands*. The work of one Dask task: the bands
    of :func:`find_duplicates` are independent, so each task takes some of them, and
    :func:`resolve_pairs` over all tasks' pairs gives what :func:`find_duplicates` gives.
    Empty signatures (no text) take no part, as there.

    >>> s = minhash_signature("一、加强组织领导，健全工作机制，社区成立了创建工作领导小组。")
    >>> t = minhash_signature("二、丰富文体活动，组织居民开展广场舞比赛和读书活动。")
    >>> rows, groups = band_groups(len(s), 0.8, 1)
    >>> band_pairs(np.stack([s, t, s]), groups[0], rows, 0.8)
    [(0, 2)]
    """
    sigs = np.asarray(sigs, dtype=np.uint64)
    if sigs.ndim != 2 or not len(sigs):
        return []
    live = ~(sigs == _EMPTY).all(axis=1)
    found: set[tuple[int, int]] = set()
    for b in bands:
        block = np.ascontiguousarray(sigs[:, b * rows:(b + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * block.shape[1]))).ravel()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for lo, hi in zip(starts, ends, strict=True):
            if hi - lo < 2:
                continue
            members = np.sort(order[lo:hi])
            members = members[live[members]]
            for k in range(1, len(members)):
                later = int(members[k])
                found.update((int(c), later) for c in members[:k])
    if not found:
        return []
    pairs = np.array(sorted(found), dtype=np.int64)
    same = np.count_nonzero(sigs[pairs[:, 0]] == sigs[pairs[:, 1]], axis=1) / sigs.shape[1]
    keep = same >= threshold - 1e-9
    return [(int(a), int(b)) for a, b in pairs[keep]]


def resolve_pairs(ids: Sequence[str], pairs: Iterable[tuple[int, int]],
                  converted: Collection[str] = ()) -> dict[str, str]:
    """:func:`find_duplicates`'s mapping from verified pairs ``(earlier, later)``: in
    corpus order, each document joins the group of its earliest similar predecessor."""
    earlier: dict[int, list[int]] = {}
    for c, a in pairs:
        earlier.setdefault(a, []).append(c)
    root = list(range(len(ids)))
    out: dict[str, str] = {}
    for a in sorted(earlier):
        best = min(root[c] for c in earlier[a])
        root[a] = best
        out[ids[a]] = ids[best]
    return _reroot(ids, out, converted)


def _keys(text: str) -> list[str]:
    """``_DROP.sub("", line)`` for every line of *text*: what it removes, looked up in a
    table for all the text's characters at once (one numpy pass, not a regex per line)."""
    units = _bmp_units(text)
    if units is None:
        return [_DROP.sub("", line) for line in text.split("\n")]
    kept = units[_bmp_tables()[0][units]]
    return kept.tobytes().decode("utf-16-le").split("\n")


def remove_repeated_blocks(
    text: str, *, min_chars: int = _MIN_BLOCK_CHARS
) -> tuple[str, list[RemovedLine]]:
    """Keep the first copy of every paragraph run that occurs again inside one document.

    A paragraph is a non-blank line, compared with spaces and punctuation ignored. A run of
    consecutive paragraphs (blank lines between them do not break it) that were all seen
    before is removed when it holds at least *min_chars* Chinese characters, so a short line that
    legitimately recurs (``各位代表：``, a heading) stays. Blank lines inside a removed run
    go with it and are not recorded.

    >>> body = "一、工作回顾\\n社区全年开展活动一百余次，服务居民上万人次。\\n"
    >>> page = "各位代表：\\n" + body + "各位代表：\\n" + body
    >>> text, removed = remove_repeated_blocks(page, min_chars=20)
    >>> text.split("\\n")
    ['各位代表：', '一、工作回顾', '社区全年开展活动一百余次，服务居民上万人次。', '']
    >>> [(r.line_no, r.text) for r in removed]
    [(4, '各位代表：'), (5, '一、工作回顾'), (6, '社区全年开展活动一百余次，服务居民上万人次。')]
    """
    require_str(text)
    lines = text.split("\n")
    seen: set[str] = set()
    repeated = [False] * len(lines)
    keys = _keys(text)
    for i, k in enumerate(keys):
        if not k:
            continue
        if k in seen:
            repeated[i] = True
        else:
            seen.add(k)
    drop = [False] * len(lines)
    i = 0
    n = len(lines)
    while i < n:
        if not repeated[i]:
            i += 1
            continue
        j = i
        last = i
        chars = 0
        while j < n and (repeated[j] or not keys[j]):
            if repeated[j]:
                chars += sum(map(len, _HAN.findall(keys[j])))
                last = j
            j += 1
        if chars >= min_chars:
            for t in range(i, last + 1):
                drop[t] = True
        i = last + 1
    removed = [
        RemovedLine(line_no=t + 1, text=lines[t].rstrip("\r"), rule=_REPEAT_RULE)
        for t in range(n)
        if drop[t] and keys[t]
    ]
    if not removed:
        return text, []
    return "\n".join(line for t, line in enumerate(lines) if not drop[t]), removed
