"""Fixtures of the durability suites: each runner over each checkpointer kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from durable_harness import Durable

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(params=["async-sqlite", "sync-memory"])
def durable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Durable]:
    """Two runner x store combinations (each runner and each store once)."""
    under_test = Durable.from_param(request.param, tmp_path)
    yield under_test
    under_test.close()


@pytest.fixture(params=["async-sqlite", "async-memory", "sync-sqlite", "sync-memory"])
def durable_all(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Durable]:
    """Every runner x store combination, for the core rules."""
    under_test = Durable.from_param(request.param, tmp_path)
    yield under_test
    under_test.close()


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest) -> Any:
    """Each checkpointer kind (for AsyncRunner-only tests)."""
    return request.param
