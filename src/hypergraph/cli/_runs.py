"""``hypergraph runs`` (dashboard) and ``hypergraph runs ls`` (CLI60-CLI61)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import click

from hypergraph.checkpointers import Run, SqliteCheckpointer, WorkflowStatus
from hypergraph.cli._inspect import open_store, print_runs, require_run, run_row
from hypergraph.cli._options import db_option, json_options
from hypergraph.cli._output import CliError, echo, emit_json, hints, print_table

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("inherited_db", "parse_since", "runs_group", "sort_runs")

_DASHBOARD = ("ID", "Graph", "Status", "Steps", "Duration", "Created")
_SINCE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_STATUSES = tuple(status.value for status in WorkflowStatus)
_SORTS = ("newest", "oldest", "duration", "errors", "id")


def inherited_db(db: str | None) -> str | None:
    """``--db`` of the subcommand, else the one given to ``runs`` itself."""
    ctx = click.get_current_context(silent=True)
    parent = None if ctx is None else ctx.parent
    if db is None and parent is not None:
        value = parent.params.get("db")
        return value if isinstance(value, str) else None
    return db


def parse_since(text: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """``30s``/``5m``/``1h``/``7d``/``2w`` → the UTC moment that long ago.

    Raises:
        CliError: not a number followed by one of s, m, h, d, w.
    """
    match = _SINCE.match(text)
    if match is None:
        raise CliError(
            f"Invalid --since '{text}'. Expected a number and a unit: 30s, 5m, 1h, "
            "7d or 2w"
        )
    delta = dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return (now or dt.datetime.now(dt.UTC)) - delta


def sort_runs(runs: Sequence[Run], order: str) -> list[Run]:
    """Order for ``runs ls --sort`` (duration/errors descending, id ascending)."""
    if order == "oldest":
        return sorted(runs, key=lambda run: run.created_at)
    if order == "duration":
        return sorted(runs, key=lambda run: -(run.duration_ms or 0.0))
    if order == "errors":
        return sorted(runs, key=lambda run: -run.error_count)
    if order == "id":
        return sorted(runs, key=lambda run: run.id)
    return sorted(runs, key=lambda run: run.created_at, reverse=True)


@click.group("runs", invoke_without_command=True)
@db_option
@json_options
@click.pass_context
def runs_group(
    ctx: click.Context, db: str | None, as_json: bool, output: str | None
) -> int | None:
    """Inspect persisted runs; without a subcommand, show a dashboard."""
    if ctx.invoked_subcommand is not None:
        return None
    with open_store(db) as store:
        active = store.runs(status="active", parent_run_id=None, limit=None)
        paused = store.runs(status="paused", parent_run_id=None, limit=None)
        finished = [
            *store.runs(status="completed", parent_run_id=None, limit=5),
            *store.runs(status="failed", parent_run_id=None, limit=5),
        ]
        recent = sort_runs(finished, "newest")[:5]
        path = store.db_path
    if as_json or output is not None:
        data = {
            "active": [run.to_dict() for run in active],
            "paused": [run.to_dict() for run in paused],
            "recent": [run.to_dict() for run in recent],
        }
        emit_json("runs", data, output)
        return 0
    if not (active or paused or recent):
        echo("No runs found.")
        echo(f"  Database: {path}")
        hints([("hypergraph run <target> --workflow-id <id>", "to persist a run")])
        return 0
    for title, runs in (
        (f"Active ({len(active)} running)", active),
        (f"Paused ({len(paused)} resumable)", paused),
        (f"Recent (last {len(recent)})", recent),
    ):
        if runs:
            if runs is not (active or paused or recent):
                echo()
            echo(title)
            print_runs(runs, _DASHBOARD)
    hints(
        [
            ("hypergraph runs ls", "every top-level run"),
            ("hypergraph runs ls --status failed", "failures only"),
            ("hypergraph runs show <id>", "one run's steps"),
        ]
    )
    return 0


def _statuses(values: Sequence[str]) -> list[str | None]:
    chosen: list[str | None] = []
    for value in values:
        status = value.strip().lower()
        if status not in _STATUSES:
            raise CliError(f"Unknown status '{value}'. Use: {', '.join(_STATUSES)}")
        if status not in chosen:
            chosen.append(status)
    return chosen or [None]


def _select(store: SqliteCheckpointer, options: dict[str, Any]) -> list[Run]:
    parent = options["parent"]
    query: dict[str, Any] = {"graph_name": options["graph"], "limit": None}
    if options["since"] is not None:
        query["since"] = parse_since(options["since"])
    if parent is not None:
        require_run(store, parent)
        query["parent_run_id"] = parent
    elif not (options["show_all"] or options["view"] == "all"):
        query["parent_run_id"] = None
    found: dict[str, Run] = {}
    for status in _statuses(options["status"]):
        for run in store.runs(status=status, **query):
            found.setdefault(run.id, run)
    return sort_runs(list(found.values()), options["sort"])


@runs_group.command("ls")
@click.option(
    "--status",
    multiple=True,
    metavar="S",
    help="Only runs with this status (repeatable): active, paused, completed, failed.",
)
@click.option("--graph", metavar="NAME", help="Only runs of this graph.")
@click.option(
    "--since", metavar="AGE", help="Only runs created within 30s, 5m, 1h, 7d, 2w."
)
@click.option(
    "--parent", metavar="ID", help="The direct children of run ID (batch items)."
)
@click.option(
    "--all", "show_all", is_flag=True, help="Child runs too (same as --view all)."
)
@click.option(
    "--view",
    type=click.Choice(["parents", "all"]),
    default="parents",
    show_default=True,
    help="parents: top-level runs only; all: every run.",
)
@click.option(
    "--sort",
    type=click.Choice(list(_SORTS)),
    default="newest",
    show_default=True,
    help="duration and errors sort descending, id ascending.",
)
@click.option("--traces", is_flag=True, help="Group each run with its child runs.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Most runs listed (after filtering and sorting).",
)
@db_option
@json_options
def runs_ls(db: str | None, as_json: bool, output: str | None, **options: Any) -> int:
    """List persisted runs (top-level runs unless --parent, --all or --view all)."""
    with open_store(inherited_db(db)) as store:
        matched = _select(store, options)
        shown = matched[: options["limit"]]
        children = (
            {
                run.id: sort_runs(store.runs(parent_run_id=run.id, limit=None), "id")
                for run in shown
            }
            if options["traces"]
            else {}
        )
    if as_json or output is not None:
        rows = [run.to_dict() for run in shown]
        if options["traces"]:
            for row in rows:
                row["children"] = [kid.to_dict() for kid in children[row["id"]]]
        emit_json("runs.ls", rows, output)
        return 0
    if not shown:
        echo("No runs found matching filters.")
        return 0
    echo(f"Runs ({len(matched)} total)")
    if options["traces"]:
        _print_traces(shown, children)
    else:
        print_runs(shown)
    if len(shown) < len(matched):
        echo(f"Showing {len(shown)} of {len(matched)} runs. Use --limit N for more.")
    hints(
        [
            ("hypergraph runs show <id>", "one run's steps"),
            ("hypergraph runs ls --status failed --since 1d", "recent failures"),
            ("hypergraph runs ls --json --output runs.json", "export as JSON"),
        ]
    )
    return 0


def _print_traces(runs: Sequence[Run], children: dict[str, list[Run]]) -> None:
    rows: list[list[str]] = []
    for run in runs:
        rows.append(run_row(run))
        kids = children.get(run.id, [])
        for position, kid in enumerate(kids):
            row = run_row(kid)
            row[0] = ("└─ " if position == len(kids) - 1 else "├─ ") + kid.id
            rows.append(row)
    print_table(
        ["ID", "Graph", "Status", "Duration", "Steps", "Errors", "Created"], rows
    )
