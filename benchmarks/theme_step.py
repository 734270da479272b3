"""The theme step alone, on the tables of a finished run: wall time and peak memory.

Usage (after ``pip install -e '.[bench]'``)::

    python benchmarks/theme_step.py OUT [OUT2 ...] --workers 2 [--base /path/to/checkout]
        [--engine dask] [--nice 10] [--work /tmp/theme-step]

For each OUT (a folder written by ``corpus-tools run``), ``documents.parquet``,
``sections.parquet`` and ``manifest.json`` are copied into a fresh folder under ``--work``
and ``corpus-tools themes --out THAT --workers N`` runs there, watched from outside
(``scale.watch``: wall time, peak RSS of the whole process tree, workers included). With
``--base`` the same is done with another checkout's ``corpus_tools`` (first on the path; its
``themes`` command may not take ``--workers``: it then runs without), and the four theme
tables of both are compared (they should be identical for the same settings).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale import watch  # noqa: E402

TABLES = ("themes", "section_themes", "named_themes", "theme_selection")


def _copy(src: Path, dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for name in ("documents.parquet", "sections.parquet", "manifest.json"):
        shutil.copy(src / name, dst / name)
    return dst


def _cli(base: str | None) -> list[str]:
    """The command line of ``corpus-tools`` from *base* (a checkout's folder) or this one
    (``python -m`` would put the current folder first on the path, whatever PYTHONPATH)."""
    root = base or str(HERE.parent)
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {root!r}); "
            "from corpus_tools.cli import main; raise SystemExit(main(sys.argv[1:]))"]


def _takes_workers(base: str | None) -> bool:
    help_text = subprocess.run([*_cli(base), "themes", "--help"], capture_output=True,
                               text=True).stdout
    return "--workers" in help_text


def one(src: Path, dst: Path, args: argparse.Namespace, base: str | None) -> dict:
    _copy(src, dst)
    cmd = [*_cli(base), "themes", "--out", str(dst), "-q"]
    if _takes_workers(base):
        cmd += ["--workers", str(args.workers), "--engine", args.engine]
    wall, peak, rc = watch(cmd, nice=args.nice)
    mb = sum(f.stat().st_size for f in src.glob("*.parquet")) / 2**20
    return {"out": str(src), "code": base or "this checkout", "wall": wall, "peak": peak,
            "rc": rc, "tables_mb": mb, "cmd": " ".join(cmd[3:])}


def same_tables(a: Path, b: Path) -> str:
    import pandas as pd

    for name in TABLES:
        x, y = (pd.read_parquet(d / f"{name}.parquet") for d in (a, b))
        try:
            pd.testing.assert_frame_equal(x, y, check_dtype=False)
        except AssertionError as exc:
            return f"{name} differs: {str(exc)[:200]}"
    return "identical"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outs", nargs="+", type=Path)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--engine", choices=["local", "dask"], default="local")
    p.add_argument("--base", default=None, help="another checkout's folder (holding corpus_tools)")
    p.add_argument("--only-base", action="store_true", help="run only --base's code")
    p.add_argument("--nice", type=int, default=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/theme-step"))
    args = p.parse_args()
    for i, src in enumerate(args.outs):
        rows = [] if args.only_base else [one(src, args.work / f"{i}-new", args, None)]
        if args.base:
            rows.append(one(src, args.work / f"{i}-base", args, args.base))
        for r in rows:
            print(f"{r['out']} ({r['tables_mb']:.0f} MB of tables) {r['code']}: "
                  f"wall {r['wall']:.1f} s, peak RSS {r['peak'] / 2**30:.2f} GB, rc {r['rc']}"
                  f"  [{r['cmd']}]", flush=True)
        if args.base and (args.work / f"{i}-new" / "themes.parquet").exists():
            print("  tables:", same_tables(args.work / f"{i}-new", args.work / f"{i}-base"))
        print(f"  load average after: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
