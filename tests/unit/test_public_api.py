"""The public surface: what `import hypergraph` exposes, and which classes are final."""

from __future__ import annotations

import importlib
import inspect

import pytest

import hypergraph

P1 = [
    "node",
    "route",
    "ifelse",
    "interrupt",
    "END",
    "HyperNode",
    "FunctionNode",
    "GateNode",
    "RouteNode",
    "IfElseNode",
    "InterruptNode",
    "GraphNode",
    "Graph",
    "InputSpec",
    "HypergraphError",
    "GraphConfigError",
    "RenameError",
    "SyncRunner",
    "AsyncRunner",
    "BaseRunner",
    "RunResult",
    "RunStatus",
    "PauseInfo",
    "RunLog",
    "NodeRecord",
    "MissingInputError",
    "InfiniteLoopError",
    "IncompatibleRunnerError",
    "ErrorHandling",
]

PUBLIC_MODULES = (
    "hypergraph",
    "hypergraph.events",
    "hypergraph.checkpointers",
    "hypergraph.exceptions",
    "hypergraph.results",
    "hypergraph.cli",
)

FINAL = [
    "Graph",
    "GraphNode",
    "RouteNode",
    "IfElseNode",
    "InputSpec",
    "RunResult",
    "PauseInfo",
    "MapResult",
    "RunLog",
    "NodeRecord",
    "NodeStats",
    "MapLog",
    "RunnerCapabilities",
]
SUBCLASSABLE = ["FunctionNode", "BaseRunner", "EventProcessor", "AsyncEventProcessor"]


def test_every_name_of_spec_p1_is_exported():
    """`import hypergraph` exposes at least the names spec 01 P1 lists."""
    missing = [name for name in P1 if not hasattr(hypergraph, name)]
    assert missing == []
    assert set(P1) <= set(hypergraph.__all__)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_lists_exactly_what_the_module_exports(module_name):
    """__all__ is a tuple of existing names and covers every public attribute."""
    module = importlib.import_module(module_name)
    exported = module.__all__
    assert isinstance(exported, tuple)
    assert len(set(exported)) == len(exported)
    assert [name for name in exported if not hasattr(module, name)] == []
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name not in {"annotations", "TYPE_CHECKING"}
        and getattr(value, "__module__", "").startswith("hypergraph")
    }
    assert public - set(exported) == set()


@pytest.mark.parametrize("name", FINAL)
def test_value_classes_are_final(name):
    """Classes not designed for subclassing are marked @final (STYLE 2.5)."""
    assert getattr(getattr(hypergraph, name), "__final__", False) is True


@pytest.mark.parametrize("name", SUBCLASSABLE)
def test_extension_points_are_not_final(name):
    """Classes the spec lets users subclass stay open."""
    assert not getattr(getattr(hypergraph, name), "__final__", False)


def test_errors_share_one_root_that_is_not_a_value_error():
    """Every hypergraph error subclasses HypergraphError, itself an Exception (P2)."""
    from hypergraph import exceptions

    for name in exceptions.__all__:
        error = getattr(exceptions, name)
        assert issubclass(error, hypergraph.HypergraphError)
        if name != "CheckpointSerializationError":
            assert not issubclass(error, ValueError)
    assert hypergraph.HypergraphError.__bases__ == (Exception,)
