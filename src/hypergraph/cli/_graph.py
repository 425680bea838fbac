"""``hypergraph graph ls`` and ``hypergraph graph inspect`` (CLI50-CLI51)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import click

from hypergraph.cli._config import load_config
from hypergraph.cli._inputs import load_target
from hypergraph.cli._options import json_options
from hypergraph.cli._output import (
    echo,
    emit_json,
    hints,
    plural,
    print_table,
    to_jsonable,
    truncate,
)

if TYPE_CHECKING:
    from hypergraph import Graph

__all__ = ("graph_group",)

_EDGES = re.compile(r"\|\s*(\d+) edges?\b")


@click.group("graph")
def graph_group() -> None:
    """List registered graphs and inspect a graph's structure."""


@graph_group.command("ls")
@json_options
def graph_ls(as_json: bool, output: str | None) -> int:
    """List the graphs registered in [tool.hypergraph.graphs]."""
    config = load_config()
    if as_json or output is not None:
        emit_json("graph.ls", {"graphs": dict(sorted(config.graphs.items()))}, output)
        return 0
    if not config.graphs:
        echo("No graphs registered in pyproject.toml.")
        echo()
        echo("Register graphs by name in pyproject.toml:")
        echo("  [tool.hypergraph.graphs]")
        echo('  pipeline = "my_module:graph"')
        return 0
    echo(f"Registered graphs ({len(config.graphs)}):")
    print_table(["Name", "Module Path"], sorted(config.graphs.items()))
    hints([("hypergraph graph inspect <name>", "nodes, edges and inputs of a graph")])
    return 0


def _edge_count(graph: Graph) -> int:
    # repr(graph) is the public summary "Graph: g | 3 nodes | 2 edges | ...".
    match = _EDGES.search(repr(graph))
    return int(match.group(1)) if match else 0


def _default_of(graph: Graph, name: str) -> tuple[bool, Any]:
    bound = graph.inputs.bound
    if name in bound:
        return True, bound[name]
    for node in graph.nodes.values():
        if name in node.inputs and node.has_default_for(name):
            return True, node.get_default_for(name)
    return False, None


def _inspect_data(graph: Graph) -> dict[str, Any]:
    nodes = [
        {
            "name": node.name,
            "type": type(node).__name__,
            "inputs": list(node.inputs),
            "outputs": list(node.outputs),
        }
        for node in graph.nodes.values()
    ]
    optional: dict[str, Any] = {}
    for name in graph.inputs.optional:
        optional[name] = to_jsonable(_default_of(graph, name)[1])
    return {
        "name": graph.name,
        "nodes": nodes,
        "node_count": len(nodes),
        "edge_count": _edge_count(graph),
        "required_inputs": list(graph.inputs.required),
        "optional_inputs": optional,
        "entrypoints": list(graph.entrypoints_config or ()),
    }


def _cell(names: list[str], limit: int) -> str:
    return truncate(", ".join(names), limit) if names else "—"


@graph_group.command("inspect")
@click.argument("target")
@json_options
def graph_inspect(target: str, as_json: bool, output: str | None) -> int:
    """Show a graph's nodes, edges and inputs.

    TARGET is 'module.path:attribute' or a name from [tool.hypergraph.graphs].
    """
    graph = load_target(target, load_config())
    data = _inspect_data(graph)
    if as_json or output is not None:
        emit_json("graph.inspect", data, output)
        return 0
    echo(
        f"Graph: {graph.name or 'unnamed'} | {plural(data['node_count'], 'node')} | "
        f"{plural(data['edge_count'], 'edge')}"
    )
    rows = [
        [
            node["name"],
            node["type"],
            _cell(node["inputs"], 40),
            _cell(node["outputs"], 30),
        ]
        for node in data["nodes"]
    ]
    print_table(["Node", "Type", "Inputs", "Outputs"], rows)
    if data["required_inputs"]:
        echo(f"Required inputs: {', '.join(data['required_inputs'])}")
    if graph.inputs.optional:
        shown = []
        for name in graph.inputs.optional:
            has_default, value = _default_of(graph, name)
            shown.append(
                f"{name} (default: {truncate(repr(value), 40)})"
                if has_default
                else name
            )
        echo(f"Optional inputs: {', '.join(shown)}")
    if data["entrypoints"]:
        echo(f"Entrypoints: {', '.join(data['entrypoints'])}")
    hints([(f"hypergraph graph inspect {target} --json", "the same as JSON")])
    return 0
