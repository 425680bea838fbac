"""Unit tests for MemoryCheckpointer (spec 04 D4-D9, D13, D29, D50-D55)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import pytest

from hypergraph._checkpoint._memory import MemoryCheckpointer
from hypergraph._checkpoint._serializers import PickleSerializer
from hypergraph._checkpoint._types import (
    Checkpoint,
    RunTable,
    StepRecord,
    StepStatus,
    StepTable,
    WorkflowStatus,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def step(
    run_id: str,
    superstep: int,
    node_name: str,
    index: int,
    values: dict | None = None,
    *,
    status: StepStatus = StepStatus.COMPLETED,
    duration_ms: float = 1.0,
    cached: bool = False,
    node_type: str = "FunctionNode",
) -> StepRecord:
    return StepRecord(
        run_id=run_id,
        superstep=superstep,
        node_name=node_name,
        index=index,
        status=status,
        values=values,
        duration_ms=duration_ms,
        cached=cached,
        node_type=node_type,
        error="boom" if status is StepStatus.FAILED else None,
        created_at=T0,
        completed_at=T0,
    )


async def three_step_run(cp: MemoryCheckpointer, run_id: str = "wf") -> None:
    await cp.create_run(run_id, graph_name="g", inputs={"x": 1})
    await cp.save_step(step(run_id, 0, "a", 0, {"a": 1}))
    await cp.save_step(step(run_id, 1, "b", 1, {"b": 2, "a": 10}))
    await cp.save_step(step(run_id, 2, "c", 2, {"c": 3}))


# -- steps and state (D4, D5) ----------------------------------------------------------


async def test_saving_the_same_step_identity_replaces_it():
    """A second save of (run, superstep, node) replaces the first (D4)."""
    cp = MemoryCheckpointer()
    await cp.save_step(step("wf", 0, "ask", 0, None, status=StepStatus.PAUSED))
    await cp.save_step(step("wf", 0, "ask", 0, {"answer": 42}))
    steps = cp.steps("wf")
    assert len(steps) == 1
    assert steps[0].status is StepStatus.COMPLETED
    assert steps[0].values == {"answer": 42}


async def test_steps_come_back_in_index_order():
    """Steps are listed by their index, whatever order they were saved in."""
    cp = MemoryCheckpointer()
    await cp.save_step(step("wf", 1, "b", 1, {"b": 1}))
    await cp.save_step(step("wf", 0, "a", 0, {"a": 1}))
    assert [s.node_name for s in cp.steps("wf")] == ["a", "b"]
    assert [s.node_name for s in await cp.get_steps("wf")] == ["a", "b"]


async def test_state_folds_values_and_honours_the_superstep_cut():
    """Later values win, steps without values are skipped, superstep cuts (D5)."""
    cp = MemoryCheckpointer()
    await three_step_run(cp)
    await cp.save_step(step("wf", 3, "d", 3, None, status=StepStatus.FAILED))
    assert cp.state("wf") == {"a": 10, "b": 2, "c": 3}
    assert cp.state("wf", superstep=0) == {"a": 1}
    assert await cp.get_state("wf", superstep=1) == {"a": 10, "b": 2}
    assert [s.index for s in cp.steps("wf", superstep=1)] == [0, 1]
    assert cp.values("wf", key="c") == {"c": 3}
    assert await cp.get_values("wf", key="missing") == {}
    assert cp.state("unknown") == {}


async def test_values_are_decoded_json_shaped():
    """Values round-trip through the serializer, so a tuple reads back as a list."""
    cp = MemoryCheckpointer()
    original = {"pair": (1, 2), "nested": {"k": [1, (2, 3)]}}
    await cp.save_step(step("wf", 0, "a", 0, original))
    assert cp.values("wf") == {"pair": [1, 2], "nested": {"k": [1, [2, 3]]}}
    assert original["pair"] == (1, 2)


async def test_pickle_serializer_keeps_python_objects():
    """With PickleSerializer values keep their Python types."""
    cp = MemoryCheckpointer(serializer=PickleSerializer(allow_pickle=True))
    await cp.save_step(step("wf", 0, "a", 0, {"pair": (1, 2)}))
    assert cp.values("wf") == {"pair": (1, 2)}


async def test_unencodable_value_raises_and_stores_nothing():
    """A value the serializer cannot encode raises TypeError before storing."""
    cp = MemoryCheckpointer()
    with pytest.raises(TypeError, match="type object is unsupported"):
        await cp.save_step(step("wf", 0, "a", 0, {"obj": object()}))
    assert cp.steps("wf") == []


# -- inputs and run lifecycle (D6, D8, D9) ---------------------------------------------


async def test_inputs_round_trip():
    """Inputs persisted with the run come back decoded (D6)."""
    cp = MemoryCheckpointer()
    await cp.create_run("wf", inputs={"x": (1, 2), "y": "s"})
    assert cp.inputs("wf") == {"x": [1, 2], "y": "s"}
    assert await cp.get_inputs("wf") == {"x": [1, 2], "y": "s"}
    assert cp.inputs("unknown") == {}
    await cp.create_run("bare")
    assert cp.inputs("bare") == {}


async def test_create_run_upserts_as_active_and_keeps_created_at():
    """Re-creating a run makes it ACTIVE, clears end stats, keeps created_at (D8)."""
    cp = MemoryCheckpointer()
    first = await cp.create_run("wf", graph_name="g", config={"kind": "run"})
    assert first.status is WorkflowStatus.ACTIVE
    await cp.update_run_status(
        "wf", WorkflowStatus.FAILED, duration_ms=5.0, error_count=2
    )
    again = await cp.create_run(
        "wf", graph_name="g2", forked_from="src", fork_superstep=3
    )
    stored = cp.get_run("wf")
    assert stored == again
    assert stored is not None
    assert stored.status is WorkflowStatus.ACTIVE
    assert stored.created_at == first.created_at
    assert (stored.duration_ms, stored.error_count, stored.completed_at) == (
        None,
        0,
        None,
    )
    assert (stored.graph_name, stored.forked_from, stored.fork_superstep) == (
        "g2",
        "src",
        3,
    )
    assert stored.config is None


async def test_create_run_defaults_and_detached_config():
    """Missing graph_name is stored as '', and configs are copies JSON-shaped."""
    cp = MemoryCheckpointer()
    config = {"kind": "run", "map_over": ("x",)}
    run = await cp.create_run("wf", config=config)
    config["kind"] = "mutated"
    assert run.graph_name == ""
    assert run.config == {"kind": "run", "map_over": ["x"]}
    fetched = cp.get_run("wf")
    assert fetched is not None
    assert fetched.config == {"kind": "run", "map_over": ["x"]}
    fetched.config["kind"] = "changed"
    fetched.status = WorkflowStatus.FAILED
    again = cp.get_run("wf")
    assert again is not None
    assert again.config == {"kind": "run", "map_over": ["x"]}
    assert again.status is WorkflowStatus.ACTIVE


async def test_update_run_status_changes_only_given_stats():
    """Only the stats passed change; node_count defaults to the stored steps (D9)."""
    cp = MemoryCheckpointer()
    await three_step_run(cp)
    await cp.update_run_status("wf", WorkflowStatus.PAUSED, duration_ms=7.5)
    run = cp.get_run("wf")
    assert run is not None
    assert run.status is WorkflowStatus.PAUSED
    assert (run.duration_ms, run.node_count, run.error_count) == (7.5, 3, 0)
    assert run.completed_at is None
    await cp.update_run_status("wf", "completed", error_count=1, node_count=9)
    run = cp.get_run("wf")
    assert run is not None
    assert (run.duration_ms, run.node_count, run.error_count) == (7.5, 9, 1)
    assert run.completed_at is not None
    await cp.update_run_status("wf", WorkflowStatus.ACTIVE)
    run = cp.get_run("wf")
    assert run is not None
    assert run.completed_at is None
    assert run.node_count == 3


async def test_failed_status_sets_completed_at_and_bad_status_raises():
    """FAILED is a finished status; an unknown status string is a ValueError."""
    cp = MemoryCheckpointer()
    await cp.create_run("wf")
    await cp.update_run_status("wf", WorkflowStatus.FAILED)
    run = cp.get_run("wf")
    assert run is not None
    assert run.completed_at is not None
    with pytest.raises(ValueError, match="Unknown status 'done'"):
        await cp.update_run_status("wf", "done")
    await cp.update_run_status("missing", WorkflowStatus.COMPLETED)
    assert cp.get_run("missing") is None


# -- run listings (D51) ----------------------------------------------------------------


async def family(cp: MemoryCheckpointer) -> None:
    await cp.create_run("plain", graph_name="g")
    await cp.create_run("B", graph_name="batch")
    await cp.create_run("B/0", graph_name="g", parent_run_id="B")
    await cp.create_run("B/1", graph_name="g", parent_run_id="B")
    await cp.update_run_status("B/1", WorkflowStatus.FAILED)


async def test_runs_are_newest_first_and_parent_filter_has_three_modes():
    """parent_run_id omitted lists all, None top-level only, 'B' B's children (D51)."""
    cp = MemoryCheckpointer()
    await family(cp)
    assert [r.id for r in cp.runs()] == ["B/1", "B/0", "B", "plain"]
    assert [r.id for r in cp.runs(parent_run_id=None)] == ["B", "plain"]
    assert [r.id for r in cp.runs(parent_run_id="B")] == ["B/1", "B/0"]
    assert [r.id for r in await cp.list_runs(parent_run_id=None)] == ["B", "plain"]


async def test_runs_filter_by_status_graph_name_and_limit():
    """status accepts the enum or its string; graph_name is exact; limit cuts."""
    cp = MemoryCheckpointer()
    await family(cp)
    assert [r.id for r in cp.runs(status="failed")] == ["B/1"]
    assert [r.id for r in cp.runs(status=WorkflowStatus.ACTIVE, graph_name="g")] == [
        "B/0",
        "plain",
    ]
    assert [r.id for r in cp.runs(graph_name="batch")] == ["B"]
    assert len(cp.runs(limit=2)) == 2
    with pytest.raises(ValueError, match="Unknown status"):
        cp.runs(status="nope")


async def test_runs_limit_defaults_to_100_and_none_means_all():
    """The default limit is 100; limit=None lists everything."""
    cp = MemoryCheckpointer()
    for i in range(101):
        await cp.create_run(f"r{i}")
    assert len(cp.runs()) == 100
    assert len(cp.runs(limit=None)) == 101
    assert len(await cp.list_runs(limit=None)) == 101


async def test_since_filters_on_created_at_and_naive_means_utc(
    monkeypatch: pytest.MonkeyPatch,
):
    """since keeps runs created at or after it; a naive datetime is UTC."""
    # A fixed clock: the runs' timestamps must not depend on the wall clock's pace.
    clock = [T0]
    monkeypatch.setattr("hypergraph._checkpoint._memory.now", lambda: clock[0])
    cutoff = T0 + timedelta(minutes=1)
    cp = MemoryCheckpointer()
    later = cutoff + timedelta(minutes=1)
    for run_id, created_at in [("old", T0), ("at", cutoff), ("new", later)]:
        clock[0] = created_at
        await cp.create_run(run_id)
    assert [r.id for r in cp.runs(since=cutoff)] == ["new", "at"]
    assert [r.id for r in cp.runs(since=cutoff.replace(tzinfo=None))] == ["new", "at"]
    assert [r.id for r in await cp.list_runs(since=cutoff)] == ["new", "at"]
    assert [r.id for r in cp.runs(since=cutoff + timedelta(microseconds=1))] == ["new"]
    assert cp.runs(since=cutoff + timedelta(days=1)) == []


# -- stats, search and tables (D52, D53, D55) ------------------------------------------


async def test_stats_are_slowest_first_and_rounded():
    """Per-node stats sum, average (3 decimals) and count, slowest node first."""
    cp = MemoryCheckpointer()
    await cp.save_step(step("wf", 0, "fast", 0, {"f": 1}, duration_ms=1.0))
    await cp.save_step(step("wf", 0, "slow", 1, {"s": 1}, duration_ms=10.0))
    await cp.save_step(
        step("wf", 1, "slow", 2, None, duration_ms=0.0001, status=StepStatus.FAILED)
    )
    await cp.save_step(step("wf", 2, "slow", 3, {"s": 2}, duration_ms=2.0, cached=True))
    stats = cp.stats("wf")
    assert list(stats) == ["slow", "fast"]
    assert stats["slow"] == {
        "node_type": "FunctionNode",
        "steps": 3,
        "total_ms": 12.0,
        "avg_ms": 4.0,
        "max_ms": 10.0,
        "errors": 1,
        "cache_hits": 1,
    }
    await cp.save_step(step("x", 0, "n", 0, duration_ms=1.0))
    await cp.save_step(step("x", 1, "n", 1, duration_ms=1.0))
    await cp.save_step(step("x", 2, "n", 2, duration_ms=0.0))
    assert (await cp.get_stats("x"))["n"]["avg_ms"] == 0.667
    assert cp.stats("unknown") == {}


async def test_search_is_always_empty_but_checks_field():
    """MemoryCheckpointer has no search; an invalid field is still rejected (D53)."""
    cp = MemoryCheckpointer()
    await three_step_run(cp)
    assert cp.search("a") == StepTable()
    assert await cp.search_async("a", field="error") == []
    with pytest.raises(ValueError, match="Invalid search field"):
        cp.search("a", field="values")


async def test_table_reprs():
    """RunTable and StepTable print a header and one line per element (D55)."""
    cp = MemoryCheckpointer()
    assert repr(cp.runs()) == "RunTable: (empty)"
    assert repr(cp.steps("wf")) == "StepTable: (empty)"
    await three_step_run(cp)
    await cp.update_run_status("wf", WorkflowStatus.COMPLETED, duration_ms=12.0)
    runs = cp.runs()
    assert isinstance(runs, RunTable)
    assert repr(runs) == "RunTable: 1 run\n  wf | g | completed | 3 steps | 12ms"
    lines = repr(cp.steps("wf")).splitlines()
    assert lines[0] == "StepTable: 3 steps"
    assert lines[1] == "  [0] a | superstep 0 | completed | 1ms"
    assert repr(cp) == "MemoryCheckpointer: 1 runs | 3 steps"


# -- checkpoints, fork and retry (D7, D29) ---------------------------------------------


async def test_checkpoint_snapshot_and_repr():
    """A checkpoint holds the folded values and steps up to the superstep (D7)."""
    cp = MemoryCheckpointer()
    await three_step_run(cp)
    checkpoint = cp.checkpoint("wf", superstep=1)
    assert checkpoint.values == {"a": 10, "b": 2}
    assert [s.index for s in checkpoint.steps] == [0, 1]
    assert repr(checkpoint) == "Checkpoint from wf@1: 2 values, 2 steps"
    assert await cp.get_checkpoint("wf", superstep=1) == checkpoint


async def test_fork_workflow_generates_an_id_and_a_checkpoint():
    """fork_workflow returns '<src>-fork-<6 hex>' and the source's checkpoint."""
    cp = MemoryCheckpointer()
    await three_step_run(cp, "src")
    new_id, checkpoint = cp.fork_workflow("src")
    assert re.fullmatch(r"src-fork-[0-9a-f]{6}", new_id)
    assert isinstance(checkpoint, Checkpoint)
    assert checkpoint.values == {"a": 10, "b": 2, "c": 3}
    assert (checkpoint.retry_of, checkpoint.retry_index) == (None, None)
    named, at_zero = await cp.fork_workflow_async(
        "src", workflow_id="mine", superstep=0
    )
    assert named == "mine"
    assert at_zero.values == {"a": 1}
    assert at_zero.source_superstep == 0


async def test_retry_workflow_numbers_retries_of_the_source():
    """retry_workflow returns '<src>-retry-<n>' with n counting earlier retries."""
    cp = MemoryCheckpointer()
    await three_step_run(cp, "src")
    new_id, checkpoint = cp.retry_workflow("src")
    assert new_id == "src-retry-1"
    assert (checkpoint.retry_of, checkpoint.retry_index) == ("src", 1)
    await cp.create_run(new_id, forked_from="src", retry_of="src", retry_index=1)
    second_id, second = await cp.retry_workflow_async("src")
    assert second_id == "src-retry-2"
    assert second.retry_index == 2
    named, _ = cp.retry_workflow("src", workflow_id="again")
    assert named == "again"


async def test_fork_and_retry_of_unknown_source_raise():
    """An unknown source id raises ValueError in both flavours."""
    cp = MemoryCheckpointer()
    for call in (cp.fork_workflow, cp.retry_workflow):
        with pytest.raises(ValueError, match="Unknown source workflow_id: 'nope'"):
            call("nope")
    with pytest.raises(ValueError, match="Unknown source workflow_id"):
        await cp.fork_workflow_async("nope")
    with pytest.raises(ValueError, match="Unknown source workflow_id"):
        await cp.retry_workflow_async("nope")


# -- deletion and reset ----------------------------------------------------------------


async def test_delete_run_removes_descendants_unless_not_recursive():
    """delete_run drops a run, its steps and '<id>/...' runs unless recursive=False."""
    cp = MemoryCheckpointer()
    await three_step_run(cp, "B")
    await three_step_run(cp, "B/0")
    await three_step_run(cp, "B/0/inner")
    await three_step_run(cp, "B-other")
    await cp.delete_run("B", recursive=False)
    assert [r.id for r in cp.runs()] == ["B-other", "B/0/inner", "B/0"]
    assert cp.steps("B") == []
    await cp.delete_run("B/0")
    assert [r.id for r in cp.runs()] == ["B-other"]
    assert repr(cp) == "MemoryCheckpointer: 1 runs | 3 steps"


async def test_reset_run_keeps_the_row_but_drops_steps_and_children():
    """_reset_run clears a run's steps and descendants and keeps its record."""
    cp = MemoryCheckpointer()
    await three_step_run(cp, "B/1")
    await three_step_run(cp, "B/1/nested")
    await three_step_run(cp, "B/10")
    await cp._reset_run("B/1")
    assert [r.id for r in cp.runs()] == ["B/10", "B/1"]
    assert cp.steps("B/1") == []
    assert len(cp.steps("B/10")) == 3


# -- concurrency -----------------------------------------------------------------------


async def test_sync_readers_work_from_another_thread():
    """The sync column can be used from a worker thread while the loop writes."""
    cp = MemoryCheckpointer()
    await three_step_run(cp)

    def read() -> tuple[dict, int, str]:
        return cp.values("wf"), len(cp.runs()), threading.current_thread().name

    values, count, thread_name = await anyio.to_thread.run_sync(read)
    assert values == {"a": 10, "b": 2, "c": 3}
    assert count == 1
    assert thread_name != threading.current_thread().name


async def test_concurrent_writes_and_reads_stay_consistent():
    """Many steps written while another thread reads leave a consistent store."""
    cp = MemoryCheckpointer()
    await cp.create_run("wf")
    started = threading.Event()
    done = threading.Event()
    seen: list[int] = []
    unordered: list[list[int]] = []

    def reader() -> None:
        # Reads until one full read has begun after the writer finished.
        while True:
            finished = done.is_set()
            indexes = [s.index for s in cp.steps("wf")]
            if indexes != sorted(indexes):
                unordered.append(indexes)
            seen.append(len(indexes))
            started.set()
            if finished:
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        # The reader's first read happens before the first write.
        assert await anyio.to_thread.run_sync(started.wait, 10)
        for i in range(500):
            await cp.save_step(step("wf", i, "n", i, {"i": i}))
    finally:
        done.set()
        thread.join()
    assert len(cp.steps("wf")) == 500
    assert cp.values("wf") == {"i": 499}
    assert unordered == []
    assert seen == sorted(seen)
    assert (seen[0], seen[-1]) == (0, 500)


async def test_close_is_a_no_op():
    """close() releases nothing and the store stays readable."""
    cp = MemoryCheckpointer()
    await three_step_run(cp)
    await cp.close()
    assert len(cp.steps("wf")) == 3
