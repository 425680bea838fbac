"""Tiny timing helpers shared by the benchmark scripts (never collected by pytest)."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class Row:
    """One line of the results table."""

    workload: str
    ours: float
    floor: float
    unit: str
    target: str
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.floor if self.floor else float("nan")


def best_of(fn: Callable[[], object], *, repeat: int = 5) -> float:
    """Best wall time (seconds) of ``repeat`` calls, with GC paused while timing."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def median_of(fn: Callable[[], object], *, repeat: int = 5) -> float:
    """Median wall time (seconds) of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(rows: list[Row]) -> None:
    """Print ours / floor / ratio / target side by side."""
    header = f"{'workload':<44} {'ours':>12} {'floor':>12} {'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.workload:<44} {r.ours:>9.2f} {r.unit:<2} {r.floor:>9.2f} {r.unit:<2}"
            f" {r.ratio:>6.2f}x  {r.target} {r.note}"
        )
