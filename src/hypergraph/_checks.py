"""Build-time validation of a graph's nodes, names and wiring (spec 01, G8-G14).

Every structural mistake is raised here, when ``Graph(...)`` is built, never mid-run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

from hypergraph._gates import END, GateNode, RouteNode
from hypergraph._graph_node import MISSING, GraphNode, signature_default
from hypergraph._naming import is_identifier, suggest
from hypergraph._node import HyperNode
from hypergraph._structure import EdgeSpec, Structure, reachable
from hypergraph.exceptions import GraphConfigError

__all__ = (
    "check_conflicts",
    "check_defaults",
    "check_gates",
    "check_graph_name",
    "check_mapped_interrupts",
    "check_names",
    "check_shared",
    "check_wait_for",
    "normalise_edges",
    "normalise_entrypoints",
)


def check_graph_name(name: object) -> None:
    """A graph name is a string without '.' or '/'."""
    if name is None:
        return
    if not isinstance(name, str):
        raise GraphConfigError(
            f"Graph name must be a string, got {name!r}.\n\n"
            "How to fix: Graph([...], name='pipeline')."
        )
    if "." in name or "/" in name:
        raise GraphConfigError(
            f"Graph name {name!r} contains '.' or '/', which hypergraph uses to "
            "address nested graphs and batch items.\n\nHow to fix: use '-' or '_'."
        )


def check_names(nodes: Sequence[HyperNode]) -> None:
    """Duplicate names first, then END, identifiers and output names."""
    seen: set[str] = set()
    for node in nodes:
        if node.name in seen:
            raise GraphConfigError(
                f"Duplicate node name {node.name!r}: two nodes in this graph share "
                "it.\n\nHow to fix: rename one with .with_name('other_name')."
            )
        seen.add(node.name)
    outputs_by_node = {n.name: set(n.outputs) for n in nodes}
    for node in nodes:
        _check_node_name(node, outputs_by_node)
        _check_output_names(node)


def _check_node_name(node: HyperNode, outputs_by_node: Mapping[str, set[str]]) -> None:
    name = node.name
    if name == "END":
        raise GraphConfigError(
            "A node is named 'END', which is reserved for the END sentinel.\n\n"
            "How to fix: rename it with .with_name(...)."
        )
    if isinstance(node, GraphNode):
        for other, outputs in outputs_by_node.items():
            if other != name and name in outputs:
                raise GraphConfigError(
                    f"GraphNode {name!r} has the same name as an output of node "
                    f"{other!r}; values and nested runs would be confused.\n\n"
                    "How to fix: rename the GraphNode with as_node(name=...)."
                )
        return
    if not is_identifier(name):
        hint = " Lambdas are named '<lambda>'." if name == "<lambda>" else ""
        raise GraphConfigError(
            f"Node name {name!r} is not a valid Python identifier (or is a "
            f"keyword).{hint}\n\nHow to fix: give it a name with "
            ".with_name('my_step')."
        )


def _check_output_names(node: HyperNode) -> None:
    records = set(node.data_outputs) if isinstance(node, GateNode) else set()
    for output in node.outputs:
        if output in records:
            continue
        if output == "END":
            raise GraphConfigError(
                f"Node {node.name!r} has an output named 'END', which is reserved."
                "\n\nHow to fix: rename it with .with_outputs(END='end_value')."
            )
        if not is_identifier(output) or output.startswith("_"):
            raise GraphConfigError(
                f"Node {node.name!r} has an invalid output name {output!r}: "
                "output names must be identifiers, not keywords, and must not "
                "start with '_' (reserved for gate records).\n\nHow to fix: "
                "rename it with .with_outputs(...)."
            )


def check_gates(nodes: Sequence[HyperNode]) -> None:
    """Gate targets exist, are not the gate itself, and multi targets don't clash."""
    by_name = {n.name: n for n in nodes}
    for gate in nodes:
        if not isinstance(gate, GateNode):
            continue
        for target in gate.targets:
            if target is END:
                continue
            if target == gate.name:
                raise GraphConfigError(
                    f"Gate {gate.name!r} lists itself as a target.\n\nHow to fix: "
                    "route to the node(s) that should run next instead."
                )
            if target not in by_name:
                raise GraphConfigError(
                    f"Gate {gate.name!r} targets {target!r}, which is not a node "
                    f"of this graph{suggest(str(target), by_name)}. Nodes: "
                    f"{', '.join(by_name)}.\n\nHow to fix: add that node to the "
                    "graph or correct the target name (END is always valid)."
                )
        if isinstance(gate, RouteNode) and gate.multi_target:
            _check_multi_target_outputs(gate, by_name)


def _check_multi_target_outputs(
    gate: RouteNode, by_name: Mapping[str, HyperNode]
) -> None:
    owners: dict[str, str] = {}
    for target in gate.targets:
        if target is END:
            continue
        for output in by_name[str(target)].outputs:
            if output in owners:
                raise GraphConfigError(
                    f"multi_target route {gate.name!r} may run targets "
                    f"{owners[output]!r} and {target!r} together, and both output "
                    f"{output!r}.\n\nHow to fix: give the targets distinct output "
                    "names, or use multi_target=False."
                )
            owners[output] = str(target)


def check_wait_for(nodes: Sequence[HyperNode], producers: Mapping[str, Any]) -> None:
    """Every wait_for name is produced (or emitted) by some node."""
    for node in nodes:
        for name in node.wait_for:
            if name not in producers:
                raise GraphConfigError(
                    f"Node {node.name!r} waits for {name!r}, but no node outputs or "
                    f"emits it{suggest(name, producers)}.\n\nHow to fix: add "
                    f"emit={name!r} to the node it should wait for, or fix the name."
                )


def _interrupts_within(node: GraphNode) -> list[str]:
    found: list[str] = []
    for inner in node.graph.nodes.values():
        if inner.is_interrupt:
            found.append(inner.name)
        elif isinstance(inner, GraphNode):
            found.extend(f"{inner.name}/{n}" for n in _interrupts_within(inner))
    return found


def check_mapped_interrupts(nodes: Sequence[HyperNode]) -> None:
    """A mapped GraphNode must not contain an interrupt at any depth (N31)."""
    for node in nodes:
        if isinstance(node, GraphNode) and node.mapping is not None:
            found = _interrupts_within(node)
            if found:
                raise GraphConfigError(
                    f"GraphNode {node.name!r} has map_over but wrapped graph "
                    f"contains InterruptNode(s): {', '.join(found)}. Interrupts are "
                    "incompatible with map execution.\n\nHow to fix: batch the "
                    "interrupt graph with runner.map(...) instead, where each item "
                    "can pause on its own."
                )


def _defaults_equal(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        result: Any = a == b
        if isinstance(result, bool):
            return result
        return bool(all(result))  # array-likes compare element-wise
    except Exception:  # noqa: BLE001 - a failing comparison counts as unequal
        return False


def check_defaults(nodes: Sequence[HyperNode], producers: Mapping[str, Any]) -> None:
    """Shared graph inputs have the same signature default everywhere, or none (G9)."""
    consumers: dict[str, list[HyperNode]] = {}
    for node in nodes:
        for param in node.inputs:
            if param not in producers:
                consumers.setdefault(param, []).append(node)
    for param, group in consumers.items():
        if len(group) < 2:
            continue
        values = [signature_default(n, param) for n in group]
        with_default = [v for v in values if v is not MISSING]
        consistent = not with_default or (
            len(with_default) == len(values)
            and all(_defaults_equal(values[0], v) for v in values[1:])
        )
        if not consistent:
            shown = ", ".join(
                f"{n.name}={'(none)' if v is MISSING else repr(v)}"
                for n, v in zip(group, values, strict=True)
            )
            raise GraphConfigError(
                f"Inconsistent defaults for {param!r}: {shown}. One run input "
                "cannot have different fallbacks in different nodes.\n\nHow to "
                f"fix: give every consumer the same default, remove them, or bind "
                f"the value with graph.bind({param}=...)."
            )


def _mutex_branches(
    nodes: Sequence[HyperNode], structure: Structure
) -> list[list[set[str]]]:
    groups = []
    for gate in nodes:
        if not isinstance(gate, GateNode) or not gate.is_exclusive:
            continue
        targets = [str(t) for t in gate.targets if t is not END]
        if len(targets) < 2:
            continue
        reach = {
            t: reachable([t], structure.successors, blocked=[gate.name])
            for t in targets
        }
        branches = []
        for t in targets:
            others = set().union(*(reach[o] for o in targets if o != t))
            branches.append(reach[t] - others)
        groups.append(branches)
    return groups


def _ordered(a: str, b: str, links: Mapping[str, set[str]]) -> bool:
    return b in reachable([a], links) or a in reachable([b], links)


def check_conflicts(
    nodes: Sequence[HyperNode], structure: Structure, *, explicit: bool
) -> None:
    """Two producers of one name must be mutually exclusive or ordered (G10)."""
    contested = {k: v for k, v in structure.producers.items() if len(v) > 1}
    if not contested:
        return
    groups = _mutex_branches(nodes, structure)
    for output, sources in contested.items():
        links = _ordering_links(structure, set(sources), explicit=explicit)
        for a, b in combinations(sources, 2):
            mutex = any(
                any(a in br for br in branches)
                and any(b in br for br in branches)
                and not any(a in br and b in br for br in branches)
                for branches in groups
            )
            if mutex or _ordered(a, b, links):
                continue
            raise GraphConfigError(
                f"Multiple nodes produce {output!r}: {a!r} and {b!r}, and nothing "
                "decides which runs first, so the value would depend on timing.\n\n"
                "How to fix: order them (emit='done' on one, wait_for='done' on "
                "the other), put them in different branches of one @route/@ifelse, "
                "or rename one output."
            )


def _ordering_links(
    structure: Structure, producer_set: set[str], *, explicit: bool
) -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    for src, dst in structure.control_edges | structure.ordering_edges:
        links.setdefault(src, set()).add(dst)
    contested = {
        name
        for name, owners in structure.producers.items()
        if len(producer_set & set(owners)) > 1
    }
    for (src, dst), carried in structure.all_data_links.items():
        if explicit or not carried <= contested:
            links.setdefault(src, set()).add(dst)
    return links


def check_shared(
    shared: tuple[str, ...], producers: Mapping[str, Any], structure: Structure
) -> None:
    """Shared names exist, and the graph still hangs together without them (G13)."""
    for name in shared:
        if name not in producers:
            raise GraphConfigError(
                f"shared names {name!r}, but no node outputs it"
                f"{suggest(name, producers)}.\n\nHow to fix: list only outputs of "
                "the graph's nodes in shared=[...]."
            )
    if not shared or len(structure.order) < 2:
        return
    undirected: dict[str, set[str]] = {n: set() for n in structure.order}
    for src, dsts in structure.successors.items():
        for dst in dsts:
            undirected[src].add(dst)
            undirected[dst].add(src)
    groups: list[list[str]] = []
    seen: set[str] = set()
    for name in structure.order:
        if name not in seen:
            group = reachable([name], undirected)
            seen |= group
            groups.append([n for n in structure.order if n in group])
    if len(groups) > 1:
        listing = "; ".join("[" + ", ".join(g) + "]" for g in groups)
        raise GraphConfigError(
            f"With shared={list(shared)!r} the graph falls apart into disconnected "
            f"groups: {listing}. Nothing orders one group against another.\n\n"
            "How to fix: add edges=[(a, b), ...] to order the groups, or wire "
            "them with emit=/wait_for=."
        )


def normalise_shared(shared: object) -> tuple[str, ...]:
    """Accept a string, list or tuple of names for ``shared=``."""
    if shared is None:
        return ()
    items = (shared,) if isinstance(shared, str) else shared
    if not isinstance(items, list | tuple):
        raise GraphConfigError(
            f"shared must be a name or a list of names, got {shared!r}.\n\nHow to "
            "fix: shared='messages' or shared=['messages', 'notes']."
        )
    for item in items:
        if not isinstance(item, str):
            raise GraphConfigError(
                f"shared entries must be strings, got {item!r}.\n\nHow to fix: "
                "list output names as strings."
            )
    return tuple(items)


def _edge_endpoint(value: object, by_name: Mapping[str, HyperNode]) -> str:
    name = value.name if isinstance(value, HyperNode) else value
    if not isinstance(name, str) or name not in by_name:
        raise GraphConfigError(
            f"Edge endpoint {value!r} is not a node of this graph. Nodes: "
            f"{', '.join(by_name)}.\n\nHow to fix: use node names or node objects "
            "that are in the graph."
        )
    return name


def normalise_edges(
    edges: object, by_name: Mapping[str, HyperNode]
) -> list[EdgeSpec] | None:
    """Validate ``edges=[(src, dst[, names]), ...]`` (G12)."""
    if edges is None:
        return None
    if not isinstance(edges, Iterable) or isinstance(edges, str | bytes):
        raise GraphConfigError(
            f"edges must be a list of (src, dst) or (src, dst, names) tuples, got "
            f"{edges!r}.\n\nHow to fix: e.g. edges=[('load', 'clean')]."
        )
    result: list[EdgeSpec] = []
    for item in edges:
        if not isinstance(item, tuple) or len(item) not in (2, 3):
            raise GraphConfigError(
                f"Bad edge {item!r}: expected (src, dst) or (src, dst, names).\n\n"
                "How to fix: e.g. edges=[('load', 'clean'), ('clean', 'embed', "
                "'text')]."
            )
        src = _edge_endpoint(item[0], by_name)
        dst = _edge_endpoint(item[1], by_name)
        names: tuple[str, ...] | None = None
        if len(item) == 3:
            raw = item[2]
            names = (raw,) if isinstance(raw, str) else tuple(raw)
            for value in names:
                if (
                    value not in by_name[src].outputs
                    or value not in by_name[dst].inputs
                ):
                    raise GraphConfigError(
                        f"Edge ({src!r}, {dst!r}) carries {value!r}, which must be "
                        f"an output of {src!r} (outputs: {by_name[src].outputs}) and "
                        f"an input of {dst!r} (inputs: {by_name[dst].inputs}).\n\n"
                        "How to fix: name a value both nodes share."
                    )
        result.append((src, dst, names))
    return result


def normalise_entrypoints(
    entrypoint: object, by_name: Mapping[str, HyperNode]
) -> tuple[str, ...]:
    """Validate entrypoint names or nodes; gates cannot be entrypoints (G14, G20)."""
    if entrypoint is None:
        return ()
    items = entrypoint if isinstance(entrypoint, list | tuple) else (entrypoint,)
    if not items:
        raise GraphConfigError(
            "entrypoint is an empty list.\n\nHow to fix: name at least one node, or "
            "leave entrypoint unset."
        )
    names: list[str] = []
    for item in items:
        name = item.name if isinstance(item, HyperNode) else item
        if not isinstance(name, str):
            raise GraphConfigError(
                f"entrypoint must be a node name or node, got {item!r}.\n\nHow to "
                "fix: entrypoint='node_name'."
            )
        if name not in by_name:
            raise GraphConfigError(
                f"Entrypoint {name!r} is not a node of this graph"
                f"{suggest(name, by_name)}. Nodes: {', '.join(by_name)}.\n\nHow to "
                "fix: use one of the node names."
            )
        if isinstance(by_name[name], GateNode):
            raise GraphConfigError(
                f"Gate {name!r} cannot be an entrypoint: a gate decides after "
                "values exist.\n\nHow to fix: start at the node the gate reads from."
            )
        if name not in names:
            names.append(name)
    return tuple(names)
