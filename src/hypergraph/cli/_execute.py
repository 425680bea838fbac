"""Executing run/map: runner choice, database, progress, and failure tracking."""

from __future__ import annotations

import asyncio
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypergraph import (
    AsyncRunner,
    BaseRunner,
    Graph,
    GraphChangedError,
    HypergraphError,
    InputOverrideRequiresForkError,
    NodeErrorEvent,
    NodeStartEvent,
    RunEndEvent,
    RunStartEvent,
    SqliteCheckpointer,
    SyncRunner,
    TypedEventProcessor,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)
from hypergraph.cli._config import configured_db, embedded_default, load_config
from hypergraph.cli._output import CliError, describe_error, warn

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = (
    "Execution",
    "FailureTracker",
    "RaisedFailure",
    "choose_runner",
    "execute",
    "plan_database",
    "progress_processors",
)

_LINEAGE_ERRORS = (
    GraphChangedError,
    InputOverrideRequiresForkError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)


class FailureTracker(TypedEventProcessor):
    """Remembers what a raised node failure leaves out: run id, workflow, node."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.workflow_id: str | None = None
        self.failed = False
        self.first_error: NodeErrorEvent | None = None
        self._run_parent: dict[str, str | None] = {}
        self._node: dict[str, tuple[str, str | None]] = {}

    def on_run_start(self, event: RunStartEvent) -> None:
        """Record the run span's parent; the first top-level start names the run."""
        self._run_parent[event.span_id] = event.parent_span_id
        if event.parent_span_id is None and self.run_id is None:
            self.run_id, self.workflow_id = event.run_id, event.workflow_id

    def on_run_end(self, event: RunEndEvent) -> None:
        """A failed top-level run means the workflow failed (exit 1)."""
        if event.parent_span_id is None and event.status == "failed":
            self.failed = True

    def on_node_start(self, event: NodeStartEvent) -> None:
        """Remember node spans so nested failures get a ``/``-joined path."""
        self._node[event.span_id] = (event.node_name, event.parent_span_id)

    def on_node_error(self, event: NodeErrorEvent) -> None:
        """The first failure is the one ``raise`` re-raises."""
        if self.first_error is None:
            self.first_error = event

    def error_node(self) -> str | None:
        """The failing node, ``/``-joined through nested graphs (02-R8)."""
        if self.first_error is None:
            return None
        path = [self.first_error.node_name]
        run_span = self.first_error.parent_span_id
        seen: set[str] = set()
        while run_span is not None and run_span not in seen:
            seen.add(run_span)
            parent = self._run_parent.get(run_span)
            owner = None if parent is None else self._node.get(parent)
            if owner is None:
                break
            path.insert(0, owner[0])
            run_span = owner[1]
        return "/".join(path)


@dataclass(frozen=True)
class RaisedFailure:
    """A node exception re-raised under ``--error-handling raise``."""

    error: Exception
    run_id: str | None
    workflow_id: str | None
    error_node: str | None


@dataclass(frozen=True)
class Execution:
    """How to execute: which runner, which database, which processors."""

    runner: str
    db: Path | None
    processors: tuple[object, ...]
    created_db: Path | None = None


def choose_runner(graph: Graph, requested: str | None) -> str:
    """``--runner``, else async for async or interrupt graphs (CLI31)."""
    if requested is not None:
        return requested
    return "async" if graph.has_async_nodes or graph.has_interrupts else "sync"


def progress_processors(enabled: bool) -> list[object]:
    """``[RichProgressProcessor()]`` on an interactive stderr, else ``[]``."""
    if not enabled or not sys.stderr.isatty():
        return []
    try:
        events = importlib.import_module("hypergraph.events")
    except ImportError:
        return []
    factory = getattr(events, "RichProgressProcessor", None)
    return [] if factory is None else [factory()]


def plan_database(
    db_option: str | None, workflow_id: str | None, *, command: str
) -> tuple[Path | None, Path | None]:
    """``(database, embedded default to announce if created)`` (CLI12/CLI41)."""
    cwd = Path.cwd()
    configured = configured_db(db_option, load_config(cwd), cwd)
    if configured is not None:
        if command == "map" and workflow_id is None:
            warn(
                "map checkpointing requires --workflow-id; running without persistence."
            )
            return None, None
        return configured, None
    if workflow_id is None:
        return None, None
    default = embedded_default(cwd)
    return default, (None if default.exists() else default)


def _checkpointer(path: Path | None) -> SqliteCheckpointer | None:
    return None if path is None else SqliteCheckpointer(path)


async def _drive_async(path: Path | None, invoke: Callable[[BaseRunner], Any]) -> Any:
    checkpointer = _checkpointer(path)
    try:
        return await invoke(AsyncRunner(checkpointer=checkpointer))
    finally:
        if checkpointer is not None:
            await checkpointer.close()


def _drive(execution: Execution, invoke: Callable[[BaseRunner], Any]) -> Any:
    if execution.runner == "async":
        # The CLI is the program's entry point, so it owns the one event loop.
        return asyncio.run(_drive_async(execution.db, invoke))  # noqa: TID251
    checkpointer = _checkpointer(execution.db)
    try:
        with SyncRunner(checkpointer=checkpointer) as runner:
            return invoke(runner)
    finally:
        if checkpointer is not None:
            checkpointer.close_sync()


def execute(
    execution: Execution, invoke: Callable[[BaseRunner, list[object]], Any]
) -> Any:
    """Call ``invoke(runner, processors)``; sort exceptions into exit codes.

    Returns:
        What ``invoke`` returned, or a :class:`RaisedFailure` when a node failure
        was re-raised (``--error-handling raise``).

    Raises:
        CliError: a usage, validation or lineage error (exit 2), or an
            unexpected error (exit 1).
    """
    tracker = FailureTracker()
    processors: list[object] = [tracker, *execution.processors]
    try:
        return _drive(execution, lambda runner: invoke(runner, processors))
    except _LINEAGE_ERRORS as exc:
        raise CliError(
            describe_error(exc),
            hints=["Use a new --workflow-id to start a fresh run."],
        ) from exc
    except Exception as exc:
        if tracker.failed:
            return RaisedFailure(
                exc, tracker.run_id, tracker.workflow_id, tracker.error_node()
            )
        usage = isinstance(exc, ValueError | TypeError | KeyError | HypergraphError)
        raise CliError(describe_error(exc), exit_code=2 if usage else 1) from exc
    finally:
        created = execution.created_db
        if created is not None and created.exists():
            warn(f"No database configured; created {created}")
