"""Routing at run time: ``@route``, ``@ifelse``, ``END``, activation (02 C1-C11)."""

from __future__ import annotations

import json

import anyio
import pytest

from hypergraph import END, Graph, RunStatus, ifelse, node, route


def supersteps(result) -> list[list[str]]:
    """Node names per superstep (sorted within a superstep), from the run log."""
    steps: dict[int, list[str]] = {}
    for record in result.log.steps:
        steps.setdefault(record.superstep, []).append(record.node_name)
    return [sorted(steps[k]) for k in sorted(steps)]


def ran(result) -> list[str]:
    """Names of the nodes that ran, in completion order."""
    return [record.node_name for record in result.log.steps]


def decisions(result, gate: str) -> list[object]:
    """Every recorded decision of one gate, in order."""
    return [r.decision for r in result.log.steps if r.node_name == gate]


# -- shared branch nodes -------------------------------------------------------


@node(output_name="fast_out")
def fast(x: int) -> str:
    return f"fast:{x}"


@node(output_name="slow_out")
def slow(x: int) -> str:
    return f"slow:{x}"


@node(output_name="backup_out")
def backup(x: int) -> str:
    return f"backup:{x}"


# -- single-target routes ------------------------------------------------------


@route(targets=["fast", "slow", END])
def pick_speed(x: int) -> object:
    if x > 10:
        return "fast"
    if x > 0:
        return "slow"
    return END


@route(targets=["fast", "slow"])
def pick_none(x: int) -> object:
    return None


@route(targets=["fast", "slow"], fallback="backup")
def pick_or_fallback(x: int) -> object:
    return "fast" if x > 0 else None


@route(targets=["fast", "slow"])
def pick_list(x: int) -> object:
    return ["fast"]


@route(targets=["fast", "slow"])
def pick_unknown(x: int) -> object:
    return "nowhere"


@route(targets=["fast", END])
def pick_end_string(x: int) -> object:
    return "END"


@route(targets={"fast": "the quick path", "slow": "the careful path"})
def pick_described(x: int) -> object:
    return "slow"


@node(output_name="checked")
def check_before(x: int) -> int:
    return x


@route(targets=["fast", "slow"], default_open=False)
def pick_invalid_late(checked: int) -> object:
    return "C"


async def test_route_runs_only_the_chosen_target(runner):
    """A route returning a target name runs that target and not the others."""
    result = await runner.run(Graph([pick_speed, fast, slow]), x=20)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"fast_out": "fast:20"}
    assert "slow" not in ran(result)


async def test_route_choice_depends_on_input_value(runner):
    """The same route picks a different target for a different input."""
    result = await runner.run(Graph([pick_speed, fast, slow]), x=5)
    assert result.values == {"slow_out": "slow:5"}
    assert "fast" not in ran(result)


async def test_route_end_runs_no_target_and_completes(runner):
    """Returning END activates no target and the run completes."""
    result = await runner.run(Graph([pick_speed, fast, slow]), x=-1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {}
    assert ran(result) == ["pick_speed"]


async def test_route_none_without_fallback_activates_nothing(runner):
    """A None decision with no fallback runs no target and completes."""
    result = await runner.run(Graph([pick_none, fast, slow]), x=1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {}
    assert ran(result) == ["pick_none"]


async def test_route_none_with_fallback_runs_the_fallback(runner):
    """A None decision becomes the fallback target when one is set."""
    result = await runner.run(Graph([pick_or_fallback, fast, slow, backup]), x=-1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"backup_out": "backup:-1"}
    assert decisions(result, "pick_or_fallback") == ["backup"]


async def test_route_with_fallback_still_honours_explicit_choice(runner):
    """A non-None decision is used as is even when a fallback exists."""
    result = await runner.run(Graph([pick_or_fallback, fast, slow, backup]), x=1)
    assert result.values == {"fast_out": "fast:1"}
    assert "backup" not in ran(result)


async def test_route_returning_list_in_single_target_mode_raises_type_error(runner):
    """A list decision from a single-target route is a TypeError."""
    with pytest.raises(TypeError, match="returned a list but is not multi_target"):
        await runner.run(Graph([pick_list, fast, slow]), x=1)


async def test_route_invalid_target_raises_value_error_naming_valid_targets(runner):
    """A decision outside the targets raises ValueError listing the valid targets."""
    with pytest.raises(ValueError, match="nowhere") as excinfo:
        await runner.run(Graph([pick_unknown, fast, slow]), x=1)
    message = str(excinfo.value)
    assert "fast" in message
    assert "slow" in message


async def test_route_invalid_target_under_continue_fails_the_run(runner):
    """Under error_handling="continue" an invalid target gives a FAILED result."""
    graph = Graph([check_before, pick_invalid_late, fast, slow])
    result = await runner.run(graph, x=3, error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, ValueError)
    assert result.values == {"checked": 3}
    assert result.to_dict()["error_node"] == "pick_invalid_late"


async def test_route_returning_end_string_warns_then_fails(runner):
    """Returning the string "END" when END is a target warns, then fails (C4)."""
    with (
        pytest.warns(UserWarning, match="END"),
        pytest.raises(ValueError, match="END"),
    ):
        await runner.run(Graph([pick_end_string, fast]), x=1)


async def test_route_with_described_targets_routes_by_key(runner):
    """Dict targets route by their keys like a list of names."""
    result = await runner.run(Graph([pick_described, fast, slow]), x=2)
    assert result.values == {"slow_out": "slow:2"}


async def test_route_exception_propagates_unwrapped(runner):
    """An exception raised inside a routing function reaches the caller unchanged."""

    @route(targets=["fast", "slow"])
    def broken(x: int) -> object:
        raise KeyError("no route")

    with pytest.raises(KeyError, match="no route"):
        await runner.run(Graph([broken, fast, slow]), x=1)


# -- multi-target routes -------------------------------------------------------


@route(targets=["fast", "slow", "backup"], multi_target=True)
def fan_out(x: int) -> object:
    if x > 0:
        return ["fast", "backup"]
    if x == 0:
        return []
    return None


@route(targets=["fast", "slow"], multi_target=True)
def fan_out_string(x: int) -> object:
    return "fast"


@route(targets=["fast", "slow"], multi_target=True)
def fan_out_unknown(x: int) -> object:
    return ["fast", "elsewhere"]


MULTI = Graph([fan_out, fast, slow, backup])


async def test_multi_target_runs_every_listed_target_in_one_superstep(runner):
    """All targets in a multi-target list run, together in the same superstep."""
    result = await runner.run(MULTI, x=1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"fast_out": "fast:1", "backup_out": "backup:1"}
    assert supersteps(result) == [["fan_out"], ["backup", "fast"]]


async def test_multi_target_decision_is_recorded_as_list(runner):
    """A multi-target decision is recorded in the log as the list of names."""
    result = await runner.run(MULTI, x=1)
    assert decisions(result, "fan_out") == [["fast", "backup"]]


async def test_multi_target_targets_overlap_in_concurrent_execution(runner):
    """Targets of one multi-target decision overlap under concurrency (C5)."""
    events: dict[str, anyio.Event] = {}

    def event(name: str) -> anyio.Event:
        return events.setdefault(name, anyio.Event())

    @node(output_name="left_out")
    async def left(x: int) -> str:
        event("left").set()
        with anyio.fail_after(5):
            await event("right").wait()
        return "left"

    @node(output_name="right_out")
    async def right(x: int) -> str:
        event("right").set()
        with anyio.fail_after(5):
            await event("left").wait()
        return "right"

    @route(targets=["left", "right"], multi_target=True)
    def both(x: int) -> list[str]:
        return ["left", "right"]

    result = await runner.run(Graph([both, left, right]), x=1, max_concurrency=2)
    assert result.values == {"left_out": "left", "right_out": "right"}


@pytest.mark.parametrize("x", [0, -1], ids=["empty-list", "none"])
async def test_multi_target_empty_or_none_runs_nothing(runner, x):
    """A multi-target route returning [] or None runs no target and completes."""
    result = await runner.run(MULTI, x=x)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {}
    assert ran(result) == ["fan_out"]


async def test_multi_target_non_list_raises_type_error(runner):
    """A multi-target route returning a bare string is a TypeError."""
    with pytest.raises(TypeError, match="must return a list of targets"):
        await runner.run(Graph([fan_out_string, fast, slow]), x=1)


async def test_multi_target_unknown_member_raises_value_error(runner):
    """A multi-target list containing an unknown name is a ValueError."""
    with pytest.raises(ValueError, match="elsewhere"):
        await runner.run(Graph([fan_out_unknown, fast, slow]), x=1)


async def test_multi_target_wrong_type_under_continue_fails_the_run(runner):
    """A wrong decision type is a node failure that "continue" reports as FAILED."""
    result = await runner.run(
        Graph([fan_out_string, fast, slow]), x=1, error_handling="continue"
    )
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, TypeError)
    assert result.values == {}


# -- ifelse --------------------------------------------------------------------


@node(output_name="a")
def A(x: int) -> int:
    return x * 10


@node(output_name="c")
def C(a: int) -> int:
    return a + 1


@node(output_name="o")
def other(x: int) -> int:
    return x - 100


@ifelse(when_true="A", when_false=END)
def gate(x: int) -> bool:
    return x > 0


@ifelse(when_true="fast", when_false="slow")
def is_big(x: int) -> bool:
    return x > 10


@ifelse(when_true="fast", when_false="slow")
def returns_raw(x: object) -> object:
    return x


async def test_ifelse_true_runs_when_true_branch(runner):
    """An ifelse returning True runs its when_true node only."""
    result = await runner.run(Graph([is_big, fast, slow]), x=11)
    assert result.values == {"fast_out": "fast:11"}
    assert "slow" not in ran(result)


async def test_ifelse_false_runs_when_false_branch(runner):
    """An ifelse returning False runs its when_false node only."""
    result = await runner.run(Graph([is_big, fast, slow]), x=3)
    assert result.values == {"slow_out": "slow:3"}
    assert "fast" not in ran(result)


@pytest.mark.parametrize("value", [1, 0, "yes", None, [True]], ids=repr)
async def test_ifelse_non_bool_decision_raises_type_error(runner, value):
    """An ifelse must return exactly True or False; anything else is a TypeError."""
    with pytest.raises(TypeError, match="must return exactly True or False"):
        await runner.run(Graph([returns_raw, fast, slow]), x=value)


async def test_ifelse_non_bool_under_continue_fails_the_run(runner):
    """A non-bool ifelse decision under continue gives a FAILED result."""
    result = await runner.run(
        Graph([returns_raw, fast, slow]), x="yes", error_handling="continue"
    )
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, TypeError)
    assert result.to_dict()["error_node"] == "returns_raw"


async def test_ifelse_decision_is_recorded_as_target_name(runner):
    """The log records an ifelse decision as the chosen target's name."""
    result = await runner.run(Graph([is_big, fast, slow]), x=11)
    assert decisions(result, "is_big") == ["fast"]


# -- END only stops its own paths (C10) ----------------------------------------

C10_GRAPH = Graph([gate, A, C, other])


async def test_end_stops_only_paths_behind_the_gate(runner):
    """With END chosen the gate's targets never run but independent nodes do (C10)."""
    result = await runner.run(C10_GRAPH, x=-1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"o": -101}
    assert "A" not in ran(result)
    assert "C" not in ran(result)


async def test_gate_true_runs_target_and_its_downstream(runner):
    """With the gate open its target and the target's consumers run (C10)."""
    result = await runner.run(C10_GRAPH, x=2)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"a": 20, "c": 21, "o": -98}


async def test_end_decision_is_recorded_as_string(runner):
    """An END decision appears in the log as the plain string "END" (D-4)."""
    result = await runner.run(C10_GRAPH, x=-1)
    [decision] = decisions(result, "gate")
    assert decision == "END"
    assert isinstance(decision, str)
    assert decision is not END


async def test_end_decision_serialises_as_string_in_log_dict(runner):
    """The JSON view of the log carries END as the string "END" (D-4, O11)."""
    result = await runner.run(C10_GRAPH, x=-1)
    data = json.loads(json.dumps(result.log.to_dict()))
    gate_steps = [step for step in data["steps"] if step["node_name"] == "gate"]
    assert [step["decision"] for step in gate_steps] == ["END"]


async def test_multi_target_decision_serialises_as_list_in_log_dict(runner):
    """The JSON view of the log keeps a multi-target decision as a list of names."""
    result = await runner.run(MULTI, x=1)
    data = json.loads(json.dumps(result.log.to_dict()))
    [step] = [step for step in data["steps"] if step["node_name"] == "fan_out"]
    assert step["decision"] == ["fast", "backup"]


async def test_non_gate_records_have_no_decision(runner):
    """Steps of ordinary function nodes carry decision None."""
    result = await runner.run(C10_GRAPH, x=2)
    for record in result.log.steps:
        if record.node_name != "gate":
            assert record.decision is None


async def test_route_none_decision_is_recorded_as_none(runner):
    """A None decision without fallback is recorded as None."""
    result = await runner.run(Graph([pick_none, fast, slow]), x=1)
    assert decisions(result, "pick_none") == [None]


# -- activation: default_open (C11) -------------------------------------------


@node(output_name="kind")
def analyze(x: int) -> str:
    return "a" if x > 0 else "b"


@node(output_name="b")
def B(x: int) -> int:
    return x * 100


@route(targets=["A", "B"])
def decide(kind: str) -> str:
    return "A" if kind == "a" else "B"


decide_closed = route(targets=["A", "B"], default_open=False)(decide.func)


async def test_default_open_targets_run_before_the_decision(runner):
    """Default-open targets run before the decision, then the chosen one again (C11)."""
    result = await runner.run(Graph([analyze, decide, A, B]), x=1)
    assert result.status is RunStatus.COMPLETED
    assert supersteps(result) == [["A", "B", "analyze"], ["decide"], ["A"]]
    assert result.values == {"kind": "a", "a": 10, "b": 100}


async def test_default_open_unselected_target_keeps_early_output(runner):
    """The target not selected keeps the value of its early first-pass run."""
    result = await runner.run(Graph([analyze, decide, A, B]), x=-2)
    assert supersteps(result) == [["A", "B", "analyze"], ["decide"], ["B"]]
    assert result.values == {"kind": "b", "a": -20, "b": -200}


async def test_default_open_false_targets_wait_for_the_decision(runner):
    """With default_open=False only the chosen target runs, after the gate (C11)."""
    result = await runner.run(Graph([analyze, decide_closed, A, B]), x=1)
    assert result.status is RunStatus.COMPLETED
    assert supersteps(result) == [["analyze"], ["decide"], ["A"]]
    assert result.values == {"kind": "a", "a": 10}


async def test_targets_of_a_ready_gate_are_held_back(runner):
    """Targets of a gate that is ready in the same superstep wait for it (R15)."""
    result = await runner.run(Graph([is_big, fast, slow]), x=11)
    assert supersteps(result) == [["is_big"], ["fast"]]


async def test_gate_route_does_not_hold_back_unrelated_nodes(runner):
    """Nodes not controlled by a ready gate run alongside it in the same superstep."""
    result = await runner.run(C10_GRAPH, x=2)
    assert supersteps(result) == [["gate", "other"], ["A"], ["C"]]


# -- gate inputs (C9 / R14) ----------------------------------------------------


@route(targets=["fast", "slow"])
def threshold_route(x: int, limit: int = 10) -> str:
    return "fast" if x > limit else "slow"


async def test_gate_uses_signature_default_for_unsupplied_input(runner):
    """A gate parameter with a default uses it when nothing else supplies a value."""
    result = await runner.run(Graph([threshold_route, fast, slow]), x=5)
    assert result.values == {"slow_out": "slow:5"}


async def test_gate_uses_bound_value_and_run_value_in_order(runner):
    """A gate resolves inputs like any node: supplied beats bound beats default."""
    graph = Graph([threshold_route, fast, slow]).bind(limit=1)
    bound = await runner.run(graph, x=5)
    supplied = await runner.run(graph, x=5, values={"limit": 100})
    assert bound.values == {"fast_out": "fast:5"}
    assert supplied.values == {"slow_out": "slow:5"}


async def test_gate_with_renamed_input_reads_the_new_name(runner):
    """A gate built with rename_inputs reads its value under the renamed input."""
    renamed = route(targets=["fast", "slow"], rename_inputs={"x": "size"})(
        pick_speed.func
    )
    result = await runner.run(Graph([renamed, fast, slow]), x=1, size=50)
    assert result.values == {"fast_out": "fast:1"}


async def test_renamed_gate_records_decision_under_new_name(runner):
    """A gate built with name= routes and logs its decision under that name."""
    named = route(targets=["fast", "slow"], name="chooser")(pick_described.func)
    result = await runner.run(Graph([named, fast, slow]), x=1)
    assert result.values == {"slow_out": "slow:1"}
    assert decisions(result, "chooser") == ["slow"]


# -- gates chained to gates ----------------------------------------------------


@route(targets=["is_big", END])
def first_gate(x: int) -> object:
    return "is_big" if x >= 0 else END


is_big_closed = ifelse(when_true="fast", when_false="slow", default_open=False)(
    is_big.func
)


async def test_gate_can_route_to_another_gate(runner):
    """A gate targeting a second gate chains both decisions."""
    graph = Graph([first_gate, is_big, fast, slow])
    big = await runner.run(graph, x=50)
    small = await runner.run(graph, x=2)
    assert big.values == {"fast_out": "fast:50"}
    assert small.values == {"slow_out": "slow:2"}
    assert supersteps(big) == [["first_gate"], ["is_big"], ["fast"]]


async def test_first_gate_end_stops_the_chained_gate(runner):
    """END from the first gate stops a closed chained gate and its targets."""
    result = await runner.run(Graph([first_gate, is_big_closed, fast, slow]), x=-5)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {}
    assert ran(result) == ["first_gate"]
    assert decisions(result, "first_gate") == ["END"]


async def test_end_upstream_leaves_default_open_chained_targets_on_first_pass(runner):
    """Targets of a never-run default-open gate still get a first pass (C11b)."""
    result = await runner.run(Graph([first_gate, is_big, fast, slow]), x=-5)
    assert result.status is RunStatus.COMPLETED
    assert "is_big" not in ran(result)
    assert supersteps(result) == [["first_gate"], ["fast", "slow"]]
