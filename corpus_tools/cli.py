"""The ``corpus-tools`` command line.

``corpus-tools run [INPUT ...] [--out DIR]`` processes pages into tables;
``corpus-tools themes``, ``corpus-tools charts`` and ``corpus-tools report`` redo the
corpus-level steps on tables that a run already wrote, with other settings.

Exit codes: 0 when the run finished (pages that failed are entries of the manifest, with
their reasons); 1 when it stopped on an error (``--strict``) or some of the inputs named
do not exist (the others were processed); 2 when it could not start: no input exists,
``--out`` is a file, a setting or the ``--lexicon`` is invalid.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from . import __version__
from .config import DEFAULT, RunConfig, load_config
from .errors import ConfigError, CorpusToolsError

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="corpus-tools",
        description="Clean, segment and measure scraped Chinese work summaries.",
    )
    p.add_argument("--version", action="version", version=f"corpus_tools {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="process pages into tables (documents, sections, metrics…)")
    r.add_argument("inputs", nargs="*", default=["data/raw"], metavar="INPUT",
                   help="files or folders of pages (default: data/raw)")
    r.add_argument("--out", default="data/processed", help="output folder (default: %(default)s)")
    r.add_argument("--config", help="TOML file of settings (see corpus_tools.config.RunConfig)")
    r.add_argument("--csv", action="store_true", default=None,
                   help="also write utf-8-sig CSV tables for Excel")
    r.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per core)")
    r.add_argument("--engine", choices=["local", "dask"], default=None,
                   help="local processes or a dask.distributed cluster")
    r.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (default: start a LocalCluster)")
    r.add_argument("--text-column", default=None, help="text column of .jsonl/.csv inputs")
    r.add_argument("--encoding", default=None, help="force the input encoding")
    r.add_argument("--salvage", dest="decode_errors", action="store_const", const="replace",
                   default=None,
                   help="read pages with bad bytes, each as U+FFFD (counted, with byte "
                        "offsets, in the manifest) instead of failing them")
    r.add_argument("--page-timeout", type=float, default=None, metavar="SECONDS",
                   help="fail an input file whose stages take longer (default: 600; 0: none)")
    r.add_argument("--no-resume", dest="resume", action="store_false", default=None,
                   help="reprocess every page even if its cached rows are up to date")
    r.add_argument("--no-themes", dest="themes", action="store_false", default=None,
                   help="skip fitting themes")
    r.add_argument("--no-charts", dest="charts", action="store_false", default=None,
                   help="skip drawing charts")
    r.add_argument("--no-report", dest="report", action="store_false", default=None,
                   help="skip writing the HTML report")
    r.add_argument("--n-themes", type=int, default=None,
                   help="number of discovered themes (default: chosen by the model)")
    r.add_argument("--method", dest="theme_method", choices=["nmf", "kmeans"], default=None,
                   help="theme model (default: nmf)")
    r.add_argument("--lexicon", default=None,
                   help="YAML of named themes → seed terms (default: the packaged lexicon)")
    r.add_argument("--scheme", dest="theme_scheme", default=None,
                   choices=["auto", "government_report", "community_summary"],
                   help="named-theme scheme (default: auto, by each document's doc_type)")
    r.add_argument("--random-state", type=int, default=None, help="seed of the theme model")
    r.add_argument("--strict", action="store_true", default=None,
                   help="stop at the first page that fails instead of recording it")
    _common(r)

    t = sub.add_parser("themes", help="refit themes on the tables in OUT")
    t.add_argument("--out", default="data/processed")
    t.add_argument("--n-themes", type=int, default=None,
                   help="number of discovered themes (default: chosen by the model)")
    t.add_argument("--method", choices=["nmf", "kmeans"], default="nmf")
    t.add_argument("--lexicon", default=None, help="YAML of named themes → seed terms")
    t.add_argument("--random-state", type=int, default=0)
    t.add_argument("--scheme", default="auto",
                   choices=["auto", "government_report", "community_summary"],
                   help="named-theme scheme (default: auto, by each document's doc_type)")
    t.add_argument("--csv", action="store_true", help="also write utf-8-sig CSV tables")
    t.add_argument("--workers", type=int, default=None,
                   help="processes for the per-batch tasks (default: one per core)")
    t.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="dask: run the tasks on a Dask cluster")
    t.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (default: start a LocalCluster)")
    _common(t)

    c = sub.add_parser("charts", help="redraw the charts from the tables in OUT")
    c.add_argument("--out", default="data/processed")
    _common(c)

    h = sub.add_parser("report", help="rebuild the HTML report (OUT/report/) from the tables")
    h.add_argument("--out", default="data/processed")
    _common(h)
    return p.parse_args(argv)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, warnings only")
    p.add_argument("-v", "--verbose", action="store_true", help="log every page's problems")


def _config(args: argparse.Namespace) -> RunConfig:
    overrides = {
        "csv": args.csv, "workers": args.workers, "engine": args.engine,
        "scheduler": args.scheduler, "text_column": args.text_column,
        "encoding": args.encoding, "resume": args.resume, "themes": args.themes,
        "charts": args.charts, "report": args.report, "n_themes": args.n_themes,
        "strict": args.strict,
        "theme_method": args.theme_method, "lexicon": args.lexicon,
        "random_state": args.random_state, "theme_scheme": args.theme_scheme,
        "decode_errors": args.decode_errors, "page_timeout": args.page_timeout,
    }
    if args.config:
        return load_config(args.config, **overrides)
    return DEFAULT.replace(**{k: v for k, v in overrides.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # Libraries that set their own loggers' levels (dask.distributed logs at INFO) still
    # pass through the handler's level: --quiet means quiet.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    try:
        if args.command == "run":
            try:
                with _stop_on_signals():
                    return _run(args)
            except _Stopped as stop:
                name = signal.Signals(stop.signum).name
                print(f"corpus-tools: stopped by {name}: the workers were stopped; the files "
                      f"finished are kept in {args.out}/.parts and the next run resumes from "
                      "them (tables being replaced are marked incomplete until then)",
                      file=sys.stderr)
                return 128 + stop.signum
        if args.command == "themes":
            from .pipeline import _theme_executor
            from .themes.run import theme_step

            engine = DEFAULT.replace(engine=args.engine, scheduler=args.scheduler,
                                     **({} if args.workers is None else
                                        {"workers": args.workers}))
            with _theme_executor(engine) as executor:
                done = theme_step(Path(args.out), n_themes=args.n_themes, method=args.method,
                                  lexicon=args.lexicon, random_state=args.random_state,
                                  scheme=args.scheme, csv=args.csv, executor=executor)
            for name, n in done["rows"].items():
                print(f"{name}: {n} rows")
            return 0
        if args.command == "charts":
            from .charts import draw_charts

            for path in draw_charts(Path(args.out)):
                print(path)
            return 0
        if args.command == "report":
            from .report import build_report

            print(build_report(Path(args.out)))
            return 0
    except _UsageError as exc:
        print(f"corpus-tools: error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"corpus-tools: error: {exc}", file=sys.stderr)
        return 2
    except CorpusToolsError as exc:
        print(f"corpus-tools: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an output folder that cannot be written, a missing table
        print(f"corpus-tools: error: {exc}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse requires a command


class _Stopped(BaseException):
    """SIGTERM or SIGHUP reached the run: unwinds it (workers killed, outputs as after a
    kill: the previous tables, or a manifest saying ``complete: false``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`_Stopped` in the main thread for the run."""
    def stop(signum: int, frame: object) -> None:
        raise _Stopped(signum)

    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    try:
        previous = {s: signal.signal(s, stop) for s in wanted}
    except ValueError:  # pragma: no cover - not the main thread: keep the defaults
        previous = {}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class _UsageError(Exception):
    """The command cannot start: nothing to read, or an output path that is a file."""


def _check_paths(args: argparse.Namespace) -> list[str]:
    """Raise :class:`_UsageError` when no input exists or ``--out`` is not a folder;
    return the inputs that do not exist (when others do)."""
    missing = [i for i in args.inputs if not os.path.lexists(i)]
    if missing and len(missing) == len(args.inputs):
        raise _UsageError(
            f"no such file or folder: {', '.join(missing)} (give pages or folders of pages)")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"--out {args.out} is a file, not a folder: give a folder")
    return missing


def _run(args: argparse.Namespace) -> int:
    from .pipeline import run

    config = _config(args)
    missing = _check_paths(args)
    show = not args.quiet and sys.stderr.isatty()
    result = run(args.inputs, args.out, config, progress=show)
    s = result.manifest["summary"]
    if not args.quiet:
        parts = [f"{s['files']} files", f"{s.get('ok', 0)} ok"]
        for key in ("failed", "skipped", "cached", "vanished"):
            if s.get(key):
                parts.append(f"{s[key]} {key}")
        parts.append(f"{s['documents']} documents, {s['duplicates']} near-duplicates")
        print(f"corpus-tools: {', '.join(parts)} → {result.out_dir}")
        for e in result.entries:
            if e["status"] != "ok":
                print(f"  {e['status']}: {e['source']}: {e['reason']}")
            for warning in e.get("warnings", ()):
                print(f"  warning: {e['source']}: {warning}")
            if e.get("repaired"):
                print(f"  redone: {e['source']}: {e['repaired']}")
        for name, step in result.manifest["steps"].items():
            if step.get("status") != "ok":
                print(f"  {name} step failed: {step.get('reason')}")
        if result.manifest["steps"].get("report", {}).get("status") == "ok":
            print(f"  report: {Path(result.out_dir) / 'report' / 'index.html'}")
    if missing:
        print(f"corpus-tools: error: no such file or folder: {', '.join(missing)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
