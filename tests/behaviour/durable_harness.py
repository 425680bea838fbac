"""The durable-run harness shared by the durability test suites.

``Durable`` puts a runner and its checkpointer behind one awaitable interface; the
SyncRunner is driven from a worker thread, as in ``tests/conftest.py``. The
fixtures that build it live in ``tests/behaviour/conftest.py``. The module also
holds the helpers the suites share: the ``Switch``-driven ``chain`` graph, a
comparable ``snapshot`` of a store and ``settle`` for SQLite worker threads.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import pytest

from hypergraph import AsyncRunner, Graph, SyncRunner, node
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


class Boom(Exception):
    """A node's own failure."""


class Switch:
    """Counts node executions and makes the listed nodes raise ``Boom``."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)
        self.calls: list[str] = []

    def hit(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise Boom(f"{name} failed")

    def count(self, name: str) -> int:
        return self.calls.count(name)

    def reset(self) -> None:
        self.calls.clear()


def chain(sw: Switch, *, name: str = "chain") -> Graph:
    """first(x) -> y, second(y) -> z, third(z) -> w; x=1 gives y=2, z=20, w=23."""

    @node(output_name="y")
    def first(x: int) -> int:
        sw.hit("first")
        return x + 1

    @node(output_name="z")
    def second(y: int) -> int:
        sw.hit("second")
        return y * 10

    @node(output_name="w")
    def third(z: int) -> int:
        sw.hit("third")
        return z + 3

    return Graph([first, second, third], name=name)


def snapshot(cp: Any) -> tuple[Any, ...]:
    """Every run, step and input of a store, comparable with ``==``."""
    runs = sorted((r.to_dict() for r in cp.runs(limit=None)), key=lambda d: d["id"])
    steps = {r["id"]: [s.to_dict() for s in cp.steps(r["id"])] for r in runs}
    inputs = {r["id"]: cp.inputs(r["id"]) for r in runs}
    return runs, steps, inputs


async def settle(before: set[threading.Thread]) -> None:
    """Wait for SQLite threads started since ``before`` (keeps other tests clean)."""
    for thread in set(threading.enumerate()) - before:
        if thread.name.endswith("(_connection_worker_thread)"):
            await anyio.to_thread.run_sync(thread.join, 5)
