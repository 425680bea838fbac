"""Event processors: dispatch, delivery, best effort and shutdown (05 O40-O45)."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
import structlog
from structlog.contextvars import merge_contextvars

from hypergraph import (
    AsyncEventProcessor,
    AsyncRunner,
    BaseEvent,
    CacheHitEvent,
    Event,
    EventDispatcher,
    EventProcessor,
    Graph,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    RunStatus,
    StopRequestedEvent,
    SuperstepStartEvent,
    TypedEventProcessor,
    node,
)

PROCESSOR_FAILED = "event_processor.failed"


class Boom(Exception):
    """A node's own exception type."""


class Recorder(EventProcessor):
    """Collects every event it receives and counts shutdowns."""

    def __init__(self, log: list | None = None) -> None:
        self.events: list[Event] = []
        self.shutdowns = 0
        self.log = log

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        if self.log is not None:
            self.log.append(("sync", type(event).__name__))

    def shutdown(self) -> None:
        self.shutdowns += 1
        if self.log is not None:
            self.log.append(("sync", "shutdown"))


class AsyncRecorder(AsyncEventProcessor):
    """An async processor that yields inside its handlers and records calls."""

    def __init__(self, log: list | None = None) -> None:
        self.events: list[Event] = []
        self.shutdowns = 0
        self.sync_calls = 0
        self.active = 0
        self.max_active = 0
        self.log = log

    def on_event(self, event: Event) -> None:
        self.sync_calls += 1

    def shutdown(self) -> None:
        self.sync_calls += 1

    async def on_event_async(self, event: Event) -> None:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        if self.log is not None:
            self.log.append(("async-enter", type(event).__name__))
        try:
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
            self.events.append(event)
        finally:
            self.active -= 1
            if self.log is not None:
                self.log.append(("async-exit", type(event).__name__))

    async def shutdown_async(self) -> None:
        await anyio.lowlevel.checkpoint()
        self.shutdowns += 1


class Exploding(EventProcessor):
    """Raises from ``on_event`` for the chosen event classes (all by default)."""

    def __init__(self, only: tuple[type, ...] = (BaseEvent,)) -> None:
        self.only = only
        self.received: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.received.append(event)
        if isinstance(event, self.only):
            raise RuntimeError(f"processor boom on {type(event).__name__}")

    def __repr__(self) -> str:
        return "<Exploding processor>"


class AsyncExploding(AsyncEventProcessor):
    """Raises from ``on_event_async`` for every event."""

    async def on_event_async(self, event: Event) -> None:
        await anyio.lowlevel.checkpoint()
        raise RuntimeError("async processor boom")

    def __repr__(self) -> str:
        return "<AsyncExploding processor>"


class ExplodingShutdown(EventProcessor):
    """Raises from ``shutdown``."""

    def shutdown(self) -> None:
        raise RuntimeError("shutdown boom")

    def __repr__(self) -> str:
        return "<ExplodingShutdown processor>"


class AsyncExplodingShutdown(AsyncEventProcessor):
    """Raises from ``shutdown_async``."""

    async def shutdown_async(self) -> None:
        raise RuntimeError("async shutdown boom")

    def __repr__(self) -> str:
        return "<AsyncExplodingShutdown processor>"


def kinds(events: list[Event]) -> list[str]:
    """Class names of events, in order."""
    return [type(e).__name__ for e in events]


def failures(logs: list[dict]) -> list[dict]:
    """Captured ``event_processor.failed`` entries."""
    return [entry for entry in logs if entry["event"] == PROCESSOR_FAILED]


@node(output_name="y")
def add_one(x: int) -> int:
    return x + 1


@node(output_name="z")
def double(y: int) -> int:
    return 2 * y


@node(output_name="y")
def fails_on_two(x: int) -> int:
    if x == 2:
        raise Boom(f"item {x} failed")
    return x + 1


CHAIN = Graph([add_one, double], name="chain")
INNER = Graph([add_one, double], name="inner")
NESTED = Graph([INNER.as_node(name="gn")], name="outer")


# -- O40: sync and async processors --------------------------------------------


def test_base_processors_have_no_op_handlers():
    """EventProcessor's handlers are no-ops and AsyncEventProcessor is one too."""
    processor = EventProcessor()
    assert processor.on_event(RunStartEvent("run-1")) is None
    assert processor.shutdown() is None
    assert issubclass(AsyncEventProcessor, EventProcessor)
    assert issubclass(TypedEventProcessor, EventProcessor)


async def test_async_processor_default_handlers_are_awaitable_no_ops():
    """AsyncEventProcessor's async handlers can be awaited and do nothing."""
    processor = AsyncEventProcessor()
    assert await processor.on_event_async(RunStartEvent("run-1")) is None
    assert await processor.shutdown_async() is None


async def test_default_processors_can_be_passed_to_a_run(runner):
    """Bare base processors are accepted and the run completes normally."""
    result = await runner.run(
        CHAIN,
        x=1,
        event_processors=[
            EventProcessor(),
            AsyncEventProcessor(),
            TypedEventProcessor(),
        ],
    )
    assert result.status is RunStatus.COMPLETED
    assert result["z"] == 4


async def test_sync_processor_receives_the_run_events(runner):
    """A sync processor's ``on_event`` gets every event of the run."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    assert kinds(recorder.events)[0] == "RunStartEvent"
    assert kinds(recorder.events)[-1] == "RunEndEvent"
    assert len(recorder.events) == 8


async def test_async_processor_handlers_are_awaited_with_either_runner(runner):
    """An AsyncEventProcessor gets every event via ``on_event_async``, both runners."""
    sync, async_ = Recorder(), AsyncRecorder()
    await runner.run(CHAIN, x=1, event_processors=[async_, sync])
    assert async_.events == sync.events
    assert len(async_.events) == 8
    assert async_.shutdowns == 1


async def test_async_processor_sync_methods_are_not_used(runner):
    """An AsyncEventProcessor's sync ``on_event``/``shutdown`` are not used."""
    async_ = AsyncRecorder()
    await runner.run(CHAIN, x=1, event_processors=[async_])
    assert async_.sync_calls == 0
    assert async_.events


async def test_mixed_processor_list_delivers_the_same_stream_to_each(runner):
    """Sync and async processors in one list see identical event sequences."""
    first, second, third = Recorder(), AsyncRecorder(), Recorder()
    await runner.map(
        NESTED, x=[1, 2], map_over="x", event_processors=[first, second, third]
    )
    assert first.events == second.events == third.events
    assert len(first.events) > 20
    assert first.shutdowns == second.shutdowns == third.shutdowns == 1


async def test_async_processor_receives_map_item_events(runner):
    """An async processor gets map-level and item events under both runners."""
    async_ = AsyncRecorder()
    result = await runner.map(
        CHAIN, x=[1, 2, 3], map_over="x", event_processors=[async_]
    )
    run_ids = {e.run_id for e in async_.events if isinstance(e, RunStartEvent)}
    assert run_ids == {result.run_id, *(r.run_id for r in result)}
    assert async_.shutdowns == 1


# -- O41: typed dispatch -------------------------------------------------------

HANDLERS = [
    (RunStartEvent, "on_run_start"),
    (RunEndEvent, "on_run_end"),
    (SuperstepStartEvent, "on_superstep_start"),
    (NodeStartEvent, "on_node_start"),
    (NodeEndEvent, "on_node_end"),
    (NodeErrorEvent, "on_node_error"),
    (RouteDecisionEvent, "on_route_decision"),
    (CacheHitEvent, "on_cache_hit"),
    (InterruptEvent, "on_interrupt"),
    (StopRequestedEvent, "on_stop_requested"),
]


class TypedSpy(TypedEventProcessor):
    """Records which typed handler got which event, for every handler."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Event]] = []


for _cls, _handler in HANDLERS:

    def _make(handler: str):
        def method(self: TypedSpy, event: Event) -> None:
            self.calls.append((handler, event))

        return method

    setattr(TypedSpy, _handler, _make(_handler))


def test_typed_processor_dispatches_each_class_to_its_handler():
    """``on_event`` routes each event class to the handler named for it, once."""
    for cls, handler in HANDLERS:
        spy = TypedSpy()
        event = cls("run-1")
        spy.on_event(event)
        assert spy.calls == [(handler, event)], cls


def test_typed_processor_default_handlers_do_nothing():
    """Every typed handler exists and is a no-op by default."""
    processor = TypedEventProcessor()
    for cls, handler in HANDLERS:
        assert getattr(processor, handler)(cls("run-1")) is None
        assert processor.on_event(cls("run-1")) is None


def test_typed_processor_ignores_unknown_event_classes():
    """Events of classes it does not know (including subclasses) reach no handler."""

    class CustomEvent(BaseEvent):
        pass

    class SpecialStart(NodeStartEvent):
        pass

    spy = TypedSpy()
    spy.on_event(BaseEvent("run-1"))
    spy.on_event(CustomEvent("run-1"))
    spy.on_event(SpecialStart("run-1"))
    assert spy.calls == []


async def test_typed_processor_calls_only_the_overridden_handlers(runner):
    """A typed processor overriding two handlers receives exactly those events."""

    class NodesAndEnd(TypedEventProcessor):
        def __init__(self) -> None:
            self.seen: list[tuple[str, str]] = []

        def on_node_start(self, event: NodeStartEvent) -> None:
            self.seen.append(("start", event.node_name))

        def on_run_end(self, event: RunEndEvent) -> None:
            self.seen.append(("end", event.status))

    processor = NodesAndEnd()
    await runner.run(CHAIN, x=1, event_processors=[processor])
    assert processor.seen == [
        ("start", "add_one"),
        ("start", "double"),
        ("end", "completed"),
    ]


async def test_typed_processor_sees_node_errors(runner):
    """``on_node_error`` receives the failing node's error event."""

    class Errors(TypedEventProcessor):
        def __init__(self) -> None:
            self.errors: list[NodeErrorEvent] = []

        def on_node_error(self, event: NodeErrorEvent) -> None:
            self.errors.append(event)

    processor = Errors()
    await runner.run(
        Graph([fails_on_two]),
        x=2,
        error_handling="continue",
        event_processors=[processor],
    )
    [error] = processor.errors
    assert error.node_name == "fails_on_two"
    assert error.error == "item 2 failed"


# -- O42: ordered, serialized, in-band delivery --------------------------------


async def test_processors_are_called_in_list_order_for_each_event(runner):
    """For each event the first processor finishes before the second is called."""
    log: list = []
    first, second = AsyncRecorder(log), Recorder(log)
    await runner.run(CHAIN, x=1, event_processors=[first, second])
    event_log = [entry for entry in log if entry[1] != "shutdown"]
    expected: list = []
    for name in kinds(second.events):
        expected += [("async-enter", name), ("async-exit", name), ("sync", name)]
    assert event_log == expected


async def test_node_start_is_delivered_before_the_body_and_end_after(runner):
    """Delivery is in-band: NodeStart is handled before the body runs, NodeEnd after."""
    log: list[str] = []

    class NodeLog(TypedEventProcessor):
        def on_node_start(self, event: NodeStartEvent) -> None:
            log.append(f"start {event.node_name}")

        def on_node_end(self, event: NodeEndEvent) -> None:
            log.append(f"end {event.node_name}")

    @node(output_name="y")
    def first(x: int) -> int:
        log.append("body first")
        return x

    @node(output_name="z")
    async def second(y: int) -> int:
        log.append("body second")
        return y

    await runner.run(Graph([first, second]), x=1, event_processors=[NodeLog()])
    assert log == [
        "start first",
        "body first",
        "end first",
        "start second",
        "body second",
        "end second",
    ]


def barrier_nodes(count: int) -> list:
    """``count`` independent async nodes that all wait until every one has started."""
    started: list[str] = []
    all_started = anyio.Event()

    def make(name: str):
        @node(output_name=f"{name}_out")
        async def waiter(x: int) -> int:
            started.append(name)
            if len(started) == count:
                all_started.set()
            with anyio.fail_after(5):
                await all_started.wait()
            await anyio.lowlevel.checkpoint()
            return x

        return waiter.with_name(name)

    return [make(f"n{i}") for i in range(count)]


async def test_async_processor_never_receives_two_events_at_once(runner):
    """Concurrent nodes emit concurrently; an awaiting processor is never re-entered."""
    async_ = AsyncRecorder()
    sync = Recorder()
    result = await runner.run(
        Graph(barrier_nodes(4)),
        x=1,
        max_concurrency=4,
        event_processors=[async_, sync],
    )
    assert result.status is RunStatus.COMPLETED
    assert async_.max_active == 1
    assert async_.events == sync.events
    assert kinds(sync.events).count("NodeEndEvent") == 4


async def test_async_processor_is_serialized_across_concurrent_map_items(runner):
    """Items running concurrently share one processor that sees one event at a time."""
    started: list[int] = []
    all_started = anyio.Event()

    @node(output_name="y")
    async def work(x: int) -> int:
        started.append(x)
        if len(started) == 4:
            all_started.set()
        with anyio.fail_after(5):
            await all_started.wait()
        return x

    async_ = AsyncRecorder()
    result = await runner.map(
        Graph([work]),
        x=[0, 1, 2, 3],
        map_over="x",
        max_concurrency=4,
        event_processors=[async_],
    )
    assert result.status is RunStatus.COMPLETED
    assert async_.max_active == 1
    assert kinds(async_.events).count("RunEndEvent") == 5
    for item in result:
        own = [e for e in async_.events if e.run_id == item.run_id]
        assert kinds(own)[0] == "RunStartEvent"
        assert kinds(own)[-1] == "RunEndEvent"


# -- O43: best effort ------------------------------------------------------------


async def test_raising_processor_does_not_affect_the_run(runner):
    """A processor raising on every event leaves the run and other processors intact."""
    exploding, recorder = Exploding(), Recorder()
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(CHAIN, x=1, event_processors=[exploding, recorder])
    assert result.status is RunStatus.COMPLETED
    assert result["z"] == 4
    assert len(recorder.events) == 8
    assert exploding.received == recorder.events
    assert recorder.shutdowns == 1
    assert len(failures(logs)) == 8


async def test_processor_failure_is_logged_as_a_warning_with_details(runner):
    """A failure logs ``event_processor.failed``: processor, event_type, traceback."""
    exploding = Exploding(only=(NodeStartEvent,))
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        await runner.run(CHAIN, x=1, event_processors=[exploding])
    entries = failures(logs)
    assert len(entries) == 2
    for entry in entries:
        assert entry["log_level"] == "warning"
        assert entry["processor"] == "<Exploding processor>"
        assert entry["event_type"] == "NodeStartEvent"
        assert "RuntimeError" in entry["traceback"]
        assert "processor boom on NodeStartEvent" in entry["traceback"]


async def test_processor_keeps_receiving_events_after_raising(runner):
    """A processor that raised on one event still gets every later event."""
    exploding, recorder = Exploding(only=(RunStartEvent,)), Recorder()
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        await runner.run(CHAIN, x=1, event_processors=[exploding, recorder])
    assert exploding.received == recorder.events
    assert len(failures(logs)) == 1


async def test_raising_async_processor_does_not_affect_the_run(runner):
    """An async processor raising in ``on_event_async`` is logged; the run completes."""
    recorder = Recorder()
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(
            CHAIN, x=1, event_processors=[AsyncExploding(), recorder]
        )
    assert result.status is RunStatus.COMPLETED
    assert len(recorder.events) == 8
    entries = failures(logs)
    assert len(entries) == 8
    assert {e["processor"] for e in entries} == {"<AsyncExploding processor>"}
    assert all("async processor boom" in e["traceback"] for e in entries)


async def test_raising_processor_does_not_fail_a_map(runner):
    """A processor raising on every event leaves a map's results unchanged."""
    recorder = Recorder()
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.map(
            CHAIN, x=[1, 2], map_over="x", event_processors=[Exploding(), recorder]
        )
    assert result.status is RunStatus.COMPLETED
    assert result["z"] == [4, 6]
    assert len(failures(logs)) == len(recorder.events)


@pytest.mark.parametrize(
    "exploding",
    [ExplodingShutdown, AsyncExplodingShutdown],
    ids=["sync", "async"],
)
async def test_raising_shutdown_is_logged_and_others_still_shut_down(runner, exploding):
    """A failing shutdown is logged and later processors still shut down."""
    bad, recorder = exploding(), Recorder()
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(CHAIN, x=1, event_processors=[bad, recorder])
    assert result.status is RunStatus.COMPLETED
    assert recorder.shutdowns == 1
    [entry] = failures(logs)
    assert entry["log_level"] == "warning"
    assert entry["processor"] == repr(bad)
    assert "shutdown boom" in entry["traceback"]
    assert "event_type" in entry


async def test_processor_failure_does_not_change_a_raising_run(runner):
    """A run that raises still raises its own error, not the processor's."""
    with (
        structlog.testing.capture_logs(processors=[merge_contextvars]),
        pytest.raises(Boom, match="item 2 failed"),
    ):
        await runner.run(Graph([fails_on_two]), x=2, event_processors=[Exploding()])


# -- O44: shutdown ----------------------------------------------------------------


async def test_shutdown_runs_once_after_the_final_run_end(runner):
    """``shutdown`` is called exactly once, after the last RunEnd of the run."""
    log: list = []
    recorder = Recorder(log)
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    assert recorder.shutdowns == 1
    assert log[-2:] == [("sync", "RunEndEvent"), ("sync", "shutdown")]


async def test_async_shutdown_is_awaited_once(runner):
    """``shutdown_async`` is awaited once per run; sync ``shutdown`` is not used."""
    async_ = AsyncRecorder()
    await runner.run(CHAIN, x=1, event_processors=[async_])
    assert async_.shutdowns == 1
    assert async_.sync_calls == 0


async def test_shutdown_runs_once_when_the_run_raises(runner):
    """A run that raises still shuts its processors down once."""
    recorder, async_ = Recorder(), AsyncRecorder()
    with pytest.raises(Boom):
        await runner.run(
            Graph([fails_on_two]), x=2, event_processors=[recorder, async_]
        )
    assert recorder.shutdowns == 1
    assert async_.shutdowns == 1
    assert isinstance(recorder.events[-1], RunEndEvent)


async def test_shutdown_runs_once_for_a_failed_run_under_continue(runner):
    """A FAILED result under continue shuts processors down once."""
    recorder = Recorder()
    result = await runner.run(
        Graph([fails_on_two]),
        x=2,
        error_handling="continue",
        event_processors=[recorder],
    )
    assert result.status is RunStatus.FAILED
    assert recorder.shutdowns == 1


async def test_shutdown_is_not_called_for_nested_runs(runner):
    """A run with a nested graph shuts down once, not once per inner run."""
    recorder = Recorder()
    await runner.run(NESTED, x=1, event_processors=[recorder])
    assert len([e for e in recorder.events if isinstance(e, RunEndEvent)]) == 2
    assert recorder.shutdowns == 1


async def test_shutdown_is_not_called_for_mapped_graph_node_items(runner):
    """A mapped GraphNode's items and map-level run do not shut processors down."""
    recorder = Recorder()
    await runner.run(
        Graph([INNER.as_node(name="gn").map_over("x")]),
        x=[1, 2, 3],
        event_processors=[recorder],
    )
    assert len([e for e in recorder.events if isinstance(e, RunEndEvent)]) == 5
    assert recorder.shutdowns == 1


async def test_shutdown_runs_once_per_map_after_the_map_level_end(runner):
    """A map shuts processors down once, after the map-level RunEnd (B18)."""
    log: list = []
    recorder, async_ = Recorder(log), AsyncRecorder()
    result = await runner.map(
        NESTED, x=[1, 2, 3], map_over="x", event_processors=[recorder, async_]
    )
    assert recorder.shutdowns == 1
    assert async_.shutdowns == 1
    assert log[-1] == ("sync", "shutdown")
    assert recorder.events[-1].run_id == result.run_id


async def test_shutdown_runs_once_when_map_raises(runner):
    """A fail-fast map that raises still shuts processors down once."""
    recorder = Recorder()
    with pytest.raises(Boom):
        await runner.map(
            Graph([fails_on_two]),
            x=[1, 2, 3],
            map_over="x",
            event_processors=[recorder],
        )
    assert recorder.shutdowns == 1


async def test_empty_map_does_not_shut_processors_down(runner):
    """An empty batch neither emits events nor calls ``shutdown`` (B53)."""
    recorder, async_ = Recorder(), AsyncRecorder()
    await runner.map(CHAIN, x=[], map_over="x", event_processors=[recorder, async_])
    assert recorder.events == []
    assert recorder.shutdowns == 0
    assert async_.shutdowns == 0


async def test_processor_instances_are_reusable_across_calls(runner):
    """One processor reused for two runs and a map sees full sequences, 3 shutdowns."""
    recorder = Recorder()
    first = await runner.run(CHAIN, x=1, event_processors=[recorder])
    after_first = len(recorder.events)
    second = await runner.run(CHAIN, x=2, event_processors=[recorder])
    batch = await runner.map(CHAIN, x=[1], map_over="x", event_processors=[recorder])
    assert recorder.shutdowns == 3
    assert first.run_id != second.run_id
    second_events = recorder.events[after_first : 2 * after_first]
    assert kinds(second_events) == kinds(recorder.events[:after_first])
    assert {e.run_id for e in second_events} == {second.run_id}
    assert recorder.events[-1].run_id == batch.run_id


def blocker_graph(started: anyio.Event) -> Graph:
    """One async node that signals ``started`` and then waits forever."""
    never = anyio.Event()

    @node(output_name="y")
    async def blocker(x: int) -> int:
        started.set()
        await never.wait()
        return x  # pragma: no cover - cancelled before

    return Graph([blocker])


async def cancel_once_started(call, started: anyio.Event) -> None:
    """Run ``call()`` in a task group and cancel it once ``started`` is set."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        with anyio.fail_after(5):
            await started.wait()
        tg.cancel_scope.cancel()


async def test_cancelled_run_still_shuts_processors_down():
    """Cancelling an awaiting AsyncRunner.run shuts processors down once (O44)."""
    started = anyio.Event()
    recorder = Recorder()

    async def call() -> None:
        await AsyncRunner().run(
            blocker_graph(started), x=1, event_processors=[recorder]
        )

    await cancel_once_started(call, started)
    assert recorder.shutdowns == 1
    assert isinstance(recorder.events[0], RunStartEvent)


async def test_cancelled_map_ends_failed_cancelled_and_shuts_down():
    """A cancelled map ends failed/"cancelled" at map level and shuts down (B34)."""
    started = anyio.Event()
    recorder = Recorder()

    async def call() -> None:
        await AsyncRunner().map(
            blocker_graph(started), x=[1, 2], map_over="x", event_processors=[recorder]
        )

    await cancel_once_started(call, started)
    last = recorder.events[-1]
    assert isinstance(last, RunEndEvent)
    assert last.parent_span_id is None
    assert last.status is RunStatus.FAILED
    assert last.error == "cancelled"
    item_ends = [
        e for e in recorder.events if isinstance(e, RunEndEvent) and e is not last
    ]
    assert item_ends
    assert {(e.status, e.error) for e in item_ends} == {(RunStatus.FAILED, "cancelled")}
    assert recorder.shutdowns == 1


# -- O45: EventDispatcher ---------------------------------------------------------


def test_dispatcher_is_active_only_with_processors():
    """``active`` is False without processors and True with at least one."""
    assert EventDispatcher().active is False
    assert EventDispatcher([]).active is False
    assert EventDispatcher(None).active is False
    assert EventDispatcher([Recorder()]).active is True


def test_dispatcher_emit_delivers_to_every_processor_in_order():
    """``emit`` calls each processor's ``on_event`` in list order."""
    log: list = []
    first, second = Recorder(log), Recorder(log)
    dispatcher = EventDispatcher([first, second])
    event = RunStartEvent("run-1")
    dispatcher.emit(event)
    assert first.events == second.events == [event]
    assert log == [("sync", "RunStartEvent"), ("sync", "RunStartEvent")]


def test_dispatcher_emit_logs_failures_and_continues_by_default():
    """Without strict, a raising processor is logged and the next one gets the event."""
    recorder = Recorder()
    dispatcher = EventDispatcher([Exploding(), recorder])
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        dispatcher.emit(NodeStartEvent("run-1"))
    assert len(recorder.events) == 1
    [entry] = failures(logs)
    assert entry["event_type"] == "NodeStartEvent"
    assert entry["processor"] == "<Exploding processor>"


def test_dispatcher_shutdown_calls_each_processor_once():
    """``shutdown`` shuts every processor down once, even after one raised."""
    recorder = Recorder()
    dispatcher = EventDispatcher([ExplodingShutdown(), recorder])
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        dispatcher.shutdown()
    assert recorder.shutdowns == 1
    assert len(failures(logs)) == 1


async def test_dispatcher_emit_async_awaits_async_and_calls_sync_processors():
    """``emit_async`` awaits async processors and calls ``on_event`` of the others."""
    async_, sync = AsyncRecorder(), Recorder()
    dispatcher = EventDispatcher([async_, sync])
    event = RunEndEvent("run-1", status="completed")
    await dispatcher.emit_async(event)
    assert async_.events == [event]
    assert async_.sync_calls == 0
    assert sync.events == [event]


async def test_dispatcher_shutdown_async_awaits_async_and_calls_sync():
    """``shutdown_async`` awaits async shutdowns and calls sync ones, once each."""
    async_, sync = AsyncRecorder(), Recorder()
    await EventDispatcher([async_, sync]).shutdown_async()
    assert async_.shutdowns == 1
    assert async_.sync_calls == 0
    assert sync.shutdowns == 1


async def test_dispatcher_emit_async_logs_failures_by_default():
    """Without strict, ``emit_async`` logs an async processor's error and continues."""
    recorder = Recorder()
    dispatcher = EventDispatcher([AsyncExploding(), recorder])
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        await dispatcher.emit_async(RunStartEvent("run-1"))
    assert len(recorder.events) == 1
    [entry] = failures(logs)
    assert entry["processor"] == "<AsyncExploding processor>"


def test_strict_dispatcher_emit_propagates_processor_errors():
    """With ``strict=True`` a processor's exception escapes ``emit``."""
    dispatcher = EventDispatcher([Exploding()], strict=True)
    with pytest.raises(RuntimeError, match="processor boom on RunStartEvent"):
        dispatcher.emit(RunStartEvent("run-1"))


async def test_strict_dispatcher_emit_async_propagates_processor_errors():
    """With ``strict=True`` an async processor's exception escapes ``emit_async``."""
    dispatcher = EventDispatcher([AsyncExploding()], strict=True)
    with pytest.raises(RuntimeError, match="async processor boom"):
        await dispatcher.emit_async(RunStartEvent("run-1"))


def test_strict_dispatcher_shutdown_propagates_processor_errors():
    """With ``strict=True`` a failing ``shutdown`` escapes ``shutdown``."""
    dispatcher = EventDispatcher([ExplodingShutdown()], strict=True)
    with pytest.raises(RuntimeError, match="shutdown boom"):
        dispatcher.shutdown()


async def test_strict_dispatcher_shutdown_async_propagates_processor_errors():
    """With ``strict=True`` a failing ``shutdown_async`` escapes ``shutdown_async``."""
    dispatcher = EventDispatcher([AsyncExplodingShutdown()], strict=True)
    with pytest.raises(RuntimeError, match="async shutdown boom"):
        await dispatcher.shutdown_async()


def test_dispatcher_never_swallows_base_exceptions():
    """A ``KeyboardInterrupt`` from a processor propagates even without strict."""

    class Interrupting(EventProcessor):
        def on_event(self, event: Event) -> None:
            raise KeyboardInterrupt

    recorder = Recorder()
    dispatcher = EventDispatcher([Interrupting(), recorder])
    with pytest.raises(KeyboardInterrupt):
        dispatcher.emit(RunStartEvent("run-1"))
    assert recorder.events == []


async def test_dispatcher_never_swallows_cancellation():
    """A cancellation raised in an async processor propagates from ``emit_async``."""

    class Cancelling(AsyncEventProcessor):
        async def on_event_async(self, event: Event) -> None:
            raise anyio.get_cancelled_exc_class()

    dispatcher = EventDispatcher([Cancelling()])
    with pytest.raises(anyio.get_cancelled_exc_class()):
        await dispatcher.emit_async(RunStartEvent("run-1"))
