"""Structured logs of runs and nodes: names, types and sizes, never values (D-5)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sized
from typing import TYPE_CHECKING, Any

from hypergraph._logging import get_logger, verbose

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

__all__ = ("call_logger", "describe")

_DEBUG = 10  # structlog's numeric level for debug (the stdlib's value)


def call_logger() -> tuple[FilteringBoundLogger | None, bool]:
    """The engine's logger for one call, and whether per-node debug lines are on.

    None when the application has not configured structlog (see ``_logging``).
    """
    if not verbose():
        return None, False
    logger = get_logger("hypergraph.engine").bind()
    check = getattr(logger, "is_enabled_for", None) or getattr(
        logger, "isEnabledFor", None
    )
    debug = True if check is None else bool(check(_DEBUG))
    return logger, debug


def describe(values: Mapping[str, Any]) -> dict[str, str]:
    """``{"docs": "list[3]", "query": "str[12]", "k": "int"}``: shapes, not contents."""
    out = {}
    for name, value in values.items():
        kind = type(value).__name__
        if isinstance(value, Sized) and not isinstance(value, type):
            with contextlib.suppress(TypeError):  # a Sized whose __len__ refuses
                kind = f"{kind}[{len(value)}]"
        out[name] = kind
    return out
