"""Every regular expression of corpus_tools grows linearly on adversarial lines.

Two rules once took 25-31 s on 64,000 characters (a run of ``#`` or ``_`` before a
letter) and one 24 s on 16,000 (a run of spaces before a heading marker): a regex that
backtracks over a run it cannot match turns one long line of a scraped page into a stalled
worker. This audit collects every pattern the package compiles (at import, when it loads
its rule files in ``resources/``, and while it processes sample pages), then runs each
against lines of a fixed set of shapes (runs of each special character, with and without
a tail that makes a match fail, alternating pairs, long ASCII inside Chinese) and asserts
``time(200k) < 6 × time(50k)``: 4× is linear, 16× quadratic.

Timing is made robust for a loaded machine: each measurement repeats the scan until it
lasts at least a few milliseconds, takes the best of several, and a ratio over the bound is
measured again, with more runs, before it fails. Shapes are first screened at small sizes
for every pattern; the slowest shapes of each pattern are then measured at 50k, 100k and
200k characters.
"""

from __future__ import annotations

import collections
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

def _collector_source() -> str:
    return r'''
import functools, importlib, importlib.util, json, os, pkgutil, re, sys

spec = importlib.util.find_spec("corpus_tools")
PKG = os.path.dirname(spec.origin) + os.sep
RE_DIR = os.path.dirname(re.__file__) + os.sep
seen = {}
_real = re._compile


def _hook(pattern, flags):
    if isinstance(pattern, str):
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename.startswith(RE_DIR):
            f = f.f_back
        if f is not None and f.f_code.co_filename.startswith(PKG):
            flags_value = int(getattr(flags, "value", flags))
            key = (pattern, flags_value)
            if key not in seen:
                seen[key] = os.path.relpath(f.f_code.co_filename, PKG) + ":" + str(f.f_lineno)
    return _real(pattern, flags)


re._compile = _hook
re.purge()

import corpus_tools  # noqa: E402

for info in pkgutil.walk_packages(corpus_tools.__path__, "corpus_tools."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)

# Every rule file loads: call each argument-free cached loader of the package.
for name, module in list(sys.modules.items()):
    if not name.startswith("corpus_tools"):
        continue
    for attr in list(vars(module).values()):
        if isinstance(attr, functools._lru_cache_wrapper) and getattr(
                attr, "__module__", "") == name:
            try:
                attr()
            except TypeError:
                pass

sys.path.insert(0, sys.argv[1])
import conftest  # noqa: E402

from corpus_tools.pipeline import process_page  # noqa: E402
from corpus_tools.schema import Page  # noqa: E402
from corpus_tools.io import html_to_text  # noqa: E402

pages = [v for k, v in vars(conftest).items() if k.startswith("PAGE_") and isinstance(v, str)]
for i, text in enumerate(pages):
    process_page(Page(source=f"p{i}.txt", text=text, encoding="utf-8"))
html_to_text("<html><head><title>t</title></head><body><p>" + pages[0] + "</p></body></html>")
try:
    from corpus_tools.tokens import tokenize
    tokenize(pages[0])
except Exception:
    pass

json.dump([[p, f, w] for (p, f), w in seen.items()], sys.stdout, ensure_ascii=False)
'''


@pytest.fixture(scope="module")
def patterns() -> list[tuple[re.Pattern[str], str]]:
    done = subprocess.run(
        [sys.executable, "-c", _collector_source(), str(Path(__file__).parent)],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    out = []
    for pattern, flags, where in found:
        try:
            out.append((re.compile(pattern, flags), where))
        except re.error:  # pragma: no cover - the package compiled it
            continue
    return out


# Characters whose runs have made regexes backtrack: spaces, markers, placeholder marks,
# digits, Latin letters, Chinese characters and punctuation.
_FIXED = (" \t\u3000\xa0#_＿*＊-－—.。，,、：:；（）()【】《》0９9一十零xX×□社a.%％+~/\\|\"'<>=&"
          "\u200b")
_TAILS = ("", "a", "社", "1", "\n")
_PAIRS = ("一、", "1.", "x社", "_社", "# ", "* ", "（）", "12", "a社", "社 ", "、，", "- ",
          "第一", "()", "ab", "1,", "0.", "万元", "<a", "&#")


def _chars_of(pattern: str) -> str:
    """The characters a pattern names (escapes resolved roughly): runs of them are the
    lines most likely to make it backtrack."""
    chars = set(re.sub(r"\\[pPdDwWsSbBAZ]|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}", "", pattern))
    chars |= {chr(int(h, 16)) for h in re.findall(r"\\u([0-9a-fA-F]{4})", pattern)}
    return "".join(sorted(c for c in chars if c.isprintable() or c in "\t\n\u3000"))


def _shapes(pattern: str, n: int) -> dict[str, str]:
    shapes: dict[str, str] = {}
    for ch in dict.fromkeys(_FIXED + _chars_of(pattern)):
        for tail in _TAILS:
            shapes[f"run {ch!r}+{tail!r}"] = ch * n + tail
    for pair in _PAIRS:
        shapes[f"pairs {pair!r}"] = pair * (n // len(pair))
    for ascii_run in ("a", "1", " ", "x1"):
        shapes[f"ascii {ascii_run!r} in Chinese"] = "社区" + ascii_run * (n // len(ascii_run)) + "社区"
    return shapes


def _scan(pattern: re.Pattern[str], text: str) -> None:
    collections.deque(pattern.finditer(text), maxlen=0)


def _best(pattern: re.Pattern[str], text: str, reps: int, runs: int) -> float:
    best = math.inf
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(reps):
            _scan(pattern, text)
        best = min(best, time.perf_counter() - t0)
    return best


_SIZES = (50_000, 100_000, 200_000)
_BOUND = 6.0
_BASE_SECONDS = 0.004  # each measurement at 50k lasts at least this long


def _growth(pattern: re.Pattern[str], make: str, *, runs: int,
            sizes: tuple[int, int, int] = _SIZES) -> tuple[float, list[float]]:
    """``time(200k) / time(50k)`` for the shape *make* (a shape key), and the times."""
    texts = [_shapes(pattern.pattern, n)[make] for n in sizes]
    one = _best(pattern, texts[0], 1, 1)
    reps = max(1, min(2000, math.ceil(_BASE_SECONDS / max(one, 1e-7))))
    t50 = _best(pattern, texts[0], reps, runs)
    t100 = _best(pattern, texts[1], reps, runs)
    if t100 > 3.2 * t50 and t100 > 0.5:  # clearly superlinear and slow: do not wait for 200k
        return (t100 / t50) ** 2, [t50, t100]
    t200 = _best(pattern, texts[2], reps, runs)
    return t200 / t50, [t50, t100, t200]


def _screen(pattern: re.Pattern[str], top: int,
            sizes: tuple[int, int] = (4000, 16000)) -> list[str]:
    """The *top* shapes on which *pattern* is slowest per character, at 4k and 16k."""
    small, large = _shapes(pattern.pattern, sizes[0]), _shapes(pattern.pattern, sizes[1])
    cost = {}
    for key, text in large.items():
        t_small = _best(pattern, small[key], 1, 2)
        t_large = _best(pattern, text, 1, 2)
        # Rank by how the cost grows, then by the cost itself.
        cost[key] = (t_large / max(t_small, 2e-6), t_large)
    return sorted(cost, key=lambda k: cost[k], reverse=True)[:top]


def test_collector_finds_the_package_patterns(patterns: list) -> None:
    wheres = {w.split(":")[0] for _, w in patterns}
    assert len(patterns) > 50
    assert {"normalize.py", "sections.py", "metrics.py", "boilerplate.py"} <= wheres
    sources = [p.pattern for p, _ in patterns]
    # The rules from resources/ are compiled too (the placeholder rules, one by one).
    assert any("[#＃]+(?=" in s for s in sources)


def test_every_pattern_grows_linearly(patterns: list) -> None:
    failures = []
    for pattern, where in patterns:
        for shape in _screen(pattern, top=2):
            ratio, times = _growth(pattern, shape, runs=3)
            if ratio >= _BOUND:  # measure again, more carefully, before calling it
                ratio, times = _growth(pattern, shape, runs=7)
            if ratio >= _BOUND:
                failures.append(f"{where}: {pattern.pattern[:80]!r} on {shape}: "
                                f"x{ratio:.1f} from 50k to 200k ({', '.join(f'{t:.4f}' for t in times)} s)")
    assert not failures, "superlinear patterns:\n" + "\n".join(failures)


def test_the_audit_catches_a_quadratic_rule() -> None:
    """The property would have caught the old ``hash_before_han`` rule."""
    old = re.compile("[#＃](?:(?<=[#＃])(?:[#＃]+(?=[\u4e00-\u9fff])))")
    shape = _screen(old, top=1, sizes=(500, 2000))[0]
    assert shape.startswith("run '#'") or shape.startswith("run '＃'")
    ratio, _ = _growth(old, shape, runs=1, sizes=(1000, 2000, 4000))  # small: it is quadratic
    assert ratio >= _BOUND
