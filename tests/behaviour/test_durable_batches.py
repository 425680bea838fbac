"""Persisted batches: ``map()``/``map_iter()`` with ``workflow_id`` (04 D30-D38, B17).

Every test builds its own runner around a checkpointer (SQLite in ``tmp_path`` or
in memory); the SyncRunner is driven from a worker thread. Item executions are
counted by recording the mapped input each time the graph's first node runs.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import pytest
from durable_harness import (
    ASYNC_MEMORY,
    SYNC_SQLITE,
    Boom,
    make_checkpointer,
    settle,
    snapshot,
)

from hypergraph import (
    AsyncRunner,
    Graph,
    GraphChangedError,
    RunStatus,
    interrupt,
    node,
)
from hypergraph.checkpointers import (
    StepRecord,
    StepStatus,
    WorkflowStatus,
)

# -- harness -------------------------------------------------------------------


class Items:
    """Records each executed item's ``x`` and makes listed values raise."""

    def __init__(self, *failing: int) -> None:
        self.failing = set(failing)
        self.seen: list[int] = []

    def hit(self, x: int) -> None:
        self.seen.append(x)
        if x in self.failing:
            raise Boom(f"item x={x} failed")

    def reset(self) -> None:
        self.seen.clear()


def item_graph(items: Items, *, name: str = "item") -> Graph:
    """double(x) -> y, label(y, k=1) -> out; x=10 gives y=20, out "20+1"."""

    @node(output_name="y")
    def double(x: int) -> int:
        items.hit(x)
        return x * 2

    @node(output_name="out")
    def label(y: int, k: int = 1) -> str:
        return f"{y}+{k}"

    return Graph([double, label], name=name)


def changed_item_graph(items: Items) -> Graph:
    """:func:`item_graph` with one more node (another structure)."""

    @node(output_name="extra")
    def more(out: str) -> str:
        return out

    return item_graph(items).add_nodes(more)


def review_graph(items: Items) -> Graph:
    """double(x) -> y; interrupt review(y) -> verdict for x == 2; done -> final."""

    @node(output_name="y")
    def double(x: int) -> int:
        items.hit(x)
        return x * 2

    @interrupt(output_name="verdict")
    def review(y: int) -> str | None:
        return None if y == 4 else "auto"

    @node(output_name="final")
    def done(y: int, verdict: str) -> str:
        return f"{y}:{verdict}"

    return Graph([double, review, done], name="review")


def signature(inputs: dict[str, Any], map_over: list[str], mode: str = "zip") -> str:
    """D31 computed from the spec text, independently of the implementation."""
    text = json.dumps(
        {"inputs": inputs, "map_mode": mode, "map_over": map_over},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


def ids(cp: Any, parent: str = "B") -> list[str]:
    """Child run ids of a batch, sorted."""
    return sorted(r.id for r in cp.runs(parent_run_id=parent, limit=None))


# -- D30: parent and children ----------------------------------------------------


async def test_batch_persists_parent_and_one_child_per_item(durable_all):
    """map(workflow_id="B") stores B and B/0..B/n-1 with parent_run_id "B" (D30)."""
    items = Items()
    result = await durable_all.map(
        item_graph(items), map_over="x", x=[1, 2, 3], workflow_id="B"
    )
    assert result.completed
    cp = durable_all.cp
    parent = cp.get_run("B")
    assert parent.parent_run_id is None
    assert ids(cp) == ["B/0", "B/1", "B/2"]
    for index, x in enumerate([1, 2, 3]):
        child = cp.get_run(f"B/{index}")
        assert child.parent_run_id == "B"
        assert child.status is WorkflowStatus.COMPLETED
        assert child.graph_name == "item"
        assert cp.inputs(f"B/{index}") == {"x": x}
        assert cp.values(f"B/{index}") == {"y": 2 * x, "out": f"{2 * x}+1"}


async def test_batch_parent_has_no_steps_and_children_have_steps(durable):
    """The parent run has no steps; each child has its own node steps (D30)."""
    await durable.map(item_graph(Items()), map_over="x", x=[1, 2], workflow_id="B")
    assert list(durable.cp.steps("B")) == []
    child_steps = durable.cp.steps("B/1")
    assert [s.node_name for s in child_steps] == ["double", "label"]
    assert {s.run_id for s in child_steps} == {"B/1"}
    assert all(s.status is StepStatus.COMPLETED for s in child_steps)


@ASYNC_MEMORY
async def test_batch_parent_config_describes_the_map(durable):
    """The parent's config has kind "map", map_over, map_mode, item_count (D2)."""
    await durable.map(
        item_graph(Items()), map_over=["x"], x=[1, 2, 3], k=5, workflow_id="B"
    )
    config = durable.cp.get_run("B").config
    assert config["kind"] == "map"
    assert config["map_over"] == ["x"]
    assert config["map_mode"] == "zip"
    assert config["item_count"] == 3
    assert {"graph_struct_hash", "graph_code_hash"} <= set(config)


@ASYNC_MEMORY
async def test_child_config_stores_the_item_signature(durable):
    """Each child's config holds the D31 signature of its inputs (D2, D31)."""
    await durable.map(item_graph(Items()), map_over="x", x=[1, 2], k=5, workflow_id="B")
    for index, x in enumerate([1, 2]):
        config = durable.cp.get_run(f"B/{index}").config
        assert config["map_item_signature"] == signature({"x": x, "k": 5}, ["x"])
        assert (
            config["graph_struct_hash"]
            == durable.cp.get_run("B").config["graph_struct_hash"]
        )


async def test_child_inputs_include_broadcast_values(durable):
    """A child's persisted inputs hold its mapped and broadcast values (D6, D30)."""
    await durable.map(item_graph(Items()), map_over="x", x=[1, 2], k=7, workflow_id="B")
    assert durable.cp.inputs("B/1") == {"x": 2, "k": 7}
    assert durable.cp.values("B/1")["out"] == "4+7"


@ASYNC_MEMORY
async def test_product_mode_children_and_signature(durable):
    """Product batches persist one child per combination with map_mode "product"."""

    @node(output_name="s")
    def add(a: int, b: int) -> int:
        return a + b

    await durable.map(
        Graph([add], name="add"),
        map_over=["a", "b"],
        map_mode="product",
        a=[1, 2],
        b=[10, 20],
        workflow_id="P",
    )
    assert ids(durable.cp, "P") == ["P/0", "P/1", "P/2", "P/3"]
    assert durable.cp.get_run("P").config["map_mode"] == "product"
    assert durable.cp.inputs("P/1") == {"a": 1, "b": 20}
    assert durable.cp.get_run("P/1").config["map_item_signature"] == signature(
        {"a": 1, "b": 20}, ["a", "b"], "product"
    )


@dataclass(frozen=True)
class Point:
    """A non-JSON item value (normalised through its repr)."""

    x: int


@ASYNC_MEMORY
async def test_signature_normalises_containers_and_other_objects(durable):
    """Signatures normalise dict keys, tuples, sets and other objects per D31."""

    @node(output_name="n")
    def size(item: Any, cfg: Any, tags: Any, where: Any) -> int:
        return 1

    await durable.map(
        Graph([size], name="norm"),
        map_over="item",
        item=[(1, 2)],
        cfg={2: "b", 1: "a"},
        tags={"b", "a"},
        where=Point(3),
        workflow_id="N",
    )
    expected = signature(
        {
            "item": [1, 2],
            "cfg": {"1": "a", "2": "b"},
            "tags": ["a", "b"],
            "where": {"__type__": "Point", "__repr__": "Point(x=3)"},
        },
        ["item"],
    )
    assert durable.cp.get_run("N/0").config["map_item_signature"] == expected


@ASYNC_MEMORY
async def test_runs_lists_batch_children_by_parent(durable):
    """runs(parent_run_id="B") lists exactly the batch's item runs (D51, D30)."""
    await durable.map(item_graph(Items()), map_over="x", x=[1, 2], workflow_id="B")
    await durable.run(item_graph(Items()), x=9, workflow_id="solo")
    top = sorted(r.id for r in durable.cp.runs(parent_run_id=None))
    assert top == ["B", "solo"]
    assert ids(durable.cp) == ["B/0", "B/1"]


# -- D31/D35: re-running a batch ---------------------------------------------------


async def test_same_inputs_twice_execute_nothing_the_second_time(durable_all):
    """Re-running a completed batch restores every item: 0 executions (D35.5)."""
    items = Items()
    graph = item_graph(items)
    first = await durable_all.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    items.reset()
    second = await durable_all.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    assert items.seen == []
    assert [r.values for r in second] == [r.values for r in first]
    assert [r.status for r in second] == [RunStatus.COMPLETED] * 3
    assert durable_all.cp.get_run("B").status is WorkflowStatus.COMPLETED


async def test_reordered_inputs_are_restored_in_the_new_order(durable):
    """[10,20,30] then [30,10,20] executes nothing; values follow the new order."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[10, 20, 30], workflow_id="B")
    items.reset()
    result = await durable.map(graph, map_over="x", x=[30, 10, 20], workflow_id="B")
    assert items.seen == []
    assert result["y"] == [60, 20, 40]
    assert [r.workflow_id for r in result] == ["B/2", "B/0", "B/1"]


async def test_fixed_failing_item_is_the_only_one_rerun(durable):
    """A failed item re-runs after a fix; completed items are restored (D35.5)."""
    items = Items(2)
    graph = item_graph(items)
    first = await durable.map(
        graph, map_over="x", x=[1, 2, 3], workflow_id="B", error_handling="continue"
    )
    assert [r.status for r in first] == [
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.COMPLETED,
    ]
    items.failing.clear()
    items.reset()
    second = await durable.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    assert items.seen == [2]
    assert second.completed
    assert second["y"] == [2, 4, 6]
    assert durable.cp.get_run("B/1").status is WorkflowStatus.COMPLETED
    assert durable.cp.get_run("B").status is WorkflowStatus.COMPLETED
    steps = durable.cp.steps("B/1")
    assert [(st.node_name, st.status) for st in steps] == [
        ("double", StepStatus.COMPLETED),
        ("label", StepStatus.COMPLETED),
    ]


async def test_changed_input_reruns_only_that_item_and_replaces_its_child(durable):
    """Changing item 1's input re-executes only it, replacing B/1 (D35.4, D35.5)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    items.reset()
    result = await durable.map(graph, map_over="x", x=[1, 5, 3], workflow_id="B")
    assert items.seen == [5]
    assert result["y"] == [2, 10, 6]
    assert [r.workflow_id for r in result] == ["B/0", "B/1", "B/2"]
    assert durable.cp.inputs("B/1") == {"x": 5}
    assert durable.cp.values("B/1") == {"y": 10, "out": "10+1"}
    assert [s.node_name for s in durable.cp.steps("B/1")] == ["double", "label"]
    assert durable.cp.get_run("B/1").config["map_item_signature"] == signature(
        {"x": 5}, ["x"]
    )
    assert ids(durable.cp) == ["B/0", "B/1", "B/2"]


@ASYNC_MEMORY
async def test_changed_broadcast_value_reruns_every_item(durable):
    """A broadcast value is part of every signature: changing it re-runs all (D31)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2], k=1, workflow_id="B")
    items.reset()
    result = await durable.map(graph, map_over="x", x=[1, 2], k=2, workflow_id="B")
    assert sorted(items.seen) == [1, 2]
    assert result["out"] == ["2+2", "4+2"]


async def test_added_items_are_the_only_ones_executed(durable):
    """Adding items executes only the new ones, as new children (D35.5)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    items.reset()
    result = await durable.map(graph, map_over="x", x=[1, 2, 3, 4], workflow_id="B")
    assert sorted(items.seen) == [3, 4]
    assert result["y"] == [2, 4, 6, 8]
    assert ids(durable.cp) == ["B/0", "B/1", "B/2", "B/3"]
    assert durable.cp.get_run("B").config["item_count"] == 4


async def test_removed_items_children_stay_untouched(durable):
    """Items dropped from the input keep their stored children unchanged (D35.5)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    kept = (durable.cp.get_run("B/2").to_dict(), list(durable.cp.steps("B/2")))
    items.reset()
    result = await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    assert items.seen == []
    assert len(result) == 2
    assert (durable.cp.get_run("B/2").to_dict(), list(durable.cp.steps("B/2"))) == kept


@SYNC_SQLITE
async def test_duplicate_items_each_claim_their_own_child(durable):
    """Equal items restore from distinct children, each claimed once (D35.2)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[5, 5], workflow_id="B")
    items.reset()
    result = await durable.map(graph, map_over="x", x=[5, 5, 5], workflow_id="B")
    assert items.seen == [5]
    assert [r.workflow_id for r in result] == ["B/0", "B/1", "B/2"]


async def test_executed_item_uses_next_free_index_when_its_id_was_claimed(durable):
    """An item whose "B/<i>" a restore claimed runs under B/<k>, k >= N (D35.4)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    before = list(durable.cp.steps("B/0"))
    items.reset()
    result = await durable.map(graph, map_over="x", x=[2, 3], workflow_id="B")
    assert items.seen == [3]
    assert [r.workflow_id for r in result] == ["B/1", "B/2"]
    assert durable.cp.inputs("B/2") == {"x": 3}
    assert list(durable.cp.steps("B/0")) == before


@ASYNC_MEMORY
async def test_restore_prefers_the_child_at_the_same_index(durable):
    """Among equal-signature children the one at "B/<i>" is preferred (D35.2)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[7, 7, 7], workflow_id="B")
    result = await durable.map(graph, map_over="x", x=[1, 7], workflow_id="B")
    assert [r.workflow_id for r in result][1] == "B/1"


async def test_paused_item_resumed_by_child_id_is_restored_later(durable):
    """A paused item resumed via run(workflow_id="B/1") is restored by map (03-B36)."""
    items = Items()
    graph = review_graph(items)
    first = await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    assert [r.status for r in first] == [RunStatus.COMPLETED, RunStatus.PAUSED]
    assert durable.cp.get_run("B").status is WorkflowStatus.PAUSED
    pause = first[1].pause
    resumed = await durable.run(graph, {pause.response_key: "yes"}, workflow_id="B/1")
    assert resumed["final"] == "4:yes"
    items.reset()
    again = await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    assert items.seen == []
    assert again["final"] == ["2:auto", "4:yes"]
    assert durable.cp.get_run("B").status is WorkflowStatus.COMPLETED


async def test_item_resumed_by_child_id_still_restores_after_a_reorder(durable):
    """A child finished via run(workflow_id="B/1") keeps its signature (D2, D35.2)."""
    items = Items()
    graph = review_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    signature_before = durable.cp.get_run("B/1").config["map_item_signature"]
    await durable.run(graph, {"verdict": "yes"}, workflow_id="B/1")
    config = durable.cp.get_run("B/1").config
    assert config.get("map_item_signature") == signature_before
    items.reset()
    again = await durable.map(graph, map_over="x", x=[2, 1], workflow_id="B")
    assert items.seen == []
    assert again["final"] == ["4:yes", "2:auto"]


@SYNC_SQLITE
async def test_paused_item_is_re_executed_by_the_next_map(durable):
    """A still-paused item is unfinished: the next map executes it again (D35.4)."""
    items = Items()
    graph = review_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    items.reset()
    again = await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    assert items.seen == [2]
    assert again[1].paused


async def test_legacy_child_without_signature_matches_by_index(durable):
    """Children without a stored signature are matched only by index (D35.2)."""
    cp = durable.cp
    await cp.create_run("B", graph_name="item", config={"kind": "map"})
    await cp.update_run_status("B", WorkflowStatus.COMPLETED)
    await cp.create_run("B/0", parent_run_id="B", config={"kind": "run"})
    await cp.save_step(
        StepRecord(
            run_id="B/0",
            superstep=0,
            node_name="double",
            index=0,
            status=StepStatus.COMPLETED,
            values={"y": 1000, "out": "legacy"},
        )
    )
    await cp.update_run_status("B/0", WorkflowStatus.COMPLETED)
    items = Items()
    result = await durable.map(
        item_graph(items), map_over="x", x=[4, 5], workflow_id="B"
    )
    assert items.seen == [5]
    assert result[0].values == {"y": 1000, "out": "legacy"}
    assert result[0].workflow_id == "B/0"


# -- D32: parent status ------------------------------------------------------------


async def test_parent_is_failed_when_an_item_failed_under_continue(durable):
    """A batch with failed items ends FAILED even in continue mode (D32)."""
    await durable.map(
        item_graph(Items(2, 3)),
        map_over="x",
        x=[1, 2, 3],
        workflow_id="B",
        error_handling="continue",
    )
    parent = durable.cp.get_run("B")
    assert parent.status is WorkflowStatus.FAILED
    assert parent.error_count == 2
    assert parent.node_count == 3
    assert parent.completed_at is not None


async def test_parent_is_paused_when_an_item_paused(durable):
    """A batch with a paused item and no failure ends PAUSED (D32)."""
    await durable.map(review_graph(Items()), map_over="x", x=[1, 2], workflow_id="B")
    parent = durable.cp.get_run("B")
    assert parent.status is WorkflowStatus.PAUSED
    assert parent.completed_at is None
    assert durable.cp.get_run("B/1").status is WorkflowStatus.PAUSED


@ASYNC_MEMORY
async def test_failure_wins_over_pause_for_the_parent(durable):
    """A batch with both failed and paused items ends FAILED (D32)."""
    await durable.map(
        review_graph(Items(3)),
        map_over="x",
        x=[2, 3],
        workflow_id="B",
        error_handling="continue",
    )
    assert durable.cp.get_run("B").status is WorkflowStatus.FAILED


@ASYNC_MEMORY
async def test_completed_parent_counts_items_and_wall_time(durable):
    """A completed batch has node_count N, error_count 0 and a duration (D32)."""
    await durable.map(item_graph(Items()), map_over="x", x=[1, 2, 3], workflow_id="B")
    parent = durable.cp.get_run("B")
    assert parent.status is WorkflowStatus.COMPLETED
    assert (parent.node_count, parent.error_count) == (3, 0)
    assert isinstance(parent.duration_ms, float)
    assert parent.graph_name == "item"


@ASYNC_MEMORY
async def test_rerun_keeps_parent_created_at(durable):
    """Re-running a batch upserts its parent and keeps created_at (D8, D35)."""
    graph = item_graph(Items())
    await durable.map(graph, map_over="x", x=[1], workflow_id="B")
    created = durable.cp.get_run("B").created_at
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    assert durable.cp.get_run("B").created_at == created


async def test_fully_restored_batch_counts_all_items(durable):
    """A batch restored entirely still reports node_count N and COMPLETED (D32)."""
    graph = item_graph(Items(2))
    await durable.map(
        graph, map_over="x", x=[1, 2], workflow_id="B", error_handling="continue"
    )
    assert durable.cp.get_run("B").error_count == 1
    graph = item_graph(Items())
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    parent = durable.cp.get_run("B")
    assert (parent.status, parent.node_count, parent.error_count) == (
        WorkflowStatus.COMPLETED,
        2,
        0,
    )


# -- D34/03-B17: when nothing is persisted -----------------------------------------


@SYNC_SQLITE
async def test_map_without_workflow_id_persists_nothing(durable):
    """map() with a checkpointer but no workflow_id stores nothing (D34, B17)."""
    result = await durable.map(item_graph(Items()), map_over="x", x=[1, 2])
    assert result.completed
    assert list(durable.cp.runs(limit=None)) == []
    assert [r.workflow_id for r in result] == [None, None]


@SYNC_SQLITE
async def test_empty_batch_persists_nothing(durable):
    """An empty batch with workflow_id persists nothing (D34, B53)."""
    result = await durable.map(item_graph(Items()), map_over="x", x=[], workflow_id="B")
    assert len(result) == 0
    assert list(durable.cp.runs(limit=None)) == []


async def test_workflow_id_without_checkpointer_only_labels_items(runner):
    """Without a checkpointer item i reports workflow_id "B/<i>" (B17)."""
    result = await runner.map(
        item_graph(Items()), map_over="x", x=[1, 2], workflow_id="B"
    )
    assert [r.workflow_id for r in result] == ["B/0", "B/1"]


@SYNC_SQLITE
async def test_batch_workflow_id_with_slash_is_rejected(durable):
    """A map workflow_id containing '/' raises ValueError (B17)."""
    items = Items()
    with pytest.raises(ValueError, match="workflow_id cannot contain '/'"):
        await durable.map(item_graph(items), map_over="x", x=[1], workflow_id="a/b")
    assert items.seen == []
    assert list(durable.cp.runs(limit=None)) == []


# -- D35.1: refusing a stored id ---------------------------------------------------


@SYNC_SQLITE
async def test_plain_run_id_is_not_a_batch(durable):
    """map() with the id of a plain run raises ValueError "not a batch" (D35.1)."""
    items = Items()
    await durable.run(item_graph(items), x=1, workflow_id="B")
    before = snapshot(durable.cp)
    items.reset()
    with pytest.raises(ValueError, match="workflow 'B' is not a batch"):
        await durable.map(item_graph(items), map_over="x", x=[1, 2], workflow_id="B")
    assert items.seen == []
    assert snapshot(durable.cp) == before


async def test_changed_graph_raises_graph_changed_for_batches(durable):
    """Re-running a batch with another graph structure raises GraphChangedError."""
    items = Items()
    await durable.map(item_graph(items), map_over="x", x=[1, 2], workflow_id="B")
    before = snapshot(durable.cp)
    items.reset()
    with pytest.raises(GraphChangedError) as info:
        await durable.map(
            changed_item_graph(items), map_over="x", x=[1, 2], workflow_id="B"
        )
    assert info.value.workflow_id == "B"
    assert items.seen == []
    assert snapshot(durable.cp) == before


@SYNC_SQLITE
async def test_map_iter_checks_the_stored_batch_before_yielding(durable):
    """map_iter() with a plain run's id raises before any item runs (B92, D35.1)."""
    items = Items()
    await durable.run(item_graph(items), x=1, workflow_id="B")
    items.reset()
    with pytest.raises(ValueError, match="not a batch"):
        await durable.map_iter(item_graph(items), map_over="x", x=[1], workflow_id="B")
    assert items.seen == []


# -- D35.3/D36: restored results -----------------------------------------------------


async def test_restored_result_fields(durable):
    """A restored item is COMPLETED with run_id == workflow_id == child id, no log."""
    graph = item_graph(Items())
    await durable.map(graph, map_over="x", x=[1, 2], workflow_id="B")
    result = await durable.map(graph, map_over="x", x=[2, 1], workflow_id="B")
    first = result[0]
    assert first.status is RunStatus.COMPLETED
    assert first.run_id == first.workflow_id == "B/1"
    assert first.log is None
    assert first.error is None
    assert first.pause is None
    assert first.values == {"y": 4, "out": "4+1"}


async def test_restored_values_come_back_json_shaped(durable):
    """Restored values pass through the serializer: tuples come back as lists."""

    @node(output_name="pair")
    def pair(x: int) -> tuple[int, int]:
        return (x, x + 1)

    graph = Graph([pair], name="pair")
    first = await durable.map(graph, map_over="x", x=[1], workflow_id="B")
    assert first[0]["pair"] == (1, 2)
    again = await durable.map(graph, map_over="x", x=[1], workflow_id="B")
    assert again[0]["pair"] == [1, 2]


@SYNC_SQLITE
async def test_restored_values_follow_the_selection(durable):
    """Restored values are filtered to the graph's selected outputs (D35.3)."""
    graph = item_graph(Items()).select("out")
    await durable.map(graph, map_over="x", x=[1], workflow_id="B")
    again = await durable.map(graph, map_over="x", x=[1], workflow_id="B")
    assert again[0].values == {"out": "2+1"}


@SYNC_SQLITE
async def test_executed_items_report_their_child_ids(durable):
    """Executed items report workflow_id "B/<i>" and the parent "B" (D36)."""
    result = await durable.map(
        item_graph(Items()), map_over="x", x=[1, 2, 3], workflow_id="B"
    )
    assert [r.workflow_id for r in result] == ["B/0", "B/1", "B/2"]
    assert result.workflow_id == "B"
    assert all(r.log is not None for r in result)


# -- D37/D38: fail-fast and cancellation ---------------------------------------------


async def test_fail_fast_persists_completed_and_failed_children(durable):
    """Fail-fast stores done items COMPLETED, the failing one FAILED, others nothing."""
    items = Items(2)
    with pytest.raises(Boom):
        await durable.map(
            item_graph(items),
            map_over="x",
            x=[1, 2, 3],
            workflow_id="B",
            max_concurrency=1,
        )
    cp = durable.cp
    assert cp.get_run("B").status is WorkflowStatus.FAILED
    assert cp.get_run("B/0").status is WorkflowStatus.COMPLETED
    assert cp.get_run("B/1").status is WorkflowStatus.FAILED
    assert cp.get_run("B/2") is None
    assert items.seen == [1, 2]


async def test_rerun_after_fail_fast_executes_only_unfinished_items(durable):
    """After a fail-fast batch, re-running executes only non-COMPLETED items (D37)."""
    items = Items(2)
    graph = item_graph(items)
    with pytest.raises(Boom):
        await durable.map(
            graph, map_over="x", x=[1, 2, 3], workflow_id="B", max_concurrency=1
        )
    items.failing.clear()
    items.reset()
    result = await durable.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    assert sorted(items.seen) == [2, 3]
    assert result["y"] == [2, 4, 6]
    assert durable.cp.get_run("B").status is WorkflowStatus.COMPLETED


def blocking_items(entered: anyio.Event, state: dict[str, Any]) -> Graph:
    """x == 2 parks while ``state["block"]``; x == 1 fails if ``state["fail"]``."""

    @node(output_name="y")
    async def work(x: int) -> int:
        state["seen"].append(x)
        if x == 2 and state["block"]:
            entered.set()
            await anyio.Event().wait()
        if x == 1 and state["fail"]:
            await entered.wait()
            raise Boom("item 1")
        return x * 2

    return Graph([work], name="blocking")


async def test_fail_fast_marks_cancelled_in_flight_children(store, tmp_path):
    """Under fail-fast an in-flight sibling becomes a cancelled FAILED child (D37)."""
    cp = make_checkpointer(store, tmp_path)
    entered = anyio.Event()
    state: dict[str, Any] = {"block": True, "fail": True, "seen": []}
    before = set(threading.enumerate())
    with anyio.fail_after(5), pytest.raises(Boom):
        await AsyncRunner(checkpointer=cp).map(
            blocking_items(entered, state), map_over="x", x=[1, 2], workflow_id="B"
        )
    await settle(before)
    assert cp.get_run("B").status is WorkflowStatus.FAILED
    assert cp.get_run("B/0").status is WorkflowStatus.FAILED
    cancelled = cp.get_run("B/1")
    assert cancelled.status is WorkflowStatus.FAILED
    step = cp.steps("B/1")[-1]
    assert (step.status, step.error) == (StepStatus.FAILED, "cancelled")


async def test_cancelled_batch_is_finalized_and_resumable(store, tmp_path):
    """Cancelling a batch finalizes parent and children; re-running resumes (D38)."""
    cp = make_checkpointer(store, tmp_path)
    entered = anyio.Event()
    state: dict[str, Any] = {"block": True, "fail": False, "seen": []}
    graph = blocking_items(entered, state)
    runner = AsyncRunner(checkpointer=cp)
    before = set(threading.enumerate())

    async def go() -> None:
        await runner.map(
            graph, map_over="x", x=[3, 2], workflow_id="B", max_concurrency=1
        )

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(go)
            await entered.wait()
            tg.cancel_scope.cancel()
    await settle(before)
    assert cp.get_run("B").status is WorkflowStatus.FAILED
    assert cp.get_run("B/0").status is WorkflowStatus.COMPLETED
    assert cp.get_run("B/1").status is WorkflowStatus.FAILED
    assert cp.steps("B/1")[-1].error == "cancelled"
    state["block"] = False
    state["seen"].clear()
    result = await runner.map(graph, map_over="x", x=[3, 2], workflow_id="B")
    assert state["seen"] == [2]
    assert result["y"] == [6, 4]
    assert cp.get_run("B").status is WorkflowStatus.COMPLETED


async def test_child_left_active_by_a_dead_process_is_re_executed(durable):
    """A child still ACTIVE after a crash counts as unfinished (D35.4, D38)."""
    items = Items()
    graph = item_graph(items)
    await durable.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    await durable.cp.update_run_status("B/1", WorkflowStatus.ACTIVE)
    await durable.cp.update_run_status("B", WorkflowStatus.ACTIVE)
    items.reset()
    result = await durable.map(graph, map_over="x", x=[1, 2, 3], workflow_id="B")
    assert items.seen == [2]
    assert result["y"] == [2, 4, 6]
    assert durable.cp.get_run("B/1").status is WorkflowStatus.COMPLETED


# -- map_iter and large batches ----------------------------------------------------


async def test_map_iter_yields_restored_items_first_in_index_order(durable):
    """map_iter with workflow_id yields restored items first, by index (B91, D35)."""
    items = Items(1, 3)
    graph = item_graph(items)
    await durable.map(
        graph, map_over="x", x=[0, 1, 2, 3], workflow_id="B", error_handling="continue"
    )
    items.failing.clear()
    items.reset()
    pairs = await durable.map_iter(graph, map_over="x", x=[0, 1, 2, 3], workflow_id="B")
    assert [i for i, _ in pairs[:2]] == [0, 2]
    assert [r.log for _, r in pairs[:2]] == [None, None]
    assert sorted(i for i, _ in pairs[2:]) == [1, 3]
    assert sorted(items.seen) == [1, 3]
    assert {i: r["y"] for i, r in pairs} == {0: 0, 1: 2, 2: 4, 3: 6}


@SYNC_SQLITE
async def test_map_iter_persists_like_map(durable):
    """map_iter with workflow_id persists the parent and its children (D30)."""
    pairs = await durable.map_iter(
        item_graph(Items()), map_over="x", x=[1, 2], workflow_id="B"
    )
    assert len(pairs) == 2
    assert ids(durable.cp) == ["B/0", "B/1"]
    assert durable.cp.get_run("B").status is WorkflowStatus.COMPLETED


async def test_large_batch_rerun_executes_nothing(durable):
    """A 300-item batch is fully restored on re-run: no 100-child page limit (D-9)."""
    items = Items()
    graph = item_graph(items)
    xs = list(range(300))
    await durable.map(graph, map_over="x", x=xs, workflow_id="B", max_concurrency=50)
    items.reset()
    result = await durable.map(
        graph, map_over="x", x=xs, workflow_id="B", max_concurrency=50
    )
    assert items.seen == []
    assert result["y"] == [2 * x for x in xs]
    assert len(durable.cp.runs(parent_run_id="B", limit=None)) == 300
