"""Boilerplate and articles throughput of this checkout against another one, side by side.

    python benchmarks/compare_stages.py ../shared/corpus --base /path/to/other/checkout

Each round times both checkouts, one after the other, in fresh subprocesses (the same
interpreter, ``PYTHONPATH`` pointing at each checkout), so a shared, loaded machine slows
both alike; the medians over the rounds are compared. Stage inputs as in ``bench.py``:
``strip_boilerplate`` on the raw pages, ``split_articles`` on the stripped, normalized
pages (each checkout's own), best of 3 from cold per-line caches, in CPU time
(``time.process_time``: on a loaded machine wall time measures the other processes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import gc, json, sys, time
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from corpus_tools import articles, boilerplate
from corpus_tools.articles import split_articles
from corpus_tools.boilerplate import strip_boilerplate
from corpus_tools.normalize import normalize_text

def cold():
    for module in (articles, boilerplate):
        for obj in vars(module).values():
            if callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "cache_info"):
                if obj.cache_info().maxsize is not None:
                    obj.cache_clear()

def timed(fn, texts):
    best = float("inf")
    for _ in range(3):
        cold(); gc.collect()
        t0 = time.process_time()
        for t in texts:
            fn(t)
        best = min(best, time.process_time() - t0)
    return best

raw = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
norm = [normalize_text(strip_boilerplate(t).text) for t in raw]
mb = lambda ts: sum(len(t.encode("utf-8")) for t in ts) / 1e6
print(json.dumps({"boilerplate": mb(raw) / timed(strip_boilerplate, raw),
                  "articles": mb(norm) / timed(split_articles, norm),
                  "module": articles.__file__}))
"""


def measure(corpus: Path, checkout: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(checkout)
    out = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(checkout)], env=env,
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert str(checkout) in result.pop("module"), "the other checkout was not imported"
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--base", type=Path, required=True, help="the checkout to compare against")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    here = HERE.parent
    runs: dict[str, list[dict[str, float]]] = {"this": [], "base": []}
    for i in range(args.rounds):
        order = [("this", here), ("base", args.base)]
        for name, path in order if i % 2 == 0 else order[::-1]:
            runs[name].append(measure(args.corpus, path.resolve()))
        print(f"round {i + 1}: " + ", ".join(
            f"{n} {r[-1]['boilerplate']:.1f}/{r[-1]['articles']:.1f} MB/s"
            for n, r in runs.items()), flush=True)
    print("\n| stage | base MB/s (median) | this MB/s (median) | this / base |")
    print("|---|---:|---:|---:|")
    for stage in ("boilerplate", "articles"):
        b = statistics.median(r[stage] for r in runs["base"])
        t = statistics.median(r[stage] for r in runs["this"])
        print(f"| {stage} | {b:.1f} | {t:.1f} | {t / b:.2f} |")


if __name__ == "__main__":
    main()
