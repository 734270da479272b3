"""A distinct synthetic corpus of a given size, from the sentences of a real one.

Usage::

    python benchmarks/make_corpus.py ../shared/corpus /tmp/corpus-100mb --mb 100 [--seed 0]

Every page of the source corpus (read as the pipeline reads it) is cut into sentences
(at 。！？ and line ends); new documents of about ``--doc-kb`` KB are drawn from them with
a fixed seed: a title, then numbered sections (一、 二、 … with 1. 2. items), each a run of
randomly chosen sentences. No two documents share more than chance, so the duplicate pass
flags nothing and every stage sees distinct text (repeating a corpus would not: its
near-duplicates and repeated furniture are dropped before the expensive stages). About 1 %
of the documents are drawn from the traditional-script sentences only, as in the source.
Files go 500 to a folder. The same arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

from corpus_tools.io import read_page
from corpus_tools.normalize import detect_script

_SPLIT = re.compile(r"(?<=[。！？])|\n")
_NUMERALS = "一二三四五六七八九十"
_PLACES = ("东风", "西湖", "南山", "北岭", "青山", "河畔", "新华", "和平", "团结", "光明")
_KINDS = ("社区", "街道", "镇", "县", "区")
_GENRES = ("工作总结", "工作汇报", "工作计划", "政府工作报告")


def sentences(source: Path) -> tuple[list[str], list[str]]:
    """(simplified, traditional) sentences of every page under *source*: 8-300 chars."""
    simp: list[str] = []
    trad: list[str] = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        try:
            pages, _ = read_page(path)
        except Exception:  # not a page (the manifest, a binary): skip
            continue
        for page in pages:
            pool = trad if detect_script(page.text) == "traditional" else simp
            for s in _SPLIT.split(page.text):
                s = s.strip().lstrip("\u3000")
                if 8 <= len(s) <= 300:
                    pool.append(s)
    return simp, trad


def document(rnd: random.Random, pool: list[str], target_chars: int, n: int) -> str:
    place = rnd.choice(_PLACES) + rnd.choice(_KINDS)
    year = rnd.randint(2005, 2025)
    lines = [f"{place}{year}年{rnd.choice(_GENRES)}（{n}）", ""]
    size = 0
    section = 0
    while size < target_chars:
        section += 1
        head = f"{_NUMERALS[(section - 1) % 10]}、{rnd.choice(pool)[:18].rstrip('，。、；')}"
        lines.append(head)
        for item in range(1, rnd.randint(2, 5)):
            para = "".join(rnd.choice(pool) for _ in range(rnd.randint(2, 6)))
            lines.append(f"{item}.{para}" if rnd.random() < 0.5 else para)
            size += len(para)
        lines.append("")
    return "\n".join(lines) + "\n"


def make(source: Path, out: Path, mb: float, *, seed: int = 0, doc_kb: float = 20) -> int:
    """Write the corpus; return the number of files. UTF-8 sizes are counted exactly."""
    simp, trad = sentences(source)
    if not simp:
        raise SystemExit(f"no sentences found under {source}")
    rnd = random.Random(seed)
    target = int(mb * 1e6)
    written = n = 0
    out.mkdir(parents=True, exist_ok=True)
    while written < target:
        pool = trad if trad and rnd.random() < 0.01 else simp
        text = document(rnd, pool, int(doc_kb * 1000 / 3), n)
        folder = out / f"{n // 500:04d}"
        folder.mkdir(exist_ok=True)
        data = text.encode("utf-8")
        (folder / f"doc_{n:07d}.txt").write_bytes(data)
        written += len(data)
        n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--mb", type=float, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--doc-kb", type=float, default=20)
    args = ap.parse_args()
    n = make(args.source, args.out, args.mb, seed=args.seed, doc_kb=args.doc_kb)
    print(f"{args.out}: {n} files, {args.mb} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
