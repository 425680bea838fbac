"""Build and deliver events for a call that has processors (spec 05 O30-O38).

Only called when ``CallContext.events`` is set, so a call without processors
never builds an event object.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio

from hypergraph._core._context import need_loop
from hypergraph._events import (
    Event,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    SuperstepStartEvent,
)
from hypergraph._runlog import error_type_name
from hypergraph.results import RunStatus

if TYPE_CHECKING:
    from hypergraph._core._context import CallContext
    from hypergraph._events import EventDispatcher
    from hypergraph._plan import NodePlan
    from hypergraph.results import PauseInfo

__all__ = ("Emitter",)


class Emitter:
    """The events of one run (or one map-level batch): shares its run span."""

    __slots__ = ("call", "events", "graph_name", "parent", "run_id", "span")

    def __init__(
        self, call: CallContext, run_id: str, graph_name: str, parent: str | None
    ) -> None:
        events = call.events
        assert events is not None
        self.events: EventDispatcher = events
        self.call = call
        self.run_id = run_id
        self.graph_name = graph_name
        self.parent = parent
        self.span = call.span_id(call.next_span())

    async def send(self, event: Event) -> None:
        """Deliver one event (awaiting async processors)."""
        if self.events.has_async:
            await need_loop()
            await self.events.emit_async(event)
        else:
            self.events.emit(event)

    async def run_start(
        self, workflow_id: str | None, *, is_map: bool = False, size: int | None = None
    ) -> None:
        """The run (or batch) started."""
        await self.send(
            RunStartEvent(
                self.run_id,
                self.span,
                self.parent,
                time.time(),
                graph_name=self.graph_name,
                workflow_id=workflow_id,
                is_map=is_map,
                map_size=size,
            )
        )

    async def run_end(
        self, status: RunStatus, error: str | None, duration_ms: float
    ) -> None:
        """The run (or batch) ended."""
        await self.send(
            RunEndEvent(
                self.run_id,
                self.span,
                self.parent,
                time.time(),
                graph_name=self.graph_name,
                status=status,
                error=error,
                duration_ms=round(duration_ms, 3),
            )
        )

    async def cancelled(self, duration_ms: float) -> None:
        """The run was cancelled: report it even while the cancellation unwinds."""
        # Shielded: the cancellation that is unwinding us must not stop the report.
        with anyio.CancelScope(shield=True):
            await self.run_end(RunStatus.FAILED, "cancelled", duration_ms)

    async def superstep(self, step: int) -> None:
        """A superstep started."""
        call = self.call
        await self.send(
            SuperstepStartEvent(
                self.run_id,
                call.span_id(call.next_span()),
                self.span,
                time.time(),
                graph_name=self.graph_name,
                superstep=step,
            )
        )

    def node_span(self, counter: int) -> str:
        """The span id of a node execution."""
        return self.call.span_id(counter)

    async def node_start(self, plan: NodePlan, counter: int) -> None:
        """A node started."""
        await self.send(
            NodeStartEvent(
                self.run_id,
                self.node_span(counter),
                self.span,
                time.time(),
                node_name=plan.name,
                graph_name=self.graph_name,
            )
        )

    async def node_end(
        self,
        plan: NodePlan,
        counter: int,
        duration_ns: int,
        decision: Any,
        inner: Any,
    ) -> None:
        """A node completed (a gate's decision is announced just before)."""
        call = self.call
        if plan.target_index is not None:
            shown = [] if decision is None else decision
            await self.send(
                RouteDecisionEvent(
                    self.run_id,
                    call.span_id(call.next_span()),
                    self.span,
                    time.time(),
                    node_name=plan.name,
                    graph_name=self.graph_name,
                    decision=shown,
                )
            )
        if inner is None:
            inner_logs: tuple[Any, ...] = ()
        elif hasattr(inner, "items"):  # a MapLog of item logs
            inner_logs = tuple(inner.items)
        else:
            inner_logs = (inner,)
        await self.send(
            NodeEndEvent(
                self.run_id,
                self.node_span(counter),
                self.span,
                time.time(),
                node_name=plan.name,
                graph_name=self.graph_name,
                duration_ms=round(duration_ns / 1e6, 3),
                cached=False,
                inner_logs=inner_logs,
            )
        )

    async def node_error(
        self, plan: NodePlan, counter: int, exc: BaseException
    ) -> None:
        """A node failed."""
        await self.send(
            NodeErrorEvent(
                self.run_id,
                self.node_span(counter),
                self.span,
                time.time(),
                node_name=plan.name,
                graph_name=self.graph_name,
                error=str(exc),
                error_type=error_type_name(exc),
            )
        )

    async def interrupt(
        self,
        plan: NodePlan,
        counter: int,
        pause: PauseInfo,
        path: str,
        workflow_id: str | None,
        renames: dict[str, str] | None,
    ) -> None:
        """A run paused at an interrupt node."""
        await self.send(
            InterruptEvent(
                self.run_id,
                self.node_span(counter),
                self.span,
                time.time(),
                node_name=path + plan.name,
                graph_name=self.graph_name,
                workflow_id=workflow_id,
                value=pause.value,
                response_param=(renames or {}).get(
                    pause.output_param, pause.output_param
                ),
            )
        )
