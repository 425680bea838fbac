"""SQL text, schema migrations and row conversion for the SQLite checkpointer.

Shared by the async writer (aiosqlite) and the sync readers (sqlite3): the same
statements and the same row -> object functions on both sides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import msgspec

from hypergraph._checkpoint._store import UNSET, status_of
from hypergraph._checkpoint._types import (
    Run,
    StepRecord,
    StepStatus,
    WorkflowStatus,
    from_timestamp,
)

if TYPE_CHECKING:
    from hypergraph._checkpoint._serializers import Serializer

__all__ = ("SCHEMA_VERSION", "run_from_row", "step_from_row")

SCHEMA_VERSION: Final = 1
APPLICATION_ID: Final = 0x48594752  # "HYGR": marks a file as a hypergraph database

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    graph_name TEXT NOT NULL DEFAULT '',
    duration_ms REAL,
    node_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    parent_run_id TEXT,
    forked_from TEXT,
    fork_superstep INTEGER,
    retry_of TEXT,
    retry_index INTEGER,
    config TEXT,
    inputs BLOB,
    created_at REAL NOT NULL,
    completed_at REAL
);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL,
    superstep INTEGER NOT NULL,
    node_name TEXT NOT NULL,
    idx INTEGER NOT NULL,
    status TEXT NOT NULL,
    input_versions TEXT NOT NULL DEFAULT '{}',
    "values" BLOB,
    duration_ms REAL NOT NULL DEFAULT 0,
    cached INTEGER NOT NULL DEFAULT 0,
    decision TEXT,
    error TEXT,
    error_type TEXT,
    node_type TEXT NOT NULL DEFAULT 'FunctionNode',
    created_at REAL,
    completed_at REAL,
    child_run_id TEXT,
    PRIMARY KEY (run_id, superstep, node_name)
);
CREATE INDEX IF NOT EXISTS steps_by_run ON steps (run_id, idx);
"""


def schema_statements() -> list[str]:
    """The schema as single statements (executescript would commit early)."""
    return [part.strip() for part in SCHEMA.split(";") if part.strip()]


RUN_COLUMNS: Final = (
    "id, status, graph_name, duration_ms, node_count, error_count, parent_run_id, "
    "forked_from, fork_superstep, retry_of, retry_index, config, created_at, "
    "completed_at"
)
STEP_COLUMNS: Final = (
    'run_id, superstep, node_name, idx, status, input_versions, "values", '
    "duration_ms, cached, decision, error, error_type, node_type, created_at, "
    "completed_at, child_run_id"
)

UPSERT_RUN: Final = """
INSERT INTO runs (id, status, graph_name, parent_run_id, forked_from, fork_superstep,
                  retry_of, retry_index, config, inputs, created_at)
VALUES (?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    status = 'active', graph_name = excluded.graph_name,
    parent_run_id = excluded.parent_run_id, forked_from = excluded.forked_from,
    fork_superstep = excluded.fork_superstep, retry_of = excluded.retry_of,
    retry_index = excluded.retry_index, config = excluded.config,
    inputs = excluded.inputs, duration_ms = NULL, error_count = 0,
    node_count = 0, completed_at = NULL
"""

SAVE_STEP: Final = f"""
INSERT OR REPLACE INTO steps ({STEP_COLUMNS})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

END_RUN: Final = """
UPDATE runs SET status = ?,
    duration_ms = COALESCE(?, duration_ms),
    error_count = COALESCE(?, error_count),
    node_count = COALESCE(?, (SELECT COUNT(*) FROM steps WHERE steps.run_id = runs.id)),
    completed_at = ?
WHERE id = ?
"""

_json = msgspec.json.Encoder()
_json_decode = msgspec.json.Decoder()


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def encode_json(value: Any) -> str | None:
    """Our own metadata (config, versions, decisions) as JSON text."""
    return None if value is None else _json.encode(value).decode()


def decode_json(text: str | None) -> Any:
    """Inverse of :func:`encode_json`."""
    return None if text is None else _json_decode.decode(text)


def timestamp(moment: datetime | None) -> float | None:
    """Unix seconds of an aware datetime (naive means UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def run_from_row(row: tuple[Any, ...]) -> Run:
    """A ``Run`` from a row of ``RUN_COLUMNS``."""
    (
        run_id,
        status,
        graph_name,
        duration_ms,
        node_count,
        error_count,
        parent_run_id,
        forked_from,
        fork_superstep,
        retry_of,
        retry_index,
        config,
        created_at,
        completed_at,
    ) = row
    created = from_timestamp(created_at)
    assert created is not None
    return Run(
        id=run_id,
        status=WorkflowStatus(status),
        graph_name=graph_name,
        duration_ms=duration_ms,
        node_count=node_count,
        error_count=error_count,
        parent_run_id=parent_run_id,
        forked_from=forked_from,
        fork_superstep=fork_superstep,
        retry_of=retry_of,
        retry_index=retry_index,
        config=decode_json(config),
        created_at=created,
        completed_at=from_timestamp(completed_at),
    )


def step_row(record: StepRecord, encoded: bytes | None) -> tuple[Any, ...]:
    """The parameters of ``SAVE_STEP`` for a record with pre-encoded values."""
    return (
        record.run_id,
        record.superstep,
        record.node_name,
        record.index,
        str(record.status),
        encode_json(record.input_versions) or "{}",
        encoded,
        record.duration_ms,
        int(record.cached),
        encode_json(record.decision),
        record.error,
        record.error_type,
        record.node_type,
        timestamp(record.created_at),
        timestamp(record.completed_at),
        record.child_run_id,
    )


def step_from_row(row: tuple[Any, ...], serializer: Serializer) -> StepRecord:
    """A ``StepRecord`` from a row of ``STEP_COLUMNS`` (values decoded)."""
    (
        run_id,
        superstep,
        node_name,
        idx,
        status,
        input_versions,
        values,
        duration_ms,
        cached,
        decision,
        error,
        error_type,
        node_type,
        created_at,
        completed_at,
        child_run_id,
    ) = row
    return StepRecord(
        run_id=run_id,
        superstep=superstep,
        node_name=node_name,
        index=idx,
        status=StepStatus(status),
        input_versions=decode_json(input_versions) or {},
        values=None if values is None else serializer.deserialize(values),
        duration_ms=duration_ms,
        cached=bool(cached),
        decision=decode_json(decision),
        error=error,
        error_type=error_type,
        node_type=node_type,
        created_at=from_timestamp(created_at),
        completed_at=from_timestamp(completed_at),
        child_run_id=child_run_id,
    )


def runs_query(
    *,
    status: str | None,
    graph_name: str | None,
    since: float | None,
    parent_run_id: Any,
    any_parent: bool,
    limit: int | None,
) -> tuple[str, list[Any]]:
    """SQL and parameters for a filtered run listing, newest first (D51)."""
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    if graph_name is not None:
        clauses.append("graph_name = ?")
        params.append(graph_name)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    if not any_parent:
        if parent_run_id is None:
            clauses.append("parent_run_id IS NULL")
        else:
            clauses.append("parent_run_id = ?")
            params.append(parent_run_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {RUN_COLUMNS} FROM runs{where} ORDER BY created_at DESC, rowid DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def steps_query(run_id: str, superstep: int | None) -> tuple[str, tuple[Any, ...]]:
    sql = f"SELECT {STEP_COLUMNS} FROM steps WHERE run_id = ?"
    params: tuple[Any, ...] = (run_id,)
    if superstep is not None:
        sql += " AND superstep <= ?"
        params += (superstep,)
    return sql + " ORDER BY idx, completed_at, created_at, rowid", params


def list_query(
    status: WorkflowStatus | str | None,
    graph_name: str | None,
    since: datetime | None,
    parent_run_id: Any,
    limit: int | None,
) -> tuple[str, list[Any]]:
    return runs_query(
        status=None if status is None else str(status_of(status)),
        graph_name=graph_name,
        since=timestamp(since),
        parent_run_id=None if parent_run_id is UNSET else parent_run_id,
        any_parent=parent_run_id is UNSET,
        limit=limit,
    )


def search_query(query: str, field: str | None, limit: int) -> tuple[str, list[Any]]:
    if field not in (None, "node_name", "error"):
        raise ValueError(
            f"Invalid search field: {field!r}. Use 'node_name' or 'error' (or None "
            "for both)."
        )
    columns = ["node_name", "error"] if field is None else [field]
    clauses: list[str] = []
    params: list[Any] = []
    for token in query.split():
        pattern = f"%{escape_like(token.lower())}%"
        alternatives = " OR ".join(f"lower({c}) LIKE ? ESCAPE '\\'" for c in columns)
        clauses.append(f"({alternatives})")
        params.extend([pattern] * len(columns))
    where = " AND ".join(clauses) or "1"
    sql = (
        f"SELECT {STEP_COLUMNS} FROM steps WHERE {where} "
        "ORDER BY created_at DESC, rowid DESC LIMIT ?"
    )
    return sql, [*params, limit]
