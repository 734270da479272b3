"""Per-page cost of the pipeline on distinct text: MB/s per core in CPU time, per stage.

Usage::

    python benchmarks/per_page.py CORPUS [--files N] [--base CHECKOUT] [--repeat R]

Runs ``pipeline.process_file`` (read, every per-page stage, writing the part) over the
first *N* readable files of CORPUS (a folder: e.g. the distinct corpus of
``benchmarks/make_corpus.py``), one process, warmed up first (dictionaries and rules
loaded, one page processed untimed), into a fresh temporary output folder. Reports the
input MB per CPU second of the whole per-file path and of each stage (time measured by
wrapping the stage functions; a stage called from inside another counts in the outer
one), best of *R* passes, and the CPU seconds a fresh process spends before its first
page: importing the pipeline, the warm-up page (stage rules), jieba's dictionaries. With ``--base CHECKOUT`` the same is measured on another
checkout of corpus_tools (run in a child process with ``PYTHONPATH=CHECKOUT``) and both
are printed side by side. Not a test: numbers depend on the machine and its load, which
is printed with them.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: (stage, module, function): the per-page path's top-level calls, in pipeline order.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("check_part", "store", "check_part"),
    ("read", "io", "read_page"),
    ("sha256", "pipeline", "_sha256"),
    ("script", "normalize", "detect_script"),
    ("boilerplate", "boilerplate", "strip_boilerplate"),
    ("zone_lines", "boilerplate", "zone_lines"),
    ("normalize", "normalize", "normalize_text"),
    ("articles", "articles", "split_articles"),
    ("preamble", "articles", "page_preamble"),
    ("repeated_blocks", "dedup", "remove_repeated_blocks"),
    ("title", "metadata", "document_title"),
    ("metadata", "metadata", "extract_metadata"),
    ("placeholders", "normalize", "count_placeholders"),
    ("sections", "sections", "split_sections"),
    ("metrics", "metrics", "extract_metrics"),
    ("panel", "indicators", "document_panel"),
    ("signature", "dedup", "minhash_signature"),
    ("write_part", "store", "write_part"),
)

_clock = time.process_time
_depth = [0]


def _wrap(spent: dict[str, float], stage: str, fn):
    def timed(*args, **kwargs):
        if _depth[0]:
            return fn(*args, **kwargs)
        _depth[0] += 1
        t0 = _clock()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[stage] += _clock() - t0
            _depth[0] -= 1

    return timed


def measure(corpus: str, n_files: int, repeat: int) -> dict:
    startup: dict[str, float] = {}
    t0 = _clock()
    from corpus_tools import metadata, pipeline
    from corpus_tools.config import RunConfig

    startup["import"] = _clock() - t0
    config = RunConfig()
    files = [f for f in pipeline.discover([corpus]) if not f.problem]
    files = files[:n_files] if n_files else files
    size = sum(os.path.getsize(f.path) for f in files)
    t0 = _clock()
    pipeline._warm_up(config)
    startup["warm_up"] = _clock() - t0
    t0 = _clock()
    if hasattr(metadata, "_pos_tokenizer"):
        metadata._pos_tokenizer()
    startup["pos_dictionary"] = _clock() - t0
    with tempfile.TemporaryDirectory(prefix="per-page-") as tmp:
        pipeline.process_file((files[0], tmp, config))  # first-call costs, untimed
    spent = {stage: 0.0 for stage, _, _ in STAGES}
    for stage, module, name in STAGES:
        mod = importlib.import_module(f"corpus_tools.{module}")
        if hasattr(mod, name):
            setattr(mod, name, _wrap(spent, stage, getattr(mod, name)))
    best: dict | None = None
    for _ in range(repeat):
        for stage in spent:
            spent[stage] = 0.0
        gc.collect()
        with tempfile.TemporaryDirectory(prefix="per-page-") as tmp:
            t0 = _clock()
            for f in files:
                pipeline.process_file((f, tmp, config))
            total = _clock() - t0
        if best is None or total < best["cpu"]:
            best = {"cpu": total, "stages": dict(spent)}
    assert best is not None
    return {"files": len(files), "mb": size / 1e6, "startup": startup, **best}


def report(results: dict[str, dict]) -> str:
    names = list(results)
    lines = []
    head = f"{'stage':<22}" + "".join(f"{n + ' s':>12}{n + ' MB/s':>14}" for n in names)
    lines.append(head)
    first = results[names[0]]
    rows = [stage for stage, _, _ in STAGES]
    for stage in [*rows, "other", "total"]:
        cells = []
        for n in names:
            r = results[n]
            if stage == "total":
                s = r["cpu"]
            elif stage == "other":
                s = r["cpu"] - sum(r["stages"].values())
            else:
                s = r["stages"].get(stage, 0.0)
            rate = r["mb"] / s if s > 0 else float("inf")
            cells.append(f"{s:>12.3f}{rate:>14.1f}")
        lines.append(f"{stage:<22}" + "".join(cells))
    for part in first.get("startup", {}):
        cells = "".join(f"{results[n].get('startup', {}).get(part, 0.0):>12.3f}{'':>14}"
                        for n in names)
        lines.append(f"{'start: ' + part:<22}" + cells)
    lines.append(f"{first['files']} files, {first['mb']:.1f} MB; load average "
                 f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("corpus")
    p.add_argument("--files", type=int, default=0, help="first N files (default: all)")
    p.add_argument("--repeat", type=int, default=1, help="passes; the best is reported")
    p.add_argument("--base", help="another checkout of corpus_tools to compare with")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.json:
        print(json.dumps(measure(args.corpus, args.files, args.repeat)))
        return
    results: dict[str, dict] = {}
    runs = [("base", args.base)] if args.base else []
    runs.append(("this", str(Path(__file__).resolve().parent.parent)))
    for label, root in runs:
        env = dict(os.environ, PYTHONPATH=root)
        cmd = [sys.executable, os.path.abspath(__file__), args.corpus, "--json",
               "--files", str(args.files), "--repeat", str(args.repeat)]
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True,
                              cwd=tempfile.gettempdir())
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    print(report(results))


if __name__ == "__main__":
    main()
