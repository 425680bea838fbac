"""The ``max_concurrency`` limiter: a semaphore that costs nothing when a slot is free.

anyio's ``CapacityLimiter`` yields to the event loop on every acquire; with
thousands of short node bodies that checkpoint dominates. This limiter hands out a
free slot synchronously and only waits (on an asyncio future) when all are taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

__all__ = ("Limiter",)


class Limiter:
    """At most ``total`` holders at once, shared by a whole top-level call."""

    __slots__ = ("_free", "_waiters", "peak", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.peak = 0  # most slots ever held at once (for tests and benchmarks)

    @property
    def in_use(self) -> int:
        """Slots currently held."""
        return self.total - self._free

    def try_acquire(self) -> bool:
        """Take a slot without waiting; False when none is free."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            used = self.total - self._free
            if used > self.peak:
                self.peak = used
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting in FIFO order when none is free."""
        if self.try_acquire():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            # Cancelled while waiting. If release() already handed us the slot,
            # pass it on so it is not lost; otherwise just leave the queue.
            if waiter.done() and not waiter.cancelled():
                self.release()
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        used = self.total - self._free
        if used > self.peak:
            self.peak = used

    def release(self) -> None:
        """Give a slot back, handing it straight to the oldest waiter if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                # The slot moves to the waiter without ever becoming free, so a
                # newcomer cannot overtake a task that has been waiting.
                waiter.set_result(None)
                return
        self._free += 1
