"""Compare OpenCC's C++ binding (the dependency) with opencc-python-reimplemented (the
converter the project used before) on every text at hand, line by line.

The two packages install the same import name, so the old one lives in a venv of its own::

    python -m venv /tmp/oldcc && /tmp/oldcc/bin/pip install opencc-python-reimplemented
    .venv/bin/python benchmarks/compare_opencc.py --old-python /tmp/oldcc/bin/python \\
        data/raw tests ../shared/seeds ../shared/corpus

Every line of every page (read as the pipeline reads it: encodings, HTML, JSONL records)
and every string in the YAML test cases is converted with t2s by both; lines that come out
different are printed with the characters that differ, and a summary counts lines,
characters and pages by script. Also prints the speed of both on the traditional pages.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from corpus_tools.io import read_page
from corpus_tools.normalize import _t2s, detect_script
from corpus_tools.pipeline import SUPPORTED_SUFFIXES

_OLD = """
import json, sys, time, opencc
lines = json.load(sys.stdin)
convert = opencc.OpenCC("t2s").convert
t0 = time.perf_counter()
out = [convert(x) for x in lines]
print(json.dumps({"lines": out, "seconds": time.perf_counter() - t0}, ensure_ascii=False))
"""


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def texts(paths: list[Path]) -> list[tuple[str, str]]:
    """(label, text) of every page under *paths* and every YAML string."""
    found: list[tuple[str, str]] = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            if p.suffix in (".yaml", ".yml"):
                for i, s in enumerate(_strings(yaml.safe_load(p.read_text("utf-8")))):
                    found.append((f"{p}#{i}", s))
            elif p.suffix.lower() in SUPPORTED_SUFFIXES:
                try:
                    pages, _ = read_page(p)
                except Exception:  # not a page (a broken test fixture): nothing to compare
                    continue
                found.extend((f"{p}:{pg.record}" if pg.record is not None else str(p), pg.text)
                             for pg in pages)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--old-python", required=True, help="a python with the old converter")
    args = ap.parse_args()
    pages = texts(args.paths)
    lines = [(label, line) for label, text in pages for line in text.split("\n") if line]
    old = json.loads(subprocess.run(
        [args.old_python, "-c", _OLD], input=json.dumps([x for _, x in lines]),
        capture_output=True, text=True, check=True).stdout)
    convert = _t2s()
    t0 = time.perf_counter()
    new = [convert(x) for _, x in lines]
    new_seconds = time.perf_counter() - t0
    differ = 0
    chars: Counter[tuple[str, str, str]] = Counter()
    for (label, line), a, b in zip(lines, old["lines"], new, strict=True):
        if a == b:
            continue
        differ += 1
        pairs = [(o, c, n) for o, c, n in zip(line, a, b, strict=False) if c != n]
        for pair in pairs:
            chars[pair] += 1
        if len(a) != len(b):
            chars[("(length)", a, b)] += 1
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
        lo = max(0, at - 20)
        print(f"{label}: {line[lo:at + 20]!r}\n    old {a[lo:at + 20]!r}\n"
              f"    new {b[lo:at + 20]!r}")
    n_chars = sum(len(x) for _, x in lines)
    scripts = Counter(detect_script(t) for _, t in pages)
    print(f"\n{len(pages)} texts ({dict(scripts)}), {len(lines)} lines, {n_chars} characters")
    print(f"lines converted differently: {differ}")
    for (src, o, n), k in chars.most_common():
        print(f"  {src} -> old {o} / new {n}: {k}x")
    mb = sum(len(x.encode()) for _, x in lines) / 1e6
    print(f"t2s on all lines: old {mb / old['seconds']:.1f} MB/s, new {mb / new_seconds:.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
