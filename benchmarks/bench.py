"""Throughput and memory of corpus_tools, beside the peer libraries, on a real corpus.

Usage::

    python benchmarks/bench.py ../shared/corpus [--big-gb 1.0] [--out benchmarks/RESULTS.md]

Measures, on one core, MB/s of every per-page stage over the corpus (UTF-8 bytes of the
stage's input), of the peers a researcher would otherwise use (OpenCC t2s
itself, jieba ``lcut``, JioNLP ``clean_text`` + ``extract_money``), then the whole pipeline
(``corpus_tools.pipeline.run``, themes off) with 1 and 2 workers on the corpus and on a
corpus of about ``--big-gb`` GB made by repeating it, with peak RSS. Not a test: numbers
depend on the machine, so they are written down with the machine and the command.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def mb(texts: Iterable[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


def cold_caches() -> None:
    """Empty the per-line caches of the stages, so that no stage is timed on lines it has
    already seen in an earlier measurement (within one pass, template pages repeating their
    lines do profit from them, as they would in a real run)."""
    from corpus_tools import articles, boilerplate

    for module in (articles, boilerplate):
        for obj in vars(module).values():
            if callable(getattr(obj, "cache_clear", None)) and hasattr(obj, "cache_info"):
                info = obj.cache_info()
                if info.maxsize is not None:  # the bounded per-line caches, not rule loaders
                    obj.cache_clear()


def timed(fn: Callable[[str], object], texts: list[str], *, repeat: int = 1) -> float:
    """Best-of-*repeat* seconds to run *fn* over every text, from cold per-line caches."""
    best = float("inf")
    for _ in range(repeat):
        cold_caches()
        gc.collect()
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - t0)
    return best


def load(corpus: Path) -> list[tuple[str, str]]:
    out = []
    for p in sorted(corpus.glob("*.txt")):
        out.append((p.name, p.read_text(encoding="utf-8")))
    return out


def stage_rows(files: list[tuple[str, str]]) -> list[tuple[str, str, float, float]]:
    """(stage, what, MB, seconds) for every stage and peer."""
    from corpus_tools.articles import split_articles
    from corpus_tools.boilerplate import strip_boilerplate
    from corpus_tools.dedup import minhash_signature, remove_repeated_blocks
    from corpus_tools.metrics import extract_metrics
    from corpus_tools.normalize import detect_script, normalize_text
    from corpus_tools.sections import split_sections
    from corpus_tools.tokens import tokenize

    raw = [t for _, t in files]
    simplified = [t for t in raw if detect_script(t) == "simplified"]
    traditional = [t for t in raw if detect_script(t) != "simplified"]
    stripped = [strip_boilerplate(t).text for t in raw]
    normalized = [normalize_text(t) for t in stripped]
    docs = [a.text for t in normalized for a in split_articles(t)]
    docs = [remove_repeated_blocks(d)[0] for d in docs]

    rows = []

    def add(stage: str, what: str, fn: Callable[[str], object], texts: list[str]) -> None:
        if texts:
            rows.append((stage, what, mb(texts), timed(fn, texts)))
            print(f"  {stage:<28} {rows[-1][2] / rows[-1][3]:8.2f} MB/s", flush=True)

    add("normalize (simplified)", "raw simplified pages", normalize_text, simplified)
    add("normalize (traditional)", "raw traditional pages", normalize_text, traditional)
    add("boilerplate", "raw pages", strip_boilerplate, raw)
    add("articles", "normalized pages", split_articles, normalized)
    add("dedup (blocks + MinHash)", "documents",
        lambda d: (remove_repeated_blocks(d), minhash_signature(d)), docs)
    add("sections", "documents", split_sections, docs)
    add("metrics", "documents", extract_metrics, docs)
    # As the pipeline calls it: with the section tree and the year (stance from the report's
    # parts), and the document's panel rows (corpus_tools.indicators).
    from corpus_tools.indicators import document_panel
    from corpus_tools.metadata import extract_metadata

    context = {}
    for d in docs:
        meta = extract_metadata("", d)
        context[id(d)] = (split_sections(d), meta.get("year"), meta.get("doc_type"))

    def metrics_in_context(d: str) -> None:
        secs, year, doc_type = context[id(d)]
        ms = extract_metrics(d, sections=secs, year=year, doc_type=doc_type)
        if any(m.indicator for m in ms):
            document_panel({"doc_id": "x", "year": year, "doc_type": doc_type, "text": d}, ms,
                           secs)

    add("metrics + indicators + panel", "documents", metrics_in_context, docs)

    def per_page(t: str) -> None:
        s = normalize_text(strip_boilerplate(t).text)
        for a in split_articles(s):
            d, _ = remove_repeated_blocks(a.text)
            secs = split_sections(d)
            extract_metrics(d, sections=secs)
            minhash_signature(d)

    add("per-page stages together", "raw simplified pages", per_page, simplified)
    add("per-page stages together", "raw pages (all)", per_page, raw)
    add("tokenize (themes)", "documents", tokenize, docs)

    # Peers, on the same text.
    import jieba
    import opencc

    jieba.setLogLevel(60)
    jieba.initialize()
    t2s = opencc.OpenCC("t2s")
    add("peer: OpenCC t2s (C++ binding)", "raw simplified pages", t2s.convert, simplified)
    add("peer: OpenCC t2s (C++ binding)", "raw traditional pages", t2s.convert,
        traditional)
    add("peer: jieba.lcut", "documents", jieba.lcut, docs)
    try:
        import jionlp

        def jio(t: str) -> None:
            try:
                jionlp.ner.extract_money(jionlp.clean_text(t))
            except Exception:
                pass

        add("peer: jionlp clean_text + extract_money", "documents", jio, docs)
        add("peer: jionlp extract_money", "documents",
            lambda t: _safe(jionlp.ner.extract_money, t), docs)
    except ImportError:
        print("  (jionlp not installed: pip install 'corpus-tools[bench]')")
    return rows


def _safe(fn: Callable[[str], object], t: str) -> None:
    try:
        fn(t)
    except Exception:
        pass


def make_big(corpus: Path, target: Path, gb: float) -> float:
    """Fill *target* with copies of the corpus until it holds about *gb* GB."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    files = sorted(corpus.glob("*.txt"))
    size, i = 0, 0
    while size < gb * 1e9:
        d = target / f"copy{i:04d}"
        d.mkdir()
        for p in files:
            shutil.copyfile(p, d / p.name)
            size += p.stat().st_size
        i += 1
    return size / 1e6


def pipeline_run(inputs: Path, out: Path, workers: int) -> tuple[float, float]:
    """Seconds and peak RSS (MB, largest process) of a whole run in a fresh process."""
    if out.exists():
        shutil.rmtree(out)
    code = (
        "import resource, sys, time\n"
        "from corpus_tools.config import RunConfig\n"
        "from corpus_tools.pipeline import run\n"
        "t = time.perf_counter()\n"
        f"run([{str(inputs)!r}], {str(out)!r}, RunConfig(workers={workers}, themes=False,"
        " charts=False, resume=False))\n"
        "s = time.perf_counter() - t\n"
        "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(s, max(me, kids) / 1024)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    seconds, rss = res.stdout.split()[-2:]
    return float(seconds), float(rss)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="folder of .txt pages, e.g. ../shared/corpus")
    ap.add_argument("--big-gb", type=float, default=1.0,
                    help="size of the repeated corpus for the scaling run (0 to skip)")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    ap.add_argument("--work", type=Path, default=HERE / "_work")
    args = ap.parse_args(argv)

    files = load(args.corpus)
    total = mb(t for _, t in files)
    print(f"corpus: {len(files)} files, {total:.1f} MB (UTF-8)", flush=True)
    print("per stage, one core:", flush=True)
    rows = stage_rows(files)

    runs = []
    print("whole pipeline:", flush=True)
    for workers in (1, 2):
        s, rss = pipeline_run(args.corpus, args.work / "out", workers)
        runs.append(("corpus", total, workers, s, rss))
        print(f"  corpus, {workers} worker(s): {total / s:.2f} MB/s, peak RSS {rss:.0f} MB",
              flush=True)
    if args.big_gb > 0:
        big_mb = make_big(args.corpus, args.work / "big", args.big_gb)
        for workers in (1, 2):
            s, rss = pipeline_run(args.work / "big", args.work / "out", workers)
            runs.append((f"repeated x{round(big_mb / total)}", big_mb, workers, s, rss))
            print(f"  big, {workers} worker(s): {big_mb / s:.2f} MB/s, peak RSS {rss:.0f} MB",
                  flush=True)
    shutil.rmtree(args.work, ignore_errors=True)
    write_results(args, files, total, rows, runs)
    print(f"written {args.out}")
    return 0


def write_results(args, files, total, rows, runs) -> None:
    import corpus_tools

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        "# Benchmark results",
        "",
        f"- command: `python benchmarks/bench.py {args.corpus} --big-gb {args.big_gb}`",
        f"- corpus_tools {corpus_tools.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu})",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"- corpus: {len(files)} files, {total:.1f} MB UTF-8",
        "",
        "## Stages and peers, one core",
        "",
        "| stage | input | MB | seconds | MB/s |",
        "|---|---|---:|---:|---:|",
    ]
    for stage, what, size, secs in rows:
        lines.append(f"| {stage} | {what} | {size:.2f} | {secs:.2f} | {size / secs:.2f} |")
    lines += [
        "",
        "## Whole pipeline (`corpus_tools.pipeline.run`, themes and charts off)",
        "",
        "| corpus | MB | workers | seconds | MB/s | speed-up | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    base: dict[str, float] = {}
    for name, size, workers, secs, rss in runs:
        if workers == 1:
            base[name] = secs
        speed = base.get(name, secs) / secs
        lines.append(f"| {name} | {size:.0f} | {workers} | {secs:.1f} | {size / secs:.2f} "
                     f"| {speed:.2f}x | {rss:.0f} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
