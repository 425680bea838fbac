"""OpenTelemetryProcessor: runs and nodes as OpenTelemetry spans (spec 05 O51)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypergraph._events import TypedEventProcessor
from hypergraph.results import RunStatus

try:
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    _HAS_OTEL = True
except ImportError:
    _HAS_OTEL = False

if TYPE_CHECKING:
    from opentelemetry.trace import Span, TracerProvider
    from opentelemetry.util.types import AttributeValue

    from hypergraph._events import (
        BaseEvent,
        CacheHitEvent,
        InterruptEvent,
        NodeEndEvent,
        NodeErrorEvent,
        NodeStartEvent,
        RouteDecisionEvent,
        RunEndEvent,
        RunStartEvent,
    )

__all__ = ("OpenTelemetryProcessor",)

_INSTALL_HINT = (
    "OpenTelemetryProcessor needs the opentelemetry-api package.\n\n"
    "How to fix: pip install 'hypergraph[otel]' (from a checkout: "
    "pip install '.[otel]'), or pip install opentelemetry-api."
)


def _attributes(**values: AttributeValue | None) -> dict[str, AttributeValue]:
    """``hypergraph.``-prefixed attributes; OpenTelemetry has no null, so drop None."""
    return {f"hypergraph.{k}": v for k, v in values.items() if v is not None}


def _ns(event: BaseEvent) -> int | None:
    # Use the event's own clock so span times match the RunLog; hand-built
    # events (timestamp 0) fall back to "now".
    return int(event.timestamp * 1e9) if event.timestamp > 0 else None


class OpenTelemetryProcessor(TypedEventProcessor):
    """Turn the event stream into OpenTelemetry spans.

    Every run becomes a span ``run:<graph>`` and every node execution a child
    span ``node:<node>``. Nested graph runs hang under their GraphNode's span
    and map items under the map's span, so a trace shows the whole call tree.
    A top-level run becomes a child of whatever span is current in your code.
    Only names, ids, statuses, timings and error messages are exported, never
    input or output values.

    Args:
        tracer_name: The instrumentation name of the tracer.
        tracer_provider: The provider to use (default: the global one).

    Raises:
        ImportError: ``opentelemetry-api`` is not installed.
    """

    def __init__(
        self,
        tracer_name: str = "hypergraph",
        *,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        if not _HAS_OTEL:
            raise ImportError(_INSTALL_HINT)
        self.tracer_name = tracer_name
        self._tracer = trace.get_tracer(tracer_name, tracer_provider=tracer_provider)
        # Open spans by hypergraph span id; insertion order is start order.
        self._spans: dict[str, Span] = {}
        self._error_types: dict[str, str] = {}

    def _start(
        self, name: str, event: BaseEvent, attributes: dict[str, AttributeValue]
    ) -> Span:
        parent = self._spans.get(event.parent_span_id or "")
        context = trace.set_span_in_context(parent) if parent is not None else None
        span = self._tracer.start_span(
            name, context=context, attributes=attributes, start_time=_ns(event)
        )
        self._spans[event.span_id] = span
        return span

    def _fail(self, span: Span, error: str | None) -> None:
        span.set_status(Status(StatusCode.ERROR, error or "failed"))

    # -- runs -----------------------------------------------------------------------
    def on_run_start(self, event: RunStartEvent) -> None:
        """Open the run's span under its GraphNode or map span (if any)."""
        attributes = _attributes(
            graph_name=event.graph_name,
            run_id=event.run_id,
            workflow_id=event.workflow_id,
            is_map=event.is_map,
            map_size=event.map_size,
        )
        self._start(f"run:{event.graph_name}", event, attributes)

    def on_run_end(self, event: RunEndEvent) -> None:
        """Record the run's status and duration, then end its span."""
        span = self._spans.pop(event.span_id, None)
        error_type = self._error_types.pop(event.span_id, None)
        if span is None:
            return
        status = str(event.status)
        span.set_attributes(
            _attributes(
                status=status, duration_ms=event.duration_ms, error_type=error_type
            )
        )
        if event.status == RunStatus.FAILED:
            self._fail(span, event.error)
        span.end(end_time=_ns(event))

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        """Attach the decision to the run span as a ``route_decision`` event."""
        span = self._spans.get(event.parent_span_id or "")
        if span is None:
            return
        decision = event.decision
        value: AttributeValue = decision if isinstance(decision, str) else [*decision]
        span.add_event(
            "route_decision",
            _attributes(node_name=event.node_name, decision=value),
            timestamp=_ns(event),
        )

    # -- nodes ----------------------------------------------------------------------
    def on_node_start(self, event: NodeStartEvent) -> None:
        """Open the node's span under its run span."""
        attributes = _attributes(
            graph_name=event.graph_name, run_id=event.run_id, node_name=event.node_name
        )
        self._start(f"node:{event.node_name}", event, attributes)

    def on_cache_hit(self, event: CacheHitEvent) -> None:
        """Mark the node's span as served from the cache."""
        span = self._spans.get(event.span_id)
        if span is not None:
            span.set_attribute("hypergraph.cached", True)

    def on_node_end(self, event: NodeEndEvent) -> None:
        """Record the node's duration and end its span."""
        span = self._spans.pop(event.span_id, None)
        if span is None:
            return
        span.set_attributes(
            _attributes(
                status="completed", duration_ms=event.duration_ms, cached=event.cached
            )
        )
        span.end(end_time=_ns(event))

    def on_node_error(self, event: NodeErrorEvent) -> None:
        """Mark the node's span as failed with the error, then end it."""
        span = self._spans.pop(event.span_id, None)
        if event.parent_span_id is not None:
            self._error_types[event.parent_span_id] = event.error_type
        if span is None:
            return
        span.set_attributes(_attributes(status="failed", error_type=event.error_type))
        span.add_event(
            "exception",
            {"exception.type": event.error_type, "exception.message": event.error},
            timestamp=_ns(event),
        )
        self._fail(span, event.error)
        span.end(end_time=_ns(event))

    def on_interrupt(self, event: InterruptEvent) -> None:
        """End the interrupt node's span as paused (it gets no NodeEndEvent)."""
        span = self._spans.pop(event.span_id, None)
        if span is None:
            return
        span.set_attributes(_attributes(status="paused"))
        span.end(end_time=_ns(event))

    def shutdown(self) -> None:
        """End every span still open, innermost first."""
        spans = list(self._spans.values())
        self._spans.clear()
        self._error_types.clear()
        for span in reversed(spans):
            span.end()
