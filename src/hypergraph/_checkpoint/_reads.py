"""The sync query column every store shares (D50): composites over four reads.

A store provides ``runs``, ``get_run``, ``steps`` and ``inputs``; state, values,
checkpoints, stats, lineage and fork/retry helpers are built on them once here.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hypergraph._checkpoint._store import UNSET, fold_state, node_stats
from hypergraph._checkpoint._types import (
    Checkpoint,
    Run,
    RunTable,
    StepTable,
    WorkflowStatus,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from hypergraph._checkpoint._lineage import LineageView

__all__ = (
    "SyncReads",
    "fork_id",
    "next_retry_index",
    "retry_of",
    "snapshot",
    "unknown_source",
)


def snapshot(run_id: str, steps: StepTable, superstep: int | None) -> Checkpoint:
    """A checkpoint of ``run_id`` from its (already cut) steps."""
    steps_list = list(steps)
    return Checkpoint(
        values=fold_state(steps_list),
        steps=steps_list,
        source_run_id=run_id,
        source_superstep=superstep,
    )


def fork_id(source: str, workflow_id: str | None) -> str:
    """The fork's id: the one given, else ``"<source>-fork-<6 hex>"``."""
    return workflow_id or f"{source}-fork-{secrets.token_hex(3)}"


def retry_of(
    source: str, runs: RunTable, checkpoint: Checkpoint, workflow_id: str | None
) -> tuple[str, Checkpoint]:
    """Retry lineage: the next retry index of ``source`` and its default id."""
    index = next_retry_index(source, runs)
    return (
        workflow_id or f"{source}-retry-{index}",
        replace(checkpoint, retry_of=source, retry_index=index),
    )


def next_retry_index(source: str, runs: Iterable[Run]) -> int:
    """1 for the first retry of ``source``, then 2, 3, ..."""
    return 1 + sum(1 for run in runs if run.retry_of == source)


def unknown_source(run_id: str) -> ValueError:
    """The error for a fork/retry source that does not exist."""
    return ValueError(
        f"Unknown source workflow_id: {run_id!r}\n\nHow to fix: list runs with "
        "checkpointer.runs() (or `hypergraph runs ls`) and use one of their ids."
    )


class SyncReads(ABC):
    """Blocking reads usable from any thread, with or without a running loop."""

    @abstractmethod
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

    @abstractmethod
    def get_run(self, run_id: str) -> Run | None:
        """One run, or None."""

    @abstractmethod
    def steps(self, run_id: str, *, superstep: int | None = None) -> StepTable:
        """A run's steps in execution order."""

    @abstractmethod
    def inputs(self, run_id: str) -> dict[str, Any]:
        """A run's persisted inputs."""

    def state(self, run_id: str, *, superstep: int | None = None) -> dict[str, Any]:
        """The run's state (D5)."""
        return fold_state(list(self.steps(run_id, superstep=superstep)))

    def values(self, run_id: str, *, key: str | None = None) -> dict[str, Any]:
        """The run's state, or ``{key: value}`` (``{}`` when absent)."""
        state = self.state(run_id)
        if key is None:
            return state
        return {key: state[key]} if key in state else {}

    def checkpoint(self, run_id: str, *, superstep: int | None = None) -> Checkpoint:
        """A snapshot of ``run_id`` to fork from."""
        return snapshot(run_id, self.steps(run_id, superstep=superstep), superstep)

    def stats(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Per-node statistics (D52)."""
        return node_stats(list(self.steps(run_id)))

    def lineage(
        self, workflow_id: str, *, include_steps: bool = True, max_runs: int = 200
    ) -> LineageView:
        """The fork/retry family of ``workflow_id`` (D54).

        Raises:
            ValueError: unknown workflow id.
        """
        from hypergraph._checkpoint._lineage import lineage_view

        return lineage_view(
            list(self.runs(limit=None)),
            workflow_id,
            steps_of=self.steps if include_steps else None,
            max_runs=max_runs,
        )

    def fork_workflow(
        self,
        source: str,
        *,
        workflow_id: str | None = None,
        superstep: int | None = None,
    ) -> tuple[str, Checkpoint]:
        """A new id (``"<source>-fork-<6 hex>"``) and a checkpoint of ``source``.

        Raises:
            ValueError: ``source`` does not exist.
        """
        if self.get_run(source) is None:
            raise unknown_source(source)
        return fork_id(source, workflow_id), self.checkpoint(
            source, superstep=superstep
        )

    def retry_workflow(
        self,
        source: str,
        *,
        workflow_id: str | None = None,
        superstep: int | None = None,
    ) -> tuple[str, Checkpoint]:
        """A new id (``"<source>-retry-<n>"``) and a checkpoint with retry lineage.

        Raises:
            ValueError: ``source`` does not exist.
        """
        if self.get_run(source) is None:
            raise unknown_source(source)
        checkpoint = self.checkpoint(source, superstep=superstep)
        return retry_of(source, self.runs(limit=None), checkpoint, workflow_id)
