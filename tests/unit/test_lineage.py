"""Unit tests for lineage trees (spec 04 D54, D55)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hypergraph._checkpoint._lineage import (
    LineageRow,
    LineageView,
    build_lineage,
    lineage_view,
)
from hypergraph._checkpoint._memory import MemoryCheckpointer
from hypergraph._checkpoint._types import (
    Run,
    StepRecord,
    StepStatus,
    WorkflowStatus,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def run(
    run_id: str,
    minute: int,
    *,
    forked_from: str | None = None,
    fork_superstep: int | None = None,
    retry_of: str | None = None,
    retry_index: int | None = None,
    status: WorkflowStatus = WorkflowStatus.COMPLETED,
) -> Run:
    return Run(
        id=run_id,
        status=status,
        graph_name="g",
        forked_from=forked_from,
        fork_superstep=fork_superstep,
        retry_of=retry_of,
        retry_index=retry_index,
        created_at=T0 + timedelta(minutes=minute),
    )


def retry(run_id: str, minute: int, source: str, index: int) -> Run:
    # A retry records both forked_from and retry_of (D28).
    return run(
        run_id,
        minute,
        forked_from=source,
        retry_of=source,
        retry_index=index,
        status=WorkflowStatus.FAILED,
    )


def step(run_id: str, index: int, *, cached=False, failed=False) -> StepRecord:
    return StepRecord(
        run_id=run_id,
        superstep=index,
        node_name=f"n{index}",
        index=index,
        status=StepStatus.FAILED if failed else StepStatus.COMPLETED,
        values=None if failed else {f"v{index}": index},
        cached=cached,
        error="boom" if failed else None,
    )


def lanes(view: LineageView) -> list[tuple[str, str]]:
    return [(row.lane, row.run.id) for row in view]


def test_root_only_has_one_selected_row():
    """A run without family is its own root, drawn with the root glyph."""
    view = lineage_view([run("wf", 0)], "wf", steps_of=None)
    assert list(view) == [LineageRow("● ", view[0].run, 0, True)]
    assert view.selected_run_id == view.root_run_id == "wf"
    assert view.steps_by_run == {}
    assert (
        repr(view) == "Lineage: selected=wf root=wf\n● wf [completed] (root) <selected>"
    )


def test_fork_chain_walks_up_to_the_root_and_marks_the_selected_run():
    """Selecting the tip of a fork chain lists the whole chain from its root."""
    runs = [
        run("a", 0),
        run("b", 1, forked_from="a", fork_superstep=2),
        run("c", 2, forked_from="b"),
    ]
    view = lineage_view(runs, "c", steps_of=None)
    assert view.root_run_id == "a"
    assert [(row.run.id, row.depth, row.is_selected) for row in view] == [
        ("a", 0, False),
        ("b", 1, False),
        ("c", 2, True),
    ]
    assert repr(view).splitlines() == [
        "Lineage: selected=c root=a",
        "● a [completed] (root)",
        "└─ b [completed] (fork) <- a@2",
        "   └─ c [completed] (fork) <- b <selected>",
    ]


def test_retries_are_children_of_their_source_with_retry_kind():
    """Retries hang under the run they retry (not under retry_of's forked_from)."""
    runs = [
        run("wf", 0, status=WorkflowStatus.FAILED),
        retry("wf-retry-1", 1, "wf", 1),
        retry("wf-retry-2", 2, "wf", 2),
    ]
    view = lineage_view(runs, "wf", steps_of=None)
    assert [row.run.retry_index for row in view] == [None, 1, 2]
    assert repr(view).splitlines()[1:] == [
        "● wf [failed] (root) <selected>",
        "├─ wf-retry-1 [failed] (retry) <- wf",
        "└─ wf-retry-2 [failed] (retry) <- wf",
    ]


def test_siblings_are_ordered_by_created_at_with_continuation_bars():
    """Siblings come oldest first; an ancestor with later siblings draws a bar."""
    runs = [
        run("root", 0),
        run("late", 5, forked_from="root"),
        run("early", 1, forked_from="root"),
        run("early-kid", 2, forked_from="early"),
        run("late-kid-1", 6, forked_from="late"),
        run("late-kid-2", 7, forked_from="late"),
        run("grandkid", 3, forked_from="early-kid"),
    ]
    view = lineage_view(runs, "early-kid", steps_of=None)
    assert lanes(view) == [
        ("● ", "root"),
        ("├─ ", "early"),
        ("│  └─ ", "early-kid"),
        ("│     └─ ", "grandkid"),
        ("└─ ", "late"),
        ("   ├─ ", "late-kid-1"),
        ("   └─ ", "late-kid-2"),
    ]
    assert [row.depth for row in view] == [0, 1, 2, 3, 1, 2, 2]


def test_max_runs_cuts_the_depth_first_listing():
    """At most max_runs rows are listed, in depth-first order."""
    runs = [run("r", 0), *(run(f"f{i}", i + 1, forked_from="r") for i in range(5))]
    view = lineage_view(runs, "r", steps_of=None, max_runs=3)
    assert [row.run.id for row in view] == ["r", "f0", "f1"]


def test_unrelated_runs_and_missing_sources_are_handled():
    """A run whose source is gone is a root; unrelated runs stay out."""
    runs = [run("orphan", 1, forked_from="deleted"), run("other", 0)]
    view = lineage_view(runs, "orphan", steps_of=None)
    assert view.root_run_id == "orphan"
    assert repr(view).splitlines()[1] == (
        "● orphan [completed] (fork) <- deleted <selected>"
    )


def test_unknown_workflow_id_raises():
    """An id that is not persisted raises ValueError naming it."""
    with pytest.raises(ValueError, match="Unknown workflow_id: 'nope'"):
        lineage_view([run("wf", 0)], "nope", steps_of=None)


def test_non_positive_max_runs_raises():
    """max_runs below 1 is rejected rather than listing nothing."""
    with pytest.raises(ValueError, match="max_runs"):
        lineage_view([run("wf", 0)], "wf", steps_of=None, max_runs=0)


def test_steps_summary_and_to_dict_are_json_serialisable():
    """With steps, rows show counts and to_dict nests the step dicts."""
    runs = [run("a", 0), run("b", 1, forked_from="a")]
    steps = {
        "a": [step("a", 0), step("a", 1, cached=True), step("a", 2, failed=True)],
        "b": [],
    }
    view = lineage_view(runs, "b", steps_of=steps.__getitem__)
    assert repr(view).splitlines()[1:] == [
        "● a [completed] (root) | steps=3 cached=1 failed=1",
        "└─ b [completed] (fork) <- a | steps=0 cached=0 failed=0 <selected>",
    ]
    data = json.loads(json.dumps(view.to_dict()))
    assert data["selected_run_id"] == "b"
    assert data["root_run_id"] == "a"
    assert [row["lane"] for row in data["rows"]] == ["● ", "└─ "]
    assert data["rows"][0]["run"]["id"] == "a"
    assert data["rows"][0]["steps"][2]["status"] == "failed"
    assert data["rows"][1]["steps"] == []
    assert data["rows"][1]["is_selected"] is True


def test_to_dict_without_steps_has_no_steps_key():
    """Rows carry a steps key only when steps were included."""
    view = lineage_view([run("a", 0)], "a", steps_of=None)
    assert view.to_dict()["rows"] == [
        {"lane": "● ", "depth": 0, "is_selected": True, "run": view[0].run.to_dict()}
    ]


async def test_build_lineage_reads_through_the_async_column():
    """build_lineage lists every run (children included) and fetches steps."""
    cp = MemoryCheckpointer()
    await cp.create_run("src", graph_name="g")
    await cp.save_step(step("src", 0))
    await cp.update_run_status("src", WorkflowStatus.FAILED)
    await cp.create_run("src/inner", parent_run_id="src")
    await cp.create_run("src-retry-1", forked_from="src", retry_of="src", retry_index=1)
    view = await build_lineage(cp, "src-retry-1")
    assert [row.run.id for row in view] == ["src", "src-retry-1"]
    assert set(view.steps_by_run) == {"src", "src-retry-1"}
    assert [s.node_name for s in view.steps_by_run["src"]] == ["n0"]
    plain = await build_lineage(cp, "src", include_steps=False)
    assert plain.steps_by_run == {}
    assert plain[0].is_selected


async def test_checkpointer_get_lineage_matches_the_sync_view():
    """The async and sync lineage readers produce the same rows."""
    cp = MemoryCheckpointer()
    await cp.create_run("a")
    await cp.create_run("b", forked_from="a", fork_superstep=0)
    assert repr(await cp.get_lineage("b")) == repr(cp.lineage("b"))
    with pytest.raises(ValueError, match="Unknown workflow_id: 'zzz'"):
        await cp.get_lineage("zzz")
