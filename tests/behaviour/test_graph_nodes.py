"""GraphNode execution, plain and mapped (spec 02 R24; 03 B64-B71)."""

from __future__ import annotations

import re
import threading

import pytest

from hypergraph import (
    END,
    Graph,
    GraphConfigError,
    MapLog,
    RunLog,
    RunStatus,
    ifelse,
    node,
)


class Boom(Exception):
    """A node's own exception type."""


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="final")
def finalize(result: int) -> str:
    return f"final {result}"


@node(output_name="doubled")
def double_but_three_fails(x: int) -> int:
    if x == 3:
        raise Boom(f"item {x} failed")
    return 2 * x


@node(output_name="pair")
def make_pair(a: int, b: int) -> tuple[int, int]:
    return (a, b)


@node(output_name="total")
def summarize(doubled: list[int]) -> int:
    return sum(doubled)


@node(output_name="x")
def load(n: int) -> list[int]:
    return list(range(1, n + 1))


@ifelse(when_true="keep", when_false=END)
def is_even(x: int) -> bool:
    return x % 2 == 0


@node(output_name="kept")
def keep(x: int) -> int:
    return x


@node(output_name="scaled")
def scale(x: int, factor: int) -> int:
    return x * factor


INNER = Graph([double, add_one], name="inner")
DOUBLER = Graph([double], name="doubler")
FAILING_DOUBLER = Graph([double_but_three_fails], name="doubler")
PAIRS = Graph([make_pair], name="pairs")
BRANCHY = Graph([is_even, keep], name="branchy")
SCALER = Graph([scale], name="scaler")


# --- plain GraphNode ----------------------------------------------------------------


async def test_graph_node_runs_inner_graph_and_exposes_its_outputs(runner):
    """A GraphNode's outputs are the inner run's values, usable downstream."""
    outer = Graph([INNER.as_node(), finalize])
    result = await runner.run(outer, x=3)
    assert result.values == {"doubled": 6, "result": 7, "final": "final 7"}


async def test_graph_node_occupies_one_superstep(runner):
    """The nested run is one step in one superstep of the outer run."""
    outer = Graph([INNER.as_node(), finalize])
    result = await runner.run(outer, x=3)
    assert [(s.node_name, s.superstep) for s in result.log.steps] == [
        ("inner", 0),
        ("finalize", 1),
    ]
    assert len(result.log.steps[0].log.steps) == 2


async def test_graph_node_respects_inner_selection(runner):
    """Only the inner graph's selected names become GraphNode outputs."""
    outer = Graph([INNER.select("result").as_node()])
    result = await runner.run(outer, x=1)
    assert result.values == {"result": 3}


async def test_graph_node_input_rename_translates_inward(runner):
    """An outer value under a renamed input reaches the inner parameter."""
    gn = INNER.as_node().with_inputs(x="number")
    result = await runner.run(Graph([gn]), number=4)
    assert result.values == {"doubled": 8, "result": 9}


async def test_graph_node_output_rename_translates_outward(runner):
    """Inner outputs appear under their renamed outer names."""
    gn = INNER.as_node().with_outputs(result="answer")
    result = await runner.run(Graph([gn]), x=4)
    assert result.values == {"doubled": 8, "answer": 9}


async def test_graph_node_renames_wire_to_outer_nodes(runner):
    """Renamed inputs and outputs wire the GraphNode to outer nodes."""

    @node(output_name="number")
    def produce(seed: int) -> int:
        return seed + 1

    @node(output_name="report")
    def consume(answer: int) -> str:
        return f"answer={answer}"

    gn = (
        INNER.as_node(name="core").with_inputs(x="number").with_outputs(result="answer")
    )
    result = await runner.run(Graph([produce, gn, consume]), seed=1)
    assert result["report"] == "answer=5"


async def test_inner_failure_surfaces_as_original_exception(runner):
    """An exception inside the nested graph propagates as the same object."""
    raised = []

    @node(output_name="y")
    def fails(x: int) -> int:
        exc = Boom("inner boom")
        raised.append(exc)
        raise exc

    outer = Graph([Graph([fails], name="inner").as_node()])
    with pytest.raises(Boom) as excinfo:
        await runner.run(outer, x=1)
    assert excinfo.value is raised[0]


async def test_inner_failure_under_outer_continue_is_failed_result(runner):
    """Under outer ``continue`` the inner exception is the result's error."""

    @node(output_name="y")
    def fails(x: int) -> int:
        raise Boom("inner boom")

    @node(output_name="side")
    def sibling(z: int) -> int:
        return z

    outer = Graph([Graph([fails], name="inner").as_node(), sibling])
    result = await runner.run(outer, x=1, z=5, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, Boom)
    assert "y" not in result


async def test_inner_failure_stops_inner_run_even_under_outer_continue(runner):
    """The nested run uses ``raise``: nodes after the inner failure never run."""
    calls = []

    @node(output_name="y")
    def fails(x: int) -> int:
        raise Boom("inner boom")

    @node(output_name="z")
    def after(y: int) -> int:
        calls.append(y)
        return y

    outer = Graph([Graph([fails, after], name="inner").as_node()])
    result = await runner.run(outer, x=1, error_handling="continue")
    assert result.failed
    assert calls == []


async def test_values_inner_run_did_not_produce_are_absent(runner):
    """A branch not taken inside the nested graph adds nothing to outer values."""
    result = await runner.run(Graph([BRANCHY.as_node()]), x=3)
    assert result.completed
    assert "kept" not in result
    taken = await runner.run(Graph([BRANCHY.as_node()]), x=4)
    assert taken["kept"] == 4


async def test_nested_graph_node_two_levels_deep(runner):
    """A GraphNode inside a GraphNode runs and passes values through both levels."""
    middle = Graph([INNER.as_node(), finalize], name="middle")
    result = await runner.run(Graph([middle.as_node()]), x=2)
    assert result["final"] == "final 5"


async def test_graph_node_runs_async_inner_nodes(runner):
    """Async nodes inside a GraphNode run on both runners."""

    @node(output_name="y")
    async def async_inc(x: int) -> int:
        return x + 1

    result = await runner.run(Graph([Graph([async_inc], name="inner").as_node()]), x=1)
    assert result["y"] == 2


# --- mapped GraphNode -----------------------------------------------------------------


async def test_mapped_graph_node_spec_example(runner):
    """``inner.as_node().map_over("x")`` with ``x=[1, 2, 3]`` gives ``[2, 4, 6]``."""
    result = await runner.run(Graph([DOUBLER.as_node().map_over("x")]), x=[1, 2, 3])
    assert result["doubled"] == [2, 4, 6]


async def test_mapped_outputs_are_lists_in_item_order(runner):
    """Every output becomes a list aligned with the items."""
    result = await runner.run(Graph([INNER.as_node().map_over("x")]), x=[5, 1, 3])
    assert result.values == {"doubled": [10, 2, 6], "result": [11, 3, 7]}


async def test_mapped_graph_node_feeds_downstream_aggregate(runner):
    """load -> mapped node -> summarize passes the lists through the outer graph."""
    outer = Graph([load, DOUBLER.as_node().map_over("x"), summarize])
    result = await runner.run(outer, n=4)
    assert result["doubled"] == [2, 4, 6, 8]
    assert result["total"] == 20


async def test_mapped_zip_pairs_elements_by_index(runner):
    """``zip`` mode pairs the i-th elements of every mapped input."""
    gn = PAIRS.as_node().map_over("a", "b")
    result = await runner.run(Graph([gn]), a=[1, 2, 3], b=[10, 20, 30])
    assert result["pair"] == [(1, 10), (2, 20), (3, 30)]


async def test_mapped_zip_with_unequal_lengths_raises_value_error(runner):
    """``zip`` with sequences of different lengths raises ValueError."""
    gn = PAIRS.as_node().map_over("a", "b")
    with pytest.raises(ValueError, match="equal"):
        await runner.run(Graph([gn]), a=[1, 2, 3], b=[10, 20])


async def test_mapped_product_varies_first_parameter_slowest(runner):
    """``product`` mode runs the cartesian product, first parameter slowest."""
    gn = PAIRS.as_node().map_over("a", "b", mode="product")
    result = await runner.run(Graph([gn]), a=[1, 2, 3], b=[10, 20])
    assert result["pair"] == [(1, 10), (1, 20), (2, 10), (2, 20), (3, 10), (3, 20)]


async def test_mapped_product_order_follows_map_over_order(runner):
    """Listing ``b`` first makes ``b`` vary slowest."""
    gn = PAIRS.as_node().map_over("b", "a", mode="product")
    result = await runner.run(Graph([gn]), a=[1, 2], b=[10, 20])
    assert result["pair"] == [(1, 10), (2, 10), (1, 20), (2, 20)]


async def test_mapped_product_with_empty_sequence_gives_empty_lists(runner):
    """An empty mapped sequence in ``product`` mode gives zero items."""
    gn = PAIRS.as_node().map_over("a", "b", mode="product")
    result = await runner.run(Graph([gn]), a=[1, 2], b=[])
    assert result["pair"] == []


@pytest.mark.parametrize("bad", [5, "abc", None], ids=["int", "str", "none"])
async def test_mapped_input_must_be_a_sequence(runner, bad):
    """A mapped input that is not a (non-string) sequence fails the node."""
    message = (
        f"parameter 'x' must be a list or other sequence, got {type(bad).__name__}"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        await runner.run(Graph([DOUBLER.as_node().map_over("x")]), x=bad)


async def test_mapped_input_accepts_tuple_and_range(runner):
    """Tuples and ranges are valid mapped sequences."""
    gn = DOUBLER.as_node().map_over("x")
    by_tuple = await runner.run(Graph([gn]), x=(1, 2))
    by_range = await runner.run(Graph([gn]), x=range(3))
    assert by_tuple["doubled"] == [2, 4]
    assert by_range["doubled"] == [0, 2, 4]


async def test_mapped_broadcast_input_is_shared_by_reference(runner):
    """A non-mapped input reaches every item as the same object."""
    config = {"factor": 3}
    seen = []

    @node(output_name="y")
    def use(x: int, config: dict[str, int]) -> int:
        seen.append(config)
        return x * config["factor"]

    gn = Graph([use], name="user").as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[1, 2, 3], config=config)
    assert result["y"] == [3, 6, 9]
    assert len(seen) == 3
    assert all(c is config for c in seen)


async def test_mapped_broadcast_scalar_reaches_every_item(runner):
    """A broadcast scalar is given to every item."""
    gn = SCALER.as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[1, 2, 3], factor=10)
    assert result["scaled"] == [10, 20, 30]


async def test_mapped_clone_true_deep_copies_broadcast_per_item(runner):
    """``clone=True`` gives each item its own deep copy of broadcast values."""
    config = {"seen": []}
    seen = []

    @node(output_name="y")
    def mutate(x: int, config: dict[str, list[int]]) -> int:
        config["seen"].append(x)
        seen.append(config)
        return len(config["seen"])

    gn = Graph([mutate], name="mutator").as_node().map_over("x", clone=True)
    result = await runner.run(Graph([gn]), x=[1, 2, 3], config=config)
    assert result["y"] == [1, 1, 1]
    assert config == {"seen": []}
    assert len({id(c) for c in seen}) == 3


async def test_mapped_clone_list_copies_only_named_inputs(runner):
    """``clone=[names]`` deep-copies only those broadcast values."""
    copied = {"n": 0}
    shared = {"n": 0}
    seen: dict[str, list[object]] = {"copied": [], "shared": []}

    @node(output_name="y")
    def touch(x: int, copied: dict[str, int], shared: dict[str, int]) -> int:
        seen["copied"].append(copied)
        seen["shared"].append(shared)
        copied["n"] += 1
        shared["n"] += 1
        return x

    gn = Graph([touch], name="toucher").as_node().map_over("x", clone=["copied"])
    await runner.run(Graph([gn]), x=[1, 2], copied=copied, shared=shared)
    assert copied == {"n": 0}
    assert shared == {"n": 2}
    assert all(s is shared for s in seen["shared"])
    assert all(c is not copied for c in seen["copied"])


async def test_mapped_clone_of_non_copyable_value_raises_graph_config_error(runner):
    """Cloning a value that cannot be deep-copied raises GraphConfigError."""

    @node(output_name="y")
    def locked(x: int, lock: object) -> int:
        return x

    gn = Graph([locked], name="locker").as_node().map_over("x", clone=True)
    with pytest.raises(GraphConfigError, match="lock"):
        await runner.run(Graph([gn]), x=[1], lock=threading.Lock())


async def test_mapped_inner_bindings_apply_to_every_item(runner):
    """Values bound on the inner graph are resolved inside each item."""
    gn = SCALER.bind(factor=4).as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[1, 2])
    assert result["scaled"] == [4, 8]


async def test_mapped_continue_puts_none_for_failed_items(runner):
    """With ``error_handling="continue"`` a failed item gives ``None`` in every list."""
    gn = FAILING_DOUBLER.as_node().map_over("x", error_handling="continue")
    result = await runner.run(Graph([gn]), x=[1, 2, 3, 4, 5])
    assert result.status is RunStatus.COMPLETED
    assert result["doubled"] == [2, 4, None, 8, 10]


async def test_mapped_continue_puts_none_in_every_output_list(runner):
    """A failed item contributes ``None`` to each of the node's outputs."""
    inner = Graph([double_but_three_fails, add_one], name="two_outputs")
    gn = inner.as_node().map_over("x", error_handling="continue")
    result = await runner.run(Graph([gn]), x=[3, 1])
    assert result.values == {"doubled": [None, 2], "result": [None, 3]}


async def test_mapped_raise_propagates_the_item_exception(runner):
    """With ``error_handling="raise"`` the failing item's exception propagates."""
    gn = FAILING_DOUBLER.as_node().map_over("x")
    with pytest.raises(Boom, match="item 3 failed"):
        await runner.run(Graph([gn]), x=[1, 2, 3, 4])


async def test_mapped_raise_under_outer_continue_fails_the_run(runner):
    """The item exception becomes the outer FAILED result's error."""
    gn = FAILING_DOUBLER.as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[1, 3], error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, Boom)
    assert "doubled" not in result


async def test_mapped_zero_items_give_empty_list_per_output(runner):
    """Zero items give ``[]`` for every output and the inner graph never runs."""
    calls = []

    @node(output_name="y")
    def spy(x: int) -> int:
        calls.append(x)
        return x

    @node(output_name="z")
    def spy2(y: int) -> int:
        return y

    gn = Graph([spy, spy2], name="spied").as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[])
    assert result.completed
    assert result.values == {"y": [], "z": []}
    assert calls == []


async def test_mapped_missing_output_is_none_to_stay_aligned(runner):
    """An item that finishes without an output contributes ``None`` at its index."""
    gn = BRANCHY.as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[1, 2, 3, 4])
    assert result["kept"] == [None, 2, None, 4]


async def test_mapped_renamed_input_keeps_the_mapping(runner):
    """Renaming a mapped input after ``map_over`` maps the renamed name."""
    gn = DOUBLER.as_node().map_over("x").with_inputs(x="numbers")
    result = await runner.run(Graph([gn]), numbers=[1, 2])
    assert result["doubled"] == [2, 4]


async def test_mapped_renamed_output_is_a_list(runner):
    """An output renamed on a mapped node is still the per-item list."""
    gn = DOUBLER.as_node().map_over("x").with_outputs(doubled="twice")
    result = await runner.run(Graph([gn]), x=[1, 2])
    assert result.values == {"twice": [2, 4]}


async def test_mapped_step_log_is_a_map_log_of_item_logs(runner):
    """The step's ``.log`` is a MapLog with one RunLog per item."""
    result = await runner.run(Graph([INNER.as_node().map_over("x")]), x=[1, 2, 3])
    (step,) = result.log.steps
    assert step.node_name == "inner"
    assert isinstance(step.log, MapLog)
    assert len(step.log) == 3
    assert all(isinstance(item, RunLog) for item in step.log)
    assert [s.node_name for s in step.log[0].steps] == ["double", "add_one"]


@pytest.mark.parametrize("items", [[7], []], ids=["one", "zero"])
async def test_mapped_step_log_is_a_map_log_for_one_or_zero_items(runner, items):
    """Even with one or zero items the mapped step's log is a MapLog."""
    result = await runner.run(Graph([DOUBLER.as_node().map_over("x")]), x=items)
    (step,) = result.log.steps
    assert isinstance(step.log, MapLog)
    assert len(step.log) == len(items)


async def test_mapped_continue_map_log_records_item_errors(runner):
    """A failed item's log holds its failed record in the MapLog."""
    gn = FAILING_DOUBLER.as_node().map_over("x", error_handling="continue")
    result = await runner.run(Graph([gn]), x=[1, 3])
    log = result.log.steps[0].log
    assert [r.error for r in log.errors] == ["item 3 failed"]
    assert log[1].steps[0].status == "failed"


async def test_mapped_graph_node_is_one_step_of_the_outer_run(runner):
    """A mapped GraphNode is a single outer record however many items ran."""
    outer = Graph([load, DOUBLER.as_node().map_over("x"), summarize])
    result = await runner.run(outer, n=5)
    assert [(s.node_name, s.superstep) for s in result.log.steps] == [
        ("load", 0),
        ("doubler", 1),
        ("summarize", 2),
    ]


async def test_mapped_input_can_come_from_an_outer_binding(runner):
    """A mapped input bound on the outer graph is expanded like a supplied one."""
    outer = Graph([DOUBLER.as_node().map_over("x")]).bind(x=[1, 2])
    result = await runner.run(outer)
    assert result["doubled"] == [2, 4]


async def test_mapped_zip_length_error_is_a_node_failure(runner):
    """Unequal zip lengths fail the mapped node, so ``continue`` gives FAILED."""
    gn = PAIRS.as_node().map_over("a", "b")
    result = await runner.run(Graph([gn]), a=[1, 2], b=[1], error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, ValueError)


async def test_mapped_graph_node_respects_inner_selection(runner):
    """A mapped node exposes only the inner selection, each as a list."""
    gn = INNER.select("result").as_node().map_over("x")
    result = await runner.run(Graph([gn]), x=[1, 2])
    assert result.values == {"result": [3, 5]}


async def test_mapped_map_log_sums_item_durations(runner):
    """The mapped step's MapLog is named after the inner graph and sums item time."""
    result = await runner.run(Graph([INNER.as_node().map_over("x")]), x=[1, 2])
    map_log = result.log.steps[0].log
    assert map_log.graph_name == "inner"
    assert map_log.total_duration_ms == pytest.approx(
        sum(item.total_duration_ms for item in map_log), abs=0.01
    )
