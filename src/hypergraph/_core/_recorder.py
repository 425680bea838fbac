"""Turn node executions into persisted step records while a run executes.

One ``Recorder`` per persisted run (top-level, batch item, or nested graph). It
encodes values when the record is built, so a value that cannot be stored fails
its node at once (spec 04 D19), then queues the record on the call's session.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from hypergraph._checkpoint._serializers import encode_values
from hypergraph._checkpoint._types import StepRecord, StepStatus, WorkflowStatus
from hypergraph._runlog import error_type_name, short_error

if TYPE_CHECKING:
    from hypergraph._checkpoint._store import Checkpointer, Session
    from hypergraph._plan import NodePlan, Plan

__all__ = ("Recorder",)

_FLUSH_AFTER_S: Final = 0.1  # "async" durability: commit at least this often


def _utc(ns_wall: float) -> datetime:
    return datetime.fromtimestamp(ns_wall, UTC)


class Recorder:
    """Writes one run's steps and final status through the call's session."""

    __slots__ = (
        "_superstep",
        "checkpointer",
        "durability",
        "errors",
        "is_item",
        "last_flush",
        "next_index",
        "resumed",
        "run_id",
        "session",
        "started",
        "superstep_offset",
    )

    def __init__(
        self,
        session: Session,
        checkpointer: Checkpointer,
        run_id: str,
        *,
        superstep_offset: int = 0,
        next_index: int = 0,
        is_item: bool = False,
        resumed: bool = False,
    ) -> None:
        self.session = session
        self.checkpointer = checkpointer
        self.run_id = run_id
        self.durability = checkpointer.policy.durability
        self.superstep_offset = superstep_offset
        self.next_index = next_index
        self.errors = 0
        self.is_item = is_item
        # Child runs of a resumed (or re-run) run may already exist: reset them.
        self.resumed = resumed
        self.last_flush = time.monotonic()
        self.started = time.monotonic()
        self._superstep: list[tuple[int, StepRecord, bytes | None]] = []

    def elapsed_ms(self) -> float:
        """Wall time of this attempt so far."""
        return (time.monotonic() - self.started) * 1000

    def child(
        self, child_id: str, inner: Plan, inputs: dict[str, Any], *, kind: str = "run"
    ) -> Recorder:
        """Queue the child run of a nested graph and return its recorder."""
        from hypergraph._core._lineage import run_config

        session = self.session
        if self.resumed:
            session.queue_reset(child_id)
        session.queue_create(
            child_id,
            graph_name=inner.name,
            parent_run_id=self.run_id,
            config=run_config(inner.graph, kind=kind),
            inputs=dict(inputs),  # the run mutates its inputs dict as its state
        )
        return Recorder(
            session, self.checkpointer, child_id, is_item=True, resumed=self.resumed
        )

    def encode(self, plan: NodePlan, values: dict[str, Any]) -> bytes:
        """Encode a node's outputs, naming the output that cannot be stored.

        Raises:
            CheckpointSerializationError: a value cannot be encoded.
        """
        return encode_values(
            self.checkpointer.serializer, values, self.run_id, plan.name
        )

    def step(
        self,
        plan: NodePlan,
        superstep: int,
        status: StepStatus,
        *,
        started: float,
        duration_ns: int,
        input_versions: dict[str, int],
        values: dict[str, Any] | None = None,
        decision: Any = None,
        error: BaseException | str | None = None,
        message: str | None = None,
        child_run_id: str | None = None,
    ) -> None:
        """Build, encode and queue one step record (``message`` overrides the text)."""
        encoded = None if values is None else self.encode(plan, values)
        kind: str | None = None
        if isinstance(error, BaseException):
            kind = error_type_name(error)
            message = message or short_error(error)
        elif error is not None:
            message = message or error
        if status is StepStatus.FAILED:
            self.errors += 1
        record = StepRecord(
            run_id=self.run_id,
            superstep=superstep + self.superstep_offset,
            node_name=plan.name,
            index=-1,  # assigned when the superstep ends (see end_superstep)
            status=status,
            input_versions=input_versions,
            values=values,
            duration_ms=round(duration_ns / 1e6, 3),
            decision=decision,
            error=message,
            error_type=kind,
            node_type=type(plan.node).__name__,
            created_at=_utc(started),
            completed_at=_utc(started + duration_ns / 1e9),
            child_run_id=child_run_id,
        )
        self._superstep.append((plan.index, record, encoded))

    def end_superstep(self) -> None:
        """Number and queue the superstep's steps in graph order (D4).

        Nodes of one superstep finish in any order when they run concurrently;
        their indexes follow the nodes' positions in the graph instead.
        """
        done, self._superstep = self._superstep, []
        done.sort(key=lambda entry: entry[0])
        for _, record, encoded in done:
            record = replace(record, index=self.next_index)
            self.next_index += 1
            self.session.queue_step(record, encoded)

    async def after_superstep(self) -> None:
        """Apply the durability policy between supersteps (D15)."""
        self.end_superstep()
        if self.is_item or self.durability == "exit":
            return
        if (
            self.durability == "sync"
            or time.monotonic() - self.last_flush > _FLUSH_AFTER_S
        ):
            await self.session.flush()
            self.last_flush = time.monotonic()

    async def finish(
        self, status: WorkflowStatus, duration_ms: float, *, wait: bool = True
    ) -> None:
        """Record the run's end (durable on return unless ``wait`` is False)."""
        self.end_superstep()
        stats = {"duration_ms": round(duration_ms, 3), "error_count": self.errors}
        if wait and not self.is_item:
            await self.session.update_run(self.run_id, status, **stats)
        else:
            self.session.queue_run_end(self.run_id, status, **stats)
