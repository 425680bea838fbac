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
    """The older blocking write protocol (kept for compatibility, spec 04 D12).

    Runners do not need it (they drive any ``Checkpointer`` through the async
    core); ``SqliteCheckpointer`` still implements it.
    """

    def create_run_sync(self, run_id: str, **fields: object) -> Run:
        """Upsert a run as ACTIVE."""
        ...

    def save_step_sync(self, record: StepRecord) -> None:
        """Insert or replace a step."""
        ...

    def update_run_status_sync(
        self, run_id: str, status: WorkflowStatus | str, **stats: object
    ) -> None:
        """Set a run's status."""
        ...

    def fork_workflow(
        self,
        source: str,
        *,
        workflow_id: str | None = None,
        superstep: int | None = None,
    ) -> tuple[str, Checkpoint]:
        """A new id and a checkpoint to fork from."""
        ...

    def retry_workflow(
        self,
        source: str,
        *,
        workflow_id: str | None = None,
        superstep: int | None = None,
    ) -> tuple[str, Checkpoint]:
        """A new id and a checkpoint with retry lineage."""
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
        raise AttributeError(
            f"SqliteRunInspector is read-only and has no {name!r}. It reads: "
            f"{', '.join(sorted(_READS))}.\n\nHow to fix: call {name} on the "
            "SqliteCheckpointer itself (inspector.checkpointer)."
        )


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
