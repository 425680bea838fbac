"""Warnings attributed to the user's line, however deep in the engine they start.

A fixed ``stacklevel`` cannot be right here: the same check runs under
``AsyncRunner`` (awaited from the user's coroutine), under ``SyncRunner`` (through
the portal, sometimes inside a loop task) and from decorators. Walking out of
hypergraph's and the event loop's own frames finds the caller every time, so
``warnings.filterwarnings(module=...)`` and the printed location both work.
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from pathlib import Path

import anyio

__all__ = ("warn_user",)

_INTERNAL = tuple(
    str(Path(module.__file__).parent)
    for module in (sys.modules["hypergraph"], asyncio, anyio)
    if module.__file__ is not None
)


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the first frame outside hypergraph and the loop."""
    frame = sys._getframe(1)
    level = 2  # 1 would be this function; 2 is its caller
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)
