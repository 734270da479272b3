"""Growth of a function's running time with its input, robust on a loaded machine.

Used by the linear-time checks (never absolute times: a ratio of two sizes). Times are
the CPU time of the calling thread, not the wall clock: on a loaded machine a longer call
is more often preempted, which would inflate the large size's wall time and flake the
ratio. Each measurement repeats the call until it lasts at least ``base`` seconds and
keeps the best of ``runs``; a call that already takes ``give_up`` seconds at the small
size is reported as unbounded growth without waiting for the large one.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable


def best_time(fn: Callable[[str], object], text: str, reps: int, runs: int) -> float:
    best = math.inf
    for _ in range(runs):
        t0 = time.thread_time()
        for _ in range(reps):
            fn(text)
        best = min(best, time.thread_time() - t0)
    return best


def growth(fn: Callable[[str], object], make: Callable[[int], str], small: int, large: int,
           *, runs: int = 5, base: float = 0.005, give_up: float = 2.0) -> float:
    """``time(large) / time(small)``; ``inf`` when the small size alone is too slow.

    The two sizes are timed in turn (so a burst of load hits both), with the garbage
    collector off, and the best of *runs* of each is kept."""
    text = make(small)
    once = best_time(fn, text, 1, 1)
    if once > give_up:
        return math.inf
    reps = max(1, min(1000, math.ceil(base / max(once, 1e-7))))
    big = make(large)
    t_small = t_large = math.inf
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            t_small = min(t_small, best_time(fn, text, reps, 1))
            t_large = min(t_large, best_time(fn, big, reps, 1))
    finally:
        if enabled:
            gc.enable()
    return t_large / t_small


def assert_linear(fn: Callable[[str], object], make: Callable[[int], str], small: int,
                  large: int, *, bound: float) -> None:
    """Linear growth from *small* to *large* is ``large / small``; fail above *bound*
    (measured again, with more runs, before failing)."""
    ratio = growth(fn, make, small, large)
    if ratio >= bound and ratio != math.inf:
        ratio = growth(fn, make, small, large, runs=11)
    assert ratio < bound, (f"{getattr(fn, '__name__', fn)}: time x{ratio:.1f} from {small} to "
                           f"{large} characters (linear is x{large / small:.0f})")
