"""Public durability API: checkpointers, policy, serializers, records (spec 04)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from hypergraph._checkpoint._lineage import LineageRow, LineageView
from hypergraph._checkpoint._memory import MemoryCheckpointer
from hypergraph._checkpoint._serializers import (
    JsonSerializer,
    MsgpackSerializer,
    PickleSerializer,
    Serializer,
)
from hypergraph._checkpoint._sqlite import DEFAULT_DB_PATH, SqliteCheckpointer
from hypergraph._checkpoint._store import Checkpointer
from hypergraph._checkpoint._types import (
    Checkpoint,
    CheckpointPolicy,
    Run,
    RunTable,
    StepRecord,
    StepStatus,
    StepTable,
    WorkflowStatus,
)

__all__ = (
    "DEFAULT_DB_PATH",
    "Checkpoint",
    "CheckpointPolicy",
    "Checkpointer",
    "JsonSerializer",
    "LineageRow",
    "LineageView",
    "MemoryCheckpointer",
    "MsgpackSerializer",
    "PickleSerializer",
    "Run",
    "RunInspector",
    "RunTable",
    "Serializer",
    "SqliteCheckpointer",
    "SqliteRunInspector",
    "StepRecord",
    "StepStatus",
    "StepTable",
    "SyncCheckpointerProtocol",
    "WorkflowStatus",
)


@runtime_checkable
class SyncCheckpointerProtocol(Protocol):
    """The older blocking write protocol (kept for compatibility, spec 04 D12)."""

    def runs(self, *args: object, **kwargs: object) -> RunTable:
        """List runs."""
        ...

    def get_run(self, run_id: str) -> Run | None:
        """One run, or None."""
        ...


@runtime_checkable
class RunInspector(Protocol):
    """Backend-neutral read access used by the CLI (the sync query column)."""

    @property
    def db_path(self) -> str:
        """Where the data lives."""
        ...

    def runs(self, *args: object, **kwargs: object) -> RunTable:
        """List runs."""
        ...

    def get_run(self, run_id: str) -> Run | None:
        """One run, or None."""
        ...

    def steps(self, run_id: str, *, superstep: int | None = None) -> StepTable:
        """A run's steps."""
        ...


class SqliteRunInspector:
    """Read-only view of a SQLite checkpoint database (what the CLI uses)."""

    def __init__(self, checkpointer: SqliteCheckpointer) -> None:
        self.checkpointer = checkpointer

    def __getattr__(self, name: str) -> object:
        # Only the read column is exposed; writes stay on the checkpointer.
        if name in _READS:
            return getattr(self.checkpointer, name)
        raise AttributeError(name)


_READS = frozenset(
    {
        "db_path",
        "runs",
        "get_run",
        "state",
        "values",
        "inputs",
        "steps",
        "checkpoint",
        "stats",
        "search",
        "lineage",
    }
)
