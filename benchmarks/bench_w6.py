"""W6: one SyncRunner.run of a 5-node linear chain of trivial functions, repeated.

Floor: the same five functions called by hand, wiring values through a dict by name.
Target (spec 00 §3): <= 20 µs per run.

    python benchmarks/bench_w6.py [runs]
"""

from __future__ import annotations

import sys

from _harness import Row, best_of, print_table
from hypergraph import Graph, SyncRunner, node


def f1(x: int) -> int:
    return x + 1


def f2(a: int) -> int:
    return a * 2


def f3(b: int) -> int:
    return b - 3


def f4(c: int) -> int:
    return c + 4


def f5(d: int) -> int:
    return d * 5


CHAIN = [(f1, "x", "a"), (f2, "a", "b"), (f3, "b", "c"), (f4, "c", "d"), (f5, "d", "e")]


def build_graph() -> Graph:
    return Graph([node(fn, out) for fn, _, out in CHAIN], name="chain5")


def floor_run(x: int) -> dict[str, int]:
    values = {"x": x}
    for fn, arg, out in CHAIN:
        values[out] = fn(**{arg: values[arg]})
    return values


def measure(runs: int) -> list[Row]:
    graph = build_graph()
    runner = SyncRunner()
    assert runner.run(graph, x=1)["e"] == floor_run(1)["e"]

    def ours() -> None:
        run = runner.run
        for i in range(runs):
            run(graph, x=i)

    def floor() -> None:
        for i in range(runs):
            floor_run(i)

    ours_us = best_of(ours) / runs * 1e6
    floor_us = best_of(floor) / runs * 1e6
    runner.close()
    return [
        Row(
            "W6 SyncRunner.run, 5-node chain (per run)",
            ours_us,
            floor_us,
            "us",
            "<= 20 us",
        )
    ]


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print_table(measure(count))
