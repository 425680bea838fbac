"""``SqliteSession``: one aiosqlite connection per call, committing in groups."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Final

import anyio

from hypergraph._checkpoint import _sql
from hypergraph._checkpoint._serializers import encode_values
from hypergraph._checkpoint._store import Session, now
from hypergraph._checkpoint._types import (
    Run,
    StepRecord,
    WorkflowStatus,
    from_timestamp,
)
from hypergraph._logging import CHECKPOINT_SAVE_FAILED, get_logger

if TYPE_CHECKING:
    import aiosqlite

    from hypergraph._checkpoint._sqlite import SqliteCheckpointer

__all__ = ("SqliteSession", "delete_tree")

_logger = get_logger("hypergraph.checkpoint")
_FLUSH_EVERY: Final = 256  # queued records that make a batch start a group commit
_FLUSH_AFTER_S: Final = 0.05  # ... or this long since the last commit started
# Above this many queued records items wait for the writer: it bounds how much
# finished work a hard kill can lose to a few hundred items.
_BACKLOG_LIMIT: Final = 2_048


async def delete_tree(
    conn: aiosqlite.Connection, run_id: str, *, keep_row: bool
) -> None:
    """Delete a run's steps and every descendant run (ids ``<run_id>/...``)."""
    # Descendants are the ids in ['<id>/', '<id>0'): '0' sorts right after '/'.
    # A range compares exactly (LIKE would ignore case: 'Batch' is not 'batch')
    # and uses the primary-key index.
    low, high = run_id + "/", run_id + "0"
    await conn.execute(
        "DELETE FROM steps WHERE run_id = ? OR (run_id >= ? AND run_id < ?)",
        (run_id, low, high),
    )
    await conn.execute("DELETE FROM runs WHERE id >= ? AND id < ?", (low, high))
    if not keep_row:
        await conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))


class SqliteSession(Session):
    """One connection and one queue per top-level call; commits in groups.

    Queued writes keep their order: resets, then run upserts, then steps, then
    run ends, each group in one transaction. ``flush()`` returns once everything
    queued before it is committed; concurrent callers share one commit.
    """

    def __init__(self, checkpointer: SqliteCheckpointer) -> None:
        super().__init__(checkpointer)
        self.sqlite = checkpointer
        self.conn: aiosqlite.Connection | None = None
        self._resets: list[str] = []
        self._creates: list[tuple[Any, ...]] = []
        self._step_rows: list[tuple[Any, ...]] = []
        self._end_rows: list[tuple[Any, ...]] = []
        self._touched: set[str] = set()
        self._lock: asyncio.Lock | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._last_commit = time.monotonic()

    async def __aenter__(self) -> SqliteSession:
        self.conn = await self.sqlite._open_async()
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Shielded: a cancelled call still commits what finished and closes its
        # connection, whose thread would otherwise outlive the call (D10, D-9).
        with anyio.CancelScope(shield=True):
            try:
                await self.flush()
            finally:
                if self.conn is not None:
                    await self.conn.close()
                    self.conn = None

    @property
    def queued(self) -> int:
        """Writes waiting for the next commit."""
        return (
            len(self._resets)
            + len(self._creates)
            + len(self._step_rows)
            + len(self._end_rows)
        )

    async def create_run(self, run_id: str, **fields: Any) -> Run:
        """Upsert a run as ACTIVE and commit it before returning."""
        created = now()
        self._creates.append(self._create_row(run_id, fields, created.timestamp()))
        await self.flush()
        # An upsert keeps the first created_at (D8): report the stored one.
        stored = await self.fetch("SELECT created_at FROM runs WHERE id = ?", (run_id,))
        if stored and stored[0][0] is not None:
            created = from_timestamp(stored[0][0]) or created
        return Run(
            id=run_id,
            status=WorkflowStatus.ACTIVE,
            graph_name=fields.get("graph_name") or "",
            parent_run_id=fields.get("parent_run_id"),
            forked_from=fields.get("forked_from"),
            fork_superstep=fields.get("fork_superstep"),
            retry_of=fields.get("retry_of"),
            retry_index=fields.get("retry_index"),
            config=fields.get("config"),
            created_at=created,
        )

    def queue_create(self, run_id: str, **fields: Any) -> None:
        """Queue a run upsert (batch items: durable with their group)."""
        self._creates.append(self._create_row(run_id, fields, now().timestamp()))

    def _create_row(
        self, run_id: str, fields: dict[str, Any], created: float
    ) -> tuple[Any, ...]:
        inputs = fields.get("inputs")
        encoded = (
            None
            if inputs is None
            else encode_values(self.sqlite.serializer, inputs, run_id, None)
        )
        return (
            run_id,
            fields.get("graph_name") or "",
            fields.get("parent_run_id"),
            fields.get("forked_from"),
            fields.get("fork_superstep"),
            fields.get("retry_of"),
            fields.get("retry_index"),
            _sql.encode_json(fields.get("config")),
            encoded,
            created,
        )

    def queue_step(self, record: StepRecord, encoded: bytes | None) -> None:
        """Queue a step; committed with the next group."""
        self._step_rows.append(_sql.step_row(record, encoded))
        self._touched.add(record.run_id)

    def _end_row(
        self, run_id: str, status: WorkflowStatus, stats: dict[str, Any]
    ) -> None:
        finished = status in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED)
        self._end_rows.append(
            (
                str(status),
                stats.get("duration_ms"),
                stats.get("error_count"),
                stats.get("node_count"),
                now().timestamp() if finished else None,
                run_id,
            )
        )

    async def update_run(
        self, run_id: str, status: WorkflowStatus, **stats: Any
    ) -> None:
        """Record a run's status; committed (with everything before it) on return."""
        self._end_row(run_id, status, stats)
        await self.flush()

    def queue_run_end(self, run_id: str, status: WorkflowStatus, **stats: Any) -> None:
        """Queue a batch item's end; committed with the next group."""
        self._end_row(run_id, status, stats)

    def queue_reset(self, run_id: str) -> None:
        """Clear a child run's steps and descendants before it is re-executed."""
        self._resets.append(run_id)

    async def flush(self) -> None:
        """Commit everything queued so far (concurrent callers share the commit)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._write_group()

    async def _write_group(self) -> None:
        if not self.queued:
            return
        conn = self.conn
        assert conn is not None, "SqliteSession used outside 'async with'"
        self._last_commit = time.monotonic()
        resets, self._resets = self._resets, []
        creates, self._creates = self._creates, []
        steps, self._step_rows = self._step_rows, []
        ends, self._end_rows = self._end_rows, []
        touched, self._touched = self._touched, set()
        try:
            for run_id in resets:
                await delete_tree(conn, run_id, keep_row=True)
            if creates:
                await conn.executemany(_sql.UPSERT_RUN, creates)
            if steps:
                await conn.executemany(_sql.SAVE_STEP, steps)
                await self._retain(conn, touched)
            if ends:
                await conn.executemany(_sql.END_RUN, ends)
            await conn.commit()
        except BaseException:
            # Nothing of this group was committed: put it back in front of
            # whatever was queued meanwhile, so a later commit can retry it.
            # Put back first: under cancellation the rollback's await is itself
            # cancelled, and the rows must not be lost with it.
            self._resets[:0] = resets
            self._creates[:0] = creates
            self._step_rows[:0] = steps
            self._end_rows[:0] = ends
            self._touched |= touched
            with contextlib.suppress(Exception), anyio.CancelScope(shield=True):
                await conn.rollback()
            raise

    async def _retain(self, conn: aiosqlite.Connection, runs: set[str]) -> None:
        """Apply the retention policy to the runs just written (D16)."""
        policy = self.sqlite.policy
        if policy.retention == "full":
            return
        for run_id in runs:
            if policy.retention == "latest":
                await conn.execute(
                    "DELETE FROM steps WHERE run_id = ? AND idx NOT IN "
                    "(SELECT MAX(idx) "
                    "FROM steps WHERE run_id = ? GROUP BY node_name)",
                    (run_id, run_id),
                )
            else:
                # Older supersteps go, but never a node's newest step: that is
                # the run's state, which values() and resume read. Dropping it
                # (the spec's literal rule) would make a resume re-run nodes.
                await conn.execute(
                    "DELETE FROM steps WHERE run_id = ? AND superstep < (SELECT "
                    "MAX(superstep) FROM steps WHERE run_id = ?) - ? + 1 "
                    "AND idx NOT IN (SELECT MAX(idx) FROM steps WHERE run_id = ? "
                    "GROUP BY node_name)",
                    (run_id, run_id, policy.window, run_id),
                )

    # -- background writer for batches ----------------------------------------------
    async def writer(self) -> None:
        """Commit groups while a batch runs; returns after :meth:`stop_writer`."""
        while not self._stopping:
            if self.queued:
                # Something waits: commit it within _FLUSH_AFTER_S even if no
                # further item finishes to call wake().
                with anyio.move_on_after(_FLUSH_AFTER_S):
                    await self._wake.wait()
            else:
                await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # noqa: BLE001 - D17: logged, never fails the run
                # The rows stay queued: the next commit (or the final, awaited
                # one) retries them, and that one reports a persistent failure.
                _logger.warning(
                    CHECKPOINT_SAVE_FAILED,
                    database=self.sqlite.target,
                    error=f"{type(exc).__name__}: {exc}",
                )

    def wake(self) -> None:
        """Start a group commit soon if enough has piled up, or for long enough."""
        if self.queued >= _FLUSH_EVERY or (
            self.queued and time.monotonic() - self._last_commit >= _FLUSH_AFTER_S
        ):
            self._wake.set()

    @property
    def backlogged(self) -> bool:
        """Too much is queued: the producer should wait for a commit."""
        return self.queued >= _BACKLOG_LIMIT

    async def stop_writer(self) -> None:
        """Let the writer finish its last group and return."""
        self._stopping = True
        self._wake.set()
        await self.flush()

    # -- reads used while resuming --------------------------------------------------
    async def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        """Run a read on the session's connection."""
        assert self.conn is not None
        rows = await self.conn.execute_fetchall(sql, params)
        return [tuple(row) for row in rows]
