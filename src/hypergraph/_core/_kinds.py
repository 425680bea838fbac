"""How each kind of node runs: functions (inline or awaited), gates, interrupts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from hypergraph._core._context import CallContext, need_loop
from hypergraph._core._gating import decide
from hypergraph._core._inputs import split_responses
from hypergraph._core._invoke import (
    build_arguments,
    call_body,
    is_plain,
    settle,
    split_outputs,
)
from hypergraph._core._persisting import Persisting
from hypergraph._plan import MISSING, NodePlan, plan_for
from hypergraph.results import PauseInfo, RunStatus

if TYPE_CHECKING:
    from hypergraph._core._emit import Emitter
    from hypergraph._runlog import RawRecord

__all__ = ("PAUSE", "NodeKinds")

PAUSE: Final[Any] = object()  # returned by a node that paused the run
_now = time.perf_counter_ns


def _store_direct(plan: NodePlan, values: dict[str, Any], result: Any) -> None:
    # A plain DAG level never re-runs a node, so versions (which only drive
    # re-execution and persisted input_versions) are not kept here.
    outputs = plan.outputs
    if len(outputs) == 1:
        values[outputs[0]] = result
        return
    values.update(zip(outputs, split_outputs(plan, result), strict=True))


class NodeKinds(Persisting):
    """Run methods that execute one node of each kind (the engine dispatches)."""

    __slots__ = ("pause",)
    pause: PauseInfo | None
    call: CallContext
    records: list[RawRecord]
    path: str
    max_iterations: int
    nested_responses: dict[str, dict[str, Any]] | None
    emitter: Emitter | None
    pause_renames: dict[str, str] | None

    def _note_failure(self, plan: NodePlan, exc: Exception) -> None:
        raise NotImplementedError  # provided by the engine's Run

    async def _direct(self, plan: NodePlan, step: int) -> None:
        """A plain function alone in its level, called or awaited with no extra frames.

        The engine takes this path for sync functions when no limiter is set
        and for ``async def`` functions taking keywords; everything else goes
        through the general node path.
        """
        values = self.values
        i = plan.index
        self.ran[i] += 1
        call = self.call
        call.span_counter += 1
        span = call.span_counter
        start = _now()
        try:
            kwargs = _direct_kwargs(plan.simple_args, values)
            if plan.is_async:
                # Awaited right here, not in a helper: this frame is resumed on
                # every wake-up of every item of a batch.
                if not call.in_task:
                    await need_loop()
                    call.in_task = True
                if kwargs is None:
                    _, kwargs = build_arguments(plan, values)
                limiter = call.limiter
                if limiter is not None and not limiter.try_acquire():
                    await limiter.acquire()
                try:
                    result = await plan.func(**kwargs)
                finally:
                    if limiter is not None:
                        limiter.release()
            elif kwargs is None:  # positional-only, *args, or a fallback needed
                args, kwargs = build_arguments(plan, values)
                result = plan.func(*args, **kwargs)
            else:
                result = plan.func(**kwargs)
            if not is_plain(result):
                result = await settle(result)
            _store_direct(plan, values, result)
        except Exception as exc:
            self.records.append(
                (plan.name, step, _now() - start, "failed", exc, None, None, span)
            )
            self._note_failure(plan, exc)
            raise
        self.records.append(
            (plan.name, step, _now() - start, "completed", None, None, None, span)
        )
        for name in plan.emit:
            self.signal(i, name)

    async def _function(self, plan: NodePlan) -> tuple[Any, ...]:
        args, kwargs = build_arguments(plan, self.values)
        limiter = self.call.limiter
        if limiter is None:
            if not (plan.is_async or plan.blocking or plan.is_generator):
                result = plan.func(*args, **kwargs)
                if not is_plain(result):
                    result = await settle(result)
            else:
                result = await call_body(plan, args, kwargs, self.call)
            return split_outputs(plan, result)
        if not limiter.try_acquire():
            await need_loop()
            await limiter.acquire()
        try:
            result = await call_body(plan, args, kwargs, self.call)
        finally:
            limiter.release()
        return split_outputs(plan, result)

    def _gate(self, plan: NodePlan) -> tuple[tuple[Any, ...], Any]:
        args, kwargs = build_arguments(plan, self.values)
        record, shown, targets = decide(plan, plan.func(*args, **kwargs))
        self.decisions[plan.index] = (record, targets)
        return (), shown

    async def _interrupt(self, plan: NodePlan) -> Any:
        state = self
        outputs = plan.outputs
        if state.ran[plan.index] == 1 and state.responses:
            answered = all(o in state.responses for o in outputs)
            state.responses.difference_update(outputs)
            if answered:
                return tuple(state.values[o] for o in outputs)
        args, kwargs = build_arguments(plan, state.values)
        result = plan.func(*args, **kwargs)
        if not is_plain(result):
            result = await settle(result)
        if result is None:
            self.pause = self._pause_info(plan)
            return PAUSE
        return _resolve_interrupt(plan, result)

    def _pause_info(self, plan: NodePlan) -> PauseInfo:
        values = self.values
        inputs = {}
        for param in plan.params:
            value = values.get(param.value_name, MISSING)
            if value is MISSING:
                value = param.bound if param.bound is not MISSING else param.default
            inputs[param.value_name] = None if value is MISSING else value
        first = next(iter(inputs.values()), None)
        outputs = plan.outputs
        return PauseInfo(
            node_name=plan.name,
            output_param=outputs[0],
            value=first,
            output_params=outputs if len(outputs) > 1 else None,
            values=inputs if len(inputs) > 1 else None,
        )

    async def _graph(self, plan: NodePlan, span: int) -> tuple[Any, Any]:
        # Imported here: nested runs re-enter the engine, which imports this module.
        from hypergraph._core._batch import run_mapped_node
        from hypergraph._core._engine import run_graph

        _, kwargs = build_arguments(plan, self.values)
        # Nested runs hang under this node's span (O32, O37).
        parent = self.call.span_id(span) if self.emitter is not None else None
        if plan.mapping is not None:
            return await run_mapped_node(self, plan, kwargs, parent)
        assert plan.inner is not None
        inner = plan_for(plan.inner)
        answers: frozenset[str] = frozenset()
        deeper = None
        responses = self.nested_responses
        if responses and plan.name in responses and self.ran[plan.index] == 1:
            # Answers for interrupts inside this GraphNode go in on its first run (H7).
            kwargs.update(responses[plan.name])
            kwargs, answers, deeper = split_responses(inner, kwargs)
        result = await run_graph(
            inner,
            kwargs,
            self.call,
            fail_fast=True,
            raise_errors=False,
            max_iterations=self.max_iterations,
            path=f"{self.path}{plan.name}/",
            responses=answers,
            nested_responses=deeper,
            parent_span=parent,
            pause_renames={
                inner: outer
                for outer, inner in plan.node.output_pairs  # type: ignore[attr-defined]
            },
            recorder=self._child_recorder(plan, inner, kwargs),
        )
        if result.status is RunStatus.FAILED:
            assert result.error is not None
            raise result.error
        if result.status is RunStatus.PAUSED:
            assert result.pause is not None
            self.pause = _lift_pause(plan, result.pause)
            return PAUSE, result.log
        graph_node = plan.node
        values = result.values
        out = tuple(
            values.get(inner, MISSING)
            for inner in graph_node._inner_outputs  # type: ignore[attr-defined]
        )
        return out, result.log


def _direct_kwargs(
    simple: tuple[tuple[str, str], ...] | None, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Keyword arguments straight from the state, or None when that is not enough."""
    if simple is None:
        return None
    try:
        return {arg: values[name] for arg, name in simple}
    except KeyError:
        return None


def _resolve_interrupt(plan: NodePlan, result: Any) -> tuple[Any, ...]:
    """H3: one output takes the value whole; several take a dict, tuple or first."""
    outputs = plan.outputs
    if len(outputs) == 1:
        return (result,)
    if isinstance(result, dict):
        if set(result) != set(outputs):
            raise ValueError(
                f"Interrupt {plan.name!r} returned a dict with keys {sorted(result)}, "
                f"but its outputs are {list(outputs)}.\n\nHow to fix: return a dict "
                "with exactly the output names as keys."
            )
        return tuple(result[o] for o in outputs)
    if isinstance(result, tuple) and len(result) == len(outputs):
        return result
    return (result,) + (MISSING,) * (len(outputs) - 1)


def _lift_pause(plan: NodePlan, inner: PauseInfo) -> PauseInfo:
    """Express a nested pause in the outer graph's names (H5)."""
    graph_node = plan.node
    renames = {
        inner_name: outer
        for outer, inner_name in graph_node.output_pairs  # type: ignore[attr-defined]
    }
    output_param = inner.output_param
    if "/" not in inner.node_name:
        output_param = renames.get(output_param, output_param)
    return PauseInfo(
        node_name=f"{plan.name}/{inner.node_name}",
        output_param=output_param,
        value=inner.value,
        output_params=inner.output_params,
        values=inner.values,
    )
