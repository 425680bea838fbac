"""Cycles, termination and eager re-execution (spec 02 C12-C14, R16, R20)."""

from __future__ import annotations

import pytest

from hypergraph import (
    END,
    Graph,
    InfiniteLoopError,
    MissingInputError,
    RunStatus,
    ifelse,
    node,
    route,
)


def supersteps_of(result, name: str) -> list[int]:
    """Supersteps in which one node ran."""
    return [r.superstep for r in result.log.steps if r.node_name == name]


def count_runs(result, name: str) -> int:
    """How many times one node ran."""
    return len(supersteps_of(result, name))


# -- the counter loop (C12) ----------------------------------------------------


@node(output_name="count")
def incr(count: int) -> int:
    return count + 1


@route(targets=["incr", END])
def loop(count: int) -> object:
    return "incr" if count < 5 else END


@route(targets=["incr", END])
def loop_none(count: int) -> object:
    return "incr" if count < 3 else None


@route(targets=["incr"], multi_target=True)
def loop_multi(count: int) -> object:
    return ["incr"] if count < 3 else []


@route(targets=["incr", END])
def forever(count: int) -> object:
    return "incr"


COUNTER = Graph([incr, loop], entrypoint="incr")


async def test_counter_loop_counts_to_five(runner):
    """The incr/loop example turns count 0 into 5 (C12)."""
    result = await runner.run(COUNTER, count=0)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"count": 5}


async def test_counter_loop_alternates_supersteps(runner):
    """incr runs in even supersteps and loop in odd ones (C12)."""
    result = await runner.run(COUNTER, count=0)
    assert supersteps_of(result, "incr") == [0, 2, 4, 6, 8]
    assert supersteps_of(result, "loop") == [1, 3, 5, 7, 9]


async def test_counter_loop_records_each_decision(runner):
    """Every pass logs the gate's decision, the last one being "END"."""
    result = await runner.run(COUNTER, count=0)
    decisions = [r.decision for r in result.log.steps if r.node_name == "loop"]
    assert decisions == ["incr", "incr", "incr", "incr", "END"]


async def test_cycle_seed_is_a_required_input(runner):
    """The cycle seed consumed by the entrypoint is required (I4, C12)."""
    assert COUNTER.inputs.required == ("count",)
    with pytest.raises(MissingInputError):
        await runner.run(COUNTER)


@pytest.mark.parametrize(("seed", "expected", "passes"), [(3, 5, 2), (10, 11, 1)])
async def test_cycle_seed_supplied_at_run_time_sets_the_start(
    runner, seed, expected, passes
):
    """The seed supplied at run time is where the loop starts (I4)."""
    result = await runner.run(COUNTER, count=seed)
    assert result.values == {"count": expected}
    assert count_runs(result, "incr") == passes


async def test_loop_stops_when_gate_returns_none(runner):
    """A gate returning None (no fallback) ends the cycle (C13)."""
    result = await runner.run(Graph([incr, loop_none], entrypoint="incr"), count=0)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"count": 3}
    assert count_runs(result, "incr") == 3


async def test_loop_stops_when_multi_target_returns_empty_list(runner):
    """A multi-target gate returning [] ends the cycle (C13)."""
    result = await runner.run(Graph([incr, loop_multi], entrypoint="incr"), count=0)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"count": 3}


# -- max_iterations and InfiniteLoopError (C13.3, R20) ------------------------

FOREVER = Graph([incr, forever], entrypoint="incr")


async def test_gate_always_routing_back_raises_infinite_loop_error(runner):
    """A loop whose values keep changing fails with InfiniteLoopError at the bound."""
    with pytest.raises(InfiniteLoopError) as excinfo:
        await runner.run(FOREVER, count=0, max_iterations=12)
    assert excinfo.value.max_iterations == 12
    assert "12" in str(excinfo.value)
    assert "exceeded" in str(excinfo.value)


async def test_infinite_loop_uses_default_bound_of_1000(runner):
    """Without max_iterations the bound is 1000 supersteps."""
    with pytest.raises(InfiniteLoopError) as excinfo:
        await runner.run(FOREVER, count=0)
    assert excinfo.value.max_iterations == 1000
    assert "1000" in str(excinfo.value)


async def test_infinite_loop_under_continue_returns_failed_result(runner):
    """Under continue the loop error is a FAILED result with no failing node."""
    result = await runner.run(
        FOREVER, count=0, max_iterations=6, error_handling="continue"
    )
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, InfiniteLoopError)
    assert result.values == {"count": 3}
    assert result.to_dict()["error_node"] is None


async def test_max_iterations_equal_to_needed_supersteps_completes(runner):
    """A loop needing exactly max_iterations supersteps completes (R20)."""
    result = await runner.run(COUNTER, count=0, max_iterations=10)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"count": 5}


async def test_max_iterations_one_short_fails(runner):
    """One superstep fewer than the loop needs fails with InfiniteLoopError (R20)."""
    with pytest.raises(InfiniteLoopError) as excinfo:
        await runner.run(COUNTER, count=0, max_iterations=9)
    assert excinfo.value.max_iterations == 9


# -- stable values stop a loop (C13.2) ----------------------------------------


@node(output_name="clean")
def normalize(text: str) -> str:
    return text.strip().lower()


@route(targets=["normalize", END])
def always_again(clean: str) -> object:
    return "normalize"


@node(output_name="level")
def step_up(level: int) -> int:
    return min(level + 1, 3)


@route(targets=["step_up", END])
def climb(level: int) -> object:
    return "step_up"


async def test_gate_routing_back_with_stable_values_stops_after_one_extra_run(runner):
    """Routing back to a node with unchanged inputs re-runs it once, then stops."""
    graph = Graph([normalize, always_again], entrypoint="normalize")
    result = await runner.run(graph, text="  Hello ")
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"clean": "hello"}
    assert count_runs(result, "normalize") == 2
    assert count_runs(result, "always_again") == 1


async def test_loop_ends_once_output_stops_changing(runner):
    """A saturating loop stops when its output equals the previous one."""
    graph = Graph([step_up, climb], entrypoint="step_up")
    result = await runner.run(graph, level=0, max_iterations=50)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"level": 3}
    assert count_runs(result, "step_up") == 4
    assert count_runs(result, "climb") == 3


# -- self-producing nodes (R16) -----------------------------------------------


@node(output_name="x")
def inc(x: int) -> int:
    return x + 1


@node(output_name="messages")
def add(messages: list[str]) -> list[str]:
    return [*messages, "hi"]


async def test_self_producing_node_with_entrypoint_runs_once(runner):
    """inc(x)->x with an entrypoint runs once and returns x+1 (R16)."""
    result = await runner.run(Graph([inc], entrypoint="inc"), x=1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"x": 2}
    assert count_runs(result, "inc") == 1


async def test_accumulator_does_not_loop_on_itself(runner):
    """add(messages)->messages appends once instead of re-triggering itself (R16)."""
    result = await runner.run(Graph([add], entrypoint="add"), messages=["hello"])
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"messages": ["hello", "hi"]}
    assert count_runs(result, "add") == 1


async def test_supplied_seed_list_is_not_mutated(runner):
    """The accumulator returns a new list; the caller's seed is untouched."""
    seed: list[str] = []
    result = await runner.run(Graph([add], entrypoint="add"), messages=seed)
    assert result.values == {"messages": ["hi"]}
    assert seed == []


# -- agentic retrieve/generate loop -------------------------------------------


@node(output_name="docs")
def retrieve(query: str, answer: dict | None = None) -> list[str]:
    wanted = 1 if answer is None else answer["n_docs"] + 1
    return [f"{query}-doc{i}" for i in range(wanted)]


@node(output_name="answer")
def generate(docs: list[str]) -> dict:
    return {"text": " ".join(docs), "n_docs": len(docs)}


@route(targets=["retrieve", END])
def should_continue(answer: dict) -> object:
    return END if answer["n_docs"] >= 3 else "retrieve"


AGENT = Graph([retrieve, generate, should_continue], entrypoint="retrieve")


async def test_agentic_loop_retrieves_until_gate_ends(runner):
    """retrieve -> generate -> should_continue loops until the gate returns END."""
    result = await runner.run(AGENT, query="q")
    assert result.status is RunStatus.COMPLETED
    assert result["answer"] == {"text": "q-doc0 q-doc1 q-doc2", "n_docs": 3}
    assert result["docs"] == ["q-doc0", "q-doc1", "q-doc2"]
    assert count_runs(result, "retrieve") == 3
    assert count_runs(result, "generate") == 3
    last = [r for r in result.log.steps if r.node_name == "should_continue"][-1]
    assert last.decision == "END"


async def test_agentic_loop_seed_with_default_is_optional_and_overridable(runner):
    """A seed with an entrypoint default is optional and may be supplied (I4)."""
    assert AGENT.inputs.required == ("query",)
    assert "answer" in AGENT.inputs.optional
    result = await runner.run(AGENT, query="q", answer={"text": "", "n_docs": 2})
    assert result["answer"]["n_docs"] == 3
    assert count_runs(result, "retrieve") == 1


# -- refine until the score is good enough ------------------------------------


@node(output_name="draft")
def refine(draft: str) -> str:
    return draft + "+"


@node(output_name="score")
def score(draft: str) -> int:
    return len(draft)


@ifelse(when_true=END, when_false="refine")
def good_enough(score: int) -> bool:
    return score >= 5


REFINE = Graph([refine, score, good_enough], entrypoint="refine")


async def test_refine_loop_stops_when_score_is_good_enough(runner):
    """An ifelse choosing END on a good score ends the refine loop."""
    result = await runner.run(REFINE, draft="ab")
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"draft": "ab+++", "score": 5}
    assert count_runs(result, "refine") == 3
    decisions = [r.decision for r in result.log.steps if r.node_name == "good_enough"]
    assert decisions == ["refine", "refine", "END"]


async def test_refine_loop_runs_body_once_when_already_good(runner):
    """A seed that already scores well passes through the body once."""
    result = await runner.run(REFINE, draft="abcdef")
    assert result.values == {"draft": "abcdef+", "score": 7}
    assert count_runs(result, "refine") == 1


# -- eager re-execution (C14) -------------------------------------------------


@node(output_name="count")
def tick(count: int) -> int:
    return count + 1


@node(output_name="f")
def fast_path(count: int) -> int:
    return count


@node(output_name="s1")
def slow_first(count: int) -> int:
    return count


@node(output_name="s2")
def slow_second(s1: int) -> int:
    return s1


@node(output_name="s2", emit="s2_done")
def slow_second_signalling(s1: int) -> int:
    return s1


@route(targets=["tick", END])
def more(count: int) -> object:
    return "tick" if count < 2 else END


async def test_node_reruns_eagerly_on_any_fresh_input(runner):
    """A join re-runs as soon as one input is fresh, mixing new and old (C14)."""
    calls: list[tuple[int, int]] = []

    @node(output_name="j")
    def join(f: int, s2: int) -> tuple[int, int]:
        calls.append((f, s2))
        return (f, s2)

    graph = Graph(
        [tick, fast_path, slow_first, slow_second, join, more], entrypoint="tick"
    )
    result = await runner.run(graph, count=0)
    assert result.status is RunStatus.COMPLETED
    assert calls == [(1, 1), (2, 1), (2, 2)]
    assert result["j"] == (2, 2)


async def test_wait_for_orders_join_after_slow_path(runner):
    """wait_for on the slow path's emit makes the join run once per pass (C14)."""
    calls: list[tuple[int, int]] = []

    @node(output_name="j", wait_for="s2_done")
    def join(f: int, s2: int) -> tuple[int, int]:
        calls.append((f, s2))
        return (f, s2)

    graph = Graph(
        [tick, fast_path, slow_first, slow_second_signalling, join, more],
        entrypoint="tick",
    )
    result = await runner.run(graph, count=0)
    assert result.status is RunStatus.COMPLETED
    assert calls == [(1, 1), (2, 2)]
