"""Unit tests for nodes (spec 01 P1-P2, N1-N22; spec 02 C1-C3, C6-C7)."""

import functools
import hashlib
import inspect
import re
import typing

import pytest

import hypergraph
from hypergraph import (
    END,
    FunctionNode,
    GateNode,
    Graph,
    GraphConfigError,
    HypergraphError,
    HyperNode,
    IfElseNode,
    IncompatibleRunnerError,
    InfiniteLoopError,
    InterruptNode,
    MissingInputError,
    RenameError,
    RouteNode,
    RunStatus,
    ifelse,
    interrupt,
    node,
    route,
)

HEX64 = re.compile(r"[0-9a-f]{64}")


# ---------------------------------------------------------------------------
# Module-level functions and nodes used throughout
# ---------------------------------------------------------------------------


def plain(x, y=2):
    return x + y


@node(output_name="doubled")
def double(x: int) -> int:
    return x * 2


@node(output_name="result")
def process(data: str) -> str:
    return data.upper()


def raises_value_error(x):
    raise ValueError(f"bad {x}")


def sync_fn(x):
    return x


async def async_fn(x):
    return x


def sync_gen(x):
    yield x


async def async_gen(x):
    yield x


def typed_pair(a: int, b: str) -> tuple[int, str]:
    return a, b


def typed_single(a: int) -> float:
    return float(a)


def all_kinds(a, /, b, *args, c, **kwargs):
    return (a, b, args, c, kwargs)


def no_params():
    return 1


def decide_fn(x):
    return "a"


def check_fn(x):
    return True


# ---------------------------------------------------------------------------
# P2: exception hierarchy (P1, the public names, is in test_public_api.py)
# ---------------------------------------------------------------------------


def test_error_handling_is_literal_raise_or_continue():
    """ErrorHandling is the literal type "raise" | "continue"."""
    assert typing.get_origin(hypergraph.ErrorHandling) is typing.Literal
    assert set(typing.get_args(hypergraph.ErrorHandling)) == {"raise", "continue"}


@pytest.mark.parametrize(
    "exc",
    [
        GraphConfigError,
        RenameError,
        MissingInputError,
        InfiniteLoopError,
        IncompatibleRunnerError,
    ],
)
def test_exception_subclasses_hypergraph_error_and_not_value_error(exc):
    """Every hypergraph exception is a HypergraphError and never a ValueError."""
    assert issubclass(exc, HypergraphError)
    assert not issubclass(exc, ValueError)


def test_hypergraph_error_subclasses_exception_directly():
    """HypergraphError's only base is Exception."""
    assert HypergraphError.__bases__ == (Exception,)


def test_every_exception_class_in_exceptions_module_is_hypergraph_error():
    """All exception classes hypergraph defines derive from HypergraphError."""
    from hypergraph import exceptions

    classes = [
        obj
        for obj in vars(exceptions).values()
        if isinstance(obj, type)
        and issubclass(obj, BaseException)
        and obj.__module__ == exceptions.__name__
    ]
    assert classes
    assert all(issubclass(c, HypergraphError) for c in classes)


def test_node_own_exception_is_not_caught_as_hypergraph_error():
    """A node's own exception, raised by calling it, is not a HypergraphError."""
    n = node(raises_value_error, "out")
    with pytest.raises(ValueError, match="bad 1") as info:
        n(1)
    assert not isinstance(info.value, HypergraphError)


def test_non_callable_source_raises_type_error():
    """Building a FunctionNode from a non-callable is a TypeError (wrong callable)."""
    with pytest.raises(TypeError, match="needs a callable"):
        FunctionNode(42)


# ---------------------------------------------------------------------------
# N1-N3: common node contract
# ---------------------------------------------------------------------------


def test_hypernode_is_abstract():
    """HyperNode() cannot be instantiated."""
    with pytest.raises(TypeError, match="abstract class HyperNode"):
        HyperNode()


def _inner_graph():
    return Graph([double], name="inner")


@pytest.mark.parametrize(
    "make",
    [
        lambda: node(sync_fn, "y"),
        lambda: InterruptNode(sync_fn, output_name="y"),
        lambda: RouteNode(decide_fn, ["a", END]),
        lambda: IfElseNode(check_fn, "a", END),
        lambda: _inner_graph().as_node(),
    ],
    ids=["function", "interrupt", "route", "ifelse", "graph"],
)
def test_every_concrete_node_is_a_hypernode(make):
    """Every concrete node class is a HyperNode subclass."""
    assert isinstance(make(), HyperNode)


def test_function_node_exposes_common_attributes_with_defaults():
    """A plain function node has the N2 attributes with their default values."""
    n = node(sync_fn, "y")
    assert n.name == "sync_fn"
    assert n.inputs == ("x",)
    assert n.outputs == ("y",)
    assert n.data_outputs == ("y",)
    assert n.wait_for == ()
    assert (n.is_async, n.is_generator, n.is_interrupt) == (False, False, False)
    assert (n.cache, n.hide, n.blocking) == (False, False, False)
    assert isinstance(n.inputs, tuple)
    assert isinstance(n.outputs, tuple)


@pytest.mark.parametrize(
    "make",
    [
        lambda: node(sync_fn, "y"),
        lambda: RouteNode(decide_fn, ["a", END]),
        lambda: IfElseNode(check_fn, "a", END),
        lambda: _inner_graph().as_node(),
    ],
    ids=["function", "route", "ifelse", "graph"],
)
def test_definition_hash_is_64_lowercase_hex(make):
    """definition_hash is a 64-character lowercase SHA-256 hex digest."""
    assert HEX64.fullmatch(make().definition_hash)


def test_has_default_and_get_default_read_signature_defaults():
    """has_default_for/get_default_for report the signature default."""
    n = node(plain, "s")
    assert n.has_default_for("y") is True
    assert n.get_default_for("y") == 2
    assert n.has_default_for("x") is False


def test_get_default_for_without_default_raises_key_error():
    """get_default_for raises KeyError for a parameter without default."""
    n = node(plain, "s")
    with pytest.raises(KeyError):
        n.get_default_for("x")


def test_get_default_for_unknown_param_raises_key_error():
    """get_default_for raises KeyError for a name that is not an input."""
    with pytest.raises(KeyError):
        node(plain, "s").get_default_for("nope")


def test_get_types_return_annotation_or_none():
    """get_input_type/get_output_type give the annotation, or None when absent."""
    assert double.get_input_type("x") is int
    assert double.get_output_type("doubled") is int
    untyped = node(sync_fn, "y")
    assert untyped.get_input_type("x") is None
    assert untyped.get_output_type("y") is None


@pytest.mark.parametrize(
    "call",
    [
        lambda n: n.with_name("sync_fn"),
        lambda n: n.with_inputs(),
        lambda n: n.with_outputs(),
        lambda n: n.with_name("other"),
        lambda n: n.with_inputs(x="z"),
        lambda n: n.with_outputs(y="w"),
    ],
    ids=[
        "same-name",
        "no-input-renames",
        "no-output-renames",
        "name",
        "inputs",
        "outputs",
    ],
)
def test_rename_methods_return_new_object_and_leave_receiver(call):
    """with_name/with_inputs/with_outputs always return a new node."""
    n = node(sync_fn, "y")
    result = call(n)
    assert result is not n
    assert (n.name, n.inputs, n.outputs) == ("sync_fn", ("x",), ("y",))


# ---------------------------------------------------------------------------
# N4-N5: constructor and decorator forms
# ---------------------------------------------------------------------------


def test_function_node_from_existing_node_reuses_only_function():
    """FunctionNode(old, ...) reuses old.func and takes settings from new args."""
    old = FunctionNode(plain, "a", "o", rename_inputs={"x": "xx"}, cache=True)
    new = FunctionNode(old, name="b", output_name="y")
    assert new.func is old.func
    assert new.name == "b"
    assert new.outputs == ("y",)
    assert new.inputs == ("x", "y")
    assert new.cache is False


def test_function_node_from_existing_node_defaults_to_function_name():
    """Without name=, a node built from another node is named after the function."""
    old = node(sync_fn, "y").with_name("renamed")
    assert FunctionNode(old, output_name="z").name == "sync_fn"


def test_constructor_stores_flags():
    """cache, hide and blocking given to the constructor are exposed."""
    n = FunctionNode(sync_fn, output_name="y", cache=True, hide=True, blocking=True)
    assert (n.cache, n.hide, n.blocking) == (True, True, True)


@pytest.mark.parametrize("func", [sync_fn, sync_gen], ids=["def", "generator"])
def test_blocking_allowed_on_sync_functions(func):
    """blocking=True is accepted on sync functions and sync generators."""
    assert FunctionNode(func, output_name="y", blocking=True).blocking is True


@pytest.mark.parametrize(
    "func", [async_fn, async_gen], ids=["async-def", "async-generator"]
)
def test_blocking_on_async_function_raises_type_error(func):
    """blocking=True on async code raises TypeError."""
    with pytest.raises(TypeError, match="blocking"):
        FunctionNode(func, output_name="y", blocking=True)


def test_decorator_blocking_on_async_raises_type_error():
    """@node(blocking=True) on an async def raises TypeError."""
    with pytest.raises(TypeError, match="blocking"):
        node(output_name="y", blocking=True)(async_fn)


def test_bare_decorator_builds_side_effect_node():
    """@node without parentheses builds a node named after the function."""

    @node
    def effect(x):
        pass

    assert isinstance(effect, FunctionNode)
    assert (effect.name, effect.inputs, effect.outputs) == ("effect", ("x",), ())


def test_empty_call_decorator_builds_node():
    """@node() builds the same node as @node."""

    @node()
    def effect(x):
        pass

    assert isinstance(effect, FunctionNode)
    assert (effect.name, effect.outputs) == ("effect", ())


def test_decorator_with_options_passes_them_through():
    """@node(output_name=..., keywords) equals the constructor with those options."""

    @node(output_name="y", rename_inputs={"x": "a"}, cache=True, hide=True)
    def step(x):
        return x

    assert (step.name, step.inputs, step.outputs) == ("step", ("a",), ("y",))
    assert (step.cache, step.hide) == (True, True)


def test_call_form_second_positional_is_output_name():
    """node(func, "y") takes the second positional argument as output_name."""
    n = node(sync_fn, "y")
    assert (n.name, n.outputs) == ("sync_fn", ("y",))


def test_decorator_has_no_name_parameter():
    """node() rejects name=; the node is always named after the function."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'name'"):
        node(name="x")


def test_decorated_node_keeps_function_as_func_and_wrapped():
    """The original function is reachable as .func and .__wrapped__."""
    n = node(sync_fn, "y")
    assert n.func is sync_fn
    assert n.__wrapped__ is sync_fn


# ---------------------------------------------------------------------------
# N6-N7: output_name forms and the missing-output warning
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_name", "expected"),
    [
        (None, ()),
        ("y", ("y",)),
        (("y",), ("y",)),
        (("a", "b", "c"), ("a", "b", "c")),
        (("c", "a"), ("c", "a")),
    ],
)
def test_output_name_forms(output_name, expected):
    """output_name None/str/tuple gives (), a 1-tuple, or that tuple in order."""
    assert FunctionNode(sync_fn, output_name=output_name).outputs == expected


def test_return_annotation_without_output_name_warns():
    """A node with a return annotation and no output_name warns naming both."""

    def annotated(x) -> int:
        return x

    with pytest.warns(UserWarning, match="output_name") as record:
        FunctionNode(annotated)
    assert "annotated" in str(record[0].message)


def test_decorator_return_annotation_without_output_name_warns():
    """@node on an annotated function without output_name warns too."""
    with pytest.warns(UserWarning, match="output_name"):

        @node
        def annotated(x) -> str:
            return x


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    return x\n",
        "def f(x) -> None:\n    return None\n",
    ],
    ids=["unannotated", "returns-none"],
)
def test_no_warning_without_meaningful_return_annotation(source):
    """No warning for unannotated functions or functions annotated -> None."""
    namespace = {}
    exec(source, namespace)
    n = FunctionNode(namespace["f"])
    assert n.outputs == ()


def test_return_annotation_with_emit_only_still_warns():
    """output_name=None with emit= still discards the return value, so it warns."""

    def annotated(x) -> int:
        return x

    with pytest.warns(UserWarning, match="output_name"):
        FunctionNode(annotated, emit="done")


def test_no_warning_when_output_name_is_given():
    """An annotated function with output_name does not warn."""
    assert FunctionNode(typed_single, output_name="y").outputs == ("y",)


# ---------------------------------------------------------------------------
# N8-N9: inputs and defaults
# ---------------------------------------------------------------------------


def test_inputs_cover_all_parameter_kinds_in_signature_order():
    """inputs list positional-only, normal, *args, keyword-only and **kwargs."""
    assert node(all_kinds, "o").inputs == ("a", "b", "args", "c", "kwargs")


def test_zero_parameter_function_has_no_inputs():
    """A function without parameters has inputs == ()."""
    assert node(no_params, "o").inputs == ()


def test_inputs_reflect_rename_inputs():
    """rename_inputs renames the inputs in place, keeping order."""
    n = FunctionNode(plain, output_name="s", rename_inputs={"x": "first"})
    assert n.inputs == ("first", "y")


def test_defaults_keyed_by_renamed_inputs():
    """defaults maps the current (renamed) input names to signature defaults."""
    n = node(lambda a, b=2: a, output_name="o").with_inputs(b="bb")
    assert n.defaults == {"bb": 2}
    assert n.has_default_for("bb")
    assert not n.has_default_for("b")
    assert n.get_default_for("bb") == 2


def test_defaults_omit_parameters_without_default():
    """Parameters without a signature default are absent from defaults."""
    assert node(plain, "s").defaults == {"y": 2}


# ---------------------------------------------------------------------------
# N10: execution mode
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "is_async", "is_generator"),
    [
        (sync_fn, False, False),
        (async_fn, True, False),
        (sync_gen, False, True),
        (async_gen, True, True),
    ],
    ids=["def", "async-def", "generator", "async-generator"],
)
def test_execution_mode_detected_at_construction(func, is_async, is_generator):
    """is_async and is_generator follow the function kind table."""
    n = FunctionNode(func, output_name="y")
    assert (n.is_async, n.is_generator) == (is_async, is_generator)


# ---------------------------------------------------------------------------
# N11: types
# ---------------------------------------------------------------------------


def test_parameter_annotations_follow_renames():
    """parameter_annotations are keyed by current input names."""
    n = node(typed_pair, ("n", "s")).with_inputs(a="num")
    assert n.parameter_annotations == {"num": int, "b": str}
    assert n.get_input_type("num") is int
    assert n.get_input_type("a") is None


def test_unresolvable_hints_give_empty_annotations():
    """An unresolvable string annotation yields parameter_annotations == {}."""

    def broken(x: "DoesNotExist") -> "AlsoMissing":  # noqa: F821
        return x

    n = FunctionNode(broken, output_name="y")
    assert n.parameter_annotations == {}
    assert n.get_input_type("x") is None


def test_single_output_type_is_return_annotation():
    """With one data output, its type is the return annotation."""
    n = node(typed_single, "y")
    assert n.output_annotation == {"y": float}
    assert n.get_output_type("y") is float


def test_tuple_return_annotation_split_across_outputs():
    """With several outputs, tuple[A, B] gives A and B per output."""
    n = node(typed_pair, ("n", "s"))
    assert n.get_output_type("n") is int
    assert n.get_output_type("s") is str


def test_tuple_annotation_with_wrong_arity_gives_none():
    """A tuple annotation of different arity gives None for every output."""
    n = node(typed_pair, ("a", "b", "c"))
    assert [n.get_output_type(o) for o in ("a", "b", "c")] == [None, None, None]


def test_non_tuple_annotation_with_several_outputs_gives_none():
    """A non-tuple return annotation with several outputs gives None each."""
    n = node(typed_single, ("a", "b"))
    assert (n.get_output_type("a"), n.get_output_type("b")) == (None, None)


def test_one_element_tuple_output_keeps_whole_annotation():
    """With output_name=("y",), the return annotation is the output's type."""
    n = node(typed_pair, ("y",))
    assert n.get_output_type("y") == tuple[int, str]


# ---------------------------------------------------------------------------
# N12: calling a node
# ---------------------------------------------------------------------------


def test_calling_node_calls_function():
    """double(5) == 10."""
    assert double(5) == 10


def test_calling_node_uses_original_parameter_names():
    """Input renames do not apply when calling the node directly."""
    renamed = double.with_inputs(x="value")
    assert renamed(x=4) == 8
    with pytest.raises(TypeError, match="unexpected keyword argument 'value'"):
        renamed(value=4)


def test_calling_node_returns_raw_value_for_several_outputs():
    """No output wrapping: a multi-output node returns the function's tuple."""
    assert node(typed_pair, ("n", "s"))(1, "a") == (1, "a")


def test_calling_node_propagates_exceptions_unchanged():
    """Exceptions from the function propagate as-is."""
    with pytest.raises(ValueError, match="bad 3"):
        node(raises_value_error, "o")(3)


def test_calling_node_does_not_copy_defaults():
    """A mutable default is the function's own object, shared across calls."""

    def append(item, acc=[]):  # noqa: B006
        acc.append(item)
        return acc

    n = node(append, "acc_out")
    first = n(1)
    second = n(2)
    assert first is second
    assert second == [1, 2]


def test_calling_async_node_returns_coroutine_function_result():
    """Calling an async node returns what the async function returns (a coroutine)."""
    coro = node(async_fn, "y")(1)
    assert inspect.iscoroutine(coro)
    coro.close()


# ---------------------------------------------------------------------------
# N13: definition hash
# ---------------------------------------------------------------------------


def test_definition_hash_is_sha256_of_source():
    """definition_hash equals SHA-256 of the function source."""
    expected = hashlib.sha256(inspect.getsource(sync_fn).encode()).hexdigest()
    assert node(sync_fn, "y").definition_hash == expected


def test_definition_hash_survives_renames():
    """Renaming a node does not change its definition hash."""
    n = node(plain, "s")
    renamed = n.with_name("other").with_inputs(x="a").with_outputs(s="t")
    assert renamed.definition_hash == n.definition_hash


def test_definition_hash_differs_for_different_functions():
    """Two different functions have different definition hashes."""
    assert node(sync_fn, "y").definition_hash != node(plain, "y").definition_hash


def test_definition_hash_without_source_falls_back():
    """A function without retrievable source still gets a stable 64-hex hash."""
    namespace = {}
    exec("def nosrc(x):\n    return x + 1\n", namespace)
    first = FunctionNode(namespace["nosrc"], output_name="y").definition_hash
    second = FunctionNode(namespace["nosrc"], output_name="y").definition_hash
    assert HEX64.fullmatch(first)
    assert first == second


def test_definition_hash_fallback_depends_on_code():
    """Source-less functions with different bodies hash differently."""
    ns1, ns2 = {}, {}
    exec("def nosrc(x):\n    return x + 1\n", ns1)
    exec("def nosrc(x):\n    return x + 2\n", ns2)
    h1 = FunctionNode(ns1["nosrc"], output_name="y").definition_hash
    h2 = FunctionNode(ns2["nosrc"], output_name="y").definition_hash
    assert h1 != h2


@pytest.mark.parametrize(
    "func",
    [len, abs, functools.partial(plain, 1)],
    ids=["len", "abs", "partial"],
)
def test_definition_hash_never_raises_for_builtins_and_partials(func):
    """Built-ins and partials get a 64-hex definition hash."""
    n = FunctionNode(func, name="f", output_name="y")
    assert HEX64.fullmatch(n.definition_hash)


def test_definition_hash_never_raises_for_empty_closure_cell():
    """A source-less closure with an empty cell still hashes (N13 never raises)."""
    namespace = {}
    exec(
        "def outer():\n"
        "    def inner(x):\n"
        "        return later\n"
        "    return inner\n"
        "    later = 1\n",
        namespace,
    )
    n = FunctionNode(namespace["outer"](), output_name="y")
    assert HEX64.fullmatch(n.definition_hash)


class _CallableObject:
    def __call__(self, x):
        return x


def test_definition_hash_for_callable_instance():
    """A callable object (no source of its own) gets a 64-hex hash."""
    n = FunctionNode(_CallableObject(), name="obj", output_name="y")
    assert HEX64.fullmatch(n.definition_hash)
    assert n(3) == 3


def test_definition_hash_is_stable_per_node():
    """definition_hash is computed once: repeated reads give the same value."""
    n = node(plain, "s")
    assert n.definition_hash == n.definition_hash == n.with_name("o").definition_hash


# ---------------------------------------------------------------------------
# N14: repr
# ---------------------------------------------------------------------------


def test_function_node_repr():
    """repr shows the function and outputs."""
    assert repr(process) == "FunctionNode(process, outputs=('result',))"


def test_function_node_repr_after_rename():
    """After with_name, repr shows 'function as name'."""
    assert (
        repr(process.with_name("pre"))
        == "FunctionNode(process as 'pre', outputs=('result',))"
    )


def test_interrupt_node_repr_uses_own_class_name():
    """InterruptNode's repr has the same shape with its class name."""
    n = InterruptNode(sync_fn, output_name="answer")
    assert repr(n) == "InterruptNode(sync_fn, outputs=('answer',))"


# ---------------------------------------------------------------------------
# N15: emit and wait_for
# ---------------------------------------------------------------------------


def test_emit_string_appended_to_outputs():
    """emit as a string is appended to outputs and excluded from data_outputs."""
    n = FunctionNode(sync_fn, output_name="y", emit="done")
    assert n.outputs == ("y", "done")
    assert n.data_outputs == ("y",)


def test_emit_tuple_appended_in_order():
    """emit as a tuple appends every name in order."""
    n = FunctionNode(sync_fn, output_name=("a", "b"), emit=("s1", "s2"))
    assert n.outputs == ("a", "b", "s1", "s2")
    assert n.outputs == (*n.data_outputs, "s1", "s2")


@pytest.mark.parametrize(
    ("wait_for", "expected"),
    [("ready", ("ready",)), (("r1", "r2"), ("r1", "r2"))],
)
def test_wait_for_forms_not_in_inputs(wait_for, expected):
    """wait_for accepts a string or tuple; its names are not inputs."""
    n = FunctionNode(sync_fn, output_name="y", wait_for=wait_for)
    assert n.wait_for == expected
    assert n.inputs == ("x",)


def test_emit_equal_to_data_output_raises_value_error():
    """An emit name equal to a data output is a ValueError."""
    with pytest.raises(ValueError, match="emit"):
        FunctionNode(sync_fn, output_name="y", emit="y")


def test_wait_for_equal_to_input_raises_value_error():
    """A wait_for name equal to an input is a ValueError."""
    with pytest.raises(ValueError, match="wait_for"):
        FunctionNode(sync_fn, output_name="y", wait_for="x")


def test_name_in_emit_and_wait_for_raises_value_error():
    """A name in both emit and wait_for is a ValueError."""
    with pytest.raises(ValueError, match="both emit and wait_for"):
        FunctionNode(sync_fn, output_name="y", emit="s", wait_for="s")


def test_side_effect_node_with_emit_only():
    """A node with no data outputs may still emit."""
    n = FunctionNode(sync_fn, emit="done")
    assert (n.data_outputs, n.outputs) == ((), ("done",))


# ---------------------------------------------------------------------------
# N16-N19: renaming
# ---------------------------------------------------------------------------


def test_with_name_changes_only_name():
    """with_name keeps inputs, outputs and flags."""
    n = FunctionNode(plain, output_name="s", cache=True, emit="e", wait_for="w")
    renamed = n.with_name("new")
    assert renamed.name == "new"
    assert (renamed.inputs, renamed.outputs, renamed.wait_for, renamed.cache) == (
        n.inputs,
        n.outputs,
        n.wait_for,
        n.cache,
    )


@pytest.mark.parametrize("bad", ["123-bad", "class", "a.b", "END", ""])
def test_with_name_does_not_validate(bad):
    """with_name accepts any string; validation happens in Graph."""
    assert node(sync_fn, "y").with_name(bad).name == bad


def test_with_inputs_keyword_form():
    """with_inputs(x="a") renames input x to a."""
    assert node(plain, "s").with_inputs(x="a").inputs == ("a", "y")


def test_with_inputs_dict_form_allows_keywords_as_names():
    """The positional dict form allows Python keywords as new names."""
    assert node(plain, "s").with_inputs({"x": "class"}).inputs == ("class", "y")


def test_with_inputs_merges_dict_and_keywords_keywords_win():
    """Dict and keyword renames merge; keywords win on a clash."""
    n = node(plain, "s").with_inputs({"x": "a", "y": "b"}, x="c")
    assert n.inputs == ("c", "b")


def test_with_inputs_swaps_simultaneously():
    """All renames in one call apply at once, so two inputs can swap."""
    assert node(plain, "s").with_inputs(x="y", y="x").inputs == ("y", "x")


def test_with_outputs_keyword_and_dict_forms():
    """with_outputs supports keyword and dict forms, including keyword names."""
    n = node(typed_pair, ("n", "s"))
    assert n.with_outputs(n="num").outputs == ("num", "s")
    assert n.with_outputs({"s": "class"}).outputs == ("n", "class")


def test_with_outputs_swaps_simultaneously():
    """with_outputs applies renames simultaneously."""
    assert node(typed_pair, ("n", "s")).with_outputs(n="s", s="n").outputs == (
        "s",
        "n",
    )


def test_with_outputs_renames_emit_names():
    """with_outputs can rename an emit name; it stays out of data_outputs."""
    n = FunctionNode(sync_fn, output_name="y", emit="done")
    renamed = n.with_outputs(done="finished")
    assert renamed.outputs == ("y", "finished")
    assert renamed.data_outputs == ("y",)


def test_output_rename_moves_type_annotation():
    """Output types follow output renames."""
    n = node(typed_single, "y").with_outputs(y="z")
    assert n.get_output_type("z") is float


def test_rename_of_unknown_input_says_not_found():
    """Renaming a name that never was an input says 'not found' and lists inputs."""
    with pytest.raises(RenameError, match="not found") as info:
        node(plain, "s").with_inputs(zz="a")
    assert "'x'" in str(info.value)
    assert "'y'" in str(info.value)


def test_rename_of_unknown_output_says_not_found():
    """Renaming an unknown output says 'not found' and lists outputs."""
    with pytest.raises(RenameError, match="not found") as info:
        node(plain, "s").with_outputs(zz="a")
    assert "'s'" in str(info.value)


def test_rename_of_renamed_input_says_was_renamed_with_chain():
    """Renaming an input that was renamed away names the rename chain."""
    n = node(plain, "s").with_inputs(x="a")
    with pytest.raises(RenameError, match="was renamed") as info:
        n.with_inputs(x="b")
    assert "x→a" in str(info.value)
    assert "'a'" in str(info.value)


def test_rename_chain_lists_every_step():
    """The chain in the message follows successive renames (x→a→b)."""
    n = node(plain, "s").with_inputs(x="a").with_inputs(a="b")
    with pytest.raises(RenameError, match="x→a→b"):
        n.with_inputs(x="c")


def test_rename_of_renamed_output_says_was_renamed():
    """Renaming an output that was renamed away says 'was renamed' with the chain."""
    n = node(plain, "s").with_outputs(s="t")
    with pytest.raises(RenameError, match="was renamed") as info:
        n.with_outputs(s="u")
    assert "s→t" in str(info.value)


def test_rename_inputs_unknown_key_raises_rename_error():
    """rename_inputs= with an unknown parameter raises RenameError."""
    with pytest.raises(RenameError, match="not found"):
        FunctionNode(plain, output_name="s", rename_inputs={"nope": "a"})


def test_decorator_rename_inputs_unknown_key_raises_rename_error():
    """@node(rename_inputs=...) with an unknown key raises RenameError."""
    with pytest.raises(RenameError, match="not found"):
        node(output_name="s", rename_inputs={"nope": "a"})(plain)


def test_rename_to_duplicate_input_raises_rename_error():
    """Renaming x to an existing input y raises RenameError."""
    with pytest.raises(RenameError, match="two inputs named 'y'"):
        node(plain, "s").with_inputs(x="y")


def test_rename_to_duplicate_output_raises_rename_error():
    """Renaming an output onto another output raises RenameError."""
    with pytest.raises(RenameError, match="two outputs named 'a'"):
        node(sync_fn, ("a", "b")).with_outputs(b="a")


def test_rename_output_onto_emit_name_raises_rename_error():
    """Renaming a data output onto an emit name gives duplicate outputs."""
    n = FunctionNode(sync_fn, output_name="y", emit="done")
    with pytest.raises(RenameError, match="two outputs named 'done'"):
        n.with_outputs(y="done")


def test_rename_error_is_not_value_error():
    """RenameError is a HypergraphError, not a ValueError."""
    with pytest.raises(RenameError) as info:
        node(plain, "s").with_inputs(zz="a")
    assert not isinstance(info.value, ValueError)
    assert isinstance(info.value, HypergraphError)


# ---------------------------------------------------------------------------
# N20, N8, N6: renames and parameter kinds at run time
# ---------------------------------------------------------------------------


async def test_renamed_input_receives_value_under_new_name(runner):
    """At run time the value arrives under the renamed name."""
    graph = Graph([double.with_inputs(x="value")])
    assert graph.inputs.required == ("value",)
    result = await runner.run(graph, value=21)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"doubled": 42}


async def test_chained_renames_read_final_name(runner):
    """x→a then a→b makes the function's x read graph value b."""
    graph = Graph([double.with_inputs(x="a").with_inputs(a="b")])
    assert graph.inputs.required == ("b",)
    result = await runner.run(graph, b=5)
    assert result.values == {"doubled": 10}


async def test_renamed_default_is_used_at_run_time(runner):
    """A default follows the renamed input and fills it when not supplied."""
    graph = Graph([node(plain, "s").with_inputs(y="inc")])
    assert graph.inputs.optional == ("inc",)
    result = await runner.run(graph, x=1)
    assert result.values == {"s": 3}


async def test_swapped_inputs_route_values_correctly(runner):
    """After swapping inputs, each parameter reads the other graph name."""

    def sub(x, y):
        return x - y

    graph = Graph([node(sub, "d").with_inputs(x="y", y="x")])
    result = await runner.run(graph, x=1, y=10)
    assert result.values == {"d": 9}


def test_type_checks_follow_renamed_names():
    """strict_types finds annotations under renamed input and output names."""

    @node(output_name="result")
    def add_one(doubled: int) -> int:
        return doubled + 1

    @node(output_name="text")
    def shout(doubled: str) -> str:
        return doubled

    producer = double.with_outputs(doubled="val")
    graph = Graph([producer, add_one.with_inputs(doubled="val")], strict_types=True)
    assert list(graph.nx_graph.edges["double", "add_one"]["value_names"]) == ["val"]
    with pytest.raises(GraphConfigError, match="Type mismatch on 'val'"):
        Graph([producer, shout.with_inputs(doubled="val")], strict_types=True)


def pos_only(a, b, /):
    return a - b


def var_positional(*args):
    return args


def var_keyword(**kwargs):
    return kwargs


@pytest.mark.parametrize(
    ("func", "values", "expected"),
    [
        (pos_only, {"a": 5, "b": 2}, 3),
        (var_positional, {"args": [1, 2, 3]}, (1, 2, 3)),
        (var_keyword, {"kwargs": {"k": 1}}, {"k": 1}),
    ],
    ids=["positional-only", "var-positional", "var-keyword"],
)
async def test_single_parameter_kind_bound_at_run_time(runner, func, values, expected):
    """Each special parameter kind alone is bound by its kind at run time."""
    result = await runner.run(Graph([node(func, "o")]), **values)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {"o": expected}


async def test_parameters_bound_by_kind_at_run_time(runner):
    """Positional-only by position, *args splatted, **kwargs merged."""
    graph = Graph([node(all_kinds, "o")])
    result = await runner.run(graph, a=1, b=2, args=[3, 4], c=5, kwargs={"k": 6})
    assert result.status is RunStatus.COMPLETED
    assert result.values["o"] == (1, 2, (3, 4), 5, {"k": 6})


async def test_one_element_tuple_output_stores_value_whole(runner):
    """output_name=("y",) stores the returned tuple whole, never unpacked."""

    def pair(x):
        return (x, x)

    graph = Graph([FunctionNode(pair, output_name=("y",))])
    result = await runner.run(graph, x=1)
    assert result.values == {"y": (1, 1)}


async def test_side_effect_node_return_value_discarded(runner):
    """A node with output_name=None contributes no values."""
    graph = Graph([node(sync_fn)])
    result = await runner.run(graph, x=1)
    assert result.status is RunStatus.COMPLETED
    assert result.values == {}


# ---------------------------------------------------------------------------
# N21 and C1-C3, C6-C7: gates as nodes
# ---------------------------------------------------------------------------


def test_route_node_inputs_name_and_outputs():
    """A route's inputs come from its function, outputs are ('_name',)."""
    gate = route(targets=["a", END])(decide_fn)
    assert isinstance(gate, RouteNode)
    assert isinstance(gate, GateNode)
    assert gate.name == "decide_fn"
    assert gate.inputs == ("x",)
    assert gate.outputs == ("_decide_fn",)
    assert gate.data_outputs == ("_decide_fn",)


def test_ifelse_node_inputs_name_and_outputs():
    """An ifelse's outputs are its hidden decision record."""
    gate = ifelse("a", END)(check_fn)
    assert isinstance(gate, IfElseNode)
    assert isinstance(gate, GateNode)
    assert gate.inputs == ("x",)
    assert gate.data_outputs == ("_check_fn",)


GATE_FACTORIES = [
    lambda **kw: route(targets=["a", END], **kw)(decide_fn),
    lambda **kw: ifelse("a", END, **kw)(check_fn),
]


@pytest.mark.parametrize("make", GATE_FACTORIES, ids=["route", "ifelse"])
def test_gate_name_argument_overrides_function_name(make):
    """name= overrides the gate name and the record follows it."""
    gate = make(name="chooser")
    assert gate.name == "chooser"
    assert gate.data_outputs == ("_chooser",)


@pytest.mark.parametrize("make", GATE_FACTORIES, ids=["route", "ifelse"])
def test_gate_rename_inputs_applies(make):
    """rename_inputs= renames the gate's inputs."""
    assert make(rename_inputs={"x": "score"}).inputs == ("score",)


@pytest.mark.parametrize("make", GATE_FACTORIES, ids=["route", "ifelse"])
def test_gate_emit_appended_after_record(make):
    """A gate's outputs are the record followed by emit names."""
    gate = make(emit="decided")
    assert gate.outputs == (f"_{gate.name}", "decided")
    assert gate.data_outputs == (f"_{gate.name}",)


@pytest.mark.parametrize("make", GATE_FACTORIES, ids=["route", "ifelse"])
def test_gate_is_never_async_or_generator(make):
    """Gates have is_async and is_generator False."""
    gate = make()
    assert (gate.is_async, gate.is_generator, gate.is_interrupt) == (
        False,
        False,
        False,
    )
    assert gate.blocking is False


def test_gate_with_name_renames_decision_record():
    """with_name on a gate renames its decision record too."""
    gate = route(targets=["a", END])(decide_fn).with_name("r")
    assert gate.outputs == ("_r",)
    assert gate.data_outputs == ("_r",)


def test_renamed_gate_can_be_put_in_graph():
    """A gate renamed with with_name is accepted by Graph (no invalid output)."""

    @node(output_name="out_a")
    def a(x):
        return x

    gate = ifelse("a", END)(check_fn).with_name("r")
    graph = Graph([gate, a])
    assert "r" in graph.nodes


def test_gate_with_inputs_renames():
    """with_inputs works on gates and returns a new gate."""
    gate = ifelse("a", END)(check_fn)
    renamed = gate.with_inputs(x="y")
    assert renamed.inputs == ("y",)
    assert gate.inputs == ("x",)


def test_calling_gate_calls_function():
    """Calling a gate calls its routing function."""
    assert route(targets=["a", END])(decide_fn)(1) == "a"
    assert ifelse("a", END)(check_fn)(1) is True


def test_route_targets_list_and_empty_descriptions():
    """A list of targets gives targets in order and descriptions == {}."""
    gate = RouteNode(decide_fn, ["a", "b", END])
    assert gate.targets == ["a", "b", END]
    assert gate.descriptions == {}


def test_route_targets_dict_gives_descriptions():
    """A dict of targets gives its keys as targets and the dict as descriptions."""
    gate = route(targets={"a": "go to a", END: "stop"})(decide_fn)
    assert gate.targets == ["a", END]
    assert gate.descriptions == {"a": "go to a", END: "stop"}


def test_route_constructor_accepts_same_keywords():
    """RouteNode(func, targets, ...) takes the decorator's keywords."""
    gate = RouteNode(
        decide_fn,
        ["a", "b"],
        fallback="c",
        cache=True,
        hide=True,
        default_open=False,
        name="chooser",
        rename_inputs={"x": "score"},
        emit="done",
        wait_for="ready",
    )
    assert gate.name == "chooser"
    assert gate.targets == ["a", "b", "c"]
    assert gate.fallback == "c"
    assert (gate.cache, gate.hide, gate.default_open) == (True, True, False)
    assert gate.inputs == ("score",)
    assert gate.wait_for == ("ready",)
    assert gate.outputs == ("_chooser", "done")


def test_route_default_properties():
    """Default fallback None, multi_target False, default_open True."""
    gate = route(targets=["a"])(decide_fn)
    assert gate.fallback is None
    assert gate.multi_target is False
    assert gate.default_open is True
    assert gate.cache is False
    assert gate.func is decide_fn


def test_route_targets_deduplicated_preserving_order():
    """Duplicate targets are removed, keeping first occurrence order."""
    gate = route(targets=["b", "a", "b", END, "a"])(decide_fn)
    assert gate.targets == ["b", "a", END]


def test_route_fallback_not_listed_is_appended():
    """A fallback that is not already a target is appended to targets."""
    gate = route(targets=["a", "b"], fallback="c")(decide_fn)
    assert gate.targets == ["a", "b", "c"]
    assert gate.fallback == "c"


def test_route_fallback_already_listed_not_duplicated():
    """A fallback already among targets is not appended again."""
    gate = route(targets=["a", "b"], fallback="a")(decide_fn)
    assert gate.targets == ["a", "b"]


def test_route_multi_target_property():
    """multi_target=True is exposed."""
    assert route(targets=["a", "b"], multi_target=True)(decide_fn).multi_target


def test_route_repr():
    """repr lists target names with END as 'END'."""

    def decide(x):
        return "a"

    assert (
        repr(route(targets=["a", "b", END])(decide))
        == "RouteNode(decide, targets=['a', 'b', 'END'])"
    )


def test_route_async_function_raises_type_error():
    """An async routing function raises TypeError mentioning 'cannot be async'."""
    with pytest.raises(TypeError, match="cannot be async"):
        route(targets=["a"])(async_fn)


@pytest.mark.parametrize("func", [sync_gen, async_gen], ids=["sync", "async"])
def test_route_generator_function_raises_type_error(func):
    """A generator routing function raises 'cannot be a generator'."""
    with pytest.raises(TypeError, match="cannot be a generator"):
        route(targets=["a"])(func)


@pytest.mark.parametrize("targets", [[], {}], ids=["list", "dict"])
def test_route_empty_targets_raises_value_error(targets):
    """An empty targets collection raises ValueError."""
    with pytest.raises(ValueError, match="no targets"):
        route(targets=targets)(decide_fn)


def test_route_fallback_with_multi_target_raises_value_error():
    """fallback together with multi_target=True raises ValueError."""
    with pytest.raises(ValueError, match="fallback"):
        route(targets=["a", "b"], fallback="a", multi_target=True)(decide_fn)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"targets": ["a", "END"]},
        {"targets": {"END": "stop"}},
        {"targets": ["a"], "fallback": "END"},
    ],
    ids=["list", "dict", "fallback"],
)
def test_route_string_end_raises_value_error(kwargs):
    """The string 'END' as a target or fallback raises ValueError."""
    with pytest.raises(ValueError, match="END"):
        route(**kwargs)(decide_fn)


def test_end_cannot_be_instantiated():
    """END() raises TypeError."""
    with pytest.raises(TypeError, match="cannot be instantiated"):
        END()


def test_end_str_and_repr():
    """str(END) == repr(END) == 'END'."""
    assert str(END) == "END"
    assert repr(END) == "END"


def test_end_is_not_the_string():
    """END is a sentinel object, distinct from the string 'END'."""
    assert END is not "END"  # noqa: F632
    assert END != "END"


def test_ifelse_targets_and_descriptions():
    """targets == [when_true, when_false], descriptions map True/False."""
    gate = ifelse("process", END)(check_fn)
    assert gate.targets == ["process", END]
    assert gate.descriptions == {True: "True", False: "False"}


def test_ifelse_constructor_keywords():
    """IfElseNode takes the same keywords as @ifelse."""
    gate = IfElseNode(
        check_fn,
        "a",
        "b",
        cache=True,
        hide=True,
        default_open=False,
        name="chk",
        rename_inputs={"x": "v"},
        emit="e",
        wait_for="w",
    )
    assert gate.name == "chk"
    assert gate.targets == ["a", "b"]
    assert (gate.cache, gate.hide, gate.default_open) == (True, True, False)
    assert gate.inputs == ("v",)
    assert gate.outputs == ("_chk", "e")
    assert gate.wait_for == ("w",)


def test_ifelse_repr():
    """repr shows function and both branches."""

    def check(x):
        return True

    assert repr(ifelse("process", END)(check)) == (
        "IfElseNode(check, true=process, false=END)"
    )


def test_ifelse_async_function_raises_type_error():
    """An async ifelse function raises TypeError ('cannot be async')."""
    with pytest.raises(TypeError, match="cannot be async"):
        ifelse("a", END)(async_fn)


@pytest.mark.parametrize("func", [sync_gen, async_gen], ids=["sync", "async"])
def test_ifelse_generator_function_raises_type_error(func):
    """A generator ifelse function raises 'cannot be a generator'."""
    with pytest.raises(TypeError, match="cannot be a generator"):
        ifelse("a", END)(func)


@pytest.mark.parametrize(
    ("when_true", "when_false"), [("END", "a"), ("a", "END")], ids=["true", "false"]
)
def test_ifelse_string_end_raises_value_error(when_true, when_false):
    """The string 'END' as a branch raises ValueError."""
    with pytest.raises(ValueError, match="END"):
        ifelse(when_true, when_false)(check_fn)


@pytest.mark.parametrize(("t", "f"), [("a", "a"), (END, END)], ids=["names", "end"])
def test_ifelse_identical_branches_raise_value_error(t, f):
    """Identical branches raise ValueError."""
    with pytest.raises(ValueError, match="same target"):
        ifelse(t, f)(check_fn)


def test_gate_emit_wait_for_clash_raises_value_error():
    """Gates apply the N15 emit/wait_for checks too."""
    with pytest.raises(ValueError, match="wait_for"):
        route(targets=["a"], wait_for="x")(decide_fn)


# ---------------------------------------------------------------------------
# N22: InterruptNode and @interrupt
# ---------------------------------------------------------------------------


def test_interrupt_node_is_function_node_with_is_interrupt():
    """InterruptNode subclasses FunctionNode and has is_interrupt True."""
    n = InterruptNode(sync_fn, output_name="answer")
    assert isinstance(n, FunctionNode)
    assert n.is_interrupt is True
    assert n.outputs == ("answer",)


def test_interrupt_node_without_output_name_raises_type_error():
    """InterruptNode(output_name=None) raises TypeError."""
    with pytest.raises(TypeError, match="output_name"):
        InterruptNode(sync_fn)


def test_interrupt_decorator_without_output_name_raises_type_error():
    """@interrupt() without output_name fails with TypeError from the call."""
    with pytest.raises(TypeError, match="output_name"):
        interrupt()


def test_interrupt_decorator_builds_interrupt_node():
    """@interrupt(output_name) builds an InterruptNode named after the function."""

    @interrupt("decision", rename_inputs={"draft": "text"}, cache=True, hide=True)
    def approve(draft):
        return None

    assert isinstance(approve, InterruptNode)
    assert approve.name == "approve"
    assert approve.inputs == ("text",)
    assert approve.outputs == ("decision",)
    assert (approve.cache, approve.hide, approve.is_interrupt) == (True, True, True)


def test_interrupt_decorator_emit_wait_for_blocking():
    """@interrupt passes emit, wait_for and blocking through."""

    def ask(q):
        return None

    n = interrupt(output_name="a", emit="asked", wait_for="ready", blocking=True)(ask)
    assert n.outputs == ("a", "asked")
    assert n.wait_for == ("ready",)
    assert n.blocking is True


def test_async_interrupt_handler_is_async():
    """An async handler makes an async InterruptNode."""
    n = interrupt("answer")(async_fn)
    assert n.is_async is True


def test_interrupt_node_call_and_rename():
    """An InterruptNode can be called directly and renamed like a FunctionNode."""
    n = InterruptNode(sync_fn, output_name="answer").with_inputs(x="q")
    assert n(x=7) == 7
    assert n.inputs == ("q",)
    assert isinstance(n, InterruptNode)
    assert n.is_interrupt


@pytest.mark.parametrize(
    "make",
    [
        lambda: node(sync_fn, "y"),
        lambda: route(targets=["a"])(decide_fn),
        lambda: ifelse("a", END)(check_fn),
        lambda: _inner_graph().as_node(),
    ],
    ids=["function", "route", "ifelse", "graph"],
)
def test_non_interrupt_nodes_report_is_interrupt_false(make):
    """is_interrupt is False for every non-interrupt node."""
    assert make().is_interrupt is False
