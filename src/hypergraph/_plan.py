"""Compile a ``Graph`` once into an immutable execution plan, cached on the graph.

The plan turns names into integer indices and precomputes everything a run would
otherwise re-derive per item: argument tables with renames applied, predecessor
and controller lists, staleness sources, and (for plain DAGs) a static level order.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from hypergraph._gates import END, GateNode, IfElseNode, RouteNode
from hypergraph._graph_node import GraphNode, MapConfig
from hypergraph._node import FunctionNode, HyperNode
from hypergraph._structure import reachable

if TYPE_CHECKING:
    from hypergraph._graph import Graph

__all__ = ("MISSING", "NodeKind", "NodePlan", "Plan", "plan_for")

MISSING: Final[Any] = object()

_P = inspect.Parameter
_IMMUTABLE_TYPES = (int, float, complex, str, bytes, bool, type(None), frozenset, range)


class NodeKind:
    """What the engine does with a node (dispatch by most specific class)."""

    FUNCTION = 0
    ROUTE = 1
    IFELSE = 2
    GRAPH = 3
    INTERRUPT = 4


# Registered executors, most specific class first (R6.4): user subclasses of
# FunctionNode dispatch to the function executor.
_DISPATCH: tuple[tuple[type[HyperNode], int], ...] = (
    (RouteNode, NodeKind.ROUTE),
    (IfElseNode, NodeKind.IFELSE),
    (GraphNode, NodeKind.GRAPH),
    (FunctionNode, NodeKind.FUNCTION),
)


def node_kind(node: HyperNode) -> int:
    """Return the executor kind for ``node``.

    Raises:
        TypeError: no executor handles this node class.
    """
    if node.is_interrupt and isinstance(node, FunctionNode):
        return NodeKind.INTERRUPT
    for cls, kind in _DISPATCH:
        if isinstance(node, cls):
            return kind
    raise TypeError(
        f"No executor for node {node.name!r} of type {type(node).__name__}: runners "
        "execute FunctionNode, RouteNode, IfElseNode, InterruptNode and GraphNode "
        "(and their subclasses).\n\nHow to fix: subclass FunctionNode, or wrap the "
        "logic in a function decorated with @node."
    )


def _is_immutable(value: object) -> bool:
    if isinstance(value, _IMMUTABLE_TYPES):
        return True
    if type(value) is tuple:
        return all(_is_immutable(v) for v in value)
    return False


@dataclass(frozen=True, slots=True)
class Param:
    """How one input of a node gets its value at run time (R14)."""

    value_name: str  # name in the run state (after renames)
    arg_name: str  # name the function (or inner graph) receives
    kind: inspect._ParameterKind
    bound: Any  # MISSING when not bound
    default: Any  # MISSING when no signature default
    copy_default: bool  # mutable defaults are deep-copied per use
    has_fallback: bool  # a binding or default exists when the state has no value


@dataclass(slots=True, eq=False)
class NodePlan:
    """Everything the engine needs to run one node, resolved once."""

    index: int
    name: str
    node: HyperNode
    kind: int
    params: tuple[Param, ...]
    keyword_call: bool  # every parameter can be passed by keyword
    outputs: tuple[str, ...]  # data outputs, as written to the run state
    emit: tuple[str, ...]
    wait_for: tuple[str, ...]
    func: Any
    is_async: bool
    is_generator: bool
    blocking: bool
    takes_slot: bool  # counts against max_concurrency (function bodies only)
    may_suspend: bool  # worth running in a task when siblings can overlap
    inline: bool  # a plain sync function: called directly on the loop thread
    direct_async: bool  # an ``async def`` (not a generator) taking keyword args
    simple_args: tuple[tuple[str, str], ...] | None  # (arg, value) when keyword-only
    preds: tuple[int, ...] = ()  # data and ordering predecessors (not itself)
    controllers: tuple[int, ...] = ()  # gates that can activate this node
    targets: tuple[int, ...] = ()  # gate only: target node indices
    target_index: dict[str, int] | None = None  # gate only: name -> index
    is_entrypoint: bool = False
    stale_sources: dict[str, frozenset[int]] | None = None
    inner: Graph | None = None  # GraphNode only
    mapping: MapConfig | None = None  # mapped GraphNode only


class Plan:
    """The compiled, immutable execution plan of one configured ``Graph``."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.name = graph.name or ""
        structure = graph._structure
        scope = graph._scope
        nodes = graph._nodes
        active = scope.active
        self.order = tuple(n for n in structure.order if n in active)
        self.index = {name: i for i, name in enumerate(self.order)}
        bound = graph.inputs.bound
        self.bound = bound
        self.nodes: tuple[NodePlan, ...] = tuple(
            _node_plan(i, nodes[name], bound) for i, name in enumerate(self.order)
        )
        self.entrypoints = tuple(e for e in graph._entrypoints if e in self.index)
        self._link(structure)
        spec = graph.inputs
        self.required = spec.required
        self.input_names = frozenset(spec.all)
        self.seeds = scope.seeds
        emits = {e for n in nodes.values() for e in n.emit}
        self.emit_names = frozenset(emits)
        self.selected = graph.selected
        self.result_names = (
            graph.selected
            if graph.selected is not None
            else tuple(o for o in graph.outputs if o not in emits)
        )
        self.produced = frozenset(o for n in self.nodes for o in n.node.outputs)
        self.internal = self._internal_names(structure)
        self.response_keys = frozenset(_response_keys(self.nodes))
        self.has_gates = any(
            n.kind in (NodeKind.ROUTE, NodeKind.IFELSE) for n in self.nodes
        )
        self.has_interrupts = any(n.kind == NodeKind.INTERRUPT for n in self.nodes)
        self.interrupt_names = tuple(
            n.name for n in self.nodes if n.kind == NodeKind.INTERRUPT
        )
        self.may_suspend = any(n.may_suspend for n in self.nodes)
        self.levels = self._static_levels(graph)
        # In a plain DAG without GraphNodes every node runs exactly once: no
        # readiness checks are needed on the level path.
        self.all_run = self.levels is not None and not any(
            n.kind == NodeKind.GRAPH for n in self.nodes
        )
        # A graph of one plain function (the typical batch item: one model or
        # API call) gets the engine's shortest path.
        self.single: NodePlan | None = None
        if self.all_run and len(self.nodes) == 1 and self.levels == ((0,),):
            only = self.nodes[0]
            if only.inline or only.direct_async:
                self.single = only

    # -- wiring --------------------------------------------------------------
    def _link(self, structure: Any) -> None:
        index = self.index
        cyclic = structure.has_cycles
        downstream = {
            name: reachable(structure.successors.get(name, ()), structure.successors)
            for name in self.order
        }
        for plan in self.nodes:
            name = plan.name
            preds = set()
            for src, dst in structure.data_edges:
                if dst == name and src != name and src in index:
                    preds.add(index[src])
            for src, dst in structure.ordering_edges:
                if dst == name and src != name and src in index:
                    preds.add(index[src])
            plan.preds = tuple(sorted(preds))
            plan.controllers = tuple(
                sorted(
                    index[g]
                    for g, t in structure.control_edges
                    if t == name and g in index
                )
            )
            plan.is_entrypoint = name in self.entrypoints
            if isinstance(plan.node, GateNode):
                targets = [str(t) for t in plan.node.targets if t is not END]
                plan.target_index = {t: index[t] for t in targets if t in index}
                plan.targets = tuple(plan.target_index.values())
            plan.stale_sources = self._stale_sources(
                plan, structure, cyclic, downstream
            )

    def _stale_sources(
        self,
        plan: NodePlan,
        structure: Any,
        cyclic: bool,
        downstream: dict[str, set[str]],
    ) -> dict[str, frozenset[int]]:
        """Producers whose writes make this node stale, per input (R16)."""
        index = self.index
        explicit = self.graph._edges_arg is not None
        result: dict[str, frozenset[int]] = {}
        for param in plan.node.inputs:
            if explicit:
                sources = structure.param_sources.get((plan.name, param), ())
            else:
                sources = structure.producers.get(param, ())
            chosen = {s for s in sources if s in index}
            if not plan.controllers:
                chosen.discard(plan.name)
            if (
                not cyclic
                and chosen
                and all(s in downstream[plan.name] for s in chosen)
            ):
                chosen = set()
            result[param] = frozenset(index[s] for s in chosen)
        return result

    def _internal_names(self, structure: Any) -> dict[str, str]:
        """Intermediate values (name -> producer) that callers may not supply."""
        internal: dict[str, str] = {}
        for (src, dst), names in structure.data_edges.items():
            if src in self.index and dst in self.index:
                for value in names:
                    if value not in self.seeds:
                        internal.setdefault(value, src)
        return internal

    def _static_levels(self, graph: Graph) -> tuple[tuple[int, ...], ...] | None:
        """Level order for plain DAGs, or None when the superstep loop is needed."""
        if (
            graph.has_cycles
            or self.has_gates
            or self.has_interrupts
            or graph._shared
            or graph._edges_arg is not None
        ):
            return None
        producers = graph._structure.producers
        for plan in self.nodes:
            for name in plan.wait_for:
                if not all(p in self.index for p in producers.get(name, ())):
                    return None
        level = [0] * len(self.nodes)
        order = _topological(self.nodes)
        for i in order:
            preds = self.nodes[i].preds
            level[i] = 1 + max((level[p] for p in preds), default=-1)
        depth = max(level, default=-1) + 1
        return tuple(
            tuple(i for i in range(len(self.nodes)) if level[i] == d)
            for d in range(depth)
        )


def _topological(nodes: tuple[NodePlan, ...]) -> list[int]:
    indegree = [len(n.preds) for n in nodes]
    children: list[list[int]] = [[] for _ in nodes]
    for n in nodes:
        for p in n.preds:
            children[p].append(n.index)
    ready = [n.index for n in nodes if indegree[n.index] == 0]
    order = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for child in children[current]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order


def _response_keys(nodes: tuple[NodePlan, ...]) -> list[str]:
    keys: list[str] = []
    for plan in nodes:
        if plan.kind == NodeKind.INTERRUPT:
            keys.extend(plan.outputs)
        elif plan.kind == NodeKind.GRAPH and plan.inner is not None:
            graph_node = plan.node
            assert isinstance(graph_node, GraphNode)
            inner_plan = plan_for(plan.inner)
            outer_names = {inner: outer for outer, inner in graph_node.output_pairs}
            for key in inner_plan.response_keys:
                shown = key if "." in key else outer_names.get(key, key)
                keys.append(f"{plan.name}.{shown}")
    return keys


def _params(node: HyperNode, bound: dict[str, Any]) -> tuple[tuple[Param, ...], bool]:
    if isinstance(node, GraphNode):
        params = tuple(
            Param(
                outer,
                inner,
                _P.KEYWORD_ONLY,
                bound.get(outer, MISSING),
                MISSING,
                False,
                outer in bound or node.has_default_for(outer),
            )
            for outer, inner in node.input_pairs
        )
        return params, True
    assert isinstance(node, FunctionNode | GateNode)
    info = node._info
    result = []
    for original, current, kind in zip(
        info.params, node.inputs, info.kinds, strict=True
    ):
        default = info.defaults.get(original, MISSING)
        result.append(
            Param(
                current,
                original,
                kind,
                bound.get(current, MISSING),
                default,
                default is not MISSING and not _is_immutable(default),
                current in bound or default is not MISSING,
            )
        )
    keyword = all(p.kind in (_P.POSITIONAL_OR_KEYWORD, _P.KEYWORD_ONLY) for p in result)
    return tuple(result), keyword


def _node_plan(index: int, node: HyperNode, bound: dict[str, Any]) -> NodePlan:
    kind = node_kind(node)
    params, keyword = _params(node, bound)
    func = getattr(node, "func", None)
    inner = node.graph if isinstance(node, GraphNode) else None
    mapping = node.mapping if isinstance(node, GraphNode) else None
    may_suspend = node.is_async or node.blocking
    if inner is not None:
        may_suspend = plan_for(inner).may_suspend or node.is_async
    return NodePlan(
        index=index,
        name=node.name,
        node=node,
        kind=kind,
        params=params,
        keyword_call=keyword,
        outputs=node.data_outputs
        if kind not in (NodeKind.ROUTE, NodeKind.IFELSE)
        else (),
        emit=node.emit,
        wait_for=node.wait_for,
        func=func,
        is_async=node.is_async,
        is_generator=node.is_generator,
        blocking=node.blocking,
        takes_slot=kind == NodeKind.FUNCTION,
        may_suspend=may_suspend,
        inline=kind == NodeKind.FUNCTION
        and not (node.is_async or node.is_generator or node.blocking),
        direct_async=kind == NodeKind.FUNCTION
        and node.is_async
        and not node.is_generator
        and keyword,
        simple_args=tuple((p.arg_name, p.value_name) for p in params)
        if keyword
        else None,
        inner=inner,
        mapping=mapping,
    )


def plan_for(graph: Graph) -> Plan:
    """Return the graph's cached plan, compiling it on first use.

    Raises:
        TypeError: a node has no executor (R6.4).
    """
    plan: Plan | None = graph._plan_cache
    if plan is None:
        plan = Plan(graph)
        graph._plan_cache = plan
    return plan


def copy_default(param: Param, node_name: str) -> Any:
    """Deep-copy a mutable default for one use (R14)."""
    from hypergraph.exceptions import GraphConfigError

    try:
        return copy.deepcopy(param.default)
    except Exception as exc:
        raise GraphConfigError(
            f"The default value of parameter {param.arg_name!r} of node "
            f"{node_name!r} cannot be deep-copied ({type(exc).__name__}: {exc}); "
            "hypergraph copies mutable defaults on every use so they never leak "
            "between runs.\n\nHow to fix: pass the object with graph.bind("
            f"{param.value_name}=...) instead; bound values are shared, not copied."
        ) from exc
