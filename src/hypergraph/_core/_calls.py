"""The two entry points of the core: one ``run()`` call and one ``map()`` call.

``AsyncRunner`` awaits these directly; ``SyncRunner`` enters them once per public
call through the sync shim. They check every argument first, build the call's
context (limiter, ids), and hand the work to the engine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from hypergraph._checkpoint._serializers import encode_values
from hypergraph._checkpoint._types import Checkpoint
from hypergraph._core._context import CURRENT_CALL, CallContext, need_loop
from hypergraph._core._engine import run_graph
from hypergraph._core._inputs import (
    check_options,
    check_reentry,
    check_run_inputs,
    check_scope_overrides,
    check_workflow_id,
    merge_inputs,
    split_responses,
)
from hypergraph._core._limiter import Limiter
from hypergraph._core._lineage import decide_lineage, run_config
from hypergraph._core._recorder import Recorder
from hypergraph._events import EventDispatcher
from hypergraph._graph import Graph
from hypergraph._plan import Plan, plan_for
from hypergraph.exceptions import IncompatibleRunnerError, MissingInputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from contextvars import Token

    from hypergraph._checkpoint._store import Checkpointer
    from hypergraph._core._runner import BaseRunner
    from hypergraph.results import RunResult

__all__ = ("MapRequest", "RunRequest", "enter_call", "finish_call", "run_call")

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
    checkpoint = request.checkpoint
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        raise TypeError(
            f"checkpoint= must be a Checkpoint, got {checkpoint!r}.\n\nHow to fix: "
            "take one from the store, checkpoint=checkpointer.checkpoint('run-id', "
            "superstep=2), or fork by id with fork_from='run-id'."
        )
    if checkpoint is not None and runner.checkpointer is None:
        raise ValueError(
            "checkpoint= forks a persisted run, so it needs a checkpointer.\n\n"
            "How to fix: create the runner with checkpointer=SqliteCheckpointer(...)."
        )
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
    shared = (
        outer is not None
        and outer.limiter is not None
        and outer.loop_thread == threading.get_ident()
    )
    if shared:
        # A runner called from inside a node shares the outer budget (B26).
        assert outer is not None
        limiter = outer.limiter
        thread_limiter = outer.thread_limiter()
    elif max_concurrency is not None:
        limiter = Limiter(max_concurrency)
    call = CallContext(
        concurrent=concurrent,
        limiter=limiter,
        thread_limiter=thread_limiter,
        max_iterations=max_iterations,
        is_async_runner=is_async,
        events=EventDispatcher(processors) if processors else None,
    )
    call.lends_slot = shared
    return call


def enter_call(call: CallContext) -> Token[CallContext | None]:
    """Make ``call`` current; pair with :func:`finish_call` in a ``finally``."""
    token = CURRENT_CALL.set(call)
    if call.lends_slot:
        assert call.limiter is not None
        call.limiter.release()  # the calling node's slot, back in finish_call
    return token


async def finish_call(call: CallContext, token: Token[CallContext | None]) -> None:
    """Leave ``call``: take the lent slot back, shut processors down (O44)."""
    CURRENT_CALL.reset(token)
    if call.lends_slot:
        assert call.limiter is not None
        # Shielded: the calling node releases a slot when it ends, so it must
        # hold one again even when this call was cancelled.
        with anyio.CancelScope(shield=True):
            await call.limiter.acquire()
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
    checkpointer = runner.checkpointer
    workflow_id = request.workflow_id
    # With a checkpointer, an existing child run (batch/3) may be resumed by id;
    # _run_persisted checks such an id once it knows whether the run exists.
    child_id = isinstance(workflow_id, str) and "/" in workflow_id
    if checkpointer is None or not child_id:
        check_workflow_id(workflow_id)
    check_scope_overrides(select=request.select, entrypoint=request.entrypoint)
    _check_persistence_args(request, runner)
    if checkpointer is not None:
        return await _run_persisted(
            runner, checkpointer, request, graph, plan, inputs, concurrent
        )
    check_run_inputs(plan, inputs)
    state_inputs, responses, nested = split_responses(plan, inputs)
    call = _run_context(runner, request, concurrent)
    token = enter_call(call)
    try:
        return await _execute_run(
            plan, state_inputs, call, request, responses, nested, request.workflow_id
        )
    finally:
        await finish_call(call, token)


async def _execute_run(
    plan: Plan,
    inputs: dict[str, Any],
    call: CallContext,
    request: RunRequest,
    responses: frozenset[str],
    nested: dict[str, dict[str, Any]] | None,
    workflow_id: str | None,
    recorder: Recorder | None = None,
    restore: tuple[list[Any], dict[str, Any]] | None = None,
) -> RunResult:
    """One top-level run with the call's options (shared by both run paths)."""
    raise_errors = request.error_handling == "raise"
    return await run_graph(
        plan,
        inputs,
        call,
        fail_fast=raise_errors,
        raise_errors=raise_errors,
        max_iterations=call.max_iterations,
        workflow_id=workflow_id,
        on_missing=request.on_missing,
        responses=responses,
        nested_responses=nested,
        recorder=recorder,
        restore=restore,
    )


def _run_context(
    runner: BaseRunner, request: RunRequest, concurrent: bool
) -> CallContext:
    return _new_context(
        concurrent=concurrent,
        max_concurrency=request.max_concurrency,
        is_async=runner.capabilities.returns_coroutine,
        max_iterations=request.max_iterations or DEFAULT_MAX_ITERATIONS,
        processors=request.event_processors,
    )


async def _run_persisted(
    runner: BaseRunner,
    checkpointer: Checkpointer,
    request: RunRequest,
    graph: Graph,
    plan: Plan,
    inputs: dict[str, Any],
    concurrent: bool,
) -> RunResult:
    """A run with a checkpointer: decide the lineage, then run and record it."""
    await need_loop()
    workflow_id = request.workflow_id
    if (
        workflow_id
        and "/" in workflow_id
        and await checkpointer.get_run_async(workflow_id) is None
    ):
        check_workflow_id(workflow_id)  # only existing child runs may contain '/'
    lineage = await decide_lineage(checkpointer, graph, plan, request, inputs)
    try:
        check_run_inputs(plan, lineage.inputs, frozenset(lineage.overrides))
    except MissingInputError as missing:
        if not lineage.resumed:
            raise
        names = ", ".join(repr(m) for m in missing.missing)
        raise MissingInputError(
            missing.missing,
            missing.provided,
            message=(
                f"Checkpoint resume is missing required seed inputs: {names}. The "
                f"stored run {lineage.workflow_id!r} has no persisted value for them "
                "(it was written without its inputs).\n\nHow to fix: fork it with "
                "fork_from=... and pass the values, or start a new workflow_id."
            ),
        ) from None
    state_inputs, responses, nested = split_responses(plan, lineage.inputs)
    # Encoded before the run row is created: a value that cannot be stored must
    # leave the store as it was (D61), not an ACTIVE run with no steps.
    copied = [
        (
            step,
            None
            if step.values is None
            else encode_values(
                checkpointer.serializer,
                step.values,
                lineage.workflow_id,
                step.node_name,
            ),
        )
        for step in lineage.copied
    ]
    call = _run_context(runner, request, concurrent)
    token = enter_call(call)
    try:
        async with checkpointer.session() as session:
            await session.create_run(
                lineage.workflow_id,
                graph_name=plan.name,
                # A resumed run keeps what its config recorded (a batch item's
                # signature, D31); the hashes are refreshed.
                config={**lineage.config, **run_config(graph, kind="run")},
                inputs={
                    k: v
                    for k, v in lineage.inputs.items()
                    if k not in plan.response_keys
                },
                **lineage.fields,
            )
            for step, encoded in copied:
                session.queue_step(step, encoded)
            recorder = Recorder(
                session,
                checkpointer,
                lineage.workflow_id,
                superstep_offset=lineage.superstep_offset,
                next_index=lineage.next_index,
                resumed=lineage.resumed or lineage.resumes,
            )
            overrides = {k: lineage.inputs[k] for k in lineage.overrides}
            return await _execute_run(
                plan,
                state_inputs,
                call,
                request,
                responses,
                nested,
                lineage.workflow_id,
                recorder,
                (lineage.restore, overrides) if lineage.resumes else None,
            )
    finally:
        await finish_call(call, token)
