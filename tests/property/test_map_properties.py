"""Batch invariants of ``runner.map`` and mapped GraphNodes, through both runners.

Item bodies yield to the scheduler a value-dependent number of times so that items
finish out of order; synchronisation uses ``anyio.Event`` only. The timeouts below
are safety nets that turn a missing overlap or a missing cancellation into a test
failure instead of a hang; they never order anything.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from proptools import PROPERTY_SETTINGS

from hypergraph import Graph, MapLog, RunStatus, node

pytestmark = pytest.mark.anyio

NAMES = ("a", "b", "c")
BROADCAST = {"a": 100, "b": 200, "c": 300}
GUARD_SECONDS = 5.0


concurrency = st.sampled_from([None, 1, 2, 5])


class ItemError(Exception):
    """The failure of one batch item."""


async def _yield(times: int) -> None:
    """Give other tasks ``times`` chances to run (no wall-clock waiting)."""
    for _ in range(times):
        await anyio.lowlevel.checkpoint()


async def _triple(a: int, b: int, c: int) -> tuple[int, int, int]:
    await _yield((a + 2 * b + 3 * c) % 4)
    return (a, b, c)


def _triple_sync(a: int, b: int, c: int) -> tuple[int, int, int]:
    return (a, b, c)


def _triple_graph(is_async: bool) -> Graph:
    """One node ``triple(a, b, c) -> out`` returning its inputs."""
    func = _triple if is_async else _triple_sync
    return Graph([node(func, output_name="out").with_name("triple")], name="item")


async def _checked(x: int, exc: ItemError | None) -> int:
    await _yield(x % 3)
    if exc is not None:
        raise exc
    return 2 * x + 1


def _checked_sync(x: int, exc: ItemError | None) -> int:
    if exc is not None:
        raise exc
    return 2 * x + 1


def _checked_graph(is_async: bool) -> Graph:
    """One node ``checked(x, exc) -> out`` that raises ``exc`` when it is given."""
    func = _checked if is_async else _checked_sync
    return Graph([node(func, output_name="out").with_name("checked")], name="item")


@st.composite
def mapped_names(draw: st.DrawFn) -> list[str]:
    """A non-empty subset of ``NAMES`` in random order (the ``map_over`` order)."""
    return draw(st.permutations(NAMES).map(list))[: draw(st.integers(1, 3))]


@dataclass(frozen=True)
class ZipCase:
    """Inputs of a zip-mode batch."""

    names: list[str]
    columns: dict[str, list[int]]
    max_concurrency: int | None
    is_async: bool
    workflow_id: str | None

    @property
    def values(self) -> dict[str, Any]:
        """Mapped columns plus broadcast values for the other inputs."""
        return {**BROADCAST, **self.columns}

    def expected(self) -> list[tuple[int, int, int]]:
        """Item ``i`` sees element ``i`` of every mapped column."""
        length = len(self.columns[self.names[0]])
        return [
            tuple(  # type: ignore[misc]
                self.columns[n][i] if n in self.columns else BROADCAST[n] for n in NAMES
            )
            for i in range(length)
        ]


@st.composite
def zip_cases(draw: st.DrawFn) -> ZipCase:
    """Equal-length columns for a random subset of inputs."""
    names = draw(mapped_names())
    length = draw(st.integers(0, 8))
    column = st.lists(st.integers(-20, 20), min_size=length, max_size=length)
    return ZipCase(
        names=names,
        columns={n: draw(column) for n in names},
        max_concurrency=draw(concurrency),
        is_async=draw(st.booleans()),
        workflow_id=draw(st.sampled_from([None, "batch"])),
    )


@dataclass(frozen=True)
class ProductCase:
    """Inputs of a product-mode batch."""

    names: list[str]
    columns: dict[str, list[int]]
    max_concurrency: int | None
    is_async: bool

    @property
    def values(self) -> dict[str, Any]:
        """Mapped columns plus broadcast values for the other inputs."""
        return {**BROADCAST, **self.columns}

    def expected(self) -> list[tuple[int, int, int]]:
        """``itertools.product`` over the columns in ``map_over`` order."""
        rows = []
        for combo in itertools.product(*(self.columns[n] for n in self.names)):
            item = {**BROADCAST, **dict(zip(self.names, combo, strict=True))}
            rows.append(tuple(item[n] for n in NAMES))
        return rows  # type: ignore[return-value]


@st.composite
def product_cases(draw: st.DrawFn) -> ProductCase:
    """Columns of independent lengths (0-3) for a random subset of inputs."""
    names = draw(mapped_names())
    columns = {n: draw(st.lists(st.integers(-20, 20), max_size=3)) for n in names}
    return ProductCase(names, columns, draw(concurrency), draw(st.booleans()))


@PROPERTY_SETTINGS
@given(case=zip_cases())
async def test_map_zip_keeps_order_and_alignment(runner, case: ZipCase) -> None:
    """Zip item ``i`` gets element ``i`` of every mapped list, in input order."""
    result = await runner.map(
        _triple_graph(case.is_async),
        case.values,
        map_over=case.names,
        max_concurrency=case.max_concurrency,
        workflow_id=case.workflow_id,
    )
    expected = case.expected()
    assert len(result) == len(expected)
    assert result["out"] == expected
    assert [r.values for r in result] == [{"out": e} for e in expected]
    assert all(r.status is RunStatus.COMPLETED for r in result)
    assert result.status is RunStatus.COMPLETED
    assert result.map_over == tuple(case.names)
    assert result.map_mode == "zip"
    assert len({r.run_id for r in result}) == len(expected)
    if case.workflow_id is not None:
        assert [r.workflow_id for r in result] == [
            f"{case.workflow_id}/{i}" for i in range(len(expected))
        ]


@PROPERTY_SETTINGS
@given(case=product_cases())
async def test_map_product_order_is_itertools_product(
    runner, case: ProductCase
) -> None:
    """Product items follow ``itertools.product`` over the ``map_over`` order."""
    result = await runner.map(
        _triple_graph(case.is_async),
        case.values,
        map_over=case.names,
        map_mode="product",
        max_concurrency=case.max_concurrency,
    )
    expected = case.expected()
    assert len(result) == len(expected)
    assert result["out"] == expected
    assert result.map_mode == "product"
    assert all(r.status is RunStatus.COMPLETED for r in result)


@dataclass(frozen=True)
class FailureCase:
    """A batch over ``x`` where the items flagged in ``fails`` raise."""

    xs: list[int]
    fails: list[bool]
    max_concurrency: int | None
    is_async: bool
    errors: list[ItemError | None] = field(init=False)

    def __post_init__(self) -> None:
        errors = [
            ItemError(i, x) if f else None
            for i, (x, f) in enumerate(zip(self.xs, self.fails, strict=True))
        ]
        object.__setattr__(self, "errors", errors)

    def expected_out(self) -> list[int | None]:
        """``2x + 1`` per item, ``None`` where the item failed."""
        return [
            None if f else 2 * x + 1 for x, f in zip(self.xs, self.fails, strict=True)
        ]


@st.composite
def failure_cases(draw: st.DrawFn, *, max_size: int = 8) -> FailureCase:
    """Random items with a random failing subset."""
    xs = draw(st.lists(st.integers(0, 30), max_size=max_size))
    fails = draw(st.lists(st.booleans(), min_size=len(xs), max_size=len(xs)))
    return FailureCase(xs, fails, draw(concurrency), draw(st.booleans()))


@PROPERTY_SETTINGS
@given(case=failure_cases())
async def test_map_continue_keeps_failures_at_their_index(
    runner, case: FailureCase
) -> None:
    """Under ``continue`` result ``i`` is input ``i``'s, with its own error."""
    result = await runner.map(
        _checked_graph(case.is_async),
        {"x": case.xs, "exc": case.errors},
        map_over=["x", "exc"],
        error_handling="continue",
        max_concurrency=case.max_concurrency,
    )
    assert len(result) == len(case.xs)
    assert result["out"] == case.expected_out()
    for item, error in zip(result, case.errors, strict=True):
        if error is None:
            assert item.status is RunStatus.COMPLETED
            assert item.error is None
        else:
            assert item.status is RunStatus.FAILED
            assert item.error is error
            assert item.values == {}
    assert list(result.failures) == [r for r in result if r.failed]
    n_failed = sum(case.fails)
    if n_failed == 0:
        assert result.status is RunStatus.COMPLETED
    elif n_failed == len(case.xs):
        assert result.status is RunStatus.FAILED
    else:
        assert result.status is RunStatus.PARTIAL


@dataclass
class Tracker:
    """Counts item bodies that are running at the same time."""

    target: int
    active: int = 0
    peak: int = 0
    timed_out: bool = False
    started: list[int] = field(default_factory=list)
    exited: list[int] = field(default_factory=list)
    _entered: anyio.Event | None = None

    def _event(self) -> anyio.Event:
        # Created lazily on the engine's loop (SyncRunner runs its own loop).
        if self._entered is None:
            self._entered = anyio.Event()
        return self._entered

    async def overlap(self) -> None:
        """Enter; wait until ``target`` bodies have entered; leave."""
        entered = self._event()
        self.active += 1
        self.peak = max(self.peak, self.active)
        if self.active >= self.target:
            entered.set()
        try:
            with anyio.move_on_after(GUARD_SECONDS) as guard:
                await entered.wait()
            if guard.cancelled_caught:
                self.timed_out = True
                entered.set()  # let the others go: one timeout is enough to fail
        finally:
            self.active -= 1


def _overlap_graph(tracker: Tracker, width: int) -> Graph:
    """``width`` independent async nodes per item, all measured by ``tracker``."""
    nodes = []
    for j in range(width):

        async def body(x: int) -> int:
            await tracker.overlap()
            return x

        nodes.append(node(body, output_name=f"o{j}").with_name(f"body{j}"))
    return Graph(nodes, name="item")


@PROPERTY_SETTINGS
@given(
    n_items=st.integers(0, 10),
    width=st.integers(1, 2),
    max_concurrency=st.sampled_from([None, 1, 2, 3, 5]),
)
async def test_map_peak_concurrency_reaches_but_never_exceeds_the_limit(
    runner, n_items: int, width: int, max_concurrency: int | None
) -> None:
    """At most ``max_concurrency`` bodies overlap, and exactly that many if possible."""
    bodies = n_items * width
    if max_concurrency is not None:
        target = min(max_concurrency, bodies)
    elif runner.is_sync:
        target = min(1, bodies)  # sequential execution
    else:
        target = bodies  # unlimited
    tracker = Tracker(target=max(target, 1))
    result = await runner.map(
        _overlap_graph(tracker, width),
        {"x": list(range(n_items))},
        map_over="x",
        max_concurrency=max_concurrency,
    )
    assert result["o0"] == list(range(n_items))
    assert not tracker.timed_out, f"only {tracker.peak} of {target} bodies overlapped"
    assert tracker.peak == target
    assert tracker.active == 0


@dataclass(frozen=True)
class FailFastCase:
    """A fail-fast batch: ``failing`` items raise, the others block until cancelled."""

    n_items: int
    max_concurrency: int | None
    failing: frozenset[int]

    @property
    def window(self) -> int:
        """How many items a correct scheduler starts before any can finish."""
        return min(self.max_concurrency or self.n_items, self.n_items)


@st.composite
def fail_fast_cases(draw: st.DrawFn) -> FailFastCase:
    """At least one failing item inside the first window of started items."""
    n_items = draw(st.integers(1, 8))
    mc = draw(st.sampled_from([None, 1, 2, 3]))
    window = min(mc or n_items, n_items)
    first = draw(st.integers(0, window - 1))
    others = draw(st.sets(st.integers(0, n_items - 1)))
    return FailFastCase(n_items, mc, frozenset({first} | others))


def _fail_fast_graph(tracker: Tracker, concurrent: bool) -> Graph:
    """Items record their start; failing ones raise after the first window entered."""

    async def body(i: int, exc: ItemError | None) -> int:
        tracker.started.append(i)
        try:
            if concurrent:
                await tracker.overlap()
            if exc is not None:
                raise exc
            if concurrent:
                # Block until the fail-fast cancellation arrives.
                with anyio.move_on_after(GUARD_SECONDS) as guard:
                    await anyio.sleep_forever()
                tracker.timed_out = tracker.timed_out or guard.cancelled_caught
            return i
        finally:
            tracker.exited.append(i)

    return Graph([node(body, output_name="out")], name="item")


@PROPERTY_SETTINGS
@given(case=fail_fast_cases())
@example(case=FailFastCase(4, 2, frozenset({0})))
async def test_map_fail_fast_raises_original_and_starts_nothing_new(
    runner, case: FailFastCase
) -> None:
    """Fail-fast raises the original exception and starts no item after the failure."""
    sequential = runner.is_sync and case.max_concurrency is None
    errors = [ItemError(i) if i in case.failing else None for i in range(case.n_items)]
    tracker = Tracker(target=case.window)
    graph = _fail_fast_graph(tracker, concurrent=not sequential)

    with pytest.raises(ItemError) as caught:
        await runner.map(
            graph,
            {"i": list(range(case.n_items)), "exc": errors},
            map_over=["i", "exc"],
            max_concurrency=case.max_concurrency,
        )

    assert not tracker.timed_out, "in-flight items were not cancelled"
    if sequential:
        first = min(case.failing)
        assert caught.value is errors[first]
        assert tracker.started == list(range(first + 1))
    else:
        window = set(range(case.window))
        assert any(caught.value is errors[i] for i in case.failing & window)
        assert sorted(tracker.started) == sorted(window)
    # Every started body has unwound before map() raised.
    assert sorted(tracker.exited) == sorted(tracker.started)


@dataclass(frozen=True)
class MappedNodeCase:
    """A mapped GraphNode over ``names`` inside an outer graph."""

    names: list[str]
    columns: dict[str, list[int]]
    mode: str
    bad_a: frozenset[int]
    max_concurrency: int | None
    is_async: bool

    def combos(self) -> list[dict[str, int]]:
        """Per-item inputs in item order (zip or product)."""
        cols = [self.columns[n] for n in self.names]
        rows = (
            itertools.product(*cols)
            if self.mode == "product"
            else zip(*cols, strict=True)
        )
        return [{**BROADCAST, **dict(zip(self.names, r, strict=True))} for r in rows]


@st.composite
def mapped_node_cases(draw: st.DrawFn) -> MappedNodeCase:
    """Zip or product columns, and a set of ``a`` values that make an item fail."""
    names = draw(mapped_names())
    mode = draw(st.sampled_from(["zip", "product"]))
    if mode == "zip":
        length = draw(st.integers(0, 6))
        column = st.lists(st.integers(0, 9), min_size=length, max_size=length)
    else:
        column = st.lists(st.integers(0, 9), max_size=3)
    return MappedNodeCase(
        names=names,
        columns={n: draw(column) for n in names},
        mode=mode,
        bad_a=draw(st.frozensets(st.integers(0, 9), max_size=3)),
        max_concurrency=draw(concurrency),
        is_async=draw(st.booleans()),
    )


def _mapped_outer_graph(case: MappedNodeCase, error_handling: str) -> Graph:
    """``[item.map_over(...), count(out) -> n]``; items fail for ``a`` in ``bad_a``."""
    bad = case.bad_a

    async def triple(a: int, b: int, c: int) -> tuple[int, int, int]:
        await _yield((a + b + c) % 3)
        if a in bad:
            raise ItemError(a, b, c)
        return (a, b, c)

    def triple_sync(a: int, b: int, c: int) -> tuple[int, int, int]:
        if a in bad:
            raise ItemError(a, b, c)
        return (a, b, c)

    func = triple if case.is_async else triple_sync
    inner = Graph([node(func, output_name="out").with_name("triple")], name="item")
    mapped = inner.as_node().map_over(
        *case.names, mode=case.mode, error_handling=error_handling
    )

    @node(output_name="n")
    def count(out: list[Any]) -> int:
        return len(out)

    return Graph([mapped, count], name="outer")


@PROPERTY_SETTINGS
@given(case=mapped_node_cases(), error_handling=st.sampled_from(["raise", "continue"]))
async def test_mapped_graph_node_outputs_align_with_items(
    runner, case: MappedNodeCase, error_handling: str
) -> None:
    """A mapped GraphNode's output list aligns with its items (``None`` if failed)."""
    graph = _mapped_outer_graph(case, error_handling)
    values = {**BROADCAST, **case.columns}
    combos = case.combos()
    failing = [c for c in combos if c["a"] in case.bad_a]

    if error_handling == "raise" and failing:
        with pytest.raises(ItemError) as caught:
            await runner.run(graph, values, max_concurrency=case.max_concurrency)
        assert caught.value.args in [(c["a"], c["b"], c["c"]) for c in failing]
        return

    result = await runner.run(graph, values, max_concurrency=case.max_concurrency)
    assert result.status is RunStatus.COMPLETED, result.error
    expected = [
        None if c["a"] in case.bad_a else (c["a"], c["b"], c["c"]) for c in combos
    ]
    assert result["out"] == expected
    assert result["n"] == len(combos)
    (record,) = [r for r in result.log.steps if r.node_name == "item"]
    assert isinstance(record.log, MapLog)
    assert len(record.log) == len(combos)
