"""Small, dependency-free helpers for names: identifier checks, renames, suggestions."""

from __future__ import annotations

import difflib
import keyword
from collections.abc import Iterable, Mapping

from hypergraph.exceptions import RenameError

# A rename event as (kind, old, new); kind is "inputs" or "outputs".
RenameEvent = tuple[str, str, str]


def is_identifier(name: str) -> bool:
    """Return True when ``name`` can be a Python parameter name."""
    return name.isidentifier() and not keyword.iskeyword(name)


def as_name_tuple(value: str | Iterable[str] | None, what: str) -> tuple[str, ...]:
    """Normalise a ``str | tuple[str, ...] | None`` option into a tuple of names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise TypeError(
            f"{what} must be a string or a tuple of strings, got {value!r} of type "
            f"{type(value).__name__}.\n\n"
            f"How to fix: pass {what}='name' or {what}=('a', 'b')."
        )
    names = tuple(value)
    for item in names:
        if not isinstance(item, str):
            raise TypeError(
                f"{what} must be a string or a tuple of strings, got an element "
                f"{item!r} of type {type(item).__name__}.\n\n"
                f"How to fix: pass {what}='name' or {what}=('a', 'b')."
            )
    return names


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def merge_renames(
    mapping: Mapping[str, str] | None, kwargs: Mapping[str, str]
) -> dict[str, str]:
    """Merge the positional dict form and keyword form of a rename call."""
    merged: dict[str, str] = {}
    if mapping is not None:
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"Renames must be given as a dict {{old: new}}, got "
                f"{type(mapping).__name__}.\n\nHow to fix: pass a dict or keywords, "
                "e.g. with_inputs({'x': 'y'}) or with_inputs(x='y')."
            )
        merged.update(mapping)
    merged.update(kwargs)
    for old, new in merged.items():
        if not isinstance(new, str):
            raise TypeError(
                f"The new name for {old!r} must be a string, got {new!r}.\n\n"
                "How to fix: map every old name to a new string name."
            )
    return merged


def _rename_chain(name: str, history: tuple[RenameEvent, ...], kind: str) -> str:
    chain = [name]
    current = name
    for event_kind, old, new in history:
        if event_kind == kind and old == current:
            chain.append(new)
            current = new
    return "→".join(chain)


def apply_renames(
    current: tuple[str, ...],
    renames: Mapping[str, str],
    *,
    kind: str,
    owner: str,
    history: tuple[RenameEvent, ...],
) -> tuple[tuple[str, ...], tuple[RenameEvent, ...]]:
    """Apply ``renames`` simultaneously to ``current``; return names and new history.

    Raises:
        RenameError: a key is not a current name, or the result has duplicates.
    """
    for old in renames:
        if old in current:
            continue
        listing = ", ".join(repr(c) for c in current) or "(none)"
        renamed_before = any(k == kind and o == old for k, o, _ in history)
        if renamed_before:
            chain = _rename_chain(old, history, kind)
            raise RenameError(
                f"Cannot rename {kind[:-1]} {old!r} of {owner}: it was renamed "
                f"earlier ({chain}). Current {kind}: {listing}.\n\n"
                f"How to fix: rename the current name instead, e.g. "
                f"{{{chain.split('→')[-1]!r}: ...}}."
            )
        raise RenameError(
            f"Cannot rename {kind[:-1]} {old!r} of {owner}: not found"
            f"{suggest(old, current)}. Current {kind}: {listing}.\n\n"
            f"How to fix: use one of the current {kind} as the old name."
        )
    renamed = tuple(renames.get(name, name) for name in current)
    seen: set[str] = set()
    for name in renamed:
        if name in seen:
            raise RenameError(
                f"Renaming {kind} of {owner} with {dict(renames)!r} would give "
                f"two {kind} named {name!r}. Resulting {kind}: {renamed!r}.\n\n"
                "How to fix: choose new names that are distinct from each other "
                "and from the names you are not renaming."
            )
        seen.add(name)
    events = tuple((kind, old, new) for old, new in renames.items() if old != new)
    return renamed, history + events
