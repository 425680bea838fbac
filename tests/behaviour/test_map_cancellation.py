"""Cancelling a batch from outside, and fail-fast cleanup inside (03 B31, B34).

Item bodies block until cancelled and record when they start, when their
``finally`` runs and when their (shielded, async) cleanup has finished. Ordering
uses ``anyio.Event`` only; the timeouts are safety nets against hangs.
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.lowlevel
import pytest

from hypergraph import AsyncRunner, Graph, RunStatus, node

GUARD_SECONDS = 5.0


class Boom(Exception):
    """An item's own exception type."""


class Blockers:
    """Item bodies that block until cancelled and clean up asynchronously."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.started: list[int] = []
        self.exited: list[int] = []
        self.cleaned: list[int] = []
        self.timed_out = False
        self._all_started: anyio.Event | None = None

    def all_started(self) -> anyio.Event:
        """Set once ``target`` blockers have started (created on the engine loop)."""
        if self._all_started is None:
            self._all_started = anyio.Event()
        return self._all_started

    async def block(self, i: int) -> None:
        """Record the start, block until cancelled, then clean up (shielded)."""
        self.started.append(i)
        if len(self.started) >= self.target:
            self.all_started().set()
        try:
            with anyio.move_on_after(GUARD_SECONDS) as guard:
                await anyio.sleep_forever()
            self.timed_out = self.timed_out or guard.cancelled_caught
        finally:
            self.exited.append(i)
            with anyio.CancelScope(shield=True):
                for _ in range(3):
                    await anyio.lowlevel.checkpoint()
                self.cleaned.append(i)

    def assert_all_unwound(self) -> None:
        """Every started body ran its ``finally`` and finished its cleanup."""
        assert sorted(self.exited) == sorted(self.started)
        assert sorted(self.cleaned) == sorted(self.started)
        assert not self.timed_out, "an item was never cancelled"


def blocking_graph(
    blockers: Blockers, *, done_below: int = 0, ran: list[int] | None = None
) -> Graph:
    """Items with ``x < done_below`` return at once; the others block.

    Every started item's ``x`` is appended to ``ran`` when it is given.
    """
    ran = [] if ran is None else ran

    @node(output_name="y")
    async def body(x: int) -> int:
        ran.append(x)
        if x >= done_below:
            await blockers.block(x)
        return x

    return Graph([body], name="blocking")


async def settle() -> None:
    """Give any task that could still start an item plenty of turns."""
    for _ in range(20):
        await anyio.lowlevel.checkpoint()


async def map_until_cancelled(
    blockers: Blockers,
    graph: Graph,
    n: int,
    runner: AsyncRunner | None = None,
    **kwargs: object,
) -> tuple[anyio.CancelScope, bool]:
    """Run ``map`` (a new AsyncRunner by default); cancel once ``target`` started."""
    runner = AsyncRunner() if runner is None else runner
    reached_end = False
    with anyio.fail_after(GUARD_SECONDS), anyio.CancelScope() as scope:

        async def cancel_when_started() -> None:
            await blockers.all_started().wait()
            scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(cancel_when_started)
            await runner.map(graph, map_over="x", x=list(range(n)), **kwargs)
            reached_end = True
    return scope, reached_end


# -- B34: the caller cancels --------------------------------------------------


async def test_cancelling_the_caller_cancels_in_flight_items():
    """Cancelling the awaiting scope cancels running items and propagates (B34)."""
    blockers = Blockers(target=2)
    graph = blocking_graph(blockers)
    scope, reached_end = await map_until_cancelled(
        blockers, graph, 6, max_concurrency=2
    )
    assert scope.cancelled_caught
    assert not reached_end
    assert sorted(blockers.started) == [0, 1]
    blockers.assert_all_unwound()


async def test_cancelled_batch_starts_no_new_items():
    """After the caller is cancelled no further item starts (B34)."""
    blockers = Blockers(target=2)
    ran: list[int] = []
    graph = blocking_graph(blockers, done_below=2, ran=ran)
    scope, _ = await map_until_cancelled(blockers, graph, 7, max_concurrency=2)
    await settle()
    assert scope.cancelled_caught
    assert sorted(ran) == [0, 1, 2, 3]
    assert sorted(blockers.started) == [2, 3]
    blockers.assert_all_unwound()


async def test_cancelling_an_unlimited_batch_cancels_every_item():
    """Without a limit every in-flight item is cancelled and unwound (B34)."""
    blockers = Blockers(target=5)
    scope, reached_end = await map_until_cancelled(
        blockers, blocking_graph(blockers), 5
    )
    assert scope.cancelled_caught
    assert not reached_end
    assert sorted(blockers.started) == [0, 1, 2, 3, 4]
    blockers.assert_all_unwound()


async def test_cancellation_is_not_swallowed_under_continue():
    """``error_handling="continue"`` never swallows cancellation (B30, B34)."""
    blockers = Blockers(target=3)
    scope, reached_end = await map_until_cancelled(
        blockers, blocking_graph(blockers), 3, error_handling="continue"
    )
    assert scope.cancelled_caught
    assert not reached_end
    blockers.assert_all_unwound()


async def test_task_cancel_propagates_the_original_cancelled_error():
    """``task.cancel()`` on the awaiting task raises ``CancelledError`` out (B34)."""
    blockers = Blockers(target=3)
    graph = blocking_graph(blockers)
    task = asyncio.get_running_loop().create_task(
        AsyncRunner().map(graph, map_over="x", x=list(range(5)), max_concurrency=3)
    )
    with anyio.fail_after(GUARD_SECONDS):
        await blockers.all_started().wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert task.cancelled()
    await settle()
    assert sorted(blockers.started) == [0, 1, 2]
    blockers.assert_all_unwound()


# -- B31: fail-fast under max_concurrency -------------------------------------


@pytest.mark.parametrize("max_concurrency", [2, 3])
async def test_fail_fast_leaves_no_item_running(runner, max_concurrency):
    """When ``map()`` raises, every started item has fully unwound (B31)."""
    blockers = Blockers(target=max_concurrency - 1)
    error = Boom("item 0")

    @node(output_name="y")
    async def body(x: int) -> int:
        if x == 0:
            with anyio.fail_after(GUARD_SECONDS):
                await blockers.all_started().wait()
            raise error
        await blockers.block(x)
        return x

    with pytest.raises(Boom) as excinfo:
        await runner.map(
            Graph([body]),
            map_over="x",
            x=list(range(8)),
            max_concurrency=max_concurrency,
        )
    assert excinfo.value is error
    assert sorted(blockers.started) == list(range(1, max_concurrency))
    blockers.assert_all_unwound()


async def test_fail_fast_cancels_items_blocked_inside_nested_graphs(runner):
    """In-flight items are cancelled even when blocked in a nested graph (B31)."""
    blockers = Blockers(target=3)

    @node(output_name="inner_y")
    async def deep(x: int) -> int:
        if x > 0:
            await blockers.block(x)
        return x

    @node(output_name="y")
    async def gate(x: int) -> int:
        if x == 0:
            with anyio.fail_after(GUARD_SECONDS):
                await blockers.all_started().wait()
            raise Boom("gate")
        return x

    inner = Graph([deep], name="inner")
    graph = Graph([inner.as_node(), gate], name="outer")
    with pytest.raises(Boom, match="gate"):
        await runner.map(graph, map_over="x", x=[0, 1, 2, 3], max_concurrency=8)
    assert sorted(blockers.started) == [1, 2, 3]
    blockers.assert_all_unwound()


async def test_concurrent_failures_raise_exactly_one_original_exception(runner):
    """Several items failing together give one of their exceptions, unwrapped (B31)."""
    n = 3
    errors = [Boom(i) for i in range(n)]
    entered: list[int] = []
    gate: dict[str, anyio.Event] = {}

    @node(output_name="y")
    async def body(x: int) -> int:
        all_in = gate.setdefault("all_in", anyio.Event())
        entered.append(x)
        if len(entered) == n:
            all_in.set()
        with anyio.fail_after(GUARD_SECONDS):
            await all_in.wait()
        raise errors[x]

    with pytest.raises(Boom) as excinfo:
        await runner.map(
            Graph([body]), map_over="x", x=list(range(n)), max_concurrency=n
        )
    assert not isinstance(excinfo.value, BaseExceptionGroup)
    assert any(excinfo.value is e for e in errors)


async def test_batch_after_a_cancelled_one_runs_normally():
    """A cancelled batch leaves the runner usable for the next call (B34)."""
    runner = AsyncRunner()
    blockers = Blockers(target=2)
    scope, reached_end = await map_until_cancelled(
        blockers, blocking_graph(blockers), 3, runner=runner, max_concurrency=2
    )
    assert scope.cancelled_caught
    assert not reached_end
    blockers.assert_all_unwound()

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    result = await runner.map(Graph([double]), map_over="x", x=[1, 2])
    assert result.status is RunStatus.COMPLETED
    assert result["y"] == [2, 4]
