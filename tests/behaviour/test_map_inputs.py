"""Arguments of ``runner.map()``: every check runs before any item (03 B1-B20, B27).

Each rejecting test proves that nothing ran by recording every node call.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from hypergraph import (
    END,
    AsyncRunner,
    Graph,
    GraphConfigError,
    MissingInputError,
    RunStatus,
    SyncRunner,
    ifelse,
    node,
)

RESERVED = (
    "map_over",
    "map_mode",
    "select",
    "error_handling",
    "event_processors",
    "max_concurrency",
    "on_internal_override",
)


class Recorder:
    """Graphs whose nodes record every call, so a test can prove nothing ran."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.seen: list[dict[str, Any]] = []
        calls, seen = self.calls, self.seen

        @node(output_name="y")
        def scale(x: Any, factor: Any) -> Any:
            calls.append(x)
            return x * factor

        @node(output_name="pair")
        def pair(a: Any, b: Any) -> tuple[Any, Any]:
            calls.append((a, b))
            return (a, b)

        @node(output_name="out")
        def inspect_args(x: Any, cfg: Any, other: Any) -> Any:
            calls.append(x)
            seen.append({"x": x, "cfg": cfg, "other": other})
            return x

        @node(output_name="out")
        def hold(x: Any, lock: Any) -> Any:
            calls.append(x)
            return x

        @node(output_name="y")
        def scale_default(x: Any, factor: int = 10) -> Any:
            calls.append(x)
            return x * factor

        self.scale = Graph([scale], name="scale")
        self.pair = Graph([pair], name="pair")
        self.inspect = Graph([inspect_args], name="inspect")
        self.hold = Graph([hold], name="hold")
        self.scale_default = Graph([scale_default], name="scale_default")


@pytest.fixture
def rec() -> Recorder:
    """Fresh recording graphs per test."""
    return Recorder()


# -- B1/B2: merging values and kwargs -----------------------------------------


async def test_values_and_kwargs_are_merged_into_one_input_dict(runner, rec):
    """Keys from ``values`` and ``**kwargs`` both reach the items (B1)."""
    result = await runner.map(rec.scale, {"x": [1, 2, 3]}, map_over="x", factor=10)
    assert result["y"] == [10, 20, 30]


async def test_key_in_both_values_and_kwargs_raises_before_any_item(runner, rec):
    """A key given in ``values`` and as a kwarg raises ``ValueError`` (B1)."""
    message = (
        "Input keys provided in both values and kwargs: 'x'. Use one source per key."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        await runner.map(rec.scale, {"x": [1], "factor": 2}, map_over="x", x=[2])
    assert rec.calls == []


async def test_broadcast_key_in_both_values_and_kwargs_raises(runner, rec):
    """The clash check covers broadcast keys too, not only mapped ones (B1)."""
    with pytest.raises(ValueError, match="provided in both values and kwargs"):
        await runner.map(rec.scale, {"x": [1], "factor": 2}, map_over="x", factor=3)
    assert rec.calls == []


async def test_reserved_name_in_kwargs_raises_before_any_item(runner, rec):
    """A reserved option name reaching ``**input_values`` raises ``ValueError`` (B2)."""
    with pytest.raises(ValueError, match="Input keys are reserved runner options") as e:
        await runner.map(
            rec.scale, map_over="x", x=[1], factor=2, on_internal_override=1
        )
    assert "'on_internal_override'" in str(e.value)
    assert "Pass these keys via values={...}" in str(e.value)
    assert rec.calls == []


async def test_inputs_named_like_reserved_options_go_via_values(runner):
    """Graph inputs named like runner options are accepted through ``values`` (B2)."""

    @node(output_name="y")
    def add_all(x: int, a: int, b: int, c: int, d: int, e: int, f: int, g: int) -> int:
        return x + a + b + c + d + e + f + g

    renamed = add_all.with_inputs(**dict(zip("abcdefg", RESERVED, strict=True)))
    graph = Graph([renamed], name="reserved")
    values = {"x": [0, 100], **dict.fromkeys(RESERVED, 1)}
    result = await runner.map(graph, values, map_over="x")
    assert result["y"] == [7, 107]


async def test_max_concurrency_kwarg_is_an_option_not_an_input(runner, rec):
    """``max_concurrency=`` sets the option of either runner's ``map()`` (B2, B19)."""
    result = await runner.map(
        rec.scale, map_over="x", x=[1, 2, 3], factor=2, max_concurrency=4
    )
    assert result["y"] == [2, 4, 6]


# -- B3/B4: map_over ----------------------------------------------------------


async def test_map_over_string_means_one_element_list(runner, rec):
    """``map_over="x"`` behaves like ``["x"]`` and is kept as a tuple (B3)."""
    as_str = await runner.map(rec.scale, map_over="x", x=[1, 2], factor=2)
    as_list = await runner.map(rec.scale, map_over=["x"], x=[1, 2], factor=2)
    assert as_str["y"] == as_list["y"] == [2, 4]
    assert as_str.map_over == as_list.map_over == ("x",)


async def test_map_over_list_order_is_kept(runner, rec):
    """``MapResult.map_over`` keeps the order the caller gave (B3)."""
    result = await runner.map(rec.pair, map_over=["b", "a"], a=[1], b=[2])
    assert result.map_over == ("b", "a")


async def test_empty_map_over_list_raises_before_any_item(runner, rec):
    """``map_over=[]`` raises instead of running a single item (B4)."""
    with pytest.raises(ValueError, match="map_over requires at least one parameter"):
        await runner.map(rec.scale, map_over=[], x=[1, 2], factor=2)
    assert rec.calls == []


async def test_duplicate_map_over_names_raise_before_any_item(runner, rec):
    """Naming one parameter twice in ``map_over`` raises ``ValueError`` (B4)."""
    message = "map_over lists a name more than once: ['x', 'x']"
    with pytest.raises(ValueError, match=re.escape(message)):
        await runner.map(rec.scale, map_over=["x", "x"], x=[1, 2], factor=2)
    assert rec.calls == []


async def test_unknown_map_over_name_raises_listing_graph_inputs(runner, rec):
    """An unknown mapped name raises ``ValueError`` naming it and the inputs (B4)."""
    with pytest.raises(ValueError, match="nope") as excinfo:
        await runner.map(rec.scale, map_over="nope", x=[1, 2], factor=2, nope=[1])
    message = str(excinfo.value)
    assert "x" in message.replace("nope", "")
    assert "factor" in message
    assert rec.calls == []


async def test_mapped_name_absent_from_inputs_raises_missing_input(runner, rec):
    """A mapped graph input with no value raises ``MissingInputError`` (B4)."""
    with pytest.raises(MissingInputError) as excinfo:
        await runner.map(rec.scale, {"factor": 2}, map_over="x")
    assert "x" in excinfo.value.missing
    assert not isinstance(excinfo.value, KeyError)
    assert rec.calls == []


@pytest.mark.parametrize(
    "value",
    [5, "abc", b"abc", bytearray(b"ab"), {"k": 1}, {1, 2}],
    ids=["int", "str", "bytes", "bytearray", "dict", "set"],
)
async def test_non_sequence_mapped_value_raises_type_error(runner, rec, value):
    """A mapped value that is not a real sequence raises ``TypeError`` (B4)."""
    message = (
        "map_over parameter 'x' must be a list or other sequence, "
        f"got {type(value).__name__}"
    )
    with pytest.raises(TypeError, match=re.escape(message)):
        await runner.map(rec.scale, {"x": value, "factor": 2}, map_over="x")
    assert rec.calls == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [((1, 2, 3), [2, 4, 6]), (range(3), [0, 2, 4])],
    ids=["tuple", "range"],
)
async def test_tuples_and_ranges_are_accepted_as_mapped_values(
    runner, rec, value, expected
):
    """Any ``Sequence`` (tuple, range, list) can be mapped over (B4)."""
    result = await runner.map(rec.scale, {"x": value, "factor": 2}, map_over="x")
    assert result["y"] == expected


# -- B5/B6: broadcast and required inputs -------------------------------------


async def test_missing_required_broadcast_input_raises_once(runner, rec):
    """A required input missing for the whole batch raises once, up front (B6)."""
    with pytest.raises(MissingInputError) as excinfo:
        await runner.map(rec.scale, map_over="x", x=[1, 2, 3])
    assert excinfo.value.missing == ["factor"]
    assert str(excinfo.value).startswith("Missing required inputs: 'factor'")
    assert rec.calls == []


async def test_bound_values_apply_to_every_item(runner, rec):
    """A value bound on the graph reaches every item like a broadcast (B5)."""
    result = await runner.map(rec.scale.bind(factor=5), map_over="x", x=[1, 2])
    assert result["y"] == [5, 10]


async def test_function_defaults_apply_to_every_item(runner, rec):
    """A parameter default is used per item when no value is given (B5)."""
    result = await runner.map(rec.scale_default, map_over="x", x=[1, 2])
    assert result["y"] == [10, 20]


async def test_broadcast_value_overrides_default_for_every_item(runner, rec):
    """A broadcast value replaces the default in every item (B5)."""
    result = await runner.map(rec.scale_default, map_over="x", x=[1, 2], factor=3)
    assert result["y"] == [3, 6]


async def test_mapping_over_a_parameter_with_a_default(runner, rec):
    """An optional input can be the mapped one (B4: it is a graph input)."""
    result = await runner.map(rec.scale_default, map_over="factor", x=2, factor=[1, 3])
    assert result["y"] == [2, 6]


# -- B7-B9: modes -------------------------------------------------------------


async def test_invalid_map_mode_raises_before_any_item(runner, rec):
    """``map_mode`` other than zip/product raises ``ValueError`` (B7)."""
    mode = "x"
    message = f"Invalid map_mode={mode!r}. Expected 'zip' or 'product'."
    with pytest.raises(ValueError, match=re.escape(message)):
        await runner.map(rec.scale, map_over="x", map_mode=mode, x=[1], factor=2)
    assert rec.calls == []


async def test_unequal_zip_lengths_raise_with_the_lengths(runner, rec):
    """Zip over sequences of unequal length raises, showing every length (B8)."""
    message = (
        "map_over parameters must have equal lengths in zip mode. "
        "Got lengths: {'a': 3, 'b': 2}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        await runner.map(rec.pair, map_over=["a", "b"], a=[1, 2, 3], b=[4, 5])
    assert rec.calls == []


async def test_unequal_zip_lengths_with_one_empty_sequence_raise(runner, rec):
    """An empty sequence zipped with a non-empty one is still a length mismatch (B8)."""
    with pytest.raises(ValueError, match=re.escape("{'a': 0, 'b': 2}")):
        await runner.map(rec.pair, map_over=["a", "b"], a=[], b=[4, 5])
    assert rec.calls == []


async def test_zip_pairs_elements_by_position(runner, rec):
    """Zip item ``i`` receives element ``i`` of every mapped sequence (B8)."""
    result = await runner.map(rec.pair, map_over=["a", "b"], a=[1, 2], b=["p", "q"])
    assert result["pair"] == [(1, "p"), (2, "q")]


async def test_zip_with_all_empty_sequences_runs_no_item(runner, rec):
    """All-empty zip sequences give zero items (B8)."""
    result = await runner.map(rec.pair, map_over=["a", "b"], a=[], b=[])
    assert len(result) == 0
    assert rec.calls == []


async def test_product_with_an_empty_sequence_runs_no_item(runner, rec):
    """A product with any empty sequence gives zero items (B9)."""
    result = await runner.map(
        rec.pair, map_over=["a", "b"], map_mode="product", a=[1, 2, 3], b=[]
    )
    assert len(result) == 0
    assert result.map_mode == "product"
    assert rec.calls == []


async def test_product_accepts_different_lengths_in_row_major_order(runner, rec):
    """Product items follow the spec's example order, first name slowest (B9)."""
    result = await runner.map(
        rec.pair, map_over=["a", "b"], map_mode="product", a=[1, 2, 3], b=[10, 20]
    )
    assert result["pair"] == [(1, 10), (1, 20), (2, 10), (2, 20), (3, 10), (3, 20)]


async def test_zip_and_product_agree_for_a_single_mapped_name(runner, rec):
    """With one mapped name zip and product give the same items (B9)."""
    zipped = await runner.map(rec.scale, map_over="x", x=[1, 2, 3], factor=2)
    product = await runner.map(
        rec.scale, map_over="x", map_mode="product", x=[1, 2, 3], factor=2
    )
    assert zipped["y"] == product["y"] == [2, 4, 6]


# -- B11-B13: clone -----------------------------------------------------------


async def test_clone_false_shares_broadcast_objects_with_every_item(runner, rec):
    """With ``clone=False`` every item gets the caller's very object (B11)."""
    cfg, other = {"inner": [1]}, ["shared"]
    await runner.map(
        rec.inspect, map_over="x", x=[1, 2, 3], cfg=cfg, other=other, clone=False
    )
    assert len(rec.seen) == 3
    assert all(s["cfg"] is cfg and s["other"] is other for s in rec.seen)


async def test_clone_true_deep_copies_every_broadcast_value_per_item(runner, rec):
    """With ``clone=True`` each item gets its own deep copy of each broadcast (B11)."""
    cfg, other = {"inner": [1]}, ["shared"]
    await runner.map(
        rec.inspect, map_over="x", x=[1, 2, 3], cfg=cfg, other=other, clone=True
    )
    cfgs = [s["cfg"] for s in rec.seen]
    others = [s["other"] for s in rec.seen]
    assert cfgs == [cfg] * 3
    assert others == [other] * 3
    assert all(c is not cfg and c["inner"] is not cfg["inner"] for c in cfgs)
    assert all(o is not other for o in others)
    assert len({id(c) for c in cfgs}) == 3
    assert len({id(o) for o in others}) == 3


async def test_clone_true_isolates_mutations_between_items(runner):
    """Items mutating a cloned value see only their own copy (B11)."""

    @node(output_name="size")
    def grow(x: int, bucket: list[int]) -> int:
        bucket.append(x)
        return len(bucket)

    bucket: list[int] = []
    result = await runner.map(
        Graph([grow]), map_over="x", x=[1, 2, 3], bucket=bucket, clone=True
    )
    assert result["size"] == [1, 1, 1]
    assert bucket == []


async def test_clone_list_copies_only_the_named_broadcast_values(runner, rec):
    """``clone=["cfg"]`` copies ``cfg`` per item and shares ``other`` (B11)."""
    cfg, other = {"inner": [1]}, ["shared"]
    await runner.map(
        rec.inspect, map_over="x", x=[1, 2], cfg=cfg, other=other, clone=["cfg"]
    )
    assert all(s["cfg"] == cfg and s["cfg"] is not cfg for s in rec.seen)
    assert rec.seen[0]["cfg"] is not rec.seen[1]["cfg"]
    assert all(s["other"] is other for s in rec.seen)


async def test_clone_never_copies_mapped_values(runner, rec):
    """Mapped elements reach their item as the very objects given (B11)."""
    first, second = {"id": 1}, {"id": 2}
    await runner.map(
        rec.inspect, map_over="x", x=[first, second], cfg={}, other=[], clone=True
    )
    by_id = {s["x"]["id"]: s["x"] for s in rec.seen}
    assert by_id[1] is first
    assert by_id[2] is second


@pytest.mark.parametrize("clone", ["cfg", ("cfg",)], ids=["str", "tuple"])
async def test_clone_of_wrong_type_raises_type_error(runner, rec, clone):
    """``clone`` must be a bool or a list of names (B12)."""
    with pytest.raises(TypeError, match="clone must be True, False or a list"):
        await runner.map(
            rec.inspect, map_over="x", x=[1], cfg={}, other=[], clone=clone
        )
    assert rec.calls == []


async def test_clone_of_a_mapped_parameter_raises_value_error(runner, rec):
    """Cloning a mapped name raises ``ValueError`` naming it (B12)."""
    with pytest.raises(
        ValueError, match=re.escape("Cannot clone mapped parameter 'x'")
    ):
        await runner.map(
            rec.inspect, map_over="x", x=[1], cfg={}, other=[], clone=["x"]
        )
    assert rec.calls == []


async def test_clone_of_an_unknown_name_raises_value_error(runner, rec):
    """Cloning a name that is not a graph input raises ``ValueError`` (B12)."""
    with pytest.raises(ValueError, match="nope"):
        await runner.map(
            rec.inspect, map_over="x", x=[1], cfg={}, other=[], clone=["nope"]
        )
    assert rec.calls == []


@pytest.mark.parametrize("clone", [True, ["lock"]], ids=["all", "named"])
async def test_uncopyable_cloned_value_raises_graph_config_error(runner, rec, clone):
    """A cloned value that cannot be deep-copied raises before any item (B13)."""
    with pytest.raises(GraphConfigError) as excinfo:
        await runner.map(
            rec.hold, map_over="x", x=[1, 2], lock=threading.Lock(), clone=clone
        )
    message = str(excinfo.value)
    assert "Parameter 'lock' cannot be deep-copied for clone" in message
    assert "clone=[" in message
    assert "bind" in message
    assert rec.calls == []


async def test_uncopyable_value_left_out_of_clone_is_shared(runner, rec):
    """Leaving the uncopyable value out of ``clone=[...]`` lets the batch run (B13)."""
    lock = threading.Lock()
    seen: list[Any] = []

    @node(output_name="out")
    def use_both(x: int, lock: Any, cfg: Any) -> int:
        seen.append((lock, cfg))
        return x

    cfg = {"k": 1}
    result = await runner.map(
        Graph([use_both]), map_over="x", x=[1, 2], lock=lock, cfg=cfg, clone=["cfg"]
    )
    assert result.status is RunStatus.COMPLETED
    assert result["out"] == [1, 2]
    assert all(seen_lock is lock for seen_lock, _ in seen)
    assert all(seen_cfg == cfg and seen_cfg is not cfg for _, seen_cfg in seen)


# -- B14/B15: select, entrypoint, on_missing, error_handling ------------------


async def test_explicit_select_raises_pointing_to_graph_select(runner, rec):
    """Any explicit ``select`` raises ``ValueError`` naming ``graph.select`` (B14)."""
    select = "**"
    with pytest.raises(ValueError, match=re.escape("graph.select(")):
        await runner.map(rec.scale, map_over="x", x=[1], factor=2, select=select)
    assert rec.calls == []


async def test_entrypoint_raises_pointing_to_with_entrypoint(runner, rec):
    """A non-``None`` ``entrypoint`` raises ``ValueError`` (B14)."""
    with pytest.raises(ValueError, match=re.escape("graph.with_entrypoint(")):
        await runner.map(rec.scale, map_over="x", x=[1], factor=2, entrypoint="scale")
    assert rec.calls == []


async def test_items_use_the_graphs_own_output_scope(runner):
    """Items return only the outputs selected on the graph itself (B14)."""

    @node(output_name="a")
    def first(x: int) -> int:
        return x + 1

    @node(output_name="b")
    def second(a: int) -> int:
        return a * 10

    graph = Graph([first, second], name="chain").select("b")
    result = await runner.map(graph, map_over="x", x=[1, 2])
    assert [r.values for r in result] == [{"b": 20}, {"b": 30}]


async def test_invalid_on_missing_raises_before_any_item(runner, rec):
    """``on_missing`` outside ignore/warn/error raises ``ValueError`` (B15)."""
    on_missing = "bogus"
    with pytest.raises(ValueError, match="on_missing"):
        await runner.map(
            rec.scale, map_over="x", x=[1], factor=2, on_missing=on_missing
        )
    assert rec.calls == []


async def test_invalid_error_handling_raises_before_any_item(runner, rec):
    """``error_handling`` outside raise/continue raises ``ValueError`` (B15)."""
    error_handling = "ignore"
    with pytest.raises(ValueError, match="error_handling"):
        await runner.map(
            rec.scale, map_over="x", x=[1], factor=2, error_handling=error_handling
        )
    assert rec.calls == []


@ifelse(when_true="keep", when_false=END)
def is_even(x: int) -> bool:
    return x % 2 == 0


@node(output_name="kept")
def keep(x: int) -> int:
    return x


BRANCHY = Graph([is_even, keep], name="branchy").select("kept")


async def test_on_missing_error_fails_only_the_item_lacking_the_output(runner):
    """``on_missing="error"`` fails each item whose selected output is missing (B15)."""
    result = await runner.map(
        BRANCHY, map_over="x", x=[1, 2], on_missing="error", error_handling="continue"
    )
    assert [r.status for r in result] == [RunStatus.FAILED, RunStatus.COMPLETED]
    assert isinstance(result[0].error, ValueError)
    assert result["kept"] == [None, 2]


async def test_on_missing_error_under_raise_raises_the_item_error(runner):
    """Under ``raise`` the missing-output failure of an item propagates (B15, B31)."""
    with pytest.raises(ValueError, match="kept"):
        await runner.map(BRANCHY, map_over="x", x=[2, 1], on_missing="error")


async def test_on_missing_ignore_completes_items_without_the_output(runner):
    """``on_missing="ignore"`` leaves the missing output out of the item (B15)."""
    result = await runner.map(BRANCHY, map_over="x", x=[1, 2], on_missing="ignore")
    assert [r.status for r in result] == [RunStatus.COMPLETED] * 2
    assert [r.values for r in result] == [{}, {"kept": 2}]


async def test_on_missing_warn_warns_and_completes_items(runner):
    """``on_missing="warn"`` warns for the item lacking the output (B15)."""
    with pytest.warns(UserWarning, match="kept"):
        result = await runner.map(BRANCHY, map_over="x", x=[1, 2], on_missing="warn")
    assert [r.status for r in result] == [RunStatus.COMPLETED] * 2


# -- B17/B19: workflow_id and max_concurrency ---------------------------------


async def test_workflow_id_with_slash_raises_before_any_item(runner, rec):
    """A ``workflow_id`` containing ``/`` raises ``ValueError`` (B17)."""
    with pytest.raises(ValueError, match=re.escape("workflow_id cannot contain '/'")):
        await runner.map(rec.scale, map_over="x", x=[1], factor=2, workflow_id="a/b")
    assert rec.calls == []


async def test_workflow_id_without_checkpointer_labels_items(runner, rec):
    """Item ``i`` gets ``"<wf>/<i>"``; the batch keeps the id as given (B17)."""
    result = await runner.map(
        rec.scale, map_over="x", x=[1, 2, 3], factor=2, workflow_id="nightly"
    )
    assert [r.workflow_id for r in result] == ["nightly/0", "nightly/1", "nightly/2"]
    assert result.workflow_id == "nightly"
    assert result.status is RunStatus.COMPLETED


async def test_no_workflow_id_leaves_items_unlabelled(runner, rec):
    """Without ``workflow_id`` nothing is generated for the batch or items (B17)."""
    result = await runner.map(rec.scale, map_over="x", x=[1, 2], factor=2)
    assert result.workflow_id is None
    assert [r.workflow_id for r in result] == [None, None]


@pytest.mark.parametrize(
    "limit", [0, -1, 1.5, True], ids=["zero", "negative", "float", "bool"]
)
async def test_invalid_max_concurrency_raises_before_any_item(runner, rec, limit):
    """``max_concurrency`` must be ``None`` or an int >= 1 (B19)."""
    with pytest.raises(ValueError, match="max_concurrency"):
        await runner.map(
            rec.scale, map_over="x", x=[1], factor=2, max_concurrency=limit
        )
    assert rec.calls == []


async def test_max_concurrency_one_runs_every_item(runner, rec):
    """``max_concurrency=1`` is valid and runs every item (B19)."""
    result = await runner.map(
        rec.scale, map_over="x", x=[1, 2, 3], factor=2, max_concurrency=1
    )
    assert result["y"] == [2, 4, 6]


# -- B20: compatibility -------------------------------------------------------


async def test_both_runners_map_graphs_with_async_nodes(runner):
    """Async nodes are accepted by either runner's ``map()`` (B20, D-1)."""

    @node(output_name="y")
    async def double(x: int) -> int:
        return 2 * x

    result = await runner.map(Graph([double]), map_over="x", x=[1, 2])
    assert result["y"] == [2, 4]


async def test_mapping_a_non_graph_raises_before_anything_runs(runner, rec):
    """``map()`` needs a ``Graph``; a bare node is rejected up front (B20)."""
    (scale,) = rec.scale.nodes.values()
    with pytest.raises(TypeError, match="Graph"):
        await runner.map(scale, map_over="x", x=[1], factor=2)
    assert rec.calls == []


def test_sync_map_from_inside_a_node_raises_incompatible_runner():
    """``SyncRunner.map`` called from a node on the engine loop raises (B20)."""
    from hypergraph import IncompatibleRunnerError

    inner_calls: list[int] = []

    @node(output_name="y")
    def leaf(x: int) -> int:
        inner_calls.append(x)
        return x

    inner = Graph([leaf])

    @node(output_name="z")
    def outer_node(x: int) -> int:
        SyncRunner().map(inner, map_over="x", x=[x])
        return x

    with SyncRunner() as sync, pytest.raises(IncompatibleRunnerError):
        sync.run(Graph([outer_node]), x=1)
    assert inner_calls == []


# -- B27: the unlimited-fan-out guard ----------------------------------------

TOO_MANY = 10_001


async def test_async_map_over_guard_limit_without_max_concurrency_raises(rec):
    """``AsyncRunner.map`` refuses more than 10 000 unlimited items (B27)."""
    message = (
        f"Too many map tasks without a concurrency limit: {TOO_MANY}. "
        "Set max_concurrency or keep inputs at <= 10000."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        await AsyncRunner().map(
            rec.scale, map_over="x", x=list(range(TOO_MANY)), factor=1
        )
    assert rec.calls == []


async def test_async_map_at_the_guard_limit_runs(rec):
    """Exactly 10 000 items without a limit is allowed (B27: N > 10 000 trips it)."""
    result = await AsyncRunner().map(
        rec.scale, map_over="x", x=list(range(10_000)), factor=1
    )
    assert len(result) == 10_000


async def test_async_map_over_guard_limit_with_max_concurrency_runs(rec):
    """A ``max_concurrency`` limit lifts the guard for ``AsyncRunner`` (B27)."""
    result = await AsyncRunner().map(
        rec.scale, map_over="x", x=list(range(TOO_MANY)), factor=1, max_concurrency=64
    )
    assert len(result) == TOO_MANY
    assert result[-1]["y"] == TOO_MANY - 1


def test_sequential_sync_map_never_trips_the_guard(rec):
    """``SyncRunner.map`` without a limit runs sequentially and is not guarded (B27)."""
    with SyncRunner() as sync:
        result = sync.map(rec.scale, map_over="x", x=list(range(TOO_MANY)), factor=1)
    assert len(result) == TOO_MANY
    assert len(rec.calls) == TOO_MANY


async def test_bound_values_are_never_cloned(runner):
    """``clone=True`` copies passed broadcast values, not values bound on the graph."""
    lock = threading.Lock()
    seen: list[Any] = []

    @node(output_name="out")
    def hold(x: int, lock: Any, cfg: Any) -> int:
        seen.append((lock, cfg))
        return x

    cfg = {"k": 1}
    graph = Graph([hold]).bind(lock=lock)
    result = await runner.map(graph, map_over="x", x=[1, 2], cfg=cfg, clone=True)
    assert result["out"] == [1, 2]
    assert all(seen_lock is lock for seen_lock, _ in seen)
    assert all(seen_cfg == cfg and seen_cfg is not cfg for _, seen_cfg in seen)


def test_both_runners_map_take_the_same_parameters():
    """``SyncRunner.map`` and ``AsyncRunner.map`` have the same parameters (D-1)."""
    import inspect

    sync_params = inspect.signature(SyncRunner.map).parameters
    async_params = inspect.signature(AsyncRunner.map).parameters
    assert list(sync_params) == list(async_params)
    for name in ("map_over", "map_mode", "clone", "error_handling", "max_concurrency"):
        assert sync_params[name].default == async_params[name].default
    assert async_params["max_concurrency"].default is None
    assert async_params["map_mode"].default == "zip"
    assert async_params["clone"].default is False
    assert async_params["error_handling"].default == "raise"


async def test_nested_async_map_inherits_the_outer_limit_and_skips_the_guard(rec):
    """A map inside a node run under ``max_concurrency`` is not guarded (B27)."""

    @node(output_name="count")
    async def fan_out(n: int) -> int:
        inner = await AsyncRunner().map(
            rec.scale, map_over="x", x=list(range(n)), factor=1
        )
        return len(inner)

    result = await AsyncRunner().run(Graph([fan_out]), n=TOO_MANY, max_concurrency=8)
    assert result["count"] == TOO_MANY


async def test_nested_async_map_without_any_limit_trips_the_guard(rec):
    """Without an outer or own limit a nested ``AsyncRunner.map`` is guarded (B27)."""

    @node(output_name="count")
    async def fan_out(n: int) -> int:
        inner = await AsyncRunner().map(
            rec.scale, map_over="x", x=list(range(n)), factor=1
        )
        return len(inner)

    with pytest.raises(ValueError, match="Too many map tasks"):
        await AsyncRunner().run(Graph([fan_out]), n=TOO_MANY)
    assert rec.calls == []
