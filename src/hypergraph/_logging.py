"""hypergraph's structlog loggers and log event names; never configures structlog.

Debug and info events are emitted only when the application has configured
structlog (``structlog.is_configured()``): an unconfigured structlog prints
everything to stdout, and a library must not fill a user's terminal with
per-run lines they did not ask for. Warnings and errors are always emitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import structlog

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger

__all__ = (
    "BATCH_FINISHED",
    "BATCH_STARTED",
    "PROCESSOR_FAILED",
    "RUN_FINISHED",
    "RUN_STARTED",
    "get_logger",
    "verbose",
)

RUN_STARTED: Final = "run_started"
RUN_FINISHED: Final = "run_finished"
BATCH_STARTED: Final = "batch_started"
BATCH_FINISHED: Final = "batch_finished"
PROCESSOR_FAILED: Final = "event_processor.failed"
CHECKPOINT_SAVE_FAILED: Final = "checkpoint.save_failed"


def get_logger(name: str, **bound: Any) -> FilteringBoundLogger:
    """A structlog logger named ``name`` (e.g. ``hypergraph.engine``)."""
    logger: FilteringBoundLogger = structlog.get_logger(name, **bound)
    return logger


def verbose() -> bool:
    """Whether debug/info events should be emitted (the app configured structlog)."""
    return structlog.is_configured()
