"""``hypergraph run`` and ``hypergraph map`` (CLI30-CLI44)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from hypergraph import BaseRunner, Graph, HypergraphError
from hypergraph.cli._config import load_config
from hypergraph.cli._execute import (
    Execution,
    RaisedFailure,
    choose_runner,
    execute,
    plan_database,
    progress_processors,
)
from hypergraph.cli._inputs import build_values, load_target
from hypergraph.cli._options import db_option, json_options, split_names, verbose_option
from hypergraph.cli._output import CliError, describe_error, emit_json
from hypergraph.cli._results import (
    exit_code_of_map,
    exit_code_of_run,
    map_data,
    print_map,
    print_run,
    raised_map_data,
    raised_run_data,
    report_failure,
    run_data,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ("map_command", "run_command")

_PAIRS_HELP = "Inputs as key=value (Python literals; anything else is a string)."


def _prepare(
    target: str,
    values_source: str | None,
    pairs: Sequence[str],
    select: str | None,
    entrypoint: str | None = None,
) -> tuple[Graph, dict[str, Any]]:
    """Inputs, the graph, and ``--select``/``--entrypoint`` applied to it."""
    values = build_values(values_source, pairs)
    graph = load_target(target, load_config())
    try:
        names = split_names(select, option="--select")
        if names:
            graph = graph.select(*names)
        nodes = split_names(entrypoint, option="--entrypoint")
        if nodes:
            graph = graph.with_entrypoint(*nodes)
    except (ValueError, HypergraphError) as exc:
        raise CliError(describe_error(exc)) from exc
    return graph, values


def _execution(
    graph: Graph,
    runner: str | None,
    db: str | None,
    workflow_id: str | None,
    *,
    command: str,
    quiet: bool,
) -> Execution:
    path, created = plan_database(db, workflow_id, command=command)
    return Execution(
        runner=choose_runner(graph, runner),
        db=path,
        processors=tuple(progress_processors(not quiet)),
        created_db=created,
    )


def _common(func: Any) -> Any:
    """Options that ``run`` and ``map`` share, in help order."""
    for decorator in reversed(
        (
            click.option(
                "--values",
                "values_source",
                metavar="SRC",
                help="Inputs as a JSON file or a JSON object string "
                "(key=value arguments override per key).",
            ),
            click.option(
                "--select",
                metavar="A,B",
                help="Compute and return only these outputs (graph.select).",
            ),
        )
    ):
        func = decorator(func)
    return func


def _backend(func: Any) -> Any:
    """``--runner``, ``--db``, ``--workflow-id``, ``--json``, ``--output``, ``-v``."""
    func = verbose_option(func)
    func = json_options(func)
    func = click.option(
        "--workflow-id",
        metavar="ID",
        help="Persist under this id; re-running with the same id resumes it.",
    )(func)
    func = db_option(func)
    return click.option(
        "--runner",
        type=click.Choice(["sync", "async"]),
        default=None,
        help="SyncRunner or AsyncRunner [default: async for graphs with async or "
        "interrupt nodes, else sync].",
    )(func)


@click.command("run")
@click.argument("target")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@_common
@click.option(
    "--entrypoint",
    metavar="NODE",
    help="Start at this node, or comma-separated nodes (graph.with_entrypoint).",
)
@click.option(
    "--max-iterations",
    type=click.IntRange(min=1),
    default=None,
    help="Most supersteps before the run fails [default: 1000].",
)
@click.option(
    "--error-handling",
    type=click.Choice(["raise", "continue"]),
    default="raise",
    show_default=True,
    help="raise: stop at the first node failure; continue: let other nodes finish.",
)
@_backend
def run_command(
    target: str,
    pairs: tuple[str, ...],
    values_source: str | None,
    select: str | None,
    entrypoint: str | None,
    max_iterations: int | None,
    error_handling: str,
    runner: str | None,
    db: str | None,
    workflow_id: str | None,
    as_json: bool,
    output: str | None,
    verbose: bool,
) -> int:
    """Run a graph once.

    TARGET is 'module.path:attribute' or a name from [tool.hypergraph.graphs].
    Exit codes: 0 completed, 1 failed, 2 usage error, 3 paused at an interrupt.

    \b
    Examples:
      hypergraph run my_module:graph x=5 --json
      hypergraph run pipeline --values params.json x=10 --workflow-id exp-42
    """
    graph, values = _prepare(target, values_source, pairs, select, entrypoint)
    quiet = as_json or output is not None
    execution = _execution(graph, runner, db, workflow_id, command="run", quiet=quiet)

    def invoke(runner_: BaseRunner, processors: list[object]) -> Any:
        return runner_.run(
            graph,
            values,
            workflow_id=workflow_id,
            error_handling=error_handling,
            max_iterations=max_iterations,
            event_processors=processors,
        )

    result = execute(execution, invoke)
    if quiet:
        data = (
            raised_run_data(result)
            if isinstance(result, RaisedFailure)
            else run_data(result)
        )
        emit_json("run", data, output)
    else:
        print_run(result, target, verbose)
    report_failure(result, verbose)
    return exit_code_of_run(result)


@click.command("map")
@click.argument("target")
@click.argument("pairs", nargs=-1, metavar="[KEY=VALUE]...")
@click.option(
    "--map-over",
    required=True,
    metavar="A,B",
    help="Comma-separated inputs that hold one value per item.",
)
@_common
@click.option(
    "--map-mode",
    type=click.Choice(["zip", "product"]),
    default="zip",
    show_default=True,
    help="zip: item i takes element i of each list; product: every combination.",
)
@click.option(
    "--error-handling",
    type=click.Choice(["continue", "raise"]),
    default="continue",
    show_default=True,
    help="continue: report every item; raise: stop at the first failed item.",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Most node bodies running at once across all items.",
)
@_backend
def map_command(
    target: str,
    pairs: tuple[str, ...],
    map_over: str,
    values_source: str | None,
    select: str | None,
    map_mode: str,
    error_handling: str,
    max_concurrency: int | None,
    runner: str | None,
    db: str | None,
    workflow_id: str | None,
    as_json: bool,
    output: str | None,
    verbose: bool,
) -> int:
    """Run a graph once per item of the --map-over inputs.

    Items are persisted as runs ID/0, ID/1, ... when --workflow-id is given;
    re-running the same command resumes and skips completed items.
    Exit codes: 0 all completed, 1 any item failed, 2 usage error, 3 paused.

    \b
    Examples:
      hypergraph map my_module:graph --map-over x --values '{"x": [1, 2, 3]}'
      hypergraph map pipeline --map-over a,b --map-mode product 'a=[1,2]' 'b=[10,20]'
    """
    names = split_names(map_over, option="--map-over")
    graph, values = _prepare(target, values_source, pairs, select)
    quiet = as_json or output is not None
    execution = _execution(graph, runner, db, workflow_id, command="map", quiet=quiet)

    def invoke(runner_: BaseRunner, processors: list[object]) -> Any:
        return runner_.map(
            graph,
            values,
            map_over=list(names),
            map_mode=map_mode,
            error_handling=error_handling,
            max_concurrency=max_concurrency,
            event_processors=processors,
            workflow_id=workflow_id,
        )

    result = execute(execution, invoke)
    if quiet:
        data = (
            raised_map_data(result, names, map_mode)
            if isinstance(result, RaisedFailure)
            else map_data(result)
        )
        emit_json("map", data, output)
    else:
        print_map(result, names, map_mode)
    report_failure(result, verbose)
    return exit_code_of_map(result)
