"""The durable-run harness shared by the durability test suites.

``Durable`` puts a runner and its checkpointer behind one awaitable interface; the
SyncRunner is driven from a worker thread, as in ``tests/conftest.py``. The
fixtures that build it live in ``tests/behaviour/conftest.py``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import pytest

from hypergraph import AsyncRunner, SyncRunner
from hypergraph.checkpointers import MemoryCheckpointer, SqliteCheckpointer

if TYPE_CHECKING:
    from pathlib import Path

# Tests whose rule does not depend on the runner or store run on one combination;
# the two marks cover the combinations the default ``durable`` pair leaves out.
SYNC_SQLITE = pytest.mark.parametrize("durable", ["sync-sqlite"], indirect=True)
ASYNC_MEMORY = pytest.mark.parametrize("durable", ["async-memory"], indirect=True)


def make_checkpointer(store: str, tmp_path: Path, **kwargs: Any) -> Any:
    """A SQLite checkpointer in ``tmp_path`` or a MemoryCheckpointer."""
    if store == "sqlite":
        return SqliteCheckpointer(tmp_path / "runs.db", **kwargs)
    return MemoryCheckpointer(**kwargs)


class Durable:
    """A runner with a checkpointer behind one awaitable interface."""

    def __init__(self, runner_kind: str, checkpointer: Any) -> None:
        self.kind = runner_kind
        self.is_sync = runner_kind == "sync"
        self.cp = checkpointer
        self.runner: AsyncRunner | SyncRunner = (
            SyncRunner(checkpointer=checkpointer)
            if self.is_sync
            else AsyncRunner(checkpointer=checkpointer)
        )

    @classmethod
    def from_param(cls, param: str, tmp_path: Path) -> Durable:
        """From a pair such as ``"sync-sqlite"``: runner kind, then store kind."""
        runner_kind, store = param.split("-")
        return cls(runner_kind, make_checkpointer(store, tmp_path))

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

    async def map_iter(self, *args: Any, **kwargs: Any) -> list[tuple[int, Any]]:
        """Every ``(index, RunResult)`` pair of one ``map_iter`` call, as yielded."""
        if isinstance(self.runner, SyncRunner):
            sync = self.runner

            def consume() -> list[tuple[int, Any]]:
                with sync.map_iter(*args, **kwargs) as stream:
                    return list(stream)

            return await anyio.to_thread.run_sync(consume)
        async with self.runner.map_iter(*args, **kwargs) as stream:
            return [pair async for pair in stream]

    def close(self) -> None:
        if isinstance(self.runner, SyncRunner):
            self.runner.close()
