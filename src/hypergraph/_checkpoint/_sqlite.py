"""``SqliteCheckpointer``: runs and steps in SQLite, written through aiosqlite.

Writes happen in a per-call ``SqliteSession`` that owns one aiosqlite connection
(WAL mode) for the call's lifetime and commits queued records in groups, so a
checkpointed batch runs at close to unchecked speed. Sync reads (``runs()``,
``values()``, ...) use their own short-lived read-only sqlite3 connection, so
they work from any thread, with or without a running event loop.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar

import aiosqlite
import anyio
import anyio.to_thread

from hypergraph._checkpoint import _sql
from hypergraph._checkpoint._store import (
    UNSET,
    Checkpointer,
    fold_state,
    now,
    status_of,
)
from hypergraph._checkpoint._types import (
    CheckpointPolicy,
    Run,
    RunTable,
    StepRecord,
    StepTable,
    WorkflowStatus,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime, timedelta
    from types import TracebackType

    from hypergraph._checkpoint._serializers import Serializer
from hypergraph._checkpoint._reads import SyncReads
from hypergraph._checkpoint._sqlite_session import (
    SqliteSession,
    delete_tree,
)
from hypergraph._checkpoint._sqlite_sync import SyncWrites

__all__ = ("DEFAULT_DB_PATH", "SqliteCheckpointer")

DEFAULT_DB_PATH: Final = Path(".hypergraph") / "runs.db"
T = TypeVar("T")


class SqliteCheckpointer(SyncWrites, SyncReads, Checkpointer):
    """Persist runs to a SQLite file (``.hypergraph/runs.db`` by default).

    Args:
        path: The database file; ``None`` for the embedded default, ``":memory:"``
            for a private in-memory database, or a ``"file:..."`` SQLite URI.
        durability: Shorthand for ``CheckpointPolicy(durability=...)``.
        retention: Shorthand for ``CheckpointPolicy(retention=...)``.
        policy: A full :class:`CheckpointPolicy`.
        serializer: How values are encoded (``JsonSerializer()`` by default).

    Raises:
        ValueError: ``policy`` together with ``durability``/``retention``, or a
            path that is a directory.
        TypeError: ``path`` is not a string or path.

    Example:
        >>> cp = SqliteCheckpointer(":memory:")
        >>> cp.runs()
        RunTable: (empty)
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        durability: str | None = None,
        retention: str | None = None,
        policy: CheckpointPolicy | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        if policy is not None and (durability is not None or retention is not None):
            raise ValueError(
                "Cannot pass both 'policy' and 'durability'/'retention'.\n\n"
                "How to fix: put them in the policy: "
                "CheckpointPolicy(durability=..., retention=...)."
            )
        if policy is None and (durability is not None or retention is not None):
            policy = CheckpointPolicy(
                durability=durability or "async", retention=retention or "full"
            )
        super().__init__(policy, serializer)
        self._keeper: sqlite3.Connection | None = None
        if path is None:
            path = Path.cwd() / DEFAULT_DB_PATH
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"SqliteCheckpointer path must be a str or Path, got {path!r} "
                f"({type(path).__name__}).\n\n"
                "How to fix: SqliteCheckpointer('runs.db'), or no argument for the "
                "embedded default."
            )
        if str(path) == ":memory:":
            # One shared in-memory database for this instance's readers and
            # writers; the keeper connection keeps it alive.
            self.target = (
                f"file:hypergraph-{secrets.token_hex(8)}?mode=memory&cache=shared"
            )
            self.uri = True
            self.path: Path | None = None
            self._keeper = sqlite3.connect(
                self.target, uri=True, check_same_thread=False
            )
        elif str(path).startswith("file:"):
            self.target, self.uri, self.path = str(path), True, None
        else:
            resolved = Path(path).expanduser()
            if not resolved.is_absolute():
                resolved = Path.cwd() / resolved
            if resolved.is_dir():
                raise ValueError(
                    f"SqliteCheckpointer path {str(resolved)!r} is a directory; it "
                    "needs a database file.\n\nHow to fix: name a file inside it, "
                    f"SqliteCheckpointer({str(resolved / 'runs.db')!r})."
                )
            self.target, self.uri, self.path = str(resolved), False, resolved
        self._schema_ready = False
        self._folder_ready = False
        self._closed = False

    # -- connections ----------------------------------------------------------------
    @property
    def db_path(self) -> str:
        """Where the database lives (a path, or the URI for in-memory databases)."""
        return self.target

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                f"SqliteCheckpointer({self.target!r}) was closed.\n\n"
                "How to fix: create "
                "a new SqliteCheckpointer, or do not call close() while still using it."
            )

    def _prepare_path(self) -> None:
        if self.path is None or self._folder_ready:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise ValueError(
                f"Cannot create the folder of {self.target}: a part of that path "
                f"is a file ({exc.filename}).\n\nHow to fix: choose a database "
                "path whose folders are folders."
            ) from exc
        self._folder_ready = True

    def _check_schema(self, version: int | None, app_id: int, tables: set[str]) -> bool:
        """Whether the schema must be created; raises for foreign or newer files."""
        if version is not None and version > _sql.SCHEMA_VERSION:
            raise ValueError(
                f"Unsupported database schema version {version} (current: "
                f"{_sql.SCHEMA_VERSION}). Please upgrade hypergraph. (database: "
                f"{self.target})\n\nHow to fix: install the newer hypergraph that "
                "wrote this file, or point the checkpointer at another file."
            )
        if version is None and tables and app_id != _sql.APPLICATION_ID:
            raise ValueError(
                f"{self.target} is a SQLite database that hypergraph did not create "
                f"(tables: {', '.join(sorted(tables))}). Refusing to write into it.\n\n"
                "How to fix: point the checkpointer at a new file, e.g. "
                "SqliteCheckpointer('.hypergraph/runs.db')."
            )
        return version is None

    def _explain_error(self, exc: sqlite3.DatabaseError) -> Exception | None:
        """A clear error for a file that is not a database or is locked; else None."""
        code = getattr(exc, "sqlite_errorcode", None)
        if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
            return ValueError(
                f"{self.target} is not a usable SQLite database ({exc}).\n\nHow to "
                "fix: move the file aside (it is left untouched) and let hypergraph "
                "create a new one, or point the checkpointer at another path."
            )
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return RuntimeError(
                f"{self.target} stayed locked by another connection for 10 s "
                f"({exc}).\n\nHow to fix: let the other process writing to it "
                "finish (another run, map or CLI command), or give this one its own "
                "database file."
            )
        return None

    async def _open_async(self) -> aiosqlite.Connection:
        self._check_open()
        if not self._folder_ready:
            # mkdir is file I/O: once per checkpointer, off the event loop (this
            # is the store's own I/O, not node code, so the core's rule is kept).
            await anyio.to_thread.run_sync(self._prepare_path)  # noqa: TID251
        conn = await aiosqlite.connect(self.target, uri=self.uri)
        try:
            await conn.execute("PRAGMA busy_timeout = 10000")
            # Check the file before changing anything in it: a foreign database
            # must be left byte for byte as it was.
            if not self._schema_ready:
                await self._ensure_schema_async(conn)
            if not self.uri:
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException as exc:
            # Close on every failure: an open aiosqlite connection is a thread
            # that would keep the interpreter alive (D-9).
            with contextlib.suppress(Exception), anyio.CancelScope(shield=True):
                await conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                explained = self._explain_error(exc)
                if explained is not None:
                    raise explained from exc
            raise
        return conn

    async def _ensure_schema_async(self, conn: aiosqlite.Connection) -> None:
        # One writer at a time: concurrent first uses must not see each other's
        # half-created schema (which would look like a foreign database).
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await self._check_or_create_async(conn)
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()
        self._schema_ready = True
        await self._expire(conn)

    async def _check_or_create_async(self, conn: aiosqlite.Connection) -> None:
        tables = {
            row[0]
            for row in await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        app_id = next(iter(await conn.execute_fetchall("PRAGMA application_id")))[0]
        version = None
        if "meta" in tables:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                )
            )
            version = int(rows[0][0]) if rows else None
        if self._check_schema(version, app_id, tables):
            for statement in _sql.schema_statements():
                await conn.execute(statement)
            await conn.execute(f"PRAGMA application_id = {_sql.APPLICATION_ID}")
            await conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                (str(_sql.SCHEMA_VERSION),),
            )

    async def _expire(self, conn: aiosqlite.Connection) -> None:
        """Delete finished top-level runs older than the policy's ttl (D16)."""
        ttl: timedelta | None = self.policy.ttl
        if ttl is None:
            return
        cutoff = (now() - ttl).timestamp()
        rows = await conn.execute_fetchall(
            "SELECT id FROM runs WHERE parent_run_id IS NULL AND "
            "status IN ('completed', 'failed') AND completed_at < ?",
            (cutoff,),
        )
        for (run_id,) in rows:
            await delete_tree(conn, run_id, keep_row=False)
        await conn.commit()

    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection | None]:
        """A read-only connection, or None when the database does not exist yet."""
        self._check_open()
        if self.path is not None and not self.path.exists():
            yield None
            return
        # as_uri() percent-encodes '#', '?' and '%', which a URI would misread.
        target = self.target if self.uri else Path(self.target).as_uri() + "?mode=ro"
        try:
            conn = sqlite3.connect(
                target, uri=True, check_same_thread=False, timeout=10
            )
        except sqlite3.OperationalError:
            yield None
            return
        try:
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                )
            }
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if "runs" not in tables or "meta" not in tables:
                self._check_schema(None, app_id, tables)
                yield None
                return
            rows = conn.execute("SELECT value FROM meta WHERE key='schema_version'")
            row = rows.fetchone()
            self._check_schema(int(row[0]) if row else None, app_id, tables)
            yield conn
        except sqlite3.DatabaseError as exc:
            explained = self._explain_error(exc)
            if explained is None:
                raise
            raise explained from exc
        finally:
            conn.close()

    def _fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self._reader() as conn:
            if conn is None:
                return []
            return conn.execute(sql, params).fetchall()

    async def _fetch_async(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        conn = await self._open_async()
        try:
            rows = await conn.execute_fetchall(sql, params)
            return [tuple(row) for row in rows]
        finally:
            await conn.close()

    # -- writing (the abstract API; the engine uses session()) ----------------------
    def session(self) -> SqliteSession:
        """A group-commit writer owning one connection for a top-level call."""
        self._check_open()
        return SqliteSession(self)

    async def save_step(self, record: StepRecord) -> None:
        """Insert or replace one step."""
        async with self.session() as session:
            session.queue_step(record, self._encode(record.values))

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
        async with self.session() as session:
            return await session.create_run(
                run_id,
                graph_name=graph_name,
                parent_run_id=parent_run_id,
                forked_from=forked_from,
                fork_superstep=fork_superstep,
                retry_of=retry_of,
                retry_index=retry_index,
                config=config,
                inputs=inputs,
            )

    async def update_run_status(
        self,
        run_id: str,
        status: WorkflowStatus | str,
        *,
        duration_ms: float | None = None,
        node_count: int | None = None,
        error_count: int | None = None,
    ) -> None:
        """Set a run's status and the given stats (D9)."""
        async with self.session() as session:
            await session.update_run(
                run_id,
                status_of(status),
                duration_ms=duration_ms,
                node_count=node_count,
                error_count=error_count,
            )

    def _encode(self, values: dict[str, Any] | None) -> bytes | None:
        return None if values is None else self.serializer.serialize(values)

    async def delete_run(self, run_id: str, *, recursive: bool = True) -> None:
        """Delete a run with its steps (and its descendants when ``recursive``)."""
        conn = await self._open_async()
        try:
            if recursive:
                await delete_tree(conn, run_id, keep_row=False)
            else:
                await conn.execute("DELETE FROM steps WHERE run_id = ?", (run_id,))
                await conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            await conn.commit()
        finally:
            await conn.close()

    async def _reset_run(self, run_id: str) -> None:
        conn = await self._open_async()
        try:
            await delete_tree(conn, run_id, keep_row=True)
            await conn.commit()
        finally:
            await conn.close()

    async def initialize(self) -> None:
        """Create the schema now (otherwise done lazily on first write)."""
        conn = await self._open_async()
        await conn.close()

    async def close(self) -> None:
        """Close the checkpointer; using it afterwards raises."""
        self.close_sync()

    def close_sync(self) -> None:
        """Synchronous :meth:`close`."""
        self._closed = True
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close_sync()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close_sync()

    # -- async reads ----------------------------------------------------------------
    async def get_run_async(self, run_id: str) -> Run | None:
        """The run record, or None."""
        rows = await self._fetch_async(
            f"SELECT {_sql.RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)
        )
        return _sql.run_from_row(rows[0]) if rows else None

    async def get_steps(
        self, run_id: str, *, superstep: int | None = None
    ) -> StepTable:
        """Steps in execution order (optionally up to a superstep)."""
        sql, params = _sql.steps_query(run_id, superstep)
        rows = await self._fetch_async(sql, params)
        return StepTable(_sql.step_from_row(r, self.serializer) for r in rows)

    async def get_state(
        self, run_id: str, *, superstep: int | None = None
    ) -> dict[str, Any]:
        """The run's state (D5)."""
        return fold_state(list(await self.get_steps(run_id, superstep=superstep)))

    async def get_inputs(self, run_id: str) -> dict[str, Any]:
        """The run's persisted inputs (D6)."""
        rows = await self._fetch_async(
            "SELECT inputs FROM runs WHERE id = ?", (run_id,)
        )
        return self._decode_inputs(rows)

    async def list_runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        since: datetime | None = None,
        parent_run_id: Any = UNSET,
        limit: int | None = 100,
    ) -> RunTable:
        """Runs, newest first (D51)."""
        sql, params = _sql.list_query(status, graph_name, since, parent_run_id, limit)
        return RunTable(
            _sql.run_from_row(r) for r in await self._fetch_async(sql, params)
        )

    async def child_states(self, parent_run_id: str) -> dict[str, dict[str, Any]]:
        """Every direct child's state in one query (resuming a batch of any size)."""
        rows = await self._fetch_async(
            'SELECT run_id, "values" FROM steps WHERE run_id IN '
            '(SELECT id FROM runs WHERE parent_run_id = ?) AND "values" IS NOT NULL '
            "ORDER BY run_id, idx, completed_at, created_at, rowid",
            (parent_run_id,),
        )
        states: dict[str, dict[str, Any]] = {}
        decode = self.serializer.deserialize
        for run_id, values in rows:
            states.setdefault(run_id, {}).update(decode(values))
        return states

    async def search_async(
        self, query: str, *, field: str | None = None, limit: int = 20
    ) -> StepTable:
        """Steps whose node name or error matches every token of ``query`` (D53)."""
        sql, params = _sql.search_query(query, field, limit)
        rows = await self._fetch_async(sql, params)
        return StepTable(_sql.step_from_row(r, self.serializer) for r in rows)

    # -- sync reads (D50) -----------------------------------------------------------
    def runs(
        self,
        *,
        status: WorkflowStatus | str | None = None,
        graph_name: str | None = None,
        since: datetime | None = None,
        parent_run_id: Any = UNSET,
        limit: int | None = 100,
    ) -> RunTable:
        """Runs, newest first (same filters as :meth:`list_runs`)."""
        sql, params = _sql.list_query(status, graph_name, since, parent_run_id, limit)
        return RunTable(_sql.run_from_row(r) for r in self._fetch(sql, params))

    def get_run(self, run_id: str) -> Run | None:
        """The run record, or None."""
        rows = self._fetch(
            f"SELECT {_sql.RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)
        )
        return _sql.run_from_row(rows[0]) if rows else None

    def steps(self, run_id: str, *, superstep: int | None = None) -> StepTable:
        """Steps in execution order."""
        sql, params = _sql.steps_query(run_id, superstep)
        return StepTable(
            _sql.step_from_row(r, self.serializer) for r in self._fetch(sql, params)
        )

    def inputs(self, run_id: str) -> dict[str, Any]:
        """The run's persisted inputs."""
        return self._decode_inputs(
            self._fetch("SELECT inputs FROM runs WHERE id = ?", (run_id,))
        )

    def search(
        self, query: str, *, field: str | None = None, limit: int = 20
    ) -> StepTable:
        """Steps matching ``query`` across all runs, newest first (D53)."""
        sql, params = _sql.search_query(query, field, limit)
        return StepTable(
            _sql.step_from_row(r, self.serializer) for r in self._fetch(sql, params)
        )

    def _decode_inputs(self, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        if not rows or rows[0][0] is None:
            return {}
        decoded: dict[str, Any] = self.serializer.deserialize(rows[0][0])
        return decoded

    def __repr__(self) -> str:
        shown = self.target
        if self.path is not None:
            try:
                shown = f"./{self.path.relative_to(Path.cwd())}"
            except ValueError:
                shown = str(self.path)
        if self._closed:
            return f"SqliteCheckpointer: {shown} | closed"
        runs = self._fetch("SELECT COUNT(*) FROM runs")
        steps = self._fetch("SELECT COUNT(*) FROM steps")
        run_count = runs[0][0] if runs else 0
        step_count = steps[0][0] if steps else 0
        return (
            f"SqliteCheckpointer: {shown} | {run_count} run{'s' * (run_count != 1)} | "
            f"{step_count} step{'s' * (step_count != 1)}"
        )


def read_with(
    cp: SqliteCheckpointer, fn: Callable[[sqlite3.Connection], T]
) -> T | None:
    """Run ``fn`` on a read-only connection (None when there is no database)."""
    with cp._reader() as conn:
        return None if conn is None else fn(conn)
