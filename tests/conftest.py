"""Shared fixtures: the anyio backend and a ``runner`` fixture over both runners.

Behaviour tests are written once as ``async def`` tests and run through both
runners. The SyncRunner case calls the blocking API from a worker thread, the way
a real synchronous caller would, so the test's own event loop is never blocked.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import pytest
from hypothesis import HealthCheck, settings

from hypergraph import AsyncRunner, SyncRunner

if TYPE_CHECKING:
    from collections.abc import Iterator

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    """Run every ``async def`` test on anyio's pytest plugin (no per-test marker)."""
    if inspect.iscoroutinefunction(obj) and collector.funcnamefilter(name):  # type: ignore[attr-defined]
        pytest.mark.anyio(obj)


@pytest.fixture
def anyio_backend() -> str:
    """hypergraph runs on asyncio only (aiosqlite needs it)."""
    return "asyncio"


class RunnerUnderTest:
    """One awaitable interface over AsyncRunner and SyncRunner."""

    def __init__(self, kind: str, **runner_kwargs: Any) -> None:
        self.kind = kind
        self.is_sync = kind == "sync"
        self.runner: AsyncRunner | SyncRunner = (
            SyncRunner(**runner_kwargs)
            if self.is_sync
            else AsyncRunner(**runner_kwargs)
        )

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        bound = getattr(self.runner, method)
        if self.is_sync:
            return await anyio.to_thread.run_sync(
                functools.partial(bound, *args, **kwargs)
            )
        return await bound(*args, **kwargs)

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        """``runner.run(...)``, awaited for either runner."""
        return await self._call("run", *args, **kwargs)

    async def map(self, *args: Any, **kwargs: Any) -> Any:
        """``runner.map(...)``, awaited for either runner."""
        return await self._call("map", *args, **kwargs)

    def close(self) -> None:
        if isinstance(self.runner, SyncRunner):
            self.runner.close()


@pytest.fixture(params=["async", "sync"])
def runner(request: pytest.FixtureRequest) -> Iterator[RunnerUnderTest]:
    """Both runners behind one awaitable interface (``await runner.run(...)``)."""
    under_test = RunnerUnderTest(request.param)
    yield under_test
    under_test.close()
