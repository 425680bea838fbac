"""Blocking writes for SQLite: the older ``SyncCheckpointerProtocol`` (spec 04 D12).

Runners never use these (they write through the async core); they exist for
code written against the older blocking protocol.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import TYPE_CHECKING, Any

from hypergraph._checkpoint import _sql
from hypergraph._checkpoint._serializers import encode_values
from hypergraph._checkpoint._store import now, status_of
from hypergraph._checkpoint._types import Run, StepRecord, WorkflowStatus

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from hypergraph._checkpoint._serializers import Serializer

__all__ = ("SyncWrites",)


class SyncWrites:
    """Mixin for ``SqliteCheckpointer``: create, save and update without a loop."""

    target: str
    uri: bool
    path: Path | None
    serializer: Serializer

    def _check_open(self) -> None:
        raise NotImplementedError

    def _prepare_path(self) -> None:
        raise NotImplementedError

    def _check_schema(self, version: int | None, app_id: int, tables: set[str]) -> bool:
        raise NotImplementedError

    def _explain_error(self, exc: sqlite3.DatabaseError) -> Exception | None:
        raise NotImplementedError

    def _encode(self, values: dict[str, Any] | None) -> bytes | None:
        raise NotImplementedError

    def get_run(self, run_id: str) -> Run | None:
        raise NotImplementedError

    @contextlib.contextmanager
    def _writer_sync(self) -> Iterator[sqlite3.Connection]:
        self._check_open()
        self._prepare_path()
        conn = sqlite3.connect(self.target, uri=self.uri, timeout=10)
        try:
            conn.execute(
                "BEGIN IMMEDIATE"
            )  # the schema check must not race (see above)
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                )
            }
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key='schema_version'")
                found = row.fetchone()
                version = int(found[0]) if found else None
            if self._check_schema(version, app_id, tables):
                for statement in _sql.schema_statements():
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {_sql.APPLICATION_ID}")
                conn.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(_sql.SCHEMA_VERSION),),
                )
            yield conn
            conn.commit()
        except sqlite3.DatabaseError as exc:
            explained = self._explain_error(exc)
            if explained is None:
                raise
            raise explained from exc
        finally:
            conn.close()

    def create_run_sync(self, run_id: str, **fields: Any) -> Run:
        """Blocking :meth:`create_run` (SyncCheckpointerProtocol)."""
        created = now()
        inputs = fields.get("inputs")
        with self._writer_sync() as conn:
            conn.execute(
                _sql.UPSERT_RUN,
                (
                    run_id,
                    fields.get("graph_name") or "",
                    fields.get("parent_run_id"),
                    fields.get("forked_from"),
                    fields.get("fork_superstep"),
                    fields.get("retry_of"),
                    fields.get("retry_index"),
                    _sql.encode_json(fields.get("config")),
                    None
                    if inputs is None
                    else encode_values(self.serializer, inputs, run_id, None),
                    created.timestamp(),
                ),
            )
        run = self.get_run(run_id)
        assert run is not None
        return run

    def save_step_sync(self, record: StepRecord) -> None:
        """Blocking :meth:`save_step`."""
        with self._writer_sync() as conn:
            conn.execute(
                _sql.SAVE_STEP, _sql.step_row(record, self._encode(record.values))
            )

    def update_run_status_sync(
        self,
        run_id: str,
        status: WorkflowStatus | str,
        *,
        duration_ms: float | None = None,
        node_count: int | None = None,
        error_count: int | None = None,
    ) -> None:
        """Blocking :meth:`update_run_status`."""
        final = status_of(status)
        finished = final in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED)
        with self._writer_sync() as conn:
            conn.execute(
                _sql.END_RUN,
                (
                    str(final),
                    duration_ms,
                    error_count,
                    node_count,
                    now().timestamp() if finished else None,
                    run_id,
                ),
            )
