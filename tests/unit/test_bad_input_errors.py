"""Misuse found in review: each gets an error naming the problem and the fix."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest

from hypergraph import (
    AsyncRunner,
    CheckpointPolicy,
    Graph,
    MemoryCheckpointer,
    MissingInputError,
    SqliteCheckpointer,
    SyncRunner,
    node,
)


@node(output_name="y")
def double(x: int) -> int:
    return 2 * x


JOB = Graph([double], name="job")


@pytest.mark.parametrize("runner_class", [SyncRunner, AsyncRunner])
def test_a_checkpointer_passed_as_the_cache_is_refused(runner_class):
    with pytest.raises(TypeError, match=r"checkpointer=\.\.\."):
        runner_class(MemoryCheckpointer())


@pytest.mark.parametrize("runner_class", [SyncRunner, AsyncRunner])
def test_a_path_passed_as_the_checkpointer_suggests_sqlite(runner_class):
    with pytest.raises(TypeError, match=r"SqliteCheckpointer\('runs.db'\)"):
        runner_class(checkpointer="runs.db")


def test_a_non_string_workflow_id_is_refused_with_a_checkpointer():
    with (
        SyncRunner(checkpointer=MemoryCheckpointer()) as runner,
        pytest.raises(ValueError, match=r"non-empty string, got 5 \(int\)"),
    ):
        runner.run(JOB, x=1, workflow_id=5)


def test_checkpoint_must_be_a_checkpoint_and_needs_a_store():
    with (
        SyncRunner() as runner,
        pytest.raises(TypeError, match="must be a Checkpoint"),
    ):
        runner.run(JOB, x=1, checkpoint={"values": {}})
    with (
        SyncRunner() as runner,
        pytest.raises(ValueError, match="needs a checkpointer"),
    ):
        runner.run(JOB, x=1, checkpoint=MemoryCheckpointer().checkpoint("nope"))


def test_sqlite_checkpointer_paths_are_checked(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        SqliteCheckpointer(tmp_path)
    with pytest.raises(TypeError, match="must be a str or Path"):
        SqliteCheckpointer(5)  # type: ignore[arg-type]
    (tmp_path / "file").write_text("")
    store = SqliteCheckpointer(tmp_path / "file" / "runs.db")
    with (
        SyncRunner(checkpointer=store) as runner,
        pytest.raises(ValueError, match="a part of that path is a file"),
    ):
        runner.run(JOB, x=1, workflow_id="w")


def test_ttl_must_be_a_timedelta():
    with pytest.raises(TypeError, match=r"timedelta\(days=7\)"):
        CheckpointPolicy(ttl=5)  # type: ignore[arg-type]
    assert CheckpointPolicy(ttl=timedelta(days=7)).ttl == timedelta(days=7)


def test_graph_of_a_single_node_asks_for_a_list():
    with pytest.raises(TypeError, match=r"Graph\(\[my_node\]\)"):
        Graph(double)  # type: ignore[arg-type]


def test_output_name_must_be_names():
    with pytest.raises(TypeError, match="output_name must be a string"):
        node(output_name=5)(lambda x: x)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("processors", "match"),
    [(5, "must be a list of processors"), ([print], "is not an event processor")],
)
def test_event_processors_are_checked_before_the_run(processors, match):
    with SyncRunner() as runner, pytest.raises(TypeError, match=match):
        runner.run(JOB, x=1, event_processors=processors)


def test_missing_key_of_a_run_result_lists_the_values():
    result = SyncRunner().run(JOB, x=1)
    with pytest.raises(KeyError, match=r"'typo' is not among this run's values"):
        result["typo"]


def test_missing_input_hint_names_what_was_passed():
    with (
        pytest.warns(UserWarning, match="Input 'xx' is not used"),
        pytest.raises(MissingInputError, match="You passed 'xx': did you mean 'x'"),
    ):
        SyncRunner().run(JOB, xx=1)


def test_unused_input_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SyncRunner().run(JOB, x=1, xz=2)
    assert [w.filename for w in caught] == [__file__]
