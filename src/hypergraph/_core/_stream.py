"""``map_iter``: the batch worker pool feeding results to the caller as items finish.

The pool runs in one producer task owned by the iterator. It hands each result
through a zero-capacity channel, so a worker that finished an item waits until the
caller has taken it before starting another (memory stays bounded whatever N is).
Closing the iterator (or leaving its ``async with`` block) cancels the producer and
waits until every item has unwound.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import TYPE_CHECKING, Any, Self

import anyio

from hypergraph._core._calls import MapRequest, enter_call, finish_call
from hypergraph._core._context import need_loop
from hypergraph._core._map_calls import PreparedMap, execute_batch, prepare_map

if TYPE_CHECKING:
    from types import TracebackType

    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

    from hypergraph._core._runner import BaseRunner
    from hypergraph.results import RunResult

__all__ = ("MapStream",)


class _Failure:
    """Carries the first failure of a fail-fast batch to the consumer."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class MapStream:
    """Async iterator of ``(index, RunResult)`` pairs in completion order.

    Also an async context manager; ``aclose()`` cancels unfinished items.
    """

    def __init__(
        self, runner: BaseRunner, request: MapRequest, *, concurrent: bool
    ) -> None:
        self._runner = runner
        self._request = request
        self._concurrent = concurrent
        self._started = False
        self._closed = False
        self._producer: asyncio.Task[None] | None = None
        self._receive: MemoryObjectReceiveStream[Any] | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def start(self) -> None:
        """Run the pre-flight checks and start the batch (first call only)."""
        if self._started:
            return
        self._started = True
        # Every pre-flight check happens here, before anything runs (B92).
        prepared = prepare_map(self._runner, self._request, concurrent=self._concurrent)
        if prepared.source.count == 0:
            self._closed = True
            return
        await need_loop()
        send, receive = anyio.create_memory_object_stream[Any](0)
        self._receive = receive
        context = contextvars.copy_context()
        # The producer must not reference this stream: an iterator dropped
        # without aclose() (``async for ... break``) is then collected, and
        # __del__ cancels the producer instead of leaving it blocked forever.
        self._producer = asyncio.get_running_loop().create_task(
            _produce(self._runner, self._request, prepared, send), context=context
        )

    async def __anext__(self) -> tuple[int, RunResult]:
        await self.start()
        await need_loop()
        if self._closed or self._receive is None:
            raise StopAsyncIteration
        try:
            item = await self._receive.receive()
        except anyio.EndOfStream:
            await self.aclose()
            raise StopAsyncIteration from None
        if isinstance(item, _Failure):
            await self.aclose()
            raise item.error
        return item  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Cancel unfinished items and wait until none is running (idempotent)."""
        await need_loop()
        self._closed = True
        producer, self._producer = self._producer, None
        if producer is not None:
            if not producer.done():
                producer.cancel()
            # Shielded: closing must finish even if our caller is being cancelled.
            with anyio.CancelScope(shield=True):
                await asyncio.wait({producer})
        if self._receive is not None:
            self._receive.close()
        if producer is not None and not producer.cancelled():
            error = producer.exception()
            if error is not None:
                raise error

    def __del__(self) -> None:
        # Best effort for iterators dropped without close(): stop the producer.
        # A SyncRunner's loop runs the cancellation on its next call or close().
        if self._receive is not None:
            self._receive.close()  # sync; leaves no unclosed-stream warning
        producer = self._producer
        if producer is not None and not producer.done():
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                producer.get_loop().call_soon_threadsafe(producer.cancel)


async def _produce(
    runner: BaseRunner,
    request: MapRequest,
    prepared: PreparedMap,
    send: MemoryObjectSendStream[Any],
) -> None:
    token = enter_call(prepared.call)
    try:
        async with send:
            try:
                await execute_batch(runner, request, prepared, _Deliver(send))
            except Exception as exc:  # noqa: BLE001 - forwarded to the consumer
                with contextlib.suppress(anyio.BrokenResourceError):
                    await send.send(_Failure(exc))
    finally:
        await finish_call(prepared.call, token)


class _Deliver:
    """Sends each finished item to the consumer (waits until it is taken)."""

    __slots__ = ("_send",)

    def __init__(self, send: MemoryObjectSendStream[Any]) -> None:
        self._send = send

    def __call__(self, index: int, result: RunResult) -> Any:
        return self._send.send((index, result))
