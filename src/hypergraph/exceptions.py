"""Every exception class hypergraph defines, under one root: ``HypergraphError``.

A node's own exception is never wrapped in one of these; it reaches the caller as
the original object. These classes are for mistakes in how hypergraph is used.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = (
    "GraphConfigError",
    "HypergraphError",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "MissingInputError",
    "RenameError",
)


class HypergraphError(Exception):
    """Root of every error hypergraph raises about its own use.

    ``except HypergraphError`` catches all of them and none of a node's own
    exceptions.
    """


class GraphConfigError(HypergraphError):
    """A graph (or a node inside it) is configured in a way that cannot run."""


class RenameError(HypergraphError):
    """A rename names something that does not exist, or would create a clash."""


class IncompatibleRunnerError(HypergraphError):
    """The runner cannot execute this graph from here."""


class InfiniteLoopError(HypergraphError):
    """Nodes were still ready after ``max_iterations`` supersteps."""

    def __init__(self, max_iterations: int) -> None:
        self.max_iterations = max_iterations
        super().__init__(
            f"Graph execution exceeded {max_iterations} iterations: nodes were "
            f"still ready to run after {max_iterations} supersteps.\n\n"
            "How to fix: make the loop reach END (or stop changing its values), "
            "or pass a larger max_iterations=... to run() if the loop is meant "
            "to be that long."
        )


class MissingInputError(HypergraphError):
    """Required graph inputs were not supplied, bound, or defaulted."""

    def __init__(
        self,
        missing: Iterable[str],
        provided: Iterable[str] = (),
        *,
        message: str | None = None,
    ) -> None:
        self.missing = sorted(missing)
        self.provided = list(provided)
        super().__init__(message or self._describe())

    def _describe(self) -> str:
        names = ", ".join(repr(m) for m in self.missing)
        lines = [f"Missing required inputs: {names}"]
        for name in self.missing:
            close = difflib.get_close_matches(name, self.provided, n=1)
            if close:
                lines.append(f"  Did you mean {close[0]!r} instead of {name!r}?")
        provided = ", ".join(repr(p) for p in self.provided) or "(none)"
        lines.append(f"Provided: {provided}")
        lines.append(
            "\nHow to fix: pass the missing values to run()/map() (as values={...} "
            "or keyword arguments), or bind them with graph = graph.bind(...). "
            "Note that bind() returns a new graph; it does not change the old one."
        )
        return "\n".join(lines)
