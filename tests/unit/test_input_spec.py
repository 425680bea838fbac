"""Unit tests for InputSpec and the active scope (spec 01 I1-I6)."""

import dataclasses

import pytest

from hypergraph import (
    END,
    Graph,
    InputSpec,
    RunStatus,
    ifelse,
    interrupt,
    node,
    route,
)

# ---------------------------------------------------------------------------
# Module-level nodes
# ---------------------------------------------------------------------------


@node(output_name="embedding")
def embed(text):
    return [len(text)]


@node(output_name="docs")
def retrieve(embedding, top_k=5):
    return ["doc"] * top_k


@node(output_name="answer")
def generate(docs, query):
    return f"{query}: {len(docs)}"


@node(output_name="a")
def a(x):
    return x


@node(output_name="b")
def b(a, y):
    return a + y


@node(output_name="c")
def c(b, z=10):
    return b + z


@node(output_name="count")
def incr(count):
    return count + 1


@route(targets=["incr", END])
def loop(count):
    return "incr" if count < 5 else END


@node(output_name="count")
def incr_default(count=0):
    return count + 1


@route(targets=["incr_default", END])
def loop_default(count):
    return "incr_default" if count < 5 else END


def _rag():
    return Graph([embed, retrieve, generate])


def _abc():
    return Graph([a, b, c])


# ---------------------------------------------------------------------------
# I1: the InputSpec value
# ---------------------------------------------------------------------------


def test_inputs_is_input_spec():
    """graph.inputs is an InputSpec with required, optional, entrypoints, bound."""
    spec = _rag().inputs
    assert isinstance(spec, InputSpec)
    assert dataclasses.is_dataclass(spec)
    assert [f.name for f in dataclasses.fields(spec)] == [
        "required",
        "optional",
        "entrypoints",
        "bound",
    ]


@pytest.mark.parametrize("field", ["required", "optional", "entrypoints", "bound"])
def test_input_spec_is_frozen(field):
    """Assigning any field raises FrozenInstanceError."""
    spec = _rag().inputs
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(spec, field, ())


@pytest.mark.parametrize(
    "graph",
    [
        lambda: _rag(),
        lambda: _abc().with_entrypoint("b"),
        lambda: Graph([incr, loop], entrypoint="incr"),
        lambda: Graph([]),
    ],
    ids=["dag", "entrypoint", "cycle", "empty"],
)
def test_entrypoints_field_always_empty(graph):
    """entrypoints is always {}."""
    assert graph().inputs.entrypoints == {}


def test_all_is_required_plus_optional():
    """all == required + optional."""
    spec = _rag().inputs
    assert spec.all == spec.required + spec.optional
    assert spec.all == ("text", "query", "top_k")


def test_inputs_computed_once_per_graph():
    """The same InputSpec object is returned on every access."""
    graph = _rag()
    assert graph.inputs is graph.inputs


def test_input_spec_fields_are_tuples():
    """required and optional are tuples."""
    spec = _rag().inputs
    assert isinstance(spec.required, tuple)
    assert isinstance(spec.optional, tuple)


# ---------------------------------------------------------------------------
# I2: active scope
# ---------------------------------------------------------------------------


def test_entrypoint_excludes_upstream_nodes():
    """Nodes upstream of the entrypoint contribute nothing."""
    assert _abc().with_entrypoint("b").inputs.required == ("a", "y")


def test_entrypoint_excludes_unrelated_branches():
    """Nodes not reachable from the entrypoint contribute no inputs."""

    @node(output_name="u")
    def unrelated(w):
        return w

    graph = Graph([a, b, c, unrelated]).with_entrypoint("a")
    assert graph.inputs.required == ("x", "y")
    assert graph.inputs.optional == ("z",)


def test_entrypoint_descendants_over_ordering_edges_are_active():
    """Descendants reached over wait_for ordering edges are active."""

    @node(output_name="first", emit="first_done")
    def start(x):
        return x

    @node(output_name="second", wait_for="first_done")
    def follower(w):
        return w

    @node(output_name="pre")
    def before(v):
        return v

    graph = Graph([before, start, follower]).with_entrypoint("start")
    assert graph.inputs.required == ("x", "w")


def test_entrypoint_descendants_over_control_edges_are_active():
    """Descendants reached over a gate's control edges are active."""

    @node(output_name="score")
    def measure(x):
        return x

    @ifelse("publish", END)
    def good(score):
        return score > 0

    @node(output_name="published")
    def publish(channel):
        return channel

    @node(output_name="x")
    def source(seed):
        return seed

    graph = Graph([source, measure, good, publish]).with_entrypoint("measure")
    assert graph.inputs.required == ("x", "channel")


def test_selection_keeps_producers_and_their_dependencies():
    """select narrows to producers of the selection plus their ancestors."""
    assert _abc().select("b").inputs.required == ("x", "y")
    assert _abc().select("a").inputs.required == ("x",)


def test_selection_of_two_independent_outputs():
    """Selecting outputs of independent nodes keeps both producers."""

    @node(output_name="a_val")
    def node_a(x):
        return x

    @node(output_name="b_val")
    def node_b(y):
        return y

    graph = Graph([node_a, node_b])
    assert graph.select("a_val").inputs.required == ("x",)
    assert graph.select("b_val").inputs.required == ("y",)
    assert graph.select("a_val", "b_val").inputs.required == ("x", "y")


def test_selection_includes_wait_for_dependencies():
    """A selected node's wait_for producers are dependencies and stay active."""

    @node(output_name="prep", emit="prepared")
    def prepare(w):
        return w

    @node(output_name="final", wait_for="prepared")
    def finish(x):
        return x

    @node(output_name="other")
    def unrelated(v):
        return v

    graph = Graph([prepare, finish, unrelated]).select("final")
    assert graph.inputs.required == ("w", "x")


def _gated():
    @node(output_name="a")
    def start(x):
        return x

    @ifelse("left", "right")
    def choose(a):
        return True

    @node(output_name="r1")
    def left(a, p):
        return a

    @node(output_name="r2")
    def right(a, q):
        return a

    @node(output_name="r3")
    def after_right(r2, s):
        return r2

    @node(output_name="u")
    def unrelated(w):
        return w

    return Graph([start, choose, left, right, after_right, unrelated])


def test_selection_through_gate_pulls_in_all_targets_and_descendants():
    """Reaching a gate pulls in every target and their descendants."""
    graph = _gated()
    assert graph.inputs.required == ("x", "p", "q", "s", "w")
    assert graph.select("r1").inputs.required == ("x", "p", "q", "s")


def test_selection_before_gate_does_not_include_gate_targets():
    """Selecting an output upstream of the gate excludes the gate's targets."""
    assert _gated().select("a").inputs.required == ("x",)


def test_entrypoint_and_selection_compose():
    """Selection narrows the entrypoint scope further."""
    graph = _abc().with_entrypoint("b").select("b")
    assert graph.inputs.required == ("a", "y")
    assert graph.inputs.optional == ()


def test_binding_outside_the_selection_stays_in_bound():
    """I5: bound lists the graph's own bindings even when selection leaves them idle."""
    graph = _abc().bind(z=1).select("b")
    assert graph.inputs.bound == {"z": 1}
    assert "z" not in graph.inputs.all


# ---------------------------------------------------------------------------
# I3: classification
# ---------------------------------------------------------------------------


def test_rag_example_classification():
    """embed/retrieve/generate: required (text, query), optional (top_k)."""
    spec = _rag().inputs
    assert spec.required == ("text", "query")
    assert spec.optional == ("top_k",)


def test_edge_fed_parameters_are_not_inputs():
    """Parameters fed by data edges are neither required nor optional."""
    spec = _rag().inputs
    assert "embedding" not in spec.all
    assert "docs" not in spec.all


def test_classification_in_node_then_parameter_order():
    """Inputs are listed in node order, then parameter order."""

    @node(output_name="o1")
    def first(m, k):
        return m

    @node(output_name="o2")
    def second(j, m):
        return j

    assert Graph([first, second]).inputs.required == ("m", "k", "j")
    assert Graph([second, first]).inputs.required == ("j", "m", "k")


def test_shared_parameter_listed_once():
    """A parameter consumed by several nodes is listed once."""

    @node(output_name="o1")
    def first(shared_in):
        return shared_in

    @node(output_name="o2")
    def second(shared_in):
        return shared_in

    assert Graph([first, second]).inputs.required == ("shared_in",)


def test_bound_parameter_moves_to_optional():
    """A bound parameter stays in optional."""
    spec = _rag().bind(text="hello").inputs
    assert spec.required == ("query",)
    assert spec.optional == ("text", "top_k")
    assert spec.bound == {"text": "hello"}


def test_bound_defaulted_parameter_stays_optional():
    """Binding a parameter with a default keeps it in optional."""
    spec = _rag().bind(top_k=2).inputs
    assert spec.optional == ("top_k",)
    assert spec.bound == {"top_k": 2}


def test_all_consumers_with_default_make_optional():
    """A parameter whose consumers all have (equal) defaults is optional."""

    @node(output_name="o1")
    def first(limit=3):
        return limit

    @node(output_name="o2")
    def second(limit=3):
        return limit

    spec = Graph([first, second]).inputs
    assert spec.required == ()
    assert spec.optional == ("limit",)


def test_outputs_of_active_producers_are_not_inputs():
    """An output of an active producer consumed by an active node is not an input."""
    spec = _abc().with_entrypoint("a").inputs
    assert spec.required == ("x", "y")
    assert "a" not in spec.all
    assert "b" not in spec.all


# ---------------------------------------------------------------------------
# I4: cycle seeds
# ---------------------------------------------------------------------------


def test_cycle_seed_is_required():
    """Graph([incr, loop], entrypoint='incr') requires count."""
    graph = Graph([incr, loop], entrypoint="incr")
    assert graph.inputs.required == ("count",)
    assert graph.inputs.optional == ()


def test_bound_cycle_seed_is_optional_and_rebindable():
    """A bound seed moves to optional and can be re-bound."""
    graph = Graph([incr, loop], entrypoint="incr").bind(count=0)
    assert graph.inputs.required == ()
    assert graph.inputs.optional == ("count",)
    rebound = graph.bind(count=3)
    assert rebound.inputs.bound == {"count": 3}


def test_cycle_seed_with_entrypoint_default_is_optional():
    """A seed whose entrypoint parameter has a default is optional."""
    graph = Graph([incr_default, loop_default], entrypoint="incr_default")
    assert graph.inputs.required == ()
    assert graph.inputs.optional == ("count",)


async def test_cycle_seed_with_default_accepts_run_time_value(runner):
    """A seed with a fallback may be supplied at run time."""
    graph = Graph([incr_default, loop_default], entrypoint="incr_default")
    result = await runner.run(graph, count=7)
    assert result.status is RunStatus.COMPLETED
    assert result.values["count"] == 8


async def test_cycle_seed_default_used_when_not_supplied(runner):
    """Without a run-time value the entrypoint default seeds the loop."""
    graph = Graph([incr_default, loop_default], entrypoint="incr_default")
    result = await runner.run(graph)
    assert result.values["count"] == 5


async def test_cycle_runs_from_required_seed(runner):
    """The incr/loop example reaches count == 5 from count=0."""
    result = await runner.run(Graph([incr, loop], entrypoint="incr"), count=0)
    assert result.status is RunStatus.COMPLETED
    assert result.values["count"] == 5


async def test_rebound_seed_is_used(runner):
    """A re-bound seed value is the one the loop starts from."""
    graph = Graph([incr, loop], entrypoint="incr").bind(count=0).bind(count=9)
    result = await runner.run(graph)
    assert result.values["count"] == 10


def test_interrupt_outputs_are_never_seeds():
    """A cycle value produced by an interrupt is not a graph input."""

    @node(output_name="draft")
    def write(topic, feedback=""):
        return topic + feedback

    @interrupt("feedback")
    def review(draft):
        return None

    @route(targets=["write", END])
    def again(feedback):
        return END

    graph = Graph([write, review, again], entrypoint="write")
    assert graph.inputs.required == ("topic",)
    assert "feedback" not in graph.inputs.all


def test_non_cycle_params_of_entrypoint_classified_normally():
    """An entrypoint parameter outside the cycle is classified by I3."""

    @node(output_name="count")
    def step(count, start=0):
        return count + 1

    @route(targets=["step", END])
    def check(count):
        return END

    graph = Graph([step, check], entrypoint="step")
    assert graph.inputs.required == ("count",)
    assert graph.inputs.optional == ("start",)


# ---------------------------------------------------------------------------
# I5: nested bindings
# ---------------------------------------------------------------------------


@node(output_name="o1")
def use_k1(x, k):
    return x + k


@node(output_name="o2")
def use_k2(x, k):
    return x * k


def test_nested_binding_is_exposed():
    """A binding inside a GraphNode appears in the outer bound."""
    inner = Graph([use_k1], name="inner").bind(k=1).as_node()
    spec = Graph([inner]).inputs
    assert spec.bound == {"k": 1}
    assert spec.optional == ("k",)
    assert spec.required == ("x",)


def test_nested_binding_uses_outer_input_name():
    """Nested bindings are keyed by the GraphNode's outer (renamed) input name."""
    inner = Graph([use_k1], name="inner").bind(k=1).as_node().with_inputs(k="key")
    assert Graph([inner]).inputs.bound == {"key": 1}


def test_conflicting_sibling_bindings_are_dropped():
    """A key bound to different values by two siblings is not in bound."""
    left = Graph([use_k1], name="left").bind(k=1).as_node()
    right = Graph([use_k2], name="right").bind(k=2).as_node()
    spec = Graph([left, right]).inputs
    assert "k" not in spec.bound
    assert "k" in spec.all


def test_agreeing_sibling_bindings_are_kept():
    """Siblings binding the same value keep that binding."""
    left = Graph([use_k1], name="left").bind(k=1).as_node()
    right = Graph([use_k2], name="right").bind(k=1).as_node()
    assert Graph([left, right]).inputs.bound == {"k": 1}


def test_outer_binding_wins_over_nested_binding():
    """Keys the outer graph binds itself show the outer value."""
    inner = Graph([use_k1], name="inner").bind(k=1).as_node()
    spec = Graph([inner]).bind(k=5).inputs
    assert spec.bound == {"k": 5}


def test_outer_binding_overrides_conflicting_siblings():
    """Outer binding of a conflicting sibling key is reported."""
    left = Graph([use_k1], name="left").bind(k=1).as_node()
    right = Graph([use_k2], name="right").bind(k=2).as_node()
    assert Graph([left, right]).bind(k=7).inputs.bound == {"k": 7}


def test_nested_binding_by_reference():
    """Nested bound objects are exposed by reference."""
    marker = object()
    inner = Graph([use_k1], name="inner").bind(k=marker).as_node()
    assert Graph([inner]).inputs.bound["k"] is marker


# ---------------------------------------------------------------------------
# I6: narrowing dimensions compose
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configure", "required", "optional"),
    [
        (lambda g: g, ("x", "y"), ("z",)),
        (lambda g: g.with_entrypoint("b"), ("a", "y"), ("z",)),
        (lambda g: g.select("b"), ("x", "y"), ()),
        (lambda g: g.with_entrypoint("b").select("b"), ("a", "y"), ()),
        (lambda g: g.select("b").with_entrypoint("b"), ("a", "y"), ()),
    ],
    ids=["base", "entrypoint", "select", "both", "both-reversed"],
)
def test_narrowing_dimensions_compose(configure, required, optional):
    """Entrypoint and selection narrow the a/b/c graph as in the worked example."""
    spec = configure(_abc()).inputs
    assert spec.required == required
    assert spec.optional == optional


def test_binding_composes_with_entrypoint_and_selection():
    """Binding an entrypoint input moves it to optional under both narrowings."""
    spec = _abc().with_entrypoint("b").select("b").bind(a=1).inputs
    assert spec.required == ("y",)
    assert spec.optional == ("a",)
    assert spec.bound == {"a": 1}
