"""``AsyncRunner``, ``BaseRunner``, ``RunnerCapabilities``: the async surface."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, final

from hypergraph._checkpoint._store import Checkpointer
from hypergraph._core._calls import MapRequest, RunRequest, run_call
from hypergraph._core._inputs import UNSET
from hypergraph._core._map_calls import map_call
from hypergraph._core._stream import MapStream

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from hypergraph._graph import Graph
    from hypergraph.results import MapResult, RunResult

__all__ = ("AsyncRunner", "BaseRunner", "RunnerCapabilities")


@final
@dataclass(frozen=True, slots=True)
class RunnerCapabilities:
    """What a runner can do (both built-in runners differ only in returns_coroutine)."""

    supports_cycles: bool = True
    supports_async_nodes: bool = True
    supports_interrupts: bool = True
    returns_coroutine: bool = False
    supports_streaming: bool = False
    supports_checkpointing: bool = False


def _check_runner_args(runner: str, cache: Any, checkpointer: Any) -> None:
    """Catch a checkpointer in the wrong slot, or a path where a store belongs."""
    if isinstance(cache, Checkpointer):
        raise TypeError(
            f"{runner}'s first argument is cache=, but it got a "
            f"{type(cache).__name__}.\n\n"
            f"How to fix: pass it by keyword, {runner}(checkpointer=...)."
        )
    if checkpointer is not None and not isinstance(checkpointer, Checkpointer):
        hint = (
            f"SqliteCheckpointer({str(checkpointer)!r})"
            if isinstance(checkpointer, (str, os.PathLike))
            else "SqliteCheckpointer('runs.db') or MemoryCheckpointer()"
        )
        raise TypeError(
            f"checkpointer= must be a Checkpointer, got {checkpointer!r} "
            f"({type(checkpointer).__name__}).\n\n"
            f"How to fix: {runner}(checkpointer={hint})."
        )


class BaseRunner(ABC):
    """Common base of runners. Subclass it for a runner with other capabilities."""

    _returns_coroutine = False

    def __init__(self, cache: Any = None, checkpointer: Any = None) -> None:
        _check_runner_args(type(self).__name__, cache, checkpointer)
        self.cache = cache
        self.checkpointer = checkpointer
        self._capabilities = RunnerCapabilities(
            returns_coroutine=self._returns_coroutine,
            supports_checkpointing=checkpointer is not None,
        )

    @property
    @abstractmethod
    def capabilities(self) -> RunnerCapabilities:
        """What this runner supports."""

    @abstractmethod
    def run(
        self, graph: Graph, values: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """Run the graph once."""

    @abstractmethod
    def map(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        **kwargs: Any,
    ) -> Any:
        """Run the graph once per item."""


class AsyncRunner(BaseRunner):
    """Runs graphs on the asyncio event loop; ``run`` and ``map`` are coroutines.

    Args:
        cache: Reserved (caching is not implemented yet).
        checkpointer: Where runs are persisted (durable runs).

    Example:
        >>> import asyncio
        >>> from hypergraph import Graph, node
        >>> @node(output_name="y")
        ... async def double(x: int) -> int:
        ...     return 2 * x
        >>> asyncio.run(AsyncRunner().run(Graph([double]), x=3))["y"]
        6
    """

    _returns_coroutine = True

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Everything, and ``run``/``map`` return coroutines."""
        return self._capabilities

    async def run(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        select: Any = UNSET,
        on_missing: str = "ignore",
        entrypoint: Any = None,
        max_iterations: int | None = None,
        max_concurrency: int | None = None,
        error_handling: str = "raise",
        event_processors: Sequence[Any] | None = None,
        checkpoint: Any = None,
        workflow_id: str | None = None,
        override_workflow: bool = False,
        fork_from: str | None = None,
        retry_from: str | None = None,
        **input_values: Any,
    ) -> RunResult:
        """Run ``graph`` once and return its :class:`RunResult`.

        Args:
            graph: The graph to run.
            values: Inputs by name (copied, never mutated).
            on_missing: What to do when a selected output has no value:
                ``"ignore"``, ``"warn"`` or ``"error"``.
            max_iterations: Superstep bound (default 1000).
            max_concurrency: At most this many node bodies at once (shared by
                nested graphs and mapped items).
            error_handling: ``"raise"`` re-raises a node's exception;
                ``"continue"`` returns a FAILED result carrying it.
            event_processors: Receivers of run events.
            workflow_id: Label (or, with a checkpointer, the persisted id).
            **input_values: Inputs as keywords (shorthand for ``values``).

        Returns:
            The run's values, status, error or pause, and log.

        Raises:
            MissingInputError: a required input is missing.
            ValueError: bad options or inputs (see ``docs/running.md``).
            Exception: a node's own exception, unchanged, under ``"raise"``.
        """
        request = RunRequest(
            graph=graph,
            values=values,
            input_values=input_values,
            select=select,
            on_missing=on_missing,
            entrypoint=entrypoint,
            max_iterations=max_iterations,
            max_concurrency=max_concurrency,
            error_handling=error_handling,
            event_processors=event_processors,
            workflow_id=workflow_id,
            checkpoint=checkpoint,
            override_workflow=override_workflow,
            fork_from=fork_from,
            retry_from=retry_from,
        )
        return await run_call(self, request, concurrent=True)

    async def map(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: str = "zip",
        clone: bool | list[str] = False,
        select: Any = UNSET,
        on_missing: str = "ignore",
        entrypoint: Any = None,
        error_handling: str = "raise",
        max_concurrency: int | None = None,
        event_processors: Sequence[Any] | None = None,
        workflow_id: str | None = None,
        **input_values: Any,
    ) -> MapResult:
        """Run ``graph`` once per item and return the :class:`MapResult`.

        See ``docs/batch-processing.md`` for every option.
        """
        request = MapRequest(
            graph=graph,
            values=values,
            input_values=input_values,
            map_over=map_over,
            map_mode=map_mode,
            clone=clone,
            select=select,
            on_missing=on_missing,
            entrypoint=entrypoint,
            error_handling=error_handling,
            max_concurrency=max_concurrency,
            event_processors=event_processors,
            workflow_id=workflow_id,
        )
        return await map_call(self, request, concurrent=True)

    def map_iter(
        self,
        graph: Graph,
        values: Mapping[str, Any] | None = None,
        *,
        map_over: str | Sequence[str],
        map_mode: str = "zip",
        clone: bool | list[str] = False,
        select: Any = UNSET,
        on_missing: str = "ignore",
        entrypoint: Any = None,
        error_handling: str = "raise",
        max_concurrency: int | None = None,
        event_processors: Sequence[Any] | None = None,
        workflow_id: str | None = None,
        **input_values: Any,
    ) -> MapStream:
        """Run ``graph`` once per item, yielding ``(index, RunResult)`` as items finish.

        Same arguments as :meth:`map`. Use ``async for`` (ideally inside
        ``async with runner.map_iter(...) as results:``); every check of
        :meth:`map` happens when iteration starts.
        """
        request = MapRequest(
            graph=graph,
            values=values,
            input_values=input_values,
            map_over=map_over,
            map_mode=map_mode,
            clone=clone,
            select=select,
            on_missing=on_missing,
            entrypoint=entrypoint,
            error_handling=error_handling,
            max_concurrency=max_concurrency,
            event_processors=event_processors,
            workflow_id=workflow_id,
        )
        return MapStream(self, request, concurrent=True)
