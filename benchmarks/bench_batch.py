"""W1-W4 of spec 00 §3: batch throughput and fan-out, each beside its floor.

python benchmarks/bench_batch.py            # full sizes
python benchmarks/bench_batch.py --small    # tiny N (smoke run)
"""

from __future__ import annotations

import asyncio
import sys

import anyio

from _harness import Row, best_of, print_table
from hypergraph import AsyncRunner, Graph, SyncRunner, node


# -- W1: SyncRunner.map over x -> x+1 -> *2 ----------------------------------------
def inc(x: int) -> int:
    return x + 1


def dbl(y: int) -> int:
    return y * 2


W1_GRAPH = Graph([node(inc, "y"), node(dbl, "z")], name="w1")


def w1(n: int) -> Row:
    items = list(range(n))
    runner = SyncRunner()
    result = runner.map(W1_GRAPH, map_over="x", x=items)
    assert result["z"] == [(i + 1) * 2 for i in items]

    def floor() -> list[int]:
        out = []
        for x in items:
            values = {"x": x}
            values["y"] = inc(x=values["x"])
            values["z"] = dbl(y=values["y"])
            out.append(values["z"])
        return out

    ours = best_of(lambda: runner.map(W1_GRAPH, map_over="x", x=items)) / n * 1e6
    base = best_of(floor) / n * 1e6
    runner.close()
    return Row(
        f"W1 SyncRunner.map, 2 sync nodes, {n} items", ours, base, "us", "<= 10 us/item"
    )


# -- W2: AsyncRunner.map of one sleeping node under max_concurrency -----------------
@node(output_name="done")
async def nap(x: int) -> int:
    await asyncio.sleep(0.01)
    return x


NAP_GRAPH = Graph([nap], name="w2")


async def asyncio_pool(n: int, workers: int) -> None:
    counter = iter(range(n))

    async def worker() -> None:
        for _ in counter:
            await asyncio.sleep(0.01)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def anyio_pool(n: int, workers: int) -> None:
    counter = iter(range(n))

    async def worker() -> None:
        for _ in counter:
            await asyncio.sleep(0.01)

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker)


def w2(label: str, n: int, limit: int, target: str) -> list[Row]:
    runner = AsyncRunner()
    ideal = n / limit * 0.01

    async def ours() -> None:
        result = await runner.map(
            NAP_GRAPH, map_over="x", x=list(range(n)), max_concurrency=limit
        )
        assert len(result) == n

    ours_t = best_of(lambda: asyncio.run(ours()), repeat=3)
    base_t = best_of(lambda: asyncio.run(asyncio_pool(n, limit)), repeat=3)
    anyio_t = best_of(lambda: anyio.run(anyio_pool, n, limit), repeat=3)
    return [
        Row(
            f"{label} AsyncRunner.map sleep 10ms, {n} items, mc={limit}",
            ours_t / ideal,
            base_t / ideal,
            "x",
            target,
            f"(wall/ideal; anyio pool {anyio_t / ideal:.2f})",
        ),
    ]


# -- W3: AsyncRunner.map of an async node that returns at once, no limit ------------
@node(output_name="y")
async def instant(x: int) -> int:
    return x


INSTANT_GRAPH = Graph([instant], name="w3")


async def instant_fn(x: int) -> int:
    return x


def w3(n: int) -> Row:
    runner = AsyncRunner()
    items = list(range(n))

    async def ours() -> None:
        result = await runner.map(INSTANT_GRAPH, map_over="x", x=items)
        assert result["y"][-1] == n - 1

    async def gather() -> None:
        await asyncio.gather(*(instant_fn(x) for x in items))

    ours_us = best_of(lambda: asyncio.run(ours())) / n * 1e6
    base_us = best_of(lambda: asyncio.run(gather())) / n * 1e6
    return Row(
        f"W3 AsyncRunner.map, instant async node, {n} items",
        ours_us,
        base_us,
        "us",
        "<= 20 us/item",
        "(floor: asyncio.gather)",
    )


# -- W4: one run of load -> mapped inner graph -> summarize -------------------------
def make_w4(n: int) -> Graph:
    @node(output_name="item")
    def load(count: int) -> list[int]:
        return list(range(count))

    @node(output_name="total")
    def summarize(z: list[int]) -> int:
        return sum(z)

    inner = Graph([node(inc, "y"), node(dbl, "z")], name="inner")
    mapped = inner.as_node().with_inputs(x="item").map_over("item")
    return Graph([load, mapped, summarize], name="w4")


def w4(n: int) -> Row:
    graph = make_w4(n)
    runner = SyncRunner()
    expected = sum((i + 1) * 2 for i in range(n))
    assert runner.run(graph, count=n)["total"] == expected

    def floor() -> int:
        return sum(dbl(inc(i)) for i in range(n))

    ours_us = best_of(lambda: runner.run(graph, count=n)) / n * 1e6
    base_us = best_of(floor) / n * 1e6
    runner.close()
    return Row(
        f"W4 SyncRunner.run with map_over, {n} items",
        ours_us,
        base_us,
        "us",
        "<= 10 us/item",
    )


def measure(small: bool = False) -> list[Row]:
    scale = 50 if small else 1
    rows = [w1(5000 // scale), w3(5000 // scale), w4(5000 // scale)]
    rows += w2("W2a", 2000 // scale, 100 // min(scale, 10), "<= 1.15x")
    rows += w2("W2b", 10000 // scale, 1000 // min(scale, 10), "<= 1.35x")
    return rows


if __name__ == "__main__":
    print_table(measure(small="--small" in sys.argv))
