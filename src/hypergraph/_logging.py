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
    """Whether debug/info events should be emitted (the app configured structlog).

    ``structlog.testing.capture_logs`` marks structlog as configured even after
    it restores the defaults, so a configuration equal to structlog's built-in
    defaults still counts as "not configured".
    """
    if not structlog.is_configured():
        return False
    config = structlog.get_config()
    from structlog import _config

    defaults = getattr(_config, "_BUILTIN_DEFAULT_PROCESSORS", None)
    factory = getattr(_config, "_BUILTIN_DEFAULT_LOGGER_FACTORY", None)
    if defaults is None or factory is None:
        return True
    same_processors = len(config["processors"]) == len(defaults) and all(
        a is b for a, b in zip(config["processors"], defaults, strict=True)
    )
    return not (same_processors and config["logger_factory"] is factory)
