"""Unit tests for GraphNode (spec 01 N23-N32)."""

import re

import pytest

from hypergraph import (
    END,
    Graph,
    GraphConfigError,
    GraphNode,
    HyperNode,
    InterruptNode,
    RenameError,
    RunStatus,
    ifelse,
    interrupt,
    node,
    route,
)

# ---------------------------------------------------------------------------
# Module-level nodes
# ---------------------------------------------------------------------------


@node(output_name="doubled")
def double(x: int) -> int:
    return 2 * x


@node(output_name="result")
def add(doubled: int, inc: int = 1) -> int:
    return doubled + inc


@node(output_name="tripled")
def triple(x):
    return 3 * x


@node(output_name="total")
def untyped_sum(doubled, tripled):
    return doubled + tripled


@node(output_name="scaled")
def scale(x: int, factor: int = 10) -> int:
    return x * factor


@node(output_name="shifted")
def shift(x: int, factor: int = 10) -> int:
    return x + factor


@node(output_name="shifted")
def shift_other_default(x: int, factor: int = 20) -> int:
    return x + factor


@node(output_name="plain_scaled")
def scale_no_default(x: int, factor: int) -> int:
    return x * factor


async def async_double(x: int) -> int:
    return 2 * x


def ask(doubled):
    return None


@route(targets=["double", END])
def gate(x):
    return END


def inner():
    """The standard inner graph: x -> doubled -> result (inc optional)."""
    return Graph([double, add], name="inner")


# ---------------------------------------------------------------------------
# N23: construction and naming
# ---------------------------------------------------------------------------


def test_as_node_uses_graph_name():
    """as_node() without name takes the graph's name."""
    gn = inner().as_node()
    assert isinstance(gn, GraphNode)
    assert isinstance(gn, HyperNode)
    assert gn.name == "inner"


def test_as_node_name_overrides_graph_name():
    """as_node(name=...) overrides the graph's name."""
    assert inner().as_node(name="other").name == "other"


def test_graph_node_constructor_equivalent_to_as_node():
    """GraphNode(graph, name=None) behaves like graph.as_node()."""
    graph = inner()
    direct = GraphNode(graph)
    via = graph.as_node()
    assert (direct.name, direct.inputs, direct.outputs) == (
        via.name,
        via.inputs,
        via.outputs,
    )
    assert GraphNode(graph, name="x2").name == "x2"


def test_as_node_without_any_name_raises_value_error():
    """A GraphNode needs a name from name= or the graph."""
    with pytest.raises(ValueError, match="needs a name"):
        Graph([double]).as_node()


def test_graph_node_constructor_without_name_raises_value_error():
    """GraphNode(unnamed_graph) raises ValueError."""
    with pytest.raises(ValueError, match="needs a name"):
        GraphNode(Graph([double]))


@pytest.mark.parametrize("bad", ["a.b", "a/b", ".", "/x"])
def test_graph_node_name_with_dot_or_slash_raises_value_error(bad):
    """A GraphNode name containing '.' or '/' is a ValueError."""
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        inner().as_node(name=bad)


def test_graph_node_name_may_contain_hyphen():
    """Hyphens are allowed in GraphNode names, also inside a Graph."""
    gn = inner().as_node(name="my-inner")
    outer = Graph([gn])
    assert "my-inner" in outer.nodes


# ---------------------------------------------------------------------------
# N24: inputs
# ---------------------------------------------------------------------------


def test_inputs_equal_inner_inputs_all():
    """inputs == graph.inputs.all, required first then optional."""
    graph = inner()
    gn = graph.as_node()
    assert gn.inputs == graph.inputs.all
    assert gn.inputs == ("x", "inc")


def test_inputs_required_before_optional():
    """Required inputs come before optional ones regardless of node order."""

    @node(output_name="a")
    def first(opt=1):
        return opt

    @node(output_name="b")
    def second(a, req):
        return a + req

    gn = Graph([first, second], name="g").as_node()
    assert gn.inputs == ("req", "opt")


def test_bound_inner_parameter_stays_input_with_default():
    """A parameter bound inside stays an input of the GraphNode and has a default."""
    gn = inner().bind(x=3).as_node()
    assert "x" in gn.inputs
    assert gn.has_default_for("x")
    assert gn.get_default_for("x") == 3


# ---------------------------------------------------------------------------
# N25: outputs
# ---------------------------------------------------------------------------


def test_outputs_are_graph_outputs_by_default():
    """Without selection or entrypoints, outputs == graph.outputs."""
    graph = inner()
    assert graph.as_node().outputs == graph.outputs == ("doubled", "result")


def test_outputs_are_exactly_the_selection():
    """With a selection, outputs are exactly graph.selected."""
    gn = inner().select("result").as_node()
    assert gn.outputs == ("result",)


def test_outputs_follow_selection_order():
    """The selection order is kept."""
    gn = inner().select("result", "doubled").as_node()
    assert gn.outputs == ("result", "doubled")


def test_outputs_with_entrypoints_are_active_node_outputs():
    """With entrypoints, only outputs of active nodes are exposed."""
    graph = Graph([double, add], name="g").with_entrypoint("add")
    assert graph.as_node().outputs == ("result",)


def test_outputs_include_emit_names():
    """Emit names of inner nodes appear in GraphNode outputs."""

    @node(output_name="y", emit="done")
    def step(x):
        return x

    gn = Graph([step], name="g").as_node()
    assert gn.outputs == ("y", "done")
    assert gn.data_outputs == ("y",)


def test_outputs_exclude_gate_records():
    """Gate decision records are not GraphNode outputs."""
    gn = Graph([gate, double], name="g").as_node()
    assert gn.outputs == ("doubled",)
    assert not any(o.startswith("_") for o in gn.outputs)


def test_sibling_graph_nodes_with_same_gate_name_do_not_conflict():
    """Two GraphNodes each holding a gate of the same name can coexist."""

    @node(output_name="tripled2")
    def triple2(x):
        return 3 * x

    @route(targets=["triple2", END])
    def other_gate(x):
        return END

    a = Graph([gate, double], name="a").as_node()
    b = Graph([other_gate.with_name("gate"), triple2], name="b").as_node()
    outer = Graph([a, b])
    assert outer.outputs == ("doubled", "tripled2")


# ---------------------------------------------------------------------------
# N26: graph, hash, flags
# ---------------------------------------------------------------------------


def test_graph_property_returns_wrapped_graph():
    """graph returns the wrapped graph."""
    graph = inner()
    assert graph.as_node().graph is graph


def test_definition_hash_equals_graph_hash():
    """definition_hash == graph.definition_hash."""
    graph = inner()
    assert graph.as_node().definition_hash == graph.definition_hash


@pytest.mark.parametrize(("is_async", "expected"), [(False, False), (True, True)])
def test_is_async_delegates_to_inner_graph(is_async, expected):
    """is_async == graph.has_async_nodes."""
    step = node(async_double, "doubled") if is_async else double
    graph = Graph([step], name="g")
    assert graph.as_node().is_async is expected
    assert graph.has_async_nodes is expected


def test_is_async_for_nested_async_node():
    """An async node two levels down makes the outer GraphNode async."""
    level1 = Graph([node(async_double, "doubled")], name="l1").as_node()
    level2 = Graph([level1], name="l2").as_node()
    assert level2.is_async is True


def test_graph_node_is_interrupt_false_even_with_inner_interrupt():
    """is_interrupt is False for a GraphNode, even around an interrupt."""
    graph = Graph([double, interrupt("answer")(ask)], name="g")
    assert graph.as_node().is_interrupt is False


def test_graph_node_default_flags():
    """A GraphNode has no wait_for, is not a generator and is not blocking."""
    gn = inner().as_node()
    assert gn.wait_for == ()
    assert (gn.is_generator, gn.blocking, gn.cache, gn.hide) == (
        False,
        False,
        False,
        False,
    )


# ---------------------------------------------------------------------------
# N27: defaults
# ---------------------------------------------------------------------------


def test_has_default_when_every_inner_consumer_has_one():
    """A parameter whose inner consumers all have a default has a default."""
    gn = Graph([scale, shift], name="g").as_node()
    assert gn.has_default_for("factor") is True
    assert gn.get_default_for("factor") == 10


def test_no_default_when_inner_consumer_lacks_it():
    """If the inner consumer has no default and nothing is bound, there is none."""
    gn = Graph([scale_no_default], name="g").as_node()
    assert gn.has_default_for("factor") is False
    with pytest.raises(KeyError):
        gn.get_default_for("factor")


def test_has_default_false_for_non_input():
    """has_default_for is False for a name that is not an input."""
    gn = inner().as_node()
    assert gn.has_default_for("nope") is False
    assert gn.has_default_for("doubled") is False


def test_get_default_for_non_input_raises_key_error():
    """get_default_for raises KeyError for a non-input."""
    with pytest.raises(KeyError):
        inner().as_node().get_default_for("nope")


def test_get_default_for_required_input_raises_key_error():
    """get_default_for raises KeyError for a required input."""
    with pytest.raises(KeyError):
        inner().as_node().get_default_for("x")


def test_bound_value_wins_over_inner_default():
    """get_default_for returns the inner bound value before a signature default."""
    gn = inner().bind(inc=5).as_node()
    assert gn.has_default_for("inc")
    assert gn.get_default_for("inc") == 5


def test_bound_value_returned_by_reference():
    """The inner bound value is returned as the same object."""
    marker = object()
    gn = inner().bind(x=marker).as_node()
    assert gn.get_default_for("x") is marker


def test_graph_node_inputs_with_defaults_are_optional_in_outer_graph():
    """Outer InputSpec treats a GraphNode default like a signature default."""
    outer = Graph([inner().as_node()])
    assert outer.inputs.required == ("x",)
    assert outer.inputs.optional == ("inc",)


def test_outer_graph_rejects_inconsistent_graph_node_defaults():
    """Two GraphNodes with different inner defaults for one input conflict (G9)."""
    a = Graph([shift], name="a").as_node()
    b = Graph([shift_other_default.with_outputs(shifted="s2")], name="b").as_node()
    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'factor'"):
        Graph([a, b])


def test_outer_graph_accepts_equal_graph_node_defaults():
    """GraphNodes whose inner defaults agree are consistent."""
    a = Graph([scale], name="a").as_node()
    b = Graph([shift], name="b").as_node()
    outer = Graph([a, b])
    assert outer.inputs.optional == ("factor",)


def test_graph_node_default_vs_function_without_default_conflicts():
    """A GraphNode default against a function node without default conflicts."""
    a = Graph([scale], name="a").as_node()
    with pytest.raises(GraphConfigError, match="Inconsistent defaults for 'factor'"):
        Graph([a, scale_no_default])


def test_bound_inner_param_reports_no_signature_default():
    """A param bound inside reports no signature default, so no-default peers agree."""
    bound = Graph([scale_no_default], name="a").bind(factor=3).as_node()
    peer = scale_no_default.with_name("peer").with_outputs(plain_scaled="p")
    outer = Graph([bound, peer])
    assert "factor" in outer.inputs.all


# ---------------------------------------------------------------------------
# N28: types
# ---------------------------------------------------------------------------


def test_output_type_from_inner_producer():
    """get_output_type gives the producing inner node's output type."""
    gn = inner().as_node()
    assert gn.get_output_type("result") is int
    assert gn.get_output_type("doubled") is int


def test_input_type_from_inner_consumer():
    """get_input_type gives the consuming inner node's input type."""
    gn = inner().as_node()
    assert gn.get_input_type("x") is int
    assert gn.get_input_type("inc") is int


def test_types_resolved_through_renames():
    """Types follow outer renames of inputs and outputs."""
    gn = inner().as_node().with_inputs(x="value").with_outputs(result="r")
    assert gn.get_input_type("value") is int
    assert gn.get_output_type("r") is int


def test_types_resolved_through_inner_renames():
    """Types are found for names renamed inside the inner graph."""
    renamed = double.with_inputs(x="value").with_outputs(doubled="twice")
    gn = Graph([renamed], name="g").as_node()
    assert gn.get_input_type("value") is int
    assert gn.get_output_type("twice") is int


def test_types_none_when_unannotated():
    """Unannotated inner nodes give None types."""
    gn = Graph([triple], name="g").as_node()
    assert gn.get_output_type("tripled") is None
    assert gn.get_input_type("x") is None


def test_mapped_output_type_is_list_of_inner_type():
    """When mapped, an output of type T becomes list[T]."""
    gn = inner().as_node().map_over("x")
    assert gn.get_output_type("result") == list[int]


def test_mapped_output_type_unknown_is_plain_list():
    """When mapped and T is unknown, the output type is plain list."""
    gn = Graph([triple], name="g").as_node().map_over("x")
    assert gn.get_output_type("tripled") is list


# ---------------------------------------------------------------------------
# N29: renaming
# ---------------------------------------------------------------------------


def test_with_inputs_renames_graph_node_input():
    """with_inputs renames GraphNode inputs and returns a new node."""
    gn = inner().as_node()
    renamed = gn.with_inputs(x="value")
    assert renamed is not gn
    assert renamed.inputs == ("value", "inc")
    assert gn.inputs == ("x", "inc")


def test_with_outputs_renames_graph_node_output():
    """with_outputs renames GraphNode outputs."""
    gn = inner().as_node().with_outputs(result="final")
    assert gn.outputs == ("doubled", "final")


def test_with_name_renames_graph_node():
    """with_name returns a renamed copy; the inner graph is unchanged."""
    gn = inner().as_node()
    renamed = gn.with_name("other")
    assert renamed.name == "other"
    assert gn.name == "inner"
    assert renamed.graph is gn.graph


def test_with_inputs_unknown_raises_rename_error():
    """Renaming a GraphNode input that does not exist raises RenameError."""
    with pytest.raises(RenameError, match="not found"):
        inner().as_node().with_inputs(nope="a")


def test_with_outputs_renamed_away_raises_rename_error():
    """Renaming an output renamed away says 'was renamed'."""
    gn = inner().as_node().with_outputs(result="r")
    with pytest.raises(RenameError, match="was renamed"):
        gn.with_outputs(result="s")


def test_renamed_default_follows_outer_name():
    """Defaults are reported under the renamed outer input name."""
    gn = inner().as_node().with_inputs(inc="step")
    assert gn.has_default_for("step")
    assert gn.get_default_for("step") == 1
    assert not gn.has_default_for("inc")


def test_with_inputs_swap_on_graph_node():
    """Simultaneous renames swap two GraphNode inputs."""
    gn = inner().as_node().with_inputs(x="inc", inc="x")
    assert gn.inputs == ("inc", "x")
    assert gn.has_default_for("x")
    assert not gn.has_default_for("inc")


async def test_renamed_graph_node_translates_values_both_ways(runner):
    """Values are translated between outer and inner names at run time."""
    gn = inner().as_node().with_inputs(x="value").with_outputs(result="final")
    outer = Graph([gn])
    result = await runner.run(outer, value=4)
    assert result.status is RunStatus.COMPLETED
    assert result.values["final"] == 9
    assert "result" not in result.values


# ---------------------------------------------------------------------------
# N30: map_over
# ---------------------------------------------------------------------------


def test_map_over_returns_new_mapped_node():
    """map_over returns a new GraphNode and leaves the receiver unmapped."""
    gn = inner().as_node()
    mapped = gn.map_over("x")
    assert mapped is not gn
    assert isinstance(mapped, GraphNode)
    assert gn.map_config is None
    assert mapped.map_config == (["x"], "zip", "raise")


def test_map_config_lists_params_mode_and_policy():
    """map_config is (params, mode, error_handling)."""

    @node(output_name="z")
    def combine(x, y):
        return x + y

    gn = Graph([combine], name="g").as_node()
    mapped = gn.map_over("x", "y", mode="product", error_handling="raise")
    assert mapped.map_config == (["x", "y"], "product", "raise")


def test_map_over_continue_policy():
    """error_handling='continue' is stored in map_config."""
    mapped = inner().as_node().map_over("x", error_handling="continue")
    assert mapped.map_config == (["x"], "zip", "continue")


def test_map_over_without_params_raises_value_error():
    """map_over() with no params is a ValueError."""
    with pytest.raises(ValueError, match="at least one"):
        inner().as_node().map_over()


def test_map_over_unknown_param_raises_value_error():
    """Mapping over a non-input is a ValueError."""
    with pytest.raises(ValueError, match="'nope' is not an input"):
        inner().as_node().map_over("nope")


def test_map_over_output_name_is_not_an_input():
    """Mapping over an output name (not an input) is a ValueError."""
    with pytest.raises(ValueError, match="not an input"):
        inner().as_node().map_over("doubled")


@pytest.mark.parametrize("mode", ["cartesian", "ZIP", None])
def test_map_over_bad_mode_raises_value_error(mode):
    """A mode other than zip/product is a ValueError."""
    with pytest.raises(ValueError, match="mode"):
        inner().as_node().map_over("x", mode=mode)


@pytest.mark.parametrize("policy", ["ignore", "RAISE", None])
def test_map_over_bad_error_handling_raises_value_error(policy):
    """An error_handling other than raise/continue is a ValueError."""
    with pytest.raises(ValueError, match="error_handling"):
        inner().as_node().map_over("x", error_handling=policy)


@pytest.mark.parametrize("clone", [True, False, ["inc"], []])
def test_map_over_accepts_bool_or_list_clone(clone):
    """clone may be a bool or a list of broadcast input names."""
    mapped = inner().as_node().map_over("x", clone=clone)
    assert mapped.map_config == (["x"], "zip", "raise")
    assert mapped.map_clone == clone


def test_map_clone_follows_input_renames():
    """A cloned input renamed afterwards is reported under its new name."""
    mapped = inner().as_node().map_over("x", clone=["inc"])
    assert mapped.with_inputs(inc="step").map_clone == ["step"]


@pytest.mark.parametrize("clone", ["inc", ("inc",), 1, None, {"inc"}])
def test_map_over_bad_clone_type_raises_type_error(clone):
    """clone that is neither bool nor list[str] is a TypeError."""
    with pytest.raises(TypeError, match="clone"):
        inner().as_node().map_over("x", clone=clone)


def test_map_over_clone_list_of_non_strings_raises_type_error():
    """A clone list with a non-string entry is a TypeError."""
    with pytest.raises(TypeError, match="clone"):
        inner().as_node().map_over("x", clone=[1])


def test_map_over_clone_mapped_param_raises_value_error():
    """A clone list naming a mapped param is a ValueError."""
    with pytest.raises(ValueError, match="mapped parameter 'x'"):
        inner().as_node().map_over("x", clone=["x"])


def test_map_over_clone_non_input_raises_value_error():
    """A clone list naming a non-input is a ValueError."""
    with pytest.raises(ValueError, match="not an input"):
        inner().as_node().map_over("x", clone=["nope"])


def test_with_inputs_renames_param_inside_map_config():
    """Renaming a mapped input renames it in map_config too."""
    mapped = inner().as_node().map_over("x", mode="product")
    renamed = mapped.with_inputs(x="xs")
    assert renamed.map_config == (["xs"], "product", "raise")
    assert mapped.map_config == (["x"], "product", "raise")


def test_map_over_after_rename_uses_current_names():
    """map_over after with_inputs takes the renamed (outer) name."""
    mapped = inner().as_node().with_inputs(x="xs").map_over("xs")
    assert mapped.map_config == (["xs"], "zip", "raise")


def test_map_over_original_name_after_rename_raises():
    """map_over with the pre-rename name is a ValueError."""
    with pytest.raises(ValueError, match="not an input"):
        inner().as_node().with_inputs(x="xs").map_over("x")


def test_mapped_node_keeps_inputs_and_outputs():
    """Mapping does not change the GraphNode's input and output names."""
    gn = inner().as_node()
    mapped = gn.map_over("x")
    assert (mapped.inputs, mapped.outputs, mapped.name) == (
        gn.inputs,
        gn.outputs,
        gn.name,
    )


def test_remapping_replaces_map_config():
    """Calling map_over on a mapped node returns a node with the new config."""
    mapped = inner().as_node().map_over("x").map_over("inc", mode="product")
    assert mapped.map_config == (["inc"], "product", "raise")


# ---------------------------------------------------------------------------
# N31: mapped GraphNode around an interrupt
# ---------------------------------------------------------------------------


def _interrupt_graph():
    return Graph([double, interrupt("answer")(ask)], name="review")


def test_map_over_around_interrupt_does_not_raise():
    """map_over itself does not reject an inner interrupt."""
    mapped = _interrupt_graph().as_node().map_over("x")
    assert mapped.map_config == (["x"], "zip", "raise")


@pytest.mark.parametrize(
    ("wrappers", "path"),
    [([], "ask"), (["middle"], "review/ask"), (["l1", "l2"], "l1/review/ask")],
    ids=["direct", "two-levels", "three-levels"],
)
def test_graph_with_mapped_interrupt_graph_node_raises(wrappers, path):
    """A mapped GraphNode with an interrupt at any depth below is rejected.

    The message names the mapped GraphNode and the path down to the interrupt.
    """
    graph = _interrupt_graph()
    for name in wrappers:
        graph = Graph([graph.as_node()], name=name)
    mapped = graph.as_node().map_over("x")
    message = f"GraphNode '{graph.name}' has map_over but wrapped graph contains "
    with pytest.raises(GraphConfigError, match=re.escape(message)) as info:
        Graph([mapped])
    assert f"InterruptNode(s): {path}." in str(info.value)


def test_unmapped_graph_node_around_interrupt_is_allowed():
    """Without map_over, a GraphNode around an interrupt is fine."""
    outer = Graph([_interrupt_graph().as_node()])
    assert "review" in outer.nodes


def test_mapped_graph_node_with_interrupt_node_class_raises():
    """An InterruptNode built with the constructor is detected too."""
    inner_graph = Graph([InterruptNode(ask, output_name="answer")], name="h")
    mapped = inner_graph.as_node().map_over("doubled")
    with pytest.raises(GraphConfigError, match="'h'"):
        Graph([mapped])


# ---------------------------------------------------------------------------
# N32: repr
# ---------------------------------------------------------------------------


def test_graph_node_repr():
    """repr is GraphNode(<name>, inputs=(...), outputs=(...))."""
    assert repr(inner().as_node()) == (
        "GraphNode(inner, inputs=('x', 'inc'), outputs=('doubled', 'result'))"
    )


def test_graph_node_repr_after_renames():
    """repr reflects current (renamed) name and names."""
    gn = inner().as_node().with_name("n2").with_inputs(x="v")
    assert repr(gn) == (
        "GraphNode(n2, inputs=('v', 'inc'), outputs=('doubled', 'result'))"
    )


def test_ifelse_inside_graph_node_record_hidden():
    """An @ifelse record is also excluded from GraphNode outputs."""

    @ifelse("double", END)
    def positive(x):
        return x > 0

    gn = Graph([positive, double], name="g").as_node()
    assert gn.outputs == ("doubled",)
