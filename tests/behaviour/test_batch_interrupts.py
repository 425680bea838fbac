"""Interrupts in batches: map() pauses items, map_over rejects them (B35, D-2)."""

from __future__ import annotations

import json

import pytest

from hypergraph import Graph, GraphConfigError, RunStatus, interrupt, node


@node(output_name="doubled")
def double(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative item {x}")
    return x * 2


@interrupt(output_name="verdict")
def review_odd(doubled: int) -> str | None:
    """Pause for odd inputs (doubled % 4 == 2), approve the rest automatically."""
    return None if doubled % 4 == 2 else "auto"


@node(output_name="summary")
def summarize(doubled: int, verdict: str) -> str:
    return f"{doubled}:{verdict}"


REVIEW = Graph([double, review_odd, summarize], name="review_batch")


async def test_map_pauses_some_items_and_completes_others(runner):
    """Items reaching a pausing interrupt are PAUSED; the rest complete (B35)."""
    results = await runner.map(REVIEW, {"x": [1, 2, 3, 4]}, map_over="x")
    assert [r.status for r in results] == [
        RunStatus.PAUSED,
        RunStatus.COMPLETED,
        RunStatus.PAUSED,
        RunStatus.COMPLETED,
    ]
    assert results["summary"] == [None, "4:auto", None, "8:auto"]


async def test_paused_items_carry_pause_info(runner):
    """Each paused item has PauseInfo with node name, response key and value (B35)."""
    results = await runner.map(REVIEW, {"x": [1, 2, 3]}, map_over="x")
    first, third = results[0], results[2]
    assert first.pause.node_name == "review_odd"
    assert first.pause.response_key == "verdict"
    assert first.pause.value == 2
    assert third.pause.value == 6
    assert results[1].pause is None


async def test_paused_items_keep_values_produced_before_pausing(runner):
    """A paused item contributes what it produced before the interrupt (B42)."""
    results = await runner.map(REVIEW, {"x": [1, 2]}, map_over="x")
    assert results["doubled"] == [2, 4]
    assert results["verdict"] == [None, "auto"]


async def test_map_with_paused_items_reports_paused_status(runner):
    """Paused plus completed items (no failures) give aggregate status PAUSED (B46)."""
    results = await runner.map(REVIEW, {"x": [1, 2]}, map_over="x")
    assert results.status is RunStatus.PAUSED
    assert results.paused
    assert not results.completed
    assert not results.failed


async def test_paused_items_are_not_failures_under_raise(runner):
    """Under "raise" paused items neither raise nor count as failed (B35)."""
    results = await runner.map(
        REVIEW, {"x": [1, 3, 5]}, map_over="x", error_handling="raise"
    )
    assert all(r.status is RunStatus.PAUSED for r in results)
    assert results.failures == []
    assert all(r.error is None for r in results)


async def test_map_summary_counts_paused_items(runner):
    """summary() lists completed and paused counts in order (B48)."""
    results = await runner.map(REVIEW, {"x": [1, 2, 3, 4, 6]}, map_over="x")
    assert results.summary().startswith("5 items | 3 completed, 2 paused | ")


async def test_map_to_dict_reports_paused_counts(runner):
    """to_dict() gives status "paused" and the per-state counts (B49)."""
    results = await runner.map(REVIEW, {"x": [1, 2, 3]}, map_over="x")
    data = results.to_dict()
    json.dumps(data)
    assert data["status"] == "paused"
    assert data["item_count"] == 3
    assert data["completed_count"] == 1
    assert data["failed_count"] == 0
    assert data["paused_count"] == 2
    assert [item["status"] for item in data["items"]] == [
        "paused",
        "completed",
        "paused",
    ]


async def test_map_with_failed_paused_and_completed_items_is_partial(runner):
    """Failed plus completed items give PARTIAL; paused are counted apart (B46)."""
    results = await runner.map(
        REVIEW, {"x": [1, 2, -1]}, map_over="x", error_handling="continue"
    )
    assert [r.status for r in results] == [
        RunStatus.PAUSED,
        RunStatus.COMPLETED,
        RunStatus.FAILED,
    ]
    assert results.status is RunStatus.PARTIAL
    assert results.summary().startswith("3 items | 1 completed, 1 failed, 1 paused | ")
    data = results.to_dict()
    assert (data["completed_count"], data["failed_count"], data["paused_count"]) == (
        1,
        1,
        1,
    )
    assert results.failures == [results[2]]


async def test_map_with_failed_and_paused_items_only_is_failed(runner):
    """A failure with no completed item gives FAILED even if others paused (B46)."""
    results = await runner.map(
        REVIEW, {"x": [1, -1]}, map_over="x", error_handling="continue"
    )
    assert results.status is RunStatus.FAILED
    assert results.to_dict()["paused_count"] == 1


async def test_paused_item_resumes_statelessly_with_its_inputs(runner):
    """A paused item finishes when run again with its input plus the response (B36)."""
    results = await runner.map(REVIEW, {"x": [1, 2]}, map_over="x")
    pause = results[0].pause
    resumed = await runner.run(REVIEW, {"x": 1, pause.response_key: "approved"})
    assert resumed.status is RunStatus.COMPLETED
    assert resumed["summary"] == "2:approved"


async def test_map_broadcasts_a_response_to_every_item(runner):
    """A response key given as a broadcast input resolves every item's interrupt."""
    results = await runner.map(REVIEW, {"x": [1, 2, 3], "verdict": "ok"}, map_over="x")
    assert results.status is RunStatus.COMPLETED
    assert results["summary"] == ["2:ok", "4:ok", "6:ok"]


# -- nested interrupt inside a mapped run -------------------------------------


@interrupt(output_name="y")
def approval(x: int) -> int | None:
    return None


@node(output_name="z")
def post(y: int) -> int:
    return y + 1


INNER = Graph([approval], name="inner")


async def test_map_over_graph_with_nested_interrupt_pauses_items(runner):
    """Items of a runner.map pause at a nested interrupt with its /-joined path."""
    outer = Graph([INNER.as_node(), post])
    results = await runner.map(outer, {"x": [1, 2]}, map_over="x")
    assert [r.status for r in results] == [RunStatus.PAUSED, RunStatus.PAUSED]
    assert [r.pause.node_name for r in results] == ["inner/approval"] * 2
    assert [r.pause.response_key for r in results] == ["inner.y"] * 2
    assert [r.pause.value for r in results] == [1, 2]


# -- mapped GraphNode around an interrupt (D-2, N31, B70) ----------------------


@node(output_name="xs")
def load(n: int) -> list[int]:
    return list(range(n))


def test_map_over_on_interrupt_graph_node_does_not_raise():
    """map_over on a GraphNode wrapping an interrupt does not raise by itself (D-2)."""
    mapped = INNER.as_node().map_over("x")
    assert mapped.map_config == (["x"], "zip", "raise")


@pytest.mark.parametrize(
    ("mapped", "node_name"),
    [
        (INNER.as_node().map_over("x"), "inner"),
        (
            Graph([INNER.as_node(name="middle_layer")], name="wrapper_layer")
            .as_node()
            .with_name("reviewer")
            .map_over("x"),
            "reviewer",
        ),
    ],
    ids=["direct", "two-levels-down"],
)
def test_graph_with_mapped_interrupt_node_raises_config_error(mapped, node_name):
    """A mapped GraphNode with an interrupt at any depth raises, naming both (N31)."""
    with pytest.raises(GraphConfigError) as excinfo:
        Graph([mapped])
    message = str(excinfo.value)
    assert node_name in message
    assert "approval" in message


def test_mapped_node_with_renamed_interrupt_names_the_interrupt():
    """The config error names the interrupt by its node name."""
    inner = Graph([approval.with_name("sign_off")], name="signing")
    with pytest.raises(GraphConfigError, match="sign_off"):
        Graph([load, inner.as_node().with_inputs(x="xs").map_over("xs")])


async def test_unmapped_interrupt_graph_node_is_accepted(runner):
    """The same GraphNode without map_over builds and pauses normally (control case)."""
    graph = Graph([INNER.as_node()])
    result = await runner.run(graph, x=5)
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "inner/approval"


async def test_mapped_graph_node_without_interrupt_is_accepted(runner):
    """A mapped GraphNode whose inner graph has no interrupt builds and runs."""
    inner = Graph([post], name="plus_one")
    graph = Graph([inner.as_node().map_over("y")])
    result = await runner.run(graph, y=[1, 2, 3])
    assert result.status is RunStatus.COMPLETED
    assert result["z"] == [2, 3, 4]
