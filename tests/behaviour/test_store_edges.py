"""Checkpoint store edge cases: exact id matching, odd paths, encoding, timestamps."""

from __future__ import annotations

import dataclasses

import anyio
import pytest

from hypergraph import (
    AsyncRunner,
    CheckpointSerializationError,
    Graph,
    SqliteCheckpointer,
    SyncRunner,
    node,
)


@node(output_name="y")
def double(x: int) -> int:
    return 2 * x


JOB = Graph([double], name="job")


async def test_deleting_a_batch_keeps_runs_whose_ids_differ_in_case(tmp_path):
    """delete_run('batch') removes batch/<i>, never BATCH/<i> (ids are exact)."""
    store = SqliteCheckpointer(tmp_path / "runs.db")
    runner = AsyncRunner(checkpointer=store)
    await runner.map(JOB, map_over="x", x=[1, 2], workflow_id="batch")
    await runner.map(JOB, map_over="x", x=[3, 4], workflow_id="BATCH")
    await store.delete_run("batch")
    assert sorted(run.id for run in store.runs()) == ["BATCH", "BATCH/0", "BATCH/1"]
    assert store.values("BATCH/1") == {"y": 8}


@pytest.mark.parametrize("folder", ["a#b", "q?r", "p%20s"])
def test_sync_reads_work_when_the_path_has_uri_characters(tmp_path, folder):
    """'#', '?' and '%' in the database path do not hide its runs from reads."""
    store = SqliteCheckpointer(tmp_path / folder / "runs.db")
    with SyncRunner(checkpointer=store) as runner:
        runner.run(JOB, x=3, workflow_id="w")
    assert [run.id for run in store.runs()] == ["w"]
    assert store.values("w") == {"y": 6}


def test_an_input_that_cannot_be_stored_is_named():
    """A run input the serializer rejects raises CheckpointSerializationError."""
    store = SqliteCheckpointer(":memory:")
    with (
        SyncRunner(checkpointer=store) as runner,
        pytest.raises(CheckpointSerializationError, match="input 'x' in run 'w'"),
    ):
        runner.run(JOB, x=object(), workflow_id="w")


async def test_a_fork_whose_values_cannot_be_stored_leaves_the_store_unchanged():
    """Copied steps are encoded before the fork's run row is written (D61)."""
    store = SqliteCheckpointer(":memory:")
    runner = AsyncRunner(checkpointer=store)
    await runner.run(JOB, x=1, workflow_id="src")
    checkpoint = store.checkpoint("src")
    poisoned = dataclasses.replace(
        checkpoint,
        steps=[
            dataclasses.replace(step, values={"y": object()})
            for step in checkpoint.steps
        ],
    )
    with pytest.raises(CheckpointSerializationError, match="output 'y' of node"):
        await runner.run(JOB, checkpoint=poisoned, workflow_id="fork")
    assert await store.get_run_async("fork") is None


async def test_create_run_reports_the_stored_created_at_on_upsert():
    """Upserting an existing run keeps, and returns, its first created_at (D8)."""
    store = SqliteCheckpointer(":memory:")
    first = await store.create_run("w", graph_name="job")
    await anyio.lowlevel.checkpoint()
    again = await store.create_run("w", graph_name="job")
    assert again.created_at == first.created_at
    assert store.get_run("w").created_at == first.created_at
