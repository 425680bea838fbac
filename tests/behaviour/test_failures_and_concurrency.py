"""Failures, error_handling, concurrency, blocking nodes and generators (02 R21-R23)."""

from __future__ import annotations

import asyncio
import threading
import time

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from hypergraph import AsyncRunner, FunctionNode, Graph, RunStatus, SyncRunner, node

BARRIER_TIMEOUT = 2.0
SAFETY_TIMEOUT = 0.5  # only bounds a failing test; never orders events
HANG_GUARD = 5.0  # turns a body that would wait forever into a failure


class Boom(Exception):
    """A node's own exception type."""


class Tracker:
    """Counts concurrently running node bodies and remembers the peak.

    ``expected`` is the overlap the test expects. In :meth:`hold` the first bodies
    wait on an event until that many are inside at once, so reaching the peak never
    depends on how fast the scheduler is; then each body yields a few times, so a
    body started beyond the limit would be inside too and raise the peak.
    """

    def __init__(self, expected: int = 1) -> None:
        self.expected = expected
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._reached: anyio.Event | None = None

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    async def hold(self) -> None:
        """Run one async body: wait until ``expected`` overlap, then yield a little."""
        self.enter()
        try:
            if self._reached is None:  # created on the engine's loop
                self._reached = anyio.Event()
            if self.peak >= self.expected:
                self._reached.set()
            with anyio.fail_after(HANG_GUARD):
                await self._reached.wait()
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
        finally:
            self.leave()


def tracked_async_node(tracker: Tracker, name: str, output: str, source: str = "x"):
    """Build an async node reading ``source`` that holds a slot via the tracker."""

    async def body(x: int) -> int:
        await tracker.hold()
        return x

    built = FunctionNode(body, name=name, output_name=output)
    return built if source == "x" else built.with_inputs(x=source)


@node(output_name="a")
def ok(x: int) -> int:
    return x


@node
def bad(a: int) -> None:
    raise Boom(f"bad got {a}")


@node(output_name="after_bad")
def after_bad(a: int) -> int:
    return a


@node(output_name="items")
def count_up(n: int):
    yield from range(n)


@node(output_name="items")
async def async_count_up(n: int):
    for i in range(n):
        await anyio.lowlevel.checkpoint()
        yield i


@node(output_name="items")
def empty_gen(n: int):
    return
    yield  # pragma: no cover


@node(output_name="items")
async def empty_async_gen(n: int):
    if n < 0:  # pragma: no cover
        yield n


@node(output_name=("first", "second"))
def two_yields(n: int):
    yield n
    yield n + 1


# --- R21: failures -------------------------------------------------------------------


async def test_node_exception_is_reraised_unwrapped(runner):
    """Under ``raise`` the very exception object raised by the node propagates."""
    raised = []

    @node(output_name="y")
    def fails(x: int) -> int:
        exc = Boom("original")
        raised.append(exc)
        raise exc

    with pytest.raises(Boom) as excinfo:
        await runner.run(Graph([fails]), x=1)
    assert excinfo.value is raised[0]


async def test_async_node_exception_is_reraised_unwrapped(runner):
    """An async node's exception propagates as itself, not in an ExceptionGroup."""

    @node(output_name="y")
    async def fails(x: int) -> int:
        raise Boom("async original")

    with pytest.raises(Boom, match="async original"):
        await runner.run(Graph([fails]), x=1)


async def test_continue_returns_failed_with_partial_values(runner):
    """Spec example: ``ok(x)->a``, ``bad(a)`` raises; continue gives ``{"a": 1}``."""
    result = await runner.run(Graph([ok, bad]), x=1, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, Boom)
    assert str(result.error) == "bad got 1"
    assert result.values == {"a": 1}


async def test_continue_keeps_the_original_exception_object(runner):
    """``RunResult.error`` is the node's exception object itself."""
    raised = []

    @node(output_name="y")
    def fails(x: int) -> int:
        exc = Boom("kept")
        raised.append(exc)
        raise exc

    result = await runner.run(Graph([fails]), x=1, error_handling="continue")
    assert result.error is raised[0]


async def test_failure_stops_scheduling_downstream_nodes(runner):
    """Nothing downstream of a failed node runs."""
    calls = []

    @node(output_name="b")
    def explode(a: int) -> int:
        raise Boom("stop")

    @node(output_name="c")
    def downstream(b: int) -> int:
        calls.append(b)
        return b

    result = await runner.run(
        Graph([ok, explode, downstream]), x=1, error_handling="continue"
    )
    assert result.failed
    assert calls == []
    assert result.values == {"a": 1}


async def test_failure_stops_later_supersteps_of_independent_nodes(runner):
    """After a failure no further superstep starts, even for unrelated nodes."""
    calls = []

    @node(output_name="b")
    def explode(x: int) -> int:
        raise Boom("stop")

    @node(output_name="p")
    def first(x: int) -> int:
        return x

    @node(output_name="q")
    def later(p: int) -> int:
        calls.append(p)
        return p

    graph = Graph([explode, first, later])
    result = await runner.run(graph, x=1, error_handling="continue")
    assert result.failed
    assert calls == []


def test_sequential_execution_skips_nodes_after_failing_one():
    """SyncRunner without a limit runs no later node of the failing superstep."""
    calls = []

    @node(output_name="b")
    def explode(x: int) -> int:
        raise Boom("first fails")

    @node(output_name="c")
    def sibling(x: int) -> int:
        calls.append(x)
        return x

    with SyncRunner() as sync_runner:
        result = sync_runner.run(
            Graph([explode, sibling]), x=1, error_handling="continue"
        )
        with pytest.raises(Boom):
            sync_runner.run(Graph([explode, sibling]), x=1)
    assert result.failed
    assert calls == []


@pytest.mark.parametrize("nested", [False, True], ids=["sibling", "graph-node"])
async def test_fail_fast_cancels_running_async_siblings(runner, nested):
    """Under ``raise`` in-flight siblings are cancelled and unwound before the raise.

    The failing node is either a sibling itself or sits inside a GraphNode sibling.
    """
    started = anyio.Event()
    never = anyio.Event()
    log: list[str] = []

    @node(output_name="slow")
    async def waiter(x: int) -> int:
        started.set()
        try:
            await never.wait()
        except anyio.get_cancelled_exc_class():
            log.append("cancelled")
            raise
        finally:
            log.append("unwound")
        return x  # pragma: no cover

    @node(output_name="fast")
    async def boom(x: int) -> int:
        await started.wait()
        raise Boom("fail fast")

    failing = Graph([boom], name="inner").as_node() if nested else boom
    with pytest.raises(Boom, match="fail fast"):
        await runner.run(Graph([waiter, failing]), x=1, max_concurrency=4)
    assert log == ["cancelled", "unwound"]


async def test_fail_fast_sync_failure_cancels_in_flight_async_sibling(runner):
    """A failing sync node cancels an async sibling suspended in the same superstep."""
    never = anyio.Event()
    log: list[str] = []

    @node(output_name="slow")
    async def waiter(x: int) -> int:
        try:
            with anyio.move_on_after(SAFETY_TIMEOUT):
                await never.wait()
            log.append("not cancelled")
        except anyio.get_cancelled_exc_class():
            log.append("cancelled")
            raise
        return x

    @node(output_name="fast")
    def sync_boom(x: int) -> int:
        raise Boom("sync fail fast")

    with pytest.raises(Boom, match="sync fail fast"):
        await runner.run(Graph([waiter, sync_boom]), x=1, max_concurrency=2)
    assert log == ["cancelled"]


def test_fail_fast_cancels_siblings_under_async_runner_without_limit():
    """AsyncRunner with no limit also cancels in-flight siblings on failure."""
    log: list[str] = []

    async def scenario() -> None:
        started = asyncio.Event()
        never = asyncio.Event()

        @node(output_name="slow")
        async def waiter(x: int) -> int:
            started.set()
            try:
                await never.wait()
            finally:
                log.append("unwound")
            return x  # pragma: no cover

        @node(output_name="fast")
        async def boom(x: int) -> int:
            await started.wait()
            raise Boom("no limit")

        with pytest.raises(Boom, match="no limit"):
            await AsyncRunner().run(Graph([waiter, boom]), x=1)

    asyncio.run(scenario())
    assert log == ["unwound"]


async def test_continue_lets_in_flight_siblings_finish_and_keeps_outputs(runner):
    """Under ``continue`` a concurrent sibling finishes and its output is kept."""
    failing = anyio.Event()

    @node(output_name="slow")
    async def sibling(x: int) -> int:
        await failing.wait()
        return x + 10

    @node(output_name="fast")
    async def boom(x: int) -> int:
        failing.set()
        raise Boom("continue")

    result = await runner.run(
        Graph([sibling, boom]), x=1, max_concurrency=4, error_handling="continue"
    )
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, Boom)
    assert result.values == {"slow": 11}


def test_system_exit_propagates_even_with_continue_sync_runner():
    """SystemExit from a node is never turned into a FAILED result (SyncRunner)."""

    @node(output_name="y")
    def leave(x: int) -> int:
        raise SystemExit(3)

    runner = SyncRunner()
    try:
        with pytest.raises(SystemExit):
            runner.run(Graph([leave]), x=1, error_handling="continue")
    finally:
        runner.close()


def test_keyboard_interrupt_propagates_even_with_continue_async_runner():
    """KeyboardInterrupt from a node propagates out of AsyncRunner.run."""

    @node(output_name="y")
    def interrupt_me(x: int) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(
            AsyncRunner().run(Graph([interrupt_me]), x=1, error_handling="continue")
        )


# --- R22: concurrency ----------------------------------------------------------------


async def test_max_concurrency_bounds_concurrent_async_bodies(runner):
    """At most ``max_concurrency`` async node bodies run at once, and that many do."""
    tracker = Tracker(expected=2)
    nodes = [tracked_async_node(tracker, f"n{i}", f"o{i}") for i in range(6)]
    result = await runner.run(Graph(nodes), x=1, max_concurrency=2)
    assert result.completed
    assert tracker.peak == 2


async def test_max_concurrency_one_serialises_async_nodes(runner):
    """``max_concurrency=1`` never lets two async bodies overlap."""
    tracker = Tracker()
    nodes = [tracked_async_node(tracker, f"n{i}", f"o{i}") for i in range(4)]
    await runner.run(Graph(nodes), x=1, max_concurrency=1)
    assert tracker.peak == 1


async def test_max_concurrency_is_shared_with_nested_graphs(runner):
    """Nested GraphNodes draw from the outer run's budget."""
    tracker = Tracker(expected=3)
    inner_a = Graph(
        [tracked_async_node(tracker, f"a{i}", f"ao{i}") for i in range(3)],
        name="inner_a",
    )
    inner_b = Graph(
        [tracked_async_node(tracker, f"b{i}", f"bo{i}") for i in range(3)],
        name="inner_b",
    )
    outer = Graph(
        [
            inner_a.as_node(),
            inner_b.as_node(),
            tracked_async_node(tracker, "top", "top_out"),
        ]
    )
    result = await runner.run(outer, x=1, max_concurrency=3)
    assert result.completed
    assert tracker.peak == 3


async def test_max_concurrency_is_shared_with_mapped_graph_node_items(runner):
    """Items of a mapped GraphNode draw from the outer run's budget."""
    tracker = Tracker(expected=2)
    inner = Graph(
        [
            tracked_async_node(tracker, "p", "po", source="item"),
            tracked_async_node(tracker, "q", "qo", source="item"),
        ],
        name="per_item",
    )
    outer = Graph([inner.as_node().map_over("item")])
    result = await runner.run(outer, item=list(range(8)), max_concurrency=2)
    assert result["po"] == list(range(8))
    assert tracker.peak == 2


async def test_async_runner_without_limit_overlaps_all_async_nodes():
    """With no limit every async node of a superstep runs concurrently."""
    tracker = Tracker(expected=5)
    nodes = [tracked_async_node(tracker, f"n{i}", f"o{i}") for i in range(5)]
    await AsyncRunner().run(Graph(nodes), x=1)
    assert tracker.peak == 5


def test_sync_runner_without_limit_runs_async_nodes_sequentially():
    """SyncRunner without ``max_concurrency`` runs one node at a time."""
    tracker = Tracker()
    nodes = [tracked_async_node(tracker, f"n{i}", f"o{i}") for i in range(4)]
    with SyncRunner() as sync_runner:
        result = sync_runner.run(Graph(nodes), x=1)
    assert result.completed
    assert tracker.peak == 1


def test_sync_runner_runs_sync_nodes_on_the_callers_thread():
    """Under SyncRunner inline sync nodes run on the thread that called ``run``."""
    seen = []

    @node(output_name="y")
    def where(x: int) -> int:
        seen.append(threading.get_ident())
        return x

    with SyncRunner() as sync_runner:
        sync_runner.run(Graph([where]), x=1)
    assert seen == [threading.get_ident()]


async def test_sync_nodes_run_inline_on_the_loop_thread(runner):
    """A plain sync node runs on the same thread as async nodes of the run."""
    threads: dict[str, int] = {}

    @node(output_name="s")
    def sync_body(x: int) -> int:
        threads["sync"] = threading.get_ident()
        return x

    @node(output_name="a")
    async def async_body(x: int) -> int:
        threads["async"] = threading.get_ident()
        return x

    await runner.run(Graph([sync_body, async_body]), x=1)
    assert threads["sync"] == threads["async"]


async def test_blocking_node_runs_in_a_worker_thread(runner):
    """``blocking=True`` moves the sync body off the loop thread."""
    threads: dict[str, int] = {}

    @node(output_name="b", blocking=True)
    def blocking_body(x: int) -> int:
        threads["blocking"] = threading.get_ident()
        return x

    @node(output_name="s")
    def inline_body(x: int) -> int:
        threads["inline"] = threading.get_ident()
        return x

    result = await runner.run(Graph([blocking_body, inline_body]), x=1)
    assert result.values == {"b": 1, "s": 1}
    assert threads["blocking"] != threads["inline"]


async def test_blocking_nodes_overlap(runner):
    """Two blocking nodes of one superstep run at the same time."""
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)

    @node(output_name="left", blocking=True)
    def left(x: int) -> int:
        barrier.wait()
        return x

    @node(output_name="right", blocking=True)
    def right(x: int) -> int:
        barrier.wait()
        return x

    result = await runner.run(Graph([left, right]), x=1, max_concurrency=2)
    assert result.values == {"left": 1, "right": 1}


async def test_blocking_nodes_of_mapped_items_overlap(runner):
    """Blocking nodes of different mapped items overlap under a limit."""
    barrier = threading.Barrier(3, timeout=BARRIER_TIMEOUT)

    @node(output_name="out", blocking=True)
    def work(item: int) -> int:
        barrier.wait()
        return item * 2

    inner = Graph([work], name="worker")
    outer = Graph([inner.as_node().map_over("item")])
    result = await runner.run(outer, item=[1, 2, 3], max_concurrency=3)
    assert result["out"] == [2, 4, 6]


async def test_blocking_nodes_take_a_concurrency_slot(runner):
    """Under ``max_concurrency=1`` blocking nodes never overlap."""
    tracker = Tracker()

    def make(name: str):
        def body(x: int) -> int:
            tracker.enter()
            try:
                time.sleep(0.002)
            finally:
                tracker.leave()
            return x

        return FunctionNode(body, name=name, output_name=f"{name}_out", blocking=True)

    graph = Graph([make("b1"), make("b2"), make("b3")])
    result = await runner.run(graph, x=1, max_concurrency=1)
    assert result.completed
    assert tracker.peak == 1


async def test_blocking_sync_generator_is_drained_in_worker_thread(runner):
    """A blocking sync generator yields its items from a worker thread."""
    threads: list[int] = []
    loop_thread: list[int] = []

    @node(output_name="items", blocking=True)
    def produce(n: int):
        for i in range(n):
            threads.append(threading.get_ident())
            yield i

    @node(output_name="marker")
    def inline(n: int) -> int:
        loop_thread.append(threading.get_ident())
        return n

    result = await runner.run(Graph([produce, inline]), n=3)
    assert result["items"] == [0, 1, 2]
    assert len(set(threads)) == 1
    assert threads[0] != loop_thread[0]


async def test_plain_function_returning_coroutine_is_awaited(runner):
    """A sync function that returns a coroutine has the awaited value as output."""

    async def compute(x: int) -> int:
        return x * 7

    @node(output_name="y")
    def delegate(x: int):
        return compute(x)

    result = await runner.run(Graph([delegate]), x=2)
    assert result["y"] == 14


async def test_plain_function_returning_generator_is_drained(runner):
    """A sync function that returns a generator has the list of items as output."""

    def numbers(n: int):
        yield from range(n)

    @node(output_name="items")
    def delegate(n: int):
        return numbers(n)

    result = await runner.run(Graph([delegate]), n=3)
    assert result["items"] == [0, 1, 2]


async def test_plain_function_returning_async_generator_is_drained(runner):
    """A sync function that returns an async generator has the list of items."""

    async def numbers(n: int):
        for i in range(n):
            yield i

    @node(output_name="items")
    def delegate(n: int):
        return numbers(n)

    result = await runner.run(Graph([delegate]), n=2)
    assert result["items"] == [0, 1]


# --- R23: generators ------------------------------------------------------------------


async def test_sync_generator_value_is_list_of_items(runner):
    """A sync generator node's value is the list of everything it yielded."""
    result = await runner.run(Graph([count_up]), n=4)
    assert result["items"] == [0, 1, 2, 3]


async def test_async_generator_value_is_list_of_items(runner):
    """An async generator node's value is the list of everything it yielded."""
    result = await runner.run(Graph([async_count_up]), n=3)
    assert result["items"] == [0, 1, 2]


@pytest.mark.parametrize("gen", [empty_gen, empty_async_gen], ids=["sync", "async"])
async def test_empty_generator_gives_empty_list(runner, gen):
    """A generator that yields nothing gives ``[]``."""
    result = await runner.run(Graph([gen]), n=0)
    assert result["items"] == []


async def test_generator_with_several_outputs_unpacks_the_list(runner):
    """With several outputs the collected list is unpacked positionally."""
    result = await runner.run(Graph([two_yields]), n=5)
    assert result.values == {"first": 5, "second": 6}


async def test_generator_items_feed_downstream_as_one_list(runner):
    """A consumer receives the full list once, not item by item."""
    received = []

    @node(output_name="total")
    def total(items: list[int]) -> int:
        received.append(list(items))
        return sum(items)

    result = await runner.run(Graph([count_up, total]), n=4)
    assert result["total"] == 6
    assert received == [[0, 1, 2, 3]]


async def test_generator_exception_is_a_node_failure(runner):
    """An exception raised mid-generator fails the node with that exception."""

    @node(output_name="items")
    def broken(n: int):
        yield 1
        raise Boom("mid-stream")

    result = await runner.run(Graph([broken]), n=1, error_handling="continue")
    assert result.failed
    assert isinstance(result.error, Boom)
    assert "items" not in result


# --- fail-fast across nesting --------------------------------------------------


async def test_fail_fast_cancels_in_flight_mapped_items(runner):
    """A failing mapped item cancels the other in-flight items before raising."""
    started = anyio.Event()
    never = anyio.Event()
    log: list[str] = []

    @node(output_name="y")
    async def per_item(item: int) -> int:
        if item == 0:
            started.set()
            try:
                await never.wait()
            finally:
                log.append("unwound")
        await started.wait()
        raise Boom(f"item {item} failed")

    gn = Graph([per_item], name="items").as_node().map_over("item")
    with pytest.raises(Boom, match="item 1 failed"):
        await runner.run(Graph([gn]), item=[0, 1], max_concurrency=2)
    assert log == ["unwound"]


def test_sync_runner_map_inside_a_node_raises_incompatible_runner_error():
    """SyncRunner.map from inside an inline node is refused like run."""
    from hypergraph import IncompatibleRunnerError

    inner = Graph([ok])
    inner_runner = SyncRunner()

    @node(output_name="nested")
    def calls_map(x: int) -> int:
        return len(inner_runner.map(inner, map_over="x", x=[x]))

    try:
        with SyncRunner() as outer_runner, pytest.raises(IncompatibleRunnerError):
            outer_runner.run(Graph([calls_map]), x=1)
    finally:
        inner_runner.close()


async def test_blocking_node_may_call_sync_runner(runner):
    """A ``blocking=True`` node runs in a worker thread, so SyncRunner works there."""
    inner = Graph([ok])
    inner_runner = SyncRunner()

    @node(output_name="nested", blocking=True)
    def calls_sync(x: int) -> int:
        return inner_runner.run(inner, x=x)["a"]

    try:
        result = await runner.run(Graph([calls_sync]), x=9)
    finally:
        await anyio.to_thread.run_sync(inner_runner.close)
    assert result["nested"] == 9


async def test_sync_runner_called_from_async_node_raises(runner):
    """An async node runs on the engine loop thread, so SyncRunner.run is refused."""
    from hypergraph import IncompatibleRunnerError

    inner = Graph([ok])
    inner_runner = SyncRunner()

    @node(output_name="nested")
    async def calls_sync(x: int) -> int:
        return inner_runner.run(inner, x=x)["a"]

    try:
        with pytest.raises(IncompatibleRunnerError):
            await runner.run(Graph([calls_sync]), x=1)
    finally:
        await anyio.to_thread.run_sync(inner_runner.close)


async def test_blocking_nodes_share_the_limit_as_thread_tokens(runner):
    """With ``max_concurrency=2`` exactly two blocking bodies overlap at most."""
    tracker = Tracker()
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)

    def make(name: str):
        def body(x: int) -> int:
            tracker.enter()
            try:
                barrier.wait()
            finally:
                tracker.leave()
            return x

        return FunctionNode(body, name=name, output_name=f"{name}_out", blocking=True)

    graph = Graph([make(f"b{i}") for i in range(4)])
    result = await runner.run(graph, x=1, max_concurrency=2)
    assert result.completed
    assert tracker.peak == 2


async def test_async_runner_without_limit_overlaps_blocking_nodes():
    """With no limit AsyncRunner runs blocking nodes on anyio's default thread pool."""
    barrier = threading.Barrier(3, timeout=BARRIER_TIMEOUT)

    def make(name: str):
        def body(x: int) -> int:
            barrier.wait()
            return x

        return FunctionNode(body, name=name, output_name=f"{name}_out", blocking=True)

    result = await AsyncRunner().run(Graph([make(f"b{i}") for i in range(3)]), x=1)
    assert result.values == {"b0_out": 1, "b1_out": 1, "b2_out": 1}


async def test_nested_mapped_graph_under_limit_one_does_not_deadlock(runner):
    """Only leaf bodies take slots, so nesting under a limit of 1 cannot deadlock."""
    tracker = Tracker()
    leaf = Graph([tracked_async_node(tracker, "leaf", "y", source="item")], name="leaf")
    middle = Graph([leaf.as_node().map_over("item")], name="middle")
    outer = Graph([middle.as_node()])
    result = await runner.run(outer, item=[1, 2, 3], max_concurrency=1)
    assert result["y"] == [1, 2, 3]
    assert tracker.peak == 1


async def test_async_runner_runs_mapped_items_concurrently_without_limit():
    """Without a limit AsyncRunner overlaps the items of a mapped GraphNode."""
    tracker = Tracker(expected=4)
    inner = Graph([tracked_async_node(tracker, "p", "po", source="item")], name="inner")
    outer = Graph([inner.as_node().map_over("item")])
    result = await AsyncRunner().run(outer, item=[1, 2, 3, 4])
    assert result["po"] == [1, 2, 3, 4]
    assert tracker.peak == 4


def test_sync_runner_runs_mapped_items_one_at_a_time_without_limit():
    """Without a limit SyncRunner runs the items of a mapped GraphNode sequentially."""
    tracker = Tracker()
    inner = Graph([tracked_async_node(tracker, "p", "po", source="item")], name="inner")
    outer = Graph([inner.as_node().map_over("item")])
    with SyncRunner() as sync_runner:
        result = sync_runner.run(outer, item=[1, 2, 3])
    assert result["po"] == [1, 2, 3]
    assert tracker.peak == 1


async def test_generator_length_mismatch_for_several_outputs_fails(runner):
    """A generator yielding three items for two outputs fails like R18."""

    @node(output_name=("first", "second"))
    def three(n: int):
        yield from (n, n, n)

    with pytest.raises(ValueError, match="has 2 data outputs but returned 3 values"):
        await runner.run(Graph([three]), n=1)


async def test_failed_record_measures_time_until_failure(runner):
    """A failing node's record carries the time from its start to the failure."""

    @node(output_name="y")
    def slow_fail(x: int) -> int:
        time.sleep(0.004)
        raise Boom("late")

    result = await runner.run(Graph([slow_fail]), x=1, error_handling="continue")
    (record,) = result.log.steps
    assert record.status == "failed"
    assert record.duration_ms >= 3.5


async def test_sync_sibling_runs_while_async_node_is_suspended(runner):
    """In concurrent execution a sync sibling runs while an async node awaits."""
    sibling_ran = anyio.Event()
    seen: list[bool] = []

    @node(output_name="held")
    async def holder(x: int) -> int:
        with anyio.move_on_after(SAFETY_TIMEOUT):
            await sibling_ran.wait()
        seen.append(sibling_ran.is_set())
        return x

    @node(output_name="s")
    def sync_sibling(x: int) -> int:
        sibling_ran.set()
        return x

    graph = Graph([holder, sync_sibling])
    result = await runner.run(graph, x=1, max_concurrency=2)
    assert result.values == {"held": 1, "s": 1}
    assert seen == [True]


async def test_concurrent_runs_on_one_async_runner_are_independent():
    """Two overlapping runs on the same AsyncRunner keep separate state."""
    both_started = [anyio.Event(), anyio.Event()]
    results: dict[int, object] = {}

    @node(output_name="y")
    async def meet(x: int) -> int:
        both_started[x].set()
        await both_started[1 - x].wait()
        return x * 10

    shared_runner = AsyncRunner()
    graph = Graph([meet])

    async def one(x: int) -> None:
        results[x] = await shared_runner.run(graph, x=x)

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, 0)
        tg.start_soon(one, 1)
    assert results[0].values == {"y": 0}
    assert results[1].values == {"y": 10}
    assert results[0].run_id != results[1].run_id
