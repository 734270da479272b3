"""Regex audit: every pattern corpus_tools compiles grows linearly on adversarial lines.

The patterns are collected in a fresh interpreter that wraps ``re._compile``: every
pattern compiled from a call in ``corpus_tools/`` (module constants, the rule files in
``resources/``, patterns built at run time from the corpus) is recorded while a full run
goes over the sample pages, with how the code uses it (``match``, ``fullmatch``,
``search``, or a scan: ``finditer``/``findall``/``sub``/``split``/``search`` from a
position). Each pattern is then run the way the code runs it against adversarial lines at
50k, 100k and 200k characters: runs of every character the pattern repeats or starts
with, those characters alternating with a Han character and with each other, and a fixed
set of shapes (long ASCII inside Chinese, digits, full-width digits, Chinese numerals,
spaces and U+3000, punctuation). Growth must stay below x6 from 50k to 200k (linear is
x4), in thread CPU time (see ``_timing.py``).

A pattern that is quadratic when scanned but only ever applied to a bounded window is in
``_windowed()`` with the reason, and the function that applies it is checked to be linear
on the same lines instead. This is the check that would have caught ``hash_before_han``,
``underscore_run`` and the heading grammar's space runs (issue 12).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import pytest
from _timing import assert_linear, growth

ROOT = Path(__file__).resolve().parents[1]
SIZES = (50_000, 100_000, 200_000)
BOUND = 6.0

COLLECT = r'''
import collections, json, re, sys, tempfile, traceback
uses, sites, orig = collections.defaultdict(set), {}, re._compile
METHODS = {"finditer", "findall", "sub", "subn", "split", "search", "match", "fullmatch"}

class Recorder:
    """Stands in for a compiled pattern and records which methods the code calls."""
    __slots__ = ("_p", "_k")
    def __init__(self, p, k):
        self._p, self._k = p, k
    def __getattr__(self, name):
        attr = getattr(self._p, name)
        if name not in METHODS:
            return attr
        def call(*a, **kw):
            at = 2 if name in ("sub", "subn") else 1  # the argument after the string
            windowed = len(a) > at or "pos" in kw or "endpos" in kw
            uses[self._k].add(name + ("@pos" if windowed else ""))
            return attr(*a, **kw)
        return call
    def __hash__(self):
        return hash(self._p)
    def __eq__(self, other):
        return self._p == getattr(other, "_p", other)
    def __reduce__(self):
        return (re.compile, (self._p.pattern, self._p.flags))

def hook(pattern, flags):
    if isinstance(pattern, Recorder):
        return pattern
    p = orig(pattern, flags)
    if not isinstance(p.pattern, str):
        return p
    caller = next(f for f in reversed(traceback.extract_stack()[:-1])
                  if not f.filename.endswith(("re/__init__.py", "functools.py")))
    if "/corpus_tools/" not in caller.filename:
        return p
    k = (p.pattern, p.flags)
    sites.setdefault(k, caller.filename.rsplit("/corpus_tools/", 1)[1] + ":" + str(caller.lineno))
    return Recorder(p, k)

re._compile = hook
if __name__ == "__main__":
    from corpus_tools import pipeline
    from corpus_tools.config import RunConfig
    pipeline.run(sys.argv[1:], tempfile.mkdtemp(), RunConfig(workers=1, charts=False))
    json.dump([{"pattern": p, "flags": f, "site": sites[p, f], "uses": sorted(uses[p, f])}
               for (p, f) in sites], sys.stdout)
'''

#: Sites whose patterns the sample run does not reach, with how the code applies them.
DECLARED = {
    # keyword rules of boilerplate.tsv: ``kw.pattern.match(line)`` on a line holding a
    # trigger word, whatever its length.
    "boilerplate.py:208": ("match",),
    # the protect rules: ``.match`` at the start of any line.
    "boilerplate.py:224": ("match",),
}

def _validation_only(rows: list[dict]) -> set[tuple[str, int]]:
    """Patterns compiled one rule at a time only to check a rule file; their union runs
    (and is audited): boilerplate rules without trigger words (the union at
    boilerplate.py:225) and the placeholder rules (normalize.py:543)."""
    from corpus_tools import boilerplate

    keyword = {kw.pattern.pattern for kw in boilerplate._rules().keyword}
    return {(r["pattern"], r["flags"]) for r in rows
            if (r["site"] == "boilerplate.py:208" and r["pattern"] not in keyword)
            or r["site"] == "normalize.py:536"}


def _windowed() -> dict[str, tuple[str, Callable[[str], object], Callable[[int], str]]]:
    """Quadratic when scanned from every position, but only applied to a bounded window:
    pattern site -> (reason, the function that applies it, an adversarial line)."""
    from corpus_tools import boilerplate, metrics, normalize

    def email(text: str) -> str:
        return normalize.normalize_text(text)

    def direction(text: str) -> object:
        return metrics.extract_metrics(text)

    return {
        "metrics.py:580": (
            "_LAST_BOUNDARY (.*[，,。…]) is matched from start-40 to start of each figure "
            "(_CLAUSE_WINDOW), never scanned", direction,
            lambda n: ("社区增长" + "5" * 3 + "%") * (n // 8)),
        "metrics.py:616": (
            "_SENTENCE_LAST (.*[。！？；]) is matched within _SENTENCE_WINDOW (300) characters "
            "before a figure", direction,
            lambda n: ("社区工作完成" + "12" + "户") * (n // 10)),
        "boilerplate.py:225": (
            "the union of the rules without trigger words is matched only on lines of at most "
            "_SHORT_LINE (160) characters", boilerplate.strip_boilerplate,
            lambda n: "社区工作\n" + " " * n + "】\n"),
        "normalize.py:168": (
            "_EMAIL_LOCAL_RE (…*\\Z) is searched only in the 64 characters before an @",
            email, lambda n: ("a" * 70 + "@b.cn ") * (n // 76)),
        "normalize.py:399": (
            "_AMOUNT_TAIL_RE (…*\\Z) is searched only in the 16 characters before a match",
            email, lambda n: ("壹" * 20 + "x社") * (n // 22)),
    }


REPRESENTATIVES = {"DIGIT": "1１", "SPACE": " \u3000", "WORD": "a社_",
                   "NOT_DIGIT": "a", "NOT_SPACE": "a", "NOT_WORD": " ，"}
OUTSIDE = "社a 1，"


def special_chars(pattern: str, flags: int, cap: int = 8) -> list[str]:
    """Characters a pattern repeats (and, if it repeats any, those it can start with)."""
    import re._constants as c
    import re._parser as sp

    rep: list[str] = []
    first: list[str] = []

    def chars(op, av, out: list[str]) -> None:
        if op is c.LITERAL:
            out.append(chr(av))
        elif op is c.NOT_LITERAL:
            out.append(chr(av))
            out.extend(OUTSIDE)
        elif op is c.ANY:
            out.extend("社a")
        elif op is c.IN:
            for o, a in av:
                if o is c.LITERAL:
                    out.append(chr(a))
                elif o is c.RANGE:
                    out.extend((chr(a[0]), chr(a[1])))
                elif o is c.CATEGORY:
                    out.extend(REPRESENTATIVES.get(str(a).removeprefix("CATEGORY_"), ""))
                elif o is c.NEGATE:
                    out.extend(OUTSIDE)

    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)

    def walk(seq, in_rep: bool, at_start: bool) -> None:
        for op, av in seq:
            if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN):
                if in_rep:
                    chars(op, av, rep)
                if at_start:
                    chars(op, av, first)
            elif op in repeats:
                walk(av[2], in_rep or av[1] > 1, at_start)
            elif op is c.SUBPATTERN:
                walk(av[-1], in_rep, at_start)
            elif op is c.ATOMIC_GROUP:
                walk(av, in_rep, at_start)
            elif op is c.BRANCH:
                for s in av[1]:
                    walk(s, in_rep, at_start)
            elif op in (c.ASSERT, c.ASSERT_NOT):
                walk(av[1], in_rep, False)
            elif op is c.GROUPREF_EXISTS:
                walk(av[1], in_rep, at_start)
                if av[2]:
                    walk(av[2], in_rep, at_start)
            # after a zero-width or optional item the next one can still start a match
            zero = op in (c.AT, c.ASSERT, c.ASSERT_NOT) or (op in repeats and av[0] == 0)
            at_start = at_start and zero

    walk(sp.parse(pattern, flags), False, True)
    out = list(dict.fromkeys(rep))
    if len(out) > cap:
        out = [out[round(i * (len(out) - 1) / (cap - 1))] for i in range(cap)]
    if out:
        out += [ch for ch in dict.fromkeys(first) if ch not in out][:4]
    return out


def _cycle(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


COMMON: dict[str, Callable[[int], str]] = {
    "han": _cycle("社"),
    "ascii inside Chinese": lambda n: "社区" + "a" * (n - 4) + "工作",
    "digits": _cycle("1"),
    "full-width digits": _cycle("１"),
    "Chinese numerals": _cycle("一二三四五六七八九十百千万亿"),
    "spaces": _cycle(" "),
    "U+3000": _cycle("\u3000"),
    "space, U+3000": _cycle(" \u3000"),
    "punctuation": _cycle("，。、；：？！（）“”《》…—"),
    "ASCII punctuation": _cycle(".,:;!?()[]-_*#/"),
    "newlines": _cycle("\n"),
    "words": _cycle("社区工作 2023年 "),
}


def shapes(pattern: str, flags: int) -> dict[str, Callable[[int], str]]:
    cs = special_chars(pattern, flags)
    if not cs:
        return {k: COMMON[k] for k in ("han", "words", "ascii inside Chinese")}
    out = dict(COMMON)
    for ch in cs:
        out[f"run of {ch!r}"] = _cycle(ch)
        out[f"{ch!r} and 社"] = _cycle(ch + "社")
    for a, b in zip(cs, cs[1:]):
        out[f"{a!r} and {b!r}"] = _cycle(a + b)
    return out


def exercise(p: re.Pattern[str], uses: list[str]) -> Callable[[str], object]:
    """Apply *p* to a string the way the code does.

    ``match``/``fullmatch`` (from any position) and ``search`` from the start are one
    call; everything else (finditer, findall, sub, subn, split, a ``search`` from a
    position, which the code repeats along the text) is a scan to the end. A pattern the
    run never applied is scanned."""
    kinds = {u.removesuffix("@pos") if u.startswith(("match", "fullmatch")) else u
             for u in uses}
    calls: list[Callable[[str], object]] = [
        getattr(p, k) for k in sorted(kinds & {"match", "fullmatch", "search"})]
    if kinds - {"match", "fullmatch", "search"} or not calls:
        calls.append(lambda s: deque(p.finditer(s), maxlen=0))
    return lambda s: [f(s) for f in calls]


def _cpu(fn: Callable[[str], object], text: str) -> float:
    t0 = time.thread_time()
    fn(text)
    return time.thread_time() - t0


@pytest.fixture(scope="module")
def patterns() -> list[dict]:
    inputs = [str(ROOT / "data" / "raw"), str(ROOT / "tests" / "pages")]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", COLLECT, *inputs], capture_output=True,
                          text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout)
    for r in rows:
        if not r["uses"] and r["site"] in DECLARED:
            r["uses"] = list(DECLARED[r["site"]])
    return rows


@pytest.mark.slow
def test_the_collector_sees_every_module_that_compiles_patterns(patterns: list[dict]) -> None:
    seen = {r["site"].split(":")[0] for r in patterns}
    compiling = {p.relative_to(ROOT / "corpus_tools").as_posix()
                 for p in (ROOT / "corpus_tools").rglob("*.py")
                 if re.search(r"\bre\.compile\(", p.read_text("utf-8"))}
    missing = compiling - seen - {"cli.py"}  # cli.py: argument checks only
    assert not missing, f"patterns of {sorted(missing)} were not collected"
    assert len(patterns) > 150
    assert set(_windowed()) <= {r["site"] for r in patterns}, "stale WINDOWED entry"


def test_special_chars_finds_what_a_pattern_repeats() -> None:
    assert special_chars(r"[#＃](?<![#＃]{2})[#＃]+(?=[一-鿿])", 0)[:2] == ["#", "＃"]
    assert special_chars(r"\s+x", 0)[:2] == [" ", "\u3000"]
    assert special_chars("abc|def", 0) == []  # nothing repeated: no run can cascade


def test_the_audit_catches_a_quadratic_pattern() -> None:
    """The two rules issue 12 found, in their old form: both fail the audit's check."""
    old = [r"#+(?=[一-鿿])", r"[ \u3000]*社区工作"]
    for pattern in old:
        p = re.compile(pattern)
        fn = exercise(p, ["sub"])
        shape = shapes(pattern, 0)["run of " + repr(special_chars(pattern, 0)[0])]
        assert growth(fn, shape, 2_000, 8_000, runs=3) > BOUND


def _audit(row: dict) -> list[str]:
    """Every shape at 12.5k and 50k characters; a shape that grows faster than x5 there
    (or already takes 50 ms at 12.5k) is measured at 50k, 100k and 200k, best of several
    runs, and fails above x6 from 50k to 200k. A pattern with no repeat at all does a
    bounded amount of work per position and gets the fixed shapes only."""
    p = re.compile(row["pattern"], row["flags"])
    fn = exercise(p, row["uses"])
    bad = []
    for name, make in shapes(row["pattern"], row["flags"]).items():
        small = _cpu(fn, make(SIZES[0] // 4))
        if small > 0.05:  # 4 µs a character: measure the growth below 12.5k
            ratio = growth(fn, make, SIZES[0] // 16, SIZES[0] // 4, runs=3)
            if ratio > BOUND:  # measured again before failing (a loaded machine)
                ratio = growth(fn, make, SIZES[0] // 16, SIZES[0] // 4, runs=9)
            if ratio > BOUND:
                bad.append(f"{row['site']} {name}: x{ratio:.1f} from 3k to 12.5k characters")
            continue
        t50 = _cpu(fn, make(SIZES[0]))
        if t50 <= 5 * small or t50 < 1e-3:
            continue
        t = [min(_cpu(fn, make(n)) for _ in range(3)) for n in SIZES]
        if t[2] > BOUND * t[0]:
            ratio = growth(fn, make, SIZES[0], SIZES[2], runs=11)
            if ratio > BOUND:
                bad.append(f"{row['site']} {name}: x{ratio:.1f} from 50k to 200k characters "
                           f"({' / '.join(f'{x * 1000:.0f}' for x in t)} ms)")
    return bad


@pytest.mark.slow
def test_every_pattern_grows_linearly(patterns: list[dict]) -> None:
    windowed = _windowed()
    unused = _validation_only(patterns)
    bad: list[str] = []
    for row in patterns:
        if row["site"] in windowed or (row["pattern"], row["flags"]) in unused:
            continue
        bad += [f"{b} (uses {row['uses'] or 'unknown: scanned'}; {row['pattern'][:80]!r})"
                for b in _audit(row)]
    assert not bad, "superlinear patterns:\n" + "\n".join(bad)


@pytest.mark.parametrize("site", sorted(_windowed()))
def test_a_windowed_pattern_is_used_on_a_bounded_window(site: str) -> None:
    reason, caller, make = _windowed()[site]
    assert reason
    assert_linear(caller, make, 12_500, 50_000, bound=BOUND)


def test_a_run_of_backslashes_is_linear() -> None:
    """Found by the audit: _MD_ESCAPE_RE started a match at every backslash of a run."""
    from corpus_tools.normalize import normalize_text

    assert_linear(normalize_text, lambda n: "社区" + "\\" * n + "工作", 12_500, 50_000,
                  bound=BOUND)
