"""What ``runner.map()`` returns: per-item results, MapResult, fail-fast (03 §2-§6).

Tests of execution run through both runners (``runner`` fixture). Tests of the
``MapResult`` container itself use batches built once by a ``SyncRunner``: the
container behaves the same whichever runner built it.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from hypergraph import (
    Graph,
    MapLog,
    MapResult,
    RunLog,
    RunResult,
    RunStatus,
    SyncRunner,
    interrupt,
    node,
)

RUN_ID = re.compile(r"run-[0-9a-f]{12}")
GUARD_SECONDS = 5.0  # safety net turning a hang into a failure; never orders events


class Boom(Exception):
    """An item's own exception type."""


def duration(ms: float) -> str:
    """Oracle of the standard duration format (05 O0)."""
    if ms == 0:
        return "0ms"
    if ms < 1:
        return f"{ms:.1f}ms"
    if ms < 1000:
        return f"{round(ms)}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    minutes, rest = divmod(ms / 1000, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


# -- the item graph: x > 0 completes, x < 0 fails late, x == 0 pauses ---------

RAISED: list[BaseException] = []


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@interrupt(output_name="verdict")
def review(doubled: int) -> str | None:
    return None if doubled == 0 else "ok"


@node(output_name="result")
def finish(doubled: int, verdict: str) -> int:
    if doubled < 0:
        error = Boom(f"negative {doubled}")
        RAISED.append(error)
        raise error
    return doubled + 1


ITEM = Graph([double, review, finish], name="item")


@pytest.fixture(autouse=True)
def _clear_raised() -> None:
    RAISED.clear()


def build(xs: Sequence[int], **kwargs: Any) -> MapResult:
    """A batch over ``xs`` built with a ``SyncRunner`` under ``continue``."""
    with SyncRunner() as sync:
        return sync.map(
            ITEM, map_over="x", x=list(xs), error_handling="continue", **kwargs
        )


@pytest.fixture
def mixed() -> MapResult:
    """Three items: completed, failed, completed."""
    return build([1, -1, 2])


@pytest.fixture
def empty() -> MapResult:
    """A batch of zero items."""
    return build([])


# -- B21-B24: per-item results ------------------------------------------------


async def test_results_follow_input_order_not_completion_order(runner):
    """Item ``i`` is at index ``i`` even when later items finish first (B21)."""
    n = 4
    events: dict[int, anyio.Event] = {}
    finished: list[int] = []

    def event(i: int) -> anyio.Event:
        # Created lazily on the engine's loop (SyncRunner runs its own).
        return events.setdefault(i, anyio.Event())

    @node(output_name="y")
    async def wait_for_next(x: int) -> int:
        if x < n - 1:
            with anyio.fail_after(GUARD_SECONDS):
                await event(x + 1).wait()
        finished.append(x)
        event(x).set()
        return 10 * x

    result = await runner.map(
        Graph([wait_for_next]), map_over="x", x=list(range(n)), max_concurrency=n
    )
    assert finished == [3, 2, 1, 0]
    assert result["y"] == [0, 10, 20, 30]
    assert [r.values for r in result] == [{"y": 10 * i} for i in range(n)]


async def test_completed_item_result_has_every_field(runner):
    """A completed item is a full RunResult with its values, ids and log (B23)."""
    result = await runner.map(ITEM, map_over="x", x=[3])
    item = result[0]
    assert isinstance(item, RunResult)
    assert item.values == {"doubled": 6, "verdict": "ok", "result": 7}
    assert item.status is RunStatus.COMPLETED
    assert item.error is None
    assert item.pause is None
    assert item.workflow_id is None
    assert isinstance(item.log, RunLog)
    assert (item.completed, item.failed, item.paused) == (True, False, False)
    assert item["result"] == 7
    assert item.get("missing", "d") == "d"
    assert "result" in item
    assert "missing" not in item


async def test_item_run_ids_are_fresh_and_unique(runner):
    """Each item has its own ``"run-"`` + 12 hex id, distinct from the batch's (B23)."""
    first = await runner.map(ITEM, map_over="x", x=[1, 2, 3, 4])
    second = await runner.map(ITEM, map_over="x", x=[1, 2, 3, 4])
    ids = [r.run_id for r in first] + [r.run_id for r in second]
    assert all(RUN_ID.fullmatch(i) for i in ids)
    assert len(set(ids)) == 8
    assert first.run_id not in ids
    assert second.run_id not in ids


async def test_each_item_has_its_own_run_log(runner):
    """Every item's RunLog carries its run id and only its own node records (B22)."""
    result = await runner.map(ITEM, map_over="x", x=[1, 2, 3])
    logs = [r.log for r in result]
    assert len({id(log) for log in logs}) == 3
    for item, log in zip(result, logs, strict=True):
        assert log.run_id == item.run_id
        assert log.graph_name == "item"
        assert [s.node_name for s in log.steps] == ["double", "review", "finish"]


async def test_failed_item_keeps_original_error_and_partial_values(runner):
    """A failed item holds the raised object and its earlier outputs (B22, B23)."""
    result = await runner.map(ITEM, map_over="x", x=[1, -1], error_handling="continue")
    failed = result[1]
    assert failed.status is RunStatus.FAILED
    assert (failed.completed, failed.failed, failed.paused) == (False, True, False)
    assert failed.error is RAISED[0]
    assert failed.values == {"doubled": -2, "verdict": "ok"}
    assert failed.pause is None
    assert [r.node_name for r in failed.log.errors] == ["finish"]
    assert RUN_ID.fullmatch(failed.run_id)


@pytest.mark.parametrize("max_concurrency", [None, 2])
async def test_items_start_in_index_order(runner, max_concurrency):
    """Items are started in input order, with or without a limit (B25)."""
    started: list[int] = []

    @node(output_name="y")
    async def record(x: int) -> int:
        started.append(x)
        await anyio.lowlevel.checkpoint()
        return x

    await runner.map(
        Graph([record]), map_over="x", x=list(range(6)), max_concurrency=max_concurrency
    )
    assert started == list(range(6))


def test_sequential_sync_map_runs_items_one_at_a_time_in_order():
    """``SyncRunner.map`` without a limit finishes item ``i`` before ``i + 1`` (B29)."""
    trace: list[tuple[str, int]] = []

    @node(output_name="y")
    async def body(x: int) -> int:
        trace.append(("start", x))
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        trace.append(("end", x))
        return x

    with SyncRunner() as sync:
        result = sync.map(Graph([body]), map_over="x", x=[0, 1, 2, 3])
    assert result["y"] == [0, 1, 2, 3]
    assert trace == [(kind, i) for i in range(4) for kind in ("start", "end")]


# -- B30/B31: error handling --------------------------------------------------


async def test_continue_runs_every_item_after_failures(runner):
    """Under ``continue`` items after a failure still run; map returns (B30)."""
    ran: list[int] = []

    @node(output_name="y")
    def check(x: int) -> int:
        ran.append(x)
        if x % 2 == 0:
            raise Boom(x)
        return x

    result = await runner.map(
        Graph([check]), map_over="x", x=[0, 1, 2, 3, 4], error_handling="continue"
    )
    assert sorted(ran) == [0, 1, 2, 3, 4]
    assert [r.status for r in result] == [
        RunStatus.FAILED,
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.COMPLETED,
        RunStatus.FAILED,
    ]
    assert [r.error.args for r in result.failures] == [(0,), (2,), (4,)]


class Fatal(BaseException):
    """A non-``Exception`` error, like KeyboardInterrupt."""


@pytest.mark.parametrize("max_concurrency", [None, 2])
async def test_continue_never_swallows_base_exceptions(runner, max_concurrency):
    """A non-``Exception`` error escapes ``map()`` even under ``continue`` (B30)."""
    fatal = Fatal("stop")

    @node(output_name="y")
    def body(x: int) -> int:
        if x == 1:
            raise fatal
        return x

    with pytest.raises(BaseException) as excinfo:  # noqa: PT011 - checked below
        await runner.map(
            Graph([body]),
            map_over="x",
            x=[0, 1, 2],
            error_handling="continue",
            max_concurrency=max_concurrency,
        )
    raised = excinfo.value
    if isinstance(raised, BaseExceptionGroup):  # not swallowed, though wrapped
        (raised,) = raised.exceptions
    assert raised is fatal


@pytest.mark.parametrize("max_concurrency", [None, 2])
async def test_raise_reraises_the_original_exception_object(runner, max_concurrency):
    """Fail-fast raises the item's own exception, not a wrapper or group (B31)."""
    with pytest.raises(Boom) as excinfo:
        await runner.map(
            ITEM, map_over="x", x=[1, -1, 2], max_concurrency=max_concurrency
        )
    assert excinfo.value is RAISED[0]
    assert not isinstance(excinfo.value, BaseExceptionGroup)
    assert str(excinfo.value) == "negative -2"
    frames = [f.name for f in traceback.extract_tb(excinfo.value.__traceback__)]
    assert "finish" in frames


def test_sequential_raise_never_starts_later_items():
    """Sequential fail-fast raises at the first failure; no later item starts (B31)."""
    started: list[int] = []

    @node(output_name="y")
    def body(x: int) -> int:
        started.append(x)
        if x == 2:
            raise Boom(x)
        return x

    with SyncRunner() as sync, pytest.raises(Boom) as excinfo:
        sync.map(Graph([body]), map_over="x", x=[0, 1, 2, 3, 4])
    assert excinfo.value.args == (2,)
    assert started == [0, 1, 2]


async def test_paused_items_do_not_trigger_fail_fast(runner):
    """Under ``raise`` a paused item is not a failure; the batch returns (B31, B35)."""
    result = await runner.map(ITEM, map_over="x", x=[0, 1])
    assert [r.status for r in result] == [RunStatus.PAUSED, RunStatus.COMPLETED]


# -- B5: broadcast values -----------------------------------------------------


async def test_broadcast_values_are_shared_by_reference_by_default(runner):
    """Without ``clone`` every item receives the caller's very object (B5)."""
    seen: list[Any] = []

    @node(output_name="y")
    def use(x: int, config: dict[str, int]) -> int:
        seen.append(config)
        return x + config["k"]

    config = {"k": 10}
    result = await runner.map(Graph([use]), map_over="x", x=[1, 2, 3], config=config)
    assert result["y"] == [11, 12, 13]
    assert len(seen) == 3
    assert all(c is config for c in seen)


# -- §5 MapResult: frozen read-only sequence ----------------------------------


FIELDS = (
    "results",
    "run_id",
    "total_duration_ms",
    "map_over",
    "map_mode",
    "graph_name",
    "workflow_id",
)


def test_map_result_is_frozen(mixed):
    """Assigning any attribute of a MapResult raises ``AttributeError`` (§5)."""
    for name in (*FIELDS, "extra"):
        before = getattr(mixed, name, None)
        with pytest.raises(AttributeError):
            setattr(mixed, name, None)
        assert getattr(mixed, name, None) == before


def test_len_iter_and_reversed_follow_results(mixed):
    """``len``, ``iter`` and ``reversed`` follow ``results`` (B40)."""
    assert isinstance(mixed.results, tuple)
    assert len(mixed) == len(mixed.results) == 3
    assert list(mixed) == list(mixed.results)
    assert list(reversed(mixed)) == list(reversed(mixed.results))
    assert all(isinstance(r, RunResult) for r in mixed)


def test_bool_is_false_only_when_empty(mixed, empty):
    """A MapResult is truthy iff it has items (B40)."""
    assert bool(mixed) is True
    assert bool(empty) is False
    assert bool(build([-1])) is True


def test_map_result_is_a_sequence_but_not_a_list(mixed):
    """MapResult is a ``Sequence`` without being a ``list`` (B40)."""
    assert isinstance(mixed, Sequence)
    assert not isinstance(mixed, list)


def test_map_result_has_no_mutating_list_methods(mixed):
    """No list mutators exist on a MapResult (B40)."""
    for method in ("append", "extend", "insert", "pop", "remove", "sort", "clear"):
        assert not hasattr(mixed, method), method


def test_item_assignment_and_deletion_raise(mixed):
    """Items cannot be replaced or deleted (B40)."""
    with pytest.raises(TypeError):
        mixed[0] = mixed[1]  # type: ignore[index]
    with pytest.raises(TypeError):
        del mixed[0]  # type: ignore[attr-defined]
    assert len(mixed) == 3


def test_int_index_returns_the_run_result(mixed):
    """``r[i]`` with positive or negative ``i`` gives that RunResult (B41)."""
    assert mixed[0] is mixed.results[0]
    assert mixed[1] is mixed.results[1]
    assert mixed[-1] is mixed.results[2]
    assert mixed[-3] is mixed.results[0]


def test_out_of_range_index_raises_index_error(mixed):
    """An index outside the batch raises ``IndexError`` (B41)."""
    for index in (3, -4, 100):
        with pytest.raises(IndexError):
            mixed[index]


def test_slice_returns_a_plain_list(mixed):
    """``r[a:b]`` is a plain ``list`` of RunResults, not a MapResult (B41)."""
    part = mixed[0:2]
    assert type(part) is list
    assert part == [mixed.results[0], mixed.results[1]]
    assert mixed[::-1] == list(reversed(mixed.results))
    assert mixed[5:] == []


def test_str_index_gives_each_items_value_or_none(mixed):
    """``r["key"]`` lists ``values.get(key)`` per item, ``None`` where absent (B42)."""
    assert mixed["result"] == [3, None, 5]
    assert type(mixed["result"]) is list


def test_str_index_includes_values_a_failed_item_produced(mixed):
    """A failed item contributes the outputs it made before failing (B42)."""
    assert mixed["doubled"] == [2, -2, 4]
    assert mixed["verdict"] == ["ok", "ok", "ok"]


def test_str_index_of_unknown_key_gives_nones(mixed):
    """An unknown key never raises; it gives ``[None] * N`` (B42)."""
    assert mixed["no_such_output"] == [None, None, None]


@pytest.mark.parametrize(
    ("index", "type_name"), [(1.0, "float"), (None, "NoneType"), ((0,), "tuple")]
)
def test_other_index_types_raise_type_error(mixed, index, type_name):
    """Indexing with anything but int, slice or str raises ``TypeError`` (B43)."""
    message = f"indices must be integers, slices, or strings, not {type_name}"
    with pytest.raises(TypeError, match=re.escape(message)):
        mixed[index]


def test_membership_tests_run_results(mixed):
    """``in`` looks for RunResults, never for output names (B44)."""
    assert mixed[1] in mixed
    assert "doubled" not in mixed
    assert "result" not in mixed
    other = build([1])
    assert other[0] not in mixed


def test_equality_with_itself_and_lists(mixed):
    """A MapResult equals a list of its RunResults, and no other list (B44)."""
    assert mixed == mixed
    assert mixed == list(mixed.results)
    assert list(mixed.results) == mixed
    assert mixed != list(mixed.results)[:2]
    assert mixed != []
    assert mixed != build([1, -1, 2])


def test_empty_batches_equal_each_other_and_the_empty_list(empty):
    """Empty MapResults are equal whatever their fields, and equal ``[]`` (B44)."""
    with SyncRunner() as sync:
        other = sync.map(ITEM, map_over="x", map_mode="product", x=[])
    assert empty == other
    assert empty == []
    assert not (empty != [])  # noqa: SIM202 - exercising __ne__


def test_comparison_with_other_types_is_not_implemented(mixed):
    """Comparing with a non-list, non-MapResult is ``NotImplemented`` (B44)."""
    assert mixed != "hello"
    assert not (mixed == "hello")  # noqa: SIM201 - exercising __eq__
    assert mixed.__eq__("hello") is NotImplemented
    assert mixed != tuple(mixed.results)
    assert mixed != 3


def test_get_applies_the_default_per_item(mixed):
    """``r.get(key, default)`` uses the default where an item lacks the key (B45)."""
    assert mixed.get("result", 0) == [3, 0, 5]
    assert mixed.get("result") == [3, None, 5]
    assert mixed.get("no_such_output", "x") == ["x", "x", "x"]


# -- §5.2 aggregate status ----------------------------------------------------

STATUS_CASES = {
    "all_completed": ([1, 2], RunStatus.COMPLETED),
    "completed_and_failed": ([1, -1], RunStatus.PARTIAL),
    "all_failed": ([-1, -2], RunStatus.FAILED),
    "all_paused": ([0, 0], RunStatus.PAUSED),
    "completed_and_paused": ([1, 0], RunStatus.PAUSED),
    "failed_and_paused": ([-1, 0], RunStatus.FAILED),
    "all_three": ([1, -1, 0], RunStatus.PARTIAL),
    "single_completed": ([5], RunStatus.COMPLETED),
}


@pytest.mark.parametrize(
    ("xs", "expected"), list(STATUS_CASES.values()), ids=list(STATUS_CASES)
)
def test_aggregate_status_and_flags(xs, expected):
    """``status`` and the boolean flags follow the B46/B47 rules."""
    result = build(xs)
    assert result.status is expected
    assert result.completed is (expected is RunStatus.COMPLETED)
    assert result.paused is (expected is RunStatus.PAUSED)
    assert result.partial is (expected is RunStatus.PARTIAL)
    assert result.failed is (expected in (RunStatus.FAILED, RunStatus.PARTIAL))


def test_status_is_a_string_valued_enum(mixed):
    """``RunStatus`` members compare equal to their string values (B46)."""
    assert mixed.status == "partial"
    assert RunStatus.FAILED == "failed"
    assert RunStatus.PARTIAL.value == "partial"


def test_empty_batch_status_is_completed(empty):
    """An empty batch is COMPLETED, not failed or paused (B46, B53)."""
    assert empty.status is RunStatus.COMPLETED
    assert empty.completed
    assert not empty.failed
    assert not empty.paused
    assert not empty.partial


def test_failures_lists_failed_items_in_input_order():
    """``failures`` holds the failed RunResults in input order (B47)."""
    result = build([-1, 1, -2, 0, -3])
    assert result.failures == [result[0], result[2], result[4]]
    assert [r.values["doubled"] for r in result.failures] == [-2, -4, -6]


def test_failures_is_empty_without_failed_items(empty):
    """``failures`` is ``[]`` when nothing failed (B47)."""
    assert build([1, 0]).failures == []
    assert empty.failures == []


# -- §5.3 summary, to_dict, log, repr -----------------------------------------


def test_summary_counts_states_and_ends_with_total_duration(mixed):
    """``summary()`` is ``"<count> | <states> | <duration>"`` (B48)."""
    expected = f"3 items | 2 completed, 1 failed | {duration(mixed.total_duration_ms)}"
    assert mixed.summary() == expected
    assert "avg" not in mixed.summary()


def test_summary_of_one_item_is_singular():
    """One item reads ``"1 item"`` (B48)."""
    result = build([4])
    assert (
        result.summary()
        == f"1 item | 1 completed | {duration(result.total_duration_ms)}"
    )


def test_summary_omits_zero_state_counts():
    """Only non-zero states appear, in completed/failed/paused order (B48)."""
    result = build([-1, -2])
    assert (
        result.summary() == f"2 items | 2 failed | {duration(result.total_duration_ms)}"
    )


def test_summary_of_empty_batch(empty):
    """An empty batch reads exactly ``"0 items | 0ms"`` (B48, B53)."""
    assert empty.summary() == "0 items | 0ms"


B49_KEYS = {
    "run_id",
    "workflow_id",
    "status",
    "total_duration_ms",
    "map_over",
    "map_mode",
    "graph_name",
    "item_count",
    "completed_count",
    "failed_count",
    "paused_count",
    "items",
}


def test_to_dict_has_the_documented_shape():
    """``to_dict()`` has exactly the B49 keys with primitive values."""
    result = build([1, -1, 0], workflow_id="wf")
    data = result.to_dict()
    assert set(data) == B49_KEYS
    assert json.loads(json.dumps(data)) == data
    assert data["run_id"] == result.run_id
    assert data["workflow_id"] == "wf"
    assert data["status"] == "partial"
    assert data["total_duration_ms"] == result.total_duration_ms
    assert data["map_over"] == ["x"]
    assert data["map_mode"] == "zip"
    assert data["graph_name"] == "item"
    assert (data["item_count"], data["completed_count"]) == (3, 1)
    assert (data["failed_count"], data["paused_count"]) == (1, 1)
    assert data["items"] == [r.to_dict() for r in result]


def test_to_dict_items_hold_ids_log_and_error_text_only():
    """Items are RunResult dicts: ids, status, log, error as text (B49)."""
    data = build([1, -1], workflow_id="wf").to_dict()
    done, failed = data["items"]
    assert set(done) == {"status", "run_id", "workflow_id", "log"}
    assert done["status"] == "completed"
    assert done["workflow_id"] == "wf/0"
    assert set(failed) == {
        "status",
        "run_id",
        "workflow_id",
        "log",
        "error",
        "error_node",
    }
    assert failed["error"] == "Boom: negative -2"
    assert failed["error_node"] == "finish"
    assert "values" not in done


def test_to_dict_never_holds_raw_values():
    """Unserialisable output values do not break ``to_dict()`` (B49)."""

    class Opaque:
        pass

    @node(output_name="obj")
    def make(x: int) -> Opaque:
        return Opaque()

    with SyncRunner() as sync:
        result = sync.map(Graph([make], name="opaque"), map_over="x", x=[1, 2])
    text = json.dumps(result.to_dict())
    assert "Opaque" not in text


def test_log_is_a_map_log_of_the_item_logs(mixed):
    """``log`` is a MapLog holding each item's RunLog in order (B50)."""
    log = mixed.log
    assert isinstance(log, MapLog)
    assert len(log) == 3
    assert list(log) == [r.log for r in mixed]
    assert [item.run_id for item in log] == [r.run_id for r in mixed]
    assert log.graph_name == "item"
    assert log.total_duration_ms == mixed.total_duration_ms


def test_sequential_total_duration_covers_every_item():
    """``total_duration_ms`` is the wall time of the whole call (§5)."""
    result = build([1, 2, 3, -1])
    items = sum(r.log.total_duration_ms for r in result)
    assert result.total_duration_ms >= items - 0.01


def test_log_of_empty_batch_is_empty(empty):
    """An empty batch has an empty MapLog (B50)."""
    assert isinstance(empty.log, MapLog)
    assert len(empty.log) == 0


def test_repr_counts_states_and_average(mixed):
    """``repr`` shows the count, states, per-item average and ``map_over`` (B51)."""
    pattern = (
        r"MapResult\(3 items: 2 completed, 1 failed, avg "
        r"[0-9.]+m?s/item, map_over=\('x',\)\)"
    )
    assert re.fullmatch(pattern, repr(mixed))


def test_repr_of_empty_batch(empty):
    """An empty batch's repr reads ``empty`` (B51)."""
    assert repr(empty) == "MapResult(0 items: empty, map_over=('x',))"


def test_item_summary_is_its_log_summary(mixed):
    """An item with a log summarises as its log (B52)."""
    assert [r.summary() for r in mixed] == [r.log.summary() for r in mixed]


def test_run_result_summary_falls_back_to_error_then_status():
    """Without a log the summary is the error, else the status value (B52)."""
    failed = RunResult(
        values={},
        status=RunStatus.FAILED,
        run_id="run-000000000001",
        error=ValueError("bad value"),
    )
    paused = RunResult(values={}, status=RunStatus.PAUSED, run_id="run-000000000002")
    assert failed.summary() == "failed: ValueError: bad value"
    assert paused.summary() == "paused"


# -- §6 empty inputs and the descriptive fields -------------------------------


@pytest.mark.parametrize(
    ("mode", "values"),
    [("zip", {"a": [], "b": []}), ("product", {"a": [1, 2], "b": []})],
)
async def test_empty_batch_returns_at_once(runner, mode, values):
    """N = 0 gives an empty COMPLETED MapResult with no run id (B53)."""
    ran: list[Any] = []

    @node(output_name="k")
    def body(a: int, b: int) -> int:
        ran.append((a, b))
        return a + b

    result = await runner.map(
        Graph([body], name="empty"),
        values,
        map_over=["a", "b"],
        map_mode=mode,
        workflow_id="wf",
    )
    assert ran == []
    assert len(result) == 0
    assert result.results == ()
    assert result.run_id is None
    assert result.total_duration_ms == 0
    assert result.status is RunStatus.COMPLETED
    assert result["k"] == []
    assert result.summary() == "0 items | 0ms"
    assert result.map_over == ("a", "b")
    assert result.map_mode == mode
    assert result.graph_name == "empty"
    assert result.workflow_id == "wf"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"map_mode": "both"}, ValueError, "Invalid map_mode='both'"),
        ({"clone": ["x"]}, ValueError, "Cannot clone mapped parameter 'x'"),
        ({"clone": "x"}, TypeError, "clone must be True, False or a list"),
    ],
    ids=["map_mode", "clone_mapped", "clone_str"],
)
async def test_empty_batch_still_validates_arguments(runner, kwargs, error, message):
    """Validation runs before the N = 0 shortcut (B53)."""
    with pytest.raises(error, match=re.escape(message)):
        await runner.map(ITEM, map_over="x", x=[], **kwargs)


async def test_map_result_fields_describe_the_call(runner):
    """``map_over``, ``map_mode``, ``graph_name``, ``workflow_id``, ids (§5)."""

    @node(output_name="s")
    def join(a: str, b: str) -> str:
        return a + b

    result = await runner.map(
        Graph([join], name="joiner"),
        map_over=["b", "a"],
        map_mode="product",
        a=["x", "y"],
        b=["1", "2"],
        workflow_id="batch",
    )
    assert result["s"] == ["x1", "y1", "x2", "y2"]
    assert result.map_over == ("b", "a")
    assert result.map_mode == "product"
    assert result.graph_name == "joiner"
    assert result.workflow_id == "batch"
    assert RUN_ID.fullmatch(result.run_id)
    assert isinstance(result.total_duration_ms, float)
    assert result.total_duration_ms > 0


async def test_unnamed_graph_gives_empty_graph_name(runner):
    """A graph without a name reports ``graph_name == ""`` (§5)."""
    result = await runner.map(Graph([double]), map_over="x", x=[1])
    assert result.graph_name == ""
    assert result.to_dict()["graph_name"] == ""
