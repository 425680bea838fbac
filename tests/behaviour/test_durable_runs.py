"""Durable runs: lifecycle, ids, strict resume, fork, retry and step records (spec 04).

Every test builds its own runner around a checkpointer (SQLite in ``tmp_path`` or
in memory). The SyncRunner is driven from a worker thread, as in
``tests/conftest.py``. Node executions are counted with a ``Switch`` that also
decides which nodes raise, so "fixing the bug" is removing a name from it.
"""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import pytest
from durable_harness import (
    ASYNC_MEMORY,
    SYNC_SQLITE,
    Boom,
    Durable,
    Switch,
    chain,
    make_checkpointer,
    settle,
    snapshot,
)

from hypergraph import (
    END,
    AsyncRunner,
    EventProcessor,
    Graph,
    GraphChangedError,
    HypergraphError,
    InputOverrideRequiresForkError,
    MissingInputError,
    RunStatus,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
    ifelse,
    interrupt,
    node,
    route,
)
from hypergraph.checkpointers import (
    Checkpoint,
    SqliteCheckpointer,
    StepStatus,
    WorkflowStatus,
)

AUTO_ID = re.compile(r"^run-(\d{8})-[0-9a-f]{6}$")
HEX = re.compile(r"^[0-9a-f]+$")


# -- harness -------------------------------------------------------------------


class Outer:
    """Holds a nested exception class (its qualname has a dot)."""

    class Inner(Exception):
        """A nested exception class."""


class Recorder(EventProcessor):
    """Keeps every event it receives."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def on_event(self, event: Any) -> None:
        self.events.append(event)


# -- graphs --------------------------------------------------------------------


def chain_fixed_body(sw: Switch) -> Graph:
    """Same structure as :func:`chain`, but ``second`` has another body."""

    @node(output_name="y")
    def first(x: int) -> int:
        sw.hit("first")
        return x + 1

    @node(output_name="z")
    def second(y: int) -> int:
        sw.calls.append("second")  # the bug fix: never raises
        return y * 10

    @node(output_name="w")
    def third(z: int) -> int:
        sw.hit("third")
        return z + 3

    return Graph([first, second, third], name="chain")


def two_inputs(sw: Switch) -> Graph:
    """prep(x) -> y, combine(y, k) -> z, report(z) -> out."""

    @node(output_name="y")
    def prep(x: int) -> int:
        sw.hit("prep")
        return x * 2

    @node(output_name="z")
    def combine(y: int, k: int) -> int:
        sw.hit("combine")
        return y + k

    @node(output_name="out")
    def report(z: int) -> str:
        sw.hit("report")
        return f"z={z}"

    return Graph([prep, combine, report], name="two")


def diamond(sw: Switch) -> Graph:
    """top(x) -> a; left(a) -> b; right(a) -> c; join(b, c) -> d."""

    @node(output_name="a")
    def top(x: int) -> int:
        sw.hit("top")
        return x

    @node(output_name="b")
    def left(a: int) -> int:
        sw.hit("left")
        return a + 1

    @node(output_name="c")
    def right(a: int) -> int:
        sw.hit("right")
        return a + 2

    @node(output_name="d")
    def join(b: int, c: int) -> int:
        sw.hit("join")
        return b + c

    return Graph([top, left, right, join], name="diamond")


def gated(sw: Switch) -> Graph:
    """first(x) -> y; route check(y) to big or END; big(y) -> out."""

    @node(output_name="y")
    def first(x: int) -> int:
        sw.hit("first")
        return x + 1

    @route(targets=["big", END])
    def check(y: int) -> object:
        sw.hit("check")
        return "big" if y > 10 else END

    @node(output_name="out")
    def big(y: int) -> str:
        sw.hit("big")
        return f"big:{y}"

    return Graph([first, check, big], name="gated")


def approval_graph(sw: Switch) -> Graph:
    """make_draft(query) -> draft; interrupt approval -> decision; finalize -> final."""

    @node(output_name="draft")
    def make_draft(query: str) -> str:
        sw.hit("make_draft")
        return f"draft:{query}"

    @interrupt(output_name="decision")
    def approval(draft: str) -> str | None:
        sw.hit("approval")
        return None

    @node(output_name="final")
    def finalize(decision: str, draft: str) -> str:
        sw.hit("finalize")
        return f"{draft}|{decision}"

    return Graph([make_draft, approval, finalize], name="approval")


def counter(sw: Switch) -> Graph:
    """incr(count) -> count until 3, then END (a cycle)."""

    @node(output_name="count")
    def incr(count: int) -> int:
        sw.hit("incr")
        return count + 1

    @route(targets=["incr", END])
    def loop(count: int) -> object:
        return "incr" if count < 3 else END

    return Graph([incr, loop], entrypoint="incr", name="counter")


async def failed_chain(durable: Durable, wf: str = "wf") -> tuple[Switch, Graph]:
    """A chain run whose ``second`` node failed (error_handling="continue")."""
    sw = Switch("second")
    graph = chain(sw)
    result = await durable.run(graph, x=1, workflow_id=wf, error_handling="continue")
    assert result.status is RunStatus.FAILED
    return sw, graph


# -- D8/D9: run status lifecycle -------------------------------------------------


async def test_completed_run_is_persisted_with_status_and_stats(durable_all):
    """A successful run is stored COMPLETED with duration, node/error counts (D9)."""
    sw = Switch()
    result = await durable_all.run(chain(sw), x=1, workflow_id="wf")
    assert result.completed
    run = durable_all.cp.get_run("wf")
    assert run.status is WorkflowStatus.COMPLETED
    assert run.graph_name == "chain"
    assert isinstance(run.duration_ms, float)
    assert run.duration_ms >= 0
    assert run.node_count == 3
    assert run.error_count == 0
    assert run.completed_at is not None
    assert run.completed_at >= run.created_at
    assert run.created_at.tzinfo is not None
    assert run.created_at.utcoffset() == timedelta(0)


@ASYNC_MEMORY
async def test_persisted_run_config_has_hashes_and_kind_run(durable):
    """A plain run's config holds hex struct/code hashes and kind "run" (D2)."""
    await durable.run(chain(Switch()), x=1, workflow_id="wf")
    run = durable.cp.get_run("wf")
    assert run.config["kind"] == "run"
    assert HEX.match(run.config["graph_struct_hash"])
    assert HEX.match(run.config["graph_code_hash"])
    assert run.parent_run_id is None
    assert (run.forked_from, run.fork_superstep, run.retry_of, run.retry_index) == (
        None,
        None,
        None,
        None,
    )


async def test_run_failing_under_raise_is_persisted_failed(durable):
    """A node failure under error_handling="raise" re-raises and stores FAILED (D9)."""
    sw = Switch("second")
    with pytest.raises(Boom):
        await durable.run(chain(sw), x=1, workflow_id="wf")
    run = durable.cp.get_run("wf")
    assert run.status is WorkflowStatus.FAILED
    assert run.completed_at is not None
    assert run.error_count == 1
    assert run.node_count == 2


@SYNC_SQLITE
async def test_run_failing_under_continue_is_persisted_failed(durable):
    """A node failure under error_handling="continue" also stores FAILED (D9)."""
    await failed_chain(durable)
    run = durable.cp.get_run("wf")
    assert run.status is WorkflowStatus.FAILED
    assert run.completed_at is not None
    assert run.error_count == 1


async def test_paused_run_is_persisted_paused_without_completed_at(durable):
    """An interrupt pause stores PAUSED and leaves completed_at empty (D9)."""
    result = await durable.run(approval_graph(Switch()), query="q", workflow_id="p")
    assert result.paused
    run = durable.cp.get_run("p")
    assert run.status is WorkflowStatus.PAUSED
    assert run.completed_at is None


async def test_run_is_active_while_its_nodes_execute(durable):
    """While a node executes, its run is stored ACTIVE without completed_at (D8)."""
    cp = durable.cp
    seen: list[Any] = []

    @node(output_name="y")
    def look(x: int) -> int:
        seen.append(cp.get_run("wf"))
        return x

    await durable.run(Graph([look]), x=1, workflow_id="wf")
    assert seen[0].status is WorkflowStatus.ACTIVE
    assert seen[0].completed_at is None
    assert cp.get_run("wf").status is WorkflowStatus.COMPLETED


@SYNC_SQLITE
async def test_resume_keeps_created_at_and_sets_new_completed_at(durable):
    """A resumed run keeps its created_at and gets a new completed_at (D8, D9)."""
    sw, graph = await failed_chain(durable)
    before = durable.cp.get_run("wf")
    sw.failing.clear()
    await durable.run(graph, workflow_id="wf")
    after = durable.cp.get_run("wf")
    assert after.status is WorkflowStatus.COMPLETED
    assert after.created_at == before.created_at
    assert after.completed_at >= before.completed_at


async def test_resume_start_clears_end_fields_and_stats(durable):
    """A resume starts ACTIVE with duration, counts and completed_at cleared (D8)."""
    cp = durable.cp
    seen: list[Any] = []
    failing = {"on": True}

    @node(output_name="y")
    def look(x: int) -> int:
        seen.append(cp.get_run("wf"))
        if failing["on"]:
            raise Boom("first attempt")
        return x

    graph = Graph([look], name="look")
    await durable.run(graph, x=1, workflow_id="wf", error_handling="continue")
    assert cp.get_run("wf").node_count == 1
    failing["on"] = False
    await durable.run(graph, workflow_id="wf")
    during = seen[-1]
    assert during.status is WorkflowStatus.ACTIVE
    assert during.completed_at is None
    assert during.duration_ms is None
    assert during.error_count == 0
    assert during.node_count == 0


async def test_node_count_spans_attempts_and_error_count_only_this_one(durable):
    """node_count counts every step ever stored; error_count this attempt's (D9)."""
    sw, graph = await failed_chain(durable)
    assert durable.cp.get_run("wf").error_count == 1
    sw.failing.clear()
    await durable.run(graph, workflow_id="wf")
    run = durable.cp.get_run("wf")
    assert run.node_count == len(durable.cp.steps("wf")) == 4
    assert run.error_count == 0


async def test_pause_then_resume_moves_from_paused_to_completed(durable):
    """A paused run resumed with its answer ends COMPLETED, completed_at set (D9)."""
    graph = approval_graph(Switch())
    await durable.run(graph, query="q", workflow_id="p")
    assert durable.cp.get_run("p").completed_at is None
    result = await durable.run(graph, workflow_id="p", decision="yes")
    assert result.completed
    assert result["final"] == "draft:q|yes"
    run = durable.cp.get_run("p")
    assert run.status is WorkflowStatus.COMPLETED
    assert run.completed_at is not None


async def test_resuming_a_fork_keeps_its_lineage_fields(durable):
    """Resuming a failed fork keeps forked_from and fork_superstep (D8 note)."""
    sw = Switch()
    graph = chain(sw)
    await durable.run(graph, x=1, workflow_id="src")
    sw.failing.add("third")
    await durable.run(
        graph, x=5, fork_from="src", workflow_id="fk", error_handling="continue"
    )
    assert durable.cp.get_run("fk").status is WorkflowStatus.FAILED
    sw.failing.clear()
    await durable.run(graph, workflow_id="fk")
    run = durable.cp.get_run("fk")
    assert run.status is WorkflowStatus.COMPLETED
    assert run.forked_from == "src"
    assert run.fork_superstep is None


@ASYNC_MEMORY
async def test_resuming_a_retry_keeps_retry_fields(durable):
    """Resuming a failed retry keeps retry_of and retry_index (D8 note)."""
    sw, graph = await failed_chain(durable, "src")
    await durable.run(
        graph, retry_from="src", workflow_id="rt", error_handling="continue"
    )
    sw.failing.clear()
    await durable.run(graph, workflow_id="rt")
    run = durable.cp.get_run("rt")
    assert run.status is WorkflowStatus.COMPLETED
    assert (run.retry_of, run.retry_index, run.forked_from) == ("src", 1, "src")


# -- D20: no checkpointer ----------------------------------------------------------


async def test_without_checkpointer_workflow_id_is_only_echoed(runner):
    """Without a checkpointer the same workflow_id is echoed and reusable (D20)."""
    graph = chain(Switch())
    first = await runner.run(graph, x=1, workflow_id="same")
    second = await runner.run(graph, x=2, workflow_id="same")
    assert first.workflow_id == second.workflow_id == "same"
    assert second["w"] == 33


async def test_without_checkpointer_no_workflow_id_is_generated(runner):
    """Without a checkpointer no workflow id is generated (D20, D21)."""
    result = await runner.run(chain(Switch()), x=1)
    assert result.workflow_id is None


@pytest.mark.parametrize("argument", ["fork_from", "retry_from"])
async def test_without_checkpointer_fork_arguments_raise(runner, argument):
    """fork_from/retry_from without a checkpointer raise ValueError (D20)."""
    sw = Switch()
    with pytest.raises(ValueError, match="require a checkpointer"):
        await runner.run(chain(sw), x=1, **{argument: "src"})
    assert sw.calls == []


# -- D21: generated ids and '/' ----------------------------------------------------


async def test_generated_workflow_id_has_utc_date_and_six_hex(durable):
    """Without workflow_id the run is persisted under run-YYYYMMDD-<6hex> (D21)."""
    before = datetime.now(UTC).strftime("%Y%m%d")
    result = await durable.run(chain(Switch()), x=1)
    after = datetime.now(UTC).strftime("%Y%m%d")
    match = AUTO_ID.match(result.workflow_id)
    assert match is not None, result.workflow_id
    assert match.group(1) in {before, after}
    assert durable.cp.get_run(result.workflow_id).status is WorkflowStatus.COMPLETED


@SYNC_SQLITE
async def test_generated_workflow_ids_are_distinct(durable):
    """Every run without workflow_id gets its own persisted id (D21)."""
    graph = chain(Switch())
    ids = {(await durable.run(graph, x=1)).workflow_id for _ in range(3)}
    assert len(ids) == 3
    assert {r.id for r in durable.cp.runs()} == ids


async def test_new_workflow_id_containing_slash_is_rejected(durable):
    """A new workflow_id with '/' raises ValueError and persists nothing (D21)."""
    sw = Switch()
    with pytest.raises(ValueError, match="workflow_id cannot contain '/'"):
        await durable.run(chain(sw), x=1, workflow_id="a/b")
    assert sw.calls == []
    assert list(durable.cp.runs()) == []


async def test_existing_child_id_with_slash_can_be_resumed(durable):
    """An existing failed batch child such as "B/1" resumes by its id (D21)."""
    bad = {"on": True}

    @node(output_name="y")
    def first(x: int) -> int:
        if bad["on"] and x == 2:
            raise Boom("item 1")
        return x + 1

    rest = [n for n in chain(Switch()).nodes.values() if n.name != "first"]
    graph = Graph([first, *rest], name="chain")
    await durable.map(
        graph, map_over="x", x=[1, 2], workflow_id="B", error_handling="continue"
    )
    assert durable.cp.get_run("B/1").status is WorkflowStatus.FAILED
    bad["on"] = False
    result = await durable.run(graph, workflow_id="B/1")
    assert result.completed
    assert result.workflow_id == "B/1"
    assert result["w"] == 33
    child = durable.cp.get_run("B/1")
    assert child.status is WorkflowStatus.COMPLETED
    assert child.parent_run_id == "B"


# -- D22: argument conflicts -------------------------------------------------------


@ASYNC_MEMORY
@pytest.mark.parametrize(
    "kwargs",
    [
        {"fork_from": "src", "retry_from": "src"},
        {"checkpoint": "cp", "fork_from": "src"},
        {"checkpoint": "cp", "retry_from": "src"},
    ],
    ids=["fork+retry", "checkpoint+fork", "checkpoint+retry"],
)
async def test_conflicting_lineage_arguments_raise_value_error(durable, kwargs):
    """fork_from with retry_from, or checkpoint with either, raise ValueError (D22)."""
    sw = Switch()
    graph = chain(sw)
    await durable.run(graph, x=1, workflow_id="src")
    if "checkpoint" in kwargs:
        kwargs = {**kwargs, "checkpoint": durable.cp.checkpoint("src")}
    before = snapshot(durable.cp)
    with pytest.raises(ValueError, match=r"fork_from|retry_from|checkpoint") as info:
        await durable.run(graph, x=2, workflow_id="new", **kwargs)
    assert not isinstance(info.value, HypergraphError)
    assert sw.count("first") == 1
    assert snapshot(durable.cp) == before


@ASYNC_MEMORY
async def test_argument_conflict_is_checked_before_the_source_exists(durable):
    """A conflict is reported even when the source is unknown (D22: checked first)."""
    with pytest.raises(ValueError, match="retry_from") as info:
        await durable.run(chain(Switch()), x=1, fork_from="nope", retry_from="nope")
    assert "Unknown source" not in str(info.value)


# -- D23: strict resume ----------------------------------------------------------


def changed_chain(sw: Switch) -> Graph:
    """:func:`chain` plus one more node: a different structure."""
    graph = chain(sw)

    @node(output_name="extra")
    def fourth(w: int) -> int:
        return w

    return graph.add_nodes(fourth)


async def test_changed_graph_is_reported_before_new_inputs(durable):
    """A changed structure raises GraphChangedError even with new inputs (D23.1)."""
    sw = Switch()
    await durable.run(chain(sw), x=1, workflow_id="wf")
    with pytest.raises(GraphChangedError) as info:
        await durable.run(changed_chain(sw), x=99, workflow_id="wf")
    assert info.value.workflow_id == "wf"
    assert "Graph structure changed for workflow 'wf'" in str(info.value)


@SYNC_SQLITE
async def test_changed_graph_is_reported_for_failed_runs_too(durable):
    """Resuming a FAILED run with a changed structure raises GraphChangedError (D23)."""
    sw, _ = await failed_chain(durable)
    with pytest.raises(GraphChangedError):
        await durable.run(changed_chain(sw), workflow_id="wf")


async def test_new_inputs_are_reported_before_completion(durable):
    """New inputs on a completed run raise InputOverrideRequiresForkError (D23.2)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="wf")
    with pytest.raises(InputOverrideRequiresForkError) as info:
        await durable.run(graph, x=2, workflow_id="wf")
    assert info.value.workflow_id == "wf"
    assert "Cannot pass input values when resuming workflow 'wf'" in str(info.value)


@SYNC_SQLITE
async def test_new_inputs_on_a_failed_run_raise_input_override(durable):
    """New inputs when resuming a FAILED run raise InputOverrideRequiresForkError."""
    sw, graph = await failed_chain(durable)
    with pytest.raises(InputOverrideRequiresForkError):
        await durable.run(graph, x=7, workflow_id="wf")
    assert sw.count("first") == 1


@SYNC_SQLITE
async def test_extra_input_key_counts_as_new(durable):
    """Adding a key to the stored inputs counts as new (D23.2)."""
    graph = two_inputs(Switch("combine"))
    await durable.run(graph, x=1, k=1, workflow_id="wf", error_handling="continue")
    with pytest.raises(InputOverrideRequiresForkError):
        await durable.run(graph, x=1, workflow_id="wf")


async def test_completed_run_without_values_raises_already_completed(durable):
    """Resuming a COMPLETED run raises WorkflowAlreadyCompletedError (D23.3)."""
    sw = Switch()
    graph = chain(sw)
    await durable.run(graph, x=1, workflow_id="wf")
    with pytest.raises(WorkflowAlreadyCompletedError) as info:
        await durable.run(graph, workflow_id="wf")
    assert info.value.workflow_id == "wf"
    assert "Workflow 'wf' is already completed" in str(info.value)
    assert sw.count("first") == 1


@SYNC_SQLITE
async def test_completed_run_with_identical_inputs_raises_already_completed(durable):
    """Identical inputs are not new, so a completed run reports completion (D23)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="wf")
    with pytest.raises(WorkflowAlreadyCompletedError):
        await durable.run(graph, x=1, workflow_id="wf")


async def test_failed_run_rerun_with_identical_inputs_resumes(durable):
    """Re-running a failed script with the same inputs resumes it (D23 note, D25)."""
    sw, graph = await failed_chain(durable)
    sw.failing.clear()
    sw.reset()
    result = await durable.run(graph, x=1, workflow_id="wf")
    assert result.completed
    assert result["w"] == 23
    assert sw.calls == ["second", "third"]


@SYNC_SQLITE
async def test_identical_inputs_ignore_key_order_and_tuple_vs_list(durable):
    """Identity uses the canonical signature: key order and tuple/list don't matter."""
    sw = Switch("combine")
    graph = two_inputs(sw)

    @node(output_name="y")
    def prep(x: list[int]) -> int:
        return sum(x)

    graph = Graph([prep, *[n for n in graph.nodes.values() if n.name != "prep"]])
    await durable.run(
        graph, {"x": (1, 2), "k": 1}, workflow_id="wf", error_handling="continue"
    )
    sw.failing.clear()
    result = await durable.run(graph, {"k": 1, "x": [1, 2]}, workflow_id="wf")
    assert result.completed
    assert result["z"] == 4


@SYNC_SQLITE
async def test_empty_values_dict_resumes(durable):
    """An empty values dict is not a new input (D23.2)."""
    sw, graph = await failed_chain(durable)
    sw.failing.clear()
    result = await durable.run(graph, {}, workflow_id="wf")
    assert result.completed


async def test_interrupt_answer_is_not_a_new_input(durable_all):
    """Values holding only an interrupt's response key resume the pause (D23.2)."""
    sw = Switch()
    graph = approval_graph(sw)
    await durable_all.run(graph, query="q", workflow_id="p")
    result = await durable_all.run(graph, workflow_id="p", decision="ok")
    assert result.completed
    assert result["final"] == "draft:q|ok"
    assert sw.count("make_draft") == 1


@SYNC_SQLITE
async def test_new_input_on_paused_run_raises_input_override(durable):
    """A non-answer value on a paused run raises InputOverrideRequiresForkError."""
    graph = approval_graph(Switch())
    await durable.run(graph, query="q", workflow_id="p")
    with pytest.raises(InputOverrideRequiresForkError):
        await durable.run(graph, workflow_id="p", query="other")


@SYNC_SQLITE
async def test_paused_run_resumed_without_answer_pauses_again(durable):
    """Resuming a paused run without its answer pauses again, upstream not rerun."""
    sw = Switch()
    graph = approval_graph(sw)
    await durable.run(graph, query="q", workflow_id="p")
    result = await durable.run(graph, workflow_id="p")
    assert result.paused
    assert sw.count("make_draft") == 1
    assert durable.cp.get_run("p").status is WorkflowStatus.PAUSED


# -- D24: structural hash ------------------------------------------------------------


async def test_body_change_resumes_fine(durable):
    """A bug-fix edit of a node body keeps the structural hash and resumes (D24)."""
    sw, _ = await failed_chain(durable)
    result = await durable.run(chain_fixed_body(sw), workflow_id="wf")
    assert result.completed
    assert result["w"] == 23


@ASYNC_MEMORY
async def test_bindings_do_not_change_the_structure(durable):
    """Binding an input does not count as a structural change (D24)."""
    sw = Switch("combine")
    graph = two_inputs(sw)
    await durable.run(graph, x=1, k=4, workflow_id="wf", error_handling="continue")
    sw.failing.clear()
    result = await durable.run(graph.bind(k=4), workflow_id="wf")
    assert result.completed
    assert result["z"] == 6


@ASYNC_MEMORY
async def test_entrypoint_does_not_change_the_structure(durable):
    """An explicit entrypoint does not count as a structural change (D24)."""
    sw, graph = await failed_chain(durable)
    sw.failing.clear()
    result = await durable.run(graph.with_entrypoint("first"), workflow_id="wf")
    assert result.completed


@ASYNC_MEMORY
async def test_node_order_does_not_change_the_structure(durable):
    """Listing the same nodes in another order is the same structure (D24)."""
    sw, graph = await failed_chain(durable)
    sw.failing.clear()
    reordered = Graph(list(reversed(list(graph.nodes.values()))), name="chain")
    result = await durable.run(reordered, workflow_id="wf")
    assert result.completed
    assert result["w"] == 23


def _renamed(sw: Switch) -> Graph:
    graph = chain(sw)
    nodes = list(graph.nodes.values())
    return Graph([nodes[0].with_name("first_renamed"), *nodes[1:]], name="chain")


def _other_output(sw: Switch) -> Graph:
    graph = chain(sw)
    nodes = list(graph.nodes.values())
    return Graph([*nodes[:2], nodes[2].with_outputs(w="w2")], name="chain")


@ASYNC_MEMORY
@pytest.mark.parametrize("variant", [_renamed, _other_output], ids=["name", "output"])
async def test_names_and_outputs_are_structural(durable, variant):
    """Renaming a node or an output raises GraphChangedError on resume (D24)."""
    sw, _ = await failed_chain(durable)
    with pytest.raises(GraphChangedError):
        await durable.run(variant(sw), workflow_id="wf")


def _targets_graph(sw: Switch, targets: list[object]) -> Graph:
    @node(output_name="y")
    def first(x: int) -> int:
        sw.hit("first")
        return x + 1

    @route(targets=targets)
    def check(y: int) -> object:
        return END

    @node(output_name="out")
    def big(y: int) -> str:
        return "big"

    @node(output_name="out2")
    def small(y: int) -> str:
        return "small"

    return Graph([first, check, big, small], name="targets")


@ASYNC_MEMORY
async def test_gate_targets_are_structural(durable):
    """Changing a gate's targets raises GraphChangedError on resume (D24)."""
    sw = Switch("first")
    await durable.run(
        _targets_graph(sw, ["big", END]),
        x=1,
        workflow_id="wf",
        error_handling="continue",
    )
    with pytest.raises(GraphChangedError):
        await durable.run(_targets_graph(sw, ["big", "small", END]), workflow_id="wf")


def _mapped_graph(sw: Switch, **map_config: Any) -> Graph:
    @node(output_name="items")
    def make(x: int) -> list[int]:
        sw.hit("make")
        return [x, x + 1]

    @node(output_name="doubled")
    def double(items: int) -> int:
        return items * 2

    inner = Graph([double], name="inner")
    return Graph([make, inner.as_node().map_over("items", **map_config)], name="outer")


@ASYNC_MEMORY
@pytest.mark.parametrize(
    "changed",
    [{"mode": "product"}, {"error_handling": "continue"}, {"clone": True}],
    ids=["mode", "error_handling", "clone"],
)
async def test_mapped_node_configuration_is_structural(durable, changed):
    """Changing a mapped GraphNode's configuration raises GraphChangedError (D24)."""
    sw = Switch("make")
    await durable.run(
        _mapped_graph(sw), x=1, workflow_id="wf", error_handling="continue"
    )
    assert durable.cp.get_run("wf").status is WorkflowStatus.FAILED
    with pytest.raises(GraphChangedError):
        await durable.run(_mapped_graph(sw, **changed), workflow_id="wf")


# -- D25: what a resume re-executes ------------------------------------------------


async def test_resume_reruns_only_the_failed_node_and_downstream(durable_all):
    """Completed upstream nodes are restored, not re-executed (D25)."""
    sw, graph = await failed_chain(durable_all)
    assert sw.calls == ["first", "second"]
    sw.failing.clear()
    sw.reset()
    result = await durable_all.run(graph, workflow_id="wf")
    assert sw.calls == ["second", "third"]
    assert result.values == {"y": 2, "z": 20, "w": 23}


async def test_resume_skips_completed_siblings_of_the_failed_node(durable):
    """A sibling that completed next to the failed node is not re-executed (D25)."""
    sw = Switch("right")
    graph = diamond(sw)
    await durable.run(graph, x=1, workflow_id="wf", error_handling="continue")
    assert sw.count("left") == 1
    sw.failing.clear()
    sw.reset()
    result = await durable.run(graph, workflow_id="wf")
    assert sorted(sw.calls) == ["join", "right"]
    assert result["d"] == 5


async def test_resume_after_pause_does_not_rerun_upstream(durable):
    """Answering an interrupt runs only the interrupt and its consumers (D25)."""
    sw = Switch()
    graph = approval_graph(sw)
    await durable.run(graph, query="q", workflow_id="p")
    sw.reset()
    await durable.run(graph, workflow_id="p", decision="ok")
    assert "make_draft" not in sw.calls
    assert sw.count("finalize") == 1


async def test_resumed_steps_continue_superstep_and_index_numbering(durable):
    """New steps start after the stored max superstep and max index (D4)."""
    sw, graph = await failed_chain(durable)
    old = durable.cp.steps("wf")
    sw.failing.clear()
    await durable.run(graph, workflow_id="wf")
    steps = durable.cp.steps("wf")
    new = steps[len(old) :]
    assert [s.node_name for s in new] == ["second", "third"]
    assert new[0].superstep == max(s.superstep for s in old) + 1
    assert new[0].index == max(s.index for s in old) + 1
    assert [s.index for s in steps] == sorted({s.index for s in steps})


@ASYNC_MEMORY
async def test_resumed_failed_step_keeps_its_failed_record(durable):
    """The failed attempt's step stays in history next to the new completed one."""
    sw, graph = await failed_chain(durable)
    sw.failing.clear()
    await durable.run(graph, workflow_id="wf")
    second = [s for s in durable.cp.steps("wf") if s.node_name == "second"]
    assert [s.status for s in second] == [StepStatus.FAILED, StepStatus.COMPLETED]


async def test_resume_survives_a_new_checkpointer_on_the_same_file(tmp_path):
    """A new SqliteCheckpointer on the same file resumes the stored run (D6, D25)."""
    sw = Switch("second")
    graph = chain(sw)
    first_cp = SqliteCheckpointer(tmp_path / "runs.db")
    await AsyncRunner(checkpointer=first_cp).run(
        graph, x=1, workflow_id="wf", error_handling="continue"
    )
    sw.failing.clear()
    sw.reset()
    second_cp = SqliteCheckpointer(tmp_path / "runs.db")
    result = await AsyncRunner(checkpointer=second_cp).run(graph, workflow_id="wf")
    assert result["w"] == 23
    assert sw.calls == ["second", "third"]


@SYNC_SQLITE
async def test_cycle_resume_restores_the_latest_value(durable):
    """A failed cycle resumes from its latest stored value, not the first (D5, D25)."""
    sw = Switch()
    seen: list[int] = []

    @node(output_name="count")
    def incr(count: int) -> int:
        seen.append(count)
        if count == 2 and sw.failing:
            raise Boom("at two")
        return count + 1

    @route(targets=["incr", END])
    def loop(count: int) -> object:
        return "incr" if count < 4 else END

    graph = Graph([incr, loop], entrypoint="incr", name="loop")
    sw.failing.add("on")
    await durable.run(graph, count=0, workflow_id="wf", error_handling="continue")
    assert seen == [0, 1, 2]
    sw.failing.clear()
    seen.clear()
    result = await durable.run(graph, workflow_id="wf")
    assert seen == [2, 3]
    assert result["count"] == 4


async def test_run_left_active_by_a_dead_process_is_resumable(durable):
    """A run still ACTIVE (process died) resumes like a failed one (D10, D23.4)."""
    sw, graph = await failed_chain(durable)
    await durable.cp.update_run_status("wf", WorkflowStatus.ACTIVE)
    sw.failing.clear()
    sw.reset()
    result = await durable.run(graph, workflow_id="wf")
    assert result["w"] == 23
    assert sw.calls == ["second", "third"]
    assert durable.cp.get_run("wf").status is WorkflowStatus.COMPLETED


# -- D26/D27: fork -----------------------------------------------------------------


async def test_fork_gets_generated_id_and_fork_lineage(durable):
    """fork_from without workflow_id creates a new run-YYYYMMDD-<hex> fork (D26)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="src")
    result = await durable.run(graph, fork_from="src")
    assert AUTO_ID.match(result.workflow_id)
    run = durable.cp.get_run(result.workflow_id)
    assert run.forked_from == "src"
    assert run.fork_superstep is None
    assert run.retry_of is None
    assert run.retry_index is None
    assert run.status is WorkflowStatus.COMPLETED


@ASYNC_MEMORY
async def test_fork_into_given_new_id(durable):
    """fork_from with a new workflow_id persists the fork under that id (D26)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="src")
    result = await durable.run(graph, fork_from="src", workflow_id="fk")
    assert result.workflow_id == "fk"
    assert durable.cp.get_run("fk").forked_from == "src"


@ASYNC_MEMORY
async def test_fork_into_existing_id_raises_workflow_fork_error(durable):
    """Forking into an existing id raises WorkflowForkError with its message (D26)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="src")
    await durable.run(graph, x=2, workflow_id="taken")
    with pytest.raises(WorkflowForkError) as info:
        await durable.run(graph, fork_from="src", workflow_id="taken")
    assert info.value.workflow_id == "taken"
    assert "Cannot fork into existing workflow 'taken'. Use a new workflow_id." in str(
        info.value
    )


@ASYNC_MEMORY
async def test_fork_from_unknown_source_raises_value_error(durable):
    """fork_from an unknown id raises ValueError naming it (D26)."""
    with pytest.raises(ValueError, match="Unknown source workflow_id: 'ghost'"):
        await durable.run(chain(Switch()), x=1, fork_from="ghost")


async def test_fork_runtime_values_win_and_rerun_only_dependents(durable_all):
    """A fork's runtime values override the source and re-run their consumers (D26)."""
    sw = Switch()
    graph = two_inputs(sw)
    await durable_all.run(graph, x=1, k=1, workflow_id="src")
    sw.reset()
    result = await durable_all.run(graph, k=5, fork_from="src", workflow_id="fk")
    assert result.values == {"y": 2, "z": 7, "out": "z=7"}
    assert sorted(sw.calls) == ["combine", "report"]
    assert durable_all.cp.inputs("fk") == {"x": 1, "k": 5}


async def test_fork_without_values_of_completed_run_runs_nothing(durable):
    """Forking a completed run without values completes at once, no node runs (D26)."""
    sw = Switch()
    graph = chain(sw)
    source = await durable.run(graph, x=1, workflow_id="src")
    sw.reset()
    result = await durable.run(graph, fork_from="src", workflow_id="fk")
    assert sw.calls == []
    assert result.completed
    assert result.values == source.values
    assert durable.cp.get_run("fk").status is WorkflowStatus.COMPLETED


@SYNC_SQLITE
async def test_fork_may_change_the_graph_structure(durable):
    """A fork skips strict checks: a structurally different graph is fine (D26)."""
    sw = Switch()
    await durable.run(chain(sw), x=1, workflow_id="src")
    sw.reset()
    result = await durable.run(changed_chain(sw), fork_from="src", workflow_id="fk")
    assert result.completed
    assert result["extra"] == 23
    assert "first" not in sw.calls


async def test_fork_of_failed_run_reruns_the_failed_part(durable):
    """Forking a failed run after a fix runs only its unfinished nodes (D26)."""
    sw, graph = await failed_chain(durable, "src")
    sw.failing.clear()
    sw.reset()
    result = await durable.run(graph, fork_from="src", workflow_id="fk")
    assert result["w"] == 23
    assert sw.calls == ["second", "third"]
    assert durable.cp.get_run("src").status is WorkflowStatus.FAILED


async def test_fork_state_is_self_contained(durable):
    """cp.values(fork) equals the fork's full result state, inherited values too."""
    sw = Switch()
    graph = two_inputs(sw)
    await durable.run(graph, x=1, k=1, workflow_id="src")
    result = await durable.run(graph, k=5, fork_from="src", workflow_id="fk")
    assert durable.cp.values("fk") == result.values
    assert durable.cp.values("fk")["y"] == 2


async def test_fork_copies_source_steps_with_rewritten_run_id(durable):
    """The source's steps open the fork's history, same numbers, new run_id (D27)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="src")
    await durable.run(graph, fork_from="src", workflow_id="fk")
    source = durable.cp.steps("src")
    copied = durable.cp.steps("fk")[: len(source)]
    assert [s.run_id for s in copied] == ["fk"] * len(source)
    assert [(s.superstep, s.index, s.node_name, s.values) for s in copied] == [
        (s.superstep, s.index, s.node_name, s.values) for s in source
    ]


@ASYNC_MEMORY
async def test_fork_leaves_the_source_untouched(durable):
    """Forking never changes the source run or its steps (D26)."""
    graph = two_inputs(Switch())
    await durable.run(graph, x=1, k=1, workflow_id="src")
    before = snapshot(durable.cp)
    await durable.run(graph, k=9, fork_from="src", workflow_id="fk")
    runs, steps, inputs = snapshot(durable.cp)
    assert [r for r in runs if r["id"] == "src"] == [
        r for r in before[0] if r["id"] == "src"
    ]
    assert steps["src"] == before[1]["src"]
    assert inputs["src"] == {"x": 1, "k": 1}


# -- D28: retry --------------------------------------------------------------------


async def test_retry_records_retry_of_and_increasing_index(durable):
    """Each retry_from records retry_of, forked_from and the next retry_index (D28)."""
    _, graph = await failed_chain(durable, "src")
    first = await durable.run(
        graph, retry_from="src", workflow_id="r1", error_handling="continue"
    )
    second = await durable.run(
        graph, retry_from="src", workflow_id="r2", error_handling="continue"
    )
    assert (first.workflow_id, second.workflow_id) == ("r1", "r2")
    runs = {r: durable.cp.get_run(r) for r in ("r1", "r2")}
    assert [(runs[r].retry_of, runs[r].retry_index) for r in ("r1", "r2")] == [
        ("src", 1),
        ("src", 2),
    ]
    assert runs["r1"].forked_from == runs["r2"].forked_from == "src"


@SYNC_SQLITE
async def test_retry_without_id_generates_one(durable):
    """retry_from without workflow_id generates a run-YYYYMMDD-<hex> id (D28, D21)."""
    sw, graph = await failed_chain(durable, "src")
    sw.failing.clear()
    result = await durable.run(graph, retry_from="src")
    assert AUTO_ID.match(result.workflow_id)
    assert durable.cp.get_run(result.workflow_id).retry_of == "src"


async def test_retry_after_fix_runs_only_the_failed_part(durable):
    """Retrying a failed run after a fix completes it without re-running upstream."""
    sw, graph = await failed_chain(durable, "src")
    sw.failing.clear()
    sw.reset()
    result = await durable.run(graph, retry_from="src", workflow_id="r1")
    assert result.completed
    assert sw.calls == ["second", "third"]
    assert durable.cp.values("r1") == {"y": 2, "z": 20, "w": 23}


@SYNC_SQLITE
async def test_retry_into_existing_id_raises_workflow_fork_error(durable):
    """retry_from into an existing workflow_id raises WorkflowForkError (D28, D26)."""
    _, graph = await failed_chain(durable, "src")
    with pytest.raises(WorkflowForkError):
        await durable.run(graph, retry_from="src", workflow_id="src")


@SYNC_SQLITE
async def test_retry_from_unknown_source_raises_value_error(durable):
    """retry_from an unknown id raises ValueError naming it (D28, D26)."""
    with pytest.raises(ValueError, match="Unknown source workflow_id: 'ghost'"):
        await durable.run(chain(Switch()), retry_from="ghost")


# -- D29: explicit checkpoints and override_workflow -------------------------------


async def test_checkpoint_at_superstep_forks_with_fork_superstep(durable):
    """run(checkpoint=cp.checkpoint(src, superstep=k)) forks at k (D29)."""
    sw = Switch()
    graph = chain(sw)
    await durable.run(graph, x=1, workflow_id="src")
    sw.reset()
    snap = durable.cp.checkpoint("src", superstep=0)
    result = await durable.run(graph, checkpoint=snap, workflow_id="new")
    assert result.values == {"y": 2, "z": 20, "w": 23}
    assert sw.calls == ["second", "third"]
    run = durable.cp.get_run("new")
    assert (run.forked_from, run.fork_superstep) == ("src", 0)
    assert durable.cp.values("new") == result.values
    assert [s.node_name for s in durable.cp.steps("new")] == [
        "first",
        "second",
        "third",
    ]


@SYNC_SQLITE
async def test_checkpoint_into_existing_id_raises_workflow_fork_error(durable):
    """A checkpoint fork into an existing id raises WorkflowForkError (D29)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="src")
    with pytest.raises(WorkflowForkError):
        await durable.run(
            graph, checkpoint=durable.cp.checkpoint("src"), workflow_id="src"
        )


@SYNC_SQLITE
async def test_checkpoint_without_workflow_id_generates_one(durable):
    """A checkpoint fork without workflow_id gets a generated id (D29, D21)."""
    graph = chain(Switch())
    await durable.run(graph, x=1, workflow_id="src")
    result = await durable.run(graph, checkpoint=durable.cp.checkpoint("src"))
    assert AUTO_ID.match(result.workflow_id)
    assert durable.cp.get_run(result.workflow_id).forked_from == "src"


async def test_retry_checkpoint_carries_retry_lineage(durable):
    """A checkpoint from retry_workflow records retry_of and retry_index (D29)."""
    sw, graph = await failed_chain(durable, "src")
    sw.failing.clear()
    new_id, snap = durable.cp.retry_workflow("src")
    assert new_id == "src-retry-1"
    assert isinstance(snap, Checkpoint)
    await durable.run(graph, checkpoint=snap, workflow_id=new_id)
    run = durable.cp.get_run(new_id)
    assert (run.forked_from, run.retry_of, run.retry_index) == ("src", "src", 1)
    assert run.status is WorkflowStatus.COMPLETED


@SYNC_SQLITE
async def test_checkpoint_fork_values_override_restored_state(durable):
    """Runtime values passed with a checkpoint win over the snapshot (D29, D26)."""
    sw = Switch()
    graph = two_inputs(sw)
    await durable.run(graph, x=1, k=1, workflow_id="src")
    sw.reset()
    result = await durable.run(
        graph, k=10, checkpoint=durable.cp.checkpoint("src"), workflow_id="new"
    )
    assert result["z"] == 12
    assert "prep" not in sw.calls


async def test_override_workflow_forks_an_existing_id(durable):
    """override_workflow=True on an existing id forks into "<id>-fork-<6hex>" (D29)."""
    sw = Switch()
    graph = two_inputs(sw)
    await durable.run(graph, x=1, k=1, workflow_id="wf")
    result = await durable.run(graph, k=3, workflow_id="wf", override_workflow=True)
    assert re.fullmatch(r"wf-fork-[0-9a-f]{6}", result.workflow_id)
    assert result["z"] == 5
    run = durable.cp.get_run(result.workflow_id)
    assert run.forked_from == "wf"
    assert run.status is WorkflowStatus.COMPLETED
    assert durable.cp.values(result.workflow_id) == result.values
    assert durable.cp.values("wf")["z"] == 3


@ASYNC_MEMORY
async def test_override_workflow_allows_graph_changes(durable):
    """override_workflow=True accepts a structurally changed graph (D29)."""
    sw = Switch()
    await durable.run(chain(sw), x=1, workflow_id="wf")
    result = await durable.run(
        changed_chain(sw), workflow_id="wf", override_workflow=True
    )
    assert result.workflow_id.startswith("wf-fork-")
    assert result["extra"] == 23


@ASYNC_MEMORY
async def test_override_workflow_with_unknown_id_is_a_plain_new_run(durable):
    """override_workflow=True with an unknown id runs under that id (D29)."""
    result = await durable.run(
        chain(Switch()), x=1, workflow_id="fresh", override_workflow=True
    )
    assert result.workflow_id == "fresh"
    run = durable.cp.get_run("fresh")
    assert run.forked_from is None
    assert run.status is WorkflowStatus.COMPLETED


# -- D5/D6: state and inputs -------------------------------------------------------


@SYNC_SQLITE
async def test_state_holds_intermediate_values_and_gate_records(durable):
    """State has every node value and "_<gate>" decisions, not inputs (D5)."""
    graph = gated(Switch())
    await durable.run(graph, x=20, workflow_id="wf")
    assert durable.cp.state("wf") == {"y": 21, "_check": "big", "out": "big:21"}


async def test_end_decision_is_stored_as_the_string_end(durable):
    """An END decision is stored as "END" in state and in the step (D5, D-4)."""
    await durable.run(gated(Switch()), x=1, workflow_id="wf")
    assert durable.cp.state("wf") == {"y": 2, "_check": "END"}
    check = next(s for s in durable.cp.steps("wf") if s.node_name == "check")
    assert check.decision == "END"
    assert check.node_type == "RouteNode"


@ASYNC_MEMORY
async def test_ifelse_record_is_stored_under_underscore_name(durable):
    """An @ifelse gate's boolean is stored under "_<gate_name>" (D5)."""

    @node(output_name="y")
    def first(x: int) -> int:
        return x

    @ifelse(when_true="after", when_false=END)
    def done(y: int) -> bool:
        return y > 0

    @node(output_name="z")
    def after(y: int) -> int:
        return y

    await durable.run(Graph([first, done, after]), x=3, workflow_id="wf")
    assert durable.cp.state("wf") == {"y": 3, "_done": True, "z": 3}


@ASYNC_MEMORY
async def test_state_up_to_a_superstep_folds_only_earlier_steps(durable):
    """state(superstep=k) only folds steps with superstep <= k (D5)."""
    await durable.run(chain(Switch()), x=1, workflow_id="wf")
    assert durable.cp.state("wf", superstep=0) == {"y": 2}
    assert durable.cp.state("wf", superstep=1) == {"y": 2, "z": 20}


@SYNC_SQLITE
async def test_state_keeps_the_latest_write_of_a_cycle(durable):
    """Later writes win: a cycle's state holds its final value (D5)."""
    await durable.run(counter(Switch()), count=0, workflow_id="wf")
    assert durable.cp.state("wf")["count"] == 3


@ASYNC_MEMORY
async def test_failed_steps_contribute_no_values(durable):
    """A failed step has no values and adds nothing to the state (D3, D5)."""
    await failed_chain(durable)
    assert durable.cp.state("wf") == {"y": 2}


async def test_inputs_are_persisted_with_the_run(durable):
    """A run's inputs are stored and read back by inputs()/get_inputs() (D6)."""
    await durable.run(two_inputs(Switch()), {"x": 3}, k=4, workflow_id="wf")
    assert durable.cp.inputs("wf") == {"x": 3, "k": 4}
    assert await durable.cp.get_inputs("wf") == {"x": 3, "k": 4}
    assert "x" not in durable.cp.state("wf")


@SYNC_SQLITE
async def test_first_node_failure_resumes_without_resupplying_inputs(durable):
    """Inputs re-seed a resume when the very first node failed (D6 note)."""
    sw = Switch("first")
    graph = chain(sw)
    await durable.run(graph, x=1, workflow_id="wf", error_handling="continue")
    assert durable.cp.state("wf") == {}
    sw.failing.clear()
    result = await durable.run(graph, workflow_id="wf")
    assert result["w"] == 23


async def test_resume_without_stored_inputs_reports_missing_seed_inputs(durable):
    """A stored run without inputs cannot resume: MissingInputError names them (D25)."""
    cp = durable.cp
    await cp.create_run("legacy", graph_name="chain")
    await cp.update_run_status("legacy", WorkflowStatus.FAILED)
    sw = Switch()
    with pytest.raises(
        MissingInputError,
        match="Checkpoint resume is missing required seed inputs: 'x'",
    ):
        await durable.run(chain(sw), workflow_id="legacy")
    assert sw.calls == []


# -- D3/D4: step records -----------------------------------------------------------


async def test_completed_step_record_fields(durable):
    """A completed step carries ids, counters, values, timing and node type (D3)."""
    await durable.run(chain(Switch()), x=1, workflow_id="wf")
    steps = durable.cp.steps("wf")
    assert [(s.node_name, s.superstep, s.index) for s in steps] == [
        ("first", 0, 0),
        ("second", 1, 1),
        ("third", 2, 2),
    ]
    first = steps[0]
    assert first.run_id == "wf"
    assert first.status is StepStatus.COMPLETED
    assert first.values == {"y": 2}
    assert set(first.input_versions) == {"x"}
    assert all(isinstance(v, int) for v in first.input_versions.values())
    assert isinstance(first.duration_ms, float)
    assert first.cached is False
    assert first.decision is None
    assert first.error is None
    assert first.error_type is None
    assert first.node_type == "FunctionNode"
    assert first.child_run_id is None
    assert first.created_at.tzinfo is not None
    assert first.completed_at >= first.created_at


async def test_failed_step_has_short_error_type_and_no_values(durable):
    """A failed step holds str(exc), "<module>.<qualname>" and no values (D3)."""
    await failed_chain(durable)
    failed = durable.cp.steps("wf")[-1]
    assert failed.node_name == "second"
    assert failed.status is StepStatus.FAILED
    assert failed.values is None
    assert failed.error == "second failed"
    assert failed.error_type == f"{Boom.__module__}.Boom"


@ASYNC_MEMORY
async def test_failed_step_error_is_cut_to_500_characters(durable):
    """A long error message is stored as its first 500 characters (D3, D-5)."""

    @node(output_name="y")
    def noisy(x: int) -> int:
        raise ValueError("e" * 480 + "f" * 1000)

    await durable.run(Graph([noisy]), x=1, workflow_id="wf", error_handling="continue")
    step = durable.cp.steps("wf")[0]
    assert step.error == "e" * 480 + "f" * 20
    assert step.error_type == "builtins.ValueError"


@ASYNC_MEMORY
async def test_error_type_uses_the_qualified_class_name(durable):
    """error_type joins the module and the __qualname__ of nested classes (D3)."""

    @node(output_name="y")
    def nested_error(x: int) -> int:
        raise Outer.Inner("inner")

    await durable.run(
        Graph([nested_error]), x=1, workflow_id="wf", error_handling="continue"
    )
    step = durable.cp.steps("wf")[0]
    assert step.error_type == f"{Outer.__module__}.Outer.Inner"
    assert step.error == "inner"


async def test_paused_interrupt_step_is_followed_by_completed_step(durable):
    """An interrupt stores a paused step, then a completed one with the answer (D3)."""
    graph = approval_graph(Switch())
    await durable.run(graph, query="q", workflow_id="p")
    paused = [s for s in durable.cp.steps("p") if s.node_name == "approval"]
    assert [(s.status, s.values) for s in paused] == [(StepStatus.PAUSED, None)]
    assert paused[0].node_type == "InterruptNode"
    await durable.run(graph, workflow_id="p", decision="ok")
    approvals = [s for s in durable.cp.steps("p") if s.node_name == "approval"]
    assert [(s.status, s.values) for s in approvals] == [
        (StepStatus.PAUSED, None),
        (StepStatus.COMPLETED, {"decision": "ok"}),
    ]


@SYNC_SQLITE
async def test_step_and_run_to_dict_use_strings(durable):
    """to_dict() gives enum strings and ISO-8601 datetimes (D2, D3)."""
    await durable.run(chain(Switch()), x=1, workflow_id="wf")
    step = durable.cp.steps("wf")[0].to_dict()
    assert step["status"] == "completed"
    assert datetime.fromisoformat(step["created_at"]).tzinfo is not None
    assert step["values"] == {"y": 2}
    run = durable.cp.get_run("wf").to_dict()
    assert run["status"] == "completed"
    assert run["id"] == "wf"
    assert isinstance(run["created_at"], str)
    assert datetime.fromisoformat(run["completed_at"]) >= datetime.fromisoformat(
        run["created_at"]
    )
    assert set(run) >= {
        "id",
        "status",
        "graph_name",
        "duration_ms",
        "node_count",
        "error_count",
        "parent_run_id",
        "forked_from",
        "fork_superstep",
        "retry_of",
        "retry_index",
        "config",
        "created_at",
        "completed_at",
    }


@SYNC_SQLITE
async def test_paused_run_to_dict_has_null_completed_at(durable):
    """A paused run's to_dict() has completed_at None (D2)."""
    await durable.run(approval_graph(Switch()), query="q", workflow_id="p")
    assert durable.cp.get_run("p").to_dict()["completed_at"] is None


async def test_steps_in_one_superstep_follow_graph_position(store, tmp_path):
    """Records of one superstep are ordered by graph position, not finish time (D4)."""
    cp = make_checkpointer(store, tmp_path)
    second_done = anyio.Event()

    @node(output_name="a")
    async def early(x: int) -> int:
        await second_done.wait()
        return x

    @node(output_name="b")
    async def late(x: int) -> int:
        second_done.set()
        return x

    with anyio.fail_after(5):
        await AsyncRunner(checkpointer=cp).run(
            Graph([early, late]), x=1, workflow_id="wf"
        )
    steps = cp.steps("wf")
    assert [s.node_name for s in steps] == ["early", "late"]
    assert [s.index for s in steps] == sorted(s.index for s in steps)


async def test_step_indexes_increase_in_execution_order(durable):
    """Step indexes are a per-run counter in execution order (D4)."""
    await durable.run(counter(Switch()), count=0, workflow_id="wf")
    steps = durable.cp.steps("wf")
    assert [s.index for s in steps] == list(range(len(steps)))
    assert [s.superstep for s in steps] == sorted(s.superstep for s in steps)


# -- D10: cancellation ---------------------------------------------------------------


def _blocking_graph(entered: anyio.Event, blocked: dict[str, bool]) -> Graph:
    @node(output_name="y")
    def quick(x: int) -> int:
        blocked.setdefault("quick_calls", 0)
        blocked["quick_calls"] += 1
        return x + 1

    @node(output_name="z")
    async def waits(y: int) -> int:
        if blocked["on"]:
            entered.set()
            await anyio.Event().wait()
        return y * 2

    return Graph([quick, waits], name="blocking")


async def _run_and_cancel(cp: Any, graph: Graph, entered: anyio.Event) -> list[Any]:
    caught: list[BaseException] = []
    before = set(threading.enumerate())

    async def go() -> None:
        try:
            await AsyncRunner(checkpointer=cp).run(graph, x=1, workflow_id="c")
        except BaseException as exc:
            caught.append(exc)
            raise

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(go)
            await entered.wait()
            tg.cancel_scope.cancel()
    await settle(before)
    return caught


async def test_cancelled_run_is_failed_with_a_cancelled_step(store, tmp_path):
    """Cancelling a run marks it FAILED with a "cancelled" step (D10)."""
    cp = make_checkpointer(store, tmp_path)
    entered = anyio.Event()
    graph = _blocking_graph(entered, {"on": True})
    caught = await _run_and_cancel(cp, graph, entered)
    assert len(caught) == 1
    assert isinstance(caught[0], anyio.get_cancelled_exc_class())
    run = cp.get_run("c")
    assert run.status is WorkflowStatus.FAILED
    assert run.completed_at is not None
    steps = {s.node_name: s for s in cp.steps("c")}
    assert steps["quick"].status is StepStatus.COMPLETED
    assert steps["waits"].status is StepStatus.FAILED
    assert steps["waits"].error == "cancelled"
    assert steps["waits"].values is None


async def test_cancelled_step_error_type_is_the_cancellation_class(store, tmp_path):
    """A cancelled step's error_type names the cancellation exception class (D10)."""
    cp = make_checkpointer(store, tmp_path)
    entered = anyio.Event()
    await _run_and_cancel(cp, _blocking_graph(entered, {"on": True}), entered)
    waits = next(s for s in cp.steps("c") if s.node_name == "waits")
    cls = anyio.get_cancelled_exc_class()
    assert waits.error_type == f"{cls.__module__}.{cls.__qualname__}"


async def test_every_in_flight_node_gets_a_cancelled_step(store, tmp_path):
    """Each node execution in flight at cancellation gets a FAILED step (D10)."""
    cp = make_checkpointer(store, tmp_path)
    both = anyio.Event()
    entered: list[str] = []

    async def park(name: str) -> None:
        entered.append(name)
        if len(entered) == 2:
            both.set()
        await anyio.Event().wait()

    @node(output_name="a")
    async def one(x: int) -> int:
        await park("one")
        return x

    @node(output_name="b")
    async def two(x: int) -> int:
        await park("two")
        return x

    caught = await _run_and_cancel(cp, Graph([one, two]), both)
    assert [type(exc) for exc in caught] == [anyio.get_cancelled_exc_class()]
    steps = cp.steps("c")
    assert {s.node_name for s in steps} == {"one", "two"}
    assert {(s.status, s.error) for s in steps} == {(StepStatus.FAILED, "cancelled")}


async def test_cancelled_run_can_be_resumed(store, tmp_path):
    """A cancelled run resumes by workflow_id without re-running finished nodes."""
    cp = make_checkpointer(store, tmp_path)
    entered = anyio.Event()
    blocked = {"on": True}
    graph = _blocking_graph(entered, blocked)
    await _run_and_cancel(cp, graph, entered)
    blocked["on"] = False
    result = await AsyncRunner(checkpointer=cp).run(graph, workflow_id="c")
    assert result["z"] == 4
    assert blocked["quick_calls"] == 1
    assert cp.get_run("c").status is WorkflowStatus.COMPLETED


def test_cancelled_sqlite_run_leaves_no_connection_thread_behind(tmp_path):
    """A cancelled run closes its SQLite connection before returning (00 §1, D10).

    A connection left closing in the background reports to its event loop after
    the loop is gone; closing the loop right after the call makes that visible.
    """
    thread_errors: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: thread_errors.append(args.exc_value)
    try:
        for attempt in range(3):
            cp = SqliteCheckpointer(tmp_path / f"runs{attempt}.db")
            entered = anyio.Event()
            graph = _blocking_graph(entered, {"on": True})
            before = set(threading.enumerate())
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(_cancel_only(cp, graph, entered))
            finally:
                loop.close()
            for thread in set(threading.enumerate()) - before:
                thread.join(5)
    finally:
        threading.excepthook = previous
    assert thread_errors == []


async def _cancel_only(cp: Any, graph: Graph, entered: anyio.Event) -> None:
    async def go() -> None:
        await AsyncRunner(checkpointer=cp).run(graph, x=1, workflow_id="c")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(go)
            await entered.wait()
            tg.cancel_scope.cancel()


# -- D61: rejected calls -------------------------------------------------------------


async def _completed_and_failed(durable: Durable) -> Graph:
    sw = Switch()
    graph = chain(sw)
    await durable.run(graph, x=1, workflow_id="done")
    sw.failing.add("third")
    await durable.run(graph, x=1, workflow_id="broken", error_handling="continue")
    return graph


REJECTED = {
    "graph-changed": (
        lambda g: changed_chain(Switch()),
        {"workflow_id": "done"},
        GraphChangedError,
        "Graph structure changed for workflow 'done'",
    ),
    "new-input": (
        lambda g: g,
        {"workflow_id": "broken", "x": 5},
        InputOverrideRequiresForkError,
        "Cannot pass input values when resuming workflow 'broken'",
    ),
    "completed": (
        lambda g: g,
        {"workflow_id": "done"},
        WorkflowAlreadyCompletedError,
        "Workflow 'done' is already completed",
    ),
    "fork-target": (
        lambda g: g,
        {"fork_from": "done", "workflow_id": "broken"},
        WorkflowForkError,
        "Cannot fork into existing workflow 'broken'",
    ),
    "retry-target": (
        lambda g: g,
        {"retry_from": "broken", "workflow_id": "done"},
        WorkflowForkError,
        "Cannot fork into existing workflow 'done'",
    ),
    "unknown-source": (
        lambda g: g,
        {"fork_from": "ghost"},
        ValueError,
        "Unknown source workflow_id: 'ghost'",
    ),
    "slash-id": (
        lambda g: g,
        {"workflow_id": "x/y", "x": 1},
        ValueError,
        "workflow_id cannot contain '/'",
    ),
    "conflict": (
        lambda g: g,
        {"fork_from": "done", "retry_from": "done"},
        ValueError,
        "retry_from",
    ),
}


@pytest.mark.parametrize("case", list(REJECTED))
async def test_rejected_call_leaves_store_unchanged_and_emits_nothing(durable, case):
    """A call refused by a lineage check writes nothing and emits no event (D61)."""
    graph = await _completed_and_failed(durable)
    make_graph, kwargs, error, message = REJECTED[case]
    before = snapshot(durable.cp)
    events = Recorder()
    with pytest.raises(error, match=re.escape(message)):
        await durable.run(make_graph(graph), event_processors=[events], **kwargs)
    assert events.events == []
    assert snapshot(durable.cp) == before


def test_lineage_errors_are_hypergraph_errors():
    """The four lineage errors subclass HypergraphError (D60)."""
    for cls in (
        GraphChangedError,
        InputOverrideRequiresForkError,
        WorkflowAlreadyCompletedError,
        WorkflowForkError,
    ):
        assert issubclass(cls, HypergraphError)
        assert cls("x").workflow_id == "x"
