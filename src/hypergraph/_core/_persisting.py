"""Step persistence of a run: what the engine records when a checkpointer is set."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from hypergraph._checkpoint._types import StepStatus
from hypergraph._gates import END
from hypergraph._plan import MISSING, NodeKind
from hypergraph._schedule import RunState

if TYPE_CHECKING:
    from hypergraph._core._recorder import Recorder
    from hypergraph._plan import NodePlan, Plan

__all__ = ("Persisting",)

_now = time.perf_counter_ns


class Persisting(RunState):
    """Run methods that turn node executions into step records (spec 04 D3)."""

    __slots__ = ()
    recorder: Recorder | None
    decisions: dict[int, tuple[Any, set[int]]]

    def _record_end(
        self,
        plan: NodePlan,
        step: int,
        status: StepStatus,
        wall: float,
        start: int | None,
        versions: dict[str, int] | None,
        error: BaseException | str | None,
        message: str | None = None,
    ) -> None:
        """Persist a failed, cancelled or paused step (no values)."""
        if self.recorder is None:
            return
        self.recorder.step(
            plan,
            step,
            status,
            started=wall,
            duration_ns=0 if start is None else _now() - start,
            input_versions=versions or {},
            error=error,
            message=message,
            child_run_id=self._child_id(plan),
        )

    def _input_versions(self, plan: NodePlan) -> dict[str, int]:
        versions = self.versions
        return {p.value_name: versions.get(p.value_name, 0) for p in plan.params}

    def _record(
        self,
        plan: NodePlan,
        step: int,
        out: Any,
        decision: Any,
        wall: float,
        elapsed: int,
        versions: dict[str, int] | None,
    ) -> None:
        values = {
            name: value
            for name, value in zip(plan.outputs, out, strict=True)
            if value is not MISSING
        }
        pending = self.decisions.get(plan.index)
        if pending is not None:
            # The decision record: END is stored as the string "END" (D-4, D5).
            raw = pending[0]
            values["_" + plan.name] = "END" if raw is END else raw
        assert self.recorder is not None
        self.recorder.step(
            plan,
            step,
            StepStatus.COMPLETED,
            started=wall,
            duration_ns=elapsed,
            input_versions=versions or {},
            values=values,
            decision=decision,
            child_run_id=self._child_id(plan),
        )

    def _child_recorder(
        self, plan: NodePlan, inner: Plan, inputs: dict[str, Any], *, kind: str = "run"
    ) -> Recorder | None:
        """Persist a GraphNode's nested run as child run ``<wf>/<node>`` (D29b, D33)."""
        recorder = self.recorder
        child = self._child_id(plan)
        if recorder is None or child is None:
            return None
        return recorder.child(child, inner, inputs, kind=kind)

    def _child_id(self, plan: NodePlan) -> str | None:
        """The persisted run id of a GraphNode's nested run (D29b, D33)."""
        if plan.kind != NodeKind.GRAPH or self.recorder is None:
            return None
        base = f"{self.recorder.run_id}/{plan.name}"
        count = self.ran[plan.index]
        if count <= 1:
            return base
        return f"{base}@{count}" if plan.mapping is not None else f"{base}/{count}"
