"""Batches: expand mapped inputs into items and run them on a pool of workers.

One task group per batch holds at most ``workers`` tasks that pull item indices
from a shared counter (spec 00 §3: a task per item costs an order of magnitude
more). Used by ``runner.map()``/``map_iter()`` and by mapped GraphNodes.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import structlog

from hypergraph._checkpoint._types import WorkflowStatus
from hypergraph._core._context import CANCELLED, CallContext, first_exception, need_loop
from hypergraph._core._emit import Emitter
from hypergraph._graph_node import check_mode
from hypergraph._ids import child_workflow_id, new_run_id
from hypergraph._logging import BATCH_FINISHED, BATCH_STARTED
from hypergraph._plan import MISSING, NodePlan, Plan, plan_for
from hypergraph._runlog import MapLog
from hypergraph.exceptions import GraphConfigError
from hypergraph.results import RunResult, RunStatus

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Sequence

    from hypergraph._checkpoint._store import Session
    from hypergraph._core._kinds import NodeKinds
    from hypergraph._core._recorder import Recorder

__all__ = ("ItemSource", "check_bounded", "run_items", "run_mapped_node")

UNLIMITED_GUARD = 10_000


def check_bounded(call: CallContext, count: int) -> None:
    """Refuse an unbounded async fan-out too big to run all at once (B-guard)."""
    if (
        call.concurrent
        and call.is_async_runner
        and call.limiter is None
        and count > UNLIMITED_GUARD
    ):
        raise ValueError(
            f"Too many map tasks without a concurrency limit: {count}. Set "
            f"max_concurrency or keep inputs at <= {UNLIMITED_GUARD}.\n\nHow to "
            "fix: pass max_concurrency=... (e.g. the rate your API allows)."
        )


class ItemSource:
    """Builds item i's inputs on demand (no list of N dicts is ever materialised)."""

    __slots__ = ("_broadcast", "_cloned", "_lengths", "_mapped", "_mode", "count")

    def __init__(
        self,
        values: dict[str, Any],
        map_over: Sequence[str],
        mode: str,
        clone: bool | Sequence[str],
    ) -> None:
        check_mode(mode, name="map_mode")
        self._mode = mode
        self._mapped = [(name, values[name]) for name in map_over]
        broadcast = {k: v for k, v in values.items() if k not in map_over}
        if clone is True:
            cloned = tuple(broadcast)
        elif clone is False:
            cloned = ()
        else:
            cloned = tuple(c for c in clone if c in broadcast)
        for name in cloned:
            _check_deepcopy(name, broadcast[name])
        self._cloned = cloned
        self._broadcast = broadcast
        self._lengths = [len(seq) for _, seq in self._mapped]
        if mode == "zip":
            if len(set(self._lengths)) > 1:
                shown = dict(zip(map_over, self._lengths, strict=True))
                raise ValueError(
                    "map_over parameters must have equal lengths in zip mode. Got "
                    f"lengths: {shown}\n\nHow to fix: pass sequences of equal length, "
                    "or use map_mode='product' for every combination."
                )
            self.count = self._lengths[0] if self._lengths else 0
        else:
            total = 1
            for length in self._lengths:
                total *= length
            self.count = total

    def positions(self, index: int) -> tuple[int, ...]:
        """Element index of each mapped sequence for item ``index``."""
        if self._mode == "zip":
            return (index,) * len(self._mapped)
        out = []
        for length in reversed(self._lengths):
            index, position = divmod(index, length)
            out.append(position)
        return tuple(reversed(out))

    def inputs(self, index: int) -> dict[str, Any]:
        """The full input dict of item ``index``."""
        if self._mode == "zip" and not self._cloned:
            # The common case, once per item: zip without clones.
            item = dict(self._broadcast)
            for name, seq in self._mapped:
                item[name] = seq[index]
            return item
        item = dict(self._broadcast)
        for name in self._cloned:
            item[name] = copy.deepcopy(item[name])
        for (name, seq), position in zip(
            self._mapped, self.positions(index), strict=True
        ):
            item[name] = seq[position]
        return item


def _check_deepcopy(name: str, value: Any) -> None:
    try:
        copy.deepcopy(value)
    except Exception as exc:
        raise GraphConfigError(
            f"Parameter {name!r} cannot be deep-copied for clone "
            f"({type(exc).__name__}: {exc}).\n\nHow to fix: leave it out of "
            "clone=[...] so it is shared, or bind it on the inner graph with "
            "graph.bind(...)."
        ) from exc


class _Pool:
    """State shared by the workers of one batch."""

    __slots__ = (
        "count",
        "fail_fast",
        "first_error",
        "group",
        "next_index",
        "on_result",
        "run_item",
    )

    def __init__(
        self,
        count: int,
        run_item: Callable[[int], Awaitable[RunResult]],
        on_result: Callable[[int, RunResult], Awaitable[None] | None],
        fail_fast: bool,
    ) -> None:
        self.count = count
        self.run_item = run_item
        self.on_result = on_result
        self.fail_fast = fail_fast
        self.next_index = 0
        self.first_error: BaseException | None = None
        self.group: anyio.abc.TaskGroup | None = None

    async def worker(self) -> None:
        while self.next_index < self.count and self.first_error is None:
            index = self.next_index
            self.next_index += 1
            result = await self.run_item(index)
            if self.fail_fast and result.status is RunStatus.FAILED:
                # The failed item is raised, never delivered (B31, B93).
                if self.first_error is None:
                    self.first_error = result.error
                    assert self.group is not None
                    # Stop everything: no new items, in-flight ones cancelled.
                    self.group.cancel_scope.cancel()
                return
            pending = self.on_result(index, result)
            if pending is not None:
                await pending


async def run_items(
    count: int,
    run_item: Callable[[int], Awaitable[RunResult]],
    on_result: Callable[[int, RunResult], Awaitable[None] | None],
    *,
    concurrent: bool,
    workers: int | None,
    fail_fast: bool,
) -> None:
    """Run items ``0..count-1``, deliver each result, and (fail-fast) raise the first.

    Sequential mode runs items in index order on the current task. Concurrent mode
    runs a pool of ``workers`` tasks (or, when None, grows the pool one worker at a
    time while every worker is waiting, so items that never suspend need one task).
    """
    if not concurrent:
        for index in range(count):
            result = await run_item(index)
            if fail_fast and result.status is RunStatus.FAILED:
                assert result.error is not None
                raise result.error
            pending = on_result(index, result)
            if pending is not None:
                await pending
        return
    await need_loop()
    pool = _Pool(count, run_item, on_result, fail_fast)
    try:
        await _run_pool(pool, count, workers)
    except BaseExceptionGroup as group_error:
        # Callers get one original exception, never an ExceptionGroup (B31).
        raise first_exception(group_error) from None


async def _run_pool(pool: _Pool, count: int, workers: int | None) -> None:
    async with anyio.create_task_group() as group:
        pool.group = group
        if workers is not None:
            for _ in range(min(workers, count)):
                group.start_soon(pool.worker)
        else:
            while pool.next_index < count and pool.first_error is None:
                group.start_soon(pool.worker)
                # Let the new worker run until it waits; only then add another.
                await anyio.lowlevel.checkpoint()
    if pool.first_error is not None:
        raise pool.first_error


class _Tally:
    """Counts item outcomes on their way to the real ``on_result``."""

    __slots__ = ("count", "deliver", "failed", "paused")

    def __init__(
        self, count: int, deliver: Callable[[int, RunResult], Awaitable[None] | None]
    ) -> None:
        self.count = count
        self.deliver = deliver
        self.failed = 0
        self.paused = 0

    def __call__(self, index: int, result: RunResult) -> Awaitable[None] | None:
        if result.status is RunStatus.FAILED:
            self.failed += 1
        elif result.status is RunStatus.PAUSED:
            self.paused += 1
        return self.deliver(index, result)

    def outcome(self) -> tuple[RunStatus, str | None]:
        """The batch's status for its RunEnd event (O35)."""
        if self.failed:
            return RunStatus.FAILED, f"{self.failed} of {self.count} items failed"
        if self.paused:
            return RunStatus.PAUSED, None
        return RunStatus.COMPLETED, None


class _Committing:
    """After each item, nudge the session's writer (group commit) and yield to it."""

    __slots__ = ("deliver", "session")

    def __init__(
        self,
        session: Session,
        deliver: Callable[[int, RunResult], Awaitable[None] | None],
    ) -> None:
        self.session = session
        self.deliver = deliver

    async def __call__(self, index: int, result: RunResult) -> None:
        session = self.session
        session.wake()
        if session.backlogged:
            await session.flush()  # back-pressure: the writer fell far behind
        else:
            # Let the writer hand its group to the database thread; items keep
            # running while the commit happens there.
            await anyio.lowlevel.checkpoint()
        pending = self.deliver(index, result)
        if pending is not None:
            await pending


async def run_batch(
    call: CallContext,
    count: int,
    run_item: Callable[[int], Awaitable[RunResult]],
    on_result: Callable[[int, RunResult], Awaitable[None] | None],
    *,
    emitter: Emitter | None,
    workflow_id: str | None,
    fail_fast: bool,
    size: int | None = None,
    prelude: Callable[[], Awaitable[None]] | None = None,
    session: Session | None = None,
    run_id: str | None = None,
    graph_name: str = "",
) -> None:
    """``run_items`` with map-level events (O34) and group commit when persisted.

    ``size`` is the batch's item count for events when some items were restored
    instead of run (``count`` is what actually runs); ``prelude`` runs right after
    the map-level start (it emits the restored items' events).
    """
    # The batch's log lines and processor warnings carry its ids.
    with structlog.contextvars.bound_contextvars(
        run_id=run_id, workflow_id=workflow_id, graph=graph_name
    ):
        await _run_batch(
            call,
            count,
            run_item,
            on_result,
            emitter=emitter,
            workflow_id=workflow_id,
            fail_fast=fail_fast,
            size=size,
            prelude=prelude,
            session=session,
        )


async def _run_batch(
    call: CallContext,
    count: int,
    run_item: Callable[[int], Awaitable[RunResult]],
    on_result: Callable[[int, RunResult], Awaitable[None] | None],
    *,
    emitter: Emitter | None,
    workflow_id: str | None,
    fail_fast: bool,
    size: int | None,
    prelude: Callable[[], Awaitable[None]] | None,
    session: Session | None,
) -> None:
    start = time.perf_counter()
    tally = _Tally(size if size is not None else count, on_result)
    # Outcome counting is only for the batch's end event and log line.
    observed = emitter is not None or call.log is not None
    deliver: Callable[[int, RunResult], Awaitable[None] | None] = (
        tally if observed else on_result
    )
    if session is not None:
        deliver = _Committing(session, deliver)
    if emitter is not None:
        await emitter.run_start(workflow_id, is_map=True, size=tally.count)
    if call.log is not None:
        call.log.info(BATCH_STARTED, workflow_id=workflow_id, items=tally.count)
    try:
        if prelude is not None:
            await prelude()
        if session is None:
            await _pool(call, count, run_item, deliver, fail_fast)
        else:
            await _pool_with_writer(call, count, run_item, deliver, fail_fast, session)
    except CANCELLED:
        if emitter is not None:
            await emitter.cancelled((time.perf_counter() - start) * 1000)
        raise
    except Exception as exc:
        if emitter is not None:
            await emitter.run_end(
                RunStatus.FAILED, str(exc), (time.perf_counter() - start) * 1000
            )
        raise
    status, error = tally.outcome()
    if call.log is not None:
        call.log.info(
            BATCH_FINISHED,
            workflow_id=workflow_id,
            items=tally.count,
            failed=tally.failed,
            paused=tally.paused,
            duration_ms=round((time.perf_counter() - start) * 1000, 3),
        )
    if emitter is not None:
        await emitter.run_end(status, error, (time.perf_counter() - start) * 1000)


async def _pool(
    call: CallContext,
    count: int,
    run_item: Callable[[int], Awaitable[RunResult]],
    deliver: Callable[[int, RunResult], Awaitable[None] | None],
    fail_fast: bool,
) -> None:
    await run_items(
        count,
        run_item,
        deliver,
        concurrent=call.concurrent,
        workers=None if call.limiter is None else call.limiter.total,
        fail_fast=fail_fast,
    )


async def _pool_with_writer(
    call: CallContext,
    count: int,
    run_item: Callable[[int], Awaitable[RunResult]],
    deliver: Callable[[int, RunResult], Awaitable[None] | None],
    fail_fast: bool,
    session: Session,
) -> None:
    """The pool beside the session's writer task, which commits in groups."""
    await need_loop()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(session.writer)
            try:
                await _pool(call, count, run_item, deliver, fail_fast)
            finally:
                # Shielded: what finished must be committed even when the batch
                # fails or is cancelled (D37, D38).
                with anyio.CancelScope(shield=True):
                    await session.stop_writer()
    except BaseExceptionGroup as group_error:
        raise first_exception(group_error) from None


class _MappedItem:
    """Runs item i of a mapped GraphNode (a named callable for the pool)."""

    __slots__ = ("batch", "inner", "parent", "path", "run", "source")

    def __init__(
        self,
        run: NodeKinds,
        inner: Plan,
        source: ItemSource,
        path: str,
        parent: str | None,
        batch: Recorder | None,
    ) -> None:
        self.run = run
        self.inner = inner
        self.source = source
        self.path = path
        self.parent = parent
        self.batch = batch  # the persisted batch parent "<wf>/<node>" (D33)

    def __call__(self, index: int) -> Coroutine[Any, Any, RunResult]:
        from hypergraph._core._engine import run_graph

        run = self.run
        inputs = self.source.inputs(index)
        batch = self.batch
        recorder = (
            None
            if batch is None
            else batch.child(child_workflow_id(batch.run_id, index), self.inner, inputs)
        )
        return run_graph(
            self.inner,
            inputs,
            run.call,
            fail_fast=True,
            raise_errors=False,
            max_iterations=run.max_iterations,
            path=self.path,
            parent_span=self.parent,
            recorder=recorder,
            is_item=True,
        )


async def run_mapped_node(
    run: NodeKinds, plan: NodePlan, kwargs: dict[str, Any], parent: str | None
) -> tuple[Any, Any]:
    """Execute a mapped GraphNode: one inner run per item, outputs as aligned lists."""
    mapping = plan.mapping
    assert mapping is not None
    assert plan.inner is not None
    _check_mapped_values(plan, kwargs, mapping.params)
    source = ItemSource(kwargs, mapping.params, mapping.mode, mapping.clone)
    call: CallContext = run.call
    inner = plan_for(plan.inner)
    check_bounded(call, source.count)
    results: list[RunResult | None] = [None] * source.count
    emitter = None
    if call.events is not None:
        emitter = Emitter(call, new_run_id(), inner.name, parent)
        parent = emitter.span
    batch = run._child_recorder(plan, inner, kwargs, kind="map")
    raised = True
    try:
        await run_batch(
            call,
            source.count,
            _MappedItem(run, inner, source, f"{run.path}{plan.name}/", parent, batch),
            Keep(results),
            emitter=emitter,
            workflow_id=None if batch is None else batch.run_id,
            run_id=None if emitter is None else emitter.run_id,
            graph_name=inner.name,
            fail_fast=mapping.error_handling == "raise",
        )
        raised = False
    finally:
        if batch is not None:
            failed = any(
                r is not None and r.status is RunStatus.FAILED for r in results
            )
            status = (
                WorkflowStatus.FAILED if raised or failed else WorkflowStatus.COMPLETED
            )
            await batch.finish(status, batch.elapsed_ms(), wait=False)
    graph_node = plan.node
    columns = [
        [
            None
            if r is None or r.status is not RunStatus.COMPLETED
            else r.values.get(inner_name)
            for r in results
        ]
        for inner_name in graph_node._inner_outputs  # type: ignore[attr-defined]
    ]
    logs = [r.log for r in results if r is not None and r.log is not None]
    total = sum(log.total_duration_ms for log in logs)
    map_log = MapLog(inner.name, total, logs)
    out = tuple(columns) if columns else ()
    return out, map_log


class Keep:
    """Stores each item's result at its index."""

    __slots__ = ("results",)

    def __init__(self, results: list[RunResult | None]) -> None:
        self.results = results

    def __call__(self, index: int, result: RunResult) -> None:
        self.results[index] = result


def _check_mapped_values(
    plan: NodePlan, kwargs: dict[str, Any], params: Sequence[str]
) -> None:
    for name in params:
        value = kwargs.get(name, MISSING)
        if value is MISSING:
            raise ValueError(
                f"Mapped GraphNode {plan.name!r} has no value for mapped input "
                f"{name!r}.\n\nHow to fix: supply it, or wire a node that outputs it."
            )
        check_sequence(name, value)


def check_sequence(name: str, value: Any) -> None:
    """A mapped value must be a real sequence (not a str/bytes)."""
    from collections.abc import Sequence as _Seq

    if not isinstance(value, _Seq) or isinstance(value, str | bytes | bytearray):
        raise TypeError(
            f"map_over parameter {name!r} must be a list or other sequence, got "
            f"{type(value).__name__}.\n\nHow to fix: pass a list (wrap a single "
            f"value as [{name}])."
        )
