"""Public types of persisted runs: statuses, Run, StepRecord, Checkpoint, tables."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, final

__all__ = (
    "Checkpoint",
    "CheckpointPolicy",
    "Run",
    "RunTable",
    "StepRecord",
    "StepStatus",
    "StepTable",
    "WorkflowStatus",
)


class WorkflowStatus(enum.StrEnum):
    """Status of a persisted run."""

    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


class StepStatus(enum.StrEnum):
    """Status of one persisted node execution."""

    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def from_timestamp(value: float | None) -> datetime | None:
    """An aware UTC datetime from Unix seconds (None stays None)."""
    return None if value is None else datetime.fromtimestamp(value, UTC)


@final
@dataclass
class Run:
    """One persisted workflow, batch parent, batch item or nested-graph execution."""

    id: str
    status: WorkflowStatus
    graph_name: str = ""
    duration_ms: float | None = None
    node_count: int = 0
    error_count: int = 0
    parent_run_id: str | None = None
    forked_from: str | None = None
    fork_superstep: int | None = None
    retry_of: str | None = None
    retry_index: int | None = None
    config: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    completed_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view: status as its string, datetimes as ISO-8601."""
        return {
            "id": self.id,
            "status": str(self.status),
            "graph_name": self.graph_name,
            "duration_ms": self.duration_ms,
            "node_count": self.node_count,
            "error_count": self.error_count,
            "parent_run_id": self.parent_run_id,
            "forked_from": self.forked_from,
            "fork_superstep": self.fork_superstep,
            "retry_of": self.retry_of,
            "retry_index": self.retry_index,
            "config": self.config,
            "created_at": _iso(self.created_at),
            "completed_at": _iso(self.completed_at),
        }


@final
@dataclass(frozen=True)
class StepRecord:
    """One node execution in one superstep of a persisted run."""

    run_id: str
    superstep: int
    node_name: str
    index: int
    status: StepStatus
    input_versions: dict[str, int] = field(default_factory=dict)
    values: dict[str, Any] | None = None
    duration_ms: float = 0.0
    cached: bool = False
    decision: str | list[str] | None = None
    error: str | None = None
    error_type: str | None = None
    node_type: str = "FunctionNode"
    created_at: datetime | None = None
    completed_at: datetime | None = None
    child_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (enums as strings, datetimes as ISO-8601)."""
        return {
            "run_id": self.run_id,
            "superstep": self.superstep,
            "node_name": self.node_name,
            "index": self.index,
            "status": str(self.status),
            "input_versions": dict(self.input_versions),
            "values": self.values,
            "duration_ms": self.duration_ms,
            "cached": self.cached,
            "decision": self.decision,
            "error": self.error,
            "error_type": self.error_type,
            "node_type": self.node_type,
            "created_at": _iso(self.created_at),
            "completed_at": _iso(self.completed_at),
            "child_run_id": self.child_run_id,
        }


@final
@dataclass
class Checkpoint:
    """A snapshot to fork from: state values plus the steps that produced them."""

    values: dict[str, Any]
    steps: list[StepRecord]
    source_run_id: str | None = None
    source_superstep: int | None = None
    retry_of: str | None = None
    retry_index: int | None = None

    def __repr__(self) -> str:
        where = self.source_run_id or "?"
        if self.source_superstep is not None:
            where += f"@{self.source_superstep}"
        return (
            f"Checkpoint from {where}: {len(self.values)} values, "
            f"{len(self.steps)} steps"
        )


_DURABILITY = ("sync", "async", "exit")
_RETENTION = ("full", "latest", "windowed")


@final
@dataclass
class CheckpointPolicy:
    """How and how much a checkpointer persists.

    Args:
        durability: ``"sync"`` (commit each superstep), ``"async"`` (background
            writer, flushed before the call returns) or ``"exit"`` (write once
            when the run ends).
        retention: ``"full"``, ``"latest"`` (newest step per node) or
            ``"windowed"`` (the last ``window`` supersteps).
        window: Supersteps kept with ``retention="windowed"``.
        ttl: Delete finished top-level runs older than this when the
            checkpointer initializes.

    Raises:
        ValueError: an inconsistent combination.
    """

    durability: str = "async"
    retention: str = "full"
    window: int | None = None
    ttl: timedelta | None = None

    def __post_init__(self) -> None:
        if self.durability not in _DURABILITY:
            raise ValueError(
                f"durability must be one of {_DURABILITY}, got {self.durability!r}."
                "\n\nHow to fix: durability='async' (the default) unless every "
                "superstep must be on disk before the next ('sync')."
            )
        if self.retention not in _RETENTION:
            raise ValueError(
                f"retention must be one of {_RETENTION}, got {self.retention!r}."
                "\n\nHow to fix: retention='full' (the default) keeps every step; "
                "'latest' keeps only the newest state."
            )
        if self.durability == "exit" and self.retention != "latest":
            raise ValueError(
                "durability='exit' writes only the final state, so it needs "
                "retention='latest'.\n\nHow to fix: CheckpointPolicy(durability="
                "'exit', retention='latest')."
            )
        if self.retention == "windowed" and self.window is None:
            raise ValueError(
                "retention='windowed' needs window=<number of supersteps to keep>."
                "\n\nHow to fix: CheckpointPolicy(retention='windowed', window=10)."
            )
        if self.window is not None:
            if isinstance(self.window, bool) or not isinstance(self.window, int):
                raise ValueError(
                    f"window must be a positive int, got {self.window!r}.\n\n"
                    "How to fix: window=10 keeps the last ten supersteps."
                )
            if self.window < 1:
                raise ValueError(
                    f"window must be a positive int, got {self.window!r}.\n\n"
                    "How to fix: window=10 keeps the last ten supersteps."
                )
            if self.retention != "windowed":
                raise ValueError(
                    "window is only used with retention='windowed'.\n\nHow to fix: "
                    "drop window=..., or set retention='windowed'."
                )
        if self.ttl is not None and not isinstance(self.ttl, timedelta):
            raise TypeError(
                f"ttl must be a datetime.timedelta, got {self.ttl!r}.\n\n"
                "How to fix: ttl=timedelta(days=7)."
            )
        if self.ttl is not None and self.ttl <= timedelta(0):
            raise ValueError(
                f"ttl must be a positive timedelta, got {self.ttl!r}.\n\n"
                "How to fix: ttl=timedelta(days=7), or ttl=None to keep runs."
            )


def _html(headers: list[str], rows: list[list[Any]]) -> str:
    from html import escape

    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@final
class RunTable(list[Run]):
    """A list of runs whose repr is a readable table."""

    def _repr_html_(self) -> str:
        """An HTML table for notebooks."""
        return _html(
            ["ID", "Graph", "Status", "Steps", "Duration (ms)", "Created"],
            [
                [
                    r.id,
                    r.graph_name,
                    r.status,
                    r.node_count,
                    r.duration_ms,
                    r.created_at,
                ]
                for r in self
            ],
        )

    def __repr__(self) -> str:
        if not self:
            return "RunTable: (empty)"
        lines = [f"RunTable: {len(self)} run{'s' * (len(self) != 1)}"]
        for run in self:
            duration = "—" if run.duration_ms is None else f"{run.duration_ms:.0f}ms"
            lines.append(
                f"  {run.id} | {run.graph_name or 'unnamed'} | {run.status} | "
                f"{run.node_count} steps | {duration}"
            )
        return "\n".join(lines)


@final
class StepTable(list[StepRecord]):
    """A list of step records whose repr is a readable table."""

    def _repr_html_(self) -> str:
        """An HTML table for notebooks."""
        return _html(
            ["#", "Node", "Superstep", "Status", "Duration (ms)", "Error"],
            [
                [
                    s.index,
                    s.node_name,
                    s.superstep,
                    s.status,
                    s.duration_ms,
                    s.error or "",
                ]
                for s in self
            ],
        )

    def __repr__(self) -> str:
        if not self:
            return "StepTable: (empty)"
        lines = [f"StepTable: {len(self)} step{'s' * (len(self) != 1)}"]
        for step in self:
            extra = f" | error: {step.error[:60]}" if step.error else ""
            lines.append(
                f"  [{step.index}] {step.node_name} | superstep {step.superstep} | "
                f"{step.status} | {step.duration_ms:.0f}ms{extra}"
            )
        return "\n".join(lines)
