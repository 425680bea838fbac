"""``runs steps``, ``search``, ``stats``, ``checkpoint``, ``lineage`` (CLI64-CLI68)."""

from __future__ import annotations

import click

from hypergraph.cli._inspect import open_store, print_step, require_run, step_status
from hypergraph.cli._options import db_option, json_options
from hypergraph.cli._output import echo, emit_json, hints, print_table, to_jsonable
from hypergraph.cli._runs import inherited_db, runs_group
from hypergraph.results import format_duration

__all__ = (
    "runs_checkpoint",
    "runs_lineage",
    "runs_search",
    "runs_stats",
    "runs_steps",
)

_LINEAGE_STEPS = 5


@runs_group.command("steps")
@click.argument("run_id")
@click.option("--node", metavar="NAME", help="Only steps of this node.")
@click.option("--values", "show_values", is_flag=True, help="Show output values.")
@click.option("--full", is_flag=True, help="Do not truncate values.")
@click.option(
    "--all", "show_all", is_flag=True, help="Every step (not only the first N)."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Steps shown without --all.",
)
@db_option
@json_options
def runs_steps(
    run_id: str,
    node: str | None,
    show_values: bool,
    full: bool,
    show_all: bool,
    limit: int,
    db: str | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Show a run's steps one detail block at a time."""
    with open_store(inherited_db(db)) as store:
        require_run(store, run_id)
        steps = [s for s in store.steps(run_id) if node is None or s.node_name == node]
    shown = steps if show_all else steps[:limit]
    if as_json or output is not None:
        emit_json("runs.steps", [step.to_dict() for step in shown], output)
        return 0
    if not shown:
        echo(
            f"No steps recorded for run '{run_id}'"
            + (f" and node '{node}'." if node else ".")
        )
        return 0
    for position, step in enumerate(shown):
        if position:
            echo()
        print_step(step, show_values=show_values or full, full=full)
    if len(shown) < len(steps):
        echo()
        echo(
            f"Showing {len(shown)} of {len(steps)} steps. Use --all to see every step."
        )
    hints(
        [
            (f"hypergraph runs show {run_id} --errors", "failed steps only"),
            (f"hypergraph runs steps {run_id} --values --full", "full values"),
            (f"hypergraph runs steps {run_id} --json --output steps.json", "export"),
        ]
    )
    return 0


@runs_group.command("search")
@click.argument("query")
@click.option(
    "--field",
    type=click.Choice(["node_name", "error"]),
    default=None,
    help="Match only node names or only error messages [default: both].",
)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@db_option
@json_options
def runs_search(
    query: str,
    field: str | None,
    limit: int,
    db: str | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Find steps across all runs whose node name or error matches QUERY."""
    with open_store(inherited_db(db)) as store:
        found = list(store.search(query, field=field, limit=limit))
    if as_json or output is not None:
        emit_json("runs.search", [step.to_dict() for step in found], output)
        return 0
    if not found:
        echo(f"No steps matching '{query}'.")
        return 0
    matches = "match" if len(found) == 1 else "matches"
    echo(f"Search: '{query}' ({len(found)} {matches})")
    rows = [
        [
            step.run_id,
            str(step.index),
            step.node_name,
            step_status(step).split(":")[0],
            (step.error or "—")[:60],
        ]
        for step in found
    ]
    print_table(["Run", "Step", "Node", "Status", "Error"], rows)
    hints(
        [
            ("hypergraph runs show <run> --errors", "the failed steps of a run"),
            (f"hypergraph runs search '{query}' --field error", "errors only"),
        ]
    )
    return 0


@runs_group.command("stats")
@click.argument("run_id")
@db_option
@json_options
def runs_stats(run_id: str, db: str | None, as_json: bool, output: str | None) -> int:
    """Per-node time, error and cache statistics of a run, slowest first."""
    with open_store(inherited_db(db)) as store:
        run = require_run(store, run_id)
        stats = store.stats(run_id)
    if as_json or output is not None:
        emit_json("runs.stats", {"run_id": run_id, "nodes": stats}, output)
        return 0
    echo(f"Stats: {run_id} | {run.status}")
    if not stats:
        echo("  No steps recorded.")
    else:
        rows = [
            [
                name,
                str(row["node_type"]),
                str(row["steps"]),
                format_duration(row["total_ms"]),
                format_duration(row["avg_ms"]),
                format_duration(row["max_ms"]),
                str(row["errors"]),
                str(row["cache_hits"]),
            ]
            for name, row in stats.items()
        ]
        headers = ["Node", "Type", "Steps", "Total", "Avg", "Max", "Errors", "Cached"]
        print_table(headers, rows)
    hints(
        [
            (f"hypergraph runs show {run_id} --errors", "failed steps only"),
            (f"hypergraph runs values {run_id}", "the run's output values"),
            (f"hypergraph runs stats {run_id} --json --output stats.json", "export"),
        ]
    )
    return 0


@runs_group.command("checkpoint")
@click.argument("run_id")
@click.option(
    "--superstep", type=int, metavar="K", help="Snapshot through superstep K."
)
@click.option(
    "--deep", is_flag=True, help="List value names and steps (values in JSON)."
)
@db_option
@json_options
def runs_checkpoint(
    run_id: str,
    superstep: int | None,
    deep: bool,
    db: str | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Summarize the snapshot a fork of RUN_ID would start from."""
    with open_store(inherited_db(db)) as store:
        require_run(store, run_id)
        snapshot = store.checkpoint(run_id, superstep=superstep)
    if as_json or output is not None:
        data = {
            "source_run_id": snapshot.source_run_id,
            "source_superstep": snapshot.source_superstep,
            "value_count": len(snapshot.values),
            "step_count": len(snapshot.steps),
            "values": to_jsonable(snapshot.values) if deep else None,
            "steps": [step.to_dict() for step in snapshot.steps] if deep else None,
        }
        emit_json("runs.checkpoint", data, output)
        return 0
    at = "" if superstep is None else f"@{superstep}"
    echo(f"Checkpoint: {run_id}{at}")
    echo(f"Values: {len(snapshot.values)}")
    echo(f"Steps: {len(snapshot.steps)}")
    if deep:
        for name in snapshot.values:
            echo(f"  value: {name}")
        for step in snapshot.steps:
            echo(
                f"  step [{step.index}] {step.node_name} | superstep {step.superstep} "
                f"| {step_status(step)}"
            )
    hints(
        [
            (f"hypergraph runs checkpoint {run_id} --deep", "value names and steps"),
            (f"hypergraph runs values {run_id}", "the values themselves"),
        ]
    )
    return 0


@runs_group.command("lineage")
@click.argument("run_id")
@click.option(
    "--deep", is_flag=True, help="Step counts and the first steps of each run."
)
@click.option(
    "--max-runs",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Most runs listed.",
)
@db_option
@json_options
def runs_lineage(
    run_id: str,
    deep: bool,
    max_runs: int,
    db: str | None,
    as_json: bool,
    output: str | None,
) -> int:
    """Show the fork/retry family tree of RUN_ID, from its root."""
    with open_store(inherited_db(db)) as store:
        require_run(store, run_id)
        view = store.lineage(run_id, include_steps=deep, max_runs=max_runs)
    if as_json or output is not None:
        emit_json("runs.lineage", view.to_dict(), output)
        return 0
    lines = repr(view).splitlines()
    echo(lines[0])
    for row, line in zip(view, lines[1:], strict=False):
        echo(line)
        for step in view.steps_by_run.get(row.run.id, [])[:_LINEAGE_STEPS]:
            echo(
                f"      [{step.index}] {step.node_name} | {step_status(step)} | "
                f"{format_duration(step.duration_ms)}"
            )
    hints(
        [
            (f"hypergraph runs show {run_id}", "the selected run's steps"),
            (f"hypergraph runs lineage {run_id} --deep", "steps of every run"),
        ]
    )
    return 0
