"""Unit tests for hypergraph._typecheck.is_compatible."""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import (
    Annotated,
    Any,
    ForwardRef,
    Literal,
    NewType,
    Optional,
    ParamSpec,
    Protocol,
    TypeVar,
    Union,
)

import pytest

from hypergraph._typecheck import is_compatible


class Base:
    pass


class Child(Base):
    pass


class Color(enum.Enum):
    RED = 1


class NotRuntimeProtocol(Protocol):
    def run(self) -> None: ...


class _ExplodingMeta(type):
    def __subclasscheck__(cls, subclass: type) -> bool:
        raise RuntimeError("boom")


class Exploding(metaclass=_ExplodingMeta):
    pass


class BadEq:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparing")

    __hash__ = object.__hash__


T = TypeVar("T")
Bounded = TypeVar("Bounded", bound=int)
Constrained = TypeVar("Constrained", int, str)
P = ParamSpec("P")
UserId = NewType("UserId", int)
SENTINEL = object()
# Held in variables so linters do not try to resolve them as forward references.
FOO, BAR = "Foo", "Bar"


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (int, int, True),
        (str, str, True),
        (Base, Base, True),
        (list[int], list[int], True),
        (int, str, False),
        (str, bytes, False),
    ],
)
def test_equal_types(produced: object, expected: object, result: bool) -> None:
    """Identical annotations are compatible and distinct unrelated ones are not."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (int, Any, True),
        (list[int], Any, True),
        (None, Any, True),
        (int | None, Any, True),
        (Any, Any, True),
        (Any, int, False),
        (Any, list[int], False),
        (Any, object, False),
        (Any, int | None, False),
        (Any, int | Any, True),
    ],
)
def test_any(produced: object, expected: object, result: bool) -> None:
    """An expected Any accepts everything while a produced Any only satisfies Any."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (bool, int, True),
        (int, bool, False),
        (Child, Base, True),
        (Base, Child, False),
        (int, object, True),
        (int, float, False),
    ],
)
def test_subclasses(produced: object, expected: object, result: bool) -> None:
    """A subclass satisfies its base class but not the other way round."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (int | str, int | str, True),
        (Union[int, str], int, False),  # noqa: UP007
        (Optional[int], int, False),  # noqa: UP045
        (Optional[int], int | None, True),  # noqa: UP045
        (bool | int, int, True),
        (int | str, object, True),
        (Child | Base, Base, True),
        (int | str, str | int, True),
    ],
)
def test_producer_union(produced: object, expected: object, result: bool) -> None:
    """A produced union is compatible only when every member is."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (int, int | None, True),
        (int | None, int | None, True),
        (int | None, int, False),
        (str, int | None, False),
        (None, Optional[int], True),  # noqa: UP045
        (bool, Union[int, str], True),  # noqa: UP007
        (int | None, int | str | None, True),
        (int | bytes, int | str, False),
    ],
)
def test_consumer_union(produced: object, expected: object, result: bool) -> None:
    """An expected union is satisfied when one of its members is."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (list[int], list[int], True),
        (list[int], list[str], False),
        (list[bool], list[int], True),
        (dict[str, int], dict[str, int], True),
        (dict[str, int], dict[str, str], False),
        (dict[str, bool], Mapping[str, int], True),
        (list, list[int], True),
        (list[int], list, True),
        (typing.Dict, dict[str, int], True),  # noqa: UP006
        (list[int], Sequence[int], True),
        (list[int], Sequence[str], False),
        (Sequence[int], list[int], False),
        (typing.List[int], list[int], True),  # noqa: UP006
        (list[int], typing.List[int], True),  # noqa: UP006
        (list[int], set[int], False),
        (list[list[bool]], list[list[int]], True),
        (list[list[str]], list[list[int]], False),
        (type[bool], type[int], True),
        (type[int], type[bool], False),
        (int, list[int], False),
        (list[int], int, False),
    ],
)
def test_generics(produced: object, expected: object, result: bool) -> None:
    """Generics need compatible origins and pairwise compatible arguments."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (tuple[int, ...], tuple[int, ...], True),
        (tuple[bool, ...], tuple[int, ...], True),
        (tuple[str, ...], tuple[int, ...], False),
        (tuple[int, str], tuple[int, str], True),
        (tuple[bool, str], tuple[int, str], True),
        (tuple[str, int], tuple[int, str], False),
        (tuple[int, str], tuple[int], False),
        (tuple[int], tuple[int, str], False),
        (tuple[int, int], tuple[int, ...], True),
        (tuple[int, str], tuple[int, ...], False),
        (tuple[int, ...], tuple[int], False),
        (tuple, tuple[int], True),
        (tuple[int, str], tuple, True),
        (tuple[int, ...], Sequence[int], True),
        (tuple[int, str], Sequence[int | str], True),
        (tuple[int, str], Sequence[int], False),
    ],
)
def test_tuples(produced: object, expected: object, result: bool) -> None:
    """Fixed tuples compare element-wise and variadic ones by their element type."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (Annotated[int, "meta"], int, True),
        (int, Annotated[int, "meta"], True),
        (Annotated[bool, "a"], Annotated[int, "b"], True),
        (Annotated[str, "meta"], int, False),
        (list[Annotated[int, "meta"]], list[int], True),
        (Annotated[int | None, "meta"], int, False),
    ],
)
def test_annotated(produced: object, expected: object, result: bool) -> None:
    """Annotated metadata is ignored on both sides."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (int, T, True),
        (list[str], T, True),
        (T, int, True),
        (T, list[int], True),
        (bool, Bounded, True),
        (int, Bounded, True),
        (str, Bounded, False),
        (int | None, Bounded, False),
        (int, Constrained, True),
        (str, Constrained, True),
        (bool, Constrained, True),
        (bytes, Constrained, False),
        (int | str, Constrained, False),
        (list[T], list[int], True),
        (list[int], list[T], True),
        (Bounded, int, True),
        (Bounded, str, False),
        (Constrained, int | str, True),
        (Constrained, int, False),
        (Any, T, True),
    ],
)
def test_typevars(produced: object, expected: object, result: bool) -> None:
    """TypeVars are checked against their bound or constraints, else accept anything."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (None, type(None), True),
        (type(None), None, True),
        (None, None, True),
        (None, int, False),
        (int, None, False),
        (None, Optional[str], True),  # noqa: UP045
        (type(None), int | None, True),
        (list[None], list[type(None)], True),
    ],
)
def test_none(produced: object, expected: object, result: bool) -> None:
    """None and type(None) are interchangeable."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (Literal[1], int, True),
        (Literal[1, 2], int, True),
        (Literal["a"], int, False),
        (Literal[1, "a"], int, False),
        (Literal[1, "a"], int | str, True),
        (Literal[True], int, True),
        (Literal[Color.RED], Color, True),
        (Literal[None], None, True),
        (Literal["a"], Literal["a"], True),
        (Literal["a"], Literal["a", "b"], True),
        (Literal["a", "b"], Literal["a", "b", "c"], True),
        (Literal["a", "b"], Literal["a"], False),
        (Literal[1], Literal[True], False),
        (Literal["a"], list[str], False),
        (int, Literal[1], False),
    ],
)
def test_literals(produced: object, expected: object, result: bool) -> None:
    """A produced Literal fits when every value is an instance or allowed literal."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        ("Foo", "Foo", True),
        ("Foo", "Bar", False),
        ("Foo", int, True),
        (int, "Foo", True),
        (list[FOO], list[FOO], True),
        (list[FOO], list[BAR], False),
        (typing.List[FOO], list[FOO], True),  # noqa: UP006
        (ForwardRef("Foo"), "Foo", True),
        (ForwardRef("Foo"), ForwardRef("Bar"), False),
        (Any, "Foo", False),
    ],
)
def test_forward_reference_strings(
    produced: object, expected: object, result: bool
) -> None:
    """Unresolved string annotations are rejected only when both are unequal strings."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (Callable[[int], bool], Callable[[bool], int], True),
        (Callable[[bool], int], Callable[[int], int], False),
        (Callable[[int], str], Callable[[int], int], False),
        (Callable[[int], int], Callable[[int, int], int], False),
        (Callable[..., int], Callable[[str], int], True),
        (Callable[[str], int], Callable[..., int], True),
        (Callable[P, int], Callable[P, int], True),
        (UserId, int, True),
        (UserId, UserId, True),
        (int, UserId, False),
    ],
)
def test_callables_and_newtypes(
    produced: object, expected: object, result: bool
) -> None:
    """Callables compare parameters contravariantly and NewTypes act as their base."""
    assert is_compatible(produced, expected) is result


@pytest.mark.parametrize(
    ("produced", "expected", "result"),
    [
        (5, int, False),
        (int, 5, False),
        (5, 5, True),
        (SENTINEL, SENTINEL, True),
        (SENTINEL, object(), False),
        (P, P, True),
        (P, int, False),
        (int, NotRuntimeProtocol, False),
        (NotRuntimeProtocol, NotRuntimeProtocol, True),
        (int, Exploding, False),
        (Exploding, Exploding, True),
        (BadEq(), int, False),
        (int, BadEq(), False),
    ],
)
def test_unexpected_forms_never_raise(
    produced: object, expected: object, result: bool
) -> None:
    """Unexpected annotation forms fall back to equality instead of raising."""
    assert is_compatible(produced, expected) is result
