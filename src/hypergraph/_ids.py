"""Run ids, span ids and child workflow ids: formatted here and nowhere else."""

from __future__ import annotations

import random
from datetime import UTC, datetime

__all__ = (
    "child_workflow_id",
    "new_run_id",
    "new_span_prefix",
    "new_workflow_id",
)

# Module-level Random instance: cheap ids that are not secrets. `random` reseeds its
# global generator after fork, but our own instance would not, so use the global one.
_bits = random.getrandbits


def new_run_id() -> str:
    """A fresh run id: ``"run-"`` + 12 lowercase hex characters."""
    return f"run-{_bits(48):012x}"


def new_span_prefix() -> str:
    """Eight random hex characters; span ids are this prefix plus a counter."""
    return f"{_bits(32):08x}"


def span_id(prefix: str, counter: int) -> str:
    """A 16-hex span id made of a per-call prefix and a per-call counter."""
    return f"{prefix}{counter:08x}"


def new_workflow_id() -> str:
    """An auto-generated workflow id: ``run-YYYYMMDD-<6 hex>`` (UTC date)."""
    return f"run-{datetime.now(UTC):%Y%m%d}-{_bits(24):06x}"


def child_workflow_id(parent: str, index: int) -> str:
    """The id of item ``index`` of batch ``parent``: ``"<parent>/<index>"``."""
    return f"{parent}/{index}"
