"""Rendering run and map outcomes: JSON data (CLI34/CLI43) and human text (CLI33/42)."""

from __future__ import annotations

import sys
import traceback
from typing import Any

from hypergraph import MapResult, RunResult
from hypergraph.cli._execute import RaisedFailure
from hypergraph.cli._output import (
    describe_error,
    echo,
    error,
    hints,
    json_text,
    to_jsonable,
    truncate,
)
from hypergraph.results import format_duration

__all__ = (
    "error_fields",
    "exit_code_of_map",
    "exit_code_of_run",
    "map_data",
    "print_map",
    "print_run",
    "raised_map_data",
    "raised_run_data",
    "report_failure",
    "run_data",
)

_ERROR_LIMIT = 500
_VALUE_LIMIT = 200
_ITEM_VALUE_LIMIT = 60


def error_fields(exc: BaseException, node: str | None) -> dict[str, Any]:
    """``error`` (short form, 04-D3), ``error_type`` (O31), ``error_node`` (02-R8)."""
    cls = type(exc)
    return {
        "error": str(exc)[:_ERROR_LIMIT],
        "error_type": f"{cls.__module__}.{cls.__qualname__}",
        "error_node": node,
    }


def run_data(result: RunResult) -> dict[str, Any]:
    """The ``data`` of ``run --json``, also one item of ``map --json``."""
    data: dict[str, Any] = {
        "status": result.status.value,
        "values": to_jsonable(result.values),
        "run_id": result.run_id,
    }
    if result.workflow_id is not None:
        data["workflow_id"] = result.workflow_id
    if result.failed and result.error is not None:
        data.update(error_fields(result.error, result.error_node))
    if result.paused and result.pause is not None:
        data["pause"] = {
            "node_name": result.pause.node_name,
            "response_key": result.pause.response_key,
            "response_keys": result.pause.response_keys,
            "value": to_jsonable(result.pause.value),
        }
    return data


def raised_run_data(failure: RaisedFailure) -> dict[str, Any]:
    """Run data for a node failure re-raised under ``--error-handling raise``."""
    data: dict[str, Any] = {"status": "failed", "values": {}, "run_id": failure.run_id}
    if failure.workflow_id is not None:
        data["workflow_id"] = failure.workflow_id
    data.update(error_fields(failure.error, failure.error_node))
    return data


def map_data(result: MapResult) -> dict[str, Any]:
    """The ``data`` of ``map --json``."""
    summary = result.to_dict()
    return {
        "map_over": list(result.map_over),
        "map_mode": result.map_mode,
        "total_duration_ms": result.total_duration_ms,
        "count": len(result),
        "results": [run_data(item) for item in result],
        "workflow_id": result.workflow_id,
        "status": result.status.value,
        "completed_count": summary["completed_count"],
        "failed_count": summary["failed_count"],
        "paused_count": summary["paused_count"],
    }


def raised_map_data(
    failure: RaisedFailure, map_over: tuple[str, ...], map_mode: str
) -> dict[str, Any]:
    """Map data when ``--error-handling raise`` stopped the batch."""
    return {
        "map_over": list(map_over),
        "map_mode": map_mode,
        "total_duration_ms": None,
        "count": 0,
        "results": [],
        "workflow_id": failure.workflow_id,
        "status": "failed",
        "completed_count": 0,
        "failed_count": 1,
        "paused_count": 0,
        **error_fields(failure.error, failure.error_node),
    }


def exit_code_of_run(result: RunResult | RaisedFailure) -> int:
    """0 completed, 1 failed, 3 paused (CLI3)."""
    if isinstance(result, RaisedFailure) or result.failed:
        return 1
    return 3 if result.paused else 0


def exit_code_of_map(result: MapResult | RaisedFailure) -> int:
    """0 all completed, 1 any failed, 3 none failed but some paused (CLI44)."""
    if isinstance(result, RaisedFailure) or result.failures:
        return 1
    return 3 if any(item.paused for item in result) else 0


def report_failure(
    result: RunResult | MapResult | RaisedFailure, verbose: bool
) -> None:
    """The stderr ``Error:`` line of a failed run or batch (traceback if verbose)."""
    if isinstance(result, RaisedFailure):
        failure: BaseException | None = result.error
    elif isinstance(result, MapResult):
        failed = len(result.failures)
        if failed:
            error(f"{failed} of {len(result)} items failed")
        return
    else:
        failure = result.error if result.failed else None
    if failure is None:
        return
    if verbose:
        traceback.print_exception(failure, file=sys.stderr)
    error(describe_error(failure))


def _value_text(value: object, limit: int | None) -> str:
    text = json_text(value)
    return text if limit is None else truncate(text, limit)


def print_run(result: RunResult | RaisedFailure, target: str, verbose: bool) -> None:
    """Human report of one run (CLI33); the error goes to stderr."""
    echo()
    if isinstance(result, RaisedFailure):
        echo("Status: failed")
        if result.workflow_id is not None:
            echo(f"Workflow: {result.workflow_id}")
        if result.error_node is not None:
            echo(f"Failed node: {result.error_node}")
        return
    echo(f"Status: {result.status.value}")
    if result.workflow_id is not None:
        echo(f"Workflow: {result.workflow_id}")
    if result.failed and result.error_node is not None:
        echo(f"Failed node: {result.error_node}")
    if result.pause is not None:
        echo(f"Paused at: {result.pause.node_name}")
        echo(f"Response key: {result.pause.response_key}")
    limit = None if verbose else _VALUE_LIMIT
    for key, value in result.values.items():
        echo(f"  {key}: {_value_text(value, limit)}")
    if verbose and result.log is not None:
        echo(f"  Duration: {result.log.total_duration_ms:.1f}ms")
        echo(f"  Steps: {len(result.log.steps)}")
    _run_hints(result, target)


def _run_hints(result: RunResult, target: str) -> None:
    lines: list[tuple[str, str]] = []
    workflow = result.workflow_id
    if result.pause is not None:
        answer = f"{result.pause.response_key}=<answer>"
        if workflow is not None:
            lines.append(
                (f"hypergraph run {target} {answer} --workflow-id {workflow}", "resume")
            )
        else:
            lines.append((f"hypergraph run {target} <inputs> {answer}", "answer"))
    if workflow is not None:
        lines.append((f"hypergraph runs show {workflow}", "the persisted steps"))
    hints(lines)


def print_map(
    result: MapResult | RaisedFailure, map_over: tuple[str, ...], mode: str
) -> None:
    """Human report of a batch (CLI42); a raised failure goes to stderr."""
    echo(f"Map over: {', '.join(map_over)} ({mode})")
    if isinstance(result, RaisedFailure):
        echo("Status: failed")
        if result.workflow_id is not None:
            echo(f"Workflow: {result.workflow_id}")
        return
    duration = format_duration(result.total_duration_ms)
    echo(f"Results: {len(result)} | Duration: {duration}")
    if result.workflow_id is not None:
        echo(f"Workflow: {result.workflow_id}")
    echo()
    for index, item in enumerate(result):
        shown = ", ".join(
            f"{key}={_value_text(value, _ITEM_VALUE_LIMIT)}"
            for key, value in item.values.items()
        )
        echo(f"  [{index}] {item.status.value}" + (f": {shown}" if shown else ""))
        if item.failed and item.error is not None:
            echo(f"      Error: {describe_error(item.error)}")
        if item.pause is not None:
            echo(f"      Paused at {item.pause.node_name}: {item.pause.response_key}")
    echo(result.summary())
