"""OpenTelemetryProcessor: spans, parenting, attributes and errors (05 O51)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

pytest.importorskip("opentelemetry.sdk.trace")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode

import hypergraph.events.otel as otel_module
from hypergraph import END, Graph, RunStatus, interrupt, node, route
from hypergraph.events import (
    CacheHitEvent,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
)
from hypergraph.events.otel import OpenTelemetryProcessor

SECRET = "hunter2-very-secret"


class Boom(Exception):
    """A node's own exception type."""


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


@route(targets=["add_one", END])
def gate(x: int):
    return "add_one" if x > 0 else END


@route(targets=["add_one", "triple"], multi_target=True)
def fan(x: int):
    return ["add_one", "triple"]


@node(output_name="w")
def triple(x: int) -> int:
    return 3 * x


@interrupt(output_name="answer")
def ask(y: int) -> str | None:
    return None


CHAIN = Graph([add_one, double], name="chain")
FLAKY = Graph([fails_on_two], name="flaky")
INNER = Graph([add_one, double], name="inner")
NESTED = Graph([INNER.as_node(name="gn")], name="outer")
MAPPED = Graph([INNER.as_node(name="fan_out").map_over("x")], name="fanout")


class Tracing:
    """A TracerProvider recording finished spans in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def processor(self, tracer_name: str = "hypergraph") -> OpenTelemetryProcessor:
        return OpenTelemetryProcessor(tracer_name, tracer_provider=self.provider)

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        [span] = self.named(name)
        return span


@pytest.fixture
def tracing() -> Tracing:
    """A fresh in-memory tracing setup per test."""
    return Tracing()


def attrs(span: ReadableSpan) -> dict:
    """The span's attributes as a plain dict."""
    return dict(span.attributes or {})


def parent_of(span: ReadableSpan) -> int | None:
    """The OpenTelemetry span id of the span's parent, or None for a root."""
    return span.parent.span_id if span.parent is not None else None


# -- span tree -------------------------------------------------------------------------


async def test_a_run_becomes_a_run_span_with_node_children(runner, tracing):
    """One ``run:<graph>`` span; each node a ``node:<node>`` child of it."""
    await runner.run(CHAIN, x=1, event_processors=[tracing.processor()])
    assert sorted(s.name for s in tracing.spans) == [
        "node:add_one",
        "node:double",
        "run:chain",
    ]
    run = tracing.one("run:chain")
    assert run.parent is None
    for name in ("node:add_one", "node:double"):
        child = tracing.one(name)
        assert parent_of(child) == run.context.span_id
        assert child.context.trace_id == run.context.trace_id


async def test_run_span_attributes(runner, tracing):
    """The run span carries graph name, run id, map flag, status and duration."""
    result = await runner.run(CHAIN, x=1, event_processors=[tracing.processor()])
    run = attrs(tracing.one("run:chain"))
    assert run["hypergraph.graph_name"] == "chain"
    assert run["hypergraph.run_id"] == result.run_id
    assert run["hypergraph.is_map"] is False
    assert run["hypergraph.status"] == "completed"
    assert run["hypergraph.duration_ms"] >= 0
    assert "hypergraph.workflow_id" not in run
    assert tracing.one("run:chain").status.status_code is not StatusCode.ERROR


async def test_node_span_attributes(runner, tracing):
    """Node spans carry node and graph names, run id, duration, cached and status."""
    result = await runner.run(CHAIN, x=1, event_processors=[tracing.processor()])
    node_attrs = attrs(tracing.one("node:double"))
    assert node_attrs["hypergraph.node_name"] == "double"
    assert node_attrs["hypergraph.graph_name"] == "chain"
    assert node_attrs["hypergraph.run_id"] == result.run_id
    assert node_attrs["hypergraph.cached"] is False
    assert node_attrs["hypergraph.status"] == "completed"
    assert node_attrs["hypergraph.duration_ms"] >= 0


async def test_tracer_name_is_the_instrumentation_scope(runner, tracing):
    """Spans come from a tracer named by ``tracer_name``."""
    await runner.run(CHAIN, x=1, event_processors=[tracing.processor("my-app")])
    assert {s.instrumentation_scope.name for s in tracing.spans} == {"my-app"}


async def test_a_top_level_run_nests_under_the_callers_current_span(runner, tracing):
    """A span active in the calling code becomes the run span's parent."""
    tracer = tracing.provider.get_tracer("caller")
    with tracer.start_as_current_span("request") as request:
        await runner.run(CHAIN, x=1, event_processors=[tracing.processor()])
    assert parent_of(tracing.one("run:chain")) == request.get_span_context().span_id


async def test_a_nested_graph_run_is_a_child_of_its_graph_node_span(runner, tracing):
    """Inner run span under the GraphNode's node span; inner nodes under it."""
    await runner.run(NESTED, x=1, event_processors=[tracing.processor()])
    outer, inner = tracing.one("run:outer"), tracing.one("run:inner")
    graph_node = tracing.one("node:gn")
    assert parent_of(graph_node) == outer.context.span_id
    assert parent_of(inner) == graph_node.context.span_id
    assert parent_of(tracing.one("node:add_one")) == inner.context.span_id


# -- maps ------------------------------------------------------------------------------


async def test_map_items_are_children_of_the_map_span(runner, tracing):
    """The map-level span has is_map and every item run span as a child."""
    result = await runner.map(
        CHAIN,
        x=[1, 2, 3],
        map_over="x",
        workflow_id="batch",
        event_processors=[tracing.processor()],
    )
    runs = tracing.named("run:chain")
    [batch] = [s for s in runs if attrs(s)["hypergraph.is_map"]]
    items = [s for s in runs if s is not batch]
    assert attrs(batch)["hypergraph.run_id"] == result.run_id
    assert attrs(batch)["hypergraph.map_size"] == 3
    assert attrs(batch)["hypergraph.workflow_id"] == "batch"
    assert {parent_of(s) for s in items} == {batch.context.span_id}
    assert {attrs(s)["hypergraph.run_id"] for s in items} == {r.run_id for r in result}
    assert sorted(attrs(s)["hypergraph.workflow_id"] for s in items) == [
        "batch/0",
        "batch/1",
        "batch/2",
    ]
    assert len(tracing.named("node:add_one")) == 3


async def test_a_mapped_graph_node_hangs_its_map_under_the_node_span(runner, tracing):
    """A mapped GraphNode: node span → map span → item run spans."""
    await runner.run(MAPPED, x=[1, 2], event_processors=[tracing.processor()])
    graph_node = tracing.one("node:fan_out")
    inner_runs = tracing.named("run:inner")
    [batch] = [s for s in inner_runs if attrs(s)["hypergraph.is_map"]]
    assert parent_of(batch) == graph_node.context.span_id
    items = [s for s in inner_runs if s is not batch]
    assert len(items) == 2
    assert {parent_of(s) for s in items} == {batch.context.span_id}


async def test_a_map_with_failed_items_has_an_error_status(runner, tracing):
    """The map span fails with ``<f> of <N> items failed``; the item span too."""
    await runner.map(
        FLAKY,
        x=[1, 2, 3],
        map_over="x",
        error_handling="continue",
        event_processors=[tracing.processor()],
    )
    runs = tracing.named("run:flaky")
    [batch] = [s for s in runs if attrs(s)["hypergraph.is_map"]]
    assert batch.status.status_code is StatusCode.ERROR
    assert batch.status.description == "1 of 3 items failed"
    failed = [s for s in runs if s.status.status_code is StatusCode.ERROR]
    assert len(failed) == 2


# -- failures, routes, pauses ----------------------------------------------------------


async def test_a_failing_node_sets_error_status_type_and_message(runner, tracing):
    """Node and run spans get ERROR with the message and the error type."""
    await runner.run(
        FLAKY, x=2, error_handling="continue", event_processors=[tracing.processor()]
    )
    failed_node = tracing.one("node:fails_on_two")
    assert failed_node.status.status_code is StatusCode.ERROR
    assert failed_node.status.description == "item 2 failed"
    error_type = f"{Boom.__module__}.{Boom.__qualname__}"
    assert attrs(failed_node)["hypergraph.error_type"] == error_type
    assert attrs(failed_node)["hypergraph.status"] == "failed"
    [exception] = [e for e in failed_node.events if e.name == "exception"]
    assert exception.attributes["exception.message"] == "item 2 failed"
    run = tracing.one("run:flaky")
    assert run.status.status_code is StatusCode.ERROR
    assert run.status.description == "item 2 failed"
    assert attrs(run)["hypergraph.status"] == "failed"
    assert attrs(run)["hypergraph.error_type"] == error_type


async def test_a_raising_run_still_ends_its_spans(runner, tracing):
    """With ``error_handling="raise"`` the run and node spans are exported."""
    with pytest.raises(Boom):
        await runner.run(FLAKY, x=2, event_processors=[tracing.processor()])
    assert tracing.one("run:flaky").status.status_code is StatusCode.ERROR
    assert tracing.one("node:fails_on_two").end_time is not None


async def test_route_decisions_are_events_on_the_run_span(runner, tracing):
    """Each gate decision is a ``route_decision`` event; END reads ``"END"``."""
    graph = Graph([gate, add_one], name="routed")
    await runner.run(graph, x=1, event_processors=[tracing.processor()])
    await runner.run(graph, x=0, event_processors=[tracing.processor()])
    decisions = [
        dict(event.attributes)
        for run in tracing.named("run:routed")
        for event in run.events
        if event.name == "route_decision"
    ]
    assert sorted(d["hypergraph.decision"] for d in decisions) == ["END", "add_one"]
    assert {d["hypergraph.node_name"] for d in decisions} == {"gate"}
    for gate_span in tracing.named("node:gate"):
        assert all(e.name != "route_decision" for e in gate_span.events)


async def test_a_multi_target_decision_is_a_list_attribute(runner, tracing):
    """A multi-target route records the list of targets."""
    graph = Graph([fan, add_one, triple], name="fanned")
    await runner.run(graph, x=1, event_processors=[tracing.processor()])
    [event] = tracing.one("run:fanned").events
    assert tuple(event.attributes["hypergraph.decision"]) == ("add_one", "triple")


async def test_a_paused_run_ends_its_spans_without_error(runner, tracing):
    """The interrupt's node span and the run span end as paused, not failed."""
    graph = Graph([add_one, ask], name="review")
    result = await runner.run(graph, x=1, event_processors=[tracing.processor()])
    assert result.status is RunStatus.PAUSED
    for name in ("node:ask", "run:review"):
        span = tracing.one(name)
        assert attrs(span)["hypergraph.status"] == "paused"
        assert span.status.status_code is not StatusCode.ERROR


async def test_input_values_are_never_exported(runner, tracing):
    """Spans carry names and ids only, never the values flowing through the graph."""

    @node(output_name="out")
    def echo(text: str) -> str:
        return text.upper()

    await runner.run(Graph([echo]), text=SECRET, event_processors=[tracing.processor()])
    exported = [
        str(value)
        for span in tracing.spans
        for value in [*attrs(span).values(), *(e.attributes for e in span.events)]
    ]
    assert not any(SECRET in v or SECRET.upper() in v for v in exported)


# -- shutdown and installation ---------------------------------------------------------


def test_shutdown_ends_spans_still_open(tracing):
    """Spans whose end event never came are ended by ``shutdown()``, innermost first."""
    processor = tracing.processor()
    processor.on_event(RunStartEvent("run-1", "a" * 16, graph_name="g"))
    processor.on_event(NodeStartEvent("run-1", "b" * 16, "a" * 16, node_name="n"))
    assert tracing.spans == []
    processor.shutdown()
    assert [s.name for s in tracing.spans] == ["node:n", "run:g"]
    processor.shutdown()
    assert len(tracing.spans) == 2


def test_a_cache_hit_marks_the_node_span_cached(tracing):
    """A CacheHitEvent between start and end leaves ``cached=True`` on the span."""
    processor = tracing.processor()
    processor.on_event(RunStartEvent("r", "s1", graph_name="g"))
    processor.on_event(NodeStartEvent("r", "s2", "s1", node_name="n"))
    processor.on_event(CacheHitEvent("r", "s2", "s1", node_name="n", cache_key="k"))
    processor.on_event(NodeEndEvent("r", "s2", "s1", node_name="n", cached=True))
    processor.on_event(RunEndEvent("r", "s1", None, graph_name="g"))
    assert attrs(tracing.one("node:n"))["hypergraph.cached"] is True


def test_events_for_spans_never_started_are_ignored(tracing):
    """End, error, cache, route and interrupt events of unknown spans do nothing."""
    processor = tracing.processor()
    for event in (
        RunEndEvent("r", "s1"),
        NodeEndEvent("r", "s2", "s1"),
        NodeErrorEvent("r", "s3", "s1", error="x", error_type="builtins.ValueError"),
        CacheHitEvent("r", "s4", "s1"),
        RouteDecisionEvent("r", "s5", "s1", decision="END"),
        InterruptEvent("r", "s6", "s1"),
    ):
        processor.on_event(event)
    processor.shutdown()
    assert tracing.spans == []


def test_missing_opentelemetry_raises_import_error_with_install_hint(monkeypatch):
    """Without opentelemetry-api, constructing the processor names the extra."""
    for name in [m for m in sys.modules if m.startswith("opentelemetry")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    spec = importlib.util.spec_from_file_location(
        "hypergraph_otel_without_api", otel_module.__file__
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ImportError, match=r"pip install 'hypergraph\[otel\]'"):
        module.OpenTelemetryProcessor()
