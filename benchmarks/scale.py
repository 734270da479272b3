"""How a whole run grows with the corpus: time per phase, peak memory, bytes on disk.

Usage (after ``pip install -e '.[bench]'``)::

    python benchmarks/scale.py ../shared/corpus                 # 100 MB and 500 MB
    python benchmarks/scale.py ../shared/corpus --sizes 100 --compare-workers
    python benchmarks/scale.py ../shared/corpus --huge          # adds the 2 GB run

For each size a distinct corpus is made from the sentences of the given one
(``benchmarks/make_corpus.py``, fixed seed; kept under ``--work`` and reused), then
``corpus-tools run CORPUS --out OUT --workers N`` runs with defaults (themes and charts
included unless ``--no-themes``) in a fresh output folder, watched from outside: wall time,
peak RSS and peak PSS of the whole process tree (the run, its workers, Dask's processes;
sampled every 0.2 s; PSS counts pages the forked workers share once), the per-phase split the manifest records, and the bytes of ``OUT/.parts`` and of the
tables. Then the same command again on the unchanged corpus (what a resumed run costs).
Growth exponents between consecutive sizes (``log(v2/v1) / log(s2/s1)``: 1 is linear, 0
flat) close the table. The results go into ``RESULTS.md`` between ``<!-- scale -->``
markers, with the machine's load average before and after each run: two shared cores, so
read the numbers with it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_corpus import make  # noqa: E402

PHASES = ("pages", "duplicates", "tables", "tail", "themes", "charts")


def _tree_memory(proc) -> tuple[int, int]:  # noqa: ANN001 - a psutil.Process
    """(RSS, PSS) summed over *proc* and its descendants. Summed RSS counts a page shared
    by forked processes (the workers' preloaded stages) once per process; PSS shares it
    out, so its sum is the memory the tree really holds."""
    import psutil

    rss = pss = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for p in procs:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss, pss


def watch(cmd: list[str], *, nice: int = 0) -> tuple[float, int, int, int]:
    """Run *cmd*; return (wall seconds, peak RSS and peak PSS of its process tree, exit
    code)."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    ps = psutil.Process(proc.pid)
    peak = peak_pss = 0
    while proc.poll() is None:
        rss, pss = _tree_memory(ps)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.2)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode:
        print(err[-3000:], file=sys.stderr)
    return wall, peak, peak_pss, proc.returncode


def _bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def corpus(source: Path, work: Path, mb: float, seed: int) -> Path:
    target = work / f"corpus-{mb:g}mb-seed{seed}"
    done = target / ".complete"
    if not done.exists():
        shutil.rmtree(target, ignore_errors=True)
        make(source, target, mb, seed=seed)
        done.write_text("ok")
    return target


def one_run(data: Path, out: Path, workers: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "corpus_tools", "run", str(data), "--out", str(out),
           "--workers", str(workers), "--quiet"]
    if args.engine != "local":
        cmd += ["--engine", args.engine]
    if args.no_themes:
        cmd += ["--no-themes", "--no-charts"]
    load0 = os.getloadavg()[0]
    wall, peak, peak_pss, code = watch(cmd, nice=args.nice)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    return {
        "wall": wall, "peak_rss": peak, "peak_pss": peak_pss, "exit": code,
        "load": (load0, os.getloadavg()[0]),
        "timings": manifest.get("timings", {}),
        "parts": _bytes(out / ".parts"),
        "tables": sum(_bytes(p) for p in out.glob("*.parquet")),
        "steps": {k: bool(v.get("reused")) for k, v in manifest.get("steps", {}).items()},
    }


def exponent(a: float, b: float, sa: float, sb: float) -> str:
    if a <= 0 or b <= 0:
        return "-"
    return f"{math.log(b / a) / math.log(sb / sa):.2f}"


def report(rows: list[dict], args: argparse.Namespace, command: str) -> str:
    mb = 1e6
    lines = [
        "<!-- scale -->",
        "## Scale: distinct corpora (`benchmarks/scale.py`)",
        "",
        f"- command: `{command}`",
        f"- {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} cores; date {time.strftime('%Y-%m-%d %H:%M')}",
        f"- corpus: `make_corpus.py` from {args.source} (seed {args.seed}, 20 KB documents); "
        f"engine {args.engine}; {'themes and charts off' if args.no_themes else 'defaults'}"
        f"{f'; nice {args.nice}' if args.nice else ''}",
        "",
        "| input MB | workers | run | wall s | " + " | ".join(f"{p} s" for p in PHASES)
        + " | page MB/s per core | peak RSS MB | peak PSS MB | .parts MB | tables MB | on disk / input "
        "| load before/after |",
        "|---:|---:|---|---:|" + "---:|" * len(PHASES) + "---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        t = r["timings"]
        pages = t.get("pages") or 0
        per_core = r["mb"] / pages / r["workers"] if pages else 0
        disk = (r["parts"] + r["tables"]) / (r["input_bytes"] or 1)
        lines.append(
            f"| {r['mb']:g} | {r['workers']} | {r['kind']} | {r['wall']:.1f} | "
            + " | ".join(f"{t[p]:.1f}" if p in t else "-" for p in PHASES)
            + f" | {per_core:.2f} | {r['peak_rss'] / mb:.0f} | "
            f"{r.get('peak_pss', 0) / mb:.0f} | {r['parts'] / mb:.0f} | "
            f"{r['tables'] / mb:.0f} | {disk:.2f}x | {r['load'][0]:.1f} / {r['load'][1]:.1f} |")
    first = [r for r in rows if r["kind"] == "first"]
    by_workers: dict[int, list[dict]] = {}
    for r in first:
        by_workers.setdefault(r["workers"], []).append(r)
    for w, rs in sorted(by_workers.items()):
        rs.sort(key=lambda r: r["mb"])
        if len(rs) < 2:
            continue
        lines += ["", f"Growth exponents, {w} worker(s) (1 = linear in the input, 0 = flat):",
                  "", "| from → to MB | wall | " + " | ".join(PHASES)
                  + " | peak RSS | on disk |", "|---|" + "---:|" * (len(PHASES) + 3)]
        for a, b in zip(rs, rs[1:], strict=False):
            cells = [exponent(a["wall"], b["wall"], a["mb"], b["mb"])]
            cells += [exponent(a["timings"].get(p, 0), b["timings"].get(p, 0), a["mb"], b["mb"])
                      for p in PHASES]
            cells.append(exponent(a["peak_rss"], b["peak_rss"], a["mb"], b["mb"]))
            cells.append(exponent(a["parts"] + a["tables"], b["parts"] + b["tables"],
                                  a["mb"], b["mb"]))
            lines.append(f"| {a['mb']:g} → {b['mb']:g} | " + " | ".join(cells) + " |")
    pairs = {(r["mb"], r["workers"]): r for r in first}
    for (size, w), r in sorted(pairs.items()):
        one = pairs.get((size, 1))
        if w > 1 and one:
            lines += ["", f"{w} workers vs 1 at {size:g} MB: wall {one['wall'] / r['wall']:.2f}x, "
                      f"pages {one['timings']['pages'] / r['timings']['pages']:.2f}x."]
    lines += ["<!-- /scale -->"]
    return "\n".join(lines) + "\n"


def write_results(path: Path, block: str) -> None:
    text = path.read_text("utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"<!-- scale -->.*?<!-- /scale -->\n?", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else (
        text.rstrip("\n") + "\n\n" + block)
    path.write_text(text, "utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="a corpus whose sentences to re-assemble")
    ap.add_argument("--sizes", default="100,500", help="MB, comma-separated")
    ap.add_argument("--huge", action="store_true", help="add the 2 GB run (2000 MB)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--compare-workers", action="store_true",
                    help="also run the smallest size with 1 worker")
    ap.add_argument("--engine", default="local", choices=("local", "dask"))
    ap.add_argument("--no-themes", action="store_true")
    ap.add_argument("--no-rerun", action="store_true", help="skip the unchanged re-run")
    ap.add_argument("--nice", type=int, default=0, help="run the pipeline under nice N")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/corpus-tools-scale"))
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = ap.parse_args()
    sizes = [float(x) for x in args.sizes.split(",") if x]
    if args.huge:
        sizes.append(2000.0)
    plan = [(s, args.workers) for s in sizes]
    if args.compare_workers and args.workers != 1:
        plan.insert(0, (min(sizes), 1))
    rows = []
    for size, workers in plan:
        data = corpus(args.source, args.work, size, args.seed)
        input_bytes = _bytes(data) - 2  # the .complete marker
        out = args.work / f"out-{size:g}mb-w{workers}"
        shutil.rmtree(out, ignore_errors=True)
        kinds = ["first"] if args.no_rerun else ["first", "rerun"]
        for kind in kinds:
            print(f"{size:g} MB, {workers} worker(s), {kind} run ...", flush=True)
            r = one_run(data, out, workers, args)
            r.update(mb=size, workers=workers, kind=kind, input_bytes=input_bytes)
            print(json.dumps({k: v for k, v in r.items() if k != "steps"}), flush=True)
            rows.append(r)
        write_results(args.out, report(rows, args, "python " + " ".join(sys.argv)))
    print(report(rows, args, "python " + " ".join(sys.argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
