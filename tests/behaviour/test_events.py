"""Event classes, span links and sequences (05 O30-O38; 02 R12; 03 B32, B53)."""

from __future__ import annotations

import dataclasses
import json
import re
import time
import typing

import anyio
import pytest

import hypergraph
import hypergraph.events
from hypergraph import (
    END,
    BaseEvent,
    CacheHitEvent,
    Event,
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
    ifelse,
    interrupt,
    node,
    route,
)

SPAN_ID = re.compile(r"[0-9a-f]{16}")


class Boom(Exception):
    """A node's own exception type."""


class Outer:
    """Holds a nested exception class, to check the qualified name."""

    class InnerBoom(Exception):
        """An exception class whose qualname has a dot."""


class Recorder(EventProcessor):
    """Collects every event it receives and counts shutdowns."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.shutdowns = 0

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def shutdown(self) -> None:
        self.shutdowns += 1

    def of(self, cls: type) -> list:
        """The received events of exactly one class, in order."""
        return [e for e in self.events if type(e) is cls]

    def for_run(self, run_id: str) -> list[Event]:
        """The received events emitted by one run, in order."""
        return [e for e in self.events if e.run_id == run_id]


def kinds(events: list[Event]) -> list[str]:
    """Class names of events, in order."""
    return [type(e).__name__ for e in events]


def index_of(events: list[Event], cls: type, node_name: str) -> int:
    """Position of the first event of class ``cls`` for the node ``node_name``."""
    return next(
        i
        for i, e in enumerate(events)
        if isinstance(e, cls) and e.node_name == node_name
    )


def top_level_run_start(recorder: Recorder) -> RunStartEvent:
    """The single run start without a parent span."""
    [start] = [e for e in recorder.of(RunStartEvent) if e.parent_span_id is None]
    return start


async def map_iter_collect(runner, graph, *, take: int | None = None, **kwargs):
    """Iterate ``runner.map_iter(...)`` in its context manager, up to ``take``."""
    results: list = []
    if runner.is_sync:

        def consume() -> list:
            with runner.runner.map_iter(graph, **kwargs) as stream:
                for pair in stream:
                    results.append(pair)
                    if take is not None and len(results) >= take:
                        break
            return results

        return await anyio.to_thread.run_sync(consume)
    async with runner.runner.map_iter(graph, **kwargs) as stream:
        async for pair in stream:
            results.append(pair)
            if take is not None and len(results) >= take:
                break
    return results


# -- shared nodes and graphs ---------------------------------------------------


@node(output_name="y")
def add_one(x: int) -> int:
    return x + 1


@node(output_name="z")
def double(y: int) -> int:
    return 2 * y


@node(output_name="w")
def negate(z: int) -> int:
    return -z


@node(output_name="y")
def fails_on_two(x: int) -> int:
    if x == 2:
        raise Boom(f"item {x} failed")
    return x + 1


@node(output_name="y")
def raise_value_error(x: int) -> int:
    raise ValueError(f"bad value {x}")


@node(output_name="fast_out")
def fast(x: int) -> str:
    return f"fast:{x}"


@node(output_name="slow_out")
def slow(x: int) -> str:
    return f"slow:{x}"


@node(output_name="backup_out")
def backup(x: int) -> str:
    return f"backup:{x}"


@route(targets=["fast", "slow", END])
def pick(x: int) -> object:
    if x > 10:
        return "fast"
    if x > 0:
        return "slow"
    return END


@route(targets=["fast", "slow", "backup"], multi_target=True)
def fan_out(x: int) -> object:
    return ["fast", "backup"]


@ifelse(when_true="fast", when_false=END)
def is_big(x: int) -> bool:
    return x > 10


@node(output_name="count")
def incr(count: int) -> int:
    return count + 1


@route(targets=["incr", END])
def loop(count: int) -> object:
    return "incr" if count < 3 else END


@interrupt(output_name="decision")
def approval(y: int) -> str | None:
    return None


@node(output_name="final")
def finalize(decision: str) -> str:
    return f"final:{decision}"


@interrupt(output_name=("label", "note"))
def annotate(y: int, x: int) -> object:
    return None


CHAIN = Graph([add_one, double], name="chain")
CHAIN3 = Graph([add_one, double, negate], name="chain3")
ROUTED = Graph([pick, fast, slow], name="routed")
COUNTER = Graph([incr, loop], entrypoint="incr", name="counter")
APPROVAL = Graph([add_one, approval, finalize], name="approval_flow")
INNER = Graph([add_one, double], name="inner")
NESTED = Graph([INNER.as_node(name="gn"), negate], name="outer")
MAPPED_NESTED = Graph([INNER.as_node(name="gn").map_over("x")], name="outer")


# -- O30/O31: classes and fields -----------------------------------------------

EVENT_CLASSES = [
    RunStartEvent,
    RunEndEvent,
    SuperstepStartEvent,
    NodeStartEvent,
    NodeEndEvent,
    NodeErrorEvent,
    RouteDecisionEvent,
    CacheHitEvent,
    InterruptEvent,
    StopRequestedEvent,
]

BASE_FIELDS = {"run_id", "span_id", "parent_span_id", "timestamp"}

EXTRA_FIELDS = {
    RunStartEvent: {"graph_name", "workflow_id", "is_map", "map_size"},
    RunEndEvent: {"graph_name", "status", "error", "duration_ms"},
    SuperstepStartEvent: {"graph_name", "superstep"},
    NodeStartEvent: {"node_name", "graph_name"},
    NodeEndEvent: {"node_name", "graph_name", "duration_ms", "cached", "inner_logs"},
    NodeErrorEvent: {"node_name", "graph_name", "error", "error_type"},
    RouteDecisionEvent: {"node_name", "graph_name", "decision"},
    CacheHitEvent: {"node_name", "graph_name", "cache_key"},
    InterruptEvent: {
        "node_name",
        "graph_name",
        "workflow_id",
        "value",
        "response_param",
    },
    StopRequestedEvent: {"workflow_id"},
}

ALL_CLASSES = [BaseEvent, *EVENT_CLASSES]


def test_event_classes_are_the_same_objects_in_both_public_modules():
    """Every event class is importable from ``hypergraph`` and ``hypergraph.events``."""
    for cls in ALL_CLASSES:
        assert getattr(hypergraph, cls.__name__) is cls, cls
        assert getattr(hypergraph.events, cls.__name__) is cls, cls


def test_run_status_in_events_module_is_the_one_run_status():
    """``hypergraph.events.RunStatus`` is the single ``RunStatus`` enum (O31)."""
    assert hypergraph.events.RunStatus is hypergraph.RunStatus


def test_event_union_is_the_ten_event_classes():
    """``Event`` is the union of exactly the ten event classes."""
    assert set(typing.get_args(Event)) == set(EVENT_CLASSES)


def test_event_classes_have_the_spec_fields():
    """Each class carries the base fields plus exactly its O31 fields."""
    assert {f.name for f in dataclasses.fields(BaseEvent)} == BASE_FIELDS
    for cls in EVENT_CLASSES:
        assert issubclass(cls, BaseEvent), cls
        names = {f.name for f in dataclasses.fields(cls)}
        assert names == BASE_FIELDS | EXTRA_FIELDS[cls], cls


def test_events_are_constructible_from_run_id_alone():
    """Every field except ``run_id`` has a default; ``run_id`` is required."""
    for cls in ALL_CLASSES:
        event = cls("run-1")
        assert event.run_id == "run-1"
        assert event.parent_span_id is None
        with pytest.raises(TypeError):
            cls()


def test_events_are_frozen_dataclasses():
    """Assigning to any event's field raises ``FrozenInstanceError``."""
    for cls in ALL_CLASSES:
        event = cls("run-1")
        assert dataclasses.is_dataclass(event), cls
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.run_id = "other"  # type: ignore[misc]


def test_run_end_status_string_is_coerced_to_run_status():
    """A string status becomes ``RunStatus`` and still compares equal to the string."""
    event = RunEndEvent("run-1", status="failed")
    assert event.status is RunStatus.FAILED
    assert event.status == "failed"
    assert json.dumps(event.status) == '"failed"'


def test_run_end_status_enum_compares_and_serialises_as_string():
    """``event.status == "completed"`` and ``json.dumps`` work on the enum value."""
    event = RunEndEvent("run-1", status=RunStatus.COMPLETED)
    assert event.status == "completed"
    assert json.dumps({"status": event.status}) == '{"status": "completed"}'


def test_run_end_event_as_dict_is_json_serialisable():
    """A run-end event turned into a dict dumps to JSON (docs' logging example)."""
    event = RunEndEvent("run-1", span_id="0" * 16, status="paused", duration_ms=1.5)
    data = json.loads(json.dumps(dataclasses.asdict(event)))
    assert data["status"] == "paused"
    assert data["run_id"] == "run-1"


def test_run_end_unknown_status_string_is_rejected():
    """A string that is not a ``RunStatus`` value raises ``ValueError``."""
    with pytest.raises(ValueError, match="exploded"):
        RunEndEvent("run-1", status="exploded")


async def test_emitted_events_have_hex_span_ids_and_current_timestamps(runner):
    """Span ids are 16 lowercase hex chars; timestamps are Unix seconds of the call."""
    recorder = Recorder()
    before = time.time()
    await runner.run(NESTED, x=1, event_processors=[recorder])
    after = time.time()
    assert len(recorder.events) > 10
    for event in recorder.events:
        assert SPAN_ID.fullmatch(event.span_id), event
        assert event.parent_span_id is None or SPAN_ID.fullmatch(event.parent_span_id)
        assert isinstance(event.timestamp, float)
        assert before - 1 <= event.timestamp <= after + 1
        assert isinstance(event.run_id, str)
        assert event.run_id


async def test_emitted_events_carry_the_graph_name(runner):
    """Every event with a ``graph_name`` names the graph whose run emitted it."""
    recorder = Recorder()
    result = await runner.run(CHAIN, x=1, event_processors=[recorder])
    assert {e.graph_name for e in recorder.events} == {"chain"}
    assert {e.run_id for e in recorder.events} == {result.run_id}


async def test_unnamed_graph_events_have_empty_graph_name(runner):
    """An unnamed graph's events carry ``graph_name == ""``."""
    recorder = Recorder()
    await runner.run(Graph([add_one]), x=1, event_processors=[recorder])
    assert {e.graph_name for e in recorder.events} == {""}


async def test_run_start_fields_of_top_level_run(runner):
    """A top-level run start is not a map, has no size and carries the workflow id."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, workflow_id="wf-1", event_processors=[recorder])
    [start] = recorder.of(RunStartEvent)
    assert start.is_map is False
    assert start.map_size is None
    assert start.workflow_id == "wf-1"
    assert start.parent_span_id is None


async def test_run_start_without_workflow_id_has_none(runner):
    """Without a workflow id the run start's ``workflow_id`` is ``None``."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    assert recorder.of(RunStartEvent)[0].workflow_id is None


async def test_run_end_of_completed_run(runner):
    """A completed run ends with status COMPLETED, no error and a duration."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    [end] = recorder.of(RunEndEvent)
    assert isinstance(end.status, RunStatus)
    assert end.status is RunStatus.COMPLETED
    assert end.error is None
    assert isinstance(end.duration_ms, float)
    assert end.duration_ms >= 0.0


async def test_superstep_numbers_are_zero_based_and_consecutive(runner):
    """A three-node chain emits supersteps 0, 1 and 2."""
    recorder = Recorder()
    await runner.run(CHAIN3, x=1, event_processors=[recorder])
    assert [e.superstep for e in recorder.of(SuperstepStartEvent)] == [0, 1, 2]


async def test_node_end_fields_of_plain_node(runner):
    """A plain node's end has a duration, ``cached=False`` and no inner logs."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    ends = recorder.of(NodeEndEvent)
    assert [e.node_name for e in ends] == ["add_one", "double"]
    for end in ends:
        assert end.cached is False
        assert end.inner_logs == ()
        assert isinstance(end.duration_ms, float)
        assert end.duration_ms >= 0.0


async def test_node_error_carries_message_and_builtin_type_name(runner):
    """A failing node's error event holds ``str(exc)`` and ``"builtins.ValueError"``."""
    recorder = Recorder()
    await runner.run(
        Graph([raise_value_error]),
        x=7,
        error_handling="continue",
        event_processors=[recorder],
    )
    [error] = recorder.of(NodeErrorEvent)
    assert error.node_name == "raise_value_error"
    assert error.error == "bad value 7"
    assert error.error_type == "builtins.ValueError"


async def test_node_error_type_uses_module_and_qualname(runner):
    """A nested exception class is named ``"<module>.Outer.InnerBoom"``."""

    @node(output_name="y")
    def explode(x: int) -> int:
        raise Outer.InnerBoom("deep")

    recorder = Recorder()
    await runner.run(
        Graph([explode]), x=1, error_handling="continue", event_processors=[recorder]
    )
    [error] = recorder.of(NodeErrorEvent)
    assert error.error_type == f"{Outer.__module__}.Outer.InnerBoom"
    assert error.error == "deep"


async def test_interrupt_event_fields(runner):
    """The interrupt event names the node, graph, workflow id, value and output."""
    recorder = Recorder()
    result = await runner.run(
        APPROVAL, x=1, workflow_id="wf-pause", event_processors=[recorder]
    )
    [event] = recorder.of(InterruptEvent)
    assert event.node_name == "approval"
    assert event.graph_name == "approval_flow"
    assert event.workflow_id == "wf-pause"
    assert event.value == 2
    assert event.response_param == "decision"
    assert event.response_param == result.pause.output_param


async def test_interrupt_event_value_and_param_are_the_first_of_several(runner):
    """A multi-output interrupt reports its first input value and first output name."""
    recorder = Recorder()
    result = await runner.run(
        Graph([add_one, annotate]), x=1, event_processors=[recorder]
    )
    [event] = recorder.of(InterruptEvent)
    assert event.response_param == "label"
    assert event.value == result.pause.value
    assert event.response_param == result.pause.output_param


async def test_nested_interrupt_event_uses_slash_path(runner):
    """A nested interrupt's event names the ``/``-joined path, like ``PauseInfo``."""
    inner = Graph([approval], name="inner")
    outer = Graph([add_one, inner.as_node(name="review")])
    recorder = Recorder()
    result = await runner.run(outer, x=1, event_processors=[recorder])
    [event] = recorder.of(InterruptEvent)
    assert event.node_name == "review/approval"
    assert event.node_name == result.pause.node_name


async def test_nested_interrupt_response_param_follows_graph_node_rename(runner):
    """``response_param`` equals ``PauseInfo.output_param`` after a GraphNode rename."""
    inner = Graph([approval], name="inner")
    outer = Graph(
        [add_one, inner.as_node(name="review").with_outputs(decision="verdict")]
    )
    recorder = Recorder()
    result = await runner.run(outer, x=1, event_processors=[recorder])
    assert result.pause.output_param == "verdict"
    [event] = recorder.of(InterruptEvent)
    assert event.response_param == result.pause.output_param


# -- O32: span links -----------------------------------------------------------


async def test_run_start_and_end_share_the_run_span(runner):
    """A run's start and end share one span id; a top-level run has no parent."""
    recorder = Recorder()
    result = await runner.run(CHAIN, x=1, event_processors=[recorder])
    [start] = recorder.of(RunStartEvent)
    [end] = recorder.of(RunEndEvent)
    assert start.span_id == end.span_id
    assert start.parent_span_id is None
    assert end.parent_span_id is None
    assert start.run_id == end.run_id == result.run_id


async def test_node_start_and_end_share_the_node_span_under_the_run(runner):
    """A node's start and end share a span of their own, parented to the run span."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    run_span = recorder.of(RunStartEvent)[0].span_id
    starts = {e.node_name: e for e in recorder.of(NodeStartEvent)}
    ends = {e.node_name: e for e in recorder.of(NodeEndEvent)}
    assert set(starts) == set(ends) == {"add_one", "double"}
    for name, start in starts.items():
        assert ends[name].span_id == start.span_id
        assert start.span_id != run_span
        assert start.parent_span_id == run_span
        assert ends[name].parent_span_id == run_span
    assert starts["add_one"].span_id != starts["double"].span_id


async def test_node_error_shares_the_node_span(runner):
    """A failing node's error event uses the span of its start event."""
    recorder = Recorder()
    await runner.run(
        Graph([raise_value_error]),
        x=1,
        error_handling="continue",
        event_processors=[recorder],
    )
    run_span = recorder.of(RunStartEvent)[0].span_id
    [start] = recorder.of(NodeStartEvent)
    [error] = recorder.of(NodeErrorEvent)
    assert error.span_id == start.span_id
    assert error.parent_span_id == run_span


async def test_superstep_and_route_events_get_fresh_spans_under_the_run(runner):
    """Superstep and route events get new span ids parented to the run span."""
    recorder = Recorder()
    await runner.run(ROUTED, x=3, event_processors=[recorder])
    run_span = recorder.of(RunStartEvent)[0].span_id
    node_spans = {e.span_id for e in recorder.of(NodeStartEvent)}
    fresh = recorder.of(SuperstepStartEvent) + recorder.of(RouteDecisionEvent)
    assert len(recorder.of(RouteDecisionEvent)) == 1
    for event in fresh:
        assert event.parent_span_id == run_span
        assert event.span_id != run_span
        assert event.span_id not in node_spans
    assert len({e.span_id for e in fresh}) == len(fresh)


async def test_interrupt_event_uses_the_interrupt_node_span(runner):
    """The interrupt event shares the interrupt node's span, parented to the run."""
    recorder = Recorder()
    await runner.run(APPROVAL, x=1, event_processors=[recorder])
    run_span = recorder.of(RunStartEvent)[0].span_id
    [event] = recorder.of(InterruptEvent)
    [node_start] = [e for e in recorder.of(NodeStartEvent) if e.node_name == "approval"]
    assert event.span_id == node_start.span_id
    assert event.parent_span_id == run_span


async def test_nested_run_start_is_parented_to_the_graph_node_span(runner):
    """The inner run's start and end hang under the GraphNode's node span."""
    recorder = Recorder()
    await runner.run(NESTED, x=1, event_processors=[recorder])
    [gn_start] = [e for e in recorder.of(NodeStartEvent) if e.node_name == "gn"]
    (inner_start,) = [e for e in recorder.of(RunStartEvent) if e.graph_name == "inner"]
    (inner_end,) = [e for e in recorder.of(RunEndEvent) if e.graph_name == "inner"]
    assert inner_start.parent_span_id == gn_start.span_id
    assert inner_end.span_id == inner_start.span_id
    inner_nodes = [e for e in recorder.of(NodeStartEvent) if e.graph_name == "inner"]
    assert {e.parent_span_id for e in inner_nodes} == {inner_start.span_id}


async def test_nested_run_has_its_own_constant_run_id(runner):
    """Outer and nested runs have different run ids, each constant within its run."""
    recorder = Recorder()
    result = await runner.run(NESTED, x=1, event_processors=[recorder])
    outer_ids = {e.run_id for e in recorder.events if e.graph_name == "outer"}
    inner_ids = {e.run_id for e in recorder.events if e.graph_name == "inner"}
    assert outer_ids == {result.run_id}
    assert len(inner_ids) == 1
    assert inner_ids != outer_ids
    [gn_record] = [r for r in result.log.steps if r.node_name == "gn"]
    assert inner_ids == {gn_record.log.run_id}


async def test_map_item_run_starts_are_parented_to_the_map_span(runner):
    """Each item's run start has the map-level span as parent."""
    recorder = Recorder()
    await runner.map(CHAIN, x=[1, 2, 3], map_over="x", event_processors=[recorder])
    map_start = top_level_run_start(recorder)
    items = [e for e in recorder.of(RunStartEvent) if not e.is_map]
    assert len(items) == 3
    assert {e.parent_span_id for e in items} == {map_start.span_id}


async def test_map_level_and_item_run_ids_all_differ(runner):
    """The map-level run and each item have distinct run ids."""
    recorder = Recorder()
    await runner.map(CHAIN, x=[1, 2, 3], map_over="x", event_processors=[recorder])
    run_ids = [e.run_id for e in recorder.of(RunStartEvent)]
    assert len(run_ids) == 4
    assert len(set(run_ids)) == 4


@pytest.mark.parametrize(
    ("graph", "call", "kwargs"),
    [
        (NESTED, "run", {"x": 1}),
        (COUNTER, "run", {"count": 0}),
        (MAPPED_NESTED, "run", {"x": [1, 2]}),
        (NESTED, "map", {"x": [1, 2, 3], "map_over": "x"}),
    ],
    ids=["nested", "cycle", "mapped-graph-node", "map-of-nested"],
)
async def test_all_span_ids_in_a_call_are_unique(runner, graph, call, kwargs):
    """Every run, node execution, superstep and route decision gets its own span id."""
    recorder = Recorder()
    await getattr(runner, call)(graph, event_processors=[recorder], **kwargs)
    span_opening = (
        RunStartEvent,
        NodeStartEvent,
        SuperstepStartEvent,
        RouteDecisionEvent,
    )
    spans = [e.span_id for e in recorder.events if type(e) in span_opening]
    assert len(spans) > 5
    assert len(spans) == len(set(spans))


async def test_repeated_node_executions_get_distinct_spans(runner):
    """Each execution of a node in a cycle has its own start/end span."""
    recorder = Recorder()
    await runner.run(COUNTER, count=0, event_processors=[recorder])
    starts = [e for e in recorder.of(NodeStartEvent) if e.node_name == "incr"]
    ends = [e for e in recorder.of(NodeEndEvent) if e.node_name == "incr"]
    assert len(starts) == 3
    assert len({e.span_id for e in starts}) == 3
    assert {e.span_id for e in starts} == {e.span_id for e in ends}


async def test_log_record_span_id_is_the_node_event_span(runner):
    """``NodeRecord.span_id`` is the span of that node execution's events (O1)."""
    recorder = Recorder()
    result = await runner.run(CHAIN, x=1, event_processors=[recorder])
    spans = {e.node_name: e.span_id for e in recorder.of(NodeEndEvent)}
    assert {r.node_name: r.span_id for r in result.log.steps} == spans


# -- O33: sequences ------------------------------------------------------------


async def test_simple_run_emits_the_spec_sequence(runner):
    """A two-node chain emits start, per-superstep node start/end, then end (R12)."""
    recorder = Recorder()
    await runner.run(CHAIN, x=1, event_processors=[recorder])
    assert kinds(recorder.events) == [
        "RunStartEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeEndEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeEndEvent",
        "RunEndEvent",
    ]
    assert [e.node_name for e in recorder.of(NodeStartEvent)] == ["add_one", "double"]


async def test_parallel_nodes_start_after_their_superstep(runner):
    """Two independent nodes both start and end inside the one superstep."""
    recorder = Recorder()
    await runner.run(Graph([fast, slow]), x=1, event_processors=[recorder])
    names = kinds(recorder.events)
    assert names[:2] == ["RunStartEvent", "SuperstepStartEvent"]
    assert names[-1] == "RunEndEvent"
    assert sorted(names[2:-1]) == ["NodeEndEvent"] * 2 + ["NodeStartEvent"] * 2
    assert {e.node_name for e in recorder.of(NodeEndEvent)} == {"fast", "slow"}


async def test_failing_node_under_raise_emits_error_then_failed_end(runner):
    """Under raise a failing node emits NodeError (no NodeEnd), then a failed RunEnd."""
    recorder = Recorder()
    with pytest.raises(ValueError, match="bad value 1"):
        await runner.run(Graph([raise_value_error]), x=1, event_processors=[recorder])
    assert kinds(recorder.events) == [
        "RunStartEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeErrorEvent",
        "RunEndEvent",
    ]
    [end] = recorder.of(RunEndEvent)
    assert end.status is RunStatus.FAILED
    assert end.error == "bad value 1"


async def test_failing_node_under_continue_emits_error_then_failed_end(runner):
    """Under ``continue`` the sequence is the same and the result is FAILED."""
    recorder = Recorder()
    result = await runner.run(
        Graph([raise_value_error]),
        x=1,
        error_handling="continue",
        event_processors=[recorder],
    )
    assert result.status is RunStatus.FAILED
    assert kinds(recorder.events) == [
        "RunStartEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeErrorEvent",
        "RunEndEvent",
    ]
    [end] = recorder.of(RunEndEvent)
    assert end.status == "failed"
    assert end.error == str(result.error)


async def test_failure_after_a_success_keeps_the_earlier_node_end(runner):
    """An earlier node keeps its NodeEnd; the failing node has none."""

    @node(output_name="z")
    def explode(y: int) -> int:
        raise Boom("late failure")

    recorder = Recorder()
    await runner.run(
        Graph([add_one, explode, negate]),
        x=1,
        error_handling="continue",
        event_processors=[recorder],
    )
    assert [e.node_name for e in recorder.of(NodeEndEvent)] == ["add_one"]
    assert [e.node_name for e in recorder.of(NodeErrorEvent)] == ["explode"]
    assert "negate" not in {e.node_name for e in recorder.of(NodeStartEvent)}
    assert recorder.events[-1].error == "late failure"


@pytest.mark.parametrize(
    ("x", "decision"), [(20, "fast"), (3, "slow")], ids=["fast", "slow"]
)
async def test_route_decision_comes_just_before_the_gate_node_end(runner, x, decision):
    """A gate emits NodeStart, RouteDecision with its target, then NodeEnd."""
    recorder = Recorder()
    await runner.run(ROUTED, x=x, event_processors=[recorder])
    events = recorder.events
    gate_end = index_of(events, NodeEndEvent, "pick")
    gate_start = index_of(events, NodeStartEvent, "pick")
    decision_event = events[gate_end - 1]
    assert isinstance(decision_event, RouteDecisionEvent)
    assert gate_start < gate_end - 1
    assert decision_event.node_name == "pick"
    assert decision_event.graph_name == "routed"
    assert decision_event.decision == decision


async def test_route_end_decision_is_the_string_end(runner):
    """An END decision arrives as the plain string ``"END"`` (D-4)."""
    recorder = Recorder()
    await runner.run(ROUTED, x=0, event_processors=[recorder])
    [decision] = recorder.of(RouteDecisionEvent)
    assert type(decision.decision) is str
    assert decision.decision == "END"
    assert json.dumps(decision.decision) == '"END"'


@pytest.mark.parametrize(
    ("x", "decision"), [(20, "fast"), (1, "END")], ids=["true", "false-end"]
)
async def test_ifelse_decision_is_the_chosen_target_name(runner, x, decision):
    """An ifelse gate reports the chosen branch, END as ``"END"``."""
    recorder = Recorder()
    await runner.run(Graph([is_big, fast]), x=x, event_processors=[recorder])
    [event] = recorder.of(RouteDecisionEvent)
    assert type(event.decision) is str
    assert event.decision == decision


async def test_multi_target_decision_is_a_list_of_names(runner):
    """A multi-target gate's decision is the list of chosen targets."""
    recorder = Recorder()
    await runner.run(
        Graph([fan_out, fast, slow, backup]), x=1, event_processors=[recorder]
    )
    [event] = recorder.of(RouteDecisionEvent)
    assert event.decision == ["fast", "backup"]


async def test_route_decisions_repeat_per_gate_execution_in_a_cycle(runner):
    """A gate in a loop emits one decision per execution, the last being END."""
    recorder = Recorder()
    await runner.run(COUNTER, count=0, event_processors=[recorder])
    decisions = [e.decision for e in recorder.of(RouteDecisionEvent)]
    assert decisions == ["incr", "incr", "END"]


async def test_nested_graph_sequence_wraps_the_inner_run_in_the_node(runner):
    """NodeStart(gn) → inner RunStart … RunEnd → NodeEnd(gn) with the inner log."""
    recorder = Recorder()
    result = await runner.run(NESTED, x=1, event_processors=[recorder])
    events = recorder.events
    labels = [
        (type(e).__name__, getattr(e, "node_name", None) or e.graph_name)
        for e in events
    ]
    gn_start = labels.index(("NodeStartEvent", "gn"))
    gn_end = labels.index(("NodeEndEvent", "gn"))
    assert labels[gn_start + 1] == ("RunStartEvent", "inner")
    assert labels[gn_end - 1] == ("RunEndEvent", "inner")
    inner = events[gn_start + 1 : gn_end]
    assert kinds(inner) == [
        "RunStartEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeEndEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeEndEvent",
        "RunEndEvent",
    ]
    assert inner[-1].status is RunStatus.COMPLETED
    [gn_record] = [r for r in result.log.steps if r.node_name == "gn"]
    gn_end_event = events[gn_end]
    assert len(gn_end_event.inner_logs) == 1
    assert gn_end_event.inner_logs[0].run_id == inner[0].run_id
    assert gn_end_event.inner_logs == (gn_record.log,)


async def test_failing_nested_graph_ends_inner_run_failed_then_node_error(runner):
    """A failing inner run ends failed; its GraphNode emits NodeError, not NodeEnd."""
    inner = Graph([raise_value_error], name="inner")
    recorder = Recorder()
    await runner.run(
        Graph([inner.as_node(name="gn")], name="outer"),
        x=1,
        error_handling="continue",
        event_processors=[recorder],
    )
    labels = [
        (type(e).__name__, getattr(e, "node_name", None) or e.graph_name)
        for e in recorder.events
    ]
    assert labels[-3:] == [
        ("RunEndEvent", "inner"),
        ("NodeErrorEvent", "gn"),
        ("RunEndEvent", "outer"),
    ]
    assert ("NodeEndEvent", "gn") not in labels
    inner_end, outer_end = recorder.events[-3], recorder.events[-1]
    assert inner_end.status is RunStatus.FAILED
    assert inner_end.error == "bad value 1"
    assert outer_end.status is RunStatus.FAILED


async def test_interrupt_pause_emits_interrupt_then_paused_end(runner):
    """A pause emits InterruptEvent then RunEnd(paused), and no NodeEnd for it."""
    recorder = Recorder()
    result = await runner.run(APPROVAL, x=1, event_processors=[recorder])
    assert result.status is RunStatus.PAUSED
    assert kinds(recorder.events)[-2:] == ["InterruptEvent", "RunEndEvent"]
    [end] = recorder.of(RunEndEvent)
    assert end.status is RunStatus.PAUSED
    assert end.status == "paused"
    assert end.error is None
    assert "approval" not in {e.node_name for e in recorder.of(NodeEndEvent)}
    assert "finalize" not in {e.node_name for e in recorder.of(NodeStartEvent)}


async def test_run_events_never_carry_partial_status(runner):
    """Run-end events only carry COMPLETED, FAILED or PAUSED (O31)."""
    recorder = Recorder()
    await runner.map(
        Graph([fails_on_two, approval]),
        x=[1, 2, 3],
        map_over="x",
        error_handling="continue",
        event_processors=[recorder],
    )
    statuses = {e.status for e in recorder.of(RunEndEvent)}
    assert statuses <= {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.PAUSED}
    assert RunStatus.FAILED in statuses
    assert RunStatus.PAUSED in statuses


# -- O34-O36: map ------------------------------------------------------------


async def test_map_level_run_start_describes_the_batch(runner):
    """map() opens with one map-level RunStart(is_map, map_size, workflow_id)."""
    recorder = Recorder()
    result = await runner.map(
        CHAIN, x=[1, 2, 3], map_over="x", workflow_id="B", event_processors=[recorder]
    )
    first = recorder.events[0]
    assert isinstance(first, RunStartEvent)
    assert first.is_map is True
    assert first.map_size == 3
    assert first.workflow_id == "B"
    assert first.parent_span_id is None
    assert first.graph_name == "chain"
    assert first.run_id == result.run_id
    assert [e for e in recorder.of(RunStartEvent) if e.is_map] == [first]


async def test_map_items_emit_runs_with_hierarchical_workflow_ids(runner):
    """Item i's RunStart has workflow_id "B/i" and its run_id is the item result's."""
    recorder = Recorder()
    result = await runner.map(
        CHAIN, x=[1, 2, 3], map_over="x", workflow_id="B", event_processors=[recorder]
    )
    items = {e.workflow_id: e for e in recorder.of(RunStartEvent) if not e.is_map}
    assert set(items) == {"B/0", "B/1", "B/2"}
    for i, item_result in enumerate(result):
        start = items[f"B/{i}"]
        assert start.run_id == item_result.run_id
        assert start.is_map is False
        assert start.map_size is None
        assert start.workflow_id == item_result.workflow_id


async def test_map_without_workflow_id_labels_items_like_their_results(runner):
    """Without a workflow id the map-level and item starts carry the results' ids."""
    recorder = Recorder()
    result = await runner.map(
        CHAIN, x=[1, 2], map_over="x", event_processors=[recorder]
    )
    assert top_level_run_start(recorder).workflow_id is None
    by_run = {e.run_id: e for e in recorder.of(RunStartEvent) if not e.is_map}
    assert {r.run_id for r in result} == set(by_run)
    for item_result in result:
        assert by_run[item_result.run_id].workflow_id == item_result.workflow_id


async def test_map_item_events_are_complete_runs(runner):
    """Each item emits its own RunStart … RunEnd sequence with its own run id."""
    recorder = Recorder()
    result = await runner.map(
        CHAIN, x=[1, 2], map_over="x", event_processors=[recorder]
    )
    for item_result in result:
        own = recorder.for_run(item_result.run_id)
        assert kinds(own) == [
            "RunStartEvent",
            "SuperstepStartEvent",
            "NodeStartEvent",
            "NodeEndEvent",
            "SuperstepStartEvent",
            "NodeStartEvent",
            "NodeEndEvent",
            "RunEndEvent",
        ]
        assert own[-1].status is RunStatus.COMPLETED


async def test_map_level_run_end_is_last_and_completed(runner):
    """The map-level RunEnd comes last, shares the map span and says completed."""
    recorder = Recorder()
    result = await runner.map(
        CHAIN, x=[1, 2, 3], map_over="x", event_processors=[recorder]
    )
    last = recorder.events[-1]
    assert isinstance(last, RunEndEvent)
    assert last.run_id == result.run_id
    assert last.span_id == recorder.events[0].span_id
    assert last.status is RunStatus.COMPLETED
    assert last.error is None
    assert last.duration_ms >= 0.0
    item_ends = [e for e in recorder.of(RunEndEvent) if e.run_id != result.run_id]
    assert len(item_ends) == 3


async def test_map_level_run_end_counts_failed_items_under_continue(runner):
    """Under continue the map-level end says failed, "<f> of <N> items failed"."""
    recorder = Recorder()
    result = await runner.map(
        Graph([fails_on_two]),
        x=[1, 2, 3],
        map_over="x",
        error_handling="continue",
        event_processors=[recorder],
    )
    last = recorder.events[-1]
    assert last.run_id == result.run_id
    assert last.status is RunStatus.FAILED
    assert last.error == "1 of 3 items failed"
    failed_item = recorder.for_run(result[1].run_id)
    assert failed_item[-1].status is RunStatus.FAILED
    assert failed_item[-1].error == "item 2 failed"


async def test_map_level_failure_beats_pause(runner):
    """A batch with a failed and a paused item ends failed, not paused."""
    recorder = Recorder()
    await runner.map(
        Graph([fails_on_two, approval]),
        x=[1, 2, 3, 2],
        map_over="x",
        error_handling="continue",
        event_processors=[recorder],
    )
    last = recorder.events[-1]
    assert last.status is RunStatus.FAILED
    assert last.error == "2 of 4 items failed"


async def test_map_level_run_end_is_paused_when_items_pause(runner):
    """A batch whose items pause (and none fail) ends with a paused map-level RunEnd."""
    recorder = Recorder()
    result = await runner.map(
        APPROVAL, x=[1, 2], map_over="x", event_processors=[recorder]
    )
    assert all(r.status is RunStatus.PAUSED for r in result)
    last = recorder.events[-1]
    assert last.run_id == result.run_id
    assert last.status is RunStatus.PAUSED
    assert len(recorder.of(InterruptEvent)) == 2


async def test_map_raising_ends_the_batch_failed_with_the_error(runner):
    """When map() raises, the map-level RunEnd is failed with ``str(exc)``."""
    recorder = Recorder()
    with pytest.raises(Boom, match="item 2 failed"):
        await runner.map(
            Graph([fails_on_two]),
            x=[1, 2, 3],
            map_over="x",
            event_processors=[recorder],
        )
    map_start = top_level_run_start(recorder)
    last = recorder.events[-1]
    assert isinstance(last, RunEndEvent)
    assert last.run_id == map_start.run_id
    assert last.status is RunStatus.FAILED
    assert last.error == "item 2 failed"


async def test_fail_fast_map_reports_cancelled_in_flight_items(runner):
    """Fail-fast ends in-flight items failed/"cancelled"; unstarted items emit none."""
    never = anyio.Event()
    both_started = anyio.Event()
    started: list[int] = []

    @node(output_name="y")
    async def work(x: int) -> int:
        if x in (0, 1):
            started.append(x)
            if len(started) == 2:
                both_started.set()
            await never.wait()
        if x == 2:
            with anyio.fail_after(5):
                await both_started.wait()
            raise Boom("item 2 failed")
        return x

    recorder = Recorder()
    with pytest.raises(Boom, match="item 2 failed"):
        await runner.map(
            Graph([work]),
            x=[0, 1, 2, 3],
            map_over="x",
            workflow_id="B",
            max_concurrency=3,
            event_processors=[recorder],
        )
    starts = {e.workflow_id: e for e in recorder.of(RunStartEvent) if not e.is_map}
    assert set(starts) == {"B/0", "B/1", "B/2"}
    ends = {
        e.run_id: e for e in recorder.of(RunEndEvent) if e.parent_span_id is not None
    }
    for key in ("B/0", "B/1"):
        end = ends[starts[key].run_id]
        assert end.status is RunStatus.FAILED
        assert end.error == "cancelled"
    assert ends[starts["B/2"].run_id].error == "item 2 failed"
    last = recorder.events[-1]
    assert last.parent_span_id is None
    assert last.status is RunStatus.FAILED
    assert last.error == "item 2 failed"
    assert recorder.shutdowns == 1


async def test_empty_map_emits_nothing_and_does_not_shut_down(runner):
    """An empty batch emits no event and does not shut processors down (B53)."""
    recorder = Recorder()
    result = await runner.map(
        CHAIN, x=[], map_over="x", workflow_id="B", event_processors=[recorder]
    )
    assert len(result) == 0
    assert recorder.events == []
    assert recorder.shutdowns == 0


async def test_map_iter_emits_the_same_events_as_map(runner):
    """map_iter emits map-level start/end around the items and shuts down once."""
    recorder = Recorder()
    pairs = await map_iter_collect(
        runner,
        CHAIN,
        x=[1, 2, 3],
        map_over="x",
        workflow_id="B",
        event_processors=[recorder],
    )
    assert len(pairs) == 3
    first, last = recorder.events[0], recorder.events[-1]
    assert isinstance(first, RunStartEvent)
    assert first.is_map is True
    assert first.map_size == 3
    assert first.workflow_id == "B"
    assert isinstance(last, RunEndEvent)
    assert last.span_id == first.span_id
    assert last.status is RunStatus.COMPLETED
    items = {e.workflow_id: e for e in recorder.of(RunStartEvent) if not e.is_map}
    for index, item_result in pairs:
        assert items[f"B/{index}"].run_id == item_result.run_id
        assert items[f"B/{index}"].parent_span_id == first.span_id
    assert recorder.shutdowns == 1


async def test_map_iter_closed_early_cancels_and_shuts_down_once(runner):
    """Closing map_iter early ends in-flight items and the batch failed/"cancelled"."""
    never = anyio.Event()
    second_started = anyio.Event()

    @node(output_name="y")
    async def work(x: int) -> int:
        if x == 1:
            second_started.set()
            await never.wait()
        with anyio.fail_after(5):
            await second_started.wait()
        return x

    recorder = Recorder()
    pairs = await map_iter_collect(
        runner,
        Graph([work]),
        take=1,
        x=[0, 1],
        map_over="x",
        workflow_id="B",
        max_concurrency=2,
        event_processors=[recorder],
    )
    assert [index for index, _ in pairs] == [0]
    starts = {e.workflow_id: e for e in recorder.of(RunStartEvent) if not e.is_map}
    ends = {e.run_id: e for e in recorder.of(RunEndEvent)}
    cancelled = ends[starts["B/1"].run_id]
    assert cancelled.status is RunStatus.FAILED
    assert cancelled.error == "cancelled"
    last = recorder.events[-1]
    assert last.parent_span_id is None
    assert last.status is RunStatus.FAILED
    assert last.error == "cancelled"
    assert recorder.shutdowns == 1


async def test_empty_map_iter_emits_nothing_and_does_not_shut_down(runner):
    """An empty map_iter yields nothing, emits nothing and skips shutdown (B53)."""
    recorder = Recorder()
    pairs = await map_iter_collect(
        runner, CHAIN, x=[], map_over="x", event_processors=[recorder]
    )
    assert pairs == []
    assert recorder.events == []
    assert recorder.shutdowns == 0


# -- O37/O38: mapped GraphNode and nested delivery -----------------------------


async def test_mapped_graph_node_wraps_a_map_level_run_in_the_node(runner):
    """NodeStart(gn) → map RunStart(parent=node span) → items → map RunEnd → NodeEnd."""
    recorder = Recorder()
    result = await runner.run(MAPPED_NESTED, x=[1, 2, 3], event_processors=[recorder])
    events = recorder.events
    gn_start_index = index_of(events, NodeStartEvent, "gn")
    gn_end_index = index_of(events, NodeEndEvent, "gn")
    gn_start = events[gn_start_index]
    map_start = events[gn_start_index + 1]
    map_end = events[gn_end_index - 1]
    assert isinstance(map_start, RunStartEvent)
    assert map_start.is_map is True
    assert map_start.map_size == 3
    assert map_start.parent_span_id == gn_start.span_id
    assert isinstance(map_end, RunEndEvent)
    assert map_end.span_id == map_start.span_id
    assert map_end.status is RunStatus.COMPLETED
    inside = events[gn_start_index + 2 : gn_end_index - 1]
    item_starts = [e for e in inside if isinstance(e, RunStartEvent)]
    assert len(item_starts) == 3
    assert {e.parent_span_id for e in item_starts} == {map_start.span_id}
    assert len([e for e in inside if isinstance(e, RunEndEvent)]) == 3
    [gn_record] = [r for r in result.log.steps if r.node_name == "gn"]
    gn_end = events[gn_end_index]
    assert gn_end.inner_logs == tuple(gn_record.log.items)
    assert {log.run_id for log in gn_end.inner_logs} == {e.run_id for e in item_starts}


async def test_processors_receive_events_of_items_and_their_nested_runs(runner):
    """A map over a nested graph delivers map, item and nested runs' events."""
    first, second = Recorder(), Recorder()
    result = await runner.map(
        NESTED, x=[1, 2], map_over="x", event_processors=[first, second]
    )
    starts = first.of(RunStartEvent)
    assert len(starts) == 1 + 2 + 2
    assert [e.graph_name for e in starts].count("inner") == 2
    item_run_ids = {r.run_id for r in result}
    assert item_run_ids <= {e.run_id for e in starts}
    inner_nodes = [e for e in first.of(NodeEndEvent) if e.graph_name == "inner"]
    assert len(inner_nodes) == 4
    assert second.events == first.events
