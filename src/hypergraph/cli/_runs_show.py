"""``runs show`` and ``runs values`` (CLI62-CLI63)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from hypergraph.cli._inspect import (
    decision_text,
    open_store,
    print_step,
    require_run,
    step_status,
)
from hypergraph.cli._options import db_option, json_options
from hypergraph.cli._output import (
    CliError,
    echo,
    emit_json,
    format_size,
    hints,
    json_text,
    plural,
    print_table,
    truncate,
)
from hypergraph.cli._runs import inherited_db, runs_group
from hypergraph.results import format_duration

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hypergraph.checkpointers import Run, StepRecord

__all__ = ("runs_show", "runs_values")


def _lineage_line(run: Run) -> str | None:
    if run.retry_of is not None:
        return f"  Lineage: retry #{run.retry_index} of {run.retry_of}"
    if run.forked_from is not None:
        at = "" if run.fork_superstep is None else f"@{run.fork_superstep}"
        return f"  Lineage: forked from {run.forked_from}{at}"
    return None


def _children_line(children: Sequence[Run]) -> str:
    counts = dict.fromkeys(("completed", "failed", "paused", "active"), 0)
    for child in children:
        counts[str(child.status)] += 1
    parts = [f"{counts['completed']} completed", f"{counts['failed']} failed"]
    parts += [f"{counts[s]} {s}" for s in ("paused", "active") if counts[s]]
    return f"Children: {len(children)} ({', '.join(parts)})"


def _step_table(steps: Sequence[StepRecord]) -> None:
    with_child = any(step.child_run_id for step in steps)
    headers = ["Step", "Node", "Type", "Duration", "Status", "Decision"]
    rows = [
        [
            str(step.index),
            step.node_name,
            step.node_type,
            format_duration(step.duration_ms),
            step_status(step),
            decision_text(step.decision),
        ]
        + ([step.child_run_id or ""] if with_child else [])
        for step in steps
    ]
    print_table([*headers, "Child Run"] if with_child else headers, rows)


def _show_hints(run: Run, steps: Sequence[StepRecord], children: Sequence[Run]) -> None:
    lines: list[tuple[str, str]] = []
    if any(str(step.status) == "failed" for step in steps):
        lines.append((f"hypergraph runs show {run.id} --errors", "failed steps only"))
    if children:
        lines.append((f"hypergraph runs ls --parent {run.id}", "the child runs"))
    lines += [
        (f"hypergraph runs values {run.id}", "the run's output values"),
        (f"hypergraph runs stats {run.id}", "time per node"),
        (f"hypergraph runs show {run.id} --json --output run.json", "export as JSON"),
    ]
    hints(lines)


@runs_group.command("show")
@click.argument("run_id")
@click.option(
    "--step", "step_index", type=int, metavar="N", help="Show one step in detail."
)
@click.option(
    "--values", "show_values", is_flag=True, help="With --step: full output values."
)
@click.option("--errors", "errors_only", is_flag=True, help="Only failed steps.")
@click.option("--node", metavar="NAME", help="Only steps of this node.")
@db_option
@json_options
def runs_show(
    run_id: str,
    step_index: int | None,
    show_values: bool,
    errors_only: bool,
    node: str | None,
    db: str | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Show one run: header, lineage, its steps, and its child runs.

    RUN_ID may name a batch item, e.g. batch-001/1.
    """
    with open_store(inherited_db(db)) as store:
        run = require_run(store, run_id)
        steps = list(store.steps(run_id))
        children = list(store.runs(parent_run_id=run_id, limit=None))
    quiet = as_json or output is not None
    if step_index is not None:
        matching = [step for step in steps if step.index == step_index]
        if not matching:
            known = ", ".join(str(step.index) for step in steps) or "none"
            raise CliError(
                f"Step {step_index} not found in run '{run_id}'. Steps: {known}"
            )
        if quiet:
            emit_json("runs.show", matching[0].to_dict(), output)
        else:
            print_step(matching[0], show_values=show_values, full=show_values)
        return 0
    shown = [
        step
        for step in steps
        if (not errors_only or str(step.status) == "failed")
        and (node is None or step.node_name == node)
    ]
    if quiet:
        data = {"run": run.to_dict(), "steps": [step.to_dict() for step in shown]}
        emit_json("runs.show", data, output)
        return 0
    echo(
        f"Run: {run.id} ({run.graph_name or 'unnamed'}) | {run.status} | "
        f"{plural(len(steps), 'step')} | {format_duration(run.duration_ms)}"
    )
    lineage = _lineage_line(run)
    if lineage is not None:
        echo(lineage)
    if shown:
        _step_table(shown)
    elif steps:
        echo("  No steps match the filters.")
    elif children:
        echo("  No steps of its own: a batch parent (its items are child runs).")
    else:
        echo("  No steps recorded.")
    if children:
        echo(_children_line(children))
    if str(run.status) in ("active", "paused"):
        echo(f"Run is {run.status}: re-run it with --workflow-id {run.id} to resume.")
    _show_hints(run, steps, children)
    return 0


def _written_by(steps: Sequence[StepRecord]) -> dict[str, StepRecord]:
    last: dict[str, StepRecord] = {}
    for step in steps:
        for key in step.values or {}:
            last[key] = step
    return last


@runs_group.command("values")
@click.argument("run_id")
@click.option("--superstep", type=int, metavar="K", help="State through superstep K.")
@click.option("--key", metavar="NAME", help="Print one value.")
@click.option(
    "--full", is_flag=True, help="Values in full (a Value column; full JSON)."
)
@db_option
@json_options
def runs_values(
    run_id: str,
    superstep: int | None,
    key: str | None,
    full: bool,
    db: str | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Show a run's state: every value its nodes produced (latest write wins)."""
    with open_store(inherited_db(db)) as store:
        run = require_run(store, run_id)
        state = store.state(run_id, superstep=superstep)
        steps = list(store.steps(run_id, superstep=superstep))
    if key is not None and key not in state:
        raise CliError(
            f"Key '{key}' not found. Available: {', '.join(state) or 'none'}"
        )
    through = (
        superstep
        if superstep is not None
        else max((step.superstep for step in steps), default=None)
    )
    if as_json or output is not None:
        values = state if key is None else {key: state[key]}
        data = {"run_id": run_id, "through_superstep": through, "values": values}
        emit_json("runs.values", data, output)
        return 0
    if key is not None:
        value = state[key]
        echo(json_text(value, indent=2) if full else truncate(json_text(value), 500))
        return 0
    _print_values(run, state, steps, superstep, full)
    return 0


def _print_values(
    run: Run,
    state: dict[str, Any],
    steps: Sequence[StepRecord],
    superstep: int | None,
    full: bool,
) -> None:
    if superstep is not None:
        where = f"through superstep {superstep}"
    else:
        where = f"through step {max((s.index for s in steps), default=0)}"
    if str(run.status) in ("active", "paused"):
        where += f", {run.status}"
    echo(f"Values: {run.id} ({where})")
    if not state:
        echo("  No values recorded.")
    else:
        writers = _written_by(steps)
        headers = ["Output", "Type", "Size", "Step", "Node"] + (
            ["Value"] if full else []
        )
        rows = []
        for name, value in state.items():
            writer = writers.get(name)
            row = [
                name,
                type(value).__name__,
                format_size(value),
                "—" if writer is None else str(writer.index),
                "—" if writer is None else writer.node_name,
            ]
            rows.append(row + ([json_text(value)] if full else []))
        print_table(headers, rows)
    hints(
        [
            (f"hypergraph runs values {run.id} --key <name>", "one value"),
            (f"hypergraph runs values {run.id} --full", "values inline"),
            (f"hypergraph runs values {run.id} --json --output values.json", "export"),
        ]
    )
