"""The core's ``map()`` entry point: check a batch, then run (or restore) its items."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from hypergraph._core._batch import (
    ItemSource,
    Keep,
    check_bounded,
    check_sequence,
    run_batch,
)
from hypergraph._core._batch_store import BatchStore, plan_batch
from hypergraph._core._calls import (
    DEFAULT_MAX_ITERATIONS,
    MapRequest,
    _check_graph,
    _check_runner,
    _new_context,
    enter_call,
    finish_call,
)
from hypergraph._core._context import CallContext, need_loop
from hypergraph._core._emit import Emitter
from hypergraph._core._engine import run_graph
from hypergraph._core._inputs import (
    MAP_RESERVED,
    check_map_options,
    check_options,
    check_reentry,
    check_run_inputs,
    check_scope_overrides,
    check_workflow_id,
    merge_inputs,
    normalise_map_over,
    split_responses,
)
from hypergraph._core._lineage import run_config
from hypergraph._ids import child_workflow_id, new_run_id
from hypergraph.exceptions import MissingInputError
from hypergraph.results import MapResult, RunResult, RunStatus

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from hypergraph._checkpoint._store import Checkpointer
    from hypergraph._core._runner import BaseRunner
    from hypergraph._plan import Plan

__all__ = ("PreparedMap", "execute_batch", "map_call", "prepare_map")


@dataclass(slots=True)
class PreparedMap:
    """A validated map call, ready to execute."""

    plan: Plan
    source: ItemSource
    map_over: tuple[str, ...]
    call: CallContext
    responses: frozenset[str]
    nested: dict[str, dict[str, Any]] | None
    fail_fast: bool
    run_id: str
    emitter: Emitter | None

    @property
    def item_parent(self) -> str | None:
        """Span id the items' runs hang under (the map-level span)."""
        return None if self.emitter is None else self.emitter.span


def prepare_map(
    runner: BaseRunner, request: MapRequest, *, concurrent: bool
) -> PreparedMap:
    """B1-B20: every check that must pass before any item runs."""
    inputs = merge_inputs(request.values, request.input_values, MAP_RESERVED)
    check_reentry(not runner.capabilities.returns_coroutine)
    graph = _check_graph(request.graph)
    graph_inputs = graph.inputs.all
    map_over = normalise_map_over(request.map_over, graph_inputs)
    missing = [name for name in map_over if name not in inputs]
    if missing:
        raise MissingInputError(missing, provided=list(inputs))
    for name in map_over:
        check_sequence(name, inputs[name])
    clone = check_map_options(
        map_mode=request.map_mode,
        clone=request.clone,
        map_over=map_over,
        graph_inputs=graph_inputs,
    )
    source = ItemSource(inputs, map_over, request.map_mode, clone)
    check_options(
        on_missing=request.on_missing,
        error_handling=request.error_handling,
        max_iterations=None,
        max_concurrency=request.max_concurrency,
    )
    check_workflow_id(request.workflow_id)
    check_scope_overrides(select=request.select, entrypoint=request.entrypoint)
    plan = _check_runner(runner, graph)
    check_run_inputs(plan, inputs)
    call = _new_context(
        concurrent=concurrent,
        max_concurrency=request.max_concurrency,
        is_async=runner.capabilities.returns_coroutine,
        max_iterations=DEFAULT_MAX_ITERATIONS,
        processors=request.event_processors,
    )
    check_bounded(call, source.count)
    _, responses, nested = split_responses(plan, dict.fromkeys(inputs))
    run_id = new_run_id()
    return PreparedMap(
        plan=plan,
        source=source,
        map_over=map_over,
        call=call,
        responses=responses,
        nested=nested,
        fail_fast=request.error_handling == "raise",
        run_id=run_id,
        emitter=None if call.events is None else Emitter(call, run_id, plan.name, None),
    )


class ItemRunner:
    """Runs the k-th item to execute of a prepared map (a callable for the pool)."""

    __slots__ = ("on_missing", "prepared", "store", "todo", "workflow_id")

    def __init__(
        self,
        prepared: PreparedMap,
        request: MapRequest,
        store: BatchStore | None = None,
    ) -> None:
        self.prepared = prepared
        self.on_missing = request.on_missing
        self.workflow_id = request.workflow_id
        self.store = store
        # Restored items never run: the pool walks only the ones left to do.
        self.todo = None if store is None else store.todo

    def __call__(self, position: int) -> Coroutine[Any, Any, RunResult]:
        # Returns the item's coroutine directly: one frame fewer per item.
        prepared = self.prepared
        index = position if self.todo is None else self.todo[position]
        inputs = prepared.source.inputs(index)
        if prepared.nested is not None:
            inputs = {k: v for k, v in inputs.items() if "." not in k}
        recorder = None
        workflow_id = self.workflow_id
        if workflow_id is not None:
            workflow_id = child_workflow_id(workflow_id, index)
        if self.store is not None:
            recorder = self.store.start_item(index, inputs)
            workflow_id = self.store.child_ids[index]
        return run_graph(
            prepared.plan,
            inputs,
            prepared.call,
            # Like run(): under "raise" an item's failure cancels its own
            # in-flight nodes too, not only the other items.
            fail_fast=prepared.fail_fast,
            raise_errors=False,
            max_iterations=prepared.call.max_iterations,
            workflow_id=workflow_id,
            on_missing=self.on_missing,
            responses=prepared.responses,
            nested_responses=_nested_for(prepared, index),
            parent_span=prepared.item_parent,
            recorder=recorder,
            is_item=True,
        )


def _nested_for(prepared: PreparedMap, index: int) -> dict[str, dict[str, Any]] | None:
    if prepared.nested is None:
        return None
    _, _, nested = split_responses(prepared.plan, prepared.source.inputs(index))
    return nested


class _ToIndex:
    """Maps the pool's position back to the item index and tallies the outcome."""

    __slots__ = ("deliver", "store", "todo")

    def __init__(
        self, store: BatchStore, deliver: Callable[[int, RunResult], Any]
    ) -> None:
        self.store = store
        self.todo = store.todo
        self.deliver = deliver

    def __call__(self, position: int, result: RunResult) -> Awaitable[None] | None:
        self.store.note(result)
        pending: Awaitable[None] | None = self.deliver(self.todo[position], result)
        return pending


async def execute_batch(
    runner: BaseRunner,
    request: MapRequest,
    prepared: PreparedMap,
    deliver: Callable[[int, RunResult], Any],
) -> None:
    """Run every item of a prepared map, persisting it when it has a workflow id.

    Restored items (04 D35) are delivered first, in index order.
    """
    checkpointer = runner.checkpointer
    if checkpointer is None or request.workflow_id is None:
        await run_batch(
            prepared.call,
            prepared.source.count,
            ItemRunner(prepared, request),
            deliver,
            emitter=prepared.emitter,
            run_id=prepared.run_id,
            graph_name=prepared.plan.name,
            workflow_id=request.workflow_id,
            fail_fast=prepared.fail_fast,
        )
        return
    await _execute_persisted_batch(checkpointer, request, prepared, deliver)


async def _execute_persisted_batch(
    checkpointer: Checkpointer,
    request: MapRequest,
    prepared: PreparedMap,
    deliver: Callable[[int, RunResult], Any],
) -> None:
    await need_loop()
    start = time.perf_counter()
    batch_id = request.workflow_id
    assert batch_id is not None
    graph = prepared.plan.graph
    async with checkpointer.session() as session:
        store = await plan_batch(
            checkpointer,
            session,
            graph,
            prepared.plan,
            prepared.source,
            batch_id=batch_id,
            map_over=list(prepared.map_over),
            map_mode=request.map_mode,
        )
        await session.create_run(
            batch_id,
            graph_name=prepared.plan.name,
            config=run_config(
                graph,
                kind="map",
                map_over=list(prepared.map_over),
                map_mode=request.map_mode,
                item_count=prepared.source.count,
            ),
        )
        raised = True
        try:
            await run_batch(
                prepared.call,
                len(store.todo),
                ItemRunner(prepared, request, store),
                _ToIndex(store, deliver),
                emitter=prepared.emitter,
                run_id=prepared.run_id,
                graph_name=prepared.plan.name,
                workflow_id=batch_id,
                fail_fast=prepared.fail_fast,
                size=prepared.source.count,
                prelude=_Restored(prepared, store, deliver),
                session=session,
            )
            raised = False
        finally:
            # Shielded: a failed or cancelled batch still records its end (D37).
            with anyio.CancelScope(shield=True):
                await store.finish((time.perf_counter() - start) * 1000, raised=raised)


class _Restored:
    """Hands over restored items first; they emit only RunStart and RunEnd (O36)."""

    __slots__ = ("deliver", "prepared", "store")

    def __init__(
        self,
        prepared: PreparedMap,
        store: BatchStore,
        deliver: Callable[[int, RunResult], Any],
    ) -> None:
        self.prepared = prepared
        self.store = store
        self.deliver = deliver

    async def __call__(self) -> None:
        prepared = self.prepared
        emitter = prepared.emitter
        for index in sorted(self.store.restored):
            result = self.store.restored[index]
            if emitter is not None:
                item = Emitter(
                    prepared.call, result.run_id, prepared.plan.name, emitter.span
                )
                await item.run_start(result.workflow_id)
                await item.run_end(RunStatus.COMPLETED, None, 0.0)
            pending = self.deliver(index, result)
            if pending is not None:
                await pending


async def map_call(
    runner: BaseRunner, request: MapRequest, *, concurrent: bool
) -> MapResult:
    """Run a whole batch and collect every item's result in input order."""
    start = time.perf_counter()
    prepared = prepare_map(runner, request, concurrent=concurrent)
    count = prepared.source.count
    graph_name = prepared.plan.name
    if count == 0:
        return MapResult(
            (),
            run_id=None,
            total_duration_ms=0.0,
            map_over=prepared.map_over,
            map_mode=request.map_mode,
            graph_name=graph_name,
            workflow_id=request.workflow_id,
        )
    results: list[RunResult | None] = [None] * count
    token = enter_call(prepared.call)
    try:
        await execute_batch(runner, request, prepared, Keep(results))
    finally:
        await finish_call(prepared.call, token)
    return MapResult(
        [r for r in results if r is not None],
        run_id=prepared.run_id,
        total_duration_ms=(time.perf_counter() - start) * 1000,
        map_over=prepared.map_over,
        map_mode=request.map_mode,
        graph_name=graph_name,
        workflow_id=request.workflow_id,
    )
