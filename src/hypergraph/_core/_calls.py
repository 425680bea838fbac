"""The two entry points of the core: one ``run()`` call and one ``map()`` call.

``AsyncRunner`` awaits these directly; ``SyncRunner`` enters them once per public
call through the sync shim. They check every argument first, build the call's
context (limiter, ids), and hand the work to the engine.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from hypergraph._core._batch import (
    UNLIMITED_GUARD,
    ItemSource,
    Keep,
    check_sequence,
    run_batch,
)
from hypergraph._core._context import CURRENT_CALL, CallContext, need_loop
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
from hypergraph._core._limiter import Limiter
from hypergraph._events import EventDispatcher
from hypergraph._graph import Graph
from hypergraph._ids import child_workflow_id, new_run_id
from hypergraph._plan import Plan, plan_for
from hypergraph.exceptions import IncompatibleRunnerError, MissingInputError
from hypergraph.results import MapResult, RunResult

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping, Sequence

    from hypergraph._core._runner import BaseRunner

__all__ = ("MapRequest", "RunRequest", "map_call", "run_call")

DEFAULT_MAX_ITERATIONS = 1000


@dataclass(slots=True)
class RunRequest:
    """The arguments of one ``run()`` call, as the caller gave them."""

    graph: Graph
    values: Mapping[str, Any] | None
    input_values: dict[str, Any]
    select: Any
    on_missing: str
    entrypoint: Any
    max_iterations: int | None
    max_concurrency: int | None
    error_handling: str
    event_processors: Sequence[Any] | None
    workflow_id: str | None
    checkpoint: Any = None
    override_workflow: bool = False
    fork_from: str | None = None
    retry_from: str | None = None


@dataclass(slots=True)
class MapRequest:
    """The arguments of one ``map()``/``map_iter()`` call."""

    graph: Graph
    values: Mapping[str, Any] | None
    input_values: dict[str, Any]
    map_over: Any
    map_mode: str
    clone: Any
    select: Any
    on_missing: str
    entrypoint: Any
    error_handling: str
    max_concurrency: int | None
    event_processors: Sequence[Any] | None
    workflow_id: str | None


def _check_graph(graph: object) -> Graph:
    if not isinstance(graph, Graph):
        raise TypeError(
            f"A runner needs a Graph, got {type(graph).__name__}.\n\nHow to fix: "
            "build one with Graph([...]) and pass it as the first argument."
        )
    return graph


def _check_runner(runner: BaseRunner, graph: Graph) -> Plan:
    """R6.2b-R6.4: capabilities, then executors (the plan compile)."""
    caps = runner.capabilities
    if not caps.supports_async_nodes:
        for node in graph.nodes.values():
            if node.is_async:
                raise IncompatibleRunnerError(
                    f"Node {node.name!r} is async, and {type(runner).__name__} cannot "
                    "run async nodes.\n\nHow to fix: use AsyncRunner or SyncRunner."
                )
    if not caps.supports_interrupts:
        found = _interrupts(graph)
        if found:
            raise IncompatibleRunnerError(
                f"{type(runner).__name__} cannot run interrupts: "
                f"{', '.join(found)}.\n\n"
                "How to fix: use AsyncRunner or SyncRunner."
            )
    return plan_for(graph)


def _interrupts(graph: Graph, prefix: str = "") -> list[str]:
    from hypergraph._graph_node import GraphNode

    found = []
    for node in graph.nodes.values():
        if node.is_interrupt:
            found.append(prefix + node.name)
        elif isinstance(node, GraphNode):
            found.extend(_interrupts(node.graph, f"{prefix}{node.name}/"))
    return found


def _check_persistence_args(request: RunRequest, runner: BaseRunner) -> None:
    if runner.checkpointer is None and (request.fork_from or request.retry_from):
        raise ValueError(
            "fork_from/retry_from require a checkpointer and workflow persistence to "
            "be enabled.\n\nHow to fix: create the runner with "
            "checkpointer=SqliteCheckpointer(...)."
        )


def _new_context(
    *,
    concurrent: bool,
    max_concurrency: int | None,
    is_async: bool,
    max_iterations: int,
    processors: Sequence[Any] | None,
) -> CallContext:
    outer = CURRENT_CALL.get()
    limiter: Limiter | None = None
    thread_limiter = None
    if (
        outer is not None
        and outer.limiter is not None
        and outer.loop_thread == threading.get_ident()
    ):
        # A runner called from inside a node shares the outer budget (B26).
        limiter = outer.limiter
        thread_limiter = outer.thread_limiter()
    elif max_concurrency is not None:
        limiter = Limiter(max_concurrency)
    return CallContext(
        concurrent=concurrent,
        limiter=limiter,
        thread_limiter=thread_limiter,
        max_iterations=max_iterations,
        is_async_runner=is_async,
        events=EventDispatcher(processors) if processors else None,
    )


async def finish_call(call: CallContext) -> None:
    """Shut the call's processors down once, after its final event (O44)."""
    events = call.events
    if events is None:
        return
    if not events.has_async:
        events.shutdown()
        return
    await need_loop()
    # Shielded: shutdown runs even when the call is being cancelled.
    with anyio.CancelScope(shield=True):
        await events.shutdown_async()


async def run_call(
    runner: BaseRunner, request: RunRequest, *, concurrent: bool
) -> RunResult:
    """Check a ``run()`` call's arguments (R6 order), then execute it."""
    inputs = merge_inputs(request.values, request.input_values)
    check_reentry(not runner.capabilities.returns_coroutine)
    graph = _check_graph(request.graph)
    plan = _check_runner(runner, graph)
    check_options(
        on_missing=request.on_missing,
        error_handling=request.error_handling,
        max_iterations=request.max_iterations,
        max_concurrency=request.max_concurrency,
    )
    check_workflow_id(request.workflow_id)
    check_scope_overrides(select=request.select, entrypoint=request.entrypoint)
    _check_persistence_args(request, runner)
    check_run_inputs(plan, inputs)
    state_inputs, responses, nested = split_responses(plan, inputs)
    max_iterations = request.max_iterations or DEFAULT_MAX_ITERATIONS
    call = _new_context(
        concurrent=concurrent,
        max_concurrency=request.max_concurrency,
        is_async=runner.capabilities.returns_coroutine,
        max_iterations=max_iterations,
        processors=request.event_processors,
    )
    token = CURRENT_CALL.set(call)
    try:
        raise_errors = request.error_handling == "raise"
        return await run_graph(
            plan,
            state_inputs,
            call,
            fail_fast=raise_errors,
            raise_errors=raise_errors,
            max_iterations=max_iterations,
            workflow_id=request.workflow_id,
            on_missing=request.on_missing,
            responses=responses,
            nested_responses=nested,
        )
    finally:
        CURRENT_CALL.reset(token)
        await finish_call(call)


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
    if (
        concurrent
        and runner.capabilities.returns_coroutine
        and call.limiter is None
        and source.count > UNLIMITED_GUARD
    ):
        raise ValueError(
            f"Too many map tasks without a concurrency limit: {source.count}. Set "
            f"max_concurrency or keep inputs at <= {UNLIMITED_GUARD}."
        )
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
    """Runs item i of a prepared map (a named callable for the worker pool)."""

    __slots__ = ("on_missing", "prepared", "workflow_id")

    def __init__(self, prepared: PreparedMap, request: MapRequest) -> None:
        self.prepared = prepared
        self.on_missing = request.on_missing
        self.workflow_id = request.workflow_id

    def __call__(self, index: int) -> Coroutine[Any, Any, RunResult]:
        # Returns the item's coroutine directly: one frame fewer per item.
        prepared = self.prepared
        inputs = prepared.source.inputs(index)
        nested = prepared.nested
        if nested is not None:
            inputs = {k: v for k, v in inputs.items() if "." not in k}
        return run_graph(
            prepared.plan,
            inputs,
            prepared.call,
            fail_fast=False,
            raise_errors=False,
            max_iterations=prepared.call.max_iterations,
            workflow_id=(
                None
                if self.workflow_id is None
                else child_workflow_id(self.workflow_id, index)
            ),
            on_missing=self.on_missing,
            responses=prepared.responses,
            nested_responses=_nested_for(prepared, index),
            parent_span=prepared.item_parent,
        )


def item_runner(prepared: PreparedMap, request: MapRequest) -> ItemRunner:
    """The callable the worker pool uses to run item i of this map."""
    return ItemRunner(prepared, request)


def _nested_for(prepared: PreparedMap, index: int) -> dict[str, dict[str, Any]] | None:
    if prepared.nested is None:
        return None
    _, _, nested = split_responses(prepared.plan, prepared.source.inputs(index))
    return nested


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
    token = CURRENT_CALL.set(prepared.call)
    try:
        await run_batch(
            prepared.call,
            count,
            item_runner(prepared, request),
            Keep(results),
            emitter=prepared.emitter,
            workflow_id=request.workflow_id,
            fail_fast=prepared.fail_fast,
        )
    finally:
        CURRENT_CALL.reset(token)
        await finish_call(prepared.call)
    return MapResult(
        [r for r in results if r is not None],
        run_id=prepared.run_id,
        total_duration_ms=(time.perf_counter() - start) * 1000,
        map_over=prepared.map_over,
        map_mode=request.map_mode,
        graph_name=graph_name,
        workflow_id=request.workflow_id,
    )
