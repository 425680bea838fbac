"""Runners called from inside nodes, fail-fast inside a batch item, dropped streams.

Each test waits on events, never on time: a hang (the bug) trips the
``fail_after`` safety net instead of passing slowly.
"""

from __future__ import annotations

import gc

import anyio
import pytest

from hypergraph import AsyncRunner, Graph, SyncRunner, node


@node(output_name="y")
async def plus_one(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x + 1


INNER = Graph([plus_one], name="inner")


@pytest.mark.parametrize("max_concurrency", [1, 2])
async def test_runner_inside_a_node_shares_the_budget_without_deadlock(max_concurrency):
    """A node awaiting AsyncRunner().run/map lends its slot to the nested call (B26)."""
    seen: list[int] = []

    @node(output_name="z")
    async def outer(x: int) -> int:
        single = await AsyncRunner().run(INNER, x=x)
        many = await AsyncRunner().map(INNER, map_over="x", x=[x, x + 10])
        seen.append(single["y"])
        return single["y"] + sum(many["y"])

    with anyio.fail_after(10):
        result = await AsyncRunner().map(
            Graph([outer]),
            map_over="x",
            x=[1, 2, 3, 4],
            max_concurrency=max_concurrency,
        )
    assert result["z"] == [(x + 1) + (x + 1) + (x + 11) for x in [1, 2, 3, 4]]
    assert sorted(seen) == [2, 3, 4, 5]


async def test_map_raise_cancels_the_failing_items_own_siblings():
    """Under error_handling="raise" an item's failure cancels its in-flight nodes."""
    never = anyio.Event()
    cancelled: list[int] = []

    @node(output_name="a")
    async def waits(x: int) -> int:
        try:
            await never.wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append(x)
            raise
        return x  # pragma: no cover - never set

    @node(output_name="b")
    async def fails(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        raise ValueError(f"item {x}")

    with anyio.fail_after(10), pytest.raises(ValueError, match="item 0"):
        await AsyncRunner().map(Graph([waits, fails]), map_over="x", x=[0])
    assert cancelled == [0]


async def test_async_map_iter_left_by_break_cancels_unfinished_items():
    """``async for ... break`` without ``async with``: the rest are cancelled."""
    release_first = anyio.Event()
    unwound: list[int] = []
    all_unwound = anyio.Event()

    @node(output_name="y")
    async def slow(x: int) -> int:
        try:
            if x == 0:
                return x
            await release_first.wait()  # never set: only cancellation ends these
            return x  # pragma: no cover
        finally:
            if x != 0:
                unwound.append(x)
                if len(unwound) == 3:
                    all_unwound.set()

    async def first_only() -> tuple[int, object]:
        async for pair in AsyncRunner().map_iter(
            Graph([slow]), map_over="x", x=[0, 1, 2, 3]
        ):
            return pair
        raise AssertionError("map_iter yielded nothing")  # pragma: no cover

    index, _ = await first_only()
    gc.collect()
    with anyio.fail_after(10):
        await all_unwound.wait()
    assert index == 0
    assert sorted(unwound) == [1, 2, 3]


def test_sync_map_iter_dropped_unfinished_is_unwound_by_close():
    """A SyncRunner map_iter dropped half-way: close() runs every item's cleanup."""
    unwound: list[int] = []

    @node(output_name="y")
    async def slow(x: int) -> int:
        try:
            if x == 0:
                return x
            await anyio.sleep_forever()
            return x  # pragma: no cover
        finally:
            if x != 0:
                unwound.append(x)

    runner = SyncRunner()
    stream = runner.map_iter(
        Graph([slow]), map_over="x", x=[0, 1, 2], max_concurrency=3
    )
    assert next(stream)[0] == 0
    del stream
    gc.collect()
    runner.close()
    assert sorted(unwound) == [1, 2]


def test_a_started_sync_map_iter_advanced_inside_a_node_gives_the_reentry_fix():
    """next() on a SyncRunner stream from a node: the same error as run(), with fix."""
    from hypergraph import IncompatibleRunnerError

    @node(output_name="y")
    def same(x: int) -> int:
        return x

    with SyncRunner() as outer_runner:
        stream = outer_runner.map_iter(Graph([same]), map_over="x", x=[1, 2])
        assert next(stream)[0] == 0

        @node(output_name="z")
        async def advances(x: int) -> object:
            return next(stream)

        with (
            SyncRunner() as runner,
            pytest.raises(IncompatibleRunnerError, match="How to fix"),
        ):
            runner.run(Graph([advances]), x=1)
        stream.close()
