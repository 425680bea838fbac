"""The only code that enters an event loop from synchronous code.

A ``Portal`` keeps one event loop per calling thread and reuses it for every call
(no new loop per call). When the calling thread is already running a loop (a
notebook), the call runs on the portal's private background thread instead and
the caller blocks until it is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from asyncio.events import _set_running_loop
from typing import TYPE_CHECKING, Any, TypeVar

from hypergraph._core._context import CURRENT_CALL, LOOP_REQUEST
from hypergraph._core._inputs import check_reentry
from hypergraph.exceptions import IncompatibleRunnerError

if TYPE_CHECKING:
    from collections.abc import Coroutine

__all__ = ("Portal",)

T = TypeVar("T")


class _Background:
    """A daemon thread running one event loop forever (for callers inside a loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._serve, args=(ready,), name="hypergraph-portal", daemon=True
        )
        self.thread.start()
        ready.wait()

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        finished = threading.Event()
        tasks: list[asyncio.Task[T]] = []

        def start() -> None:
            task = self.loop.create_task(coro)
            task.add_done_callback(lambda _: finished.set())
            tasks.append(task)

        self.loop.call_soon_threadsafe(start)
        try:
            finished.wait()
        except BaseException:
            # Ctrl-C while we wait: cancel the call on the loop and wait until it
            # has unwound, so no node keeps running behind the caller's back.
            self.loop.call_soon_threadsafe(lambda: tasks and tasks[0].cancel())
            finished.wait()
            raise
        return tasks[0].result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's unfinished tasks and run them until they have unwound."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if not pending:
        return
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


class Portal:
    """Blocking entry into the async core, reusing one loop per calling thread."""

    def __init__(self) -> None:
        self._loops: dict[int, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()
        self._background: _Background | None = None

    def call(self, coro: Coroutine[Any, Any, T], *, eager: bool = True) -> T:
        """Run ``coro`` to completion and return its result (or raise its error).

        With ``eager`` the coroutine is first driven without a task, which is
        free while it only runs plain sync code; the engine asks for the loop
        (``need_loop``) before anything that can suspend.

        Raises:
            IncompatibleRunnerError: called from a node running on an engine loop.
        """
        current = CURRENT_CALL.get()
        if current is not None and current.loop_thread == threading.get_ident():
            return self._refuse_reentry(coro)
        if asyncio._get_running_loop() is not None:
            return self._background_loop().call(coro)
        return self._run_here(coro, eager=eager)

    @staticmethod
    def _refuse_reentry(coro: Coroutine[Any, Any, T]) -> T:
        """Called from a node on an engine loop: let the core's checks raise.

        The core checks its arguments, then raises IncompatibleRunnerError
        (R6 order), all before it could need a loop; nothing can run here.
        """
        try:
            contextvars.copy_context().run(coro.send, None)
        finally:
            coro.close()
        # Reached when the coroutine skips the core's checks (next() on a
        # SyncRunner.map_iter started outside the node): same error, same fix.
        check_reentry(runner_blocks=True)
        raise IncompatibleRunnerError(  # pragma: no cover - check_reentry raised
            "SyncRunner cannot be called from inside a node on hypergraph's loop."
        )

    def _background_loop(self) -> _Background:
        with self._lock:
            if self._background is None:
                self._background = _Background()
            return self._background

    def _loop(self) -> asyncio.AbstractEventLoop:
        ident = threading.get_ident()
        loop = self._loops.get(ident)
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            with self._lock:
                self._loops[ident] = loop
        return loop

    def _run_here(self, coro: Coroutine[Any, Any, T], *, eager: bool) -> T:
        loop = self._loop()
        context = contextvars.copy_context()
        if not eager:
            return self._finish_on_loop(loop, loop.create_task(coro, context=context))
        # Drive the core directly first: while every node is plain sync code it
        # never suspends, and a whole call costs no event-loop round trip. The
        # loop is marked as running so code inside behaves as it would on it.
        _set_running_loop(loop)
        try:
            request = context.run(coro.send, None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            _set_running_loop(None)
        if request is not LOOP_REQUEST:  # pragma: no cover - engine invariant
            coro.close()
            raise RuntimeError(f"hypergraph engine yielded {request!r} outside a task")
        # The core asked for the loop (an async node, a thread hop, a task group):
        # the rest of the same call continues as a task, in the same context.
        return self._finish_on_loop(loop, loop.create_task(coro, context=context))

    @staticmethod
    def _finish_on_loop(loop: asyncio.AbstractEventLoop, task: asyncio.Task[T]) -> T:
        try:
            return loop.run_until_complete(task)
        except BaseException:
            # Ctrl-C lands in the loop, not in the task: cancel the task and let it
            # unwind (fail-fast, processor shutdown, checkpoint finalisation) before
            # the KeyboardInterrupt continues to the caller.
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):  # the original error wins
                    loop.run_until_complete(task)
            raise

    def close(self) -> None:
        """Close every loop this portal created (idempotent)."""
        with self._lock:
            loops = list(self._loops.values())
            self._loops.clear()
            background, self._background = self._background, None
        can_drive = asyncio._get_running_loop() is None
        for loop in loops:
            if loop.is_running() or loop.is_closed():
                continue
            try:
                # Unwind what is still pending (a map_iter dropped unfinished)
                # and finalise suspended async generators, when this thread can
                # drive a loop (it cannot while it runs one of its own).
                if can_drive:
                    _cancel_pending(loop)
                    loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
        if background is not None:
            background.close()
