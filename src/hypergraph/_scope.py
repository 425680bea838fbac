"""Active scope and ``InputSpec``: which nodes can run, which inputs they need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final

from hypergraph._gates import END, GateNode
from hypergraph._graph_node import GraphNode
from hypergraph._structure import Structure, reachable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from hypergraph._node import HyperNode

__all__ = ("InputSpec", "Scope", "compute_scope")


@final
@dataclass(frozen=True)
class InputSpec:
    """What a graph needs to run: required and optional input names, and bindings.

    ``entrypoints`` is always ``{}`` (kept for compatibility).
    """

    required: tuple[str, ...]
    optional: tuple[str, ...]
    entrypoints: dict[str, Any] = field(default_factory=dict)
    bound: dict[str, Any] = field(default_factory=dict)

    @property
    def all(self) -> tuple[str, ...]:
        """Required inputs followed by optional ones."""
        return self.required + self.optional


@dataclass(frozen=True, slots=True)
class Scope:
    """The scope-dependent facts of a configured graph."""

    active: frozenset[str]
    spec: InputSpec
    seeds: frozenset[str]


def _select_closure(
    nodes: Mapping[str, HyperNode],
    structure: Structure,
    selected: tuple[str, ...],
    base: set[str],
) -> set[str]:
    wanted = {
        producer
        for name in selected
        for producer in structure.producers.get(name, ())
        if producer in base
    }
    result: set[str] = set()
    pending = list(wanted)
    while pending:
        current = pending.pop()
        if current in result or current not in base:
            continue
        result.add(current)
        pending.extend(structure.predecessors.get(current, ()))
        node = nodes[current]
        if isinstance(node, GateNode):
            targets = [str(t) for t in node.targets if t is not END]
            pending.extend(reachable(targets, structure.successors) & base)
    return result


def active_nodes(
    nodes: Mapping[str, HyperNode],
    structure: Structure,
    entrypoints: tuple[str, ...],
    selected: tuple[str, ...] | None,
) -> frozenset[str]:
    """Nodes that may run given entrypoints and a selection (I2)."""
    base = set(structure.order)
    if entrypoints:
        base = reachable(entrypoints, structure.successors)
    if selected is not None:
        base = _select_closure(nodes, structure, selected, base)
    return frozenset(base)


def _seeds(
    nodes: Mapping[str, HyperNode],
    structure: Structure,
    entrypoints: tuple[str, ...],
    active: frozenset[str],
) -> set[tuple[str, str]]:
    """(entrypoint, param) pairs whose value flows around a cycle back into it."""
    seeds = set()
    for entry in entrypoints:
        if entry not in active:
            continue
        downstream = reachable([entry], structure.successors)
        for param in nodes[entry].inputs:
            for source in structure.param_sources.get((entry, param), ()):
                if (
                    source in active
                    and source in downstream
                    and not nodes[source].is_interrupt
                ):
                    seeds.add((entry, param))
    return seeds


def _nested_bindings(
    nodes: Sequence[HyperNode], own: Mapping[str, Any]
) -> dict[str, Any]:
    exposed: dict[str, Any] = {}
    conflicted: set[str] = set()
    for node in nodes:
        if not isinstance(node, GraphNode):
            continue
        inner_bound = node.graph.inputs.bound
        for outer, inner in node.input_pairs:
            if inner not in inner_bound or outer in own:
                continue
            value = inner_bound[inner]
            if outer in exposed and exposed[outer] is not value:
                try:
                    same = bool(exposed[outer] == value)
                except Exception:  # noqa: BLE001 - incomparable counts as different
                    same = False
                if not same:
                    conflicted.add(outer)
            exposed.setdefault(outer, value)
    return {k: v for k, v in exposed.items() if k not in conflicted}


def compute_scope(
    nodes: Mapping[str, HyperNode],
    structure: Structure,
    *,
    entrypoints: tuple[str, ...],
    selected: tuple[str, ...] | None,
    bound: Mapping[str, Any],
) -> Scope:
    """Classify every parameter of the active nodes (I3-I5)."""
    active = active_nodes(nodes, structure, entrypoints, selected)
    ordered = [nodes[name] for name in structure.order if name in active]
    seed_pairs = _seeds(nodes, structure, entrypoints, active)
    seed_names = {param for _, param in seed_pairs}
    fed: set[str] = set()
    consumers: dict[str, list[HyperNode]] = {}
    for node in ordered:
        for param in node.inputs:
            consumers.setdefault(param, []).append(node)
            sources = structure.param_sources.get((node.name, param), ())
            if (node.name, param) not in seed_pairs and any(
                s in active for s in sources
            ):
                fed.add(param)
    exposed = _nested_bindings(ordered, bound)
    all_bound = {**exposed, **bound}
    required: list[str] = []
    optional: list[str] = []
    for param, group in consumers.items():
        if param in fed and param not in seed_names:
            continue
        if param in seed_names:
            entry_defaults = all(
                n.has_default_for(param) for n in group if (n.name, param) in seed_pairs
            )
            is_optional = param in all_bound or entry_defaults
        else:
            is_optional = param in all_bound or all(
                n.has_default_for(param) for n in group
            )
        (optional if is_optional else required).append(param)
    names = set(required) | set(optional)
    spec = InputSpec(
        required=tuple(required),
        optional=tuple(optional),
        bound={**{k: v for k, v in exposed.items() if k in names}, **bound},
    )
    return Scope(active=active, spec=spec, seeds=frozenset(seed_names))
