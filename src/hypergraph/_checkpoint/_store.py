"""The ``Checkpointer`` seam (spec 04 D11) and the session the engine writes through.

A checkpointer is async and safe for concurrent use. The engine never calls it
record by record on the hot path: each top-level call opens one ``Session``
(``checkpointer.session()``), queues step records on it, and awaits only what
must be durable before going on (a run's status). ``SqliteCheckpointer`` turns
that into group commits; the default session simply forwards to the abstract
methods, so any conforming checkpointer works.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import anyio

from hypergraph._checkpoint._serializers import JsonSerializer, Serializer
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

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hypergraph._checkpoint._lineage import LineageView

__all__ = ("UNSET", "Checkpointer", "Session", "fold_state")


class _Unset:
    __repr__ = lambda self: "UNSET"  # noqa: E731


UNSET: Final[Any] = _Unset()


def fold_state(steps: list[StepRecord], superstep: int | None = None) -> dict[str, Any]:
    """A run's state: its steps' values folded in execution order (D5)."""
    state: dict[str, Any] = {}
    for step in steps:
        if superstep is not None and step.superstep > superstep:
            continue
        if step.values:
            state.update(step.values)
    return state


class Session:
    """What the engine writes during one top-level call.

    The default forwards every operation to the checkpointer's async methods;
    ``SqliteCheckpointer`` replaces it with a group-commit writer.
    """

    def __init__(self, checkpointer: Checkpointer) -> None:
        self.checkpointer = checkpointer
        self._pending_creates: deque[tuple[str, dict[str, Any]]] = deque()
        self._pending_resets: deque[str] = deque()
        self._pending_steps: deque[StepRecord] = deque()
        self._pending_ends: deque[tuple[str, WorkflowStatus, dict[str, Any]]] = deque()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Shielded: a cancelled call still writes what finished (D10).
        with anyio.CancelScope(shield=True):
            await self.flush()

    async def create_run(self, run_id: str, **fields: Any) -> Run:
        """Upsert a run record (durable before returning)."""
        await self.flush()
        return await self.checkpointer.create_run(run_id, **fields)

    def queue_create(self, run_id: str, **fields: Any) -> None:
        """Upsert a run (a batch item or nested run) with the next flush."""
        self._pending_creates.append((run_id, fields))

    def queue_step(self, record: StepRecord, encoded: bytes | None) -> None:
        """Persist a step (durable by the next flush)."""
        self._pending_steps.append(record)

    async def update_run(
        self, run_id: str, status: WorkflowStatus, **stats: Any
    ) -> None:
        """Record a run's status (durable before returning, after queued steps)."""
        await self.flush()
        await self.checkpointer.update_run_status(run_id, status, **stats)

    def queue_run_end(self, run_id: str, status: WorkflowStatus, **stats: Any) -> None:
        """Record a batch item's end; durable at the next flush (group commit)."""
        self._pending_ends.append((run_id, status, stats))

    def queue_reset(self, run_id: str) -> None:
        """Delete a run's steps and descendants (keeping its row) at the next flush."""
        self._pending_resets.append(run_id)

    async def flush(self) -> None:
        """Make everything queued so far durable.

        Each record leaves its queue only once written: if a write fails, it
        and everything after it stay queued for the next flush.
        """
        checkpointer = self.checkpointer
        while self._pending_resets:
            await checkpointer._reset_run(self._pending_resets[0])
            self._pending_resets.popleft()
        while self._pending_creates:
            run_id, fields = self._pending_creates[0]
            await checkpointer.create_run(run_id, **fields)
            self._pending_creates.popleft()
        while self._pending_steps:
            await checkpointer.save_step(self._pending_steps[0])
            self._pending_steps.popleft()
        while self._pending_ends:
            run_id, status, stats = self._pending_ends[0]
            await checkpointer.update_run_status(run_id, status, **stats)
            self._pending_ends.popleft()

    async def writer(self) -> None:
        """Background writer for batches (the default session needs none)."""

    def wake(self) -> None:
        """Tell the background writer that records are waiting."""

    @property
    def backlogged(self) -> bool:
        """Whether producers should wait for a commit (never, by default)."""
        return False

    async def stop_writer(self) -> None:
        """Flush and let :meth:`writer` return."""
        await self.flush()


class Checkpointer(ABC):
    """Abstract async store of runs and their steps (spec 04 D11).

    Implementations must be safe for concurrent use by many tasks and must not
    bind connections to one event loop.
    """

    def __init__(
        self,
        policy: CheckpointPolicy | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        self.policy = policy or CheckpointPolicy()
        self.serializer = serializer or JsonSerializer()

    # -- abstract core --------------------------------------------------------------
    @abstractmethod
    async def save_step(self, record: StepRecord) -> None:
        """Insert or replace a step (identity: run_id, superstep, node_name)."""

    @abstractmethod
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
        """Upsert a run as ACTIVE (D8)."""

    @abstractmethod
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

    @abstractmethod
    async def get_state(
        self, run_id: str, *, superstep: int | None = None
    ) -> dict[str, Any]:
        """The run's state (D5)."""

    @abstractmethod
    async def get_steps(
        self, run_id: str, *, superstep: int | None = None
    ) -> StepTable:
        """The run's steps in execution order."""

    @abstractmethod
    async def get_run_async(self, run_id: str) -> Run | None:
        """The run record, or None."""

    @abstractmethod
    async def list_runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        since: datetime | None = None,
        parent_run_id: Any = UNSET,
        limit: int | None = 100,
    ) -> RunTable:
        """Runs, newest first (D51 filters)."""

    # -- with defaults --------------------------------------------------------------
    async def get_inputs(self, run_id: str) -> dict[str, Any]:
        """The run's persisted inputs (D6)."""
        return {}

    async def get_values(
        self, run_id: str, *, key: str | None = None
    ) -> dict[str, Any]:
        """The run's state, or ``{key: value}`` (``{}`` when absent)."""
        state = await self.get_state(run_id)
        if key is None:
            return state
        return {key: state[key]} if key in state else {}

    async def get_checkpoint(
        self, run_id: str, *, superstep: int | None = None
    ) -> Checkpoint:
        """A snapshot of ``run_id`` to fork from."""
        from hypergraph._checkpoint._reads import snapshot

        return snapshot(
            run_id, await self.get_steps(run_id, superstep=superstep), superstep
        )

    async def fork_workflow_async(
        self,
        source: str,
        *,
        workflow_id: str | None = None,
        superstep: int | None = None,
    ) -> tuple[str, Checkpoint]:
        """A new id and a checkpoint of ``source`` to fork from.

        Raises:
            ValueError: ``source`` does not exist.
        """
        from hypergraph._checkpoint._reads import fork_id

        await self._require(source)
        checkpoint = await self.get_checkpoint(source, superstep=superstep)
        return fork_id(source, workflow_id), checkpoint

    async def retry_workflow_async(
        self,
        source: str,
        *,
        workflow_id: str | None = None,
        superstep: int | None = None,
    ) -> tuple[str, Checkpoint]:
        """A new id and a checkpoint of ``source`` carrying retry lineage.

        Raises:
            ValueError: ``source`` does not exist.
        """
        from hypergraph._checkpoint._reads import retry_of

        await self._require(source)
        checkpoint = await self.get_checkpoint(source, superstep=superstep)
        return retry_of(
            source, await self.list_runs(limit=None), checkpoint, workflow_id
        )

    async def search_async(
        self, query: str, *, field: str | None = None, limit: int = 20
    ) -> StepTable:
        """Steps matching ``query`` (no search by default)."""
        return StepTable()

    async def delete_run(self, run_id: str, *, recursive: bool = True) -> None:
        """Delete a run (and its descendants). Not supported by default."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete runs")

    async def child_states(self, parent_run_id: str) -> dict[str, dict[str, Any]]:
        """The state of every direct child of a run, keyed by child id."""
        children = await self.list_runs(parent_run_id=parent_run_id, limit=None)
        return {run.id: await self.get_state(run.id) for run in children}

    async def get_stats(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Per-node statistics of a run (D52)."""
        return node_stats(await self.get_steps(run_id))

    async def get_lineage(
        self, workflow_id: str, *, include_steps: bool = True, max_runs: int = 200
    ) -> LineageView:
        """The fork/retry family of ``workflow_id`` (D54)."""
        from hypergraph._checkpoint._lineage import build_lineage

        return await build_lineage(
            self, workflow_id, include_steps=include_steps, max_runs=max_runs
        )

    async def initialize(self) -> None:  # noqa: B027 - optional hook, no-op default
        """Prepare storage (optional; done lazily)."""

    async def close(self) -> None:  # noqa: B027 - optional hook, no-op default
        """Release resources (optional)."""

    def session(self) -> Session:
        """The writer the engine uses for one top-level call."""
        return Session(self)

    async def _reset_run(self, run_id: str) -> None:
        """Delete a run's steps and descendants, keeping its row."""
        raise NotImplementedError(f"{type(self).__name__} cannot reset runs")

    async def _require(self, run_id: str) -> Run:
        from hypergraph._checkpoint._reads import unknown_source

        run = await self.get_run_async(run_id)
        if run is None:
            raise unknown_source(run_id)
        return run


def node_stats(steps: list[StepRecord]) -> dict[str, dict[str, Any]]:
    """Per-node totals, averages and error counts, slowest first (D52)."""
    stats: dict[str, dict[str, Any]] = {}
    for step in steps:
        row = stats.setdefault(
            step.node_name,
            {
                "node_type": step.node_type,
                "steps": 0,
                "total_ms": 0.0,
                "avg_ms": 0.0,
                "max_ms": 0.0,
                "errors": 0,
                "cache_hits": 0,
            },
        )
        row["steps"] += 1
        row["total_ms"] += step.duration_ms
        row["max_ms"] = max(row["max_ms"], step.duration_ms)
        row["errors"] += step.status is StepStatus.FAILED
        row["cache_hits"] += step.cached
    for row in stats.values():
        row["total_ms"] = round(row["total_ms"], 3)
        row["avg_ms"] = round(row["total_ms"] / row["steps"], 3)
    return dict(sorted(stats.items(), key=lambda kv: kv[1]["total_ms"], reverse=True))


def status_of(value: WorkflowStatus | str) -> WorkflowStatus:
    """Accept an enum or its string.

    Raises:
        ValueError: an unknown status.
    """
    try:
        return WorkflowStatus(value)
    except ValueError:
        options = ", ".join(s.value for s in WorkflowStatus)
        raise ValueError(f"Unknown status {value!r}. Use: {options}") from None


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def filter_runs(
    runs: list[Run],
    *,
    status: WorkflowStatus | str | None,
    graph_name: str | None,
    since: datetime | None,
    parent_run_id: Any,
    limit: int | None,
) -> RunTable:
    """Apply the D51 filters to a list of runs (used by in-memory stores)."""
    wanted = None if status is None else status_of(status)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    out = [
        run
        for run in runs
        if (wanted is None or run.status is wanted)
        and (graph_name is None or run.graph_name == graph_name)
        and (since is None or run.created_at >= since)
        and (parent_run_id is UNSET or run.parent_run_id == parent_run_id)
    ]
    out.sort(key=lambda run: run.created_at, reverse=True)
    return RunTable(out if limit is None else out[:limit])


_KNOWN_CONFIG: Final = ("graph_struct_hash", "graph_code_hash")


def config_matches(stored: Mapping[str, Any] | None, key: str, value: str) -> bool:
    """Whether a stored run config has ``key == value``."""
    return stored is not None and stored.get(key) == value
