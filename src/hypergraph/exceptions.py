"""Every exception class hypergraph defines, under one root: ``HypergraphError``.

A node's own exception is never wrapped in one of these; it reaches the caller as
the original object. These classes are for mistakes in how hypergraph is used.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = (
    "CheckpointSerializationError",
    "GraphChangedError",
    "GraphConfigError",
    "HypergraphError",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputOverrideRequiresForkError",
    "MissingInputError",
    "RenameError",
    "WorkflowAlreadyCompletedError",
    "WorkflowForkError",
)


class HypergraphError(Exception):
    """Root of every error hypergraph raises about its own use.

    ``except HypergraphError`` catches all of them and none of a node's own
    exceptions.
    """


class GraphConfigError(HypergraphError):
    """A graph (or a node inside it) is configured in a way that cannot run."""


class RenameError(HypergraphError):
    """A rename names something that does not exist, or would create a clash."""


class IncompatibleRunnerError(HypergraphError):
    """The runner cannot execute this graph from here."""


class InfiniteLoopError(HypergraphError):
    """Nodes were still ready after ``max_iterations`` supersteps."""

    def __init__(self, max_iterations: int) -> None:
        self.max_iterations = max_iterations
        super().__init__(
            f"Graph execution exceeded {max_iterations} iterations: nodes were "
            f"still ready to run after {max_iterations} supersteps.\n\n"
            "How to fix: make the loop reach END (or stop changing its values), "
            "or pass a larger max_iterations=... to run() if the loop is meant "
            "to be that long."
        )


class MissingInputError(HypergraphError):
    """Required graph inputs were not supplied, bound, or defaulted."""

    def __init__(
        self,
        missing: Iterable[str],
        provided: Iterable[str] = (),
        *,
        message: str | None = None,
    ) -> None:
        self.missing = sorted(missing)
        self.provided = list(provided)
        super().__init__(message or self._describe())

    def _describe(self) -> str:
        names = ", ".join(repr(m) for m in self.missing)
        lines = [f"Missing required inputs: {names}"]
        for name in self.missing:
            close = difflib.get_close_matches(name, self.provided, n=1)
            if close:
                lines.append(f"  You passed {close[0]!r}: did you mean {name!r}?")
        provided = ", ".join(repr(p) for p in self.provided) or "(none)"
        lines.append(f"Provided: {provided}")
        lines.append(
            "\nHow to fix: pass the missing values to run()/map() (as values={...} "
            "or keyword arguments), or bind them with graph = graph.bind(...). "
            "Note that bind() returns a new graph; it does not change the old one."
        )
        return "\n".join(lines)


class CheckpointSerializationError(HypergraphError, TypeError):
    """A node output (or a run input) could not be encoded by the serializer.

    ``node_name`` is ``None`` when the value is one of the run's inputs.
    """

    def __init__(
        self,
        run_id: str,
        node_name: str | None,
        output_key: str,
        value: object,
        reason: str,
    ) -> None:
        self.run_id = run_id
        self.node_name = node_name
        self.output_key = output_key
        self.value_type = type(value).__name__
        what = (
            f"input {output_key!r}"
            if node_name is None
            else f"output {output_key!r} of node {node_name!r}"
        )
        super().__init__(
            f"Cannot persist {what} in run "
            f"{run_id!r}: a value of type {self.value_type} could not be encoded "
            f"({reason}).\n\nHow to fix: use JSON-friendly data (dicts, lists, "
            "strings, numbers, dataclasses), or give the checkpointer another "
            "serializer (JsonSerializer(lossy=True) stores str(value); "
            "PickleSerializer(allow_pickle=True) for trusted data)."
        )


class _LineageError(HypergraphError):
    """Base of the errors raised by strict lineage checks."""

    def __init__(self, workflow_id: str, message: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(message)


class GraphChangedError(_LineageError):
    """Resuming a workflow with a graph whose structure differs from the stored one."""

    def __init__(self, workflow_id: str, *, batch: bool = False) -> None:
        fix = (
            "map() the changed graph under a new workflow_id (the old batch and "
            "its items stay as they were)."
            if batch
            else f"run(graph, fork_from={workflow_id!r}) starts a new lineage from "
            "its state."
        )
        super().__init__(
            workflow_id,
            f"Graph structure changed for workflow {workflow_id!r}. Fork instead of "
            f"resuming in place.\n\nHow to fix: {fix}",
        )


class InputOverrideRequiresForkError(_LineageError):
    """New input values were passed while resuming a workflow."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            workflow_id,
            f"Cannot pass input values when resuming workflow {workflow_id!r}. Use "
            "fork_from=... (or checkpoint + new workflow_id) to fork.\n\nHow to fix: "
            f"resume with no values, or run(graph, values, fork_from={workflow_id!r}).",
        )


class WorkflowAlreadyCompletedError(_LineageError):
    """Resuming a workflow that already completed."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            workflow_id,
            f"Workflow {workflow_id!r} is already completed. Fork to create a new "
            f"lineage.\n\nHow to fix: run(graph, fork_from={workflow_id!r}) or use a "
            "new workflow_id.",
        )


class WorkflowForkError(_LineageError):
    """A fork targets a workflow id that cannot be used."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(
            workflow_id,
            f"Cannot fork into existing workflow {workflow_id!r}. Use a new "
            "workflow_id.",
        )
