"""Streaming batches: ``runner.map_iter()`` of both runners (03 §9, 00 D-8).

``AsyncRunner.map_iter`` is driven from ``async`` tests; ``SyncRunner.map_iter``
from plain tests or from a worker thread (``anyio.to_thread.run_sync``), as a
real synchronous caller would. Ordering uses ``anyio.Event`` only; the timeouts
are safety nets that turn a hang into a failure.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from hypergraph import (
    AsyncRunner,
    Graph,
    MissingInputError,
    RunResult,
    RunStatus,
    SyncRunner,
    interrupt,
    node,
)

GUARD_SECONDS = 5.0


class Boom(Exception):
    """An item's own exception type."""


# -- shared graphs -------------------------------------------------------------

RAISED: list[BaseException] = []


@node(output_name="doubled")
async def double(x: int) -> int:
    for _ in range(abs(x) % 3):  # items finish out of order when concurrent
        await anyio.lowlevel.checkpoint()
    return 2 * x


@interrupt(output_name="verdict")
def review(doubled: int) -> str | None:
    return None if doubled == 0 else "ok"


@node(output_name="result")
def finish(doubled: int, verdict: str) -> int:
    if doubled < 0:
        error = Boom(f"negative {doubled}")
        RAISED.append(error)
        raise error
    return doubled + 1


ITEM = Graph([double, review, finish], name="item")


@pytest.fixture(autouse=True)
def _clear_raised() -> None:
    RAISED.clear()


class Blockers:
    """Item bodies that block until cancelled, recording start and exit."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.started: list[int] = []
        self.exited: list[int] = []
        self.timed_out = False
        self._all_started: anyio.Event | None = None

    def all_started(self) -> anyio.Event:
        """Set once ``target`` blockers have started (created on the engine loop)."""
        if self._all_started is None:
            self._all_started = anyio.Event()
        return self._all_started

    async def block(self, i: int) -> None:
        """Record the start, block until cancelled, record the exit."""
        self.started.append(i)
        if len(self.started) >= self.target:
            self.all_started().set()
        try:
            with anyio.move_on_after(GUARD_SECONDS) as guard:
                await anyio.sleep_forever()
            self.timed_out = self.timed_out or guard.cancelled_caught
        finally:
            self.exited.append(i)

    @property
    def running(self) -> set[int]:
        """Blockers that started and have not exited."""
        return set(self.started) - set(self.exited)


def first_done_rest_block(blockers: Blockers) -> Graph:
    """Item 0 returns once the others (all blockers) have started."""

    @node(output_name="y")
    async def body(x: int) -> int:
        if x == 0:
            with anyio.fail_after(GUARD_SECONDS):
                await blockers.all_started().wait()
            return 0
        await blockers.block(x)
        return x

    return Graph([body], name="blocking")


def _sync_pairs(**kwargs: Any) -> list[tuple[int, RunResult]]:
    with SyncRunner() as sync:
        return list(sync.map_iter(**kwargs))


async def collect(kind: str, **kwargs: Any) -> list[tuple[int, RunResult]]:
    """All pairs of one ``map_iter`` call through the given runner."""
    if kind == "sync":
        return await anyio.to_thread.run_sync(lambda: _sync_pairs(**kwargs))
    with anyio.fail_after(GUARD_SECONDS):
        return [pair async for pair in AsyncRunner().map_iter(**kwargs)]


def drain_into(stream: Any, got: list[tuple[int, RunResult]]) -> None:
    """Append every pair to ``got`` as it arrives (kept if the stream raises)."""
    for pair in stream:
        got.append(pair)  # noqa: PERF402 - one at a time, on purpose


kinds = pytest.mark.parametrize("kind", ["async", "sync"])


# -- B90: shape of the API ----------------------------------------------------


async def test_async_map_iter_is_a_plain_method_returning_an_async_iterator():
    """``AsyncRunner.map_iter`` is a plain method returning an async iterator (B90)."""
    runner = AsyncRunner()
    assert not inspect.iscoroutinefunction(runner.map_iter)
    stream = runner.map_iter(ITEM, map_over="x", x=[1])
    assert not inspect.isawaitable(stream)
    assert stream.__aiter__() is stream
    for name in ("__anext__", "aclose", "__aenter__", "__aexit__"):
        assert callable(getattr(stream, name))
    await stream.aclose()


def test_sync_map_iter_returns_an_iterator_and_context_manager():
    """``SyncRunner.map_iter`` gives an iterator with ``close`` and ``with`` (B94)."""
    with SyncRunner() as sync:
        stream = sync.map_iter(ITEM, map_over="x", x=[1])
        assert iter(stream) is stream
        for name in ("__next__", "close", "__enter__", "__exit__"):
            assert callable(getattr(stream, name))
        stream.close()


@kinds
@pytest.mark.parametrize("max_concurrency", [None, 2])
async def test_yields_every_index_once_with_the_result_map_would_hold(
    kind, max_concurrency
):
    """Each ``(index, RunResult)`` pair matches ``map()``'s item at that index (B90)."""
    xs = [3, -1, 0, 4, 5, -2, 1]
    kwargs = {
        "graph": ITEM,
        "map_over": "x",
        "x": xs,
        "error_handling": "continue",
        "max_concurrency": max_concurrency,
        "workflow_id": "wf",
    }
    pairs = await collect(kind, **kwargs)
    expected = await AsyncRunner().map(**kwargs)
    assert sorted(i for i, _ in pairs) == list(range(len(xs)))
    for index, item in pairs:
        assert isinstance(item, RunResult)
        assert item.workflow_id == f"wf/{index}"
        assert item.values == expected[index].values
        assert item.status is expected[index].status
        assert type(item.error) is type(expected[index].error)


# -- B91: order ---------------------------------------------------------------


async def test_async_map_iter_yields_in_completion_order():
    """Results come as items finish; the index tells the input position (B91)."""
    n = 4
    released = [anyio.Event() for _ in range(n)]

    @node(output_name="y")
    async def body(x: int) -> int:
        if x < n - 1:
            with anyio.fail_after(GUARD_SECONDS):
                await released[x].wait()
        return 10 * x

    order: list[int] = []
    with anyio.fail_after(GUARD_SECONDS):
        async with AsyncRunner().map_iter(
            Graph([body]), map_over="x", x=list(range(n))
        ) as stream:
            async for index, item in stream:
                order.append(index)
                assert item["y"] == 10 * index
                if index > 0:
                    released[index - 1].set()  # let the previous item finish next
    assert order == [3, 2, 1, 0]


def test_sequential_sync_map_iter_yields_in_index_order():
    """Sequential SyncRunner completion order is index order (B91)."""
    xs = [5, 4, 3, 2, 1, 0, -1]
    with SyncRunner() as sync:
        pairs = list(sync.map_iter(ITEM, map_over="x", x=xs, error_handling="continue"))
    assert [i for i, _ in pairs] == list(range(len(xs)))
    assert [r.get("doubled") for _, r in pairs] == [2 * x for x in xs]


# -- B92: checks happen when iteration starts ---------------------------------

BAD_CALLS = {
    "empty_map_over": ({"map_over": []}, ValueError, "at least one"),
    "bad_map_mode": ({"map_over": "x", "map_mode": "x"}, ValueError, "map_mode"),
    "bad_limit": (
        {"map_over": "x", "max_concurrency": 0},
        ValueError,
        "max_concurrency",
    ),
    "not_a_sequence": ({"map_over": "x", "x": 7}, TypeError, "sequence"),
    "missing_broadcast": (
        {"map_over": "x", "factor": None},
        MissingInputError,
        "factor",
    ),
    "slash_in_id": ({"map_over": "x", "workflow_id": "a/b"}, ValueError, "'/'"),
}


def recording_graph(calls: list[Any]) -> Graph:
    """``scale(x, factor) -> y`` that records every call."""

    @node(output_name="y")
    def scale(x: int, factor: int) -> int:
        calls.append(x)
        return x * factor

    return Graph([scale], name="recording")


def bad_call(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A call with ``x`` and ``factor`` filled in; ``factor=None`` drops it."""
    call = {"x": [1, 2], "factor": 2, **kwargs}
    if call["factor"] is None:
        del call["factor"]
    return call


def _sync_first(calls: list[Any], kwargs: dict[str, Any]) -> BaseException | None:
    with SyncRunner() as sync:
        stream = sync.map_iter(recording_graph(calls), **bad_call(kwargs))  # no raise
        calls.append("created")
        try:
            next(stream)
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            return exc
    return None


@kinds
@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"), list(BAD_CALLS.values()), ids=list(BAD_CALLS)
)
async def test_bad_arguments_raise_at_the_first_next_not_at_creation(
    kind, kwargs, error, fragment
):
    """Creating the iterator never raises; the first ``next`` does, up front (B92)."""
    calls: list[Any] = []
    if kind == "sync":
        raised = await anyio.to_thread.run_sync(lambda: _sync_first(calls, kwargs))
        assert isinstance(raised, error)
        assert re.search(re.escape(fragment), str(raised))
    else:
        stream = AsyncRunner().map_iter(recording_graph(calls), **bad_call(kwargs))
        calls.append("created")
        with pytest.raises(error, match=re.escape(fragment)):
            await anext(stream)
    assert calls == ["created"]


async def test_async_entering_the_context_manager_runs_the_checks():
    """``async with`` runs the checks on entry; nothing has run (B92)."""
    calls: list[Any] = []
    stream = AsyncRunner().map_iter(
        recording_graph(calls), map_over=[], x=[1], factor=2
    )
    with pytest.raises(ValueError, match="at least one"):
        async with stream:
            calls.append("body")
    assert calls == []


def test_sync_entering_the_context_manager_runs_the_checks():
    """``with`` runs the checks on entry; nothing has run (B92)."""
    calls: list[Any] = []
    with SyncRunner() as sync:
        stream = sync.map_iter(
            recording_graph(calls), map_over="x", x=[1, 2], factor=2, map_mode="?"
        )
        with pytest.raises(ValueError, match="map_mode"), stream:
            calls.append("body")
    assert calls == []


async def test_async_unlimited_guard_raises_at_the_first_next():
    """The >10 000 unlimited-items guard is checked when iteration starts (B92, B27)."""
    calls: list[Any] = []
    stream = AsyncRunner().map_iter(
        recording_graph(calls), map_over="x", x=list(range(10_001)), factor=1
    )
    with pytest.raises(ValueError, match="Too many map tasks without a concurrency"):
        await anext(stream)
    assert calls == []


# -- B93: error handling ------------------------------------------------------


@kinds
async def test_continue_yields_failed_and_paused_items(kind):
    """Under ``continue`` failures and pauses are yielded as results (B93)."""
    pairs = dict(
        await collect(
            kind, graph=ITEM, map_over="x", x=[1, -1, 0], error_handling="continue"
        )
    )
    assert pairs[0].status is RunStatus.COMPLETED
    assert pairs[1].status is RunStatus.FAILED
    assert pairs[1].error is RAISED[0]
    assert pairs[2].status is RunStatus.PAUSED
    assert pairs[2].pause.node_name == "review"


@kinds
async def test_raise_still_yields_paused_items(kind):
    """Paused items are not failures under ``raise`` and are yielded (B93, B35)."""
    pairs = dict(await collect(kind, graph=ITEM, map_over="x", x=[0, 2]))
    assert [pairs[i].status for i in (0, 1)] == [RunStatus.PAUSED, RunStatus.COMPLETED]


async def test_async_raise_stops_at_first_failure_and_cancels_the_rest():
    """Fail-fast raises the original error; earlier results stay valid (B93)."""
    blockers = Blockers(target=2)
    taken = anyio.Event()
    error = Boom("item 2")

    @node(output_name="y")
    async def body(x: int) -> int:
        if x == 2:
            with anyio.fail_after(GUARD_SECONDS):
                await blockers.all_started().wait()
                await taken.wait()
            raise error
        if x >= 3:
            await blockers.block(x)
        return 10 * x

    got: list[tuple[int, RunResult]] = []
    stream = AsyncRunner().map_iter(Graph([body]), map_over="x", x=[0, 1, 2, 3, 4])

    async def consume() -> None:
        async for pair in stream:
            got.append(pair)
            if len(got) == 2:
                taken.set()

    with anyio.fail_after(GUARD_SECONDS), pytest.raises(Boom) as excinfo:
        await consume()
    assert excinfo.value is error
    assert sorted(i for i, _ in got) == [0, 1]
    assert all(r.status is RunStatus.COMPLETED and r["y"] == 10 * i for i, r in got)
    assert sorted(blockers.started) == [3, 4]
    assert blockers.running == set()
    assert not blockers.timed_out


def test_sequential_sync_raise_stops_at_first_failure():
    """Sequential fail-fast yields earlier items, raises, starts no later one (B93)."""
    started: list[int] = []
    error = Boom("item 2")

    @node(output_name="y")
    def body(x: int) -> int:
        started.append(x)
        if x == 2:
            raise error
        return x

    got: list[tuple[int, RunResult]] = []
    with SyncRunner() as sync:
        stream = sync.map_iter(Graph([body]), map_over="x", x=[0, 1, 2, 3, 4])
        with pytest.raises(Boom) as excinfo:
            drain_into(stream, got)
    assert excinfo.value is error
    assert [(i, r["y"]) for i, r in got] == [(0, 0), (1, 1)]
    assert started == [0, 1, 2]


def test_sync_concurrent_raise_leaves_no_item_running():
    """SyncRunner with a limit cancels in-flight items before raising (B93)."""
    blockers = Blockers(target=2)
    error = Boom("item 1")

    @node(output_name="y")
    async def body(x: int) -> int:
        if x == 1:
            with anyio.fail_after(GUARD_SECONDS):
                await blockers.all_started().wait()
            raise error
        if x >= 2:
            await blockers.block(x)
        return x

    got: list[tuple[int, RunResult]] = []
    with SyncRunner() as sync:
        stream = sync.map_iter(
            Graph([body]), map_over="x", x=list(range(6)), max_concurrency=3
        )
        with pytest.raises(Boom) as excinfo:
            drain_into(stream, got)
    assert excinfo.value is error
    # Item 0 finishes at once; it may or may not be yielded before the failure.
    assert [(i, r["y"]) for i, r in got] in ([], [(0, 0)])
    assert sorted(blockers.started) == [2, 3]
    assert blockers.running == set()
    assert not blockers.timed_out


# -- B94: lifetime ------------------------------------------------------------


async def test_async_leaving_the_block_early_cancels_unfinished_items():
    """Breaking out of ``async with`` cancels in-flight items silently (B94)."""
    blockers = Blockers(target=3)
    with anyio.fail_after(GUARD_SECONDS):
        async with AsyncRunner().map_iter(
            first_done_rest_block(blockers), map_over="x", x=[0, 1, 2, 3]
        ) as stream:
            async for index, item in stream:
                assert (index, item["y"]) == (0, 0)
                break
    assert sorted(blockers.started) == [1, 2, 3]
    assert sorted(blockers.exited) == [1, 2, 3]
    assert not blockers.timed_out


async def test_async_aclose_cancels_unfinished_items():
    """``aclose()`` before exhaustion cancels in-flight items silently (B94)."""
    blockers = Blockers(target=3)
    stream = AsyncRunner().map_iter(
        first_done_rest_block(blockers), map_over="x", x=[0, 1, 2, 3]
    )
    with anyio.fail_after(GUARD_SECONDS):
        index, _ = await anext(stream)
        await stream.aclose()
    assert index == 0
    assert sorted(blockers.exited) == [1, 2, 3]
    assert blockers.running == set()
    assert not blockers.timed_out


def test_sync_leaving_the_block_early_cancels_unfinished_items():
    """Leaving ``with`` early cancels in-flight items and raises nothing (B94)."""
    blockers = Blockers(target=3)
    with SyncRunner() as sync:
        with sync.map_iter(
            first_done_rest_block(blockers),
            map_over="x",
            x=[0, 1, 2, 3, 4, 5],
            max_concurrency=4,
        ) as stream:
            index, _ = next(stream)
        assert index == 0
        # Taking item 0 may let its worker start item 4 before the block ends.
        assert {1, 2, 3} <= set(blockers.started) <= {1, 2, 3, 4}
        assert sorted(blockers.exited) == sorted(blockers.started)
    assert not blockers.timed_out


def test_sync_close_cancels_unfinished_items():
    """``close()`` before exhaustion cancels in-flight items silently (B94)."""
    blockers = Blockers(target=3)
    with SyncRunner() as sync:
        stream = sync.map_iter(
            first_done_rest_block(blockers),
            map_over="x",
            x=[0, 1, 2, 3],
            max_concurrency=4,
        )
        index, _ = next(stream)
        stream.close()
        assert index == 0
        assert blockers.running == set()
        assert sorted(blockers.exited) == [1, 2, 3]
    assert not blockers.timed_out


async def test_async_closing_an_exhausted_stream_raises_nothing():
    """``aclose()`` after exhaustion is harmless (B94)."""
    stream = AsyncRunner().map_iter(ITEM, map_over="x", x=[1, 2])
    pairs = [pair async for pair in stream]
    await stream.aclose()
    assert sorted(i for i, _ in pairs) == [0, 1]


def test_sync_closing_an_exhausted_iterator_raises_nothing():
    """``close()`` after exhaustion is harmless (B94)."""
    with SyncRunner() as sync:
        stream = sync.map_iter(ITEM, map_over="x", x=[1, 2])
        pairs = list(stream)
        stream.close()
    assert [i for i, _ in pairs] == [0, 1]


# -- B95: bounded memory ------------------------------------------------------


def starting_graph(started: list[int]) -> Graph:
    """An async identity node that records each item's ``x`` when it starts."""

    @node(output_name="y")
    async def body(x: int) -> int:
        started.append(x)
        await anyio.lowlevel.checkpoint()
        return x

    return Graph([body], name="starting")


async def test_async_unconsumed_results_never_exceed_the_limit():
    """A consumer that does not pull holds back all but ``k`` items (B95)."""
    k, n = 2, 8
    started: list[int] = []

    consumed = 0
    with anyio.fail_after(GUARD_SECONDS):
        async with AsyncRunner().map_iter(
            starting_graph(started), map_over="x", x=list(range(n)), max_concurrency=k
        ) as stream:
            await anyio.wait_all_tasks_blocked()
            assert len(started) <= k
            async for _ in stream:
                consumed += 1
                for _turn in range(20):  # give the workers every chance to overstart
                    await anyio.lowlevel.checkpoint()
                assert len(started) - consumed <= k
    assert consumed == n
    assert sorted(started) == list(range(n))


@pytest.mark.parametrize(("limit", "bound"), [(None, 1), (2, 2)])
def test_sync_unconsumed_results_never_exceed_the_limit(limit, bound):
    """Between ``next()`` calls at most ``k`` (1 sequentially) items pend (B95)."""
    n = 8
    started: list[int] = []

    consumed = 0
    with (
        SyncRunner() as sync,
        sync.map_iter(
            starting_graph(started),
            map_over="x",
            x=list(range(n)),
            max_concurrency=limit,
        ) as stream,
    ):
        assert len(started) <= bound
        for _ in stream:
            consumed += 1
            assert len(started) - consumed <= bound
    assert consumed == n
    assert sorted(started) == list(range(n))


# -- B96: empty input ---------------------------------------------------------


@kinds
async def test_empty_input_yields_nothing(kind):
    """N = 0 yields no pair and runs nothing (B96, B53)."""
    calls: list[Any] = []
    pairs = await collect(
        kind, graph=recording_graph(calls), map_over="x", x=[], factor=2
    )
    assert pairs == []
    assert calls == []


async def test_async_empty_input_in_a_context_manager_yields_nothing():
    """``async with`` over an empty batch enters, yields nothing and exits (B96)."""
    async with AsyncRunner().map_iter(ITEM, map_over="x", x=[]) as stream:
        pairs = [pair async for pair in stream]
    assert pairs == []


@pytest.mark.parametrize("runner_class", [AsyncRunner, SyncRunner])
def test_map_iter_takes_exactly_the_parameters_of_map(runner_class):
    """``map_iter`` has the parameters and defaults of that runner's ``map`` (B90)."""
    map_params = inspect.signature(runner_class.map).parameters
    iter_params = inspect.signature(runner_class.map_iter).parameters
    assert list(iter_params) == list(map_params)
    for name, param in map_params.items():
        assert iter_params[name].default == param.default
        assert iter_params[name].kind == param.kind


class Token:
    """An output value that can be weakly referenced."""


async def test_async_map_iter_keeps_no_reference_to_yielded_results():
    """A yielded and dropped pair is not kept alive by the stream (B90)."""
    import gc
    import weakref

    @node(output_name="token")
    async def make(x: int) -> Token:
        return Token()

    refs: list[weakref.ref[Token]] = []
    async with AsyncRunner().map_iter(
        Graph([make]), map_over="x", x=[0, 1, 2], max_concurrency=1
    ) as stream:
        async for _index, item in stream:
            refs.append(weakref.ref(item["token"]))
            del item
            gc.collect()
            assert refs[0]() is None
    assert len(refs) == 3


async def test_sync_map_iter_works_when_the_calling_thread_runs_a_loop():
    """``SyncRunner.map_iter`` works from a thread running an event loop (B96)."""
    with SyncRunner() as sync:
        pairs = list(sync.map_iter(ITEM, map_over="x", x=[1, 2, 3], max_concurrency=2))
    assert sorted((i, r["result"]) for i, r in pairs) == [(0, 3), (1, 5), (2, 7)]
