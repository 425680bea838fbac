"""Per-call context: what every run, node and item of one top-level call shares.

A top-level ``run()``/``map()`` creates one ``CallContext``. Nested graphs and map
items receive it explicitly; runner calls made from *inside* a node find it via a
context variable, so an inner call inherits the outer ``max_concurrency`` limiter
instead of replacing it (spec 03 B26).
"""

from __future__ import annotations

import asyncio
import threading
import types
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final

from hypergraph._core._log import call_logger
from hypergraph._ids import new_span_prefix

if TYPE_CHECKING:
    from collections.abc import Generator

    import anyio

    from hypergraph._core._limiter import Limiter
    from hypergraph._events import EventDispatcher

__all__ = (
    "CANCELLED",
    "CURRENT_CALL",
    "LOOP_REQUEST",
    "CallContext",
    "first_exception",
    "need_loop",
)


class CallContext:
    """State shared by everything one top-level call runs."""

    __slots__ = (
        "_span_prefix",
        "_thread_limiter",
        "concurrent",
        "events",
        "failure_paths",
        "in_task",
        "is_async_runner",
        "lends_slot",
        "limiter",
        "log",
        "log_nodes",
        "loop_thread",
        "max_iterations",
        "span_counter",
    )

    def __init__(
        self,
        *,
        concurrent: bool,
        limiter: Limiter | None,
        thread_limiter: anyio.CapacityLimiter | None = None,
        max_iterations: int,
        is_async_runner: bool,
        events: EventDispatcher | None = None,
    ) -> None:
        self.concurrent = concurrent
        # The call's event dispatcher, or None: without processors no event
        # object is ever built.
        self.events = events
        self.limiter = limiter
        # A runner called from inside a node body shares the outer limiter;
        # that body holds a slot while it waits, so the call lends it to its
        # own nodes (else max_concurrency=k nested calls would deadlock).
        self.lends_slot = False
        self._thread_limiter = thread_limiter
        self.max_iterations = max_iterations
        self.is_async_runner = is_async_runner
        # Structured logging: None unless the app configured structlog.
        self.log, self.log_nodes = call_logger()
        # Known to run inside an asyncio task (always, once need_loop() passed).
        self.in_task = is_async_runner
        self._span_prefix: str | None = None
        self.span_counter = 0
        self.loop_thread = threading.get_ident()
        # id(exc) -> (exc, "outer/inner/node"): where a failure happened, so
        # error_node can be reported without wrapping the exception.
        self.failure_paths: dict[int, tuple[BaseException, str]] = {}

    def thread_limiter(self) -> anyio.CapacityLimiter | None:
        """Worker-thread budget for blocking nodes: ``max_concurrency`` tokens.

        Created on first use (it needs a running event loop), and shared with
        runner calls made from inside this call's nodes.
        """
        if self._thread_limiter is None and self.limiter is not None:
            import anyio

            self._thread_limiter = anyio.CapacityLimiter(self.limiter.total)
        return self._thread_limiter

    @property
    def span_prefix(self) -> str:
        """Eight random hex characters shared by every span id of this call."""
        prefix = self._span_prefix
        if prefix is None:
            prefix = self._span_prefix = new_span_prefix()
        return prefix

    def span_id(self, counter: int) -> str:
        """The 16-hex span id for a counter value of this call."""
        return f"{self.span_prefix}{counter:08x}"

    def next_span(self) -> int:
        """A fresh span counter value (span id = prefix + counter)."""
        self.span_counter += 1
        return self.span_counter

    def fail_path(self, exc: BaseException) -> str | None:
        """Where ``exc`` was raised, as recorded by the engine."""
        entry = self.failure_paths.get(id(exc))
        return entry[1] if entry is not None and entry[0] is exc else None


CURRENT_CALL: ContextVar[CallContext | None] = ContextVar(
    "hypergraph_current_call", default=None
)


# The backend is always asyncio (aiosqlite needs it), so cancellation is
# asyncio's; anyio.get_cancelled_exc_class() would need a running loop, which
# the sync shim's loop-free fast path does not have.
CANCELLED: Final = asyncio.CancelledError


class _LoopRequest:
    """Yielded to the sync shim when eagerly-driven code needs a real event loop."""

    __repr__ = lambda self: "LOOP_REQUEST"  # noqa: E731


LOOP_REQUEST: Final[Any] = _LoopRequest()


@types.coroutine
def need_loop() -> Generator[Any, None, None]:
    """Make sure we run inside an asyncio task before real async work.

    The sync shim may drive the engine coroutine directly (no task) while every
    node is plain sync code. Before anything that can suspend (an async node, a
    thread hop, a task group, a limiter wait) the engine awaits this: inside a
    task it returns at once; outside one it asks the shim to move the rest of the
    call onto the event loop.
    """
    if asyncio.current_task() is None:
        yield LOOP_REQUEST


def first_exception(error: BaseException) -> BaseException:
    """Unwrap a task group's exception group to the first real failure (B31)."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if not isinstance(inner, CANCELLED):
                return first_exception(inner)
        return first_exception(error.exceptions[0])
    return error
