"""The fork/retry family tree of a persisted run (spec 04 D54) and its text view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, final

from hypergraph._checkpoint._types import Run, StepRecord, StepStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from hypergraph._checkpoint._store import Checkpointer

__all__ = ("LineageRow", "LineageView", "build_lineage", "lineage_view")

_ROOT_LANE = "● "
_BRANCH, _LAST_BRANCH = "├─ ", "└─ "
_CONTINUE, _BLANK = "│  ", "   "


@final
@dataclass(frozen=True)
class LineageRow:
    """One run of a lineage, with the tree glyphs that place it."""

    lane: str
    run: Run
    depth: int
    is_selected: bool


@final
class LineageView(list[LineageRow]):
    """The rows of a lineage, root first, depth-first; its repr draws the tree."""

    def __init__(
        self,
        rows: Iterable[LineageRow] = (),
        *,
        selected_run_id: str,
        root_run_id: str,
        steps_by_run: dict[str, list[StepRecord]] | None = None,
    ) -> None:
        super().__init__(rows)
        self.selected_run_id = selected_run_id
        self.root_run_id = root_run_id
        self.steps_by_run: dict[str, list[StepRecord]] = steps_by_run or {}

    def __repr__(self) -> str:
        header = f"Lineage: selected={self.selected_run_id} root={self.root_run_id}"
        return "\n".join([header, *(self._line(row) for row in self)])

    def _line(self, row: LineageRow) -> str:
        run = row.run
        line = f"{row.lane}{run.id} [{run.status}] ({_kind(run)})"
        source = _source_of(run)
        if source is not None:
            line += f" <- {source}"
            if run.fork_superstep is not None:
                line += f"@{run.fork_superstep}"
        steps = self.steps_by_run.get(run.id)
        if steps is not None:
            cached = sum(step.cached for step in steps)
            failed = sum(step.status is StepStatus.FAILED for step in steps)
            line += f" | steps={len(steps)} cached={cached} failed={failed}"
        if row.is_selected:
            line += " <selected>"
        return line

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (the CLI's ``runs.lineage`` data)."""
        rows: list[dict[str, Any]] = []
        for row in self:
            item: dict[str, Any] = {
                "lane": row.lane,
                "depth": row.depth,
                "is_selected": row.is_selected,
                "run": row.run.to_dict(),
            }
            steps = self.steps_by_run.get(row.run.id)
            if steps is not None:
                item["steps"] = [step.to_dict() for step in steps]
            rows.append(item)
        return {
            "selected_run_id": self.selected_run_id,
            "root_run_id": self.root_run_id,
            "rows": rows,
        }


def _source_of(run: Run) -> str | None:
    # A retry records forked_from == retry_of (D28); retry_of names the parent.
    return run.retry_of if run.retry_of is not None else run.forked_from


def _kind(run: Run) -> str:
    if run.retry_of is not None:
        return "retry"
    return "root" if run.forked_from is None else "fork"


def _tree(runs: list[Run], workflow_id: str, max_runs: int) -> LineageView:
    """The rows of ``workflow_id``'s lineage, without steps."""
    if max_runs < 1:
        raise ValueError(
            f"max_runs must be a positive int, got {max_runs!r}.\n\nHow to fix: "
            "pass max_runs=200 (the default) or another number >= 1."
        )
    by_id = {run.id: run for run in runs}
    if workflow_id not in by_id:
        raise ValueError(
            f"Unknown workflow_id: {workflow_id!r}\n\nHow to fix: list runs with "
            "checkpointer.runs() (or `hypergraph runs ls`) and use one of their ids."
        )
    children: dict[str, list[Run]] = {}
    for run in runs:
        source = _source_of(run)
        if source is not None and source in by_id and source != run.id:
            children.setdefault(source, []).append(run)
    for siblings in children.values():
        siblings.sort(key=lambda run: (run.created_at, run.id))

    root = by_id[workflow_id]
    seen = {root.id}
    # Corrupt data could form a cycle; stop climbing at the first repeat.
    while (parent := _source_of(root)) in by_id and parent not in seen:
        root = by_id[parent]
        seen.add(root.id)

    view = LineageView(selected_run_id=workflow_id, root_run_id=root.id)
    # Iterative depth-first walk: fork chains may be deeper than the recursion limit.
    stack: list[tuple[Run, int, str, str]] = [(root, 0, _ROOT_LANE, "")]
    visited: set[str] = set()
    while stack and len(view) < max_runs:
        run, depth, lane, prefix = stack.pop()
        if run.id in visited:
            continue
        visited.add(run.id)
        view.append(LineageRow(lane, run, depth, run.id == workflow_id))
        kids = children.get(run.id, [])
        for position in range(len(kids) - 1, -1, -1):
            is_last = position == len(kids) - 1
            glyph = _LAST_BRANCH if is_last else _BRANCH
            below = prefix + (_BLANK if is_last else _CONTINUE)
            stack.append((kids[position], depth + 1, prefix + glyph, below))
    return view


def lineage_view(
    runs: list[Run],
    workflow_id: str,
    *,
    steps_of: Callable[[str], list[StepRecord]] | None,
    max_runs: int = 200,
) -> LineageView:
    """The fork/retry family of ``workflow_id`` among ``runs`` (D54).

    Args:
        runs: Every persisted run (any order).
        workflow_id: The selected run.
        steps_of: Reads a run's steps; ``None`` leaves ``steps_by_run`` empty.
        max_runs: The most rows listed.

    Raises:
        ValueError: ``workflow_id`` is not among ``runs``, or ``max_runs < 1``.
    """
    view = _tree(runs, workflow_id, max_runs)
    if steps_of is not None:
        view.steps_by_run = {row.run.id: list(steps_of(row.run.id)) for row in view}
    return view


async def build_lineage(
    checkpointer: Checkpointer,
    workflow_id: str,
    *,
    include_steps: bool = True,
    max_runs: int = 200,
) -> LineageView:
    """:func:`lineage_view` over a checkpointer's async read column.

    Raises:
        ValueError: unknown ``workflow_id``, or ``max_runs < 1``.
    """
    view = _tree(list(await checkpointer.list_runs(limit=None)), workflow_id, max_runs)
    if include_steps:
        for row in view:
            view.steps_by_run[row.run.id] = list(
                await checkpointer.get_steps(row.run.id)
            )
    return view
