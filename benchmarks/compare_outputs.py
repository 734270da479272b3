"""Do two checkouts of corpus_tools write the same tables? (a differential check)

Usage::

    python benchmarks/compare_outputs.py --base CHECKOUT [--this CHECKOUT] --work DIR INPUT...
    python benchmarks/compare_outputs.py --outs OUT_A OUT_B

The first form runs ``corpus-tools run INPUT --no-themes --no-charts --no-report
--workers 1`` with each checkout (``--workers N`` for this checkout's runs) (``PYTHONPATH=CHECKOUT``; ``--this`` defaults to the
checkout holding this script) into fresh folders ``DIR/base-<i>`` and ``DIR/this-<i>`` for every INPUT
(or reuses ``DIR/base-<i>`` when it already holds a finished run and ``--reuse-base``
is given), then compares them; the second compares two output folders. Compared: every
table (``corpus_tools.store.read_table``: values, column order, dtypes; and the Parquet
schema), and the manifest (every input entry field by field, the summary, config, steps
and list of vanished inputs; not its timings or creation time). Exit status 1 when
anything differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TABLES = ("documents", "removed", "sections", "metrics", "indicators", "errors")
#: manifest keys that legitimately differ between two runs of the same inputs
UNTIMED = {"created", "seconds", "timings"}


def compare(a: Path, b: Path) -> list[str]:
    import pyarrow.parquet as pq

    from corpus_tools.store import read_table

    problems: list[str] = []
    for name in TABLES:
        pa_, pb_ = a / f"{name}.parquet", b / f"{name}.parquet"
        if pa_.exists() != pb_.exists():
            problems.append(f"{name}: present in only one of them")
            continue
        if not pa_.exists():
            continue
        if pq.read_schema(pa_) != pq.read_schema(pb_):
            problems.append(f"{name}: Parquet schemas differ")
        ta, tb = read_table(a, name), read_table(b, name)
        if list(ta.columns) != list(tb.columns):
            problems.append(f"{name}: columns differ {list(ta.columns)} / {list(tb.columns)}")
            continue
        if len(ta) != len(tb):
            problems.append(f"{name}: {len(ta)} rows / {len(tb)} rows")
            continue
        if list(ta.dtypes) != list(tb.dtypes):
            problems.append(f"{name}: dtypes differ")
        for col in ta.columns:
            va = ta[col].map(_plain)
            vb = tb[col].map(_plain)
            same = (va == vb) | (va.isna() & vb.isna())
            if not same.all():
                bad = (~same).to_numpy().nonzero()[0]
                problems.append(f"{name}.{col}: {len(bad)} rows differ, first at row "
                                f"{bad[0]}: {va.iloc[bad[0]]!r:.200} / {vb.iloc[bad[0]]!r:.200}")
    ma = json.loads((a / "manifest.json").read_text("utf-8"))
    mb = json.loads((b / "manifest.json").read_text("utf-8"))
    for key in sorted((set(ma) | set(mb)) - UNTIMED - {"inputs"}):
        if ma.get(key) != mb.get(key):
            problems.append(f"manifest.{key}: {ma.get(key)!r:.200} / {mb.get(key)!r:.200}")
    ea, eb = ma.get("inputs", []), mb.get("inputs", [])
    if len(ea) != len(eb):
        problems.append(f"manifest.inputs: {len(ea)} entries / {len(eb)}")
    for x, y in zip(ea, eb):
        for field in sorted(set(x) | set(y)):
            if x.get(field) != y.get(field):
                problems.append(f"manifest.inputs[{x.get('source')}].{field}: "
                                f"{x.get(field)!r:.200} / {y.get(field)!r:.200}")
    return problems


def _plain(value):
    """Cells as comparable Python values (list columns arrive as numpy arrays)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return repr(value.tolist())
    return value


def run(checkout: str, inp: str, out: Path, workers: int = 1) -> None:
    """A fresh run (an old output folder would be resumed from its cached parts)."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=checkout)
    cmd = [sys.executable, "-m", "corpus_tools", "run", os.path.abspath(inp), "--out",
           str(out), "--no-themes", "--no-charts", "--no-report", "--workers", str(workers)]
    subprocess.run(cmd, env=env, check=True, cwd=tempfile.gettempdir(),
                   stdout=subprocess.DEVNULL)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("inputs", nargs="*")
    p.add_argument("--base", help="the checkout to compare with")
    p.add_argument("--this", default=str(Path(__file__).resolve().parent.parent))
    p.add_argument("--work", help="folder for the runs' outputs")
    p.add_argument("--reuse-base", action="store_true",
                   help="keep finished base runs found in --work")
    p.add_argument("--outs", nargs=2, metavar=("OUT_A", "OUT_B"))
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes of the runs of this checkout (base: 1)")
    args = p.parse_args()
    pairs: list[tuple[str, Path, Path]] = []
    if args.outs:
        pairs.append((args.outs[0], Path(args.outs[0]), Path(args.outs[1])))
    else:
        if not (args.base and args.work and args.inputs):
            p.error("give --base, --work and INPUTs, or --outs")
        work = Path(args.work)
        for i, inp in enumerate(args.inputs):
            a, b = work / f"base-{i}", work / f"this-{i}"
            if not (args.reuse_base and (a / "manifest.json").exists()):
                run(args.base, inp, a)
            run(args.this, inp, b, args.workers)
            pairs.append((inp, a, b))
    failed = False
    for label, a, b in pairs:
        problems = compare(a, b)
        failed |= bool(problems)
        print(f"{label}: {'identical' if not problems else f'{len(problems)} differences'}")
        for line in problems[:40]:
            print("  " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
