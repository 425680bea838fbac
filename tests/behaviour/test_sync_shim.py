"""The sync shim: one reused event loop, notebook-style callers, and no deadlocks."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import anyio
import anyio.lowlevel
import pytest

from hypergraph import Graph, IncompatibleRunnerError, SyncRunner, node

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


@node(output_name="loop_id")
async def which_loop(x: int) -> int:
    await asyncio.sleep(0)
    return id(asyncio.get_running_loop())


@node(output_name="thread")
def which_thread(x: int) -> int:
    return threading.get_ident()


def test_event_loop_is_reused_across_calls():
    """Every call of one SyncRunner on one thread runs on the same event loop."""
    with SyncRunner() as runner:
        graph = Graph([which_loop])
        first = runner.run(graph, x=1)["loop_id"]
        second = runner.run(graph, x=2)["loop_id"]
        batch = runner.map(graph, map_over="x", x=[1, 2, 3], max_concurrency=2)
    assert first == second
    assert set(batch["loop_id"]) == {first}


def test_sync_nodes_run_on_the_callers_thread():
    """Without blocking=True a sync node runs inline on the calling thread (D-3)."""
    with SyncRunner() as runner:
        result = runner.run(Graph([which_thread]), x=1)
    assert result["thread"] == threading.get_ident()


def test_sync_node_sees_a_running_loop():
    """Code inside a sync node can ask for the running loop, as on AsyncRunner."""

    @node(output_name="has_loop")
    def probe(x: int) -> bool:
        return asyncio.get_running_loop() is not None

    with SyncRunner() as runner:
        assert runner.run(Graph([probe]), x=1)["has_loop"] is True


def test_works_when_the_calling_thread_already_runs_a_loop():
    """Inside a running loop (a notebook cell) SyncRunner blocks on a private loop."""
    runner = SyncRunner()
    graph = Graph([which_loop])

    async def notebook_cell() -> tuple[int, int, list[int]]:
        notebook_loop = id(asyncio.get_running_loop())
        single = runner.run(graph, x=1)["loop_id"]
        batch = runner.map(graph, map_over="x", x=[1, 2], max_concurrency=2)
        return notebook_loop, single, batch["loop_id"]

    notebook_loop, single, batch = asyncio.run(notebook_cell())
    runner.close()
    assert single != notebook_loop
    assert batch == [single, single]


def test_calling_syncrunner_from_an_inline_node_raises():
    """A SyncRunner call from a node on the engine's loop would deadlock: it raises."""
    runner = SyncRunner()
    inner = Graph([which_thread])

    @node(output_name="nested")
    def nested(x: int) -> int:
        return runner.run(inner, x=x)["thread"]

    with pytest.raises(IncompatibleRunnerError, match="await AsyncRunner"):
        runner.run(Graph([nested]), x=1)
    runner.close()


def test_calling_syncrunner_from_a_blocking_node_is_allowed():
    """A blocking=True node runs in a worker thread, where SyncRunner may be called."""
    runner = SyncRunner()
    inner = Graph([which_thread])

    @node(output_name="nested", blocking=True)
    def nested(x: int) -> int:
        return runner.run(inner, x=x)["thread"]

    result = runner.run(Graph([nested]), x=1)
    runner.close()
    assert result["nested"] != threading.get_ident()


def test_context_variables_set_by_nodes_do_not_leak_to_the_caller():
    """Each call runs in a copy of the caller's context, like a task would."""

    @node(output_name="inside")
    def setter(x: int) -> str:
        seen.set("changed")
        return seen.get()

    with SyncRunner() as runner:
        result = runner.run(Graph([setter]), x=1)
    assert result["inside"] == "changed"
    assert seen.get() == "unset"


def test_keyboard_interrupt_propagates_after_siblings_unwind():
    """Ctrl-C from a node reaches the caller unchanged; in-flight siblings clean up."""
    cleaned = threading.Event()

    @node(output_name="slow")
    async def slow(x: int) -> int:
        try:
            await anyio.sleep_forever()
        finally:
            cleaned.set()
        return x  # pragma: no cover - never reached

    @node(output_name="boom")
    async def interrupt_it(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        raise KeyboardInterrupt

    with SyncRunner() as runner, pytest.raises(KeyboardInterrupt):
        runner.run(Graph([slow, interrupt_it]), x=1, max_concurrency=2)
    assert cleaned.is_set()
