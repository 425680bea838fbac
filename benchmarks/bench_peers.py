"""Ours beside each installed peer (pipefunc, Hamilton, LangGraph) on W1, W6 and W3.

Each row times one workload of spec 00 §3 twice on the same machine, in the same
process: once with hypergraph ("ours") and once with the peer, measured the closest
fair way the peer allows (its native batch API when it has one, else a Python loop
over its single-run API; the row says which). Every peer object (pipeline, driver,
compiled graph) is built once, outside the timed region, and each peer's values are
checked before timing. A peer that does not import is skipped with a note row.

    python benchmarks/bench_peers.py            # full sizes
    python benchmarks/bench_peers.py --small    # tiny N (smoke run)
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import math
import sys
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from _harness import Row, best_of
from bench_batch import INSTANT_GRAPH, W1_GRAPH, dbl, inc, instant_fn
from bench_w6 import CHAIN, build_graph, floor_run
from hypergraph import AsyncRunner, SyncRunner

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

REPEAT = 3  # best of 3 for ours and peer alike (LangGraph's W3 takes ~5 s a round)
PEERS = {
    "pipefunc": "pipefunc",
    "hamilton": "hamilton.driver",
    "langgraph": "langgraph.graph",
}


@dataclass
class PeerRow(Row):
    """A Row whose ``floor`` is the peer's figure for the same workload."""

    peer: str = ""


@dataclass
class Sizes:
    w1: int
    w6: int
    w3: int


@dataclass
class Ours:
    """Our figures for each workload, measured once and shared by every peer row."""

    w1: float
    w6: float
    w3: float


def _row(workload: str, peer: str, ours: float, theirs: float, how: str) -> PeerRow:
    return PeerRow(workload, ours, theirs, "us", "", how, peer=peer)


def _per_item(fn: Callable[[], object], n: int) -> float:
    return best_of(fn, repeat=REPEAT) / n * 1e6


def _async_per_item(
    loop: asyncio.Runner, make: Callable[[], Coroutine[Any, Any, object]], n: int
) -> float:
    return best_of(lambda: loop.run(make()), repeat=REPEAT) / n * 1e6


# -- ours ------------------------------------------------------------------------------
def measure_ours(sizes: Sizes, loop: asyncio.Runner) -> Ours:
    w1_items = list(range(sizes.w1))
    w1_expected = [(x + 1) * 2 for x in w1_items]
    runner = SyncRunner()
    chain = build_graph()
    try:
        assert runner.map(W1_GRAPH, map_over="x", x=w1_items)["z"] == w1_expected
        w1 = _per_item(lambda: runner.map(W1_GRAPH, map_over="x", x=w1_items), sizes.w1)
        assert runner.run(chain, x=3)["e"] == floor_run(3)["e"]

        def chain_runs() -> None:
            run = runner.run
            for i in range(sizes.w6):
                run(chain, x=i)

        w6 = _per_item(chain_runs, sizes.w6)
    finally:
        runner.close()

    w3_items = list(range(sizes.w3))
    arunner = AsyncRunner()

    async def instant_map() -> object:
        return await arunner.map(INSTANT_GRAPH, map_over="x", x=w3_items)

    assert loop.run(instant_map())["y"] == w3_items  # type: ignore[index]
    w3 = _async_per_item(loop, instant_map, sizes.w3)
    return Ours(w1, w6, w3)


# -- pipefunc --------------------------------------------------------------------------
def pipefunc_rows(sizes: Sizes, ours: Ours, _loop: asyncio.Runner) -> list[Row]:
    from pipefunc import Pipeline, pipefunc

    w1_pipeline = Pipeline(
        [
            pipefunc(output_name="y", mapspec="x[i] -> y[i]")(inc),
            pipefunc(output_name="z", mapspec="y[i] -> z[i]")(dbl),
        ]
    )
    items = list(range(sizes.w1))

    def w1() -> object:
        return w1_pipeline.map(
            {"x": items}, parallel=False, storage="dict", show_progress=False
        )

    assert list(w1()["z"].output) == [(x + 1) * 2 for x in items]  # type: ignore[index]

    chain = Pipeline([pipefunc(output_name=out)(fn) for fn, _, out in CHAIN])
    assert chain("e", x=3) == floor_run(3)["e"]

    def w6() -> None:
        for i in range(sizes.w6):
            chain("e", x=i)

    return [
        _row(
            f"W1 map, 2 sync nodes, {sizes.w1} items",
            "pipefunc",
            ours.w1,
            _per_item(w1, sizes.w1),
            "native: pipeline.map, mapspec x[i]->y[i]->z[i], "
            "parallel=False, storage='dict'",
        ),
        _row(
            f"W6 5-node chain, per run ({sizes.w6} runs)",
            "pipefunc",
            ours.w6,
            _per_item(w6, sizes.w6),
            "loop: pipeline('e', x=i)",
        ),
        _note_row(
            f"W3 async map, instant node, {sizes.w3} items",
            "pipefunc",
            "skipped: no async functions (map_async runs sync functions "
            "on an executor)",
        ),
    ]


# -- Hamilton --------------------------------------------------------------------------
_MODULE_IDS = itertools.count(1)


def _hamilton_module(functions: dict[str, Callable[..., Any]]) -> types.ModuleType:
    """A module whose functions are named after their outputs (Hamilton's wiring).

    Hamilton collects the functions whose module is the one it was given, looked up
    through ``sys.modules``, so the copies get that module and it is registered.
    """
    module = types.ModuleType(f"hypergraph_bench_peer_{next(_MODULE_IDS)}")
    for name, fn in functions.items():
        copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__)
        copy.__annotations__ = dict(fn.__annotations__)
        copy.__module__ = module.__name__
        copy.__qualname__ = name
        setattr(module, name, copy)
    sys.modules[module.__name__] = module
    return module


def hamilton_rows(sizes: Sizes, ours: Ours, loop: asyncio.Runner) -> list[Row]:
    from hamilton import async_driver, driver

    w1_driver = driver.Builder().with_modules(_hamilton_module({"y": inc, "z": dbl}))
    w1_dr = w1_driver.build()
    items = list(range(sizes.w1))

    def w1() -> list[Any]:
        execute = w1_dr.execute
        return [execute(["z"], inputs={"x": x})["z"] for x in items]

    assert w1() == [(x + 1) * 2 for x in items]

    chain_module = _hamilton_module({out: fn for fn, _, out in CHAIN})
    chain_dr = driver.Builder().with_modules(chain_module).build()
    assert chain_dr.execute(["e"], inputs={"x": 3})["e"] == floor_run(3)["e"]

    def w6() -> None:
        execute = chain_dr.execute
        for i in range(sizes.w6):
            execute(["e"], inputs={"x": i})

    async_module = _hamilton_module({"y": instant_fn})
    async_dr = loop.run(async_driver.Builder().with_modules(async_module).build())
    w3_items = list(range(sizes.w3))

    async def w3_gather() -> list[Any]:
        execute = async_dr.execute
        done = await asyncio.gather(
            *(execute(["y"], inputs={"x": x}) for x in w3_items)
        )
        return [d["y"] for d in done]

    async def w3_sequential() -> None:
        for x in w3_items:
            await async_dr.execute(["y"], inputs={"x": x})

    assert loop.run(w3_gather()) == w3_items
    sequential = _async_per_item(loop, w3_sequential, sizes.w3)
    return [
        _row(
            f"W1 map, 2 sync nodes, {sizes.w1} items",
            "hamilton",
            ours.w1,
            _per_item(w1, sizes.w1),
            "loop: driver.execute(['z'], inputs={'x': x}) per item "
            "(no native per-item batch)",
        ),
        _row(
            f"W6 5-node chain, per run ({sizes.w6} runs)",
            "hamilton",
            ours.w6,
            _per_item(w6, sizes.w6),
            "loop: driver.execute(['e'], inputs={'x': i})",
        ),
        _row(
            f"W3 async map, instant node, {sizes.w3} items",
            "hamilton",
            ours.w3,
            _async_per_item(loop, w3_gather, sizes.w3),
            "asyncio.gather of AsyncDriver.execute per item "
            f"(awaited one by one: {sequential:.1f} us)",
        ),
    ]


# -- LangGraph -------------------------------------------------------------------------
class W1State(TypedDict, total=False):
    x: int
    y: int
    z: int


class ChainState(TypedDict, total=False):
    x: int
    a: int
    b: int
    c: int
    d: int
    e: int


class W3State(TypedDict, total=False):
    x: int
    y: int


def _lg_inc(state: W1State) -> W1State:
    return {"y": inc(state["x"])}


def _lg_dbl(state: W1State) -> W1State:
    return {"z": dbl(state["y"])}


async def _lg_instant(state: W3State) -> W3State:
    return {"y": await instant_fn(state["x"])}


def _lg_chain_node(fn: Callable[[int], int], arg: str, out: str) -> Callable[..., Any]:
    def step(state: dict[str, int]) -> dict[str, int]:
        return {out: fn(state[arg])}

    return step


def _linear(
    state: type, steps: list[tuple[str, Callable[..., Any]]], start: Any, end: Any
) -> Any:
    from langgraph.graph import StateGraph

    builder = StateGraph(state)
    previous = start
    for name, fn in steps:
        builder.add_node(name, fn)
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, end)
    return builder.compile()


def langgraph_rows(sizes: Sizes, ours: Ours, loop: asyncio.Runner) -> list[Row]:
    from langgraph.graph import END, START

    w1_app = _linear(W1State, [("inc", _lg_inc), ("dbl", _lg_dbl)], START, END)
    inputs = [{"x": x} for x in range(sizes.w1)]
    expected = [(x + 1) * 2 for x in range(sizes.w1)]

    def w1_loop() -> list[Any]:
        invoke = w1_app.invoke
        return [invoke(item)["z"] for item in inputs]

    assert w1_loop() == expected
    loop_us = _per_item(w1_loop, sizes.w1)
    if hasattr(w1_app, "batch"):
        assert [s["z"] for s in w1_app.batch(inputs)] == expected
        w1_us = _per_item(lambda: w1_app.batch(inputs), sizes.w1)
        w1_how = (
            "native: compiled.batch (langchain_core thread pool); "
            f"invoke loop {loop_us:.0f} us"
        )
    else:
        w1_us, w1_how = loop_us, "loop: compiled.invoke per item (no .batch)"

    chain_steps = [(out, _lg_chain_node(fn, arg, out)) for fn, arg, out in CHAIN]
    chain_app = _linear(ChainState, chain_steps, START, END)
    assert chain_app.invoke({"x": 3})["e"] == floor_run(3)["e"]

    def w6() -> None:
        invoke = chain_app.invoke
        for i in range(sizes.w6):
            invoke({"x": i})

    w3_app = _linear(W3State, [("instant", _lg_instant)], START, END)
    w3_inputs = [{"x": x} for x in range(sizes.w3)]

    async def w3() -> list[Any]:
        return await w3_app.abatch(w3_inputs)

    assert [s["y"] for s in loop.run(w3())] == list(range(sizes.w3))
    return [
        _row(
            f"W1 map, 2 sync nodes, {sizes.w1} items",
            "langgraph",
            ours.w1,
            w1_us,
            w1_how,
        ),
        _row(
            f"W6 5-node chain, per run ({sizes.w6} runs)",
            "langgraph",
            ours.w6,
            _per_item(w6, sizes.w6),
            "loop: compiled.invoke({'x': i}) (StateGraph compiled once)",
        ),
        _row(
            f"W3 async map, instant node, {sizes.w3} items",
            "langgraph",
            ours.w3,
            _async_per_item(loop, w3, sizes.w3),
            "native: await compiled.abatch(inputs), no max_concurrency",
        ),
    ]


# -- driver ----------------------------------------------------------------------------
def _note_row(workload: str, peer: str, note: str) -> PeerRow:
    return PeerRow(workload, math.nan, math.nan, "us", "", note, peer=peer)


MEASURES: dict[str, Callable[[Sizes, Ours, asyncio.Runner], list[Row]]] = {
    "pipefunc": pipefunc_rows,
    "hamilton": hamilton_rows,
    "langgraph": langgraph_rows,
}


def measure(small: bool = False) -> list[Row]:
    sizes = Sizes(w1=100, w6=50, w3=100) if small else Sizes(w1=5000, w6=2000, w3=5000)
    available = {}
    for peer, module in PEERS.items():
        try:
            importlib.import_module(module)
        except ImportError as error:
            available[peer] = f"not installed ({type(error).__name__}: {error})"
        else:
            available[peer] = ""
    rows: list[Row] = [
        _note_row("all", peer, f"skipped: {why}")
        for peer, why in available.items()
        if why
    ]
    if len(rows) == len(PEERS):
        return rows  # nothing to compare with: skip our side too
    with asyncio.Runner() as loop:
        ours = measure_ours(sizes, loop)
        for peer, measure_peer in MEASURES.items():
            if not available[peer]:
                rows += measure_peer(sizes, ours, loop)
    order = ["W1", "W3", "W6", "all"]  # one block per workload, peers in PEERS order
    return sorted(rows, key=lambda r: order.index(r.workload.split()[0]))


def print_peers(rows: list[Row]) -> None:
    """Ours beside each peer; ratio = ours / peer (below 1: hypergraph is faster)."""
    print("peers: same workload, same machine, same process; times are per item/run")
    print("ratio = ours / peer (below 1.00x means hypergraph is faster)")
    header = (
        f"{'workload':<40} {'peer':<10} {'ours':>9} {'peer':>10} {'ratio':>7}"
        "  how the peer runs it"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        peer = r.peer if isinstance(r, PeerRow) else ""
        if math.isnan(r.floor):
            print(f"{r.workload:<40} {peer:<10} {'-':>9} {'-':>10} {'-':>7}  {r.note}")
            continue
        print(
            f"{r.workload:<40} {peer:<10} {r.ours:>6.2f} {r.unit}"
            f" {r.floor:>7.1f} {r.unit} {r.ratio:>6.3f}x  {r.note}"
        )


if __name__ == "__main__":
    print_peers(measure(small="--small" in sys.argv))
