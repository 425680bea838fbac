"""The superstep execution model (spec 02, R13-R20)."""

from __future__ import annotations

import threading

import pytest

from hypergraph import (
    END,
    Graph,
    GraphConfigError,
    InfiniteLoopError,
    RunStatus,
    SyncRunner,
    node,
    route,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="result")
def process(x: int = 10) -> int:
    return x


@node(output_name="count")
def incr(count: int) -> int:
    return count + 1


@route(targets=["incr"])
def forever(count: int) -> str:
    return "incr"


@node(output_name="x")
def inc(x: int) -> int:
    return x + 1


@node(output_name="messages")
def add_message(messages: list[str]) -> list[str]:
    return [*messages, "hi"]


@node(output_name="pair")
def make_pair(x: int) -> tuple[int, int]:
    return (x, x + 1)


@node(output_name=("low", "high"))
def split(x: int) -> tuple[int, int]:
    return (x - 1, x + 1)


@node(output_name=("low", "high"))
def split_three(x: int) -> tuple[int, int, int]:
    return (x - 1, x, x + 1)


@node(output_name=("low", "high"))
def split_unsized(x: int) -> int:
    return x


@node(output_name=("only",))
def one_tuple(x: int) -> tuple[int, int]:
    return (x, x)


@node
def returns_ignored(x):
    return x * 100


@node(output_name="m", emit="done")
def prod(x: int) -> int:
    return x + 1


@node(output_name="n", wait_for="done")
def cons(x: int) -> int:
    return x + 2


CHAIN = Graph([double, add_one])
ENDLESS = Graph([incr, forever], entrypoint="incr")


class Unequal:
    """A value whose equality comparison raises (like an ambiguous array)."""

    def __eq__(self, other: object) -> bool:
        raise ValueError("ambiguous comparison")

    __hash__ = object.__hash__


class NoCopy:
    """A default value that refuses to be deep-copied."""

    def __deepcopy__(self, memo: dict[int, object]) -> NoCopy:
        raise TypeError("cannot deep-copy NoCopy")


# --- R13: state and versions --------------------------------------------------------


async def test_rewriting_an_equal_value_does_not_retrigger_consumers(runner):
    """A loop whose body keeps producing the same value stops after one extra run."""
    calls = []

    @node(output_name="level")
    def capped(level: int) -> int:
        calls.append(level)
        return min(level + 1, 2)

    @route(targets=["capped"])
    def again(level: int) -> str:
        return "capped"

    graph = Graph([capped, again], entrypoint="capped")
    result = await runner.run(graph, level=0, max_iterations=50)
    assert result.completed
    assert result["level"] == 2
    assert calls == [0, 1, 2]


async def test_value_whose_comparison_raises_counts_as_changed(runner):
    """A value whose ``==`` raises always bumps its version: the loop never settles."""

    @node(output_name="blob")
    def produce(blob: object) -> object:
        return Unequal()

    @route(targets=["produce"])
    def back(blob: object) -> str:
        return "produce"

    graph = Graph([produce, back], entrypoint="produce")
    with pytest.raises(InfiniteLoopError):
        await runner.run(graph, blob=0, max_iterations=8)


async def test_equal_value_from_stable_loop_keeps_gate_quiet(runner):
    """The gate consuming an unchanged value does not run again."""
    gate_calls = []

    @node(output_name="v")
    def keep(v: int) -> int:
        return v

    @route(targets=["keep"])
    def recheck(v: int) -> str:
        gate_calls.append(v)
        return "keep"

    graph = Graph([keep, recheck], entrypoint="keep")
    result = await runner.run(graph, v=5, max_iterations=20)
    assert result.completed
    assert gate_calls == [5]


# --- R14: value resolution ----------------------------------------------------


async def test_value_resolution_spec_example(runner):
    """``process(x=10)`` bound to 5: run ``{x: 3}`` gives 3, ``{}`` 5, unbound 10."""
    bound = Graph([process]).bind(x=5)
    assert (await runner.run(bound, x=3))["result"] == 3
    assert (await runner.run(bound))["result"] == 5
    assert (await runner.run(Graph([process])))["result"] == 10


async def test_producer_output_overwrites_supplied_seed(runner):
    """A node's output replaces the supplied seed of the same name."""
    result = await runner.run(Graph([inc], entrypoint="inc"), x=1)
    assert result.values == {"x": 2}


async def test_graph_node_inner_binding_is_used(runner):
    """A binding on the inner graph applies when the outer run supplies nothing."""
    inner = Graph([process], name="inner").bind(x=7)
    result = await runner.run(Graph([inner.as_node()]))
    assert result["result"] == 7


async def test_outer_value_overrides_inner_binding(runner):
    """A value supplied to the outer run for a nested-bound input wins."""
    inner = Graph([process], name="inner").bind(x=7)
    result = await runner.run(Graph([inner.as_node()]), x=1)
    assert result["result"] == 1


async def test_mutable_default_is_deep_copied_on_every_call(runner):
    """A mutable default does not leak between calls or runs."""

    @node(output_name="collected")
    def collect(item: int, bucket: list[int] = []) -> list[int]:  # noqa: B006
        bucket.append(item)
        return bucket

    graph = Graph([collect])
    first = await runner.run(graph, item=1)
    second = await runner.run(graph, item=2)
    assert first["collected"] == [1]
    assert second["collected"] == [2]
    assert collect.defaults["bucket"] == []


async def test_mutable_default_is_fresh_on_every_loop_pass(runner):
    """Each execution of a looping node gets its own copy of the default."""
    seen = []

    @node(output_name="n")
    def step(n: int, scratch: dict[str, int] = {}) -> int:  # noqa: B006
        seen.append(dict(scratch))
        scratch["touched"] = n
        return n + 1

    @route(targets=["step", END])
    def until_three(n: int) -> object:
        return "step" if n < 3 else END

    graph = Graph([step, until_three], entrypoint="step")
    result = await runner.run(graph, n=0)
    assert result["n"] == 3
    assert seen == [{}, {}, {}]


async def test_bound_object_is_passed_by_reference(runner):
    """A bound object reaches the node as the same object, never a copy."""
    store = {"hits": 0}
    received = []

    @node(output_name="hits")
    def use_store(store: dict[str, int]) -> int:
        received.append(store)
        store["hits"] += 1
        return store["hits"]

    await runner.run(Graph([use_store]).bind(store=store))
    assert received[0] is store
    assert store == {"hits": 1}


async def test_bound_lock_is_passed_without_copying(runner):
    """A non-copyable bound value (a lock) is accepted and passed as is."""
    lock = threading.Lock()
    received = []

    @node(output_name="ok")
    def use_lock(lock: object) -> bool:
        received.append(lock)
        return True

    result = await runner.run(Graph([use_lock]).bind(lock=lock))
    assert result["ok"] is True
    assert received[0] is lock


async def test_supplied_object_is_passed_by_reference(runner):
    """A supplied mutable input is the caller's object inside the node."""
    data = [1, 2]
    received = []

    @node(output_name="size")
    def measure(data: list[int]) -> int:
        received.append(data)
        return len(data)

    await runner.run(Graph([measure]), data=data)
    assert received[0] is data


async def test_non_deepcopyable_default_raises_graph_config_error(runner):
    """A default that cannot be deep-copied fails its node with GraphConfigError."""

    @node(output_name="y")
    def needs_copy(x: int, helper: NoCopy = NoCopy()) -> int:  # noqa: B008
        return x

    with pytest.raises(GraphConfigError, match=r"bind"):
        await runner.run(Graph([needs_copy]), x=1)


async def test_non_deepcopyable_default_is_a_node_failure(runner):
    """Under ``continue`` the bad default fails its node; earlier outputs remain."""

    @node(output_name="z")
    def late(doubled: int, helper: NoCopy = NoCopy()) -> int:  # noqa: B008
        return doubled

    result = await runner.run(Graph([double, late]), x=1, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, GraphConfigError)
    assert result.values == {"doubled": 2}
    assert result.to_dict()["error_node"] == "late"
    assert result.log.steps[-1].status == "failed"


async def test_binding_a_non_copyable_value_avoids_the_error(runner):
    """Binding the parameter skips the default, so the run completes."""

    @node(output_name="y")
    def needs_copy(x: int, helper: NoCopy = NoCopy()) -> int:  # noqa: B008
        return x

    helper = NoCopy()
    result = await runner.run(Graph([needs_copy]).bind(helper=helper), x=4)
    assert result["y"] == 4


# --- R15 / R16: readiness and staleness ---------------------------------------


async def test_chain_runs_one_node_per_superstep(runner):
    """A consumer waits for its producer: supersteps 0 then 1."""
    result = await runner.run(CHAIN, x=1)
    assert [(s.node_name, s.superstep) for s in result.log.steps] == [
        ("double", 0),
        ("add_one", 1),
    ]


async def test_independent_nodes_share_the_first_superstep(runner):
    """Nodes with no dependency between them are ready together."""

    @node(output_name="p")
    def first(x: int) -> int:
        return x

    @node(output_name="q")
    def second(x: int) -> int:
        return x

    result = await runner.run(Graph([first, second]), x=1)
    assert sorted((s.node_name, s.superstep) for s in result.log.steps) == [
        ("first", 0),
        ("second", 0),
    ]


async def test_self_consuming_node_runs_once(runner):
    """``inc(x)->x`` with an entrypoint runs once per activation."""
    result = await runner.run(Graph([inc], entrypoint="inc"), x=1)
    assert result.values == {"x": 2}
    assert len(result.log.steps) == 1


async def test_accumulator_does_not_loop_on_itself(runner):
    """``add(messages)->messages`` runs once and does not re-trigger itself."""
    graph = Graph([add_message], entrypoint="add_message")
    result = await runner.run(graph, messages=[])
    assert result["messages"] == ["hi"]
    assert len(result.log.steps) == 1


async def test_gate_loop_runs_until_end(runner):
    """A counter loop alternates body and gate until the gate returns END."""

    @route(targets=["incr", END])
    def loop(count: int) -> object:
        return "incr" if count < 5 else END

    result = await runner.run(Graph([incr, loop], entrypoint="incr"), count=0)
    assert result["count"] == 5
    incr_steps = [s.superstep for s in result.log.steps if s.node_name == "incr"]
    loop_steps = [s.superstep for s in result.log.steps if s.node_name == "loop"]
    assert incr_steps == [0, 2, 4, 6, 8]
    assert loop_steps == [1, 3, 5, 7, 9]


# --- R17: superstep snapshot ------------------------------------------------------


async def test_superstep_nodes_read_state_from_superstep_start(runner):
    """A node never sees a sibling's output written in the same superstep."""
    g_reads = []

    @node(output_name="b")
    def f(a: int) -> int:
        return 1

    @node(output_name="a")
    def g(b: int) -> int:
        g_reads.append(b)
        return 2

    graph = Graph([f, g], entrypoint=["f", "g"])
    result = await runner.run(graph, a=10, b=20)
    assert g_reads == [20, 1]
    assert result.values == {"b": 1, "a": 2}
    assert [s.superstep for s in result.log.steps] == [0, 0, 1, 1]


def test_sync_runner_without_limit_runs_superstep_in_graph_node_order():
    """Sequential execution runs the ready nodes in graph node order."""
    order = []

    def make(label: str):
        def body(x: int) -> int:
            order.append(label)
            return x

        return node(body, f"out_{label}").with_name(label)

    graph = Graph([make("c"), make("a"), make("b")])
    with SyncRunner() as sync_runner:
        result = sync_runner.run(graph, x=1)
    assert order == ["c", "a", "b"]
    assert [s.node_name for s in result.log.steps] == ["c", "a", "b"]


# --- R18: outputs -----------------------------------------------------------------


async def test_single_output_stores_tuple_whole(runner):
    """A single data output keeps a returned tuple as one value."""
    result = await runner.run(Graph([make_pair]), x=1)
    assert result["pair"] == (1, 2)


async def test_one_element_output_tuple_stores_whole_value(runner):
    """``output_name=("only",)`` behaves like a single output."""
    result = await runner.run(Graph([one_tuple]), x=3)
    assert result["only"] == (3, 3)


async def test_several_outputs_unpack_positionally(runner):
    """Several data outputs unpack any returned sequence in order."""
    result = await runner.run(Graph([split]), x=5)
    assert result.values == {"low": 4, "high": 6}
    as_list = node(lambda x: [x, -x], ("low", "high")).with_name("as_list")
    listed = await runner.run(Graph([as_list]), x=2)
    assert listed.values == {"low": 2, "high": -2}


async def test_output_length_mismatch_raises_value_error(runner):
    """Returning three values for two outputs raises ValueError."""
    with pytest.raises(ValueError, match="has 2 data outputs but returned 3 values"):
        await runner.run(Graph([split_three]), x=1)


async def test_output_length_mismatch_is_a_node_failure(runner):
    """The unpacking ValueError follows ``error_handling="continue"``."""
    result = await runner.run(Graph([split_three]), x=1, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, ValueError)
    assert result.log.steps[0].status == "failed"


async def test_non_sized_value_for_several_outputs_raises_type_error(runner):
    """A non-sized return value for several outputs raises TypeError."""
    with pytest.raises(TypeError, match="must return a sequence of 2 values"):
        await runner.run(Graph([split_unsized]), x=1)


async def test_non_sized_value_is_a_node_failure(runner):
    """The unpacking TypeError follows ``error_handling="continue"``."""
    result = await runner.run(Graph([split_unsized]), x=1, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, TypeError)


async def test_node_without_outputs_drops_its_return_value(runner):
    """A node with no data outputs contributes nothing to values."""
    result = await runner.run(Graph([returns_ignored]), x=1)
    assert result.completed
    assert result.values == {}


async def test_emit_signal_is_not_visible_in_values(runner):
    """Emit names never appear in values."""
    result = await runner.run(Graph([prod, cons]), x=1)
    assert result.values == {"m": 2, "n": 3}
    assert "done" not in result


# --- R19: wait_for ------------------------------------------------------------------


async def test_wait_for_orders_nodes_into_successive_supersteps(runner):
    """``cons`` waits for ``done`` from ``prod``: supersteps 0 and 1."""
    result = await runner.run(Graph([prod, cons]), x=1)
    steps = {s.node_name: s.superstep for s in result.log.steps}
    assert steps == {"prod": 0, "cons": 1}


async def test_wait_for_a_data_output_orders_without_consuming(runner):
    """``wait_for`` on a data output orders the node after its producer."""
    order = []

    @node(output_name="token")
    def make_token(x: int) -> int:
        order.append("make_token")
        return x

    @node(output_name="after", wait_for="token")
    def use_later(x: int) -> int:
        order.append("use_later")
        return x * 3

    graph = Graph([use_later, make_token])
    result = await runner.run(graph, x=2)
    assert order == ["make_token", "use_later"]
    assert result["after"] == 6


# --- R20: max_iterations -------------------------------------------------------------


async def test_two_step_chain_with_max_iterations_one_fails(runner):
    """A chain needing two supersteps fails with ``max_iterations=1``."""
    with pytest.raises(InfiniteLoopError) as excinfo:
        await runner.run(CHAIN, x=1, max_iterations=1)
    assert excinfo.value.max_iterations == 1
    assert str(excinfo.value).startswith("Graph execution exceeded 1 iterations")


async def test_two_step_chain_with_max_iterations_two_completes(runner):
    """The same chain completes with ``max_iterations=2``."""
    result = await runner.run(CHAIN, x=1, max_iterations=2)
    assert result.values == {"doubled": 2, "result": 3}


async def test_single_node_with_max_iterations_one_completes(runner):
    """One superstep is enough for a single node."""
    result = await runner.run(Graph([double]), x=1, max_iterations=1)
    assert result["doubled"] == 2


async def test_max_iterations_failure_under_continue_keeps_values(runner):
    """Under ``continue`` InfiniteLoopError gives FAILED with the earlier values."""
    result = await runner.run(CHAIN, x=1, max_iterations=1, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, InfiniteLoopError)
    assert result.values == {"doubled": 2}


async def test_endless_loop_fails_at_max_iterations(runner):
    """A gate that always routes back with changing values hits the limit."""
    with pytest.raises(InfiniteLoopError, match="exceeded 6 iterations") as excinfo:
        await runner.run(ENDLESS, count=0, max_iterations=6)
    assert excinfo.value.max_iterations == 6


async def test_endless_loop_runs_exactly_max_iterations_supersteps(runner):
    """The failed run's log holds exactly ``max_iterations`` supersteps."""
    result = await runner.run(
        ENDLESS, count=0, max_iterations=6, error_handling="continue"
    )
    assert {s.superstep for s in result.log.steps} == set(range(6))
    assert result["count"] == 3


async def test_default_max_iterations_is_1000(runner):
    """Without ``max_iterations`` an endless loop stops after 1000 supersteps."""
    with pytest.raises(InfiniteLoopError) as excinfo:
        await runner.run(ENDLESS, count=0)
    assert excinfo.value.max_iterations == 1000


async def test_emit_signal_bumps_even_when_data_is_unchanged(runner):
    """Each run of an emitting node re-triggers its ``wait_for`` watcher."""
    watched = []

    @node(output_name="level", emit="ticked")
    def capped(level: int) -> int:
        return min(level + 1, 2)

    @route(targets=["capped"])
    def again(level: int) -> str:
        return "capped"

    @node(output_name="seen", wait_for="ticked")
    def watcher(x: int) -> int:
        watched.append(x)
        return len(watched)

    graph = Graph([capped, again, watcher], entrypoint="capped")
    result = await runner.run(graph, level=0, x=1, max_iterations=50)
    assert result.completed
    capped_runs = [s for s in result.log.steps if s.node_name == "capped"]
    assert len(capped_runs) == 3
    assert result["seen"] == 3


async def test_wait_for_node_reruns_only_after_newer_version(runner):
    """A ``wait_for`` node re-runs once per new version of the awaited name."""
    watched = []

    @node(output_name="count", emit="tick")
    def step(count: int) -> int:
        return count + 1

    @route(targets=["step", END])
    def until_two(count: int) -> object:
        return "step" if count < 2 else END

    @node(output_name="seen", wait_for="tick")
    def watcher(x: int) -> int:
        watched.append(x)
        return len(watched)

    graph = Graph([step, until_two, watcher], entrypoint="step")
    result = await runner.run(graph, count=0, x=1)
    assert result["count"] == 2
    assert result["seen"] == 2


async def test_change_from_downstream_producer_does_not_rerun_upstream_node(runner):
    """In an acyclic graph a shared value rewritten downstream does not re-run N."""

    @node(output_name=("journal", "mid"))
    def first(journal: list[str], x: int) -> tuple[list[str], int]:
        return [*journal, "first"], x

    @node(output_name="journal")
    def second(journal: list[str], mid: int) -> list[str]:
        return [*journal, "second"]

    graph = Graph([first, second], shared="journal")
    result = await runner.run(graph, journal=[], x=1, max_iterations=10)
    assert result["journal"] == ["first", "second"]
    assert [(s.node_name, s.superstep) for s in result.log.steps] == [
        ("first", 0),
        ("second", 1),
    ]
