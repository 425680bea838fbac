"""Run every benchmark and print one table: ours, floor, ratio, target.

Then a "peers" section: ours beside each installed peer (bench_peers.py).

python benchmarks/run_all.py           # full sizes (about a minute with peers)
python benchmarks/run_all.py --small   # tiny N, checks the scripts still work
"""

from __future__ import annotations

import sys

import bench_batch
import bench_checkpoint
import bench_memory
import bench_peers
import bench_w6
from _harness import print_table


def main(small: bool) -> None:
    rows = bench_batch.measure(small=small)
    rows += bench_w6.measure(100 if small else 2000)
    rows += bench_checkpoint.measure(50 if small else 1000)
    rows += bench_memory.measure(2_000 if small else 100_000)
    print_table(rows)
    print()
    bench_peers.print_peers(bench_peers.measure(small=small))


if __name__ == "__main__":
    main(small="--small" in sys.argv)
