"""Inputs and argument validation of ``run()`` (spec 02, R5-R7)."""

from __future__ import annotations

import hashlib
import re

import pytest

from hypergraph import (
    END,
    AsyncRunner,
    FunctionNode,
    Graph,
    HyperNode,
    IncompatibleRunnerError,
    MissingInputError,
    RunnerCapabilities,
    RunStatus,
    interrupt,
    node,
    route,
)


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="total")
def add(a: int, b: int) -> int:
    return a + b


@node(output_name="a_val")
def node_a(x: int) -> int:
    return x + 100


@node(output_name="b_val")
def node_b(y: int) -> int:
    return y + 200


@node(output_name="picked")
def pick(select: str) -> str:
    return f"picked {select}"


@node(output_name="echoed")
def echo_on_missing(on_missing: str) -> str:
    return on_missing


@node(output_name="echoed")
def echo_max_concurrency(max_concurrency: int) -> int:
    return max_concurrency


@node(output_name="echoed")
def echo_internal_override(on_internal_override: int) -> int:
    return on_internal_override


@node(output_name="echoed")
def echo_max_iterations(max_iterations: int) -> int:
    return max_iterations


@node(output_name="count")
def incr(count: int) -> int:
    return count + 1


@route(targets=["incr", END])
def loop(count: int) -> object:
    return "incr" if count < 3 else END


@node(output_name="y")
async def async_double(x: int) -> int:
    return 2 * x


@interrupt(output_name="answer")
def ask(question: str) -> str | None:
    return None


@node(output_name="final")
def finish(answer: str) -> str:
    return answer.upper()


CHAIN = Graph([double, add_one])
ADD = Graph([add])
TWO_BRANCHES = Graph([node_a, node_b])
COUNTER = Graph([incr, loop], entrypoint="incr")
ASK = Graph([ask, finish])


class _NoAsyncRunner(AsyncRunner):
    """An AsyncRunner that claims it cannot run async nodes or interrupts."""

    @property
    def capabilities(self) -> RunnerCapabilities:
        return RunnerCapabilities(
            supports_async_nodes=False,
            supports_interrupts=False,
            returns_coroutine=True,
        )


class _CountingNode(FunctionNode):
    """A user subclass of FunctionNode (dispatch must be by isinstance)."""


class _AlienNode(HyperNode):
    """A HyperNode subclass no runner has an executor for."""

    def __init__(self) -> None:
        pass

    @property
    def name(self) -> str:
        return "alien"

    @property
    def inputs(self) -> tuple[str, ...]:
        return ("x",)

    @property
    def data_outputs(self) -> tuple[str, ...]:
        return ("alien_out",)

    @property
    def definition_hash(self) -> str:
        return hashlib.sha256(b"alien").hexdigest()


# --- R5: values vs keyword shorthand -------------------------------------------


async def test_values_dict_and_keywords_are_equivalent(runner):
    """``run(g, {"x": 1})`` and ``run(g, x=1)`` give the same values."""
    by_dict = await runner.run(CHAIN, {"x": 1})
    by_kwargs = await runner.run(CHAIN, x=1)
    assert by_dict.values == by_kwargs.values == {"doubled": 2, "result": 3}


async def test_values_and_keywords_with_disjoint_keys_are_merged(runner):
    """Disjoint keys from ``values`` and keywords are both used."""
    result = await runner.run(ADD, {"a": 1}, b=2)
    assert result["total"] == 3


async def test_key_in_both_values_and_keywords_raises_value_error(runner):
    """The same key in ``values`` and keywords is a ValueError."""
    with pytest.raises(ValueError, match="both values and kwargs"):
        await runner.run(ADD, {"a": 1, "b": 2}, a=1)


async def test_values_dict_is_not_mutated_by_the_run(runner):
    """The caller's ``values`` dict is unchanged after a run that rewrites a seed."""
    values = {"count": 0}
    result = await runner.run(COUNTER, values)
    assert result["count"] == 3
    assert values == {"count": 0}


async def test_values_none_is_an_empty_dict(runner):
    """``values=None`` is accepted and behaves like an empty dict."""
    result = await runner.run(CHAIN, None, x=2)
    assert result["result"] == 5


async def test_reserved_keyword_on_internal_override_raises(runner):
    """``on_internal_override`` as a keyword input is rejected as a reserved name."""
    graph = Graph([echo_internal_override])
    with pytest.raises(ValueError, match="reserved runner options"):
        await runner.run(graph, on_internal_override=1)


@pytest.mark.parametrize(
    "name",
    [
        "select",
        "max_iterations",
        "event_processors",
        "max_concurrency",
        "on_internal_override",
        "on_missing",
        "error_handling",
        "workflow_id",
    ],
)
async def test_input_named_like_an_option_goes_through_values(runner, name):
    """An input sharing a runner option's name is accepted via ``values``."""
    echo = FunctionNode(lambda value: value, name="echo", output_name="echoed")
    graph = Graph([echo.with_inputs(value=name)])
    result = await runner.run(graph, values={name: "payload"})
    assert result["echoed"] == "payload"


async def test_select_keyword_sets_the_option_not_an_input(runner):
    """``select=`` as a keyword is the runner option (R6.6 rejects it), not an input."""
    with pytest.raises(ValueError, match="select"):
        await runner.run(Graph([pick]), select="fast")


@pytest.mark.parametrize(
    ("graph", "option"),
    [
        (Graph([echo_max_concurrency]), {"max_concurrency": 4}),
        (Graph([echo_on_missing]), {"on_missing": "warn"}),
        (Graph([echo_max_iterations]), {"max_iterations": 5}),
    ],
    ids=["max_concurrency", "on_missing", "max_iterations"],
)
async def test_option_keyword_sets_the_option_not_an_input(runner, graph, option):
    """A keyword matching a run() option sets it; the same-named input stays missing."""
    with pytest.raises(MissingInputError) as excinfo:
        await runner.run(graph, **option)
    assert excinfo.value.missing == list(option)


# --- R6: pre-run checks and their order ----------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on_missing": "explode"}, "Invalid on_missing='explode'"),
        ({"error_handling": "ignore"}, "Invalid error_handling='ignore'"),
        ({"max_iterations": 0}, "max_iterations must be None or an int >= 1, got 0"),
        ({"max_iterations": -1}, "max_iterations must be None or an int >= 1, got -1"),
        ({"max_concurrency": 0}, "max_concurrency must be None or an int >= 1, got 0"),
        ({"workflow_id": "a/b"}, "workflow_id cannot contain '/'"),
    ],
    ids=[
        "on_missing",
        "error_handling",
        "max_iterations_0",
        "max_iterations_neg",
        "max_concurrency_0",
        "workflow_id_slash",
    ],
)
async def test_invalid_option_raises_value_error_before_running(
    runner, options, message
):
    """A bad option value raises ValueError naming it, and no node executes."""
    calls = []

    @node(output_name="y")
    def spy(x: int) -> int:
        calls.append(x)
        return x

    with pytest.raises(ValueError, match=re.escape(message)):
        await runner.run(Graph([spy]), x=1, **options)
    assert calls == []


async def test_invalid_option_raises_even_with_error_handling_continue(runner):
    """Option validation raises regardless of ``error_handling="continue"``."""
    with pytest.raises(ValueError, match="on_missing"):
        await runner.run(CHAIN, x=1, on_missing="explode", error_handling="continue")


@pytest.mark.parametrize("select", ["**", "doubled"])
async def test_explicit_select_argument_raises_value_error(runner, select):
    """Any explicit ``select=`` (even ``"**"``) is a ValueError."""
    with pytest.raises(ValueError, match="select"):
        await runner.run(CHAIN, x=1, select=select)


async def test_explicit_entrypoint_argument_raises_value_error(runner):
    """An explicit ``entrypoint=`` is a ValueError pointing to the graph method."""
    with pytest.raises(ValueError, match="entrypoint"):
        await runner.run(CHAIN, x=1, entrypoint="add_one")


async def test_normalisation_is_checked_before_option_values(runner):
    """A values/kwargs clash is reported before an invalid option."""
    with pytest.raises(ValueError, match="both values and kwargs"):
        await runner.run(ADD, {"a": 1}, a=1, b=2, error_handling="bogus")


async def test_select_is_checked_before_input_checks(runner):
    """An explicit ``select`` is a ValueError even when inputs are missing."""
    with pytest.raises(ValueError, match="select"):
        await runner.run(CHAIN, select="**")


async def test_option_values_are_checked_before_missing_inputs(runner):
    """An invalid option wins over a missing required input."""
    with pytest.raises(ValueError, match="error_handling"):
        await runner.run(CHAIN, error_handling="bogus")


async def test_runner_without_async_support_rejects_async_node_naming_it():
    """A runner lacking async support raises IncompatibleRunnerError naming the node."""
    with pytest.raises(IncompatibleRunnerError, match="async_double"):
        await _NoAsyncRunner().run(Graph([async_double]), x=1)


async def test_runner_without_async_support_rejects_nested_async_node():
    """Async nodes inside a nested GraphNode count for the compatibility check."""
    inner = Graph([async_double], name="inner")
    with pytest.raises(IncompatibleRunnerError):
        await _NoAsyncRunner().run(Graph([inner.as_node()]), x=1)


async def test_runner_compatibility_is_checked_before_option_values():
    """IncompatibleRunnerError comes before an invalid ``error_handling``."""
    with pytest.raises(IncompatibleRunnerError):
        await _NoAsyncRunner().run(Graph([async_double]), x=1, error_handling="bogus")


async def test_normalisation_is_checked_before_runner_compatibility():
    """A values/kwargs clash is reported before runner incompatibility."""
    with pytest.raises(ValueError, match="both values and kwargs"):
        await _NoAsyncRunner().run(Graph([async_double]), {"x": 1}, x=1)


async def test_runner_without_interrupt_support_rejects_deeply_nested_interrupt():
    """A nested interrupt two levels deep is found before any node runs."""
    calls = []

    @node(output_name="question")
    def prepare(topic: str) -> str:
        calls.append(topic)
        return topic

    level2 = Graph([ask, finish], name="level2")
    level1 = Graph([level2.as_node()], name="level1")
    graph = Graph([prepare, level1.as_node()])
    with pytest.raises(IncompatibleRunnerError, match="ask"):
        await _NoAsyncRunner().run(graph, topic="t")
    assert calls == []


async def test_user_subclass_of_function_node_runs(runner):
    """A user subclass of FunctionNode is executed like a FunctionNode."""
    sub = _CountingNode(lambda x: x * 3, name="triple", output_name="tripled")
    result = await runner.run(Graph([sub]), x=2)
    assert result["tripled"] == 6


async def test_node_type_without_executor_raises_type_error(runner):
    """A HyperNode subclass without an executor raises TypeError before running."""
    graph = Graph([_AlienNode()])
    with pytest.raises(TypeError, match="alien"):
        await runner.run(graph, x=1)


async def test_unknown_node_type_is_checked_before_option_values(runner):
    """The missing-executor TypeError comes before an invalid option value."""
    graph = Graph([_AlienNode()])
    with pytest.raises(TypeError, match="No executor for node 'alien'"):
        await runner.run(graph, x=1, error_handling="bogus")


def test_sync_runner_inside_a_node_raises_incompatible_runner_error():
    """SyncRunner.run inside an inline node raises, suggesting AsyncRunner."""
    from hypergraph import SyncRunner

    inner_runner = SyncRunner()
    inner = Graph([double])

    @node(output_name="nested")
    def calls_sync_runner(x: int) -> int:
        return inner_runner.run(inner, x=x)["doubled"]

    with (
        SyncRunner() as outer_runner,
        pytest.raises(IncompatibleRunnerError, match=r"await AsyncRunner"),
    ):
        outer_runner.run(Graph([calls_sync_runner]), x=1)
    inner_runner.close()


# --- R7: input checks -------------------------------------------------------------


async def test_supplying_intermediate_that_could_also_be_computed_says_conflict(runner):
    """An intermediate whose producer could also run gives a 'conflict' error."""
    with pytest.raises(ValueError, match="conflict") as excinfo:
        await runner.run(CHAIN, x=1, doubled=5)
    message = str(excinfo.value)
    assert "doubled" in message
    assert "x" in message


async def test_supplying_intermediate_alone_says_internal_parameters(runner):
    """An intermediate whose producer cannot run names it as ``name <- producer``."""
    with pytest.raises(ValueError, match="internal parameters") as excinfo:
        await runner.run(CHAIN, doubled=5)
    assert "doubled <- double" in str(excinfo.value)


async def test_internal_parameter_error_raises_even_with_continue(runner):
    """Supplying an intermediate raises before running, even under ``continue``."""
    with pytest.raises(ValueError, match="internal parameters"):
        await runner.run(CHAIN, doubled=5, error_handling="continue")


async def test_internal_parameter_below_entrypoint_is_an_input(runner):
    """Below an entrypoint the upstream output is an input, not an internal value."""
    graph = CHAIN.with_entrypoint("add_one")
    result = await runner.run(graph, doubled=5)
    assert result["result"] == 6


async def test_cycle_seed_is_accepted_as_input(runner):
    """A cycle seed is exempt from the internal-parameter check."""
    result = await runner.run(COUNTER, count=0)
    assert result.status is RunStatus.COMPLETED
    assert result["count"] == 3


async def test_interrupt_response_key_is_accepted_as_input(runner):
    """An interrupt output supplied as a response is exempt from the internal check."""
    result = await runner.run(ASK, question="q", answer="yes")
    assert result.status is RunStatus.COMPLETED
    assert result["final"] == "YES"


async def test_unknown_input_key_warns_and_is_ignored(runner):
    """A key that is neither an input nor produced warns and the run proceeds."""
    with pytest.warns(UserWarning, match="zzz_unknown"):
        result = await runner.run(CHAIN, x=1, zzz_unknown=3)
    assert result.values == {"doubled": 2, "result": 3}


async def test_key_outside_active_scope_warns(runner):
    """An input of a node outside the selection is unknown for that scope and warns."""
    graph = TWO_BRANCHES.select("a_val")
    with pytest.warns(UserWarning, match="'y'"):
        result = await runner.run(graph, x=1, y=2)
    assert result.values == {"a_val": 101}


async def test_missing_required_input_raises_missing_input_error(runner):
    """A missing required input raises MissingInputError with sorted missing names."""
    with pytest.raises(MissingInputError) as excinfo:
        await runner.run(ADD)
    assert excinfo.value.missing == ["a", "b"]
    assert excinfo.value.provided == []


async def test_missing_input_error_lists_provided_and_message(runner):
    """``.provided`` lists supplied names; the message starts with the missing one."""
    with pytest.raises(MissingInputError) as excinfo:
        await runner.run(ADD, a=1)
    assert excinfo.value.missing == ["b"]
    assert excinfo.value.provided == ["a"]
    assert str(excinfo.value).startswith("Missing required inputs: 'b'")


async def test_missing_input_raises_regardless_of_error_handling(runner):
    """MissingInputError (never a ValueError) is raised even under ``continue``."""
    with pytest.raises(MissingInputError) as excinfo:
        await runner.run(ADD, a=1, error_handling="continue")
    assert not isinstance(excinfo.value, ValueError)


async def test_bound_value_satisfies_required_input(runner):
    """A graph binding counts as supplied for the required-input check."""
    result = await runner.run(ADD.bind(a=1), b=2)
    assert result["total"] == 3


async def test_missing_input_does_not_run_any_node(runner):
    """Nothing executes when a required input is missing."""
    calls = []

    @node(output_name="first")
    def first(x: int) -> int:
        calls.append(x)
        return x

    @node(output_name="second")
    def second(first: int, y: int) -> int:
        return first + y

    with pytest.raises(MissingInputError):
        await runner.run(Graph([first, second]), x=1)
    assert calls == []


async def test_missing_input_of_nested_graph_is_reported_before_running(runner):
    """A required input of a nested graph is checked up front by the outer run."""
    calls = []

    @node(output_name="z")
    def outer_first(w: int) -> int:
        calls.append(w)
        return w

    outer = Graph([outer_first, Graph([double], name="inner").as_node()])
    with pytest.raises(MissingInputError) as excinfo:
        await runner.run(outer, w=1)
    assert excinfo.value.missing == ["x"]
    assert calls == []


async def test_supplying_graph_node_output_consumed_outside_is_internal(runner):
    """A GraphNode output feeding an outer node cannot also be supplied."""

    @node(output_name="final")
    def finalize(result: int) -> int:
        return result

    outer = Graph([Graph([double, add_one], name="inner").as_node(), finalize])
    with pytest.raises(ValueError, match="conflict"):
        await runner.run(outer, x=1, result=5)


@pytest.mark.parametrize(
    ("option", "scope"),
    [
        (option, scope)
        for option in (
            {"on_missing": "explode"},
            {"error_handling": "ignore"},
            {"max_iterations": 0},
            {"max_concurrency": 0},
            {"workflow_id": "a/b"},
        )
        for scope in ({"select": "**"}, {"entrypoint": "double"})
    ],
    ids=lambda value: "-".join(f"{k}" for k in value),
)
async def test_step5_option_errors_come_before_select_and_entrypoint(
    runner, option, scope
):
    """R6 step 5 (option values) is reported before step 6 (select/entrypoint)."""
    (name,) = option
    with pytest.raises(ValueError, match=name):
        await runner.run(CHAIN, x=1, **option, **scope)


def test_normalisation_is_checked_before_sync_runner_reentry():
    """Inside a node, a values/kwargs clash is reported before the re-entry error."""
    from hypergraph import SyncRunner

    inner_runner = SyncRunner()
    inner = Graph([double])
    caught: list[BaseException] = []

    @node(output_name="nested")
    def calls_sync_runner(x: int) -> int:
        try:
            inner_runner.run(inner, {"x": x}, x=x)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            caught.append(exc)
        return x

    with SyncRunner() as outer_runner:
        outer_runner.run(Graph([calls_sync_runner]), x=1)
    inner_runner.close()
    assert len(caught) == 1
    assert isinstance(caught[0], ValueError)
    assert "both values and kwargs" in str(caught[0])
