"""Checkpointer API: queries, tables, policy, SQLite specifics, serializers (spec 04).

Stores are filled through real runs (AsyncRunner unless the test is about the
SyncRunner), then read back through the sync and async query columns of both
``SqliteCheckpointer`` (files in ``tmp_path``) and ``MemoryCheckpointer``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from durable_harness import Switch, chain, make_checkpointer

from hypergraph import (
    END,
    AsyncRunner,
    CheckpointSerializationError,
    Graph,
    HypergraphError,
    RunStatus,
    SyncRunner,
    node,
    route,
)
from hypergraph.checkpointers import (
    DEFAULT_DB_PATH,
    Checkpoint,
    Checkpointer,
    CheckpointPolicy,
    JsonSerializer,
    LineageRow,
    LineageView,
    MemoryCheckpointer,
    MsgpackSerializer,
    PickleSerializer,
    Run,
    RunInspector,
    RunTable,
    Serializer,
    SqliteCheckpointer,
    SqliteRunInspector,
    StepRecord,
    StepStatus,
    StepTable,
    SyncCheckpointerProtocol,
    WorkflowStatus,
)

FORK_ID = re.compile(r"^(.+)-fork-[0-9a-f]{6}$")


# -- helpers -------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "memory"])
def cp(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An empty checkpointer of each kind."""
    return make_checkpointer(request.param, tmp_path)


def item_graph() -> Graph:
    """double(x) -> y."""

    @node(output_name="y")
    def double(x: int) -> int:
        return x * 2

    return Graph([double], name="item")


def counter() -> Graph:
    """A cycle: incr(count) -> count until 4, then END."""

    @node(output_name="count")
    def incr(count: int) -> int:
        return count + 1

    @route(targets=["incr", END])
    def loop(count: int) -> object:
        return "incr" if count < 4 else END

    return Graph([incr, loop], entrypoint="incr", name="counter")


async def populate(cp: Any) -> None:
    """Runs a (completed), b (failed), batch B with B/0 and B/1, f (fork of a)."""
    runner = AsyncRunner(checkpointer=cp)
    sw = Switch()
    graph = chain(sw)
    await runner.run(graph, x=1, workflow_id="a")
    sw.failing.add("second")
    await runner.run(graph, x=2, workflow_id="b", error_handling="continue")
    sw.failing.clear()
    await runner.map(item_graph(), map_over="x", x=[1, 2], workflow_id="B")
    await runner.run(graph, x=3, fork_from="a", workflow_id="f")


NEWEST_FIRST = ["f", "B/1", "B/0", "B", "b", "a"]


# -- D1/D2/D7: types -------------------------------------------------------------


def test_statuses_are_string_valued_enums():
    """WorkflowStatus and StepStatus compare equal to their strings (D1)."""
    assert [s.value for s in WorkflowStatus] == [
        "active",
        "paused",
        "completed",
        "failed",
    ]
    assert {s.value for s in StepStatus} == {"completed", "failed", "paused"}
    assert WorkflowStatus.FAILED == "failed"


def test_step_record_is_frozen_and_run_is_mutable():
    """StepRecord is frozen; Run is a mutable dataclass (D2, D3)."""
    step = StepRecord("r", 0, "n", 0, StepStatus.COMPLETED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.index = 3  # type: ignore[misc]
    run = Run(id="r", status=WorkflowStatus.ACTIVE)
    run.status = WorkflowStatus.COMPLETED
    assert run.status is WorkflowStatus.COMPLETED


def test_checkpoint_repr_names_source_superstep_and_counts():
    """Checkpoint repr reads "Checkpoint from wf-1@2: 3 values, 4 steps" (D7)."""
    steps = [StepRecord("wf-1", i, f"n{i}", i, StepStatus.COMPLETED) for i in range(4)]
    snap = Checkpoint(
        values={"a": 1, "b": 2, "c": 3},
        steps=steps,
        source_run_id="wf-1",
        source_superstep=2,
    )
    assert repr(snap) == "Checkpoint from wf-1@2: 3 values, 4 steps"


# -- D50/D51: listing runs -----------------------------------------------------------


FILTERS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "all": ({}, NEWEST_FIRST),
    "top-level": ({"parent_run_id": None}, ["f", "B", "b", "a"]),
    "children": ({"parent_run_id": "B"}, ["B/1", "B/0"]),
    "status-enum": ({"status": WorkflowStatus.FAILED}, ["b"]),
    "status-string": ({"status": "failed"}, ["b"]),
    "graph-name": ({"graph_name": "item"}, ["B/1", "B/0", "B"]),
    "limit": ({"limit": 2}, ["f", "B/1"]),
    "no-limit": ({"limit": None}, NEWEST_FIRST),
    "combined": ({"parent_run_id": None, "status": "completed"}, ["f", "B", "a"]),
}


async def test_runs_filters_match_in_sync_and_async_columns(cp):
    """runs() and list_runs() apply the same D51 filters, newest first (D50, D51)."""
    await populate(cp)
    expected = {case: ids for case, (_, ids) in FILTERS.items()}
    sync_tables = {case: cp.runs(**kwargs) for case, (kwargs, _) in FILTERS.items()}
    async_tables = {
        case: await cp.list_runs(**kwargs) for case, (kwargs, _) in FILTERS.items()
    }
    assert all(isinstance(t, RunTable) for t in [*sync_tables.values()])
    assert all(isinstance(t, RunTable) for t in [*async_tables.values()])
    assert {c: [r.id for r in t] for c, t in sync_tables.items()} == expected
    assert {c: [r.id for r in t] for c, t in async_tables.items()} == expected


async def test_runs_default_limit_is_100(cp):
    """runs() without limit returns at most 100 runs; limit=None returns all (D50)."""
    graph = item_graph()
    await AsyncRunner(checkpointer=cp).map(
        graph, map_over="x", x=list(range(104)), workflow_id="B", max_concurrency=20
    )
    assert len(cp.runs()) == 100
    assert len(await cp.list_runs()) == 100
    assert len(cp.runs(limit=None)) == 105


@pytest.fixture
def tokyo_time() -> Any:
    """Run the test with a non-UTC local time zone (so naive != local)."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


async def test_since_treats_naive_datetimes_as_utc(cp, tokyo_time):
    """since= with a naive datetime means UTC, even in another local zone (D51)."""
    await populate(cp)
    start = cp.get_run("B").created_at
    naive = start.replace(tzinfo=None)
    expected = ["f", "B/1", "B/0", "B"]
    assert [r.id for r in cp.runs(since=naive)] == expected
    assert [r.id for r in await cp.list_runs(since=naive)] == expected
    assert [r.id for r in cp.runs(since=start)] == expected
    assert list(cp.runs(since=naive + timedelta(hours=1))) == []


async def test_get_run_in_both_columns(cp):
    """get_run() and get_run_async() return the same Run, None when unknown (D50)."""
    await populate(cp)
    sync_run = cp.get_run("b")
    async_run = await cp.get_run_async("b")
    assert isinstance(sync_run, Run)
    assert sync_run.to_dict() == async_run.to_dict()
    assert sync_run.status is WorkflowStatus.FAILED
    assert cp.get_run("nope") is None
    assert await cp.get_run_async("nope") is None


async def test_state_and_values_in_both_columns(cp):
    """state()/get_state() with superstep and values()/get_values() with key (D50)."""
    await populate(cp)
    assert cp.state("a") == await cp.get_state("a") == {"y": 2, "z": 20, "w": 23}
    assert cp.state("a", superstep=1) == {"y": 2, "z": 20}
    assert await cp.get_state("a", superstep=0) == {"y": 2}
    assert cp.values("a") == await cp.get_values("a") == cp.state("a")
    assert cp.values("a", key="z") == await cp.get_values("a", key="z") == {"z": 20}
    assert cp.values("a", key="missing") == {}
    assert await cp.get_values("a", key="missing") == {}


async def test_inputs_in_both_columns(cp):
    """inputs()/get_inputs() return the persisted run inputs (D6, D50)."""
    await populate(cp)
    assert cp.inputs("b") == await cp.get_inputs("b") == {"x": 2}
    assert cp.inputs("B/1") == {"x": 2}


async def test_steps_in_both_columns(cp):
    """steps()/get_steps() give a StepTable in execution order, with superstep (D50)."""
    await populate(cp)
    table = cp.steps("a")
    assert isinstance(table, StepTable)
    assert [s.node_name for s in table] == ["first", "second", "third"]
    assert [s.to_dict() for s in await cp.get_steps("a")] == [
        s.to_dict() for s in table
    ]
    assert [s.node_name for s in cp.steps("a", superstep=1)] == ["first", "second"]
    limited = await cp.get_steps("a", superstep=0)
    assert [s.node_name for s in limited] == ["first"]


async def test_checkpoint_in_both_columns(cp):
    """checkpoint()/get_checkpoint() snapshot state and steps of a run (D7, D50)."""
    await populate(cp)
    snap = cp.checkpoint("a", superstep=1)
    assert isinstance(snap, Checkpoint)
    assert snap.values == {"y": 2, "z": 20}
    assert [s.node_name for s in snap.steps] == ["first", "second"]
    assert (snap.source_run_id, snap.source_superstep) == ("a", 1)
    assert repr(snap) == "Checkpoint from a@1: 2 values, 2 steps"
    latest = await cp.get_checkpoint("a")
    assert latest.source_superstep is None
    assert latest.values == {"y": 2, "z": 20, "w": 23}
    assert repr(latest) == "Checkpoint from a: 3 values, 3 steps"


async def test_sync_reads_work_inside_a_running_event_loop(cp):
    """Sync reads can be called from async code on the running loop (D50)."""
    await populate(cp)
    assert [r.id for r in cp.runs()] == NEWEST_FIRST
    assert cp.values("f")["w"] == 43


async def test_sync_reads_work_from_another_thread(cp):
    """Sync reads work from a worker thread (D50)."""
    await populate(cp)
    runs = await anyio.to_thread.run_sync(cp.runs)
    steps = await anyio.to_thread.run_sync(cp.steps, "a")
    assert [r.id for r in runs] == NEWEST_FIRST
    assert len(steps) == 3


def test_sync_reads_work_without_initialize_or_any_loop(tmp_path):
    """A fresh checkpointer answers sync reads with empty results (D50, D51)."""
    for fresh in (SqliteCheckpointer(tmp_path / "new.db"), MemoryCheckpointer()):
        assert list(fresh.runs()) == []
        assert fresh.get_run("x") is None


async def test_unknown_run_ids_give_empty_results(cp):
    """Unknown ids give None, {} and empty tables in both columns (D51)."""
    await populate(cp)
    assert cp.get_run("ghost") is None
    assert cp.state("ghost") == {}
    assert cp.values("ghost") == {}
    assert cp.values("ghost", key="y") == {}
    assert cp.inputs("ghost") == {}
    assert list(cp.steps("ghost")) == []
    assert cp.stats("ghost") == {}
    assert await cp.get_state("ghost") == {}
    assert await cp.get_inputs("ghost") == {}
    assert list(await cp.get_steps("ghost")) == []
    assert await cp.get_stats("ghost") == {}
    assert list(cp.runs(parent_run_id="ghost")) == []


async def test_sync_and_async_runners_share_one_checkpointer(tmp_path):
    """One SqliteCheckpointer serves an AsyncRunner and a SyncRunner in turn (D11)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    sw = Switch("second")
    graph = chain(sw)
    await AsyncRunner(checkpointer=cp).run(
        graph, x=1, workflow_id="wf", error_handling="continue"
    )
    sw.failing.clear()
    with SyncRunner(checkpointer=cp) as sync:
        result = await anyio.to_thread.run_sync(
            functools.partial(sync.run, graph, workflow_id="wf")
        )
    assert result["w"] == 23
    assert (await cp.get_run_async("wf")).status is WorkflowStatus.COMPLETED
    second = await AsyncRunner(checkpointer=cp).run(graph, x=5, workflow_id="wf2")
    assert second["w"] == 63


# -- D52: stats ------------------------------------------------------------------


async def test_stats_summarise_each_node(cp):
    """stats() gives per-node steps, timings, errors and cache hits (D52)."""
    await populate(cp)
    stats = cp.stats("b")
    assert await cp.get_stats("b") == stats
    assert set(stats) == {"first", "second"}
    row = stats["second"]
    assert set(row) == {
        "node_type",
        "steps",
        "total_ms",
        "avg_ms",
        "max_ms",
        "errors",
        "cache_hits",
    }
    assert (row["node_type"], row["steps"], row["errors"], row["cache_hits"]) == (
        "FunctionNode",
        1,
        1,
        0,
    )
    assert stats["first"]["errors"] == 0


async def test_stats_count_repeated_steps_and_order_by_total_time(cp):
    """A cycle's node counts every step; rows are ordered by total_ms desc (D52)."""
    await AsyncRunner(checkpointer=cp).run(counter(), count=0, workflow_id="loop")
    stats = cp.stats("loop")
    assert stats["incr"]["steps"] == 4
    assert stats["loop"]["node_type"] == "RouteNode"
    totals = [row["total_ms"] for row in stats.values()]
    assert totals == sorted(totals, reverse=True)
    for row in stats.values():
        assert row["avg_ms"] == round(row["avg_ms"], 3)
        assert row["max_ms"] <= row["total_ms"]


# -- D53: search -----------------------------------------------------------------


async def test_search_matches_tokens_in_names_and_errors(tmp_path):
    """search() matches every token case-insensitively in names or errors (D53)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    await populate(cp)
    hits = cp.search("SECOND Failed")
    assert isinstance(hits, StepTable)
    assert [(s.run_id, s.node_name) for s in hits] == [("b", "second")]
    assert [s.to_dict() for s in await cp.search_async("SECOND Failed")] == [
        s.to_dict() for s in hits
    ]


async def test_search_by_field(tmp_path):
    """field="node_name" or "error" restricts where tokens match (D53)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    await populate(cp)
    assert {s.run_id for s in cp.search("third", field="node_name")} == {"a", "f"}
    assert list(cp.search("third", field="error")) == []
    assert [s.run_id for s in cp.search("failed", field="error")] == ["b"]


async def test_search_is_newest_first_and_limited(tmp_path):
    """search() lists newest steps first and honours limit (D50, D53)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    runner = AsyncRunner(checkpointer=cp)
    for wf in ("s1", "s2", "s3"):
        await runner.run(item_graph(), x=1, workflow_id=wf)
    assert [s.run_id for s in cp.search("double")] == ["s3", "s2", "s1"]
    assert [s.run_id for s in cp.search("double", limit=2)] == ["s3", "s2"]


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_search_rejects_unknown_fields(store, tmp_path):
    """An unknown search field raises ValueError "Invalid search field" (D53)."""
    cp = make_checkpointer(store, tmp_path)
    with pytest.raises(ValueError, match="Invalid search field"):
        cp.search("x", field="values")
    with pytest.raises(ValueError, match="Invalid search field"):
        await cp.search_async("x", field="status")


async def test_memory_search_returns_nothing():
    """MemoryCheckpointer has no search: it returns an empty table (D13, D53)."""
    cp = MemoryCheckpointer()
    await populate(cp)
    assert list(cp.search("second")) == []
    assert list(await cp.search_async("second")) == []


# -- D54: lineage ----------------------------------------------------------------


async def lineage_family(cp: Any) -> None:
    """root a; fork f of a; fork g of f (checkpoint at superstep 1); retry r of a."""
    runner = AsyncRunner(checkpointer=cp)
    graph = chain(Switch())
    await runner.run(graph, x=1, workflow_id="a")
    await runner.run(graph, x=2, fork_from="a", workflow_id="f")
    await runner.run(graph, checkpoint=cp.checkpoint("f", superstep=1), workflow_id="g")
    await runner.run(graph, retry_from="a", workflow_id="r")


async def test_lineage_rows_walk_the_family_depth_first(cp):
    """lineage() starts at the root and lists descendants depth-first (D54)."""
    await lineage_family(cp)
    view = cp.lineage("g")
    assert isinstance(view, LineageView)
    assert all(isinstance(row, LineageRow) for row in view)
    assert [(row.run.id, row.depth, row.lane) for row in view] == [
        ("a", 0, "● "),
        ("f", 1, "├─ "),
        ("g", 2, "│  └─ "),
        ("r", 1, "└─ "),
    ]
    assert [row.is_selected for row in view] == [False, False, True, False]
    assert (view.selected_run_id, view.root_run_id) == ("g", "a")


async def test_lineage_async_matches_sync(cp):
    """get_lineage() returns the same rows as lineage() (D50, D54)."""
    await lineage_family(cp)
    sync_view = cp.lineage("f")
    async_view = await cp.get_lineage("f")
    assert [(r.lane, r.run.id, r.depth, r.is_selected) for r in async_view] == [
        (r.lane, r.run.id, r.depth, r.is_selected) for r in sync_view
    ]


async def test_lineage_steps_by_run_follow_include_steps(cp):
    """steps_by_run is filled with include_steps=True and empty otherwise (D54)."""
    await lineage_family(cp)
    view = cp.lineage("a")
    assert set(view.steps_by_run) == {"a", "f", "g", "r"}
    assert [s.node_name for s in view.steps_by_run["a"]] == ["first", "second", "third"]
    assert cp.lineage("a", include_steps=False).steps_by_run == {}


async def test_lineage_max_runs_caps_the_rows(cp):
    """lineage(max_runs=n) lists at most n runs (D54)."""
    await lineage_family(cp)
    assert [row.run.id for row in cp.lineage("a", max_runs=2)] == ["a", "f"]


async def test_lineage_repr_lines(cp):
    """LineageView repr prints one line per row in the D54 format."""
    await lineage_family(cp)
    text = repr(cp.lineage("g"))
    lines = text.splitlines()
    expected = [
        "● a [completed] (root) | steps=3 cached=0 failed=0",
        "├─ f [completed] (fork) <- a | steps=6 cached=0 failed=0",
        "│  └─ g [completed] (fork) <- f@1 | steps=",
        "└─ r [completed] (retry) <- a | steps=3 cached=0 failed=0",
    ]
    row_lines = lines[-4:]
    for line, start in zip(row_lines, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert row_lines[2].endswith(" <selected>")
    assert not row_lines[0].endswith(" <selected>")


async def test_lineage_repr_without_steps_has_no_step_counts(cp):
    """Without steps the repr rows carry no "| steps=" part (D54)."""
    await lineage_family(cp)
    text = repr(cp.lineage("a", include_steps=False))
    assert "steps=" not in text
    assert "● a [completed] (root) <selected>" in text.splitlines()


async def test_lineage_of_unknown_id_raises(cp):
    """lineage() of an unknown id raises ValueError (D51, D54)."""
    with pytest.raises(ValueError, match="Unknown workflow_id: 'ghost'"):
        cp.lineage("ghost")
    with pytest.raises(ValueError, match="Unknown workflow_id: 'ghost'"):
        await cp.get_lineage("ghost")


# -- D29: fork/retry helpers -------------------------------------------------------


async def test_fork_workflow_helper_returns_new_id_and_checkpoint(cp):
    """fork_workflow(src) gives "src-fork-<6hex>" and a checkpoint of src (D29)."""
    await populate(cp)
    new_id, snap = cp.fork_workflow("a")
    assert FORK_ID.match(new_id).group(1) == "a"
    assert snap.values == {"y": 2, "z": 20, "w": 23}
    assert snap.source_run_id == "a"
    async_id, async_snap = await cp.fork_workflow_async("a", superstep=0)
    assert FORK_ID.match(async_id)
    assert async_snap.values == {"y": 2}
    assert async_snap.source_superstep == 0
    assert cp.fork_workflow("a", workflow_id="mine")[0] == "mine"
    assert cp.get_run(new_id) is None


async def test_retry_workflow_helper_numbers_retries(cp):
    """retry_workflow(src) gives "src-retry-<n>", n = existing retries + 1 (D29)."""
    await populate(cp)
    new_id, snap = cp.retry_workflow("b")
    assert new_id == "b-retry-1"
    assert (snap.retry_of, snap.retry_index) == ("b", 1)
    await AsyncRunner(checkpointer=cp).run(
        chain(Switch()), checkpoint=snap, workflow_id=new_id
    )
    assert cp.retry_workflow("b")[0] == "b-retry-2"
    async_id, async_snap = await cp.retry_workflow_async("b", workflow_id="own")
    assert async_id == "own"
    assert async_snap.retry_index == 2


@pytest.mark.parametrize("helper", ["fork_workflow", "retry_workflow"])
async def test_fork_helpers_reject_unknown_sources(cp, helper):
    """fork/retry helpers raise ValueError for an unknown source (D29)."""
    with pytest.raises(ValueError, match="ghost"):
        getattr(cp, helper)("ghost")
    with pytest.raises(ValueError, match="ghost"):
        await getattr(cp, f"{helper}_async")("ghost")


# -- D55: tables and the inspector ---------------------------------------------------


async def test_run_table_repr_has_header_and_one_line_per_run(cp):
    """RunTable repr is "RunTable: N runs" plus one line per run (D55)."""
    assert repr(cp.runs()) == "RunTable: (empty)"
    await populate(cp)
    table = cp.runs(parent_run_id=None, limit=3)
    assert isinstance(table, list)
    lines = repr(table).splitlines()
    assert lines[0] == "RunTable: 3 runs"
    assert len(lines) == 4
    assert [line.split()[0] for line in lines[1:]] == ["f", "B", "b"]


async def test_step_table_repr_has_header_and_one_line_per_step(cp):
    """StepTable repr is "StepTable: N steps" plus one line per step (D55)."""
    assert repr(cp.steps("ghost")) == "StepTable: (empty)"
    await populate(cp)
    table = cp.steps("a")
    assert isinstance(table, list)
    lines = repr(table).splitlines()
    assert lines[0] == "StepTable: 3 steps"
    assert len(lines) == 4
    for line, name in zip(lines[1:], ["first", "second", "third"], strict=True):
        assert name in line


async def test_tables_render_html_tables_for_notebooks(cp):
    """RunTable and StepTable render as HTML tables in notebooks (D55)."""
    await populate(cp)
    runs_html = cp.runs()._repr_html_()
    steps_html = cp.steps("a")._repr_html_()
    assert "<table" in runs_html
    assert "B/1" in runs_html
    assert "<table" in steps_html
    assert "second" in steps_html


async def test_sqlite_run_inspector_exposes_the_read_column(tmp_path):
    """SqliteRunInspector implements RunInspector over a checkpointer (D55)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    await populate(cp)
    inspector = SqliteRunInspector(cp)
    assert isinstance(inspector, RunInspector)
    assert Path(inspector.db_path) == tmp_path / "runs.db"
    assert [r.id for r in inspector.runs()] == NEWEST_FIRST
    assert inspector.get_run("a").status is WorkflowStatus.COMPLETED
    assert len(inspector.steps("a")) == 3


def test_sqlite_checkpointer_keeps_the_sync_protocol(tmp_path):
    """SqliteCheckpointer still implements SyncCheckpointerProtocol (D12)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    assert isinstance(cp, SyncCheckpointerProtocol)
    for name in (
        "create_run_sync",
        "save_step_sync",
        "update_run_status_sync",
        "fork_workflow",
        "retry_workflow",
    ):
        assert callable(getattr(cp, name, None)), name


def test_checkpointers_share_the_abstract_base(tmp_path):
    """Both stores are Checkpointers with a default policy (D11)."""
    for store in (SqliteCheckpointer(tmp_path / "r.db"), MemoryCheckpointer()):
        assert isinstance(store, Checkpointer)
        assert store.policy == CheckpointPolicy()


async def test_delete_run_removes_descendants(cp):
    """delete_run(B) removes the batch with its children (D11)."""
    await populate(cp)
    await cp.delete_run("B")
    assert cp.get_run("B") is None
    assert cp.get_run("B/0") is None
    assert [r.id for r in cp.runs()] == ["f", "b", "a"]


# -- D14/D15/D16: policy -------------------------------------------------------------


INVALID_POLICIES: dict[str, tuple[dict[str, Any], str]] = {
    "exit-full": ({"durability": "exit"}, "retention='latest'"),
    "exit-windowed": (
        {"durability": "exit", "retention": "windowed", "window": 2},
        "retention='latest'",
    ),
    "windowed-no-window": ({"retention": "windowed"}, "needs window="),
    "window-zero": ({"retention": "windowed", "window": 0}, "positive int, got 0"),
    "window-negative": (
        {"retention": "windowed", "window": -1},
        "positive int, got -1",
    ),
    "window-float": (
        {"retention": "windowed", "window": 1.5},
        "positive int, got 1.5",
    ),
    "window-with-latest": (
        {"retention": "latest", "window": 3},
        "window is only used with retention='windowed'",
    ),
    "window-with-full": (
        {"window": 3},
        "window is only used with retention='windowed'",
    ),
    "ttl-zero": ({"ttl": timedelta(0)}, "ttl must be a positive timedelta"),
    "ttl-negative": (
        {"ttl": timedelta(seconds=-1)},
        "ttl must be a positive timedelta",
    ),
}


@pytest.mark.parametrize(
    ("kwargs", "message"), list(INVALID_POLICIES.values()), ids=list(INVALID_POLICIES)
)
def test_policy_rejects_inconsistent_settings(kwargs, message):
    """CheckpointPolicy raises ValueError for every D14 combination."""
    with pytest.raises(ValueError, match=re.escape(message)):
        CheckpointPolicy(**kwargs)


def test_policy_accepts_consistent_settings():
    """Valid combinations build a policy; the defaults are async/full (D14)."""
    default = CheckpointPolicy()
    assert (default.durability, default.retention, default.window, default.ttl) == (
        "async",
        "full",
        None,
        None,
    )
    assert CheckpointPolicy(durability="exit", retention="latest").durability == "exit"
    assert CheckpointPolicy(retention="windowed", window=2).window == 2
    assert CheckpointPolicy(ttl=timedelta(days=1)).ttl == timedelta(days=1)
    assert CheckpointPolicy(durability="sync").durability == "sync"


def _peeking_graph(cp: Any, seen: list[Any]) -> Graph:
    @node(output_name="y")
    def first(x: int) -> int:
        return x + 1

    @node(output_name="z")
    def peek(y: int) -> int:
        seen.append([s.node_name for s in cp.steps("wf")])
        return y

    return Graph([first, peek], name="peek")


@pytest.mark.parametrize("runner_kind", ["async", "sync"])
@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_sync_durability_commits_each_superstep_first(
    store, runner_kind, tmp_path
):
    """With durability="sync" superstep 0 is readable while superstep 1 runs (D15)."""
    cp = make_checkpointer(store, tmp_path, policy=CheckpointPolicy(durability="sync"))
    seen: list[Any] = []
    graph = _peeking_graph(cp, seen)
    if runner_kind == "async":
        await AsyncRunner(checkpointer=cp).run(graph, x=1, workflow_id="wf")
    else:
        with SyncRunner(checkpointer=cp) as sync:
            await anyio.to_thread.run_sync(
                functools.partial(sync.run, graph, x=1, workflow_id="wf")
            )
    assert seen == [["first"]]


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_exit_durability_writes_steps_only_at_the_end(store, tmp_path):
    """With durability="exit" nothing is durable mid-run, all is at the end (D15)."""
    policy = CheckpointPolicy(durability="exit", retention="latest")
    cp = make_checkpointer(store, tmp_path, policy=policy)
    seen: list[Any] = []
    await AsyncRunner(checkpointer=cp).run(
        _peeking_graph(cp, seen), x=1, workflow_id="wf"
    )
    assert seen == [[]]
    assert [s.node_name for s in cp.steps("wf")] == ["first", "peek"]
    assert cp.get_run("wf").status is WorkflowStatus.COMPLETED


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_async_durability_flushes_before_run_returns(store, tmp_path):
    """With the default durability every step is readable once run() returns (D15)."""
    cp = make_checkpointer(store, tmp_path)
    await AsyncRunner(checkpointer=cp).run(counter(), count=0, workflow_id="wf")
    assert len(cp.steps("wf")) == 8
    assert cp.state("wf")["count"] == 4


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_exit_durability_writes_steps_when_the_run_fails(store, tmp_path):
    """durability="exit" still writes the buffered steps when the run fails (D15)."""
    policy = CheckpointPolicy(durability="exit", retention="latest")
    cp = make_checkpointer(store, tmp_path, policy=policy)
    await AsyncRunner(checkpointer=cp).run(
        chain(Switch("third")), x=1, workflow_id="wf", error_handling="continue"
    )
    assert [s.status for s in cp.steps("wf")] == [
        StepStatus.COMPLETED,
        StepStatus.COMPLETED,
        StepStatus.FAILED,
    ]
    assert cp.get_run("wf").status is WorkflowStatus.FAILED


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_run_status_is_written_at_once_even_with_exit_durability(store, tmp_path):
    """Run-status updates are synchronous: under "exit" a node sees its run ACTIVE."""
    policy = CheckpointPolicy(durability="exit", retention="latest")
    cp = make_checkpointer(store, tmp_path, policy=policy)
    seen: list[Any] = []

    @node(output_name="y")
    def look(x: int) -> int:
        seen.append(cp.get_run("wf"))
        return x

    await AsyncRunner(checkpointer=cp).run(Graph([look]), x=1, workflow_id="wf")
    assert seen[0] is not None
    assert seen[0].status is WorkflowStatus.ACTIVE


async def _full_and(tmp_path: Path, policy: CheckpointPolicy) -> tuple[Any, Any]:
    full = SqliteCheckpointer(tmp_path / "full.db")
    kept = SqliteCheckpointer(tmp_path / "kept.db", policy=policy)
    for target in (full, kept):
        await AsyncRunner(checkpointer=target).run(counter(), count=0, workflow_id="wf")
    return full.steps("wf"), kept.steps("wf")


async def test_latest_retention_keeps_the_newest_step_per_node(tmp_path):
    """retention="latest" keeps one step per node name, the newest (D16)."""
    full, kept = await _full_and(tmp_path, CheckpointPolicy(retention="latest"))
    newest = {}
    for step in full:
        newest[step.node_name] = step
    assert sorted((s.node_name, s.index, s.superstep) for s in kept) == sorted(
        (s.node_name, s.index, s.superstep) for s in newest.values()
    )


async def test_windowed_retention_keeps_the_last_supersteps(tmp_path):
    """retention="windowed" keeps supersteps >= max - window + 1 (D16)."""
    policy = CheckpointPolicy(retention="windowed", window=3)
    full, kept = await _full_and(tmp_path, policy)
    last = max(s.superstep for s in full)
    assert [(s.node_name, s.superstep) for s in kept] == [
        (s.node_name, s.superstep) for s in full if s.superstep >= last - 2
    ]


async def test_windowed_retention_keeps_each_nodes_newest_step(tmp_path):
    """Deviation from D16's letter: a node's newest step (its state) is kept even
    when older than the window, so values() and resume still see it."""
    store = SqliteCheckpointer(
        tmp_path / "runs.db", policy=CheckpointPolicy(retention="windowed", window=1)
    )
    await store.create_run("wf", graph_name="warmup-then-loop")
    records = [StepRecord("wf", 0, "load", 0, StepStatus.COMPLETED, values={"a": 1})]
    records += [
        StepRecord("wf", i, "incr", i, StepStatus.COMPLETED, values={"n": i})
        for i in range(1, 6)
    ]
    for record in records:
        await store.save_step(record)
    assert [(s.node_name, s.superstep) for s in store.steps("wf")] == [
        ("load", 0),
        ("incr", 5),
    ]
    assert store.values("wf") == {"a": 1, "n": 5}


async def test_ttl_expires_old_finished_top_level_runs_on_initialize(tmp_path):
    """ttl deletes finished top-level runs and their children on initialize (D16)."""
    path = tmp_path / "runs.db"
    writer = SqliteCheckpointer(path)
    runner = AsyncRunner(checkpointer=writer)
    await runner.run(chain(Switch()), x=1, workflow_id="done")
    await runner.run(
        chain(Switch("first")), x=1, workflow_id="broken", error_handling="continue"
    )
    await runner.map(item_graph(), map_over="x", x=[1], workflow_id="B")

    @node(output_name="y")
    async def hold(x: int) -> int:
        return x

    from hypergraph import interrupt

    @interrupt(output_name="answer")
    def ask(y: int) -> str | None:
        return None

    await runner.run(Graph([hold, ask]), x=1, workflow_id="waiting")
    expiring = SqliteCheckpointer(
        path, policy=CheckpointPolicy(ttl=timedelta(microseconds=1))
    )
    await expiring.initialize()
    assert [r.id for r in expiring.runs()] == ["waiting"]
    assert list(expiring.steps("done")) == []


# -- D18: SqliteCheckpointer construction --------------------------------------------


def test_policy_together_with_durability_or_retention_is_rejected(tmp_path):
    """policy= with durability=/retention= raises ValueError (D18)."""
    for extra in ({"durability": "sync"}, {"retention": "latest"}):
        with pytest.raises(ValueError, match="Cannot pass both 'policy' and"):
            SqliteCheckpointer(tmp_path / "r.db", policy=CheckpointPolicy(), **extra)


def test_durability_or_retention_alone_builds_a_policy(tmp_path):
    """durability= or retention= alone build the checkpointer's policy (D18)."""
    assert SqliteCheckpointer(tmp_path / "a.db", durability="sync").policy == (
        CheckpointPolicy(durability="sync")
    )
    assert SqliteCheckpointer(tmp_path / "b.db", retention="latest").policy == (
        CheckpointPolicy(retention="latest")
    )


async def test_default_path_is_created_under_cwd_on_first_write(
    tmp_path, monkeypatch, capsys
):
    """SqliteCheckpointer() uses ./.hypergraph/runs.db, created on first write (D18)."""
    monkeypatch.chdir(tmp_path)
    assert Path(".hypergraph") / "runs.db" == DEFAULT_DB_PATH
    cp = SqliteCheckpointer()
    assert not (tmp_path / ".hypergraph").exists()
    await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="wf")
    assert (tmp_path / ".hypergraph" / "runs.db").is_file()
    reader = SqliteCheckpointer(tmp_path / ".hypergraph" / "runs.db")
    assert reader.get_run("wf").status is WorkflowStatus.COMPLETED
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


async def test_relative_path_resolves_against_cwd_at_construction(
    tmp_path, monkeypatch
):
    """A relative path is fixed when the checkpointer is built (D18)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    cp = SqliteCheckpointer("rel.db")
    monkeypatch.chdir(second)
    await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="wf")
    assert (first / "rel.db").is_file()
    assert not (second / "rel.db").exists()


async def test_memory_database_is_shared_by_sync_readers_and_async_writers():
    """ ":memory:" is one database for this instance's writers and readers (D18)."""
    cp = SqliteCheckpointer(":memory:")
    other = SqliteCheckpointer(":memory:")
    try:
        await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="a")
        with SyncRunner(checkpointer=cp) as sync:
            await anyio.to_thread.run_sync(
                functools.partial(sync.run, item_graph(), x=2, workflow_id="s")
            )
        assert [r.id for r in cp.runs()] == ["s", "a"]
        assert cp.values("s") == {"y": 4}
        assert list(other.runs()) == []
    finally:
        await cp.close()
        await other.close()


async def test_schema_is_created_once_under_concurrent_first_use(tmp_path):
    """Concurrent first runs on a new file all succeed (lazy schema, D18)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    runner = AsyncRunner(checkpointer=cp)
    graph = item_graph()
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(
                    functools.partial(runner.run, graph, x=i, workflow_id=f"w{i}")
                )
    assert sorted(r.id for r in cp.runs()) == [f"w{i}" for i in range(6)]
    assert all(r.status is WorkflowStatus.COMPLETED for r in cp.runs())


async def test_sqlite_repr_counts_runs_and_steps(tmp_path):
    """repr is "SqliteCheckpointer: <path> | N runs | M steps" (D18)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    runner = AsyncRunner(checkpointer=cp)
    await runner.run(chain(Switch()), x=1, workflow_id="a")
    await runner.run(item_graph(), x=1, workflow_id="b")
    text = repr(cp)
    assert text.startswith("SqliteCheckpointer: ")
    assert "runs.db" in text
    assert text.endswith(" | 2 runs | 4 steps")


async def test_initialize_and_close_are_optional_and_idempotent(tmp_path):
    """initialize() may be called explicitly; a run works without it (D18)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    await cp.initialize()
    await cp.initialize()
    await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="wf")
    assert cp.get_run("wf") is not None
    await cp.close()


# -- D18: bad database files ---------------------------------------------------------


async def test_corrupt_file_raises_value_error_naming_the_path(tmp_path):
    """A file that is not SQLite gives ValueError naming it and stays untouched."""
    path = tmp_path / "corrupt.db"
    content = b"definitely not a sqlite database\n" * 200
    path.write_bytes(content)
    cp = SqliteCheckpointer(path)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="wf")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        cp.runs()
    assert path.read_bytes() == content


async def test_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path):
    """A SQLite file with other tables gives ValueError and is not modified."""
    path = tmp_path / "foreign.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()
    content = path.read_bytes()
    cp = SqliteCheckpointer(path)
    with pytest.raises(ValueError, match=r"foreign\.db"):
        await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="wf")
    with pytest.raises(ValueError, match=r"foreign\.db"):
        cp.runs()
    assert path.read_bytes() == content


async def test_newer_schema_version_is_refused(tmp_path):
    """A database from a newer hypergraph raises "Unsupported database schema"."""
    path = tmp_path / "runs.db"
    await AsyncRunner(checkpointer=SqliteCheckpointer(path)).run(
        item_graph(), x=1, workflow_id="wf"
    )
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    newer = SqliteCheckpointer(path)
    message = (
        r"Unsupported database schema version 99 \(current: \d+\)\. Please upgrade"
    )
    with pytest.raises(ValueError, match=message):
        await AsyncRunner(checkpointer=newer).run(item_graph(), x=1, workflow_id="n")
    with pytest.raises(ValueError, match=message):
        newer.runs()


async def test_closed_checkpointer_raises_a_clear_error(tmp_path):
    """Using a SqliteCheckpointer after close() raises RuntimeError saying so."""
    cp = SqliteCheckpointer(tmp_path / "runs.db")
    await AsyncRunner(checkpointer=cp).run(item_graph(), x=1, workflow_id="wf")
    await cp.close()
    closed = r"SqliteCheckpointer\(.*runs\.db'\) was closed"
    with pytest.raises(RuntimeError, match=closed):
        await AsyncRunner(checkpointer=cp).run(item_graph(), x=2, workflow_id="w2")
    with pytest.raises(RuntimeError, match=closed):
        cp.runs()


@pytest.mark.slow
def test_script_without_close_exits_promptly(tmp_path):
    """A script that never closes its SqliteCheckpointer exits at once (D-9)."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from hypergraph import AsyncRunner, Graph, SyncRunner, node
        from hypergraph.checkpointers import SqliteCheckpointer

        @node(output_name="y")
        def inc(x: int) -> int:
            return x + 1

        cp = SqliteCheckpointer({str(tmp_path / "runs.db")!r})
        graph = Graph([inc])
        print(SyncRunner(checkpointer=cp).run(graph, x=1, workflow_id="s")["y"])
        result = asyncio.run(AsyncRunner(checkpointer=cp).run(graph, x=2))
        print(result["y"])
        print(len(cp.runs()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "3", "2"]


# -- D19: serializers ----------------------------------------------------------------


class Color(enum.Enum):
    """An enum output."""

    RED = "red"


@dataclasses.dataclass
class Pair:
    """A dataclass output."""

    left: int
    right: str


class Opaque:
    """Not encodable by msgspec; picklable (module level)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.n == self.n

    __hash__ = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return f"Opaque#{self.n}"


def _rich_graph() -> Graph:
    @node(output_name=("pair", "color", "when", "ident", "tup"))
    def rich(x: int) -> tuple[Any, ...]:
        return (
            Pair(x, "r"),
            Color.RED,
            datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
            uuid.UUID(int=x),
            (x, x),
        )

    return Graph([rich], name="rich")


async def test_json_serializer_round_trips_to_plain_json_values(cp):
    """The default serializer stores dataclasses, enums, datetimes, UUIDs as JSON."""
    await AsyncRunner(checkpointer=cp).run(_rich_graph(), x=1, workflow_id="wf")
    assert cp.values("wf") == {
        "pair": {"left": 1, "right": "r"},
        "color": "red",
        "when": "2026-03-02T12:00:00Z",
        "ident": str(uuid.UUID(int=1)),
        "tup": [1, 1],
    }


def test_serializers_encode_and_decode_directly():
    """JsonSerializer and MsgpackSerializer are Serializers that round-trip (D19)."""
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": "d"}}
    for serializer in (JsonSerializer(), MsgpackSerializer()):
        assert isinstance(serializer, Serializer)
        data = serializer.serialize(value)
        assert isinstance(data, bytes)
        assert serializer.deserialize(data) == value
    assert JsonSerializer().serialize({"k": 1}) == b'{"k":1}'


@pytest.mark.parametrize("serializer", [JsonSerializer(), MsgpackSerializer()])
def test_strict_serializers_refuse_unknown_objects(serializer):
    """Without lossy, an unsupported object raises TypeError (D19)."""
    with pytest.raises(TypeError, match="Opaque"):
        serializer.serialize({"o": Opaque(1)})


@pytest.mark.parametrize(
    "serializer",
    [JsonSerializer(lossy=True), MsgpackSerializer(lossy=True)],
    ids=["json", "msgpack"],
)
@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_lossy_serializers_store_str_of_unknown_objects(
    store, serializer, tmp_path
):
    """lossy=True stores str(obj) for objects it cannot encode (D19)."""
    cp = make_checkpointer(store, tmp_path, serializer=serializer)

    @node(output_name="thing")
    def make(x: int) -> Opaque:
        return Opaque(x)

    result = await AsyncRunner(checkpointer=cp).run(
        Graph([make]), x=7, workflow_id="wf"
    )
    assert result["thing"] == Opaque(7)
    assert cp.values("wf") == {"thing": "Opaque#7"}


async def test_msgpack_serializer_round_trips_through_sqlite(tmp_path):
    """SqliteCheckpointer(serializer=MsgpackSerializer()) stores and reads values."""
    cp = SqliteCheckpointer(tmp_path / "runs.db", serializer=MsgpackSerializer())
    await AsyncRunner(checkpointer=cp).run(_rich_graph(), x=2, workflow_id="wf")
    values = cp.values("wf")
    assert values["pair"] == {"left": 2, "right": "r"}
    assert values["color"] == "red"
    assert values["tup"] == [2, 2]
    assert cp.inputs("wf") == {"x": 2}


def test_pickle_serializer_requires_explicit_opt_in():
    """PickleSerializer raises ValueError unless allow_pickle=True (D19, 00 §1)."""
    with pytest.raises(ValueError, match="allow_pickle=True"):
        PickleSerializer()
    with pytest.raises(ValueError, match="allow_pickle=True"):
        PickleSerializer(allow_pickle=False)


async def test_pickle_serializer_round_trips_python_objects(tmp_path):
    """With allow_pickle=True values come back as the original objects (D19)."""
    cp = SqliteCheckpointer(
        tmp_path / "runs.db", serializer=PickleSerializer(allow_pickle=True)
    )

    @node(output_name=("obj", "tags", "tup"))
    def make(x: int) -> tuple[Any, ...]:
        return Opaque(x), {"a", "b"}, (x, "t")

    graph = Graph([make], name="pickled")
    await AsyncRunner(checkpointer=cp).run(graph, x=3, workflow_id="wf")
    assert cp.values("wf") == {"obj": Opaque(3), "tags": {"a", "b"}, "tup": (3, "t")}
    await AsyncRunner(checkpointer=cp).map(graph, map_over="x", x=[3], workflow_id="B")
    again = await AsyncRunner(checkpointer=cp).map(
        graph, map_over="x", x=[3], workflow_id="B"
    )
    assert again[0].log is None
    assert again[0]["tup"] == (3, "t")


async def test_custom_serializer_is_used_for_values_and_inputs(tmp_path):
    """A user Serializer subclass encodes every stored value (D19)."""

    class Counting(Serializer):
        def __init__(self) -> None:
            self.inner = JsonSerializer()
            self.encoded = 0

        def serialize(self, value: Any) -> bytes:
            self.encoded += 1
            return self.inner.serialize(value)

        def deserialize(self, data: bytes) -> Any:
            return self.inner.deserialize(data)

    serializer = Counting()
    cp = SqliteCheckpointer(tmp_path / "runs.db", serializer=serializer)
    await AsyncRunner(checkpointer=cp).run(chain(Switch()), x=1, workflow_id="wf")
    assert serializer.encoded >= 4
    assert cp.values("wf") == {"y": 2, "z": 20, "w": 23}


def _unencodable_graph() -> Graph:
    @node(output_name=("fine", "bad"))
    def produce(x: int) -> tuple[int, Any]:
        return x, Opaque(x)

    @node(output_name="after")
    def after(fine: int) -> int:
        return fine

    return Graph([produce, after], name="unencodable")


DURABILITY = {
    "sync": CheckpointPolicy(durability="sync"),
    "async": CheckpointPolicy(durability="async"),
    "exit": CheckpointPolicy(durability="exit", retention="latest"),
}


@pytest.mark.parametrize("mode", list(DURABILITY))
@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_unencodable_output_fails_the_node_in_every_mode(store, mode, tmp_path):
    """An unencodable output raises CheckpointSerializationError and fails the run."""
    cp = make_checkpointer(store, tmp_path, policy=DURABILITY[mode])
    with pytest.raises(CheckpointSerializationError) as info:
        await AsyncRunner(checkpointer=cp).run(
            _unencodable_graph(), x=1, workflow_id="wf"
        )
    error = info.value
    assert isinstance(error, TypeError)
    assert isinstance(error, HypergraphError)
    assert "'produce'" in str(error)
    assert "'bad'" in str(error)
    assert "'wf'" in str(error)
    assert cp.get_run("wf").status is WorkflowStatus.FAILED
    produce = next(s for s in cp.steps("wf") if s.node_name == "produce")
    assert produce.status is StepStatus.FAILED
    assert produce.values is None


@pytest.mark.parametrize("mode", list(DURABILITY))
async def test_unencodable_output_under_continue_fails_the_run(mode, tmp_path):
    """Under error_handling="continue" the run result and record are FAILED (D19)."""
    cp = SqliteCheckpointer(tmp_path / "runs.db", policy=DURABILITY[mode])
    result = await AsyncRunner(checkpointer=cp).run(
        _unencodable_graph(), x=1, workflow_id="wf", error_handling="continue"
    )
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, CheckpointSerializationError)
    assert "after" not in result
    assert cp.get_run("wf").status is WorkflowStatus.FAILED


async def test_unencodable_output_under_sync_runner_fails_the_run(tmp_path):
    """The SyncRunner raises CheckpointSerializationError the same way (D19)."""
    cp = MemoryCheckpointer()
    with (
        SyncRunner(checkpointer=cp) as sync,
        pytest.raises(CheckpointSerializationError, match="'bad'"),
    ):
        await anyio.to_thread.run_sync(
            functools.partial(sync.run, _unencodable_graph(), x=1, workflow_id="wf")
        )
    assert cp.get_run("wf").status is WorkflowStatus.FAILED
