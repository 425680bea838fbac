"""Public events API: event classes, processors and the dispatcher (spec 05 A4-A6)."""

from __future__ import annotations

from hypergraph._events import (
    AsyncEventProcessor,
    BaseEvent,
    CacheHitEvent,
    Event,
    EventDispatcher,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StopRequestedEvent,
    SuperstepStartEvent,
    TypedEventProcessor,
)
from hypergraph.events._progress import RichProgressProcessor
from hypergraph.results import RunStatus

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
    "RichProgressProcessor",
    "RouteDecisionEvent",
    "RunEndEvent",
    "RunStartEvent",
    "RunStatus",
    "StopRequestedEvent",
    "SuperstepStartEvent",
    "TypedEventProcessor",
)
