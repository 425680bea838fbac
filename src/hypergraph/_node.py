"""Node value objects: ``HyperNode``, ``FunctionNode``, ``InterruptNode`` and ``@node``.

Nodes are immutable values. Renames never touch the wrapped function: a node keeps
its original parameter and output names and maps them to the current (external)
names, so the engine can call the function with the names it was written with.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self, TypeVar, overload

from hypergraph._naming import (
    RenameEvent,
    apply_renames,
    as_name_tuple,
    merge_renames,
)
from hypergraph._warn import warn_user

__all__ = (
    "FunctionBackedNode",
    "FunctionNode",
    "HyperNode",
    "InterruptNode",
    "interrupt",
    "node",
)

F = TypeVar("F", bound=Callable[..., Any])
_NO_DEFAULT: Any = inspect.Parameter.empty


class HyperNode(ABC):
    """Abstract base of every node: a named step with inputs and outputs.

    Concrete nodes set the private name tuples in their constructors; renames
    go through :meth:`with_name`, :meth:`with_inputs` and :meth:`with_outputs`,
    which always return a new node.
    """

    _name: str
    _inputs: tuple[str, ...]
    _data_outputs: tuple[str, ...]
    _emit: tuple[str, ...] = ()
    _wait_for: tuple[str, ...] = ()
    _renames: tuple[RenameEvent, ...] = ()
    _cache: bool = False
    _hide: bool = False
    _blocking: bool = False
    is_interrupt: ClassVar[bool] = False

    @abstractmethod
    def __init__(self) -> None: ...

    # -- identity -----------------------------------------------------------
    @property
    def name(self) -> str:
        """The node's name in a graph."""
        return self._name

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the values this node consumes, after renames."""
        return self._inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        """Data outputs followed by emit (ordering-only) names."""
        return self.data_outputs + self._emit

    @property
    def data_outputs(self) -> tuple[str, ...]:
        """Outputs that carry values (``outputs`` minus emit names)."""
        return self._data_outputs

    @property
    def emit(self) -> tuple[str, ...]:
        """Ordering-only signal names this node emits each time it runs."""
        return self._emit

    @property
    def wait_for(self) -> tuple[str, ...]:
        """Names this node waits for without consuming their values."""
        return self._wait_for

    @property
    def cache(self) -> bool:
        """Whether results may be cached (stored; caching is not implemented)."""
        return self._cache

    @property
    def hide(self) -> bool:
        """Whether visualisations should hide this node (stored only)."""
        return self._hide

    @property
    def blocking(self) -> bool:
        """Whether a sync body runs in a worker thread instead of inline."""
        return self._blocking

    @property
    def is_async(self) -> bool:
        """Whether the node's body is a coroutine or async generator."""
        return False

    @property
    def is_generator(self) -> bool:
        """Whether the node's body is a (sync or async) generator."""
        return False

    @property
    @abstractmethod
    def definition_hash(self) -> str:
        """SHA-256 hex digest of the node's definition."""

    # -- defaults and types ---------------------------------------------------
    def has_default_for(self, param: str) -> bool:
        """Return True when ``param`` has a fallback value on this node."""
        return param in self._current_defaults()

    def get_default_for(self, param: str) -> Any:
        """Return the fallback value of ``param``.

        Raises:
            KeyError: ``param`` has no default on this node.
        """
        defaults = self._current_defaults()
        if param not in defaults:
            raise KeyError(f"Node {self._name!r} has no default for {param!r}")
        return defaults[param]

    def get_input_type(self, param: str) -> Any:
        """Return the annotation of input ``param``, or None."""
        return None

    def get_output_type(self, output: str) -> Any:
        """Return the annotation of ``output``, or None."""
        return None

    def _current_defaults(self) -> dict[str, Any]:
        return {}

    # -- renaming ------------------------------------------------------------
    def _evolve(self, **changes: Any) -> Self:
        clone = copy.copy(self)
        for key, value in changes.items():
            setattr(clone, key, value)
        return clone

    def with_name(self, name: str) -> Self:
        """Return a copy named ``name`` (validated when put in a Graph)."""
        return self._evolve(_name=name)

    def with_inputs(
        self, mapping: Mapping[str, str] | None = None, /, **renames: str
    ) -> Self:
        """Return a copy with inputs renamed (``{old: new}``, applied at once).

        Raises:
            RenameError: an old name is not a current input, or names clash.
        """
        merged = merge_renames(mapping, renames)
        new_inputs, history = apply_renames(
            self._inputs,
            merged,
            kind="inputs",
            owner=f"node {self._name!r}",
            history=self._renames,
        )
        return self._evolve(_inputs=new_inputs, _renames=history)._after_input_rename(
            merged
        )

    def with_outputs(
        self, mapping: Mapping[str, str] | None = None, /, **renames: str
    ) -> Self:
        """Return a copy with outputs (data or emit) renamed.

        Raises:
            RenameError: an old name is not a current output, or names clash.
        """
        merged = merge_renames(mapping, renames)
        new_outputs, history = apply_renames(
            self.outputs,
            merged,
            kind="outputs",
            owner=f"node {self._name!r}",
            history=self._renames,
        )
        cut = len(self.data_outputs)
        return self._evolve(
            _data_outputs=new_outputs[:cut], _emit=new_outputs[cut:], _renames=history
        )

    def _after_input_rename(self, renames: Mapping[str, str]) -> Self:
        return self


# ---------------------------------------------------------------------------
# Function nodes
# ---------------------------------------------------------------------------


class _FunctionInfo:
    """What we learn once about a wrapped function; shared by all its renames."""

    __slots__ = (
        "_hash",
        "annotations",
        "defaults",
        "func",
        "is_async",
        "is_generator",
        "kinds",
        "params",
        "return_annotation",
    )

    def __init__(self, func: Callable[..., Any]) -> None:
        if not callable(func):
            raise TypeError(
                f"A node needs a callable, got {func!r} of type "
                f"{type(func).__name__}.\n\nHow to fix: pass a function, e.g. "
                "FunctionNode(my_function, output_name='result')."
            )
        self.func = func
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Cannot read the signature of {func!r}: {exc}.\n\n"
                "How to fix: wrap it in a plain def with named parameters."
            ) from exc
        params = tuple(signature.parameters.values())
        self.params = tuple(p.name for p in params)
        self.kinds = tuple(p.kind for p in params)
        self.defaults = {
            p.name: p.default for p in params if p.default is not _NO_DEFAULT
        }
        call = func if inspect.isroutine(func) else getattr(func, "__call__", func)  # noqa: B004
        self.is_generator = inspect.isgeneratorfunction(
            call
        ) or inspect.isasyncgenfunction(call)
        self.is_async = inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(
            call
        )
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception:  # noqa: BLE001 - any failure means "unresolvable"
            hints = {}
        self.annotations = {k: v for k, v in hints.items() if k != "return"}
        self.return_annotation = hints.get("return")
        self._hash: str | None = None

    @property
    def definition_hash(self) -> str:
        if self._hash is None:
            self._hash = _hash_callable(self.func)
        return self._hash


def _hash_callable(func: Callable[..., Any]) -> str:
    """Hash a function by its source, else its code object, else its qualname."""
    try:
        source = inspect.getsource(func)
        return hashlib.sha256(source.encode()).hexdigest()
    except (OSError, TypeError):
        pass
    code = getattr(func, "__code__", None)
    if code is not None:
        cells = []
        for cell in getattr(func, "__closure__", None) or ():
            try:
                cells.append(repr(cell.cell_contents))
            except ValueError:  # an empty closure cell
                cells.append("<empty>")
        parts = [
            code.co_code,
            repr(code.co_consts).encode(),
            repr(getattr(func, "__defaults__", None)).encode(),
            repr(cells).encode(),
        ]
        return hashlib.sha256(b"\x00".join(parts)).hexdigest()
    module = getattr(func, "__module__", None) or "?"
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return hashlib.sha256(f"{module}:{qualname}".encode()).hexdigest()


def _func_name(func: Callable[..., Any]) -> str:
    name = getattr(func, "__name__", None)
    if isinstance(name, str):
        return name
    inner = getattr(func, "func", None)  # functools.partial
    if inner is not None:
        return _func_name(inner)
    return type(func).__name__


def _declares_return(func: Callable[..., Any]) -> bool:
    raw = getattr(func, "__annotations__", {}).get("return", _NO_DEFAULT)
    return raw not in (_NO_DEFAULT, None, "None", type(None))


class FunctionBackedNode(HyperNode):
    """Shared behaviour of nodes built from one Python function (functions, gates).

    Not public: :class:`FunctionNode` and the gate nodes build on it.
    """

    _info: _FunctionInfo

    @property
    def func(self) -> Callable[..., Any]:
        """The wrapped function, unchanged."""
        return self._info.func

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        """The wrapped function (for ``inspect.unwrap`` and friends)."""
        return self._info.func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped function with its original parameter names."""
        return self._info.func(*args, **kwargs)

    @property
    def definition_hash(self) -> str:
        """SHA-256 of the function source (with fallbacks); survives renames."""
        return self._info.definition_hash

    @property
    def param_names(self) -> tuple[str, ...]:
        """Original parameter names, aligned with :attr:`inputs`."""
        return self._info.params

    @property
    def param_kinds(self) -> tuple[inspect._ParameterKind, ...]:
        """Parameter kinds, aligned with :attr:`inputs`."""
        return self._info.kinds

    @property
    def defaults(self) -> dict[str, Any]:
        """Signature defaults keyed by current input names."""
        return self._current_defaults()

    def _current_defaults(self) -> dict[str, Any]:
        info = self._info
        return {
            current: info.defaults[original]
            for original, current in zip(info.params, self._inputs, strict=True)
            if original in info.defaults
        }

    @property
    def parameter_annotations(self) -> dict[str, Any]:
        """Resolved parameter annotations keyed by current input names."""
        info = self._info
        return {
            current: info.annotations[original]
            for original, current in zip(info.params, self._inputs, strict=True)
            if original in info.annotations
        }

    def get_input_type(self, param: str) -> Any:
        """Return the annotation of input ``param``, or None."""
        return self.parameter_annotations.get(param)

    def _apply_rename_inputs(self, rename_inputs: Mapping[str, str] | None) -> None:
        if rename_inputs:
            renamed = self.with_inputs(dict(rename_inputs))
            self._inputs, self._renames = renamed._inputs, renamed._renames

    def _check_signals(self) -> None:
        clash = set(self._emit) & set(self._data_outputs)
        if clash:
            raise ValueError(
                f"Node {self._name!r}: emit name(s) {sorted(clash)} are also data "
                "outputs.\n\nHow to fix: give emit signals their own names."
            )
        clash = set(self._wait_for) & set(self._inputs)
        if clash:
            raise ValueError(
                f"Node {self._name!r}: wait_for name(s) {sorted(clash)} are also "
                "inputs; an input already waits for its value.\n\nHow to fix: "
                "remove them from wait_for."
            )
        clash = set(self._wait_for) & set(self._emit)
        if clash:
            raise ValueError(
                f"Node {self._name!r}: name(s) {sorted(clash)} are in both emit "
                "and wait_for.\n\nHow to fix: a node cannot wait for its own signal."
            )

    def _display_name(self) -> str:
        base = _func_name(self._info.func)
        return base if self._name == base else f"{base} as {self._name!r}"


class FunctionNode(FunctionBackedNode):
    """A node that wraps one Python function (sync, async or generator).

    Args:
        source: The function, or an existing FunctionNode whose function is reused.
        name: Node name; defaults to the function's ``__name__``.
        output_name: ``None`` (side effect only), a name, or a tuple of names.
        rename_inputs: ``{parameter: input name}`` renames applied at once.
        cache: Stored for compatibility; caching is not implemented.
        hide: Stored for visualisation tools.
        emit: Ordering-only names emitted each time the node runs.
        wait_for: Names to wait for without consuming them.
        blocking: Run a sync body in a worker thread instead of inline.

    Raises:
        TypeError: ``source`` is not callable, or ``blocking=True`` on async code.
        ValueError: emit/wait_for names clash with outputs or inputs.
        RenameError: ``rename_inputs`` names a parameter that does not exist.
    """

    def __init__(
        self,
        source: Callable[..., Any] | FunctionNode,
        name: str | None = None,
        output_name: str | Iterable[str] | None = None,
        *,
        rename_inputs: Mapping[str, str] | None = None,
        cache: bool = False,
        hide: bool = False,
        emit: str | Iterable[str] | None = None,
        wait_for: str | Iterable[str] | None = None,
        blocking: bool = False,
    ) -> None:
        func = source.func if isinstance(source, FunctionNode) else source
        info = source._info if isinstance(source, FunctionNode) else _FunctionInfo(func)
        self._info = info
        self._name = name if name is not None else _func_name(func)
        self._inputs = info.params
        self._data_outputs = as_name_tuple(output_name, "output_name")
        self._emit = as_name_tuple(emit, "emit")
        self._wait_for = as_name_tuple(wait_for, "wait_for")
        self._renames = ()
        self._cache = bool(cache)
        self._hide = bool(hide)
        if blocking and info.is_async:
            raise TypeError(
                f"blocking=True was given for async function {self._name!r}. "
                "Only sync functions can be marked blocking; async functions "
                "already overlap on the event loop.\n\nHow to fix: remove "
                "blocking=True, or make the function a plain def."
            )
        self._blocking = bool(blocking)
        self._check_signals()
        if self._data_outputs == () and _declares_return(func):
            warn_user(
                f"Function {self._name!r} has a return annotation but no "
                "output_name, so its return value will be discarded. Pass "
                "output_name='...' to keep it."
            )
        self._apply_rename_inputs(rename_inputs)

    @property
    def is_async(self) -> bool:
        """Whether the function is ``async def`` (or an async generator)."""
        return self._info.is_async

    @property
    def is_generator(self) -> bool:
        """Whether the function is a (sync or async) generator."""
        return self._info.is_generator

    @property
    def output_annotation(self) -> dict[str, Any]:
        """Annotation per data output (None where unknown)."""
        outputs = self._data_outputs
        ret = self._info.return_annotation
        if len(outputs) == 1:
            return {outputs[0]: ret}
        args = typing.get_args(ret) if typing.get_origin(ret) is tuple else ()
        if len(args) == len(outputs) and Ellipsis not in args:
            return dict(zip(outputs, args, strict=True))
        return dict.fromkeys(outputs)

    def get_output_type(self, output: str) -> Any:
        """Return the annotation of data output ``output``, or None."""
        return self.output_annotation.get(output)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._display_name()}, outputs={self.outputs!r})"
        )


@overload
def node(source: F, output_name: str | Iterable[str] | None = None) -> FunctionNode: ...
@overload
def node(
    source: None = None,
    output_name: str | Iterable[str] | None = None,
    *,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
    hide: bool = False,
    emit: str | Iterable[str] | None = None,
    wait_for: str | Iterable[str] | None = None,
    blocking: bool = False,
) -> Callable[[Callable[..., Any]], FunctionNode]: ...
def node(
    source: Callable[..., Any] | None = None,
    output_name: str | Iterable[str] | None = None,
    *,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
    hide: bool = False,
    emit: str | Iterable[str] | None = None,
    wait_for: str | Iterable[str] | None = None,
    blocking: bool = False,
) -> FunctionNode | Callable[[Callable[..., Any]], FunctionNode]:
    """Turn a function into a :class:`FunctionNode`.

    Usable as ``@node``, ``@node()``, ``@node(output_name="y")`` or
    ``node(func, "y")``. The node is named after the function; rename it with
    :meth:`FunctionNode.with_name`.

    Example:
        >>> @node(output_name="doubled")
        ... def double(x: int) -> int:
        ...     return x * 2
        >>> double(5)
        10
    """

    def build(func: Callable[..., Any]) -> FunctionNode:
        return FunctionNode(
            func,
            None,
            output_name,
            rename_inputs=rename_inputs,
            cache=cache,
            hide=hide,
            emit=emit,
            wait_for=wait_for,
            blocking=blocking,
        )

    if source is None:
        return build
    return build(source)


class InterruptNode(FunctionNode):
    """A function node that can pause the run for a human answer.

    The handler is called with the node's inputs; returning a value resolves the
    interrupt, returning ``None`` pauses the run (see ``docs/human-in-the-loop.md``).

    Raises:
        TypeError: ``output_name`` is missing.
    """

    is_interrupt: ClassVar[bool] = True

    def __init__(
        self,
        source: Callable[..., Any] | FunctionNode,
        name: str | None = None,
        output_name: str | Iterable[str] | None = None,
        *,
        rename_inputs: Mapping[str, str] | None = None,
        cache: bool = False,
        hide: bool = False,
        emit: str | Iterable[str] | None = None,
        wait_for: str | Iterable[str] | None = None,
        blocking: bool = False,
    ) -> None:
        if output_name is None:
            raise TypeError(
                "InterruptNode needs an output_name: the name the human's answer "
                "is stored under.\n\nHow to fix: InterruptNode(func, "
                "output_name='decision') or @interrupt(output_name='decision')."
            )
        super().__init__(
            source,
            name,
            output_name,
            rename_inputs=rename_inputs,
            cache=cache,
            hide=hide,
            emit=emit,
            wait_for=wait_for,
            blocking=blocking,
        )


def interrupt(
    output_name: str | Iterable[str],
    *,
    rename_inputs: Mapping[str, str] | None = None,
    cache: bool = False,
    emit: str | Iterable[str] | None = None,
    wait_for: str | Iterable[str] | None = None,
    hide: bool = False,
    blocking: bool = False,
) -> Callable[[Callable[..., Any]], InterruptNode]:
    """Decorate a handler as an :class:`InterruptNode`.

    Example:
        >>> @interrupt(output_name="decision")
        ... def approve(draft: str) -> str | None:
        ...     return None  # pause and wait for a human
    """

    def build(func: Callable[..., Any]) -> InterruptNode:
        return InterruptNode(
            func,
            None,
            output_name,
            rename_inputs=rename_inputs,
            cache=cache,
            hide=hide,
            emit=emit,
            wait_for=wait_for,
            blocking=blocking,
        )

    return build
