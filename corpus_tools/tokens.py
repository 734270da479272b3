"""Tokens for theme discovery in Chinese government and community work prose.

:func:`tokenize` cuts text with jieba (HMM off, so unknown words are not guessed) and a
domain user dictionary shipped in ``corpus_tools/resources/user_dict.txt`` (精神文明,
志愿服务, 网格化管理, 社会主义核心价值观, …), then drops what carries no theme: the
stopwords of ``resources/stopwords.txt`` (function words and the genre's formulaic phrases
such as 进一步, 加强, 开展, 工作, 切实), single characters, numbers (ASCII or Chinese
numerals: 2023, 一九五八年, 第一), placeholders (``□``), punctuation and whitespace.
ASCII words are case-folded (``CnPack``, ``CNPACK`` and ``cnpack`` are one term ``cnpack``),
and the stopword list is matched case-folded too.

Backends: when the ``rjieba`` package (a binding of the Rust port jieba-rs) is installed it
is used: with HMM off it cuts exactly as jieba does, about ten times faster. Otherwise a
private ``jieba.Tokenizer()`` instance is used (never the global one). Both get the same
user dictionary words added in the same order, so the tokens are identical. Everything is
loaded on first use and cached; jieba's start-up messages are silenced by raising the level
of jieba's own logger while it loads, then restoring it (the root logger is not touched).

>>> tokenize("社区积极开展志愿服务活动，走访慰问困难群众20户。")
['社区', '志愿服务', '活动', '走访慰问', '困难群众']
>>> tokenize("进一步加强□社区网格化管理")
['社区', '网格化管理']
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator

from .errors import ConfigError, require_str
from .rules import load_lines

__all__ = ["available_backends", "stopwords", "tokenize", "user_words"]

logger = logging.getLogger(__name__)

BACKENDS = ("rjieba", "jieba")

# A kept token is a run of at least two CJK ideographs, or an ASCII word of at least two
# letters (CnPack, IDE, XE3). Anything else (punctuation, spaces, digits, □, one character)
# is dropped.
_KEEP_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}|[A-Za-z]{2,}[A-Za-z0-9]*")
# Tokens made only of numeral, ordinal, date and counter characters: 一九五八年, 第一次, 三月.
_NUMERAL_RE = re.compile(r"[〇零一二三四五六七八九十百千万亿两几第年月日号余多半次届个]+")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_VERDICT_CAP = 500_000

_lock = threading.Lock()


def _fold(token: str) -> str:
    """ASCII words lower-cased (CnPack → cnpack); anything else unchanged."""
    return token.lower() if token.isascii() else token


@functools.cache
def stopwords() -> frozenset[str]:
    """The stopword set of ``resources/stopwords.txt`` (loaded once).

    >>> "进一步" in stopwords() and "志愿服务" not in stopwords()
    True
    """
    return frozenset(_fold(w) for w in load_lines("stopwords.txt"))


@functools.cache
def user_words() -> tuple[tuple[str, int | None, str | None], ...]:
    """The user dictionary entries ``(word, freq, tag)`` in file order.

    Lines are ``word [freq] [tag]`` as in jieba's format; a missing frequency is ``None``
    (jieba then suggests one just high enough to keep the word whole).

    >>> ("网格化管理", None, None) in user_words()
    True
    """
    entries: list[tuple[str, int | None, str | None]] = []
    for line in load_lines("user_dict.txt"):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else None
        entries.append((parts[0], freq, tag))
    return tuple(entries)


@contextlib.contextmanager
def _quiet_jieba() -> Iterator[None]:
    """Raise the level of jieba's own logger for the duration, then restore it.

    ``jieba.setLogLevel`` does the same to the same logger (``logging.getLogger("jieba")``)
    but permanently; we leave the user's setting as it was.
    """
    jlog = logging.getLogger("jieba")
    old = jlog.level
    jlog.setLevel(logging.WARNING)
    try:
        yield
    finally:
        jlog.setLevel(old)


def available_backends() -> tuple[str, ...]:
    """The backends that can be imported here, fastest first."""
    found = []
    for name in BACKENDS:
        try:
            __import__(name)
        except ImportError:
            continue
        found.append(name)
    return tuple(found)


@functools.cache
def _segmenter(backend: str) -> Callable[[str], list[str]]:
    with _lock:
        if backend == "rjieba":
            import rjieba

            seg = rjieba.Jieba()
            for word, freq, tag in user_words():
                seg.add_word(word, freq, tag)
            logger.debug("tokens: rjieba loaded with %d user words", len(user_words()))

            def cut(text: str) -> list[str]:
                try:
                    return seg.cut(text, False)
                except UnicodeEncodeError:  # lone surrogates cannot cross into Rust
                    return seg.cut(_SURROGATE_RE.sub(" ", text), False)

            return cut
        if backend == "jieba":
            import jieba  # sets its logger to DEBUG on import: quiet it after, not before

            with _quiet_jieba():
                tk = jieba.Tokenizer()
                tk.initialize()
                for word, freq, tag in user_words():
                    tk.add_word(word, freq, tag)
            logger.debug("tokens: jieba loaded with %d user words", len(user_words()))
            return functools.partial(tk.lcut, HMM=False)
    raise ConfigError(f"unknown tokenizer backend {backend!r}: expected one of {BACKENDS}")


@functools.cache
def _default_backend() -> str:
    found = available_backends()
    if not found:  # pragma: no cover - jieba is a dependency
        raise ConfigError("no tokenizer backend: install jieba (pip install jieba)")
    return found[0]


# token as cut -> the term it becomes, or "" when it is dropped
_verdicts: dict[str, str] = {}


def _keep(token: str) -> str:
    term = _fold(token)
    ok = (
        _KEEP_RE.fullmatch(term) is not None
        and _NUMERAL_RE.fullmatch(term) is None
        and term not in stopwords()
    )
    if len(_verdicts) >= _VERDICT_CAP:
        _verdicts.clear()
    _verdicts[token] = term if ok else ""
    return _verdicts[token]


def tokenize(text: str, *, backend: str | None = None) -> list[str]:
    """Content tokens of *text*, in order, for TF-IDF and theme models.

    *backend* is ``"rjieba"`` or ``"jieba"``; by default the fastest one installed.

    >>> tokenize("深入开展社会主义核心价值观宣传教育，组织文体活动12场")
    ['社会主义核心价值观', '宣传教育', '文体活动']
    >>> tokenize("CnPack 专家包与 cnpack IDE")
    ['cnpack', '专家', 'cnpack', 'ide']
    >>> tokenize("")
    []
    """
    require_str(text)
    if not text:
        return []
    cut = _segmenter(backend or _default_backend())
    verdicts = _verdicts
    out = []
    for token in cut(text):
        term = verdicts.get(token)
        if term is None:
            term = _keep(token)
        if term:
            out.append(term)
    return out
