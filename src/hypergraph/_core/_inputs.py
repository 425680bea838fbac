"""Argument checks shared by every runner call (spec 02 R5-R7, 03 B1-B19).

Everything here runs before anything executes, is emitted or is persisted.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from hypergraph._core._context import CURRENT_CALL
from hypergraph._graph_node import check_clone, check_error_handling, check_mode
from hypergraph._naming import suggest
from hypergraph._warn import warn_user
from hypergraph.exceptions import IncompatibleRunnerError, MissingInputError

if TYPE_CHECKING:
    from hypergraph._plan import Plan

__all__ = (
    "UNSET",
    "check_options",
    "check_run_inputs",
    "merge_inputs",
    "normalise_map_over",
    "split_responses",
)


class _Unset:
    __repr__ = lambda self: "UNSET"  # noqa: E731


UNSET: Final[Any] = _Unset()
RUN_RESERVED: Final = frozenset(
    {
        "select",
        "max_iterations",
        "event_processors",
        "max_concurrency",
        "on_internal_override",
    }
)
MAP_RESERVED: Final = frozenset(
    {
        "map_over",
        "map_mode",
        "select",
        "error_handling",
        "event_processors",
        "max_concurrency",
        "on_internal_override",
    }
)


def merge_inputs(
    values: Mapping[str, Any] | None,
    input_values: Mapping[str, Any],
    reserved_names: frozenset[str] = RUN_RESERVED,
) -> dict[str, Any]:
    """R5/B1/B2: combine ``values`` and keyword shorthand into one new dict."""
    if values is not None and not isinstance(values, Mapping):
        raise TypeError(
            f"values must be a dict of input names to values, got "
            f"{type(values).__name__}.\n\nHow to fix: run(graph, {{'x': 1}}) or "
            "run(graph, x=1)."
        )
    merged = dict(values) if values else {}
    if not input_values:
        return merged
    reserved = sorted(k for k in input_values if k in reserved_names)
    if reserved:
        names = ", ".join(repr(k) for k in reserved)
        raise ValueError(
            f"Input keys are reserved runner options: {names}. Pass these keys via "
            f"values={{...}}, e.g. values={{{reserved[0]!r}: ...}}."
        )
    both = sorted(k for k in input_values if k in merged)
    if both:
        names = ", ".join(repr(k) for k in both)
        raise ValueError(
            f"Input keys provided in both values and kwargs: {names}. Use one source "
            "per key."
        )
    merged.update(input_values)
    return merged


def check_options(
    *,
    on_missing: object,
    error_handling: object,
    max_iterations: object,
    max_concurrency: object,
) -> None:
    """R6.5 / B15-B19: option values."""
    if on_missing not in ("ignore", "warn", "error"):
        raise ValueError(
            f"Invalid on_missing={on_missing!r}. Expected 'ignore', 'warn' or "
            "'error'.\n\nHow to fix: pass one of those."
        )
    check_error_handling(error_handling)
    if max_iterations is not None and (
        not isinstance(max_iterations, int)
        or isinstance(max_iterations, bool)
        or max_iterations < 1
    ):
        raise ValueError(
            f"max_iterations must be None or an int >= 1, got {max_iterations!r}.\n\n"
            "How to fix: leave it unset (default 1000) or pass a positive int."
        )
    if max_concurrency is not None and (
        not isinstance(max_concurrency, int)
        or isinstance(max_concurrency, bool)
        or max_concurrency < 1
    ):
        raise ValueError(
            f"max_concurrency must be None or an int >= 1, got {max_concurrency!r}."
            "\n\nHow to fix: leave it unset, or pass the number of node bodies that "
            "may run at once (e.g. max_concurrency=10)."
        )


def check_scope_overrides(*, select: object, entrypoint: object) -> None:
    """R6.6 / B14: select and entrypoint belong to the graph, not to the call."""
    if select is not UNSET:
        raise ValueError(
            f"select={select!r} cannot be passed to a runner: the output scope is "
            "part of the graph.\n\nHow to fix: runner.run(graph.select(...), ...)."
        )
    if entrypoint is not None:
        raise ValueError(
            f"entrypoint={entrypoint!r} cannot be passed to a runner: where a run "
            "starts is part of the graph.\n\nHow to fix: "
            "runner.run(graph.with_entrypoint(...), ...)."
        )


def check_reentry(runner_blocks: bool) -> None:
    """R6.2a: a blocking runner called from a node on the engine's own loop thread."""
    if not runner_blocks:
        return
    current = CURRENT_CALL.get()
    if current is not None and current.loop_thread == threading.get_ident():
        raise IncompatibleRunnerError(
            "SyncRunner was called from inside a node that runs on hypergraph's "
            "event loop; blocking that loop to wait for itself would deadlock.\n\n"
            "How to fix: make the node async and `await AsyncRunner().run(...)` "
            "instead, or mark the node blocking=True so it runs in a thread."
        )


def check_workflow_id(workflow_id: object) -> None:
    """A new workflow id may not contain '/', which addresses child runs."""
    if workflow_id is None:
        return
    if not isinstance(workflow_id, str) or not workflow_id:
        raise ValueError(
            f"workflow_id must be a non-empty string, got {workflow_id!r} "
            f"({type(workflow_id).__name__}).\n\nHow to fix: pass a name such as "
            "workflow_id='orders-2026-12-04', or leave it out."
        )
    if "/" in workflow_id:
        raise ValueError(
            f"workflow_id cannot contain '/' (got {workflow_id!r}); '/' separates a "
            "batch from its items (batch/0, batch/1, ...).\n\nHow to fix: use '-' or "
            "'_' instead."
        )


def _internal_error(plan: Plan, key: str, inputs: Mapping[str, Any]) -> ValueError:
    producer = plan.internal[key]
    node = plan.nodes[plan.index[producer]]
    needed = [
        p.value_name
        for p in node.params
        if not p.has_fallback and p.value_name not in plan.internal
    ]
    if needed and all(name in inputs for name in needed):
        supplied = ", ".join(repr(n) for n in needed)
        return ValueError(
            f"Input {key!r} conflicts with node {producer!r}, which computes it from "
            f"{supplied} (also supplied). Both cannot be the source of {key!r}.\n\n"
            f"How to fix: remove {key!r} to let {producer!r} run, or remove "
            f"{supplied} and start below it with graph.with_entrypoint(...) to skip "
            f"{producer!r}."
        )
    return ValueError(
        f"Cannot supply internal parameters: {key} <- {producer}. {key!r} is computed "
        f"inside the graph.\n\nHow to fix: remove it from the inputs, or slice the "
        "graph with graph.with_entrypoint(...) so that its consumers start there."
    )


def check_run_inputs(
    plan: Plan, inputs: Mapping[str, Any], overrides: frozenset[str] = frozenset()
) -> None:
    """R7: no internal values, warn on unknown keys, all required inputs present.

    ``overrides`` are values a fork supplies on purpose to replace computed ones.
    """
    input_names = plan.input_names
    for key in inputs:
        if key in input_names or key in plan.response_keys or key in overrides:
            continue
        if key in plan.internal:
            raise _internal_error(plan, key, inputs)
        if key in plan.produced:
            continue
        warn_user(
            f"Input {key!r} is not used by this graph{suggest(key, input_names)} and "
            f"is ignored. Inputs: {', '.join(sorted(input_names)) or '(none)'}."
        )
    missing = [name for name in plan.required if name not in inputs]
    if missing:
        raise MissingInputError(missing, provided=list(inputs))


def split_responses(
    plan: Plan, inputs: dict[str, Any]
) -> tuple[dict[str, Any], frozenset[str], dict[str, dict[str, Any]] | None]:
    """Separate interrupt answers from ordinary inputs (H6, H7).

    Returns the inputs for the state (dotted keys removed), the top-level
    interrupt outputs that were answered, and the dotted answers per GraphNode
    (prefix stripped, GraphNode output renames undone).
    """
    if not plan.response_keys:
        return inputs, frozenset(), None
    top = frozenset(k for k in inputs if k in plan.response_keys and "." not in k)
    dotted = [k for k in inputs if "." in k and k in plan.response_keys]
    if not dotted:
        return inputs, top, None
    nested: dict[str, dict[str, Any]] = {}
    state_inputs = {k: v for k, v in inputs.items() if k not in dotted}
    for key in dotted:
        head, _, rest = key.partition(".")
        graph_node = plan.nodes[plan.index[head]].node
        if "." not in rest:
            renames = dict(graph_node.output_pairs)  # type: ignore[attr-defined]
            rest = renames.get(rest, rest)
        nested.setdefault(head, {})[rest] = inputs[key]
    return state_inputs, top, nested


def normalise_map_over(
    map_over: object, graph_inputs: Sequence[str]
) -> tuple[str, ...]:
    """B3/B4: ``map_over`` as a tuple of distinct input names."""
    if isinstance(map_over, str):
        names: tuple[str, ...] = (map_over,)
    elif isinstance(map_over, list | tuple) and all(
        isinstance(n, str) for n in map_over
    ):
        names = tuple(map_over)
    else:
        raise TypeError(
            f"map_over must be an input name or a list of names, got {map_over!r}.\n\n"
            "How to fix: map_over='x' or map_over=['x', 'y']."
        )
    if not names:
        raise ValueError(
            "map_over requires at least one parameter.\n\nHow to fix: name the "
            "input(s) to fan out over, e.g. map_over='x'."
        )
    if len(set(names)) != len(names):
        raise ValueError(
            f"map_over lists a name more than once: {list(names)}.\n\nHow to fix: "
            "name each parameter once."
        )
    for name in names:
        if name not in graph_inputs:
            raise ValueError(
                f"map_over names {name!r}, which is not an input of the graph"
                f"{suggest(name, graph_inputs)}. Inputs: "
                f"{', '.join(graph_inputs) or '(none)'}.\n\nHow to fix: map over one "
                "of the graph's inputs."
            )
    return names


def check_map_options(
    *,
    map_mode: object,
    clone: object,
    map_over: Sequence[str],
    graph_inputs: Sequence[str],
) -> bool | tuple[str, ...]:
    """B7, B12: mode and clone; returns clone normalised."""
    check_mode(map_mode, name="map_mode")
    return check_clone(clone, inputs=graph_inputs, mapped=map_over)
