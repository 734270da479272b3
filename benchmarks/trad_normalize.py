"""Normalization of traditional-script pages on one core, in CPU time (issue 15's target:
>= 20 MB/s).

Usage: ``python benchmarks/trad_normalize.py PATH [PATH ...] [--passes 5]``: every ``.txt``
under the paths (e.g. ``../shared/corpus`` and a distinct corpus made by
``benchmarks/make_corpus.py``) whose script :func:`detect_script` calls traditional is
normalized once untimed (OpenCC's dictionaries load), then *passes* times; prints the MB of
UTF-8 per CPU second, best and median. Not a test: the number depends on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from corpus_tools.normalize import detect_script, normalize_text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--limit", type=int, default=5000, help="files read per path at most")
    args = ap.parse_args()
    texts = []
    for path in args.paths:
        files = [path] if path.is_file() else sorted(path.rglob("*.txt"))[: args.limit]
        texts += [f.read_text("utf-8", errors="replace") for f in files]
    trad = [t for t in texts if detect_script(t) == "traditional"]
    if not trad:
        raise SystemExit("no traditional text under the paths")
    size = sum(len(t.encode("utf-8")) for t in trad) / 1e6
    for t in trad:
        normalize_text(t)
    times = []
    for _ in range(args.passes):
        start = time.process_time()
        for t in trad:
            normalize_text(t)
        times.append(time.process_time() - start)
    print(f"{len(trad)} traditional texts, {size:.3f} MB: best {size / min(times):.1f} MB/s, "
          f"median {size / statistics.median(times):.1f} MB/s (CPU time, {args.passes} passes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
