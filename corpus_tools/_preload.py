"""Imported by the forkserver of a run's page workers before it forks them
(:func:`corpus_tools.pipeline._pool` with ``preload``).

It loads what every worker would otherwise load for itself before its first page: the
modules of the per-page stages (numpy, pyarrow, OpenCC …) and their rules (one warm-up
page, as :func:`corpus_tools.pipeline._warm_up`). The workers forked from the server start
with them, loaded once per run and shared copy-on-write. jieba's dictionaries for place
names are not loaded here: a worker loads them when one of its pages asks for a place
name (a corpus without such pages never pays for them). Nothing here may raise: on a
failure each worker loads what it needs itself, as without this module.
"""

from __future__ import annotations

import logging

try:
    from . import pipeline
    from .config import DEFAULT

    pipeline._warm_up(DEFAULT)
except Exception:  # noqa: BLE001 - see the module docstring
    logging.getLogger(__name__).debug("preloading the workers failed", exc_info=True)
else:
    import gc

    # What is loaded stays shared: the collector no longer visits it (a visit writes to
    # every object it passes, which would copy its memory into each worker).
    gc.freeze()
