"""TARGET loading and input values: ``key=value`` arguments and ``--values``."""

from __future__ import annotations

import ast
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypergraph import Graph
from hypergraph.cli._output import CliError, describe_error

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hypergraph.cli._config import Config

__all__ = (
    "build_values",
    "load_target",
    "parse_literal",
    "parse_pairs",
    "parse_values_source",
)


def _importable(project: Path | None) -> None:
    # TARGET "module:attr" names modules of the directory the user is in; a
    # registered graph may also live next to the pyproject.toml naming it.
    if project is not None and str(project) not in sys.path:
        sys.path.insert(0, str(project))
    cwd = os.getcwd()
    if sys.path[0] not in (cwd, ""):
        sys.path.insert(0, cwd)


def _import_graph(spec: str, project: Path | None = None) -> Graph:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CliError(
            f"Expected TARGET as 'module.path:attribute', got '{spec}'",
            hints=["Example: hypergraph run my_module:graph x=5"],
        )
    _importable(project)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, ImportError) else describe_error(exc)
        raise CliError(
            f"Could not import module '{module_name}': {reason}",
            hints=["Run from the directory that contains the module, or fix it."],
        ) from exc
    found: object = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            graphs = sorted(
                name for name, value in vars(module).items() if isinstance(value, Graph)
            )
            raise CliError(
                f"Module '{module_name}' has no attribute '{attribute}'",
                hints=[
                    f"Graphs in {module_name}: {', '.join(graphs)}"
                    if graphs
                    else f"{module_name} defines no Graph at module level"
                ],
            )
        found = getattr(found, part)
    if not isinstance(found, Graph):
        raise CliError(
            f"'{spec}' is not a Graph instance (got {type(found).__name__})",
            hints=["Point TARGET at a hypergraph.Graph object."],
        )
    return found


def load_target(target: str, config: Config) -> Graph:
    """The Graph named by TARGET (CLI20): ``module.path:attr`` or a registry name.

    Raises:
        CliError: import, attribute, type or registry lookup failed (exit 2).
    """
    if ":" in target:
        return _import_graph(target)
    spec = config.graphs.get(target)
    if spec is None:
        raise CliError(
            f"'{target}' not found in [tool.hypergraph.graphs]",
            hints=[
                "Use 'module.path:attribute', or register it in pyproject.toml:",
                "  [tool.hypergraph.graphs]",
                f'  {target} = "my_module:graph"',
            ],
        )
    if ":" not in spec:
        raise CliError(
            f"[tool.hypergraph.graphs] {target} = '{spec}' is not "
            "'module.path:attribute'",
            hints=[f'Write it as: {target} = "my_module:graph"'],
        )
    return _import_graph(spec, config.pyproject.parent if config.pyproject else None)


def parse_literal(text: str) -> Any:
    """A Python literal (``5``, ``[1, 2]``, ``True``), else the raw string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` arguments as a dict (CLI21).

    Raises:
        CliError: an argument has no ``=`` or an empty key.
    """
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(
                f"Expected key=value, got '{pair}'",
                hints=["Pass inputs as name=value, e.g. x=5 'items=[1, 2]'."],
            )
        values[key.strip()] = parse_literal(raw)
    return values


def parse_values_source(source: str) -> dict[str, Any]:
    """``--values``: a JSON file if ``source`` is one, else a JSON string.

    Raises:
        CliError: not JSON (or unreadable), or not a JSON object.
    """
    path = Path(source)
    if path.is_file():
        try:
            parsed = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CliError(
                f"--values file '{source}' is not valid JSON: {exc}",
                hints=['The file must hold one JSON object, e.g. {"x": 5}.'],
            ) from exc
    else:
        try:
            parsed = json.loads(source)
        except json.JSONDecodeError as exc:
            raise CliError(
                f"'{source}' is not valid JSON and not a file path",
                hints=["Pass a JSON object (--values '{\"x\": 5}') or a file path."],
            ) from exc
    if not isinstance(parsed, dict):
        raise CliError(
            f"--values must be a JSON object (got {type(parsed).__name__})",
            hints=['Wrap the inputs in an object: {"name": value, ...}.'],
        )
    return parsed


def build_values(source: str | None, pairs: Sequence[str]) -> dict[str, Any]:
    """``--values`` first, then ``key=value`` pairs override per key."""
    values = {} if source is None else parse_values_source(source)
    values.update(parse_pairs(pairs))
    return values
