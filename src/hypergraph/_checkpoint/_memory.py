"""``MemoryCheckpointer``: an in-process store with the same read API as SQLite."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import msgspec

from hypergraph._checkpoint._reads import SyncReads
from hypergraph._checkpoint._serializers import encode_values
from hypergraph._checkpoint._store import (
    UNSET,
    Checkpointer,
    filter_runs,
    now,
    status_of,
)
from hypergraph._checkpoint._types import (
    Run,
    RunTable,
    StepRecord,
    StepTable,
    WorkflowStatus,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from hypergraph._checkpoint._serializers import Serializer
    from hypergraph._checkpoint._types import CheckpointPolicy

__all__ = ("MemoryCheckpointer",)

P = ParamSpec("P")
T = TypeVar("T")
_FINISHED = (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED)
_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True)
class _StoredStep:
    record: StepRecord  # values stripped; they live encoded next to it
    encoded: bytes | None
    seq: int  # insertion order, the last tie-breaker of execution order


@dataclass(slots=True)
class _StoredRun:
    run: Run
    inputs: bytes | None


def _seconds(moment: datetime | None) -> float:
    if moment is None:
        return float("-inf")  # SQLite sorts NULL first; so do we
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _awaitable(
    read: Callable[Concatenate[Any, P], T], name: str
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The async twin of a sync read: one body, no thread hop (reads never block)."""

    @functools.wraps(read)
    async def twin(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return read(self, *args, **kwargs)

    twin.__name__ = name
    twin.__qualname__ = f"MemoryCheckpointer.{name}"
    twin.__doc__ = f"Async :meth:`{read.__name__}`."
    return twin


def _copy(run: Run) -> Run:
    # Configs come back JSON-shaped from SQLite; match that, and detach the copy.
    config = None if run.config is None else _json_decode(_json_encode(run.config))
    return replace(run, config=config)


class MemoryCheckpointer(SyncReads, Checkpointer):
    """Keep runs and steps in memory (for tests; nothing survives the process).

    Values and inputs are stored encoded with the serializer, so they read back
    exactly as they would from ``SqliteCheckpointer`` (JSON-shaped by default).
    Every step is kept: the policy's ``retention`` and ``ttl`` are not applied.

    Args:
        policy: The engine's durability mode (``CheckpointPolicy()`` by default).
        serializer: How values are encoded (``JsonSerializer()`` by default).

    Example:
        >>> cp = MemoryCheckpointer()
        >>> cp.runs()
        RunTable: (empty)
    """

    def __init__(
        self,
        policy: CheckpointPolicy | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        super().__init__(policy, serializer)
        # Sync readers may run on other threads; every critical section is a few
        # dict operations, so the event loop never waits on it for long.
        self._lock = threading.Lock()
        self._runs: dict[str, _StoredRun] = {}
        self._steps: dict[str, dict[tuple[int, str], _StoredStep]] = {}
        self._seq = 0

    # -- writes ----------------------------------------------------------------------
    async def save_step(self, record: StepRecord) -> None:
        """Insert or replace a step (identity: run_id, superstep, node_name; D4)."""
        encoded = (
            None if record.values is None else self.serializer.serialize(record.values)
        )
        key = (record.superstep, record.node_name)
        with self._lock:
            self._seq += 1
            steps = self._steps.setdefault(record.run_id, {})
            # Re-inserting moves a replaced step to the end, like SQLite's REPLACE.
            steps.pop(key, None)
            steps[key] = _StoredStep(replace(record, values=None), encoded, self._seq)

    async def create_run(
        self,
        run_id: str,
        *,
        graph_name: str | None = None,
        parent_run_id: str | None = None,
        forked_from: str | None = None,
        fork_superstep: int | None = None,
        retry_of: str | None = None,
        retry_index: int | None = None,
        config: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> Run:
        """Upsert a run as ACTIVE (D8); ``created_at`` survives an upsert."""
        encoded = (
            None
            if inputs is None
            else encode_values(self.serializer, inputs, run_id, None)
        )
        with self._lock:
            old = self._runs.get(run_id)
            run = Run(
                id=run_id,
                status=WorkflowStatus.ACTIVE,
                graph_name=graph_name or "",
                node_count=0,
                parent_run_id=parent_run_id,
                forked_from=forked_from,
                fork_superstep=fork_superstep,
                retry_of=retry_of,
                retry_index=retry_index,
                config=config,
                created_at=now() if old is None else old.run.created_at,
            )
            run = _copy(run)  # detach the stored config from the caller's dict
            self._runs[run_id] = _StoredRun(run, encoded)
            return _copy(run)

    async def update_run_status(
        self,
        run_id: str,
        status: WorkflowStatus | str,
        *,
        duration_ms: float | None = None,
        node_count: int | None = None,
        error_count: int | None = None,
    ) -> None:
        """Set a run's status; only the given stats change (D9)."""
        wanted = status_of(status)
        with self._lock:
            stored = self._runs.get(run_id)
            if stored is None:
                return
            run = stored.run
            run.status = wanted
            run.completed_at = now() if wanted in _FINISHED else None
            if duration_ms is not None:
                run.duration_ms = duration_ms
            if error_count is not None:
                run.error_count = error_count
            run.node_count = (
                len(self._steps.get(run_id, {})) if node_count is None else node_count
            )

    async def delete_run(self, run_id: str, *, recursive: bool = True) -> None:
        """Delete a run with its steps (and its descendants when ``recursive``)."""
        with self._lock:
            self._drop(run_id, keep_row=False, recursive=recursive)

    async def _reset_run(self, run_id: str) -> None:
        with self._lock:
            self._drop(run_id, keep_row=True, recursive=True)

    def _drop(self, run_id: str, *, keep_row: bool, recursive: bool) -> None:
        """Delete a run's steps, its row unless kept, and its descendants (locked)."""
        doomed = {run_id}
        if recursive:
            below = run_id + "/"
            doomed |= {
                rid for rid in [*self._runs, *self._steps] if rid.startswith(below)
            }
        for rid in doomed:
            self._steps.pop(rid, None)
            if rid != run_id or not keep_row:
                self._runs.pop(rid, None)

    async def close(self) -> None:
        """Nothing to release."""

    # -- sync reads (D50); the async column at the end wraps these ------------------
    def runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        since: datetime | None = None,
        parent_run_id: Any = UNSET,
        limit: int | None = 100,
    ) -> RunTable:
        """Runs, newest first (D51 filters)."""
        with self._lock:
            # Newest insertion first: created_at ties then match SQLite's rowid DESC.
            runs = [_copy(s.run) for s in reversed(self._runs.values())]
        return filter_runs(
            runs,
            status=status,
            graph_name=graph_name,
            since=since,
            parent_run_id=parent_run_id,
            limit=limit,
        )

    def get_run(self, run_id: str) -> Run | None:
        """The run record, or None."""
        with self._lock:
            stored = self._runs.get(run_id)
            return None if stored is None else _copy(stored.run)

    def steps(self, run_id: str, *, superstep: int | None = None) -> StepTable:
        """Steps in execution order (optionally up to a superstep)."""
        with self._lock:
            stored = list(self._steps.get(run_id, {}).values())
        if superstep is not None:
            stored = [s for s in stored if s.record.superstep <= superstep]
        stored.sort(
            key=lambda s: (
                s.record.index,
                _seconds(s.record.completed_at),
                _seconds(s.record.created_at),
                s.seq,
            )
        )
        decode = self.serializer.deserialize
        return StepTable(
            replace(s.record, values=None if s.encoded is None else decode(s.encoded))
            for s in stored
        )

    def inputs(self, run_id: str) -> dict[str, Any]:
        """The run's persisted inputs (D6)."""
        with self._lock:
            stored = self._runs.get(run_id)
            encoded = None if stored is None else stored.inputs
        if encoded is None:
            return {}
        decoded: dict[str, Any] = self.serializer.deserialize(encoded)
        return decoded

    def search(
        self, query: str, *, field: str | None = None, limit: int = 20
    ) -> StepTable:
        """No search in memory: always empty (D53); ``field`` is still checked."""
        if field not in (None, "node_name", "error"):
            raise ValueError(
                f"Invalid search field: {field!r}. Use 'node_name' or 'error'."
            )
        return StepTable()

    # -- async column: the same reads, awaitable ---------------------------------------
    list_runs = _awaitable(runs, "list_runs")
    get_run_async = _awaitable(get_run, "get_run_async")
    get_steps = _awaitable(steps, "get_steps")
    get_state = _awaitable(SyncReads.state, "get_state")
    get_values = _awaitable(SyncReads.values, "get_values")
    get_inputs = _awaitable(inputs, "get_inputs")
    get_checkpoint = _awaitable(SyncReads.checkpoint, "get_checkpoint")
    get_stats = _awaitable(SyncReads.stats, "get_stats")
    search_async = _awaitable(search, "search_async")
    get_lineage = _awaitable(SyncReads.lineage, "get_lineage")
    fork_workflow_async = _awaitable(SyncReads.fork_workflow, "fork_workflow_async")
    retry_workflow_async = _awaitable(SyncReads.retry_workflow, "retry_workflow_async")

    def __repr__(self) -> str:
        with self._lock:
            run_count = len(self._runs)
            step_count = sum(len(steps) for steps in self._steps.values())
        return f"MemoryCheckpointer: {run_count} runs | {step_count} steps"
