"""Unit tests for Graph construction and configuration (spec 01 G1-G21)."""

import re
import subprocess
import sys
import threading
from typing import Annotated, Any, TypeVar

import pytest

from hypergraph import (
    END,
    FunctionNode,
    Graph,
    GraphConfigError,
    InterruptNode,
    RunStatus,
    ifelse,
    interrupt,
    node,
    route,
)

HEX64 = re.compile(r"[0-9a-f]{64}")

# ---------------------------------------------------------------------------
# Module-level nodes
# ---------------------------------------------------------------------------


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add_one(doubled: int) -> int:
    return doubled + 1


@node(output_name="count")
def incr(count):
    return count + 1


@route(targets=["incr", END])
def loop(count):
    return "incr" if count < 5 else END


@node(output_name="a_val")
def node_a(x):
    return x


@node(output_name="b_val")
def node_b(y):
    return y


@node(output_name="a")
def na(x):
    return x


@node(output_name="b")
def nb(a, y):
    return a + y


@node(output_name="c")
def nc(b, z=10):
    return b + z


@node(output_name="res")
def p1(x):
    return x


@node(output_name="res")
def p2(y):
    return y


@node(output_name="res")
def p3(res):
    return res


@node(output_name="msg")
def yes(x):
    return "yes"


@node(output_name="msg")
def no(x):
    return "no"


@ifelse("yes", "no")
def pick(x):
    return x > 0


async def async_step(x):
    return x


def ask(doubled):
    return None


def _chain():
    return Graph([double, add_one])


# ---------------------------------------------------------------------------
# G1-G3: construction basics
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [lambda x: x, "double", None, 3], ids=["function", "str", "none", "int"]
)
def test_non_node_element_raises_type_error(bad):
    """An element of nodes that is not a HyperNode raises TypeError."""
    with pytest.raises(TypeError, match="not a node"):
        Graph([double, bad])


def test_graph_accepts_any_iterable_read_once():
    """nodes may be a one-shot iterator (generator)."""
    graph = Graph(n for n in [double, add_one])
    assert list(graph.nodes) == ["double", "add_one"]
    assert graph.inputs.required == ("x",)


def test_graph_accepts_tuple_of_nodes():
    """A tuple is an accepted iterable of nodes."""
    assert list(Graph((double, add_one)).nodes) == ["double", "add_one"]


def test_empty_graph_is_valid():
    """Graph([]) has no nodes, no outputs and an empty InputSpec."""
    graph = Graph([])
    assert graph.nodes == {}
    assert graph.outputs == ()
    assert graph.leaf_outputs == ()
    assert graph.inputs.required == ()
    assert graph.inputs.optional == ()
    assert graph.inputs.bound == {}
    assert graph.has_cycles is False


async def test_empty_graph_run_completes_with_no_values(runner):
    """Running Graph([]) completes with values == {}."""
    result = await runner.run(Graph([]))
    assert result.status is RunStatus.COMPLETED
    assert result.values == {}


def test_nodes_is_fresh_dict_in_constructor_order():
    """nodes maps name to node in constructor order and is a fresh copy."""
    graph = Graph([add_one, double])
    nodes = graph.nodes
    assert list(nodes) == ["add_one", "double"]
    assert nodes["double"] is double
    nodes.clear()
    assert list(graph.nodes) == ["add_one", "double"]
    assert graph.nodes is not graph.nodes


def test_graph_name_default_none_and_given():
    """name is None unless given."""
    assert Graph([double]).name is None
    assert Graph([double], name="pipeline").name == "pipeline"


def test_graph_name_may_contain_hyphen():
    """A graph name with a hyphen is accepted."""
    assert Graph([double], name="my-graph").name == "my-graph"


# ---------------------------------------------------------------------------
# G4-G5: edges and nx_graph
# ---------------------------------------------------------------------------


def test_chain_edges_inferred_by_name():
    """double -> add_one is the only edge of the chain."""
    assert list(_chain().nx_graph.edges()) == [("double", "add_one")]


def test_data_edge_carries_type_and_value_names():
    """A data edge has edge_type 'data' and the carried value names."""
    data = _chain().nx_graph.edges["double", "add_one"]
    assert data["edge_type"] == "data"
    assert list(data["value_names"]) == ["doubled"]


def test_nx_graph_is_digraph_with_all_nodes():
    """nx_graph is a networkx.DiGraph holding every node name."""
    import networkx

    graph = Graph([double, add_one, node_b])
    nxg = graph.nx_graph
    assert isinstance(nxg, networkx.DiGraph)
    assert set(nxg.nodes) == {"double", "add_one", "node_b"}


def test_one_edge_per_pair_lists_all_carried_names():
    """Two names from one producer to one consumer share one edge."""

    @node(output_name=("left", "right"))
    def split(x):
        return x, x

    @node(output_name="joined")
    def join(left, right):
        return left + right

    nxg = Graph([split, join]).nx_graph
    assert list(nxg.edges()) == [("split", "join")]
    assert sorted(nxg.edges["split", "join"]["value_names"]) == ["left", "right"]


def test_one_producer_feeds_every_consumer():
    """An output consumed by several nodes gives one edge to each consumer."""

    @node(output_name="tripled")
    def triple(doubled):
        return doubled * 3

    edges = set(Graph([double, add_one, triple]).nx_graph.edges())
    assert edges == {("double", "add_one"), ("double", "triple")}


def test_node_consuming_own_output_gets_self_loop():
    """A node whose input equals its output has a self-loop data edge."""
    nxg = Graph([incr], entrypoint="incr").nx_graph
    assert ("incr", "incr") in nxg.edges
    assert nxg.edges["incr", "incr"]["edge_type"] == "data"


def test_gate_control_edges_to_non_end_targets():
    """A gate has a control edge to each non-END target."""

    @node(output_name="big")
    def handle_big(n):
        return n

    @node(output_name="small")
    def handle_small(n):
        return n

    @route(targets=["handle_big", "handle_small", END])
    def size(n):
        return END

    nxg = Graph([size, handle_big, handle_small]).nx_graph
    assert set(nxg.edges()) == {("size", "handle_big"), ("size", "handle_small")}
    for target in ("handle_big", "handle_small"):
        assert nxg.edges["size", target]["edge_type"] == "control"


def test_control_edge_not_added_when_data_edge_exists():
    """Where a data edge already joins gate and target, it stays a data edge."""

    @ifelse("consume_signal", END, emit="signal")
    def check(x):
        return True

    @node(output_name="out")
    def consume_signal(signal):
        return signal

    nxg = Graph([check, consume_signal]).nx_graph
    assert list(nxg.edges()) == [("check", "consume_signal")]
    assert nxg.edges["check", "consume_signal"]["edge_type"] == "data"
    assert list(nxg.edges["check", "consume_signal"]["value_names"]) == ["signal"]


def test_cycle_edges_include_data_and_control():
    """The incr/loop cycle has a data edge to the gate and a control edge back."""
    nxg = Graph([incr, loop], entrypoint="incr").nx_graph
    assert nxg.edges["incr", "loop"]["edge_type"] == "data"
    assert nxg.edges["loop", "incr"]["edge_type"] == "control"


def test_wait_for_creates_ordering_edge():
    """A producer of a wait_for name has an ordering edge to the waiting node."""

    @node(output_name="first", emit="first_done")
    def step_one(x):
        return x

    @node(output_name="second", wait_for="first_done")
    def step_two(y):
        return y

    nxg = Graph([step_one, step_two]).nx_graph
    assert list(nxg.edges()) == [("step_one", "step_two")]
    assert nxg.edges["step_one", "step_two"]["edge_type"] == "ordering"


def test_wait_for_gets_ordering_edge_from_every_producer():
    """Every producer of a wait_for name gets an ordering edge to the waiter."""
    yes_done = FunctionNode(yes.func, output_name="msg", emit="done")
    no_done = FunctionNode(no.func, output_name="msg", emit="done")

    @node(output_name="tail", wait_for="done")
    def finish(w):
        return w

    nxg = Graph([pick, yes_done, no_done, finish]).nx_graph
    assert nxg.edges["yes", "finish"]["edge_type"] == "ordering"
    assert nxg.edges["no", "finish"]["edge_type"] == "ordering"


def test_wait_for_on_data_output_orders_after_producer():
    """wait_for may name a data output; the producer is ordered first."""

    @node(output_name="other")
    def needs_order(y):
        return y

    waiting = FunctionNode(needs_order.func, output_name="other", wait_for="doubled")
    nxg = Graph([double, waiting]).nx_graph
    assert nxg.edges["double", "needs_order"]["edge_type"] == "ordering"


def test_nx_graph_without_networkx_raises_import_error(monkeypatch):
    """nx_graph raises ImportError telling to install networkx when it is missing."""
    graph = _chain()
    monkeypatch.setitem(sys.modules, "networkx", None)
    with pytest.raises(ImportError, match="networkx"):
        _ = graph.nx_graph


async def test_construction_and_run_do_not_need_networkx(runner, monkeypatch):
    """Building, validating and running a graph never imports networkx."""
    monkeypatch.setitem(sys.modules, "networkx", None)
    graph = Graph([double, add_one, incr, loop], entrypoint="incr")
    assert graph.has_cycles
    result = await runner.run(_chain(), x=1)
    assert result.values == {"doubled": 2, "result": 3}


@pytest.mark.slow
def test_importing_hypergraph_does_not_import_networkx():
    """import hypergraph plus building a graph leaves networkx unimported."""
    code = (
        "import sys\n"
        "from hypergraph import Graph, node\n"
        "@node(output_name='y')\n"
        "def f(x):\n    return x\n"
        "g = Graph([f]); g.inputs; g.definition_hash\n"
        "print('networkx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_renaming_rewires_nodes():
    """Renaming an output breaks the edge; renaming the input restores it."""
    broken = Graph([double.with_outputs(doubled="d"), add_one])
    assert list(broken.nx_graph.edges()) == []
    assert broken.inputs.required == ("x", "doubled")
    fixed = Graph([double.with_outputs(doubled="d"), add_one.with_inputs(doubled="d")])
    assert list(fixed.nx_graph.edges()) == [("double", "add_one")]


def test_name_matching_is_exact():
    """Names match exactly: a case difference does not wire."""
    graph = Graph([double.with_outputs(doubled="Doubled"), add_one])
    assert list(graph.nx_graph.edges()) == []


# ---------------------------------------------------------------------------
# G6: outputs and leaf_outputs
# ---------------------------------------------------------------------------


def test_outputs_and_leaf_outputs_of_chain():
    """Chain: outputs == (doubled, result), leaf_outputs == (result,)."""
    graph = _chain()
    assert graph.outputs == ("doubled", "result")
    assert graph.leaf_outputs == ("result",)


def test_outputs_in_node_then_output_order():
    """outputs follow node order, then per-node order."""

    @node(output_name=("z", "a"))
    def first(x):
        return x, x

    @node(output_name=("m", "b"))
    def second(y):
        return y, y

    assert Graph([second, first]).outputs == ("m", "b", "z", "a")


def test_outputs_include_emit_names():
    """Emit names are listed in outputs."""

    @node(output_name="y", emit="done")
    def step(x):
        return x

    assert Graph([step]).outputs == ("y", "done")


def test_outputs_exclude_gate_records():
    """Gate decision records are not in Graph.outputs."""
    graph = Graph([incr, loop], entrypoint="incr")
    assert graph.outputs == ("count",)
    assert "_loop" not in graph.outputs
    assert "_loop" in loop.outputs


def test_gate_emit_is_listed_in_outputs():
    """A gate's emit names are graph outputs even though its record is not."""

    @route(targets=["incr", END], emit="checked")
    def loop2(count):
        return END

    graph = Graph([incr, loop2], entrypoint="incr")
    assert graph.outputs == ("count", "checked")


def test_outputs_are_distinct():
    """A name produced by two ifelse branches appears once."""
    assert Graph([pick, yes, no]).outputs == ("msg",)


async def test_run_values_exclude_gate_records(runner):
    """A run's values never contain a gate's '_<name>' record."""
    result = await runner.run(Graph([incr, loop], entrypoint="incr"), count=0)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"count": 5}


def test_leaf_outputs_of_independent_nodes():
    """Nodes without outgoing edges are all leaves."""
    graph = Graph([node_a, node_b])
    assert graph.leaf_outputs == ("a_val", "b_val")


def test_leaf_outputs_exclude_gate_with_control_edges():
    """A gate with a control edge is not a leaf; its target is."""

    @ifelse("double", END, emit="checked")
    def check(x):
        return True

    graph = Graph([check, double])
    assert graph.outputs == ("checked", "doubled")
    assert graph.leaf_outputs == ("doubled",)


# ---------------------------------------------------------------------------
# G7: flags, hash, repr
# ---------------------------------------------------------------------------


def test_has_cycles_false_for_dag():
    """A chain has no cycles."""
    assert _chain().has_cycles is False


def test_has_cycles_true_for_self_loop():
    """A self-loop counts as a cycle."""
    assert Graph([incr], entrypoint="incr").has_cycles is True


def test_has_cycles_true_for_gate_routing_back():
    """A gate routing back upstream makes a cycle."""
    assert Graph([incr, loop], entrypoint="incr").has_cycles is True


def test_has_cycles_true_for_ordering_cycle():
    """A cycle made only of wait_for/emit ordering edges counts."""

    @node(output_name="a_out", emit="a_done", wait_for="b_done")
    def first(x):
        return x

    @node(output_name="b_out", emit="b_done", wait_for="a_done")
    def second(y):
        return y

    graph = Graph([first, second], entrypoint="first")
    assert graph.has_cycles is True


def test_has_async_nodes():
    """has_async_nodes is True iff some node is async."""
    assert _chain().has_async_nodes is False
    graph = Graph([node(async_step, "y")])
    assert graph.has_async_nodes is True


def test_has_async_nodes_delegates_to_graph_nodes():
    """A GraphNode around an async node makes the outer graph async."""
    inner = Graph([node(async_step, "y")], name="inner")
    assert Graph([inner.as_node()]).has_async_nodes is True
    sync_inner = Graph([double], name="sync_inner")
    assert Graph([sync_inner.as_node()]).has_async_nodes is False


def test_interrupt_flags_list_direct_interrupts_in_order():
    """has_interrupts/interrupt_nodes report direct interrupt members in order."""

    @interrupt("second_answer")
    def second(doubled):
        return None

    first = interrupt("answer")(ask)
    graph = Graph([double, first, second])
    assert graph.has_interrupts is True
    assert [n.name for n in graph.interrupt_nodes] == ["ask", "second"]


def test_interrupt_flags_ignore_nested_interrupts():
    """Interrupts inside GraphNodes are not direct members."""
    inner = Graph([double, InterruptNode(ask, output_name="answer")], name="inner")
    graph = Graph([inner.as_node()])
    assert graph.has_interrupts is False
    assert list(graph.interrupt_nodes) == []


def test_no_interrupts_in_plain_graph():
    """A graph without interrupts reports none."""
    assert _chain().has_interrupts is False
    assert list(_chain().interrupt_nodes) == []


def test_configuration_flags_defaults():
    """strict_types False, selected None, entrypoints_config None by default."""
    graph = _chain()
    assert graph.strict_types is False
    assert graph.selected is None
    assert graph.entrypoints_config is None


def test_configuration_flags_when_set():
    """strict_types, selected and entrypoints_config reflect configuration."""
    graph = Graph([double, add_one], strict_types=True, entrypoint="double")
    assert graph.strict_types is True
    assert graph.entrypoints_config == ("double",)
    assert graph.select("result").selected == ("result",)


def test_definition_hash_is_64_hex():
    """definition_hash is a 64-character hex string."""
    assert HEX64.fullmatch(_chain().definition_hash)


def test_definition_hash_independent_of_node_order():
    """Reordering nodes does not change the hash."""
    assert (
        Graph([double, add_one]).definition_hash
        == Graph([add_one, double]).definition_hash
    )


def test_definition_hash_independent_of_bindings_and_selection():
    """bind and select do not change the hash."""
    graph = _chain()
    assert graph.bind(x=1).definition_hash == graph.definition_hash
    assert graph.select("result").definition_hash == graph.definition_hash


def test_definition_hash_changes_with_node_definition():
    """Replacing a node by one with another definition changes the hash."""

    @node(output_name="doubled")
    def double(x: int) -> int:  # same name, different source
        return x + x

    assert Graph([double, add_one]).definition_hash != _chain().definition_hash


def test_definition_hash_changes_with_edge_set():
    """Changing wiring (same node definitions) changes the hash."""
    rewired = Graph([double, add_one.with_inputs(doubled="other")])
    assert rewired.definition_hash != _chain().definition_hash


def test_definition_hash_stable_across_equal_graphs():
    """Two graphs built the same way share a hash."""
    assert _chain().definition_hash == _chain().definition_hash


def test_repr_of_chain():
    """repr reads 'Graph: unnamed | 2 nodes | 1 edge | no cycles'."""
    assert repr(_chain()) == "Graph: unnamed | 2 nodes | 1 edge | no cycles"


def test_repr_uses_name():
    """repr shows the graph name when set."""
    assert repr(Graph([double, add_one], name="pipe")).startswith("Graph: pipe |")


def test_repr_of_cyclic_graph_mentions_cycles():
    """repr of a cyclic graph does not claim 'no cycles'."""
    text = repr(Graph([incr, loop], entrypoint="incr"))
    assert "2 nodes" in text
    assert "no cycles" not in text


# ---------------------------------------------------------------------------
# G8: every GraphConfigError case
# ---------------------------------------------------------------------------


def test_duplicate_node_name_raises():
    """Two nodes with one name raise 'Duplicate node name'."""
    with pytest.raises(GraphConfigError, match="Duplicate node name 'double'"):
        Graph([double, double])


def test_duplicate_node_name_checked_first():
    """Duplicate names are reported before other name problems."""
    bad = double.with_name("class")
    with pytest.raises(GraphConfigError, match="Duplicate node name"):
        Graph([bad, add_one.with_name("class")])


@pytest.mark.parametrize("name", ["a.b", "a/b", "x."])
def test_graph_name_with_dot_or_slash_raises(name):
    """A graph name containing '.' or '/' is a GraphConfigError."""
    with pytest.raises(GraphConfigError, match=re.escape(repr(name))):
        Graph([double], name=name)


def test_node_named_end_raises():
    """A node named END is rejected (D-4)."""
    with pytest.raises(GraphConfigError, match="END"):
        Graph([double.with_name("END")])


def test_data_output_named_end_raises():
    """A data output named END is rejected (D-4)."""
    with pytest.raises(GraphConfigError, match="END"):
        Graph([double.with_outputs(doubled="END")])


def test_emit_named_end_raises():
    """An emit name END is rejected (D-4)."""

    @node(output_name="y", emit="END")
    def step(x):
        return x

    with pytest.raises(GraphConfigError, match="END"):
        Graph([step])


@pytest.mark.parametrize("name", ["123-bad", "class", "<lambda>", "a b", ""])
def test_invalid_function_node_name_raises(name):
    """A non-identifier or keyword node name is rejected, naming it."""
    with pytest.raises(GraphConfigError, match=re.escape(repr(name))):
        Graph([double.with_name(name)])


def test_lambda_node_in_graph_raises():
    """A lambda node must be renamed with with_name before use."""
    with pytest.raises(GraphConfigError, match="<lambda>"):
        Graph([node(lambda x: x, output_name="y")])


def test_renamed_lambda_node_is_accepted():
    """A lambda node renamed with with_name is accepted."""
    graph = Graph([node(lambda x: x, output_name="y").with_name("ident")])
    assert list(graph.nodes) == ["ident"]


def test_invalid_gate_name_raises():
    """Gate names are identifier-checked like function node names."""
    with pytest.raises(GraphConfigError, match="'bad-gate'"):
        Graph([incr, loop.with_name("bad-gate")], entrypoint="incr")


@pytest.mark.parametrize("output", ["1x", "class", "_private", "a-b", "for"])
def test_invalid_output_name_raises(output):
    """Outputs must be identifiers, not keywords, not start with '_'."""
    with pytest.raises(GraphConfigError, match=re.escape(repr(output))):
        Graph([double.with_outputs({"doubled": output})])


def test_invalid_emit_name_raises():
    """Emit names are validated as outputs too."""

    @node(output_name="y", emit="_hidden")
    def step(x):
        return x

    with pytest.raises(GraphConfigError, match="_hidden"):
        Graph([step])


def test_gate_record_exempt_from_underscore_rule():
    """A gate's '_name' record does not trip the underscore rule."""
    graph = Graph([incr, loop], entrypoint="incr")
    assert "loop" in graph.nodes


def test_graph_node_name_equal_to_other_output_raises():
    """A GraphNode named like another node's output is rejected."""
    inner = Graph([node_b], name="doubled").as_node()
    with pytest.raises(GraphConfigError, match="'doubled'"):
        Graph([double, inner])


def test_graph_node_name_equal_to_own_output_is_allowed():
    """A GraphNode may share a name with one of its own outputs."""
    inner = Graph([double], name="doubled").as_node()
    graph = Graph([inner])
    assert "doubled" in graph.nodes


def test_graph_node_hyphen_name_is_not_identifier_checked():
    """GraphNode names with hyphens pass Graph validation."""
    graph = Graph([Graph([double], name="in-ner").as_node()])
    assert list(graph.nodes) == ["in-ner"]


def test_gate_target_not_in_graph_raises():
    """A route target that is not a node of the graph is rejected."""

    @route(targets=["missing", END])
    def decide(x):
        return END

    with pytest.raises(GraphConfigError, match="'missing'"):
        Graph([decide])


def test_ifelse_target_not_in_graph_raises():
    """An ifelse branch that is not a node is a GraphConfigError."""

    @ifelse("nowhere", END)
    def check(x):
        return True

    with pytest.raises(GraphConfigError, match="'nowhere'"):
        Graph([check, double])


def test_ifelse_both_targets_missing_raises_graph_config_error():
    """Missing ifelse targets are always GraphConfigError, never a networkx error."""

    @ifelse("ghost_a", "ghost_b")
    def check(x):
        return True

    with pytest.raises(GraphConfigError, match="ghost_a"):
        Graph([check])


def test_route_fallback_not_in_graph_raises():
    """A fallback naming a missing node is a GraphConfigError."""

    @route(targets=["double"], fallback="ghost")
    def decide(x):
        return None

    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([decide, double])


def test_end_target_always_valid():
    """END needs no node in the graph."""

    @ifelse("double", END)
    def check(x):
        return True

    graph = Graph([check, double])
    assert set(graph.nodes) == {"check", "double"}


def test_gate_targeting_itself_raises():
    """A gate listing itself as a target is rejected."""

    @route(targets=["selfish", END])
    def selfish(x):
        return END

    with pytest.raises(GraphConfigError, match="itself"):
        Graph([selfish])


def test_multi_target_route_with_shared_output_raises():
    """multi_target targets may not share an output name."""

    @node(output_name="out")
    def left(x):
        return 1

    @node(output_name="out")
    def right(x):
        return 2

    @route(targets=["left", "right"], multi_target=True)
    def fan(x):
        return ["left", "right"]

    with pytest.raises(GraphConfigError, match="'out'"):
        Graph([fan, left, right])


def test_multi_target_route_with_distinct_outputs_is_allowed():
    """multi_target targets with distinct outputs are fine."""

    @route(targets=["node_a", "node_b"], multi_target=True)
    def fan(x):
        return ["node_a"]

    graph = Graph([fan, node_a, node_b.with_inputs(y="x")])
    assert graph.outputs == ("a_val", "b_val")


def test_mapped_graph_node_around_interrupt_raises():
    """Graph rejects a mapped GraphNode with an inner interrupt (N31)."""
    inner = Graph([double, interrupt("answer")(ask)], name="review")
    with pytest.raises(GraphConfigError, match="review"):
        Graph([inner.as_node().map_over("x")])


def test_unknown_wait_for_name_raises_with_suggestion():
    """A wait_for name that no node outputs or emits is rejected."""

    @node(output_name="y", wait_for="doubld")
    def late(z):
        return z

    with pytest.raises(GraphConfigError, match="'doubld'") as info:
        Graph([double, late])
    assert "doubled" in str(info.value)


def test_wait_for_emit_name_is_valid():
    """A wait_for name that another node emits is valid."""

    @node(output_name="y", emit="ready")
    def first(x):
        return x

    @node(output_name="z", wait_for="ready")
    def second(w):
        return w

    assert Graph([first, second]).inputs.required == ("x", "w")


def test_graph_config_error_is_not_value_error():
    """GraphConfigError is not a ValueError."""
    with pytest.raises(GraphConfigError) as info:
        Graph([double, double])
    assert not isinstance(info.value, ValueError)


# ---------------------------------------------------------------------------
# G9: default consistency
# ---------------------------------------------------------------------------

_NO_DEFAULT = object()


def _consumer(name, default=_NO_DEFAULT):
    """Build a node 'name' consuming 'value' with an optional default."""
    if default is _NO_DEFAULT:

        def f(value):
            return value

    else:

        def f(value=default):
            return value

    return FunctionNode(f, name=name, output_name=f"{name}_out")


def test_different_defaults_raise():
    """a(value=10) with b(value=20) is 'Inconsistent defaults for 'value''."""
    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'value'"):
        Graph([_consumer("a", 10), _consumer("b", 20)])


def test_default_and_no_default_raise():
    """a(value=10) with b(value) is inconsistent."""
    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'value'"):
        Graph([_consumer("a", 10), _consumer("b")])


def test_equal_defaults_give_single_optional_input():
    """Equal defaults are consistent; value appears once in optional."""
    graph = Graph([_consumer("a", 10), _consumer("b", 10)])
    assert graph.inputs.optional == ("value",)
    assert graph.inputs.required == ()


def test_no_defaults_give_single_required_input():
    """Consumers without defaults are consistent; value is required once."""
    graph = Graph([_consumer("a"), _consumer("b")])
    assert graph.inputs.required == ("value",)


def test_defaults_of_edge_fed_params_are_not_checked():
    """Different defaults for a parameter produced in the graph are allowed."""

    @node(output_name="value")
    def make(x):
        return x

    graph = Graph([make, _consumer("a", 10), _consumer("b", 20)])
    assert graph.inputs.required == ("x",)


def test_loop_body_default_with_gate_without_default_is_allowed():
    """incr(count=0) plus a gate loop(count) is accepted (count is edge-fed)."""

    @node(output_name="count")
    def incr0(count=0):
        return count + 1

    @route(targets=["incr0", END])
    def again(count):
        return END

    graph = Graph([incr0, again], entrypoint="incr0")
    assert graph.inputs.optional == ("count",)


class _Unequal:
    """An object whose comparison always fails."""

    def __eq__(self, other):
        raise RuntimeError("cannot compare")

    __hash__ = object.__hash__


class _ArrayLike:
    """Compares element-wise like an array, returning a list of bools."""

    def __init__(self, *items):
        self.items = items

    def __eq__(self, other):
        return [a == b for a, b in zip(self.items, other.items, strict=True)]

    __hash__ = object.__hash__


def test_identical_default_object_is_consistent_even_if_eq_fails():
    """Defaults are compared by identity first."""
    shared = _Unequal()
    graph = Graph([_consumer("a", shared), _consumer("b", shared)])
    assert graph.inputs.optional == ("value",)


def test_failing_comparison_counts_as_unequal():
    """Distinct defaults whose == raises are inconsistent."""
    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'value'"):
        Graph([_consumer("a", _Unequal()), _consumer("b", _Unequal())])


def test_array_like_equal_defaults_are_consistent():
    """Array-like comparisons reduced with all(): all True is equal."""
    graph = Graph([_consumer("a", _ArrayLike(1, 2)), _consumer("b", _ArrayLike(1, 2))])
    assert graph.inputs.optional == ("value",)


def test_array_like_partially_equal_defaults_are_inconsistent():
    """Array-like comparisons reduced with all(): one False is unequal."""
    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'value'"):
        Graph([_consumer("a", _ArrayLike(1, 2)), _consumer("b", _ArrayLike(1, 3))])


# ---------------------------------------------------------------------------
# G10: conflicting producers
# ---------------------------------------------------------------------------


def test_two_independent_producers_raise():
    """Two unordered producers of one name raise 'Multiple nodes produce'."""
    with pytest.raises(GraphConfigError, match="Multiple nodes produce 'res'"):
        Graph([p1, p2])


def test_producer_chain_linked_only_by_contested_name_raises():
    """p1(x)->res then p3(res)->res fails: their only link carries res."""
    with pytest.raises(GraphConfigError, match="Multiple nodes produce 'res'"):
        Graph([p1, p3])


def test_independent_producers_ordered_by_emit_wait_for_are_allowed():
    """emit/wait_for orders two producers of one name."""
    first = FunctionNode(p1.func, output_name="res", emit="first_done")
    second = FunctionNode(p2.func, output_name="res", wait_for="first_done")
    graph = Graph([first, second])
    assert graph.outputs == ("res", "first_done")


def test_producer_chain_fixed_with_emit_wait_for():
    """p1/p3 ordered with emit/wait_for pass the producer check (p3 loops on res)."""
    first = FunctionNode(p1.func, output_name="res", emit="first_done")
    second = FunctionNode(p3.func, output_name="res", wait_for="first_done")
    graph = Graph([first, second], entrypoint="p1")
    assert graph.inputs.required == ("x",)


def test_producer_chain_fixed_with_explicit_edge():
    """An explicit edge orders p1 before p3."""
    graph = Graph([p1, p3], edges=[("p1", "p3")])
    assert list(graph.nx_graph.edges()) == [("p1", "p3")]


def test_producer_chain_fixed_by_renaming():
    """Renaming p3's output removes the conflict."""
    graph = Graph([p1, p3.with_outputs(res="final")])
    assert graph.outputs == ("res", "final")


def test_producers_ordered_through_uncontested_data_are_allowed():
    """A path over an uncontested name orders the producers."""

    @node(output_name=("res", "token"))
    def first(x):
        return x, x

    @node(output_name="res")
    def second(token):
        return token

    graph = Graph([first, second])
    assert ("first", "second") in graph.nx_graph.edges


def test_producers_in_ifelse_branches_are_allowed():
    """Producers in the two branches of an @ifelse may share an output."""
    graph = Graph([pick, yes, no])
    assert graph.inputs.required == ("x",)
    assert set(graph.nx_graph.edges()) == {("pick", "yes"), ("pick", "no")}


def test_producers_in_exclusive_route_branches_are_allowed():
    """Producers in different branches of a single-target route are allowed."""

    @route(targets=["yes", "no", END])
    def choose(x):
        return "yes"

    assert Graph([choose, yes, no]).outputs == ("msg",)


def test_producer_outside_gate_branches_conflicts():
    """A producer outside the gate's branches conflicts with a branch producer."""

    @node(output_name="msg")
    def outsider(y):
        return "out"

    with pytest.raises(GraphConfigError, match="Multiple nodes produce 'msg'"):
        Graph([pick, yes, no, outsider])


def test_producers_ordered_by_explicit_ordering_edge():
    """With explicit edges, an ordering-only edge between producers suffices."""
    graph = Graph([p1, p2], edges=[("p1", "p2")])
    assert graph.nx_graph.edges["p1", "p2"]["edge_type"] == "ordering"


def test_explicit_edges_without_path_still_conflict():
    """With explicit edges, producers with no path between them conflict."""

    @node(output_name="z")
    def other(q):
        return q

    with pytest.raises(GraphConfigError, match="Multiple nodes produce 'res'"):
        Graph([p1, p2, other], edges=[("p1", "other")])


# ---------------------------------------------------------------------------
# G11: ambiguous implicit wiring
# ---------------------------------------------------------------------------


def test_earlier_producer_edge_is_shadowed():
    """A consumer reads only the later of two ordered producers."""

    @node(output_name=("v", "token"))
    def first(x):
        return x, x

    @node(output_name="v")
    def second(token):
        return token

    @node(output_name="out")
    def reader(v):
        return v

    nxg = Graph([first, second, reader]).nx_graph
    assert set(nxg.edges()) == {("first", "second"), ("second", "reader")}
    assert list(nxg.edges["second", "reader"]["value_names"]) == ["v"]


def test_shadowing_leaves_no_producer_raises():
    """Producers that each pass through the other first leave no producer."""

    @node(output_name=("v", "t1"))
    def pa(t2):
        return 1, 1

    @node(output_name=("v", "t2"))
    def pb(t1):
        return 1, 1

    @node(output_name="o")
    def reader(v):
        return v

    with pytest.raises(GraphConfigError, match="competing producers"):
        Graph([pa, pb, reader], entrypoint="pa")


def test_cycle_consumer_with_two_producers_raises():
    """A non-gate consumer in a cycle with two live producers is rejected."""

    @node(output_name="out")
    def body(p):
        return p

    @ifelse("left", "right")
    def split(out):
        return True

    @node(output_name="p")
    def left(out):
        return out

    @node(output_name="p")
    def right(out):
        return out

    with pytest.raises(GraphConfigError, match="competing producers"):
        Graph([body, split, left, right], entrypoint="body")


# ---------------------------------------------------------------------------
# G12: explicit edges
# ---------------------------------------------------------------------------


def test_explicit_two_tuple_carries_consumed_outputs():
    """A 2-tuple carries every src output that dst consumes."""
    graph = Graph([double, add_one], edges=[("double", "add_one")])
    data = graph.nx_graph.edges["double", "add_one"]
    assert data["edge_type"] == "data"
    assert list(data["value_names"]) == ["doubled"]
    assert graph.inputs.required == ("x",)


def test_explicit_edges_accept_node_objects():
    """Endpoints may be node objects."""
    graph = Graph([double, add_one], edges=[(double, add_one)])
    assert list(graph.nx_graph.edges()) == [("double", "add_one")]


def test_explicit_two_tuple_without_shared_name_is_ordering_edge():
    """A 2-tuple with nothing to carry is an ordering-only edge."""
    graph = Graph([node_a, node_b], edges=[("node_a", "node_b")])
    assert graph.nx_graph.edges["node_a", "node_b"]["edge_type"] == "ordering"


@pytest.mark.parametrize("names", ["doubled", ["doubled"]], ids=["str", "list"])
def test_explicit_three_tuple_names_values(names):
    """A 3-tuple names the carried values as a string or list."""
    graph = Graph([double, add_one], edges=[("double", "add_one", names)])
    assert list(graph.nx_graph.edges["double", "add_one"]["value_names"]) == ["doubled"]


def test_explicit_edges_infer_no_data_edges():
    """With edges=[...], names are not auto-wired."""
    graph = Graph([double, add_one], edges=[])
    assert list(graph.nx_graph.edges()) == []
    assert graph.inputs.required == ("x", "doubled")


def test_explicit_edges_keep_control_and_ordering_edges():
    """Gate control and wait_for ordering edges are still inferred."""

    @node(output_name="y", emit="ready")
    def first(x):
        return x

    @node(output_name="z", wait_for="ready")
    def second(w):
        return w

    graph = Graph([incr, loop, first, second], edges=[], entrypoint="incr")
    nxg = graph.nx_graph
    assert nxg.edges["loop", "incr"]["edge_type"] == "control"
    assert nxg.edges["first", "second"]["edge_type"] == "ordering"


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ([("double",)], "Bad edge ('double',)"),
        (
            [("double", "add_one", "doubled", "extra")],
            "Bad edge ('double', 'add_one', 'doubled', 'extra')",
        ),
        (["double"], "Bad edge 'double'"),
        ([("double", "ghost")], "Edge endpoint 'ghost' is not a node"),
        ([("ghost", "add_one")], "Edge endpoint 'ghost' is not a node"),
        ([("double", "add_one", "nope")], "carries 'nope', which must be an output"),
        ([("double", "add_one", "x")], "carries 'x', which must be an output"),
    ],
    ids=[
        "one-tuple",
        "four-tuple",
        "string-item",
        "unknown-dst",
        "unknown-src",
        "unknown-name",
        "name-not-src-output",
    ],
)
def test_malformed_explicit_edges_raise(edges, message):
    """Bad edge tuples, unknown nodes or names raise GraphConfigError."""
    with pytest.raises(GraphConfigError, match=re.escape(message)):
        Graph([double, add_one], edges=edges)


def test_explicit_edge_name_not_dst_input_raises():
    """A named value that is not an input of dst is rejected."""

    @node(output_name="out")
    def other(q):
        return q

    with pytest.raises(GraphConfigError, match="'doubled'"):
        Graph([double, other], edges=[("double", "other", "doubled")])


# ---------------------------------------------------------------------------
# G13: shared state
# ---------------------------------------------------------------------------


@node(output_name="messages", emit="m1_done")
def say_hello(messages, x):
    return [*messages, x]


@node(output_name="messages", wait_for="m1_done")
def say_bye(messages):
    return [*messages, "bye"]


def test_shared_name_allows_several_producers():
    """shared= lets several nodes output one name without a conflict."""
    graph = Graph([say_hello, say_bye], shared="messages")
    assert graph.outputs == ("messages", "m1_done")


def test_shared_name_infers_no_data_edges_and_is_required():
    """A shared name is not wired; its initial value is a required input."""
    graph = Graph([say_hello, say_bye], shared="messages")
    kinds = {d["edge_type"] for _, _, d in graph.nx_graph.edges(data=True)}
    assert kinds == {"ordering"}
    assert "messages" in graph.inputs.required


def test_shared_accepts_list_and_tuple():
    """shared may be a list or tuple of names."""
    for shared in (["messages"], ("messages",)):
        graph = Graph([say_hello, say_bye], shared=shared)
        assert "messages" in graph.inputs.required


def test_shared_with_explicit_edges_keeps_initial_value_input():
    """With explicit edges ordering shared producers, 'messages' stays an input."""

    @node(output_name="messages")
    def m1(messages, x):
        return [*messages, x]

    @node(output_name="messages")
    def m2(messages):
        return [*messages, "m2"]

    graph = Graph([m1, m2], shared="messages", edges=[("m1", "m2")])
    assert "messages" in graph.inputs.required


def test_shared_non_shared_names_still_auto_wired():
    """Names not listed in shared are still wired by name."""

    @node(output_name="summary")
    def summarize(messages, doubled):
        return len(messages)

    shared_double = FunctionNode(double.func, output_name="doubled", wait_for="m1_done")
    graph = Graph([say_hello, shared_double, summarize], shared="messages")
    assert graph.nx_graph.edges["double", "summarize"]["edge_type"] == "data"


async def test_shared_value_flows_through_producers(runner):
    """Consumers read the latest shared value at run time."""
    graph = Graph([say_hello, say_bye], shared="messages")
    result = await runner.run(graph, x="hi", messages=[])
    assert result.status is RunStatus.COMPLETED
    assert result.values["messages"] == ["hi", "bye"]


def test_shared_name_not_output_raises():
    """A shared name that no node outputs is rejected."""
    with pytest.raises(GraphConfigError, match="'nope'"):
        Graph([say_hello, say_bye], shared=["nope"])


@pytest.mark.parametrize("shared", [["messages", 3], 5], ids=["entry", "whole"])
def test_shared_non_string_raises(shared):
    """A non-string shared entry is rejected."""
    with pytest.raises(GraphConfigError, match="shared"):
        Graph([say_hello, say_bye], shared=shared)


def test_shared_graph_falling_apart_raises_listing_groups():
    """Disconnected groups under shared= are rejected with the groups listed."""

    @node(output_name="messages")
    def m1(messages, x):
        return messages

    @node(output_name="messages")
    def m2(messages):
        return messages

    with pytest.raises(GraphConfigError, match="disconnected") as info:
        Graph([m1, m2], shared="messages")
    assert "m1" in str(info.value)
    assert "m2" in str(info.value)


# ---------------------------------------------------------------------------
# G14: entrypoint argument and cycles
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entrypoint",
    ["incr", incr, ["incr"], ("incr",), [incr]],
    ids=["name", "node", "list", "tuple", "list-of-node"],
)
def test_entrypoint_forms_accepted(entrypoint):
    """entrypoint accepts a name, node, or list/tuple of them."""
    graph = Graph([incr, loop], entrypoint=entrypoint)
    assert graph.entrypoints_config == ("incr",)


def test_entrypoint_equivalent_to_with_entrypoint():
    """entrypoint= matches with_entrypoint(...) on an acyclic graph."""
    direct = Graph([na, nb, nc], entrypoint="nb")
    later = Graph([na, nb, nc]).with_entrypoint("nb")
    assert direct.entrypoints_config == later.entrypoints_config
    assert direct.inputs == later.inputs


@pytest.mark.parametrize(
    ("entrypoint", "fragment"),
    [
        ([], "empty"),
        ((), "empty"),
        (123, "123"),
        ("ghost", "'ghost'"),
        (["incr", "ghost"], "'ghost'"),
        ("loop", "Gate 'loop'"),
    ],
    ids=[
        "empty-list",
        "empty-tuple",
        "wrong-type",
        "unknown",
        "unknown-in-list",
        "gate",
    ],
)
def test_bad_entrypoint_raises(entrypoint, fragment):
    """Empty, wrong-type, unknown or gate entrypoints are GraphConfigErrors."""
    with pytest.raises(GraphConfigError, match=re.escape(fragment)):
        Graph([incr, loop], entrypoint=entrypoint)


def test_cyclic_graph_without_entrypoint_raises():
    """A gate routing back upstream without an entrypoint is rejected."""
    with pytest.raises(GraphConfigError, match="entrypoint") as info:
        Graph([incr, loop])
    assert "with_entrypoint" in str(info.value)


def test_self_loop_without_entrypoint_raises():
    """A node consuming its own output needs an entrypoint."""
    with pytest.raises(GraphConfigError, match="cycle"):
        Graph([incr])


def test_self_loop_with_entrypoint_requires_seed():
    """With an entrypoint, the self-loop's value is a required input."""
    graph = Graph([incr], entrypoint="incr")
    assert graph.inputs.required == ("count",)


async def test_self_loop_with_entrypoint_runs_once(runner):
    """A self-looping node with an entrypoint runs once."""
    graph = Graph([incr], entrypoint="incr")
    result = await runner.run(graph, count=1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"count": 2}


# ---------------------------------------------------------------------------
# G15: strict_types
# ---------------------------------------------------------------------------

T = TypeVar("T")
IntBound = TypeVar("IntBound", bound=int)
IntOrStr = TypeVar("IntOrStr", int, str)


class Animal:
    pass


class Dog(Animal):
    pass


def _typed_pair(out_type, in_type):
    def produce(x):
        return x

    def consume(v):
        return v

    if out_type is not None:
        produce.__annotations__ = {"return": out_type}
    if in_type is not None:
        consume.__annotations__ = {"v": in_type}
    return (
        FunctionNode(produce, output_name="v"),
        FunctionNode(consume, output_name="w"),
    )


@pytest.mark.parametrize(
    ("out_type", "in_type"),
    [
        (int, int),
        (str, Any),
        (Dog, Animal),
        (int | None, int | None),
        (int, int | str),
        (list[int], list[int]),
        (list[Dog], list[Animal]),
        (list[int], list),
        (list, list[int]),
        (dict[str, int], dict[str, int]),
        (Annotated[int, "meta"], int),
        (int, Annotated[int, "meta"]),
        (int, T),
        (int, IntBound),
        (str, IntOrStr),
    ],
    ids=[
        "equal",
        "any-input",
        "subclass",
        "equal-unions",
        "union-consumer",
        "generic",
        "generic-covariant",
        "unparameterised-consumer",
        "unparameterised-producer",
        "dict",
        "annotated-producer",
        "annotated-consumer",
        "typevar",
        "bounded-typevar",
        "constrained-typevar",
    ],
)
def test_strict_types_accepts_compatible_edges(out_type, in_type):
    """Compatible annotations pass strict_types=True."""
    graph = Graph(_typed_pair(out_type, in_type), strict_types=True)
    assert list(graph.nx_graph.edges()) == [("produce", "consume")]
    assert graph.inputs.required == ("x",)


@pytest.mark.parametrize(
    ("out_type", "in_type"),
    [
        (int, str),
        (Animal, Dog),
        (int | str, int),
        (list[int], list[str]),
        (list[int], set[int]),
        (Any, int),
        (str, IntBound),
        (float, IntOrStr),
    ],
    ids=[
        "different",
        "base-for-subclass",
        "union-producer",
        "generic-args",
        "generic-origin",
        "any-output",
        "bounded-typevar",
        "constrained-typevar",
    ],
)
def test_strict_types_rejects_mismatch(out_type, in_type):
    """Incompatible annotations raise 'Type mismatch'."""
    with pytest.raises(GraphConfigError, match="Type mismatch"):
        Graph(_typed_pair(out_type, in_type), strict_types=True)


@pytest.mark.parametrize(
    ("out_type", "in_type"), [(None, int), (int, None)], ids=["output", "input"]
)
def test_strict_types_missing_annotation_raises(out_type, in_type):
    """A missing annotation on either end raises 'Missing type annotation'."""
    with pytest.raises(GraphConfigError, match="Missing type annotation"):
        Graph(_typed_pair(out_type, in_type), strict_types=True)


def test_strict_types_off_ignores_mismatch():
    """Without strict_types, mismatched annotations are accepted."""
    graph = Graph(_typed_pair(int, str))
    assert list(graph.nx_graph.edges()) == [("produce", "consume")]


def test_strict_types_skip_nodes_without_edges():
    """Unannotated nodes without edges are not checked."""

    def loner(q):
        return q

    graph = Graph([FunctionNode(loner, output_name="r")], strict_types=True)
    assert graph.inputs.required == ("q",)


def test_strict_types_use_graph_node_annotations():
    """GraphNodes forward inner annotations to strict checks."""
    inner = Graph([double], name="inner").as_node()

    @node(output_name="text")
    def show(doubled: str) -> str:
        return doubled

    with pytest.raises(GraphConfigError, match="Type mismatch"):
        Graph([inner, show], strict_types=True)
    ok = Graph([inner, add_one], strict_types=True)
    assert list(ok.nx_graph.edges()) == [("inner", "add_one")]


def test_strict_types_use_mapped_graph_node_list_type():
    """A mapped GraphNode output is list[T] for strict checks."""
    inner = Graph([double], name="inner").as_node().map_over("x")

    @node(output_name="total")
    def total(doubled: list[int]) -> int:
        return sum(doubled)

    checked = Graph([inner, total], strict_types=True)
    assert list(checked.nx_graph.edges()) == [("inner", "total")]
    with pytest.raises(GraphConfigError, match="Type mismatch"):
        Graph([inner, add_one], strict_types=True)


# ---------------------------------------------------------------------------
# G16-G17: bind and unbind
# ---------------------------------------------------------------------------


def test_bind_moves_input_to_optional_and_records_binding():
    """A bound input stays in optional and appears in bound."""
    graph = _chain().bind(x=3)
    assert graph.inputs.required == ()
    assert graph.inputs.optional == ("x",)
    assert graph.inputs.bound == {"x": 3}


def test_bind_returns_new_graph_and_keeps_receiver():
    """bind returns a new graph; the original is unchanged."""
    graph = _chain()
    bound = graph.bind(x=3)
    assert bound is not graph
    assert graph.inputs.bound == {}
    assert graph.inputs.required == ("x",)


def test_bind_output_raises_value_error_suggesting_with_entrypoint():
    """Binding an output of the graph explains to slice with with_entrypoint."""
    with pytest.raises(ValueError, match="with_entrypoint"):
        _chain().bind(doubled=4)


def test_bind_unknown_key_raises_value_error_listing_inputs():
    """Binding an unknown key lists the valid inputs."""
    graph = Graph([na, nb, nc])
    with pytest.raises(ValueError, match="not an input") as info:
        graph.bind(q=1)
    for name in ("x", "y", "z"):
        assert name in str(info.value)


def test_bind_merges_with_later_winning():
    """Bindings merge; a later bind of the same key wins."""
    graph = Graph([na, nb, nc]).bind(x=1, y=2).bind(y=3, z=4)
    assert graph.inputs.bound == {"x": 1, "y": 3, "z": 4}


def test_bind_stores_objects_by_reference():
    """Bound objects are never copied."""
    client = {"connection": object()}
    graph = _chain().bind(x=client)
    assert graph.inputs.bound["x"] is client


async def test_bound_object_reaches_node_by_reference(runner):
    """At run time a node receives the very (uncopyable) object that was bound."""
    marker = threading.Lock()

    @node(output_name="same")
    def identity(obj):
        return obj

    result = await runner.run(Graph([identity]).bind(obj=marker))
    assert result.values["same"] is marker


def test_bind_does_not_change_definition_hash():
    """Bindings do not change definition_hash."""
    graph = _chain()
    assert graph.bind(x=1).definition_hash == graph.definition_hash


def test_bind_keeps_other_configuration():
    """bind keeps name, strict_types, entrypoints and selection."""
    graph = Graph([na, nb, nc], name="g", strict_types=False).with_entrypoint("nb")
    graph = graph.select("c").bind(y=1)
    assert graph.name == "g"
    assert graph.entrypoints_config == ("nb",)
    assert graph.selected == ("c",)
    assert graph.inputs.bound == {"y": 1}


def test_unbind_removes_binding():
    """unbind removes the named bindings."""
    graph = Graph([na, nb, nc]).bind(x=1, y=2)
    unbound = graph.unbind("x")
    assert unbound.inputs.bound == {"y": 2}
    assert "x" in unbound.inputs.required
    assert graph.inputs.bound == {"x": 1, "y": 2}


def test_unbind_ignores_unbound_names():
    """unbind of names that are not bound is ignored."""
    graph = _chain().bind(x=1)
    assert graph.unbind("nope", "doubled").inputs.bound == {"x": 1}


def test_unbind_returns_new_graph():
    """unbind returns a new graph even when nothing changes."""
    graph = _chain()
    assert graph.unbind("x") is not graph


# ---------------------------------------------------------------------------
# G18-G19: select
# ---------------------------------------------------------------------------


def test_select_narrows_inputs():
    """Selecting a_val needs only x."""
    graph = Graph([node_a, node_b]).select("a_val")
    assert graph.inputs.required == ("x",)
    assert graph.selected == ("a_val",)


def test_select_unknown_name_raises_value_error():
    """A name not in outputs is a ValueError."""
    with pytest.raises(ValueError, match="'nope'"):
        _chain().select("nope")


def test_select_gate_record_raises_value_error():
    """Gate records are not outputs and cannot be selected."""
    with pytest.raises(ValueError, match="'_loop'"):
        Graph([incr, loop], entrypoint="incr").select("_loop")


def test_select_duplicates_raise_value_error():
    """Selecting a name twice is a ValueError."""
    with pytest.raises(ValueError, match="duplicate"):
        _chain().select("result", "result")


def test_select_replaces_previous_selection():
    """A new selection replaces the old one."""
    graph = _chain().select("doubled").select("result")
    assert graph.selected == ("result",)


def test_select_returns_new_graph():
    """select leaves the receiver unselected."""
    graph = _chain()
    selected = graph.select("doubled")
    assert selected is not graph
    assert graph.selected is None


async def test_select_narrows_what_runs_and_returns(runner):
    """A run of a selected graph returns only the selected names."""
    calls = []

    @node(output_name="b_val")
    def tracked_b(y):
        calls.append("b")
        return y

    graph = Graph([node_a, tracked_b]).select("a_val")
    result = await runner.run(graph, x=1)
    assert result.values == {"a_val": 1}
    assert calls == []


def test_select_narrows_as_node_outputs():
    """as_node() of a selected graph exposes the selection only."""
    gn = _chain().select("result").as_node(name="inner")
    assert gn.outputs == ("result",)


def test_select_then_bind_out_of_scope_raises():
    """select('b').bind(z=1) fails when z feeds only unselected nodes."""
    with pytest.raises(ValueError, match="'z'"):
        Graph([na, nb, nc]).select("b").bind(z=1)


def test_bind_then_select_is_accepted():
    """bind(z=1).select('b') is accepted."""
    graph = Graph([na, nb, nc]).bind(z=1).select("b")
    assert graph.selected == ("b",)
    assert graph.inputs.required == ("x", "y")


# ---------------------------------------------------------------------------
# G20: with_entrypoint
# ---------------------------------------------------------------------------


def test_with_entrypoint_accumulates():
    """Calls accumulate entrypoints in order."""
    graph = Graph([na, nb, nc]).with_entrypoint("na").with_entrypoint("nb")
    assert graph.entrypoints_config == ("na", "nb")


def test_with_entrypoint_accepts_node_objects():
    """with_entrypoint accepts node objects."""
    assert Graph([na, nb, nc]).with_entrypoint(nb).entrypoints_config == ("nb",)


def test_with_entrypoint_unknown_raises():
    """An unknown entrypoint name is a GraphConfigError."""
    with pytest.raises(GraphConfigError, match="'ghost'"):
        Graph([na, nb, nc]).with_entrypoint("ghost")


def test_with_entrypoint_gate_raises():
    """A gate cannot be an entrypoint."""
    with pytest.raises(GraphConfigError, match="Gate 'loop'"):
        Graph([incr, loop], entrypoint="incr").with_entrypoint("loop")


def test_with_entrypoint_returns_new_graph():
    """with_entrypoint leaves the receiver unchanged."""
    graph = Graph([na, nb, nc])
    sliced = graph.with_entrypoint("nb")
    assert sliced is not graph
    assert graph.entrypoints_config is None


def test_with_entrypoint_upstream_outputs_become_inputs():
    """Outputs of inactive upstream nodes consumed downstream become inputs."""
    graph = Graph([na, nb, nc]).with_entrypoint("nb")
    assert graph.inputs.required == ("a", "y")


def test_with_entrypoint_then_bind_former_output():
    """After slicing, a former output can be bound."""
    graph = Graph([na, nb, nc]).with_entrypoint("nb").bind(a=1)
    assert graph.inputs.bound == {"a": 1}


async def test_inactive_upstream_node_never_runs(runner):
    """Nodes not reachable from an entrypoint never run, even with inputs given."""
    calls = []

    @node(output_name="a")
    def upstream(x):
        calls.append("upstream")
        return x

    graph = Graph([upstream, nb]).with_entrypoint("nb")
    with pytest.warns(UserWarning, match="'x'"):
        result = await runner.run(graph, a=2, y=3, x=100)
    assert result.values["b"] == 5
    assert calls == []


def test_with_entrypoint_cannot_rescue_cyclic_node_list():
    """A cyclic node list fails at Graph(...) before with_entrypoint can run."""
    with pytest.raises(GraphConfigError, match="cycle"):
        Graph([incr, loop]).with_entrypoint("incr")


# ---------------------------------------------------------------------------
# G21: add_nodes
# ---------------------------------------------------------------------------


def test_add_nodes_rebuilds_with_new_nodes():
    """add_nodes adds nodes and re-infers edges."""
    graph = Graph([double]).add_nodes(add_one)
    assert list(graph.nodes) == ["double", "add_one"]
    assert list(graph.nx_graph.edges()) == [("double", "add_one")]


def test_add_nodes_without_arguments_returns_same_graph():
    """add_nodes() returns the graph itself."""
    graph = _chain()
    assert graph.add_nodes() is graph


def test_add_nodes_keeps_receiver_unchanged():
    """add_nodes returns a new graph; the receiver keeps its nodes."""
    graph = Graph([double])
    graph.add_nodes(add_one)
    assert list(graph.nodes) == ["double"]


def test_add_nodes_replays_configuration():
    """Name, strict_types, bindings and selection are replayed."""
    graph = Graph([double], name="g", strict_types=True).bind(x=1).select("doubled")
    grown = graph.add_nodes(add_one)
    assert grown.name == "g"
    assert grown.strict_types is True
    assert grown.inputs.bound == {"x": 1}
    assert grown.selected == ("doubled",)


def test_add_nodes_replays_shared():
    """shared is replayed by add_nodes."""
    graph = Graph([say_hello, say_bye], shared="messages")

    @node(output_name="count_out", wait_for="m1_done")
    def counter(messages):
        return len(messages)

    grown = graph.add_nodes(counter)
    assert "messages" in grown.inputs.required
    assert set(grown.nodes) == {"say_hello", "say_bye", "counter"}


def test_add_nodes_replays_entrypoints_on_cyclic_graph():
    """Entrypoints are replayed, so add_nodes works on a cyclic graph."""
    graph = Graph([incr, loop], entrypoint="incr")

    @node(output_name="report")
    def reporter(count):
        return count

    grown = graph.add_nodes(reporter)
    assert grown.entrypoints_config == ("incr",)
    assert grown.has_cycles


def test_add_nodes_on_explicit_edges_graph_raises():
    """A graph built with edges= cannot add_nodes."""
    graph = Graph([double, add_one], edges=[("double", "add_one")])
    with pytest.raises(GraphConfigError, match="edges"):
        graph.add_nodes(node_b)


def test_add_nodes_with_stale_binding_raises_value_error():
    """A binding that is no longer an input raises ValueError."""
    graph = Graph([add_one]).bind(doubled=1)
    with pytest.raises(ValueError, match="'doubled'"):
        graph.add_nodes(double)


def test_add_nodes_after_unbind_succeeds():
    """Unbinding first lets add_nodes succeed."""
    graph = Graph([add_one]).bind(doubled=1).unbind("doubled").add_nodes(double)
    assert graph.inputs.required == ("x",)


def test_add_nodes_validates_new_graph():
    """add_nodes re-runs validation (duplicate names)."""
    with pytest.raises(GraphConfigError, match="Duplicate node name"):
        _chain().add_nodes(double)


def test_configuration_methods_keep_edges_and_shared():
    """bind/select/unbind keep explicit edges and shared names."""
    graph = Graph([double, add_one], edges=[("double", "add_one")])
    for derived in (graph.bind(x=1), graph.select("result"), graph.unbind("x")):
        assert list(derived.nx_graph.edges()) == [("double", "add_one")]
        with pytest.raises(GraphConfigError, match="edges"):
            derived.add_nodes(node_b)
    shared = Graph([say_hello, say_bye], shared="messages").bind(x=1)
    assert "messages" in shared.inputs.required
