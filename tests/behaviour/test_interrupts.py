"""Human-in-the-loop: ``@interrupt`` pause, resume and handlers (spec 02 H1-H11)."""

from __future__ import annotations

import pytest

from hypergraph import END, Graph, PauseInfo, RunStatus, interrupt, node, route


def ran(result) -> list[str]:
    """Names of the nodes that ran, in completion order."""
    return [record.node_name for record in result.log.steps]


def supersteps(result) -> list[list[str]]:
    """Node names per superstep (sorted within a superstep), from the run log."""
    steps: dict[int, list[str]] = {}
    for record in result.log.steps:
        steps.setdefault(record.superstep, []).append(record.node_name)
    return [sorted(steps[k]) for k in sorted(steps)]


# -- basic approval graph ------------------------------------------------------


@node(output_name="draft")
def make_draft(query: str) -> str:
    return f"draft:{query}"


@interrupt(output_name="decision")
def approval(draft: str) -> str | None:
    return None


@node(output_name="final")
def finalize(decision: str, draft: str) -> str:
    return f"{draft}|{decision}"


APPROVAL = Graph([make_draft, approval, finalize])


async def test_pause_returns_paused_result_with_values_so_far(runner):
    """A handler returning None pauses the run and keeps the upstream values (H4)."""
    result = await runner.run(APPROVAL, query="hello")
    assert result.status is RunStatus.PAUSED
    assert result.paused
    assert not result.completed
    assert result.error is None
    assert result.values == {"draft": "draft:hello"}


async def test_pause_info_describes_single_output_interrupt(runner):
    """PauseInfo names the node, its output and the value of its only input (H5)."""
    result = await runner.run(APPROVAL, query="hello")
    pause = result.pause
    assert isinstance(pause, PauseInfo)
    assert pause.node_name == "approval"
    assert pause.output_param == "decision"
    assert pause.value == "draft:hello"
    assert pause.output_params is None
    assert pause.values is None
    assert pause.response_key == "decision"
    assert pause.response_keys == {"decision": "decision"}


async def test_pause_runs_nothing_downstream(runner):
    """The interrupt's consumers do not run while it is paused (H4)."""
    result = await runner.run(APPROVAL, query="hello")
    assert "finalize" not in ran(result)
    assert "final" not in result


async def test_pause_is_logged_as_paused_step(runner):
    """The log records the interrupt's step with status "paused" (H4)."""
    result = await runner.run(APPROVAL, query="hello")
    statuses = {r.node_name: r.status for r in result.log.steps}
    assert statuses == {"make_draft": "completed", "approval": "paused"}


async def test_paused_result_serialises_with_paused_status(runner):
    """to_dict() of a paused run reports status "paused" and no error."""
    data = (await runner.run(APPROVAL, query="hello")).to_dict()
    assert data["status"] == "paused"
    assert "error" not in data


async def test_resume_with_response_key_completes(runner):
    """Supplying the response key skips the handler and finishes the run (H6)."""
    paused = await runner.run(APPROVAL, query="hello")
    result = await runner.run(
        APPROVAL, {"query": "hello", paused.pause.response_key: "ok"}
    )
    assert result.status is RunStatus.COMPLETED
    assert result.pause is None
    assert ran(result) == ["make_draft", "approval", "finalize"]
    assert result.values == {
        "draft": "draft:hello",
        "decision": "ok",
        "final": "draft:hello|ok",
    }


async def test_resume_logs_interrupt_as_completed_before_consumer(runner):
    """On resume the consumer still waits for the interrupt's step (H8)."""
    result = await runner.run(APPROVAL, query="hello", decision="ok")
    steps = {r.node_name: r for r in result.log.steps}
    assert steps["approval"].status == "completed"
    assert steps["approval"].superstep < steps["finalize"].superstep


@interrupt(output_name="decision")
def ellipsis_approval(draft: str) -> str: ...


async def test_bare_ellipsis_handler_pauses(runner):
    """A handler whose body is just ``...`` pauses like one returning None (H4)."""
    graph = Graph([make_draft, ellipsis_approval, finalize])
    result = await runner.run(graph, query="q")
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "ellipsis_approval"


async def test_both_runners_report_interrupt_support(runner):
    """Both built-in runners declare supports_interrupts (D-1)."""
    assert runner.runner.capabilities.supports_interrupts is True


# -- handlers that resolve -----------------------------------------------------


@interrupt(output_name="decision")
def auto_approve(draft: str) -> str:
    return "auto"


@interrupt(output_name="decision")
async def async_approve(draft: str) -> str:
    return "async-auto"


@interrupt(output_name="decision")
async def async_pause(draft: str) -> str | None:
    return None


async def test_handler_returning_value_resolves_without_pausing(runner):
    """A non-None handler result is the interrupt's output (H3)."""
    result = await runner.run(Graph([make_draft, auto_approve, finalize]), query="q")
    assert result.status is RunStatus.COMPLETED
    assert result.values == {
        "draft": "draft:q",
        "decision": "auto",
        "final": "draft:q|auto",
    }


async def test_async_handler_value_resolves(runner):
    """An async handler is awaited and its value used (H3)."""
    result = await runner.run(Graph([make_draft, async_approve, finalize]), query="q")
    assert result.status is RunStatus.COMPLETED
    assert result["final"] == "draft:q|async-auto"


async def test_async_handler_returning_none_pauses(runner):
    """An async handler returning None pauses the run (H3/H4)."""
    result = await runner.run(Graph([make_draft, async_pause, finalize]), query="q")
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "async_pause"
    assert result.pause.value == "draft:q"


async def test_supplied_response_skips_a_resolving_handler(runner):
    """A supplied response wins over what the handler would return (H6)."""
    graph = Graph([make_draft, auto_approve, finalize])
    result = await runner.run(graph, query="q", decision="human")
    assert result["final"] == "draft:q|human"


@interrupt(output_name="pair")
def pair_handler(draft: str) -> tuple[str, str]:
    return ("a", "b")


async def test_single_output_handler_tuple_is_stored_whole(runner):
    """A single-output handler's tuple is one value, never unpacked (H3/R18)."""
    result = await runner.run(Graph([make_draft, pair_handler]), query="q")
    assert result.values == {"draft": "draft:q", "pair": ("a", "b")}


async def test_renamed_interrupt_output_is_the_response_key(runner):
    """with_outputs on an interrupt renames output_param and response_key."""
    renamed = approval.with_outputs(decision="verdict")
    paused = await runner.run(Graph([make_draft, renamed]), query="q")
    assert paused.pause.output_param == "verdict"
    assert paused.pause.response_key == "verdict"
    resumed = await runner.run(Graph([make_draft, renamed]), query="q", verdict="ok")
    assert resumed.status is RunStatus.COMPLETED
    assert resumed["verdict"] == "ok"


@interrupt(output_name="choice")
def choose(first: str, second: str) -> str | None:
    return None


async def test_multi_input_pause_lists_every_input(runner):
    """With several inputs, value is the first input and values maps all (H5)."""
    result = await runner.run(Graph([choose]), second="s", first="f")
    pause = result.pause
    assert pause.value == "f"
    assert pause.values == {"first": "f", "second": "s"}
    assert pause.output_params is None
    assert pause.response_keys == {"choice": "choice"}


# -- multi-output interrupts ---------------------------------------------------


@interrupt(output_name=("label", "note"))
def annotate(text: str, hint: str) -> object:
    return None


@node(output_name="report")
def report(label: str, note: str) -> str:
    return f"{label}:{note}"


def annotate_returning(value: object):
    """A two-output interrupt named ``annotate`` whose handler returns ``value``."""

    @interrupt(output_name=("label", "note"))
    def annotate(text: str, hint: str) -> object:
        return value

    return annotate


async def test_multi_output_pause_lists_outputs_and_inputs(runner):
    """A two-output, two-input interrupt reports all outputs, inputs and keys (H5)."""
    result = await runner.run(Graph([annotate, report]), text="t", hint="h")
    pause = result.pause
    assert result.status is RunStatus.PAUSED
    assert pause.output_param == "label"
    assert list(pause.output_params) == ["label", "note"]
    assert pause.value == "t"
    assert pause.values == {"text": "t", "hint": "h"}
    assert pause.response_key == "label"
    assert pause.response_keys == {"label": "label", "note": "note"}


async def test_multi_output_resume_with_all_keys_completes(runner):
    """Supplying every response key resolves a multi-output interrupt (H6)."""
    result = await runner.run(
        Graph([annotate, report]), text="t", hint="h", label="L", note="N"
    )
    assert result.status is RunStatus.COMPLETED
    assert result["report"] == "L:N"


async def test_multi_output_resume_with_some_keys_pauses_again(runner):
    """Supplying only some outputs calls the handler again, which pauses (H6)."""
    result = await runner.run(Graph([annotate, report]), text="t", hint="h", label="L")
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "annotate"
    assert "report" not in result


async def test_multi_output_handler_dict_with_exact_keys_resolves(runner):
    """A dict with exactly the output keys resolves each output (H3)."""
    graph = Graph([annotate_returning({"label": "L", "note": "N"}), report])
    result = await runner.run(graph, text="t", hint="h")
    assert result.status is RunStatus.COMPLETED
    assert result["report"] == "L:N"


@pytest.mark.parametrize(
    "value",
    [
        {"label": "L"},
        {"label": "L", "note": "N", "extra": 1},
        {"lbl": "L", "note": "N"},
    ],
    ids=["missing-key", "extra-key", "wrong-key"],
)
async def test_multi_output_handler_dict_with_wrong_keys_raises(runner, value):
    """A dict whose keys differ from the outputs is a ValueError (H3)."""
    graph = Graph([annotate_returning(value), report])
    with pytest.raises(ValueError, match="label"):
        await runner.run(graph, text="t", hint="h")


async def test_multi_output_handler_wrong_dict_under_continue_fails(runner):
    """The wrong-keys ValueError is a node failure that continue reports as FAILED."""
    graph = Graph([annotate_returning({"label": "L"}), report])
    result = await runner.run(graph, text="t", hint="h", error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert isinstance(result.error, ValueError)
    assert result.to_dict()["error_node"] == "annotate"


async def test_multi_output_handler_matching_tuple_is_unpacked(runner):
    """A tuple as long as the outputs is unpacked positionally (H3)."""
    graph = Graph([annotate_returning(("L", "N")), report])
    result = await runner.run(graph, text="t", hint="h")
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"label": "L", "note": "N", "report": "L:N"}


@pytest.mark.parametrize("value", ["just-text", ("a", "b", "c")], ids=repr)
async def test_multi_output_handler_other_value_fills_first_output_only(runner, value):
    """Any other value is stored whole under the first output only (H3)."""
    graph = Graph([annotate_returning(value)])
    result = await runner.run(graph, text="t", hint="h")
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"label": value}


# -- handler exceptions --------------------------------------------------------


class ReviewerUnavailable(Exception):
    """Raised by a handler to test unwrapped propagation."""


@interrupt(output_name="decision")
def failing_approval(draft: str) -> str:
    raise ReviewerUnavailable("reviewer is out")


@interrupt(output_name="decision")
async def async_failing_approval(draft: str) -> str:
    raise ReviewerUnavailable("async reviewer is out")


@pytest.mark.parametrize("handler", [failing_approval, async_failing_approval])
async def test_handler_exception_is_reraised_unwrapped(runner, handler):
    """A handler exception reaches the caller unwrapped, not as RuntimeError (H3)."""
    with pytest.raises(ReviewerUnavailable, match="reviewer is out"):
        await runner.run(Graph([make_draft, handler, finalize]), query="q")


async def test_handler_exception_under_continue_is_result_error(runner):
    """Under continue the handler's exception is RunResult.error, node named (H3)."""
    graph = Graph([make_draft, failing_approval, finalize])
    result = await runner.run(graph, query="q", error_handling="continue")
    assert result.status is RunStatus.FAILED
    assert type(result.error) is ReviewerUnavailable
    assert result.pause is None
    assert result.values == {"draft": "draft:q"}
    assert result.to_dict()["error_node"] == "failing_approval"
    assert result.to_dict()["error"].startswith("ReviewerUnavailable: reviewer is out")


# -- an interrupt runs alone (H2) ---------------------------------------------


@node(output_name="side_out")
def side(query: str) -> str:
    return f"side:{query}"


@interrupt(output_name="answer")
def ask(query: str) -> str | None:
    return None


@interrupt(output_name="answer")
def ask_resolving(query: str) -> str:
    return "auto"


@interrupt(output_name="other_answer")
def ask_other(query: str) -> str | None:
    return None


async def test_interrupt_runs_alone_in_its_superstep(runner):
    """A ready interrupt runs alone; co-ready nodes move to the next superstep (H2)."""
    result = await runner.run(Graph([side, ask_resolving]), query="q")
    assert result.status is RunStatus.COMPLETED
    assert supersteps(result) == [["ask_resolving"], ["side"]]
    assert result.values == {"side_out": "side:q", "answer": "auto"}


async def test_deferred_nodes_do_not_run_when_interrupt_pauses(runner):
    """Nodes deferred behind a pausing interrupt never run in that run (H2/H4)."""
    result = await runner.run(Graph([side, ask]), query="q")
    assert result.status is RunStatus.PAUSED
    assert ran(result) == ["ask"]
    assert result.values == {}


async def test_first_interrupt_in_node_order_pauses_first(runner):
    """With two ready interrupts the first in graph node order runs and pauses (H2)."""
    result = await runner.run(Graph([side, ask_other, ask]), query="q")
    assert result.pause.node_name == "ask_other"
    assert ran(result) == ["ask_other"]


async def test_second_interrupt_pauses_after_first_is_answered(runner):
    """Answering the first interrupt lets the run reach the next one (H2/H9)."""
    result = await runner.run(
        Graph([side, ask_other, ask]), query="q", other_answer="x"
    )
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "ask"
    assert result.values["other_answer"] == "x"


# -- several interrupts in sequence (H9) --------------------------------------


@interrupt(output_name="feedback")
def review(draft: str) -> str | None:
    return None


@interrupt(output_name="final")
def edit(feedback: str) -> str | None:
    return None


REVIEW = Graph([review, edit])


async def test_sequential_interrupts_pause_one_at_a_time(runner):
    """The H9 example pauses at review, then at edit, then completes."""
    first = await runner.run(REVIEW, draft="d")
    assert first.status is RunStatus.PAUSED
    assert first.pause.node_name == "review"
    assert first.pause.value == "d"

    second = await runner.run(REVIEW, draft="d", feedback="more detail")
    assert second.status is RunStatus.PAUSED
    assert second.pause.node_name == "edit"
    assert second.pause.value == "more detail"
    assert second.pause.response_key == "final"
    assert second.values == {"feedback": "more detail"}

    third = await runner.run(REVIEW, draft="d", feedback="more detail", final="done")
    assert third.status is RunStatus.COMPLETED
    assert third.values == {"feedback": "more detail", "final": "done"}


# -- interrupt inside a cycle (H10) -------------------------------------------


@interrupt(output_name="query")
def ask_user(messages: list[str]) -> str | None:
    return None


@node(output_name="messages")
def respond(messages: list[str], query: str) -> list[str]:
    return [*messages, query, f"echo:{query}"]


@route(targets=["ask_user", END])
def keep_chatting(messages: list[str]) -> object:
    return END if messages[-2] == "bye" else "ask_user"


CHAT = Graph([ask_user, respond, keep_chatting], entrypoint="ask_user")


async def test_interrupt_in_cycle_first_pause_shows_seed(runner):
    """The chat loop pauses at once with the seed messages as pause.value (H10)."""
    result = await runner.run(CHAT, messages=[])
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "ask_user"
    assert result.pause.value == []


async def test_interrupt_in_cycle_pauses_again_with_updated_messages(runner):
    """A response is used once; the next pass pauses with new messages (H10)."""
    result = await runner.run(CHAT, messages=[], query="q")
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "ask_user"
    assert result.pause.value == ["q", "echo:q"]
    assert result.values["messages"] == ["q", "echo:q"]
    assert [r.node_name for r in result.log.steps].count("respond") == 1


async def test_interrupt_in_cycle_completes_when_gate_routes_to_end(runner):
    """The chat loop completes once the gate decides END (H10)."""
    result = await runner.run(CHAT, messages=["hi", "echo:hi"], query="bye")
    assert result.status is RunStatus.COMPLETED
    assert result.values["messages"] == ["hi", "echo:hi", "bye", "echo:bye"]


async def test_interrupt_in_cycle_resumes_from_accumulated_state(runner):
    """Resuming with the messages seen at the pause continues the conversation."""
    paused = await runner.run(CHAT, messages=[], query="q")
    result = await runner.run(
        CHAT, messages=paused.pause.value, **{paused.pause.response_key: "bye"}
    )
    assert result.status is RunStatus.COMPLETED
    assert result["messages"] == ["q", "echo:q", "bye", "echo:bye"]


# -- nested interrupts ---------------------------------------------------------


@interrupt(output_name="y")
def inner_approval(x: int) -> int | None:
    return None


@node(output_name="z")
def post(y: int) -> int:
    return y * 2


INNER = Graph([inner_approval.with_name("approval")], name="inner")
NESTED = Graph([INNER.as_node(), post])


async def test_nested_interrupt_pause_names_path_and_dotted_key(runner):
    """A nested pause has node_name "inner/approval" and key "inner.y" (H5)."""
    result = await runner.run(NESTED, x=3)
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "inner/approval"
    assert result.pause.output_param == "y"
    assert result.pause.value == 3
    assert result.pause.response_key == "inner.y"
    assert result.pause.response_keys == {"y": "inner.y"}
    assert "post" not in ran(result)


async def test_nested_interrupt_graph_node_step_is_paused(runner):
    """The outer log records the GraphNode step as paused."""
    result = await runner.run(NESTED, x=3)
    [step] = result.log.steps
    assert step.node_name == "inner"
    assert step.status == "paused"


async def test_nested_interrupt_resumes_with_dotted_key(runner):
    """Supplying "inner.y" resumes the nested interrupt (H7)."""
    result = await runner.run(NESTED, {"x": 3, "inner.y": 5})
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"y": 5, "z": 10}


async def test_doubly_nested_interrupt_uses_full_path(runner):
    """Two levels of nesting join every GraphNode name into the path and key."""
    outer = Graph([Graph([INNER.as_node()], name="mid").as_node(), post])
    paused = await runner.run(outer, x=4)
    assert paused.pause.node_name == "mid/inner/approval"
    assert paused.pause.response_key == "mid.inner.y"
    resumed = await runner.run(outer, {"x": 4, "mid.inner.y": 7})
    assert resumed.status is RunStatus.COMPLETED
    assert resumed["z"] == 14


async def test_nested_interrupt_respects_graph_node_output_rename(runner):
    """A renamed GraphNode output renames output_param and the response key (H5/H7)."""

    @node(output_name="z")
    def post_answer(answer: int) -> int:
        return answer * 2

    outer = Graph([INNER.as_node().with_outputs(y="answer"), post_answer])
    paused = await runner.run(outer, x=1)
    assert paused.pause.output_param == "answer"
    assert paused.pause.response_key == "inner.answer"
    resumed = await runner.run(outer, {"x": 1, "inner.answer": 9})
    assert resumed.status is RunStatus.COMPLETED
    assert resumed.values == {"answer": 9, "z": 18}


async def test_nested_handler_exception_names_nested_path(runner):
    """A nested handler failure reports error_node as the /-joined path (R8/H3)."""
    inner = Graph([failing_approval.with_name("approval")], name="inner")
    result = await runner.run(
        Graph([make_draft, inner.as_node()]), query="q", error_handling="continue"
    )
    assert type(result.error) is ReviewerUnavailable
    assert result.to_dict()["error_node"] == "inner/approval"


@node(output_name="x")
def bump(y: int) -> int:
    return y + 1


@route(targets=["inner", END])
def again(x: int) -> object:
    return "inner" if x < 100 else END


async def test_nested_response_is_consumed_by_first_graph_node_execution(runner):
    """A dotted response answers only the GraphNode's first run (H6/H7)."""
    graph = Graph([INNER.as_node(), bump, again], entrypoint="inner")
    result = await runner.run(graph, {"x": 1, "inner.y": 5})
    assert result.status is RunStatus.PAUSED
    assert result.pause.node_name == "inner/approval"
    assert result.pause.value == 6
    assert result.values["x"] == 6


# -- an interrupt behind a gate ------------------------------------------------


@node(output_name="answer")
def auto_answer(query: str) -> str:
    return "automatic"


@route(targets=["ask", "auto_answer"])
def needs_human(query: str) -> str:
    return "ask" if query.endswith("?") else "auto_answer"


async def test_interrupt_behind_gate_pauses_only_when_routed_to(runner):
    """An interrupt pauses only when a gate routes to it."""
    graph = Graph([needs_human, ask, auto_answer])
    asked = await runner.run(graph, query="why?")
    skipped = await runner.run(graph, query="hello")
    assert asked.status is RunStatus.PAUSED
    assert asked.pause.node_name == "ask"
    assert skipped.status is RunStatus.COMPLETED
    assert skipped.values == {"answer": "automatic"}
    assert "ask" not in ran(skipped)


# -- interrupt without inputs --------------------------------------------------


@interrupt(output_name="name")
def ask_name() -> str | None:
    return None


@node(output_name="greeting")
def greet(name: str) -> str:
    return f"hello {name}"


async def test_interrupt_without_inputs_has_none_value(runner):
    """An interrupt that takes no inputs pauses with pause.value None (H5)."""
    result = await runner.run(Graph([ask_name, greet]))
    assert result.status is RunStatus.PAUSED
    assert result.pause.value is None
    assert result.pause.values is None
    assert result.pause.response_key == "name"


async def test_interrupt_without_inputs_resumes(runner):
    """Supplying the answer resumes an input-less interrupt."""
    result = await runner.run(Graph([ask_name, greet]), name="ada")
    assert result.values == {"name": "ada", "greeting": "hello ada"}
