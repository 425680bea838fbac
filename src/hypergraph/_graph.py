"""``Graph``: nodes wired by matching names, validated when built, immutable."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self, final

from hypergraph import _checks
from hypergraph._gates import GateNode
from hypergraph._graph_node import GraphNode
from hypergraph._naming import suggest
from hypergraph._node import HyperNode
from hypergraph._scope import InputSpec, Scope, compute_scope
from hypergraph._structure import EdgeSpec, Structure, build_structure
from hypergraph._typecheck import is_compatible
from hypergraph.exceptions import GraphConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import networkx

__all__ = ("Graph",)


@final
class Graph:
    """A set of nodes whose edges come from matching output and input names.

    Args:
        nodes: The nodes, in the order used for ties and for ``outputs``.
        edges: Explicit wiring ``[(src, dst[, names]), ...]`` instead of names.
        entrypoint: Node name(s) to start from (required for cyclic graphs).
        name: Graph name (used by ``as_node()`` and in logs).
        strict_types: Check annotations on every data edge when built.
        shared: Output names that act as shared state (no inferred edges).

    Raises:
        TypeError: an element of ``nodes`` is not a node.
        GraphConfigError: the graph cannot run as built (``docs/nodes-and-graphs.md``).

    Example:
        >>> from hypergraph import node
        >>> @node(output_name="doubled")
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> Graph([double]).inputs.required
        ('x',)
    """

    _scope: Scope
    _plan_cache: Any

    def __init__(
        self,
        nodes: Iterable[HyperNode],
        *,
        edges: Iterable[tuple[Any, ...]] | None = None,
        entrypoint: object = None,
        name: str | None = None,
        strict_types: bool = False,
        shared: str | Iterable[str] | None = None,
    ) -> None:
        if isinstance(nodes, HyperNode) or not isinstance(nodes, Iterable):
            raise TypeError(
                f"Graph() takes a list of nodes, got {nodes!r} of type "
                f"{type(nodes).__name__}.\n\nHow to fix: wrap it in a list, "
                "Graph([my_node])."
            )
        node_list = list(nodes)
        for item in node_list:
            if not isinstance(item, HyperNode):
                raise TypeError(
                    f"Graph() got {item!r} of type {type(item).__name__}, which is "
                    "not a node.\n\nHow to fix: decorate functions with @node (or "
                    "wrap graphs with .as_node()) before putting them in a Graph."
                )
        _checks.check_names(node_list)
        _checks.check_graph_name(name)
        by_name = {n.name: n for n in node_list}
        self._nodes = by_name
        self._name = name
        self._strict_types = bool(strict_types)
        self._shared = _checks.normalise_shared(shared)
        self._edges_arg: list[EdgeSpec] | None = _checks.normalise_edges(edges, by_name)
        entrypoints = _checks.normalise_entrypoints(entrypoint, by_name)
        _checks.check_gates(node_list)
        self._structure = self._build(node_list)
        if self._structure.has_cycles and not entrypoints:
            cyclic = [n for n in self._structure.order if n in self._structure.in_cycle]
            raise GraphConfigError(
                f"The graph has a cycle through {cyclic} but no entrypoint, so "
                "there is no node to start from.\n\nHow to fix: pass "
                f"entrypoint={cyclic[0]!r} to Graph(...) (or call "
                ".with_entrypoint(...)) to say where the loop begins."
            )
        if self._strict_types:
            _check_types(by_name, self._structure)
        self._entrypoints = entrypoints
        self._selected: tuple[str, ...] | None = None
        self._bound: dict[str, Any] = {}
        self._hash: str | None = None
        self._configure()

    def _build(self, node_list: list[HyperNode]) -> Structure:
        producers = {o for n in node_list for o in n.outputs}
        _checks.check_wait_for(node_list, dict.fromkeys(producers))
        _checks.check_mapped_interrupts(node_list)
        structure = build_structure(
            node_list, shared=frozenset(self._shared), explicit=self._edges_arg
        )
        _checks.check_shared(self._shared, structure.producers, structure)
        _checks.check_conflicts(
            node_list, structure, explicit=self._edges_arg is not None
        )
        _checks.check_defaults(node_list, structure.producers)
        return structure

    def _configure(self) -> None:
        self._scope = compute_scope(
            self._nodes,
            self._structure,
            entrypoints=self._entrypoints,
            selected=self._selected,
            bound=self._bound,
        )
        self._plan_cache = None

    def _evolve(self, **changes: Any) -> Self:
        clone = copy.copy(self)
        for key, value in changes.items():
            setattr(clone, key, value)
        clone._configure()
        return clone

    # -- read-only views ---------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The graph's name, or None."""
        return self._name

    @property
    def nodes(self) -> dict[str, HyperNode]:
        """A fresh dict of node name to node, in constructor order."""
        return dict(self._nodes)

    @property
    def inputs(self) -> InputSpec:
        """Required and optional inputs of the active scope."""
        return self._scope.spec

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every output name (emit names included, gate records excluded)."""
        return _distinct_outputs(self._nodes.values())

    @property
    def leaf_outputs(self) -> tuple[str, ...]:
        """Outputs of nodes that have no outgoing edge."""
        successors = self._structure.successors
        leaves = [n for n in self._nodes.values() if not successors.get(n.name)]
        return _distinct_outputs(leaves)

    @property
    def has_cycles(self) -> bool:
        """Whether any directed cycle exists (self-loops included)."""
        return self._structure.has_cycles

    @property
    def has_async_nodes(self) -> bool:
        """Whether any node (nested graphs included) is async."""
        return any(n.is_async for n in self._nodes.values())

    @property
    def has_interrupts(self) -> bool:
        """Whether the graph has interrupt nodes as direct members."""
        return any(n.is_interrupt for n in self._nodes.values())

    @property
    def interrupt_nodes(self) -> list[HyperNode]:
        """Direct interrupt members, in node order."""
        return [n for n in self._nodes.values() if n.is_interrupt]

    @property
    def strict_types(self) -> bool:
        """Whether edge types were checked when built."""
        return self._strict_types

    @property
    def selected(self) -> tuple[str, ...] | None:
        """The selected outputs, or None."""
        return self._selected

    @property
    def entrypoints_config(self) -> tuple[str, ...] | None:
        """Configured entrypoint names, or None."""
        return self._entrypoints or None

    @property
    def shared(self) -> tuple[str, ...]:
        """Names treated as shared state."""
        return self._shared

    @property
    def definition_hash(self) -> str:
        """SHA-256 over node definitions and edges; ignores order and bindings."""
        if self._hash is None:
            parts = sorted(
                f"node:{name}:{n.definition_hash}" for name, n in self._nodes.items()
            )
            parts += sorted(f"edge:{a}>{b}:{t}:{v}" for a, b, t, v in self._edge_rows())
            self._hash = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return self._hash

    def _edge_rows(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        s = self._structure
        rows = [(a, b, "data", names) for (a, b), names in s.data_edges.items()]
        taken = set(s.data_edges)
        for a, b in sorted(s.control_edges - taken):
            rows.append((a, b, "control", ()))
        taken |= s.control_edges
        for a, b in sorted(s.ordering_edges - taken):
            rows.append((a, b, "ordering", ()))
        return rows

    @property
    def nx_graph(self) -> networkx.DiGraph[str]:
        """The graph as a ``networkx.DiGraph`` (needs networkx installed).

        Raises:
            ImportError: networkx is not installed.
        """
        try:
            import networkx
        except ImportError as exc:
            raise ImportError(
                "Graph.nx_graph needs networkx, which hypergraph does not depend "
                "on.\n\nHow to fix: pip install networkx"
            ) from exc
        result: networkx.DiGraph[str] = networkx.DiGraph()
        result.add_nodes_from(self._nodes)
        for a, b, kind, names in self._edge_rows():
            result.add_edge(a, b, edge_type=kind, value_names=list(names))
        return result

    def __repr__(self) -> str:
        count = len(self._nodes)
        edges = len(self._edge_rows())
        cycles = "has cycles" if self.has_cycles else "no cycles"
        return (
            f"Graph: {self._name or 'unnamed'} | {count} node{'s' * (count != 1)} | "
            f"{edges} edge{'s' * (edges != 1)} | {cycles}"
        )

    # -- engine-facing helpers -------------------------------------------------
    def _producers_of(self, name: str) -> list[HyperNode]:
        return [self._nodes[p] for p in self._structure.producers.get(name, ())]

    def _active_consumers(self, param: str) -> list[HyperNode]:
        active = self._scope.active
        return [
            n for n in self._nodes.values() if n.name in active and param in n.inputs
        ]

    def _exposed_outputs(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(data outputs, emit names) a GraphNode around this graph exposes (N25)."""
        if self._selected is not None:
            return self._selected, ()
        nodes = list(self._nodes.values())
        if self._entrypoints:
            nodes = [n for n in nodes if n.name in self._scope.active]
        emits = {e for n in nodes for e in n.emit}
        names = _distinct_outputs(nodes)
        return (
            tuple(n for n in names if n not in emits),
            tuple(n for n in names if n in emits),
        )

    # -- configuration -----------------------------------------------------------
    def bind(self, **values: Any) -> Graph:
        """Return a copy with inputs bound to values (stored by reference).

        Raises:
            ValueError: a key is not an input of the graph.
        """
        valid = self.inputs.all
        for key in values:
            if key in valid:
                continue
            if key in self.outputs:
                raise ValueError(
                    f"Cannot bind {key!r}: it is an output of the graph, computed by "
                    f"{list(self._structure.producers.get(key, ()))}.\n\nHow to fix: "
                    "slice the graph first with .with_entrypoint(...) so that the "
                    "producer does not run, then bind the value."
                )
            raise ValueError(
                f"Cannot bind {key!r}: not an input of this graph"
                f"{suggest(key, valid)}. Valid inputs: "
                f"{', '.join(valid) or '(none)'}.\n\nHow to fix: bind one of the "
                "valid inputs."
            )
        return self._evolve(_bound={**self._bound, **values})

    def unbind(self, *names: str) -> Graph:
        """Return a copy without the given bindings (unknown names are ignored)."""
        return self._evolve(
            _bound={k: v for k, v in self._bound.items() if k not in names}
        )

    def select(self, *names: str) -> Graph:
        """Return a copy that computes and returns only ``names``.

        Raises:
            ValueError: a name is not an output, or is listed twice.
        """
        outputs = self.outputs
        for item in names:
            if item not in outputs:
                raise ValueError(
                    f"Cannot select {item!r}: not an output of this graph"
                    f"{suggest(item, outputs)}. Outputs: {', '.join(outputs)}.\n\n"
                    "How to fix: select one of the outputs."
                )
        if len(set(names)) != len(names):
            raise ValueError(
                f"select() got duplicate names: {names!r}.\n\n"
                "How to fix: name each output once."
            )
        return self._evolve(_selected=tuple(names))

    def with_entrypoint(self, *nodes: str | HyperNode) -> Graph:
        """Return a copy that starts at these nodes (accumulating earlier ones).

        Raises:
            GraphConfigError: unknown node names, or a gate.
        """
        added = _checks.normalise_entrypoints(list(nodes), self._nodes)
        merged = self._entrypoints + tuple(
            n for n in added if n not in self._entrypoints
        )
        return self._evolve(_entrypoints=merged)

    def add_nodes(self, *nodes: HyperNode) -> Graph:
        """Return a graph rebuilt with extra nodes, keeping all configuration.

        Raises:
            GraphConfigError: the graph was built with explicit ``edges``.
            ValueError: a binding is no longer a valid input.
        """
        if not nodes:
            return self
        if self._edges_arg is not None:
            raise GraphConfigError(
                "add_nodes() cannot extend a graph built with explicit edges=: the "
                "new nodes would have no wiring.\n\nHow to fix: build a new Graph "
                "with the full node list and edges."
            )
        graph = Graph(
            [*self._nodes.values(), *nodes],
            entrypoint=list(self._entrypoints) or None,
            name=self._name,
            strict_types=self._strict_types,
            shared=list(self._shared) or None,
        )
        if self._bound:
            graph = graph.bind(**self._bound)
        if self._selected is not None:
            graph = graph.select(*self._selected)
        return graph

    def as_node(self, *, name: str | None = None) -> GraphNode:
        """Wrap this graph as a node of another graph.

        Raises:
            ValueError: neither ``name`` nor the graph's name is set, or it
                contains '.' or '/'.
        """
        return GraphNode(self, name=name)


def _distinct_outputs(nodes: Iterable[HyperNode]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for node in nodes:
        records = set(node.data_outputs) if isinstance(node, GateNode) else set()
        for output in node.outputs:
            if output not in records:
                seen.setdefault(output, None)
    return tuple(seen)


def _check_types(nodes: Mapping[str, HyperNode], structure: Structure) -> None:
    for (src, dst), names in structure.data_edges.items():
        producer, consumer = nodes[src], nodes[dst]
        for value in names:
            produced = producer.get_output_type(value)
            expected = consumer.get_input_type(value)
            if produced is None or expected is None:
                side = f"output of {src!r}" if produced is None else f"input of {dst!r}"
                raise GraphConfigError(
                    f"Missing type annotation for {value!r} ({side}) with "
                    "strict_types=True.\n\nHow to fix: annotate the parameter and "
                    "return type, or build the graph with strict_types=False."
                )
            if not is_compatible(produced, expected):
                raise GraphConfigError(
                    f"Type mismatch on {value!r}: {src!r} outputs {produced!r} but "
                    f"{dst!r} expects {expected!r}.\n\nHow to fix: change one "
                    "annotation (or convert the value in between)."
                )
