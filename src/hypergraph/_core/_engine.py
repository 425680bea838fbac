"""THE scheduler: runs one graph to completion, pause or failure.

Plain DAGs follow the plan's static level order; graphs with gates, cycles or
interrupts use the superstep loop driven by ``RunState.ready()``. Both run each
level/superstep through ``_superstep``, which executes nodes inline one after
another, or in one task group when two or more of them can actually overlap.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import structlog

from hypergraph._checkpoint._types import StepStatus, WorkflowStatus
from hypergraph._core._context import CANCELLED, CallContext, first_exception, need_loop
from hypergraph._core._emit import Emitter
from hypergraph._core._kinds import PAUSE, NodeKinds
from hypergraph._core._log import describe
from hypergraph._ids import new_run_id
from hypergraph._logging import RUN_FINISHED, RUN_STARTED
from hypergraph._plan import MISSING, NodeKind, NodePlan, Plan
from hypergraph._runlog import RawRecord, RunLog, error_type_name
from hypergraph._schedule import RunState
from hypergraph._warn import warn_user
from hypergraph.exceptions import InfiniteLoopError
from hypergraph.results import PauseInfo, RunResult, RunStatus

if TYPE_CHECKING:
    from hypergraph._core._recorder import Recorder

__all__ = ("run_graph",)

_now = time.perf_counter_ns
_HYPERGRAPH_NOTE = "hypergraph:"


class Run(NodeKinds):
    """One execution of one plan: the run state plus how to execute its nodes.

    The scheduling rules live in the sans-I/O ``RunState`` base; this subclass
    adds the awaiting. One object per run, mutated only by the engine.
    """

    __slots__ = (
        "call",
        "decisions",
        "emitter",
        "error_node",
        "fail_fast",
        "max_iterations",
        "nested_responses",
        "path",
        "pause_renames",
        "recorder",
        "records",
        "run_id",
        "workflow_id",
    )

    def __init__(
        self,
        plan: Plan,
        inputs: dict[str, Any],
        call: CallContext,
        run_id: str,
        fail_fast: bool,
        max_iterations: int,
        path: str,
        responses: frozenset[str] | set[str],
        nested_responses: dict[str, dict[str, Any]] | None,
    ) -> None:
        RunState.__init__(self, plan, inputs, responses)
        self.call = call
        self.run_id = run_id
        self.fail_fast = fail_fast
        self.max_iterations = max_iterations
        self.path = path
        self.nested_responses = nested_responses
        self.records: list[RawRecord] = []
        self.decisions: dict[int, tuple[Any, set[int]]] = {}
        self.pause: PauseInfo | None = None
        self.error_node: str | None = None
        self.emitter: Emitter | None = None
        self.workflow_id: str | None = None
        self.recorder: Recorder | None = None
        # Output renames of the GraphNode around this run: a paused interrupt's
        # response_param is reported in the enclosing graph's names (H5, O31).
        self.pause_renames: dict[str, str] | None = None

    # -- loops ---------------------------------------------------------------------
    async def run_levels(self, levels: tuple[tuple[int, ...], ...]) -> None:
        """Plain DAG: every node runs once, level by level (level == superstep)."""
        state = self
        ran = state.ran
        nodes = self.plan.nodes
        checked = not self.plan.all_run
        emitter = self.emitter
        recorder = self.recorder
        direct_ok = emitter is None and recorder is None and not self.call.log_nodes
        inline_ok = self.call.limiter is None and direct_ok
        for step, level in enumerate(levels):
            if checked:
                level = tuple(
                    i
                    for i in level
                    if all(ran[p] for p in nodes[i].preds)
                    and state.has_inputs(nodes[i])
                )
                if not level:
                    return
            if step >= self.max_iterations:
                raise InfiniteLoopError(self.max_iterations)
            if emitter is not None:
                await emitter.superstep(step)
            if len(level) == 1:
                plan = nodes[level[0]]
                if (plan.inline and inline_ok) or (plan.direct_async and direct_ok):
                    await self._direct(plan, step)
                else:
                    self._apply(plan.index, await self._node(plan.index, step))
            else:
                await self._superstep(list(level), step)
            if recorder is not None:
                await recorder.after_superstep()
            if self.pause is not None:
                return

    async def run_supersteps(self) -> None:
        """General loop: gates, cycles, interrupts; also every resumed run."""
        state = self
        state.track()
        nodes = self.plan.nodes
        step = 0
        while True:
            ready = state.ready()
            if not ready:
                return
            if step >= self.max_iterations:
                raise InfiniteLoopError(self.max_iterations)
            for i in ready:
                if nodes[i].kind == NodeKind.INTERRUPT:
                    ready = [i]  # an interrupt runs alone in its superstep (H2)
                    break
            if self.emitter is not None:
                await self.emitter.superstep(step)
            await self._superstep(ready, step)
            if self.recorder is not None:
                await self.recorder.after_superstep()
            if self.pause is not None:
                return
            step += 1

    # -- one superstep ---------------------------------------------------------------
    async def _superstep(self, indices: list[int], step: int) -> None:
        """Run ``indices`` reading the state as it was at the start, then write."""
        if len(indices) == 1:
            i = indices[0]
            self._apply(i, await self._node(i, step))
            return
        nodes = self.plan.nodes
        overlapping = sum(1 for i in indices if nodes[i].may_suspend)
        results: dict[int, Any] = {}
        try:
            if self.call.concurrent and overlapping:
                await self._concurrently(indices, step, results)
            else:
                await self._one_by_one(indices, step, results)
        finally:
            # Outputs of nodes that finished stay, even when a sibling failed (R21).
            for i in indices:
                if i in results:
                    self._apply(i, results[i])

    async def _one_by_one(
        self, indices: list[int], step: int, results: dict[int, Any]
    ) -> None:
        # Concurrent execution under "continue" lets every sibling finish even
        # when sync nodes run one after another here (R21); sequential execution
        # and fail-fast stop at the first failure.
        keep_going = self.call.concurrent and not self.fail_fast
        failures: list[Exception] = []
        for i in indices:
            try:
                results[i] = await self._node(i, step)
            except Exception as exc:
                if not keep_going:
                    raise
                failures.append(exc)
                continue
            if results[i] is PAUSE:
                break
        if failures:
            raise failures[0]

    async def _concurrently(
        self, indices: list[int], step: int, results: dict[int, Any]
    ) -> None:
        await need_loop()
        nodes = self.plan.nodes
        failures: list[BaseException] = []
        try:
            async with anyio.create_task_group() as group:
                for i in indices:
                    if nodes[i].may_suspend:
                        group.start_soon(self._node_task, i, step, results, failures)
                # Let the tasks start (run until they first wait), then run the
                # inline sync nodes here while the others are in flight.
                await anyio.lowlevel.checkpoint()
                for i in indices:
                    if not nodes[i].may_suspend:
                        await self._node_task(i, step, results, failures)
        except BaseExceptionGroup as group_error:
            # Users get the first node's own exception, never an ExceptionGroup.
            raise first_exception(group_error) from None
        if failures:
            raise failures[0]

    async def _node_task(
        self, i: int, step: int, results: dict[int, Any], failures: list[BaseException]
    ) -> None:
        try:
            results[i] = await self._node(i, step)
        except Exception as exc:
            if self.fail_fast:
                raise  # the task group cancels the siblings (fail-fast)
            failures.append(exc)

    def _apply(self, i: int, out: Any) -> None:
        if out is PAUSE:
            return
        state = self
        plan = self.plan.nodes[i]
        for name, value in zip(plan.outputs, out, strict=True):
            if value is not MISSING:
                state.write(i, name, value)
        for name in plan.emit:
            state.signal(i, name)
        decision = self.decisions.pop(i, None)
        if decision is not None:
            state.write(i, "_" + plan.name, decision[0])
            state.decide(i, decision[1])
        if self.plan.has_gates:
            state.discard_stale_decisions()

    # -- one node --------------------------------------------------------------------
    async def _node(self, i: int, step: int) -> Any:
        plan = self.plan.nodes[i]
        recorder = self.recorder
        versions = self._input_versions(plan) if recorder is not None else None
        self.begin(plan)
        span = self.call.next_span()
        await self._announce_start(plan, span, step)
        wall = time.time()
        start = _now()
        kind = plan.kind
        inner_log: Any = None
        decision: Any = None
        try:
            if kind == NodeKind.FUNCTION:
                out = await self._function(plan)
            elif kind == NodeKind.GRAPH:
                out, inner_log = await self._graph(plan, span)
            elif kind == NodeKind.INTERRUPT:
                out = await self._interrupt(plan)
            else:
                out, decision = self._gate(plan)
            if recorder is not None and out is not PAUSE:
                # Inside the try: a value the store cannot encode fails the node.
                self._record(plan, step, out, decision, wall, _now() - start, versions)
        except Exception as exc:
            elapsed = _now() - start
            self.records.append(
                (plan.name, step, elapsed, "failed", exc, decision, inner_log, span)
            )
            self._note_failure(plan, exc)
            self._record_end(plan, step, StepStatus.FAILED, wall, start, versions, exc)
            await self._announce_failure(plan, span, exc)
            raise
        except BaseException as exc:
            # Cancellation, Ctrl-C, SystemExit: the in-flight step is recorded as
            # failed with error "cancelled" (D10), then the exception goes on.
            self._record_end(
                plan, step, StepStatus.FAILED, wall, start, versions, exc, "cancelled"
            )
            raise
        if out is PAUSE:
            await self._paused(plan, step, span, inner_log, wall, versions)
            return out
        elapsed = _now() - start
        self.records.append(
            (plan.name, step, elapsed, "completed", None, decision, inner_log, span)
        )
        await self._announce_end(plan, span, elapsed, decision, inner_log)
        return out

    async def _announce_start(self, plan: NodePlan, span: int, step: int) -> None:
        if self.emitter is not None:
            await self.emitter.node_start(plan, span)
        log = self.call.log
        if self.call.log_nodes and log is not None:
            log.debug("node_started", node=plan.name, superstep=step)

    async def _announce_failure(
        self, plan: NodePlan, span: int, exc: BaseException
    ) -> None:
        log = self.call.log
        if self.call.log_nodes and log is not None:
            log.debug("node_failed", node=plan.name, error_type=error_type_name(exc))
        if self.emitter is not None:
            await self.emitter.node_error(plan, span, exc)

    async def _announce_end(
        self, plan: NodePlan, span: int, elapsed: int, decision: Any, inner_log: Any
    ) -> None:
        log = self.call.log
        if self.call.log_nodes and log is not None:
            log.debug(
                "node_finished", node=plan.name, duration_ms=round(elapsed / 1e6, 3)
            )
        if self.emitter is not None:
            await self.emitter.node_end(plan, span, elapsed, decision, inner_log)

    async def _paused(
        self,
        plan: NodePlan,
        step: int,
        span: int,
        inner_log: Any,
        wall: float,
        versions: dict[str, int] | None,
    ) -> None:
        self.records.append((plan.name, step, 0, "paused", None, None, inner_log, span))
        self._record_end(plan, step, StepStatus.PAUSED, wall, None, versions, None)
        emitter = self.emitter
        if emitter is not None and plan.kind == NodeKind.INTERRUPT:
            assert self.pause is not None
            await emitter.interrupt(
                plan, span, self.pause, self.path, self.workflow_id, self.pause_renames
            )

    def _note_failure(self, plan: NodePlan, exc: Exception) -> None:
        call = self.call
        inner = call.fail_path(exc)
        where = (
            f"{plan.name}/{inner}"
            if plan.kind == NodeKind.GRAPH and inner
            else plan.name
        )
        if self.error_node is None:
            self.error_node = where
        call.failure_paths[id(exc)] = (exc, where)
        if plan.kind != NodeKind.GRAPH:
            notes = getattr(exc, "__notes__", ())
            if not any(str(n).startswith(_HYPERGRAPH_NOTE) for n in notes):
                graph = self.plan.name or "unnamed"
                exc.add_note(
                    f"{_HYPERGRAPH_NOTE} raised by node {self.path + plan.name!r} "
                    f"(graph {graph!r}, run {self.run_id})"
                )


async def run_graph(
    plan: Plan,
    inputs: dict[str, Any],
    call: CallContext,
    *,
    fail_fast: bool,
    raise_errors: bool,
    max_iterations: int,
    run_id: str | None = None,
    workflow_id: str | None = None,
    on_missing: str = "ignore",
    path: str = "",
    responses: frozenset[str] | set[str] = frozenset(),
    nested_responses: dict[str, dict[str, Any]] | None = None,
    parent_span: str | None = None,
    recorder: Recorder | None = None,
    restore: tuple[list[Any], dict[str, Any]] | None = None,
    pause_renames: dict[str, str] | None = None,
    is_item: bool = False,
) -> RunResult:
    """Run ``plan`` once with ``inputs`` (already validated) and return its result.

    With ``raise_errors`` a node's exception propagates unchanged; otherwise the
    run returns a FAILED result carrying it. ``fail_fast`` picks the scheduling:
    cancel in-flight siblings on the first failure, or let them finish.
    """
    start = _now()
    run_id = run_id or new_run_id()
    run = Run(
        plan,
        inputs,
        call,
        run_id,
        fail_fast,
        max_iterations,
        path,
        responses,
        nested_responses,
    )
    run.recorder = recorder
    run.pause_renames = pause_renames
    if restore is not None:
        run.restore(*restore)
    if call.events is None and call.log is None:
        single = plan.single
        if (
            single is not None
            and recorder is None
            and on_missing == "ignore"
            and (single.direct_async or call.limiter is None)
        ):
            return await _run_single(run, single, start, raise_errors, workflow_id)
        error, values = await _execute(run, raise_errors, on_missing)
        return _result(run, start, error, values, workflow_id)
    return await _observed(
        run, start, raise_errors, on_missing, workflow_id, parent_span, inputs, is_item
    )


async def _run_single(
    run: Run, node: NodePlan, start: int, raise_errors: bool, workflow_id: str | None
) -> RunResult:
    """A one-node graph: the node's call is the whole run (no loop, no levels)."""
    try:
        await run._direct(node, 0)
    except Exception as exc:
        if raise_errors:
            raise
        return _result(run, start, exc, run.result_values(), workflow_id)
    return _result(run, start, None, run.result_values(), workflow_id)


async def _execute(
    run: Run, raise_errors: bool, on_missing: str
) -> tuple[BaseException | None, dict[str, Any]]:
    """Drive the run; return (error or None, values). Persists the run's end."""
    plan = run.plan
    recorder = run.recorder
    try:
        if plan.levels is not None and run.consumed is None:
            await run.run_levels(plan.levels)
        else:
            await run.run_supersteps()
        values = run.result_values()
        if on_missing != "ignore" and run.pause is None:
            _check_missing(plan, values, on_missing)
    except Exception as exc:
        if recorder is not None:
            await recorder.finish(WorkflowStatus.FAILED, recorder.elapsed_ms())
        if raise_errors:
            raise
        return exc, run.result_values()
    except BaseException:
        if recorder is not None:
            # Shielded: the run's FAILED status is written while it unwinds, on
            # cancellation and on Ctrl-C alike (D10).
            with anyio.CancelScope(shield=True):
                await recorder.finish(WorkflowStatus.FAILED, recorder.elapsed_ms())
        raise
    if recorder is not None:
        status = (
            WorkflowStatus.PAUSED if run.pause is not None else WorkflowStatus.COMPLETED
        )
        await recorder.finish(status, recorder.elapsed_ms())
    return None, values


def _result(
    run: Run,
    start: int,
    error: BaseException | None,
    values: dict[str, Any],
    workflow_id: str | None,
) -> RunResult:
    if error is not None:
        status = RunStatus.FAILED
    elif run.pause is not None:
        status = RunStatus.PAUSED
    else:
        status = RunStatus.COMPLETED
    log = RunLog(
        run.plan.name, run.run_id, (_now() - start) / 1e6, None, run.records, run.call
    )
    # Positional: this runs once per item, and keyword construction costs more.
    return RunResult(
        values,
        status,
        run.run_id,
        workflow_id,
        error,
        run.pause,
        log,
        run.error_node if error is not None else None,
    )


async def _observed(
    run: Run,
    start: int,
    raise_errors: bool,
    on_missing: str,
    workflow_id: str | None,
    parent_span: str | None,
    inputs: dict[str, Any],
    is_item: bool,
) -> RunResult:
    """The same run, bracketed by RunStart/RunEnd events (O33) and log lines."""
    call = run.call
    emitter = None
    log = call.log
    # Top-level runs log at info; nested runs and batch items at debug, so a
    # million-item batch does not write two million info lines.
    top = run.path == "" and not is_item
    # Everything of this run, processor warnings included, carries its ids.
    with structlog.contextvars.bound_contextvars(
        run_id=run.run_id, workflow_id=workflow_id, graph=run.plan.name
    ):
        if call.events is not None:
            emitter = Emitter(call, run.run_id, run.plan.name, parent_span)
            run.emitter = emitter
            run.workflow_id = workflow_id
            await emitter.run_start(workflow_id)
        if log is not None:
            (log.info if top else log.debug)(RUN_STARTED, inputs=describe(inputs))
        try:
            error, values = await _execute(run, raise_errors, on_missing)
        except CANCELLED:
            _log_end(run, start, "failed", "cancelled", top)
            if emitter is not None:
                await emitter.cancelled((_now() - start) / 1e6)
            raise
        except Exception as exc:
            _log_end(run, start, "failed", error_type_name(exc), top)
            if emitter is not None:
                await emitter.run_end(
                    RunStatus.FAILED, str(exc), (_now() - start) / 1e6
                )
            raise
        result = _result(run, start, error, values, workflow_id)
        kind = None if error is None else error_type_name(error)
        _log_end(run, start, result.status.value, kind, top)
        if emitter is not None:
            await emitter.run_end(
                result.status,
                None if error is None else str(error),
                (_now() - start) / 1e6,
            )
    return result


def _log_end(
    run: Run, start: int, status: str, error_type: str | None, top: bool
) -> None:
    log = run.call.log
    if log is None:
        return
    (log.info if top else log.debug)(
        RUN_FINISHED,
        status=status,
        error_type=error_type,
        duration_ms=round((_now() - start) / 1e6, 3),
        outputs=describe(run.result_values()),
    )


def _check_missing(plan: Plan, values: dict[str, Any], on_missing: str) -> None:
    if plan.selected is None:
        return
    missing = [name for name in plan.selected if name not in values]
    if not missing:
        return
    message = (
        f"Selected output(s) {missing} were not produced by this run (a branch not "
        "taken, or a node that did not run)."
    )
    if on_missing == "error":
        raise ValueError(
            message + "\n\nHow to fix: check the routing, or use on_missing='ignore'."
        )
    warn_user(message)
