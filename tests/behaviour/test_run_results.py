"""Runners, results, RunStatus and RunLog (spec 02 R1-R3, R8-R11; 05 O0-O4, O10-O12)."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import re

import pytest

from hypergraph import (
    END,
    AsyncRunner,
    Graph,
    InfiniteLoopError,
    NodeRecord,
    RunLog,
    RunnerCapabilities,
    RunResult,
    RunStatus,
    SyncRunner,
    ifelse,
    interrupt,
    node,
    route,
)
from hypergraph.results import format_duration

RUN_ID = re.compile(r"^run-[0-9a-f]{12}$")
MISSING_B = re.escape("Selected output(s) ['b'] were not produced by this run")


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="half")
def explode(doubled: int) -> int:
    raise ValueError(f"cannot halve {doubled}")


@node
def side_effect(x: int) -> None:
    return None


@node(output_name="count")
def incr(count: int) -> int:
    return count + 1


@route(targets=["incr", END])
def loop(count: int) -> object:
    return "incr" if count < 3 else END


@route(targets=["incr"])
def forever(count: int) -> str:
    return "incr"


@ifelse(when_true="pos", when_false=END)
def is_positive(x: int) -> bool:
    return x > 0


@node(output_name="p")
def pos(x: int) -> int:
    return x


@route(targets=["left", "right"], multi_target=True)
def fan(x: int) -> list[str]:
    return ["left", "right"]


@node(output_name="l")
def left(x: int) -> int:
    return x - 1


@node(output_name="r")
def right(x: int) -> int:
    return x + 1


@ifelse(when_true="branch_a", when_false="branch_b")
def choose(x: int) -> bool:
    return x > 0


@node(output_name="a")
def branch_a(x: int) -> str:
    return "A"


@node(output_name="b")
def branch_b(x: int) -> str:
    return "B"


@interrupt(output_name="answer")
def ask(question: str) -> str | None:
    return None


@node(output_name="final")
def finish(answer: str) -> str:
    return answer.upper()


@node(output_name="signal_out", emit="done")
def producer(x: int) -> int:
    return x


@node(output_name="loop_count")
def flaky_incr(loop_count: int) -> int:
    if loop_count >= 1:
        raise RuntimeError("second pass fails")
    return loop_count + 1


@route(targets=["flaky_incr", END])
def flaky_loop(loop_count: int) -> object:
    return "flaky_incr" if loop_count < 5 else END


CHAIN = Graph([double, add_one], name="chain")
FAILING = Graph([double, explode], name="failing")
COUNTER = Graph([incr, loop], entrypoint="incr", name="counter")
ENDLESS = Graph([incr, forever], entrypoint="incr", name="endless")
GATED = Graph([is_positive, pos], name="gated")
FANNED = Graph([fan, left, right], name="fanned")
CHOOSE = Graph([choose, branch_a, branch_b], name="choose")
ASK = Graph([ask, finish], name="ask")
INNER_FAILING = Graph([double, explode], name="inner")
NESTED = Graph([INNER_FAILING.as_node()], name="outer")
NESTED_OK = Graph([CHAIN.as_node(), side_effect], name="outer_ok")
FLAKY = Graph([flaky_incr, flaky_loop], entrypoint="flaky_incr", name="flaky")


# --- R1-R3: runners ---------------------------------------------------------------


async def test_runner_is_reusable_and_keeps_no_run_state(runner):
    """Two runs on one runner are independent and get distinct run ids."""
    first = await runner.run(CHAIN, x=1)
    second = await runner.run(CHAIN, x=10)
    assert first.values == {"doubled": 2, "result": 3}
    assert second.values == {"doubled": 20, "result": 21}
    assert first.run_id != second.run_id


async def test_runner_reused_after_a_failed_run(runner):
    """A runner keeps working after a run raised."""
    with pytest.raises(ValueError, match="cannot halve"):
        await runner.run(FAILING, x=1)
    result = await runner.run(CHAIN, x=1)
    assert result.completed


def test_async_runner_capabilities():
    """AsyncRunner supports everything but streaming and returns coroutines."""
    caps = AsyncRunner().capabilities
    assert isinstance(caps, RunnerCapabilities)
    assert caps.supports_cycles is True
    assert caps.supports_async_nodes is True
    assert caps.supports_interrupts is True
    assert caps.returns_coroutine is True
    assert caps.supports_streaming is False
    assert caps.supports_checkpointing is False


def test_sync_runner_capabilities_differ_only_in_returns_coroutine():
    """SyncRunner's capabilities equal AsyncRunner's except ``returns_coroutine``."""
    with SyncRunner() as sync_runner:
        sync_caps = sync_runner.capabilities
    async_caps = AsyncRunner().capabilities
    assert sync_caps.returns_coroutine is False
    assert dataclasses.replace(sync_caps, returns_coroutine=True) == async_caps


def test_runner_constructors_accept_cache_and_checkpointer_keywords():
    """Both runners take ``cache`` and ``checkpointer`` keywords defaulting to None."""
    for cls in (AsyncRunner, SyncRunner):
        params = inspect.signature(cls).parameters
        assert params["cache"].default is None
        assert params["checkpointer"].default is None


@pytest.mark.parametrize("cls", [AsyncRunner, SyncRunner])
def test_run_signature_lists_every_option(cls):
    """``run`` has the R3 parameters in order, options keyword-only."""
    params = inspect.signature(cls.run).parameters
    expected = [
        "self",
        "graph",
        "values",
        "select",
        "on_missing",
        "entrypoint",
        "max_iterations",
        "max_concurrency",
        "error_handling",
        "event_processors",
        "checkpoint",
        "workflow_id",
        "override_workflow",
        "fork_from",
        "retry_from",
        "input_values",
    ]
    assert list(params) == expected
    assert params["values"].default is None
    assert params["on_missing"].default == "ignore"
    assert params["error_handling"].default == "raise"
    assert params["max_concurrency"].default is None
    assert params["input_values"].kind is inspect.Parameter.VAR_KEYWORD
    assert params["select"].kind is inspect.Parameter.KEYWORD_ONLY


async def test_async_runner_run_returns_a_coroutine():
    """Calling ``AsyncRunner.run`` returns a coroutine that must be awaited."""
    assert inspect.iscoroutinefunction(AsyncRunner.run)
    pending = AsyncRunner().run(CHAIN, x=1)
    assert inspect.iscoroutine(pending)
    result = await pending
    assert result.values["result"] == 3


def test_sync_runner_run_returns_result_directly():
    """``SyncRunner.run`` blocks and returns the RunResult itself."""
    assert not inspect.iscoroutinefunction(SyncRunner.run)
    with SyncRunner() as sync_runner:
        result = sync_runner.run(CHAIN, x=1)
    assert isinstance(result, RunResult)
    assert result.values == {"doubled": 2, "result": 3}


def test_sync_runner_reuses_its_event_loop_across_calls():
    """Async nodes see the same event loop on consecutive SyncRunner calls."""
    loops = []

    @node(output_name="y")
    async def record_loop(x: int) -> int:
        loops.append(asyncio.get_running_loop())
        return x

    graph = Graph([record_loop])
    with SyncRunner() as sync_runner:
        sync_runner.run(graph, x=1)
        sync_runner.run(graph, x=2)
    assert len(loops) == 2
    assert loops[0] is loops[1]


async def test_sync_runner_works_inside_a_running_event_loop():
    """SyncRunner called on a thread running another loop (Jupyter) still works."""
    with SyncRunner() as sync_runner:
        result = sync_runner.run(CHAIN, x=4)
    assert result.values == {"doubled": 8, "result": 9}


async def test_sync_runner_runs_async_node_inside_a_running_event_loop():
    """Async nodes run through SyncRunner even when the caller's thread has a loop."""

    @node(output_name="y")
    async def async_double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    with SyncRunner() as sync_runner:
        result = sync_runner.run(Graph([async_double]), x=5)
    assert result["y"] == 10


# --- R8: RunResult ------------------------------------------------------------------


def test_run_result_is_a_dataclass_with_spec_fields():
    """RunResult is a dataclass holding the R8 fields."""
    names = {f.name for f in dataclasses.fields(RunResult)}
    assert {
        "values",
        "status",
        "run_id",
        "workflow_id",
        "error",
        "pause",
        "log",
    } <= names


async def test_completed_result_fields(runner):
    """A successful run is COMPLETED with values, no error, no pause and a log."""
    result = await runner.run(CHAIN, x=1)
    assert isinstance(result, RunResult)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"doubled": 2, "result": 3}
    assert result.error is None
    assert result.pause is None
    assert result.workflow_id is None
    assert isinstance(result.log, RunLog)
    assert isinstance(result.summary(), str)
    assert result.summary()


async def test_run_id_is_run_prefix_plus_12_hex_and_unique(runner):
    """``run_id`` is ``"run-"`` + 12 lowercase hex chars and differs per call."""
    ids = [(await runner.run(CHAIN, x=i)).run_id for i in range(3)]
    assert all(RUN_ID.match(run_id) for run_id in ids)
    assert len(set(ids)) == 3


async def test_workflow_id_is_kept_as_given_without_checkpointer(runner):
    """Without a checkpointer ``workflow_id`` is the argument as given."""
    result = await runner.run(CHAIN, x=1, workflow_id="wf-1")
    assert result.workflow_id == "wf-1"


async def test_result_mapping_helpers(runner):
    """``result[k]``, ``get`` and ``in`` read the values dict."""
    result = await runner.run(CHAIN, x=1)
    assert result["result"] == 3
    assert result.get("doubled") == 2
    assert result.get("missing") is None
    assert result.get("missing", default=7) == 7
    assert "result" in result
    assert "missing" not in result


async def test_result_getitem_missing_key_raises_key_error(runner):
    """``result["absent"]`` raises KeyError."""
    result = await runner.run(CHAIN, x=1)
    with pytest.raises(KeyError):
        result["absent"]


async def test_status_properties_for_completed_run(runner):
    """A completed run has ``completed`` True and the others False."""
    result = await runner.run(CHAIN, x=1)
    assert (result.completed, result.failed, result.paused) == (True, False, False)


async def test_status_properties_for_failed_run(runner):
    """A failed run under ``continue`` has ``failed`` True and keeps the error."""
    result = await runner.run(FAILING, x=1, error_handling="continue")
    assert (result.completed, result.failed, result.paused) == (False, True, False)
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, ValueError)
    assert result.pause is None


async def test_status_properties_for_paused_run(runner):
    """A run stopped at an interrupt is PAUSED with pause info and no error."""
    result = await runner.run(ASK, question="q?")
    assert (result.completed, result.failed, result.paused) == (False, False, True)
    assert result.status is RunStatus.PAUSED
    assert result.error is None
    assert result.pause is not None
    assert result.pause.node_name == "ask"


async def test_to_dict_of_completed_run_is_json_safe(runner):
    """``to_dict`` of a completed run holds status, ids and the log dict."""
    result = await runner.run(CHAIN, x=1, workflow_id="wf")
    data = result.to_dict()
    json.dumps(data)
    assert data["status"] == "completed"
    assert data["run_id"] == result.run_id
    assert data["workflow_id"] == "wf"
    assert data["log"] == result.log.to_dict()


async def test_to_dict_never_contains_raw_values(runner):
    """Input and output values never appear in ``to_dict``."""

    @node(output_name="echo")
    def keep(secret: str) -> str:
        return secret

    result = await runner.run(Graph([keep]), secret="hunter2-secret")
    assert "hunter2-secret" not in json.dumps(result.to_dict())


async def test_to_dict_of_failed_run_has_error_and_error_node(runner):
    """A failed run's dict has ``"Type: message"`` and the failing node's name."""
    result = await runner.run(FAILING, x=1, error_handling="continue")
    data = result.to_dict()
    json.dumps(data)
    assert data["status"] == "failed"
    assert data["error"] == "ValueError: cannot halve 2"
    assert data["error_node"] == "explode"


async def test_to_dict_error_node_is_slash_joined_for_nested_graph(runner):
    """A failure inside a GraphNode names the node path joined with ``/``."""
    result = await runner.run(NESTED, x=1, error_handling="continue")
    data = result.to_dict()
    assert data["error"] == "ValueError: cannot halve 2"
    assert data["error_node"] == "inner/explode"


async def test_to_dict_error_node_is_none_for_infinite_loop(runner):
    """InfiniteLoopError is no node's failure, so ``error_node`` is None."""
    result = await runner.run(
        ENDLESS, count=0, max_iterations=4, error_handling="continue"
    )
    data = result.to_dict()
    assert isinstance(result.error, InfiniteLoopError)
    assert data["error"].startswith("InfiniteLoopError: ")
    assert data["error_node"] is None


async def test_to_dict_error_is_cut_to_short_form(runner):
    """A long error message is cut to its first 500 characters in ``to_dict``."""

    @node(output_name="y")
    def shout(x: int) -> int:
        raise RuntimeError("E" * 2000)

    result = await runner.run(Graph([shout]), x=1, error_handling="continue")
    assert result.to_dict()["error"] == "RuntimeError: " + "E" * 500


# --- R9: RunStatus ----------------------------------------------------------------


def test_run_status_values():
    """RunStatus has the four R9 values and behaves as a string (JSON-safe)."""
    assert RunStatus.COMPLETED.value == "completed"
    assert RunStatus.FAILED.value == "failed"
    assert RunStatus.PAUSED.value == "paused"
    assert RunStatus.PARTIAL.value == "partial"
    assert RunStatus.COMPLETED == "completed"
    assert json.dumps(RunStatus.FAILED) == '"failed"'


# --- R10: values ------------------------------------------------------------------


async def test_values_follow_graph_outputs_order(runner):
    """Values are listed in ``graph.outputs`` order."""
    graph = Graph([add_one, double])
    result = await runner.run(graph, x=1)
    assert list(result.values) == [n for n in graph.outputs if n in result.values]
    assert list(result.values) == ["result", "doubled"]


async def test_values_exclude_emit_signals_and_gate_records(runner):
    """Emit signals and ``_<gate>`` records never appear in values."""
    result = await runner.run(Graph([producer]), x=1)
    assert result.values == {"signal_out": 1}
    gated = await runner.run(GATED, x=2)
    assert gated.values == {"p": 2}


async def test_values_include_supplied_cycle_seed(runner):
    """A supplied seed whose name is an output appears in values (updated)."""
    result = await runner.run(COUNTER, count=0)
    assert result.values == {"count": 3}


async def test_values_include_intermediate_supplied_below_entrypoint(runner):
    """An intermediate supplied below an entrypoint is returned as a value."""
    result = await runner.run(CHAIN.with_entrypoint("add_one"), doubled=5)
    assert result.values == {"doubled": 5, "result": 6}


async def test_values_include_interrupt_response(runner):
    """A supplied interrupt response is part of values."""
    result = await runner.run(ASK, question="q", answer="yes")
    assert result.values == {"answer": "yes", "final": "YES"}


async def test_side_effect_node_contributes_nothing(runner):
    """A node without outputs adds nothing to values."""
    result = await runner.run(Graph([double, side_effect]), x=1)
    assert result.values == {"doubled": 2}


async def test_branch_not_taken_contributes_nothing(runner):
    """A gate that ends the path leaves its target's output out of values."""
    result = await runner.run(GATED, x=-1)
    assert result.completed
    assert result.values == {}


async def test_selection_returns_selected_names_in_selection_order(runner):
    """With ``graph.select`` exactly the selected names appear, in selection order."""
    result = await runner.run(CHAIN.select("result", "doubled"), x=1)
    assert list(result.values) == ["result", "doubled"]
    only = await runner.run(CHAIN.select("result"), x=1)
    assert only.values == {"result": 3}


async def test_missing_selected_name_is_skipped_by_default(runner):
    """A selected name without a value is silently skipped with ``ignore``."""
    graph = CHOOSE.select("a", "b")
    result = await runner.run(graph, x=1)
    assert result.values == {"a": "A"}


async def test_missing_selected_name_warns_with_on_missing_warn(runner):
    """``on_missing="warn"`` skips a missing selected name with a UserWarning."""
    graph = CHOOSE.select("a", "b")
    with pytest.warns(UserWarning, match=MISSING_B):
        result = await runner.run(graph, x=1, on_missing="warn")
    assert result.values == {"a": "A"}


async def test_missing_selected_name_raises_with_on_missing_error(runner):
    """``on_missing="error"`` raises ValueError for a missing selected name."""
    graph = CHOOSE.select("a", "b")
    with pytest.raises(ValueError, match=MISSING_B):
        await runner.run(graph, x=1, on_missing="error")


async def test_on_missing_error_is_a_run_failure_under_continue(runner):
    """Under ``continue`` an ``on_missing="error"`` miss gives a FAILED result."""
    graph = CHOOSE.select("a", "b")
    result = await runner.run(graph, x=1, on_missing="error", error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, ValueError)


# --- R11 / O1-O4, O10-O12: RunLog and NodeRecord ------------------------------------


async def test_log_has_graph_name_run_id_duration_and_steps(runner):
    """The log carries the graph name, the result's run id and a step per node."""
    result = await runner.run(CHAIN, x=1)
    log = result.log
    assert log.graph_name == "chain"
    assert log.run_id == result.run_id
    assert log.total_duration_ms >= 0
    assert round(log.total_duration_ms, 3) == log.total_duration_ms
    assert isinstance(log.steps, tuple)
    assert [s.node_name for s in log.steps] == ["double", "add_one"]
    assert log.records == log.steps


async def test_log_graph_name_is_empty_for_unnamed_graph(runner):
    """An unnamed graph's log has ``graph_name == ""``."""
    result = await runner.run(Graph([double]), x=1)
    assert result.log.graph_name == ""


async def test_node_record_fields_for_completed_step(runner):
    """A completed step records its superstep, status, span id and no error."""
    result = await runner.run(CHAIN, x=1)
    first, second = result.log.steps
    assert isinstance(first, NodeRecord)
    assert (first.superstep, second.superstep) == (0, 1)
    assert first.status == "completed"
    assert first.error is None
    assert first.error_type is None
    assert first.cached is False
    assert first.decision is None
    assert first.log is None
    assert first.duration_ms >= 0
    assert round(first.duration_ms, 3) == first.duration_ms
    assert re.fullmatch(r"[0-9a-f]{16}", first.span_id)
    assert first.span_id != second.span_id


async def test_node_record_is_frozen(runner):
    """NodeRecord and RunLog are immutable."""
    result = await runner.run(CHAIN, x=1)
    with pytest.raises(AttributeError):
        result.log.steps[0].status = "failed"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.log.run_id = "x"  # type: ignore[misc]


async def test_failed_step_records_error_and_error_type(runner):
    """A failing node's record is ``failed`` with ``str(exc)`` and its type."""
    result = await runner.run(FAILING, x=1, error_handling="continue")
    failed = result.log.steps[-1]
    assert failed.node_name == "explode"
    assert failed.status == "failed"
    assert failed.error == "cannot halve 2"
    assert failed.error_type == "builtins.ValueError"
    assert result.log.errors == (failed,)


async def test_paused_interrupt_step_is_recorded_as_paused(runner):
    """An interrupt that pauses gives a ``paused`` record with 0 ms."""
    result = await runner.run(ASK, question="q")
    step = result.log.steps[-1]
    assert step.node_name == "ask"
    assert step.status == "paused"
    assert step.duration_ms == 0


async def test_gate_records_target_decision(runner):
    """A gate's record holds its decision as the target name."""
    result = await runner.run(GATED, x=1)
    gate = next(s for s in result.log.steps if s.node_name == "is_positive")
    assert gate.decision == "pos"


async def test_gate_end_decision_is_recorded_as_string(runner):
    """An END decision is recorded as the string ``"END"``."""
    result = await runner.run(GATED, x=-1)
    gate = next(s for s in result.log.steps if s.node_name == "is_positive")
    assert gate.decision == "END"


async def test_multi_target_decision_is_a_list(runner):
    """A multi-target route's decision is the list of targets."""
    result = await runner.run(FANNED, x=1)
    gate = next(s for s in result.log.steps if s.node_name == "fan")
    assert gate.decision == ["left", "right"]


async def test_graph_node_step_has_nested_run_log(runner):
    """A GraphNode step's ``.log`` is the inner run's RunLog."""
    result = await runner.run(NESTED_OK, x=1)
    step = next(s for s in result.log.steps if s.node_name == "chain")
    assert isinstance(step.log, RunLog)
    assert step.log.graph_name == "chain"
    assert [s.node_name for s in step.log.steps] == ["double", "add_one"]
    assert step.log.run_id != result.run_id


async def test_log_steps_repeat_for_loop_passes(runner):
    """A loop body re-run in later supersteps gets one record per execution."""
    result = await runner.run(COUNTER, count=0)
    names = [(s.node_name, s.superstep) for s in result.log.steps]
    assert names == [
        ("incr", 0),
        ("loop", 1),
        ("incr", 2),
        ("loop", 3),
        ("incr", 4),
        ("loop", 5),
    ]


async def test_log_timing_node_stats_and_slowest(runner):
    """``timing`` sums per node; ``node_stats`` counts runs; ``slowest`` sorts."""
    result = await runner.run(COUNTER, count=0)
    log = result.log
    incr_total = sum(s.duration_ms for s in log.steps if s.node_name == "incr")
    assert log.timing["incr"] == pytest.approx(incr_total)
    assert set(log.timing) == {"incr", "loop"}
    stats = log.node_stats["incr"]
    assert (stats.count, stats.errors, stats.cached, stats.succeeded) == (3, 0, 0, 3)
    assert stats.total_ms == pytest.approx(incr_total)
    durations = [s.duration_ms for s in log.slowest()]
    assert durations == sorted(durations, reverse=True)
    assert len(log.slowest()) == 6
    assert log.slowest(2) == log.slowest()[:2]


async def test_node_stats_avg_counts_only_succeeded_records(runner):
    """``avg_ms`` is the mean of successful records, not total over succeeded count."""
    result = await runner.run(FLAKY, loop_count=0, error_handling="continue")
    stats = result.log.node_stats["flaky_incr"]
    records = [s for s in result.log.steps if s.node_name == "flaky_incr"]
    ok = [s for s in records if s.status == "completed"]
    assert (stats.count, stats.errors, stats.succeeded) == (2, 1, 1)
    assert stats.avg_ms == pytest.approx(ok[0].duration_ms)
    assert re.fullmatch(r"NodeStats: 1 succeeded, 1 error, avg \S+", repr(stats))


async def test_log_summary_format(runner):
    """``summary()`` reads ``"<n> nodes | <duration> | <k> errors[ | slowest]"``."""
    result = await runner.run(CHAIN, x=1)
    assert re.fullmatch(
        r"2 nodes \| \S+ \| 0 errors( \| slowest: (double|add_one) \(\S+\))?",
        result.log.summary(),
    )


async def test_log_summary_counts_distinct_nodes_and_errors(runner):
    """Distinct node names are counted once; failures are counted as errors."""
    failed = await runner.run(FAILING, x=1, error_handling="continue")
    assert re.match(r"2 nodes \| \S+ \| 1 error\b", failed.log.summary())
    looped = await runner.run(COUNTER, count=0)
    assert looped.log.summary().startswith("2 nodes | ")


async def test_log_to_dict_shape_and_json(runner):
    """``to_dict`` holds only primitives with the O11 keys."""
    result = await runner.run(NESTED_OK, x=1)
    data = result.log.to_dict()
    json.dumps(data)
    assert set(data) == {
        "graph_name",
        "run_id",
        "total_duration_ms",
        "steps",
        "node_stats",
    }
    assert data["run_id"] == result.run_id
    step_keys = {
        "node_name",
        "superstep",
        "duration_ms",
        "status",
        "span_id",
        "error",
        "error_type",
        "cached",
        "decision",
        "inner_log",
    }
    assert all(set(step) == step_keys for step in data["steps"])
    by_name = {step["node_name"]: step for step in data["steps"]}
    assert by_name["side_effect"]["inner_log"] is None
    assert by_name["chain"]["inner_log"]["graph_name"] == "chain"
    assert set(data["node_stats"]["chain"]) == {
        "count",
        "total_ms",
        "avg_ms",
        "errors",
        "cached",
    }


async def test_log_to_dict_records_end_decision_and_error(runner):
    """The dict form carries ``"END"`` decisions and failed steps' short errors."""
    gated = (await runner.run(GATED, x=-1)).log.to_dict()
    assert gated["steps"][0]["decision"] == "END"
    failed = await runner.run(FAILING, x=1, error_handling="continue")
    step = failed.log.to_dict()["steps"][-1]
    assert step["status"] == "failed"
    assert step["error"] == "cannot halve 2"
    assert step["error_type"] == "builtins.ValueError"


async def test_log_str_has_header_and_table(runner):
    """``str(log)`` starts with the RunLog header and lists each step."""
    result = await runner.run(FAILING, x=1, error_handling="continue")
    text = str(result.log)
    header = text.splitlines()[0]
    assert re.fullmatch(r"RunLog: failing \| \S+ \| 2 nodes \| 1 error", header)
    for column in ("Step", "Node", "Duration", "Status"):
        assert column in text
    assert "FAILED: cannot halve 2" in text
    assert "completed" in text


async def test_log_str_shows_decisions_and_inner_hint(runner):
    """Decisions render as arrows and nested logs add an inner-trace hint."""
    fanned = str((await runner.run(FANNED, x=1)).log)
    assert "→ left, right" in fanned
    nested = str((await runner.run(NESTED_OK, x=1)).log)
    assert "(2 inner)" in nested
    assert "→ .steps[i].log for inner trace" in nested


async def test_log_repr(runner):
    """``repr(log)`` reads ``RunLog(graph='g', steps=n, duration=...)``."""
    result = await runner.run(CHAIN, x=1)
    assert re.fullmatch(
        r"RunLog\(graph='chain', steps=2, duration=\S+\)", repr(result.log)
    )


async def test_node_record_repr(runner):
    """``repr(record)`` reads ``NodeRecord: name | status | duration | superstep n``."""
    result = await runner.run(CHAIN, x=1)
    assert re.fullmatch(
        r"NodeRecord: add_one \| completed \| \S+ \| superstep 1",
        repr(result.log.steps[1]),
    )


async def test_node_record_repr_shows_error_and_decision(runner):
    """Failed records add `` | error: ...`` and gate records `` | -> decision``."""
    failed = await runner.run(FAILING, x=1, error_handling="continue")
    assert repr(failed.log.steps[-1]).endswith(" | error: cannot halve 2")
    gated = await runner.run(GATED, x=1)
    assert repr(gated.log.steps[0]).endswith(" | -> pos")


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (0, "0ms"),
        (0.34, "0.3ms"),
        (42.4, "42ms"),
        (1500, "1.5s"),
        (125_000, "2m05.0s"),
    ],
)
def test_format_duration(ms, text):
    """Durations render one way everywhere (O0)."""
    assert format_duration(ms) == text


async def test_log_steps_are_in_completion_order(runner):
    """Under concurrent execution records appear as nodes finish, not in graph order."""
    import anyio

    first_done = anyio.Event()

    @node(output_name="late")
    async def slow(x: int) -> int:
        await first_done.wait()
        return x

    @node(output_name="early")
    async def quick(x: int) -> int:
        first_done.set()
        return x

    result = await runner.run(Graph([slow, quick]), x=1, max_concurrency=2)
    assert [s.node_name for s in result.log.steps] == ["quick", "slow"]


async def test_to_dict_error_node_is_none_for_on_missing_error(runner):
    """An ``on_missing="error"`` failure belongs to no node."""
    graph = CHOOSE.select("a", "b")
    result = await runner.run(graph, x=1, on_missing="error", error_handling="continue")
    data = result.to_dict()
    assert data["error"].startswith("ValueError: ")
    assert data["error_node"] is None


async def test_log_summary_uses_singular_words(runner):
    """One node and one error read ``"1 node"`` and ``"1 error"``."""
    failed = await runner.run(Graph([explode]), doubled=1, error_handling="continue")
    assert re.match(r"1 node \| \S+ \| 1 error\b", failed.log.summary())


async def test_log_str_shows_paused_status(runner):
    """A paused interrupt step renders with status ``paused``."""
    result = await runner.run(ASK, question="q")
    text = str(result.log)
    assert text.splitlines()[0].startswith("RunLog: ask | ")
    assert "paused" in text
