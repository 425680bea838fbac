"""Decide whether a value of one type annotation may feed a parameter of another."""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Annotated, Any, ForwardRef, Literal, TypeVar, Union

_NONE_TYPE = type(None)
_UNION_ORIGINS: tuple[object, ...] = (Union, types.UnionType)
# Literal is subscripted with runtime values below, which static checkers reject.
_LITERAL: Any = Literal
_CALLABLE: object = collections.abc.Callable


def is_compatible(produced: object, expected: object) -> bool:
    """Return True when a value annotated `produced` satisfies a parameter
    annotated `expected`.
    """
    try:
        return _compatible(produced, expected)
    except Exception:  # noqa: BLE001 - annotations are arbitrary objects; never raise
        return _same(produced, expected)


def _same(a: object, b: object) -> bool:
    """Return True when two annotations are equal; a failing ``==`` means unequal."""
    try:
        return a is b or bool(a == b)
    except Exception:  # noqa: BLE001 - a hostile __eq__ must not escape
        return False


def _normalize(tp: object) -> object:
    """Map None to NoneType, unwrap Annotated, and turn a ForwardRef into its string."""
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    if tp is None:
        return _NONE_TYPE
    if isinstance(tp, ForwardRef):
        return tp.__forward_arg__
    return tp


def _union_members(tp: object) -> tuple[object, ...] | None:
    """Return the members of a union, or None when ``tp`` is not a union."""
    if typing.get_origin(tp) in _UNION_ORIGINS:
        return typing.get_args(tp)
    return None


def _producer_members(tp: object) -> tuple[object, ...] | None:
    """Return the alternatives a produced annotation stands for, or None if just one."""
    if isinstance(tp, TypeVar):
        if tp.__constraints__:
            return tuple(tp.__constraints__)
        return None if tp.__bound__ is None else (tp.__bound__,)
    # Literal[a, b] is Literal[a] | Literal[b]: each value may match a different member.
    if typing.get_origin(tp) is Literal and len(typing.get_args(tp)) > 1:
        return tuple(_LITERAL[value] for value in typing.get_args(tp))
    return _union_members(tp)


def _compatible(produced: object, expected: object) -> bool:
    """Apply the compatibility rules to normalized annotations."""
    p, e = _normalize(produced), _normalize(expected)
    if e is Any or _same(p, e):
        return True
    if isinstance(p, TypeVar) and _producer_members(p) is None:
        return True
    if isinstance(e, TypeVar):
        return _fits_typevar(p, e)
    members = _producer_members(p)
    if members is not None:
        return all(_compatible(member, e) for member in members)
    members = _union_members(e)
    if members is not None:
        return any(_compatible(p, member) for member in members)
    if p is Any:
        return False
    if isinstance(p, str) or isinstance(e, str):
        # Unresolved forward references can only be refuted by a differing name.
        return not (isinstance(p, str) and isinstance(e, str))
    if isinstance(p, typing.NewType):
        return _compatible(p.__supertype__, e)
    if typing.get_origin(p) is Literal:
        return _literal_fits(typing.get_args(p)[0], e)
    return _generic_fits(p, e)


def _fits_typevar(p: object, e: TypeVar) -> bool:
    """Return True when ``p`` satisfies the bound or one constraint of ``e``."""
    if e.__constraints__:
        return any(_compatible(p, c) for c in e.__constraints__)
    return e.__bound__ is None or _compatible(p, e.__bound__)


def _literal_fits(value: object, e: object) -> bool:
    """Return True when the literal ``value`` is an instance of, or listed by, ``e``."""
    if typing.get_origin(e) is Literal:
        # Compare types too, since 1 == True but Literal[1] is not Literal[True].
        return any(
            type(value) is type(other) and value == other
            for other in typing.get_args(e)
        )
    return isinstance(e, type) and isinstance(value, e)


def _subclass(a: type, b: type) -> bool:
    """Return ``issubclass(a, b)``, or identity when ``b`` refuses subclass checks."""
    try:
        return issubclass(a, b)
    except TypeError:
        return a is b


def _generic_fits(p: object, e: object) -> bool:
    """Compare classes and parameterised generics by origin, then by arguments."""
    p_origin = typing.get_origin(p) or p
    e_origin = typing.get_origin(e) or e
    if not (isinstance(p_origin, type) and isinstance(e_origin, type)):
        return False
    if not _subclass(p_origin, e_origin):
        return False
    p_args, e_args = typing.get_args(p), typing.get_args(e)
    if not p_args or not e_args:
        return True
    if e_origin is tuple:
        return _tuple_fits(p_args, e_args)
    if p_origin is tuple and len(e_args) == 1:
        # A tuple seen as e.g. Sequence[X]: every element type must fit X.
        return all(_compatible(a, e_args[0]) for a in p_args if a is not Ellipsis)
    if e_origin is _CALLABLE:
        return _callable_fits(p_args, e_args)
    if len(p_args) != len(e_args):
        return False
    return all(map(_compatible, p_args, e_args))


def _tuple_fits(p_args: tuple[object, ...], e_args: tuple[object, ...]) -> bool:
    """Compare tuple arguments, where ``(X, ...)`` means any length of X."""
    e_variadic = len(e_args) == 2 and e_args[1] is Ellipsis
    p_variadic = len(p_args) == 2 and p_args[1] is Ellipsis
    if e_variadic:
        elements = p_args[:1] if p_variadic else p_args
        return all(_compatible(a, e_args[0]) for a in elements)
    if p_variadic or len(p_args) != len(e_args):
        return False
    return all(map(_compatible, p_args, e_args))


def _callable_fits(p_args: tuple[object, ...], e_args: tuple[object, ...]) -> bool:
    """Compare callables: parameters contravariantly, the return type covariantly."""
    p_params, e_params = p_args[0], e_args[0]
    if isinstance(p_params, list) and isinstance(e_params, list):
        # The consumer will call with its own parameter types, so they must fit ours.
        params_ok = len(p_params) == len(e_params) and all(
            map(_compatible, e_params, p_params)
        )
    elif p_params is Ellipsis or e_params is Ellipsis:
        params_ok = True
    else:
        params_ok = _same(p_params, e_params)
    return params_ok and _compatible(p_args[-1], e_args[-1])
