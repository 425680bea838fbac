"""``SyncRunner``: each method is one blocking call into the core AsyncRunner uses."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Self

from hypergraph._core._calls import MapRequest, RunRequest, run_call
from hypergraph._core._inputs import UNSET
from hypergraph._core._map_calls import map_call
from hypergraph._core._runner import BaseRunner, RunnerCapabilities
from hypergraph._core._stream import MapStream
from hypergraph._sync_shim._portal import Portal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import TracebackType

    from hypergraph._graph import Graph
    from hypergraph.results import MapResult, RunResult

__all__ = ("SyncRunner",)


class SyncRunner(BaseRunner):
    """Runs graphs from ordinary (blocking) code.

    It runs everything ``AsyncRunner`` runs (async nodes included) on an event
    loop it keeps and reuses. Without ``max_concurrency`` nodes and items run one
    at a time, in order; with it, it schedules exactly like ``AsyncRunner``.
    Use it as a context manager (or call :meth:`close`) to release the loop early.

    Example:
        >>> from hypergraph import Graph, node
        >>> @node(output_name="y")
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> SyncRunner().run(Graph([double]), x=3)["y"]
        6
    """

    def __init__(self, cache: Any = None, checkpointer: Any = None) -> None:
        super().__init__(cache=cache, checkpointer=checkpointer)
        self._portal = Portal()
        # Close the loop(s) when the runner is collected or the interpreter exits.
        self._finalizer = weakref.finalize(self, self._portal.close)

    @property
    def capabilities(self) -> RunnerCapabilities:
        """Everything ``AsyncRunner`` supports; methods block instead of awaiting."""
        return self._capabilities

    def close(self) -> None:
        """Close the event loop(s) this runner keeps. The runner stays usable."""
        self._portal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def run(
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
        """Run ``graph`` once and return its :class:`RunResult` (blocking).

        Same arguments as :meth:`AsyncRunner.run`.
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
        concurrent = max_concurrency is not None
        return self._portal.call(run_call(self, request, concurrent=concurrent))

    def map(
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
        """Run ``graph`` once per item and return the :class:`MapResult` (blocking).

        Same arguments as :meth:`AsyncRunner.map`. The whole batch is one call
        into the core, not one per item.
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
        concurrent = max_concurrency is not None
        return self._portal.call(map_call(self, request, concurrent=concurrent))

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
    ) -> SyncMapIterator:
        """Run ``graph`` once per item, yielding ``(index, RunResult)`` as items finish.

        Same arguments as :meth:`map`. Use it in a ``with`` block (or call
        ``close()``) to cancel unfinished items early; checks run on the first
        ``next()``.
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
        concurrent = max_concurrency is not None
        stream = MapStream(self, request, concurrent=concurrent)
        return SyncMapIterator(stream, self._portal)


class SyncMapIterator:
    """Blocking iterator over ``(index, RunResult)`` pairs; also a context manager.

    Each ``next()`` is one blocking call into the core; between calls the
    batch's event loop is idle, so in-flight async items resume on the next call.
    """

    def __init__(self, stream: MapStream, portal: Portal) -> None:
        self._stream = stream
        self._portal = portal

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> tuple[int, RunResult]:
        try:
            return self._portal.call(self._stream.__anext__(), eager=False)
        except StopAsyncIteration:
            raise StopIteration from None
        except BaseException:
            # Ctrl-C or a raised item: make sure nothing keeps running.
            self.close()
            raise

    def close(self) -> None:
        """Cancel unfinished items and wait until none is running (idempotent)."""
        self._portal.call(self._stream.aclose(), eager=False)

    def __enter__(self) -> Self:
        self._portal.call(self._stream.start(), eager=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
