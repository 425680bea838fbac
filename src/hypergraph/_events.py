"""Event classes, processors, and the dispatcher the engine emits through (spec 05 A4).

Events are built only when a call has processors; delivery is in-band and
ordered, and a failing processor is logged, never allowed to fail the run.
"""

from __future__ import annotations

import asyncio
import inspect
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypergraph._logging import PROCESSOR_FAILED, get_logger
from hypergraph.results import RunStatus

if TYPE_CHECKING:
    from hypergraph._runlog import RunLog

__all__ = (
    "AsyncEventProcessor",
    "BaseEvent",
    "CacheHitEvent",
    "Event",
    "EventDispatcher",
    "EventProcessor",
    "InterruptEvent",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeStartEvent",
    "RouteDecisionEvent",
    "RunEndEvent",
    "RunStartEvent",
    "StopRequestedEvent",
    "SuperstepStartEvent",
    "TypedEventProcessor",
)

_logger = get_logger("hypergraph.events")


@dataclass(frozen=True, slots=True)
class BaseEvent:
    """Fields every event carries: the emitting run, its span, and when."""

    run_id: str
    span_id: str = ""
    parent_span_id: str | None = None
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class RunStartEvent(BaseEvent):
    """A run (or a map-level batch, ``is_map=True``) started."""

    graph_name: str = ""
    workflow_id: str | None = None
    is_map: bool = False
    map_size: int | None = None


@dataclass(frozen=True, slots=True)
class RunEndEvent(BaseEvent):
    """A run ended: ``completed``, ``failed`` or ``paused``."""

    graph_name: str = ""
    status: RunStatus = RunStatus.COMPLETED
    error: str | None = None
    duration_ms: float = 0.0

    def __post_init__(self) -> None:
        # Strings are accepted and coerced, so the field is always the enum.
        object.__setattr__(self, "status", RunStatus(self.status))


@dataclass(frozen=True, slots=True)
class SuperstepStartEvent(BaseEvent):
    """A superstep (0-based within the attempt) started."""

    graph_name: str = ""
    superstep: int = 0


@dataclass(frozen=True, slots=True)
class NodeStartEvent(BaseEvent):
    """A node execution started."""

    node_name: str = ""
    graph_name: str = ""


@dataclass(frozen=True, slots=True)
class NodeEndEvent(BaseEvent):
    """A node execution completed (``inner_logs`` for GraphNode steps)."""

    node_name: str = ""
    graph_name: str = ""
    duration_ms: float = 0.0
    cached: bool = False
    inner_logs: tuple[RunLog, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class NodeErrorEvent(BaseEvent):
    """A node execution failed."""

    node_name: str = ""
    graph_name: str = ""
    error: str = ""
    error_type: str = ""


@dataclass(frozen=True, slots=True)
class RouteDecisionEvent(BaseEvent):
    """A gate decided (``"END"`` for END; a list for multi-target routes)."""

    node_name: str = ""
    graph_name: str = ""
    decision: str | list[str] = ""


@dataclass(frozen=True, slots=True)
class CacheHitEvent(BaseEvent):
    """A node's result came from a cache (reserved: caching is not implemented)."""

    node_name: str = ""
    graph_name: str = ""
    cache_key: str = ""


@dataclass(frozen=True, slots=True)
class InterruptEvent(BaseEvent):
    """A run paused at an interrupt."""

    node_name: str = ""
    graph_name: str = ""
    workflow_id: str | None = None
    value: Any = None
    response_param: str = ""


@dataclass(frozen=True, slots=True)
class StopRequestedEvent(BaseEvent):
    """Reserved: defined and routed, never emitted in this version."""

    workflow_id: str | None = None


Event = (
    RunStartEvent
    | RunEndEvent
    | SuperstepStartEvent
    | NodeStartEvent
    | NodeEndEvent
    | NodeErrorEvent
    | RouteDecisionEvent
    | CacheHitEvent
    | InterruptEvent
    | StopRequestedEvent
)


class EventProcessor:
    """Receives events. Override :meth:`on_event` (and :meth:`shutdown`)."""

    def on_event(self, event: Event) -> None:
        """Called once per event, in order."""

    def shutdown(self) -> None:
        """Called once after the final event of a top-level call."""


class AsyncEventProcessor(EventProcessor):
    """A processor whose handlers are awaited (works with both runners)."""

    async def on_event_async(self, event: Event) -> None:
        """Awaited once per event, in order."""

    async def shutdown_async(self) -> None:
        """Awaited once after the final event of a top-level call."""


class TypedEventProcessor(EventProcessor):
    """Dispatches each event to ``on_<kind>``; override only what you need."""

    def on_event(self, event: Event) -> None:
        """Route ``event`` to the handler for its exact class."""
        handler = _TYPED_HANDLERS.get(type(event))
        if handler is not None:
            getattr(self, handler)(event)

    def on_run_start(self, event: RunStartEvent) -> None:
        """A run started."""

    def on_run_end(self, event: RunEndEvent) -> None:
        """A run ended."""

    def on_superstep_start(self, event: SuperstepStartEvent) -> None:
        """A superstep started."""

    def on_node_start(self, event: NodeStartEvent) -> None:
        """A node started."""

    def on_node_end(self, event: NodeEndEvent) -> None:
        """A node completed."""

    def on_node_error(self, event: NodeErrorEvent) -> None:
        """A node failed."""

    def on_route_decision(self, event: RouteDecisionEvent) -> None:
        """A gate decided."""

    def on_cache_hit(self, event: CacheHitEvent) -> None:
        """A cached result was used."""

    def on_interrupt(self, event: InterruptEvent) -> None:
        """A run paused."""

    def on_stop_requested(self, event: StopRequestedEvent) -> None:
        """A stop was requested (reserved)."""


_TYPED_HANDLERS: dict[type, str] = {
    RunStartEvent: "on_run_start",
    RunEndEvent: "on_run_end",
    SuperstepStartEvent: "on_superstep_start",
    NodeStartEvent: "on_node_start",
    NodeEndEvent: "on_node_end",
    NodeErrorEvent: "on_node_error",
    RouteDecisionEvent: "on_route_decision",
    CacheHitEvent: "on_cache_hit",
    InterruptEvent: "on_interrupt",
    StopRequestedEvent: "on_stop_requested",
}


def _is_async(processor: object) -> bool:
    return isinstance(processor, AsyncEventProcessor) or inspect.iscoroutinefunction(
        getattr(processor, "on_event_async", None)
    )


def _checked_processors(processors: Iterable[object] | None) -> list[object]:
    """The processors as a list; a clear error for anything that cannot be one."""
    if processors is None:
        return []
    if not isinstance(processors, Iterable) or hasattr(processors, "on_event"):
        raise TypeError(
            f"event_processors must be a list of processors, got {processors!r}.\n\n"
            "How to fix: wrap it in a list, event_processors=[processor]."
        )
    checked = list(processors)
    for processor in checked:
        if not (callable(getattr(processor, "on_event", None)) or _is_async(processor)):
            raise TypeError(
                f"{processor!r} is not an event processor: it has no on_event() "
                "or async on_event_async() method.\n\nHow to fix: subclass "
                "EventProcessor (on_event), AsyncEventProcessor (on_event_async) "
                "or TypedEventProcessor (on_<event>) from hypergraph."
            )
    return checked


class EventDispatcher:
    """Fans events out to processors, best effort (``strict=True`` re-raises).

    Args:
        processors: The processors, called in list order.
        strict: Let processor errors propagate instead of logging them.
    """

    def __init__(
        self, processors: Iterable[object] | None = None, *, strict: bool = False
    ) -> None:
        self.processors = _checked_processors(processors)
        self.strict = strict
        self.has_async = any(_is_async(p) for p in self.processors)
        self._lock: asyncio.Lock | None = None

    @property
    def active(self) -> bool:
        """Whether any processor is registered (events are built only then)."""
        return bool(self.processors)

    def _failed(self, processor: object, event: object, exc: Exception) -> None:
        if self.strict:
            raise exc
        _logger.warning(
            PROCESSOR_FAILED,
            processor=repr(processor),
            event_type=type(event).__name__,
            traceback="".join(traceback.format_exception(exc)),
        )

    def emit(self, event: Event) -> None:
        """Deliver ``event`` to every processor's sync ``on_event``."""
        for processor in self.processors:
            try:
                processor.on_event(event)  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - processors are best effort
                self._failed(processor, event, exc)

    async def emit_async(self, event: Event) -> None:
        """Deliver ``event``, awaiting async processors; one event at a time."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        # Concurrent nodes emit concurrently; a processor still sees one event
        # at a time, in the order they were emitted.
        async with self._lock:
            for processor in self.processors:
                try:
                    if _is_async(processor):
                        await processor.on_event_async(event)  # type: ignore[attr-defined]
                    else:
                        processor.on_event(event)  # type: ignore[attr-defined]
                except Exception as exc:  # noqa: BLE001 - processors are best effort
                    self._failed(processor, event, exc)

    def shutdown(self) -> None:
        """Call every processor's sync ``shutdown`` once."""
        for processor in self.processors:
            try:
                processor.shutdown()  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - processors are best effort
                self._failed(processor, "shutdown", exc)

    async def shutdown_async(self) -> None:
        """Shut every processor down, awaiting async ones."""
        for processor in self.processors:
            try:
                if _is_async(processor):
                    await processor.shutdown_async()  # type: ignore[attr-defined]
                else:
                    processor.shutdown()  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - processors are best effort
                self._failed(processor, "shutdown", exc)
