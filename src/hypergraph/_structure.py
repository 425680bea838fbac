"""Edge inference for ``Graph``: data, control and ordering links between nodes.

Everything here is plain code over node names; no I/O and no networkx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hypergraph._gates import END, GateNode
from hypergraph.exceptions import GraphConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from hypergraph._node import HyperNode

__all__ = ("EdgeSpec", "Structure", "build_structure", "reachable")

# (src, dst, value names or None) after normalisation of the user's ``edges=``.
EdgeSpec = tuple[str, str, tuple[str, ...] | None]


@dataclass(frozen=True, slots=True)
class Structure:
    """The links of one graph, keyed by node name (in constructor order)."""

    order: tuple[str, ...]
    producers: Mapping[str, tuple[str, ...]]
    # (src, dst) -> value names carried, after shadowing
    data_edges: Mapping[tuple[str, str], tuple[str, ...]]
    # every data link before shadowing (used by conflict checks)
    all_data_links: Mapping[tuple[str, str], frozenset[str]]
    control_edges: frozenset[tuple[str, str]]
    ordering_edges: frozenset[tuple[str, str]]
    # (consumer, param) -> producers feeding it after shadowing
    param_sources: Mapping[tuple[str, str], tuple[str, ...]]
    successors: Mapping[str, frozenset[str]]
    predecessors: Mapping[str, frozenset[str]]
    in_cycle: frozenset[str]

    @property
    def has_cycles(self) -> bool:
        """Whether any directed cycle (self-loops included) exists."""
        return bool(self.in_cycle)


def reachable(
    starts: Iterable[str],
    successors: Mapping[str, Iterable[str]],
    *,
    blocked: Iterable[str] = (),
) -> set[str]:
    """Nodes reachable from ``starts`` (inclusive), never expanding ``blocked``."""
    stop = set(blocked)
    seen: set[str] = set()
    stack = [s for s in starts if s not in stop]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(n for n in successors.get(current, ()) if n not in stop)
    return seen


def _cycle_members(
    order: Sequence[str], successors: Mapping[str, set[str]]
) -> set[str]:
    """Nodes on a directed cycle (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    members: set[str] = set()
    counter = 0
    for root in order:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(successors.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            current, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(successors.get(nxt, ()))))
                elif nxt in on_stack:
                    low[current] = min(low[current], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[current])
            if low[current] == index[current]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == current:
                        break
                if len(component) > 1 or current in successors.get(current, ()):
                    members.update(component)
    return members


def _producer_map(nodes: Sequence[HyperNode]) -> dict[str, tuple[str, ...]]:
    producers: dict[str, list[str]] = {}
    for node in nodes:
        for output in node.outputs:
            producers.setdefault(output, []).append(node.name)
    return {k: tuple(v) for k, v in producers.items()}


def _gate_links(nodes: Sequence[HyperNode]) -> set[tuple[str, str]]:
    links = set()
    for node in nodes:
        if isinstance(node, GateNode):
            for target in node.targets:
                if target is not END:
                    links.add((node.name, str(target)))
    return links


def _ordering_links(
    nodes: Sequence[HyperNode], producers: Mapping[str, tuple[str, ...]]
) -> set[tuple[str, str]]:
    links = set()
    for node in nodes:
        for name in node.wait_for:
            for producer in producers.get(name, ()):
                links.add((producer, node.name))
    return links


def _candidate_links(
    nodes: Sequence[HyperNode],
    producers: Mapping[str, tuple[str, ...]],
    shared: frozenset[str],
    explicit: Sequence[EdgeSpec] | None,
) -> dict[tuple[str, str], set[str]]:
    """Data links before shadowing: inferred by name and/or declared explicitly."""
    links: dict[tuple[str, str], set[str]] = {}
    if explicit is None or shared:
        for node in nodes:
            for param in node.inputs:
                if param in shared:
                    continue
                for producer in producers.get(param, ()):
                    links.setdefault((producer, node.name), set()).add(param)
    by_name = {n.name: n for n in nodes}
    for src, dst, names in explicit or ():
        if names is None:
            # Shared names never travel on edges; an edge between their writers
            # only orders them (G13).
            carried = [
                o
                for o in by_name[src].outputs
                if o in by_name[dst].inputs and o not in shared
            ]
        else:
            carried = [n for n in names if n not in shared]
        links.setdefault((src, dst), set()).update(carried)
    return links


def _shadowed(
    consumer: str,
    param: str,
    producers: tuple[str, ...],
    successors: Mapping[str, set[str]],
    gate_targets: Mapping[str, frozenset[str]],
) -> set[str]:
    """Producers of ``param`` whose value always passes another producer first."""
    blocked_targets = gate_targets.get(consumer, frozenset())
    links = {
        k: {n for n in v if n not in blocked_targets} for k, v in successors.items()
    }
    dropped = set()
    for producer in producers:
        if producer == consumer:
            continue
        others = set(producers) - {producer, consumer}
        firsts = [s for s in links.get(producer, ()) if s != consumer]
        if consumer not in reachable(firsts, links):
            continue  # the direct link is its only route: keep it
        free = reachable([f for f in firsts if f not in others], links, blocked=others)
        if consumer not in free:
            dropped.add(producer)
    return dropped


def build_structure(
    nodes: Sequence[HyperNode],
    *,
    shared: frozenset[str],
    explicit: Sequence[EdgeSpec] | None,
) -> Structure:
    """Infer every link of the graph and apply implicit-wiring rules (G4, G11)."""
    order = tuple(n.name for n in nodes)
    producers = _producer_map(nodes)
    control = _gate_links(nodes)
    ordering = _ordering_links(nodes, producers)
    candidates = _candidate_links(nodes, producers, shared, explicit)

    successors: dict[str, set[str]] = {name: set() for name in order}
    for src, dst in list(candidates) + list(control) + list(ordering):
        successors[src].add(dst)
    gate_targets = {
        n.name: frozenset(str(t) for t in n.targets if t is not END)
        for n in nodes
        if isinstance(n, GateNode)
    }
    cycle = _cycle_members(order, successors)

    param_sources: dict[tuple[str, str], tuple[str, ...]] = {}
    data_edges: dict[tuple[str, str], list[str]] = {}
    for node in nodes:
        for param in node.inputs:
            sources = tuple(
                src
                for src in (producers.get(param, ()))
                if param in candidates.get((src, node.name), ())
            )
            if len(sources) > 1 and explicit is None:
                dropped = _shadowed(node.name, param, sources, successors, gate_targets)
                kept = tuple(s for s in sources if s not in dropped)
                _check_competing(node, param, sources, kept, cycle)
                sources = kept
            if sources:
                param_sources[(node.name, param)] = sources
            for src in sources:
                data_edges.setdefault((src, node.name), []).append(param)
    # Declared edges that carry nothing still order their endpoints.
    for (src, dst), carried in candidates.items():
        if not carried and explicit is not None:
            ordering.add((src, dst))
            successors[src].add(dst)

    predecessors: dict[str, set[str]] = {name: set() for name in order}
    for src, dsts in successors.items():
        for dst in dsts:
            predecessors[dst].add(src)
    return Structure(
        order=order,
        producers=producers,
        data_edges={k: tuple(v) for k, v in data_edges.items()},
        all_data_links={k: frozenset(v) for k, v in candidates.items()},
        control_edges=frozenset(control),
        ordering_edges=frozenset(ordering),
        param_sources=param_sources,
        successors={k: frozenset(v) for k, v in successors.items()},
        predecessors={k: frozenset(v) for k, v in predecessors.items()},
        in_cycle=frozenset(cycle),
    )


def _check_competing(
    node: HyperNode,
    param: str,
    sources: tuple[str, ...],
    kept: tuple[str, ...],
    cycle: set[str],
) -> None:
    if not kept:
        raise GraphConfigError(
            f"Node {node.name!r} input {param!r} has competing producers "
            f"{list(sources)}, and each one's value is overwritten by another "
            "before it arrives.\n\nHow to fix: rename one output, or order the "
            "producers with emit=/wait_for=."
        )
    others = [k for k in kept if k != node.name]
    if node.name in cycle and not isinstance(node, GateNode) and len(others) > 1:
        raise GraphConfigError(
            f"Node {node.name!r} sits in a cycle and its input {param!r} has "
            f"competing producers {others}; which value it reads would depend on "
            "timing.\n\nHow to fix: rename one of the outputs, or pass explicit "
            "edges=[...] to say which producer feeds it."
        )
