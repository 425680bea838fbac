"""Gate nodes (``@route``, ``@ifelse``) and the ``END`` sentinel.

A gate is a function node whose return value is a routing decision rather than
data. Its only data output is a hidden record ``_<name>`` of that decision.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn, Self, cast, final

from hypergraph._naming import as_name_tuple
from hypergraph._node import FunctionBackedNode, HyperNode, _func_name, _FunctionInfo

__all__ = ("END", "GateNode", "IfElseNode", "RouteNode", "ifelse", "route")


class _EndMeta(type):
    def __repr__(cls) -> str:
        return "END"

    def __str__(cls) -> str:
        return "END"


class END(metaclass=_EndMeta):
    """Sentinel target meaning "stop the paths behind this gate".

    Use the class itself (``return END``, ``targets=["a", END]``); compare with
    ``is END``. In logs, JSON and persisted records it is the string ``"END"``.
    """

    def __new__(cls, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(
            "END is a sentinel and cannot be instantiated.\n\nHow to fix: use the "
            "class itself, e.g. `return END` or `targets=['a', END]`."
        )


Target = str | type[END]


def _check_gate_function(func: Callable[..., Any], kind: str) -> _FunctionInfo:
    info = _FunctionInfo(func)
    name = _func_name(func)
    call = func if inspect.isroutine(func) else getattr(func, "__call__", func)  # noqa: B004
    if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
        raise TypeError(
            f"{kind} function {name!r} cannot be a generator: a gate returns one "
            "decision.\n\nHow to fix: return the target instead of yielding it."
        )
    if info.is_async:
        raise TypeError(
            f"{kind} function {name!r} cannot be async: gates decide from values "
            "already computed and run inline.\n\nHow to fix: do the async work in a "
            "@node before the gate and make the gate a plain def."
        )
    return info


def _normalise_target(target: object, what: str) -> Target:
    if target is END:
        return cast("Target", target)
    if isinstance(target, HyperNode):
        return target.name
    if target == "END":
        raise ValueError(
            f"The string 'END' was given as a {what}. Strings name nodes, so "
            "this would look for a node called 'END'.\n\nHow to fix: use the "
            "END sentinel: `from hypergraph import END`."
        )
    if not isinstance(target, str):
        raise TypeError(
            f"A {what} must be a node name or END, got {target!r} of type "
            f"{type(target).__name__}.\n\nHow to fix: list node names as strings."
        )
    return target


class GateNode(FunctionBackedNode):
    """Base class of routing nodes (:class:`RouteNode`, :class:`IfElseNode`)."""

    _targets: tuple[Target, ...]
    _descriptions: dict[Any, str]
    _default_open: bool

    def _init_gate(
        self,
        info: _FunctionInfo,
        *,
        name: str | None,
        cache: bool,
        hide: bool,
        default_open: bool,
        rename_inputs: Mapping[str, str] | None,
        emit: str | Iterable[str] | None,
        wait_for: str | Iterable[str] | None,
    ) -> None:
        self._info = info
        self._name = name if name is not None else _func_name(info.func)
        self._inputs = info.params
        self._data_outputs = ()
        self._emit = as_name_tuple(emit, "emit")
        self._wait_for = as_name_tuple(wait_for, "wait_for")
        self._renames = ()
        self._cache = bool(cache)
        self._hide = bool(hide)
        self._default_open = bool(default_open)
        self._check_signals()
        self._apply_rename_inputs(rename_inputs)

    @property
    def data_outputs(self) -> tuple[str, ...]:
        """The hidden decision record ``_<name>``; it follows renames."""
        return ("_" + self._name,)

    @property
    def targets(self) -> list[Target]:
        """Node names (and possibly ``END``) this gate can activate."""
        return list(self._targets)

    @property
    def descriptions(self) -> dict[Any, str]:
        """Descriptions of targets, when given as a dict."""
        return dict(self._descriptions)

    @property
    def default_open(self) -> bool:
        """Whether targets may run before this gate's first decision."""
        return self._default_open

    @property
    def multi_target(self) -> bool:
        """Whether one decision may activate several targets."""
        return False

    @property
    def fallback(self) -> Target | None:
        """Target used when the function returns None."""
        return None

    @property
    def is_exclusive(self) -> bool:
        """Whether exactly one branch can be active per decision."""
        return not self.multi_target

    def with_outputs(
        self, mapping: Mapping[str, str] | None = None, /, **renames: str
    ) -> Self:
        """Rename emit names; the decision record always follows the node name."""
        merged = dict(mapping or {}, **renames)
        record = self.data_outputs[0]
        if record in merged:
            raise ValueError(
                f"The decision record {record!r} of gate {self._name!r} cannot be "
                "renamed; it always follows the gate's name.\n\nHow to fix: "
                "rename the gate with with_name(...)."
            )
        return super().with_outputs(merged)

    def _target_names(self) -> list[str]:
        return [t if isinstance(t, str) else "END" for t in self._targets]


@final
class RouteNode(GateNode):
    """A gate whose function returns the name of the target(s) to activate.

    Raises:
        TypeError: the function is async or a generator.
        ValueError: empty targets, ``fallback`` with ``multi_target``, or the
            string ``"END"`` used as a target.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        targets: Iterable[object] | Mapping[object, str],
        *,
        fallback: object = None,
        multi_target: bool = False,
        cache: bool = False,
        hide: bool = False,
        default_open: bool = True,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
        emit: str | Iterable[str] | None = None,
        wait_for: str | Iterable[str] | None = None,
    ) -> None:
        info = _check_gate_function(func, "Route")
        if isinstance(targets, Mapping):
            descriptions = {
                _normalise_target(k, "route target"): str(v) for k, v in targets.items()
            }
            listed = list(descriptions)
        else:
            if isinstance(targets, str):
                targets = [targets]
            descriptions = {}
            listed = [_normalise_target(t, "route target") for t in targets]
        if not listed:
            raise ValueError(
                f"Route {_func_name(func)!r} has no targets.\n\nHow to fix: list the "
                "nodes it may activate, e.g. @route(targets=['a', 'b', END])."
            )
        if fallback is not None and multi_target:
            raise ValueError(
                f"Route {_func_name(func)!r}: fallback cannot be combined with "
                "multi_target=True (an empty list already means 'nothing').\n\n"
                "How to fix: drop fallback, or set multi_target=False."
            )
        unique: list[Target] = []
        for target in listed:
            if target not in unique:
                unique.append(target)
        self._fallback: Target | None = None
        if fallback is not None:
            self._fallback = _normalise_target(fallback, "fallback")
            if self._fallback not in unique:
                unique.append(self._fallback)
        self._targets = tuple(unique)
        self._descriptions = descriptions
        self._multi_target = bool(multi_target)
        self._init_gate(
            info,
            name=name,
            cache=cache,
            hide=hide,
            default_open=default_open,
            rename_inputs=rename_inputs,
            emit=emit,
            wait_for=wait_for,
        )

    @property
    def multi_target(self) -> bool:
        """Whether the function returns a list of targets."""
        return self._multi_target

    @property
    def fallback(self) -> Target | None:
        """Target used when the function returns None."""
        return self._fallback

    def __repr__(self) -> str:
        return f"RouteNode({self._display_name()}, targets={self._target_names()!r})"


@final
class IfElseNode(GateNode):
    """A gate whose function returns exactly ``True`` or ``False``.

    Raises:
        TypeError: the function is async or a generator.
        ValueError: both branches are the same, or a branch is the string ``"END"``.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        when_true: object,
        when_false: object,
        *,
        cache: bool = False,
        hide: bool = False,
        default_open: bool = True,
        name: str | None = None,
        rename_inputs: Mapping[str, str] | None = None,
        emit: str | Iterable[str] | None = None,
        wait_for: str | Iterable[str] | None = None,
    ) -> None:
        info = _check_gate_function(func, "IfElse")
        true_target = _normalise_target(when_true, "branch")
        false_target = _normalise_target(when_false, "branch")
        if true_target is false_target or true_target == false_target:
            raise ValueError(
                f"IfElse {_func_name(func)!r} has the same target {true_target!r} "
                "for both branches.\n\nHow to fix: use a plain edge (no gate), or "
                "give the branches different targets."
            )
        self._targets = (true_target, false_target)
        self._descriptions = {True: "True", False: "False"}
        self._init_gate(
            info,
            name=name,
            cache=cache,
            hide=hide,
            default_open=default_open,
            rename_inputs=rename_inputs,
            emit=emit,
            wait_for=wait_for,
        )

    @property
    def when_true(self) -> Target:
        """Target activated when the function returns True."""
        return self._targets[0]

    @property
    def when_false(self) -> Target:
        """Target activated when the function returns False."""
        return self._targets[1]

    def __repr__(self) -> str:
        true_name, false_name = self._target_names()
        return (
            f"IfElseNode({self._display_name()}, true={true_name}, false={false_name})"
        )


def route(
    targets: Iterable[object] | Mapping[object, str],
    *,
    fallback: object = None,
    multi_target: bool = False,
    cache: bool = False,
    hide: bool = False,
    default_open: bool = True,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
    emit: str | Iterable[str] | None = None,
    wait_for: str | Iterable[str] | None = None,
) -> Callable[[Callable[..., Any]], RouteNode]:
    """Decorate a routing function as a :class:`RouteNode`.

    Example:
        >>> @route(targets=["retrieve", END])
        ... def should_continue(attempts: int):
        ...     return "retrieve" if attempts < 3 else END
    """

    def build(func: Callable[..., Any]) -> RouteNode:
        return RouteNode(
            func,
            targets,
            fallback=fallback,
            multi_target=multi_target,
            cache=cache,
            hide=hide,
            default_open=default_open,
            name=name,
            rename_inputs=rename_inputs,
            emit=emit,
            wait_for=wait_for,
        )

    return build


def ifelse(
    when_true: object,
    when_false: object,
    *,
    cache: bool = False,
    hide: bool = False,
    default_open: bool = True,
    name: str | None = None,
    rename_inputs: Mapping[str, str] | None = None,
    emit: str | Iterable[str] | None = None,
    wait_for: str | Iterable[str] | None = None,
) -> Callable[[Callable[..., Any]], IfElseNode]:
    """Decorate a predicate as an :class:`IfElseNode`.

    Example:
        >>> @ifelse(when_true="publish", when_false=END)
        ... def is_good(score: float) -> bool:
        ...     return score > 0.8
    """

    def build(func: Callable[..., Any]) -> IfElseNode:
        return IfElseNode(
            func,
            when_true,
            when_false,
            cache=cache,
            hide=hide,
            default_open=default_open,
            name=name,
            rename_inputs=rename_inputs,
            emit=emit,
            wait_for=wait_for,
        )

    return build
