"""Sans-I/O scheduling state of one run: values, versions, readiness and routing.

Plain synchronous code (no anyio): the async engine asks this object which nodes
are ready, tells it when a node starts, and hands it outputs to write. The rules
are spec 02 R13-R17 and C11.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from hypergraph._plan import MISSING, NodeKind, NodePlan, Plan

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ("SIGNAL", "RunState", "values_differ")

# The writer of a value a fork's caller overrode: it makes every consumer stale.
OVERRIDE: Final = -2

# Shared by runs without interrupt answers; only read (see Run._interrupt).
_NO_RESPONSES: Final[set[str]] = set()

SIGNAL: Final[Any] = object()  # the value stored under an emit name
_KIND_GATES = (NodeKind.ROUTE, NodeKind.IFELSE)


def values_differ(old: Any, new: Any) -> bool:
    """R13: a write bumps the version unless the new value equals the old one."""
    if old is new:
        return False
    try:
        return not bool(old == new)
    except Exception:  # noqa: BLE001 - a comparison that raises counts as different
        return True


class RunState:
    """Values, versions and per-node bookkeeping of one run (engine-owned)."""

    __slots__ = (
        "consumed",
        "pending",
        "plan",
        "ran",
        "responses",
        "values",
        "versions",
        "wait_seen",
        "writer",
    )

    def __init__(
        self, plan: Plan, values: dict[str, Any], responses: Iterable[str] = ()
    ) -> None:
        self.plan = plan
        self.values = values
        self.versions: dict[str, int] = dict.fromkeys(values, 1)
        self.writer: dict[str, int] = {}
        self.ran = [0] * len(plan.nodes)
        # Staleness and routing bookkeeping; only the superstep loop needs it
        # (see track()), plain DAG levels never re-run a node.
        self.consumed: list[dict[str, int] | None] | None = None
        self.wait_seen: list[dict[str, int] | None] = []
        self.pending: list[set[int] | None] = []
        # top-level interrupt answers supplied with the inputs, used once each
        self.responses: set[str] = set(responses) if responses else _NO_RESPONSES

    def restore(self, steps: Iterable[Any], overrides: dict[str, Any]) -> None:
        """Replay stored completed steps, then a fork's overriding values (D25-D26).

        ``steps`` are ``StepRecord``-like objects in execution order.
        """
        from hypergraph._core._lineage import decision_targets

        self.track()
        plan = self.plan
        for step in steps:
            i = plan.index.get(step.node_name)
            if i is None or str(step.status) != "completed":
                continue
            node = plan.nodes[i]
            self.begin(node)
            record_name = "_" + node.name
            for name, value in (step.values or {}).items():
                if name == record_name:
                    self.values[name] = value
                    self.decide(i, decision_targets(plan, i, value))
                else:
                    self.write(i, name, value)
            for name in node.emit:
                self.signal(i, name)
        for name, value in overrides.items():
            self.values[name] = value
            self.versions[name] = self.versions.get(name, 0) + 1
            self.writer[name] = OVERRIDE
        if overrides:
            self._invalidate(set(overrides))

    def _invalidate(self, names: set[str]) -> None:
        """Forget what every node downstream of overridden values computed (D26).

        Their stored outputs would otherwise sit in the state (and the result)
        next to the new values until the nodes run again.
        """
        plan = self.plan
        below: dict[int, set[int]] = {n.index: set() for n in plan.nodes}
        for node in plan.nodes:
            for pred in (*node.preds, *node.controllers):
                below[pred].add(node.index)
        stack = [
            n.index for n in plan.nodes if any(p.value_name in names for p in n.params)
        ]
        affected: set[int] = set()
        while stack:
            i = stack.pop()
            if i not in affected:
                affected.add(i)
                stack.extend(below[i])
        for i in affected:
            node = plan.nodes[i]
            self.ran[i] = 0
            for name in (*node.outputs, *node.emit, "_" + node.name):
                if name not in names:
                    self.values.pop(name, None)
            if self.pending:
                self.pending[i] = None

    def track(self) -> None:
        """Allocate the per-node bookkeeping the superstep loop relies on."""
        if self.consumed is not None:
            return
        count = len(self.ran)
        self.consumed = [None] * count
        self.wait_seen = [None] * count
        self.pending = [None] * count

    # -- writes ------------------------------------------------------------------
    def write(self, producer: int, name: str, value: Any) -> None:
        """Store an output, bumping its version only when it changed (R13)."""
        values = self.values
        if name in values and not values_differ(values[name], value):
            return
        values[name] = value
        self.versions[name] = self.versions.get(name, 0) + 1
        self.writer[name] = producer

    def signal(self, producer: int, name: str) -> None:
        """Emit signals always bump their version."""
        self.values[name] = SIGNAL
        self.versions[name] = self.versions.get(name, 0) + 1
        self.writer[name] = producer

    def decide(self, gate: int, targets: set[int]) -> None:
        """Record a gate's fresh decision (the targets it activates)."""
        self.pending[gate] = targets

    def discard_stale_decisions(self) -> None:
        """A gate's old decision is dropped once its inputs change (C11)."""
        for plan in self.plan.nodes:
            i = plan.index
            if self.pending[i] and plan.kind in _KIND_GATES and self._is_stale(plan):
                self.pending[i] = set()

    # -- starting a node ---------------------------------------------------------
    def begin(self, plan: NodePlan) -> None:
        """Note what the node consumed and consume the decisions that activated it."""
        i = plan.index
        consumed = self.consumed
        if consumed is None:  # level path: nothing re-runs, nothing to remember
            self.ran[i] += 1
            return
        versions = self.versions
        if plan.stale_sources:
            consumed[i] = {p: versions.get(p, 0) for p in plan.stale_sources}
        if plan.wait_for:
            self.wait_seen[i] = {w: versions.get(w, 0) for w in plan.wait_for}
        for gate in plan.controllers:
            pending = self.pending[gate]
            if pending:
                pending.discard(i)
        self.ran[i] += 1

    # -- readiness (R15) -----------------------------------------------------------
    def has_inputs(self, plan: NodePlan) -> bool:
        """Every input resolves from state, a binding or a default."""
        values = self.values
        for param in plan.params:
            if param.value_name not in values and not param.has_fallback:
                return False
        return True

    def _activated(self, plan: NodePlan) -> bool:
        if not plan.controllers:
            return True
        i = plan.index
        for gate in plan.controllers:
            pending = self.pending[gate]
            if pending and i in pending:
                return True
        if self.ran[i] or (self.plan.entrypoints and not plan.is_entrypoint):
            return False
        nodes = self.plan.nodes
        return any(
            self.ran[g] == 0 and nodes[g].node.default_open  # type: ignore[attr-defined]
            for g in plan.controllers
        )

    def _preds_done(self, plan: NodePlan) -> bool:
        if plan.is_entrypoint and not self.ran[plan.index]:
            return True
        nodes = self.plan.nodes
        ran = self.ran
        return all(ran[p] or not self._activated(nodes[p]) for p in plan.preds)

    def _wait_ok(self, plan: NodePlan) -> bool:
        values = self.values
        seen = self.wait_seen[plan.index]
        for name in plan.wait_for:
            if name not in values:
                return False
            if seen is not None and self.versions[name] <= seen.get(name, 0):
                return False
        return True

    def _is_stale(self, plan: NodePlan) -> bool:
        assert self.consumed is not None
        consumed = self.consumed[plan.index] or {}
        versions = self.versions
        writer = self.writer
        for param, sources in (plan.stale_sources or {}).items():
            if versions.get(param, 0) == consumed.get(param, 0):
                continue
            source = writer.get(param, -1)
            if source == OVERRIDE or (sources and source in sources):
                return True
        seen = self.wait_seen[plan.index]
        if seen is not None:
            return any(versions.get(w, 0) > seen.get(w, 0) for w in plan.wait_for)
        return False

    def _needs_run(self, plan: NodePlan) -> bool:
        i = plan.index
        if not self.ran[i]:
            return True
        for gate in plan.controllers:
            pending = self.pending[gate]
            if pending and i in pending:
                return True
        return self._is_stale(plan)

    def ready(self) -> list[int]:
        """Indices of the nodes that run in the next superstep, in node order."""
        nodes = self.plan.nodes
        ready = [
            p.index
            for p in nodes
            if self._activated(p)
            and self._needs_run(p)
            and self._preds_done(p)
            and self.has_inputs(p)
            and self._wait_ok(p)
        ]
        if len(ready) < 2:
            return ready
        held: set[int] = set()
        for i in ready:
            if nodes[i].kind in _KIND_GATES:
                held.update(nodes[i].targets)
        signals = {o for i in ready for o in nodes[i].emit}
        for i in ready:
            plan = nodes[i]
            if not self.ran[i] and any(w in signals for w in plan.wait_for):
                held.add(i)
        return [i for i in ready if i not in held]

    # -- results ------------------------------------------------------------------
    def result_values(self) -> dict[str, Any]:
        """Outputs with values, in graph output (or selection) order (R10)."""
        values = self.values
        return {k: values[k] for k in self.plan.result_names if k in values}

    def argument(self, plan: NodePlan, param_index: int) -> Any:
        """The value of one parameter by R14, or MISSING."""
        param = plan.params[param_index]
        value = self.values.get(param.value_name, MISSING)
        if value is MISSING:
            value = param.bound
        return value
