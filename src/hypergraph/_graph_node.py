"""``GraphNode``: a whole graph used as one node of a bigger graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, final

from hypergraph._node import HyperNode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hypergraph._graph import Graph

__all__ = ("GraphNode", "MapConfig")

MapMode = Literal["zip", "product"]
ErrorHandling = Literal["raise", "continue"]
_MISSING: Any = object()


class MapConfig:
    """How a mapped GraphNode fans out: parameters (inner names), mode, clone."""

    __slots__ = ("clone", "error_handling", "mode", "params")

    def __init__(
        self,
        params: tuple[str, ...],
        mode: str,
        error_handling: str,
        clone: bool | tuple[str, ...],
    ) -> None:
        self.params = params
        self.mode = mode
        self.error_handling = error_handling
        self.clone = clone


def check_mode(mode: object, *, name: str = "mode") -> None:
    """Raise ValueError unless ``mode`` is ``"zip"`` or ``"product"``."""
    if mode not in ("zip", "product"):
        raise ValueError(
            f"Invalid {name}={mode!r}. Expected 'zip' or 'product'.\n\nHow to fix: "
            f"use {name}='zip' to pair items up, or {name}='product' for every "
            "combination."
        )


def check_error_handling(value: object) -> None:
    """Raise ValueError unless ``value`` is ``"raise"`` or ``"continue"``."""
    if value not in ("raise", "continue"):
        raise ValueError(
            f"Invalid error_handling={value!r}. Expected 'raise' or 'continue'.\n\n"
            "How to fix: use 'raise' to stop at the first failure, or 'continue' "
            "to keep going and collect failures."
        )


def check_clone(
    clone: object, *, inputs: Sequence[str], mapped: Sequence[str]
) -> bool | tuple[str, ...]:
    """Validate a ``clone`` option; return it as ``bool`` or a tuple of names."""
    if isinstance(clone, bool):
        return clone
    if not isinstance(clone, list) or not all(isinstance(c, str) for c in clone):
        raise TypeError(
            f"clone must be True, False or a list of parameter names, got "
            f"{clone!r} ({type(clone).__name__}).\n\nHow to fix: pass clone=True "
            "to deep-copy every broadcast value, or clone=['config'] for some."
        )
    for name in clone:
        if name in mapped:
            raise ValueError(
                f"Cannot clone mapped parameter {name!r}: each item already gets "
                "its own element of a mapped value.\n\nHow to fix: remove it from "
                "clone=[...]; list only broadcast (non-mapped) parameters."
            )
        if name not in inputs:
            listing = ", ".join(repr(i) for i in inputs)
            raise ValueError(
                f"clone names {name!r}, which is not an input. Inputs: {listing}."
                "\n\nHow to fix: list only input names in clone=[...]."
            )
    return tuple(clone)


def check_node_name(name: object) -> str:
    """Validate a GraphNode name (hyphens allowed, no '.' or '/')."""
    if name is None:
        raise ValueError(
            "A GraphNode needs a name, but neither name= nor the graph's name was "
            "given.\n\nHow to fix: Graph([...], name='inner').as_node() or "
            "graph.as_node(name='inner')."
        )
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"GraphNode name must be a non-empty string, got {name!r}.\n\n"
            "How to fix: graph.as_node(name='inner')."
        )
    if "." in name or "/" in name:
        raise ValueError(
            f"GraphNode name {name!r} contains '.' or '/', which hypergraph uses "
            "to address nested graphs.\n\nHow to fix: use '-' or '_' instead."
        )
    return name


@final
class GraphNode(HyperNode):
    """A graph wrapped as a node: it runs the inner graph as one nested run.

    Args:
        graph: The graph to wrap.
        name: Node name; defaults to ``graph.name``.

    Raises:
        ValueError: no name is available, or it contains '.' or '/'.
    """

    def __init__(self, graph: Graph, name: str | None = None) -> None:
        self._graph = graph
        self._name = check_node_name(name if name is not None else graph.name)
        spec = graph.inputs
        self._inputs = spec.all
        self._inner_inputs = spec.all
        data, emit = graph._exposed_outputs()
        self._data_outputs = data
        self._inner_outputs = data
        self._emit = emit
        self._inner_emit = emit
        self._wait_for = ()
        self._renames = ()
        self._map: MapConfig | None = None

    @property
    def graph(self) -> Graph:
        """The wrapped graph."""
        return self._graph

    @property
    def definition_hash(self) -> str:
        """Same as the wrapped graph's definition hash."""
        return self._graph.definition_hash

    @property
    def is_async(self) -> bool:
        """Whether the inner graph has async nodes."""
        return self._graph.has_async_nodes

    # -- name translation ------------------------------------------------------
    def inner_input(self, outer: str) -> str:
        """Translate an outer input name to the inner graph's name."""
        return self._inner_inputs[self._inputs.index(outer)]

    def inner_output(self, outer: str) -> str:
        """Translate an outer output name to the inner graph's name."""
        outputs = self.outputs
        inner = self._inner_outputs + self._inner_emit
        return inner[outputs.index(outer)]

    @property
    def input_pairs(self) -> tuple[tuple[str, str], ...]:
        """``(outer, inner)`` input names."""
        return tuple(zip(self._inputs, self._inner_inputs, strict=True))

    @property
    def output_pairs(self) -> tuple[tuple[str, str], ...]:
        """``(outer, inner)`` data output names."""
        return tuple(zip(self._data_outputs, self._inner_outputs, strict=True))

    @property
    def emit_pairs(self) -> tuple[tuple[str, str], ...]:
        """``(outer, inner)`` emit names."""
        return tuple(zip(self._emit, self._inner_emit, strict=True))

    # -- defaults ----------------------------------------------------------------
    def _inner_default(self, inner: str, *, signature_only: bool) -> Any:
        graph = self._graph
        bound = graph._bound
        if inner in bound:
            return _MISSING if signature_only else bound[inner]
        consumers = graph._active_consumers(inner)
        if not consumers:
            return _MISSING
        found = _MISSING
        for consumer in consumers:
            value = _signature_default(consumer, inner)
            if value is _MISSING:
                return _MISSING
            if found is _MISSING:
                found = value
        return found

    def has_default_for(self, param: str) -> bool:
        """True if ``param`` is bound inside or every inner consumer has a default."""
        if param not in self._inputs:
            return False
        inner = self.inner_input(param)
        return self._inner_default(inner, signature_only=False) is not _MISSING

    def get_default_for(self, param: str) -> Any:
        """Return the inner bound value, else an inner default.

        Raises:
            KeyError: no fallback exists for ``param``.
        """
        if param in self._inputs:
            value = self._inner_default(self.inner_input(param), signature_only=False)
            if value is not _MISSING:
                return value
        raise KeyError(f"GraphNode {self._name!r} has no default for {param!r}")

    def signature_default(self, param: str) -> Any:
        """The default used for consistency checks (``_MISSING`` when none)."""
        if param not in self._inputs:
            return _MISSING
        return self._inner_default(self.inner_input(param), signature_only=True)

    def _current_defaults(self) -> dict[str, Any]:
        result = {}
        for outer, inner in self.input_pairs:
            value = self._inner_default(inner, signature_only=False)
            if value is not _MISSING:
                result[outer] = value
        return result

    # -- types -------------------------------------------------------------------
    def get_input_type(self, param: str) -> Any:
        """Type of the inner node consuming ``param``; ``list[T]`` when mapped over."""
        if param not in self._inputs:
            return None
        inner = self.inner_input(param)
        hint = None
        for consumer in self._graph._active_consumers(inner):
            hint = consumer.get_input_type(inner)
            if hint is not None:
                break
        if self._map is None or inner not in self._map.params:
            return hint
        # A mapped input receives the whole sequence; each item gets one element.
        return list if hint is None else list[hint]  # type: ignore[valid-type]

    def get_output_type(self, output: str) -> Any:
        """Type of the inner producer's output; ``list[T]`` when mapped."""
        if output not in self._data_outputs:
            return None
        inner = self.inner_output(output)
        hint = None
        for producer in self._graph._producers_of(inner):
            hint = producer.get_output_type(inner)
            if hint is not None:
                break
        if self._map is None:
            return hint
        return list if hint is None else list[hint]  # type: ignore[valid-type]

    @property
    def output_annotation(self) -> dict[str, Any]:
        """Annotation per data output (``list[T]`` when mapped)."""
        return {o: self.get_output_type(o) for o in self._data_outputs}

    # -- mapping -----------------------------------------------------------------
    def map_over(
        self,
        *params: str,
        mode: MapMode = "zip",
        error_handling: ErrorHandling = "raise",
        clone: bool | list[str] = False,
    ) -> GraphNode:
        """Return a copy that runs the inner graph once per item of ``params``.

        Args:
            *params: Inputs whose values are sequences to fan out over.
            mode: ``"zip"`` pairs items up; ``"product"`` takes every combination.
            error_handling: ``"raise"`` fails the node at the first failed item;
                ``"continue"`` puts ``None`` at failed items' positions.
            clone: Deep-copy broadcast values per item (True, or a list of names).

        Raises:
            ValueError: no params, unknown params, or a bad mode/policy.
            TypeError: ``clone`` is neither a bool nor a list of names.
        """
        if not params:
            raise ValueError(
                "map_over requires at least one parameter.\n\nHow to fix: name the "
                "input(s) to fan out over, e.g. .map_over('item')."
            )
        available = ", ".join(repr(i) for i in self._inputs)
        seen: set[str] = set()
        for param in params:
            if param not in self._inputs:
                raise ValueError(
                    f"Parameter {param!r} is not an input of this GraphNode. "
                    f"Available inputs: {available}.\n\nHow to fix: map over one "
                    "of the available inputs."
                )
            if param in seen:
                raise ValueError(
                    f"Parameter {param!r} is listed twice in map_over.\n\nHow to "
                    "fix: name each parameter once."
                )
            seen.add(param)
        check_mode(mode)
        check_error_handling(error_handling)
        cloned = check_clone(clone, inputs=self._inputs, mapped=params)
        inner_params = tuple(self.inner_input(p) for p in params)
        inner_clone = (
            cloned
            if isinstance(cloned, bool)
            else tuple(self.inner_input(c) for c in cloned)
        )
        return self._evolve(
            _map=MapConfig(inner_params, mode, error_handling, inner_clone)
        )

    @property
    def map_config(self) -> tuple[list[str], str, str] | None:
        """``(params, mode, error_handling)`` with current names, or None."""
        if self._map is None:
            return None
        outer = [self._inputs[self._inner_inputs.index(p)] for p in self._map.params]
        return outer, self._map.mode, self._map.error_handling

    @property
    def map_clone(self) -> bool | list[str]:
        """The clone setting of a mapped node, with current names."""
        if self._map is None:
            return False
        if isinstance(self._map.clone, bool):
            return self._map.clone
        return [self._inputs[self._inner_inputs.index(c)] for c in self._map.clone]

    @property
    def mapping(self) -> MapConfig | None:
        """The mapping configuration in inner names (engine use)."""
        return self._map

    def __repr__(self) -> str:
        return (
            f"GraphNode({self._name}, inputs={self._inputs!r}, "
            f"outputs={self.outputs!r})"
        )


def _signature_default(node: HyperNode, param: str) -> Any:
    if isinstance(node, GraphNode):
        return node.signature_default(param)
    if node.has_default_for(param):
        return node.get_default_for(param)
    return _MISSING


def signature_default(node: HyperNode, param: str) -> Any:
    """The default of ``param`` for the default-consistency check, or ``MISSING``."""
    return _signature_default(node, param)


MISSING = _MISSING
