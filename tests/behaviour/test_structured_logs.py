"""Structured logs: names, levels, bound ids, no values (STYLE 2.7, 00 §1, D-5, O52)."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from structlog.contextvars import bound_contextvars, merge_contextvars
from structlog.testing import CapturingLogger, capture_logs

from hypergraph import EventProcessor, Graph, RunStatus, node

SECRET = "hunter2-very-secret"
KNOWN_EVENTS = {
    "run_started",
    "run_finished",
    "node_started",
    "node_finished",
    "node_failed",
    "batch_started",
    "batch_finished",
    "event_processor.failed",
}


class Boom(Exception):
    """A node's own exception type."""


class Exploding(EventProcessor):
    """Raises from ``on_event`` for every event."""

    def on_event(self, event: Any) -> None:
        raise RuntimeError(f"processor boom on {type(event).__name__}")

    def __repr__(self) -> str:
        return "<Exploding processor>"


@node(output_name="shout")
def shout(text: str) -> str:
    return text.upper()


@node(output_name="shout")
def leak_in_error(text: str) -> str:
    raise Boom(f"cannot handle {text}")


@node(output_name="y")
def add_one(x: int) -> int:
    return x + 1


SHOUT = Graph([shout], name="shout")
LEAKY = Graph([leak_in_error], name="leaky")
INNER = Graph([shout], name="inner")
NESTED = Graph([INNER.as_node(name="gn")], name="outer")


def entries(logs: list[dict], event: str) -> list[dict]:
    """Captured entries with the given event name."""
    return [entry for entry in logs if entry["event"] == event]


@pytest.fixture
def unconfigured():
    """Structlog as a library user who never configured it; restored afterwards."""
    was_configured, config = structlog.is_configured(), structlog.get_config()
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()
    if was_configured:
        structlog.configure(**config)


# -- what a run logs -------------------------------------------------------------------


async def test_a_run_logs_start_and_finish_at_info_with_bound_ids(runner):
    """Start and finish are info lines bound with run_id, graph and workflow_id."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(SHOUT, text="abc")
    [started] = entries(logs, "run_started")
    [finished] = entries(logs, "run_finished")
    for entry in (started, finished):
        assert entry["log_level"] == "info"
        assert entry["run_id"] == result.run_id
        assert entry["graph"] == "shout"
        assert entry["workflow_id"] is None
    assert started["inputs"] == {"text": "str[3]"}
    assert finished["status"] == "completed"
    assert finished["error_type"] is None
    assert finished["outputs"] == {"shout": "str[3]"}
    assert finished["duration_ms"] >= 0


async def test_node_transitions_are_debug_lines_naming_the_node(runner):
    """Each node logs ``node_started``/``node_finished`` at debug with ``node=``."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(SHOUT, text="abc")
    [started] = entries(logs, "node_started")
    [finished] = entries(logs, "node_finished")
    assert started["log_level"] == finished["log_level"] == "debug"
    assert started["node"] == finished["node"] == "shout"
    assert started["superstep"] == 0
    assert finished["duration_ms"] >= 0
    assert started["run_id"] == finished["run_id"] == result.run_id


async def test_a_failure_logs_the_error_type_not_the_message(runner):
    """A failing node logs its error type, never its message (it may hold values)."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(LEAKY, text="abc", error_handling="continue")
    assert result.status is RunStatus.FAILED
    error_type = f"{Boom.__module__}.{Boom.__qualname__}"
    [failed] = entries(logs, "node_failed")
    assert failed["node"] == "leak_in_error"
    assert failed["error_type"] == error_type
    [finished] = entries(logs, "run_finished")
    assert finished["status"] == "failed"
    assert finished["error_type"] == error_type
    assert "cannot handle" not in repr(logs)


async def test_nested_runs_log_at_debug_with_their_own_run_id(runner):
    """Only the top-level run logs at info; the nested run binds its own run_id."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(NESTED, text="abc")
    started = entries(logs, "run_started")
    assert [(e["graph"], e["log_level"]) for e in started] == [
        ("outer", "info"),
        ("inner", "debug"),
    ]
    assert started[0]["run_id"] == result.run_id
    assert started[1]["run_id"] != result.run_id


async def test_a_batch_logs_start_and_finish_and_items_at_debug(runner):
    """A map logs batch lines at info and each item's run at debug as ``B/<i>``."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.map(
            SHOUT,
            text=["a", "b"],
            map_over="text",
            workflow_id="B",
        )
    [started] = entries(logs, "batch_started")
    [finished] = entries(logs, "batch_finished")
    assert started["log_level"] == finished["log_level"] == "info"
    assert started["workflow_id"] == finished["workflow_id"] == "B"
    assert started["items"] == finished["items"] == 2
    assert (finished["failed"], finished["paused"]) == (0, 0)
    items = entries(logs, "run_started")
    assert sorted(e["workflow_id"] for e in items) == ["B/0", "B/1"]
    assert {e["log_level"] for e in items} == {"debug"}
    assert {e["run_id"] for e in items} == {r.run_id for r in result}


async def test_values_are_never_logged(runner):
    """Inputs, outputs and error messages holding a secret never reach any log entry."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        await runner.run(SHOUT, text=SECRET)
        await runner.run(NESTED, text=SECRET)
        await runner.run(LEAKY, text=SECRET, error_handling="continue")
        await runner.map(
            LEAKY, text=[SECRET], map_over="text", error_handling="continue"
        )
    assert logs
    text = repr(logs)
    assert SECRET not in text
    assert SECRET.upper() not in text


async def test_event_names_are_constant_strings(runner):
    """Every event name is one of a fixed set; data travel as key-value pairs."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        await runner.run(NESTED, text="abc")
        await runner.map(
            SHOUT, text=["a"], map_over="text", event_processors=[Exploding()]
        )
    assert {entry["event"] for entry in logs} <= KNOWN_EVENTS


# -- processor failures (O43) ----------------------------------------------------------


async def test_a_processor_failure_is_a_warning_with_repr_type_and_traceback(runner):
    """The warning names the processor and the event type and has the traceback."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(SHOUT, text="abc", event_processors=[Exploding()])
    assert result.status is RunStatus.COMPLETED
    failures = entries(logs, "event_processor.failed")
    assert [f["event_type"] for f in failures] == [
        "RunStartEvent",
        "SuperstepStartEvent",
        "NodeStartEvent",
        "NodeEndEvent",
        "RunEndEvent",
    ]
    for failure in failures:
        assert failure["log_level"] == "warning"
        assert failure["processor"] == "<Exploding processor>"
        assert "RuntimeError: processor boom on" in failure["traceback"]


async def test_a_processor_failure_during_a_run_carries_the_run_ids(runner):
    """Failures on node-level events are logged inside the run's bound context."""
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(SHOUT, text="abc", event_processors=[Exploding()])
    inside = [
        f
        for f in entries(logs, "event_processor.failed")
        if f["event_type"] in {"SuperstepStartEvent", "NodeStartEvent", "NodeEndEvent"}
    ]
    assert len(inside) == 3
    assert {(f["run_id"], f["graph"]) for f in inside} == {(result.run_id, "shout")}


# -- context propagation ---------------------------------------------------------------


async def test_the_apps_bound_context_reaches_library_logs(runner):
    """Context the app bound around a call is merged into the library's lines."""
    with (
        capture_logs(processors=[merge_contextvars]) as logs,
        bound_contextvars(request_id="req-7"),
    ):
        await runner.run(NESTED, text="abc", event_processors=[Exploding()])
    assert logs
    assert {entry.get("request_id") for entry in logs} == {"req-7"}


@pytest.mark.parametrize("blocking", [False, True])
async def test_node_code_sees_the_runs_bound_context(runner, blocking):
    """A node's own structlog lines carry run_id and graph, also on a worker thread."""

    def body(x: int) -> int:
        structlog.get_logger("app").info("inside_node", size=x)
        return x

    noisy = Graph([node(body, output_name="y", blocking=blocking)], name="noisy")
    with capture_logs(processors=[merge_contextvars]) as logs:
        result = await runner.run(noisy, x=3)
    [inside] = entries(logs, "inside_node")
    assert inside["run_id"] == result.run_id
    assert inside["graph"] == "noisy"
    assert inside["workflow_id"] is None


# -- never configures structlog (O52) --------------------------------------------------


async def test_the_library_never_configures_structlog(runner, unconfigured):
    """Runs, maps and processor failures leave structlog unconfigured."""
    await runner.run(NESTED, text="abc")
    await runner.map(SHOUT, text=["a"], map_over="text", event_processors=[Exploding()])
    assert structlog.is_configured() is False


async def test_unconfigured_structlog_prints_nothing_for_a_normal_run(
    runner, unconfigured, capsys
):
    """Without app configuration, info and debug lines are not emitted at all."""
    await runner.run(NESTED, text="abc")
    await runner.map(SHOUT, text=["a", "b"], map_over="text")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""


async def test_unconfigured_structlog_still_prints_warnings(
    runner, unconfigured, capsys
):
    """Warnings are emitted even when the app configured nothing."""
    await runner.run(SHOUT, text="abc", event_processors=[Exploding()])
    captured = capsys.readouterr()
    assert "event_processor.failed" in captured.out + captured.err


async def test_library_loggers_are_named_under_hypergraph(runner):
    """Every logger the library asks the app's factory for is named ``hypergraph.*``."""
    names: list[tuple[Any, ...]] = []

    def factory(*args: Any) -> CapturingLogger:
        names.append(args)
        return CapturingLogger()

    config = structlog.get_config()
    was_configured = structlog.is_configured()
    structlog.configure(processors=[], logger_factory=factory)
    try:
        await runner.run(SHOUT, text="abc", event_processors=[Exploding()])
    finally:
        structlog.reset_defaults()
        if was_configured:
            structlog.configure(**config)
    library = {args[0] for args in names}
    assert {"hypergraph.engine", "hypergraph.events"} <= library
    assert all(name.startswith("hypergraph.") for name in library)
