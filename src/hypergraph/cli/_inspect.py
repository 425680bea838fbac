"""Shared pieces of the ``runs`` commands: opening the database, rows, step blocks."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from hypergraph.checkpointers import Run, SqliteCheckpointer, StepRecord
from hypergraph.cli._config import existing_db
from hypergraph.cli._output import (
    CliError,
    describe_error,
    echo,
    format_size,
    json_text,
    print_table,
    truncate,
)
from hypergraph.results import format_duration

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Sequence

__all__ = (
    "RUN_HEADERS",
    "decision_text",
    "format_time",
    "open_store",
    "print_runs",
    "print_step",
    "require_run",
    "run_row",
    "step_status",
)

RUN_HEADERS = ("ID", "Graph", "Status", "Duration", "Steps", "Errors", "Created")
_VALUE_LIMIT = 200


@contextlib.contextmanager
def open_store(db: str | None) -> Iterator[SqliteCheckpointer]:
    """A read-only view of the resolved database (CLI11); never creates one.

    Raises:
        CliError: no database, a missing file, or a file hypergraph cannot read.
    """
    path = existing_db(db)
    store = SqliteCheckpointer(path)
    try:
        yield store
    except ValueError as exc:
        # Foreign files and newer schema versions surface as ValueError.
        raise CliError(describe_error(exc)) from exc
    finally:
        store.close_sync()


def require_run(store: SqliteCheckpointer, run_id: str) -> Run:
    """The run ``run_id``.

    Raises:
        CliError: no such run (exit 2).
    """
    run = store.get_run(run_id)
    if run is None:
        raise CliError(
            f"Run '{run_id}' not found.",
            hints=["List run ids with: hypergraph runs ls --all"],
        )
    return run


def format_time(moment: dt.datetime | None) -> str:
    """Local ``YYYY-MM-DD HH:MM:SS``, or ``—``."""
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def run_row(run: Run, columns: Sequence[str] = RUN_HEADERS) -> list[str]:
    """One table row for ``run`` with the given columns."""
    cells = {
        "ID": run.id,
        "Graph": run.graph_name or "—",
        "Status": str(run.status),
        "Duration": format_duration(run.duration_ms),
        "Steps": str(run.node_count),
        "Errors": str(run.error_count),
        "Created": format_time(run.created_at),
    }
    return [cells[column] for column in columns]


def print_runs(runs: Sequence[Run], columns: Sequence[str] = RUN_HEADERS) -> None:
    """A table of runs."""
    print_table(columns, [run_row(run, columns) for run in runs])


def decision_text(decision: object) -> str:
    """``→ a`` / ``→ a, b`` / empty."""
    if decision is None:
        return ""
    if isinstance(decision, list):
        return "→ " + ", ".join(str(target) for target in decision)
    return f"→ {decision}"


def step_status(step: StepRecord) -> str:
    """``completed``, ``cached``, ``paused`` or ``FAILED: <first 60 chars>``."""
    if str(step.status) == "failed":
        return f"FAILED: {truncate(step.error or '', 60)}"
    return "cached" if step.cached else str(step.status)


def print_step(step: StepRecord, *, show_values: bool, full: bool = False) -> None:
    """The detail block of one step (``runs show --step``, ``runs steps``)."""
    echo(
        f"Step [{step.index}] {step.node_name} | {step.status} | "
        f"{format_duration(step.duration_ms)}"
    )
    echo(f"  type: {step.node_type}")
    echo(f"  superstep: {step.superstep}")
    echo(f"  input_versions: {step.input_versions}")
    if step.values is not None:
        if show_values:
            limit = None if full else _VALUE_LIMIT
            text = json_text(step.values, indent=2 if full else None)
            echo(f"  values: {text if limit is None else truncate(text, limit)}")
        else:
            summary = {
                key: f"<{type(value).__name__}, {format_size(value)}>"
                for key, value in step.values.items()
            }
            echo(f"  values: {summary}")
    echo(f"  cached: {step.cached}")
    if step.decision is not None:
        echo(f"  decision: {decision_text(step.decision)}")
    if step.error is not None:
        echo(f"  error: {step.error}")
        if step.error_type is not None:
            echo(f"  error_type: {step.error_type}")
    if step.child_run_id is not None:
        echo(f"  child_run: {step.child_run_id}")
    echo(f"  created_at: {format_time(step.created_at)}")
    echo(f"  completed_at: {format_time(step.completed_at)}")
