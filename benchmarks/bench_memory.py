"""M1 of spec 00 §3: peak RSS of SyncRunner.map over 100,000 trivial items.

Each measurement runs in a fresh subprocess so peaks do not mix.

    python benchmarks/bench_memory.py [items]
"""

from __future__ import annotations

import subprocess
import sys

from _harness import Row, print_table

CHILD = r"""
import resource, sys
from hypergraph import Graph, SyncRunner, node

def inc(x: int) -> int:
    return x + 1

n = int(sys.argv[1])
mode = sys.argv[2]
items = list(range(n))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "ours":
    result = SyncRunner().map(Graph([node(inc, "y")]), map_over="x", x=items)
    assert len(result) == n
else:
    result = [{"x": x, "y": inc(x)} for x in items]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak / 1024, (peak - base) / 1024)
"""


def peak_mb(n: int, mode: str) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), mode],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def measure(n: int = 100_000) -> list[Row]:
    ours, ours_growth = peak_mb(n, "ours")
    floor, _ = peak_mb(n, "floor")
    note = f"(growth during map {ours_growth:.0f} MB; floor: list of value dicts)"
    return [
        Row(
            f"M1 peak RSS, SyncRunner.map, {n} items kept",
            ours,
            floor,
            "MB",
            "<= 250 MB",
            note,
        )
    ]


if __name__ == "__main__":
    print_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
