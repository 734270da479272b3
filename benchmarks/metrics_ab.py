"""Metrics throughput against an earlier version of the toolkit, in one process (A/B).

On a shared, loaded machine wall-clock MB/s swing by 2-5x between runs; comparing two
versions in the same process, interleaved, with the best of N CPU times, keeps the ratio
meaningful. Usage::

    git archive 9ef71ea corpus_tools | tar -x -C /tmp/base   # the version to compare with
    python benchmarks/metrics_ab.py /tmp/base ../shared/corpus [--repeat 15]

The earlier package is imported under the name ``corpus_tools_base`` (a renamed copy), so
both versions' ``extract_metrics`` run on the same documents.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", type=Path, help="folder holding the earlier corpus_tools/")
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(args.base / "corpus_tools", tmp / "corpus_tools_base")
    rules = tmp / "corpus_tools_base" / "rules.py"
    rules.write_text(rules.read_text("utf-8").replace('files("corpus_tools")',
                                                      'files("corpus_tools_base")'), "utf-8")
    sys.path.insert(0, str(tmp))
    sys.path.insert(0, str(HERE.parent))
    import bench
    from corpus_tools_base import metrics as base

    from corpus_tools import metrics as now
    from corpus_tools.articles import split_articles
    from corpus_tools.boilerplate import strip_boilerplate
    from corpus_tools.dedup import remove_repeated_blocks
    from corpus_tools.normalize import normalize_text
    from corpus_tools.sections import split_sections

    files = bench.load(args.corpus)
    docs = [remove_repeated_blocks(a.text)[0] for _, t in files
            for a in split_articles(normalize_text(strip_boilerplate(t).text))]
    secs = {id(d): split_sections(d) for d in docs}
    mb = bench.mb(docs)
    fns = {
        "base extract_metrics(text)": lambda d: base.extract_metrics(d),
        "now extract_metrics(text)": lambda d: now.extract_metrics(d),
        "now with sections and year": lambda d: now.extract_metrics(d, sections=secs[id(d)],
                                                                   year=2020),
    }
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(args.repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.process_time()
            for d in docs:
                fn(d)
            best[name] = min(best[name], time.process_time() - t0)
    first = best["base extract_metrics(text)"]
    for name, sec in best.items():
        print(f"| {name} | {mb:.2f} | {sec:.3f} | {mb / sec:.2f} | {sec / first:.2f}x |")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
