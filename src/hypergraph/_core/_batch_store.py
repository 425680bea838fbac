"""Persisted batches: restore finished items by signature, place the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypergraph._checkpoint._types import Run, WorkflowStatus
from hypergraph._core._lineage import item_signature, run_config, struct_hash
from hypergraph._core._recorder import Recorder
from hypergraph._ids import child_workflow_id
from hypergraph.exceptions import GraphChangedError
from hypergraph.results import RunResult, RunStatus

if TYPE_CHECKING:
    from hypergraph._checkpoint._store import Checkpointer, Session
    from hypergraph._core._batch import ItemSource
    from hypergraph._graph import Graph
    from hypergraph._plan import Plan

__all__ = ("BatchStore", "plan_batch")


def _index_of(batch_id: str, child_id: str) -> int | None:
    tail = child_id[len(batch_id) + 1 :]
    return int(tail) if tail.isdigit() else None


@dataclass
class BatchStore:
    """What a persisted batch restores and where each executed item is written."""

    checkpointer: Checkpointer
    session: Session
    batch_id: str
    graph: Graph
    plan: Plan
    signatures: list[str]
    restored: dict[int, RunResult] = field(default_factory=dict)
    child_ids: dict[int, str] = field(default_factory=dict)
    existing: set[str] = field(default_factory=set)
    failed: int = 0
    paused: int = 0

    @property
    def todo(self) -> list[int]:
        """Item indices that must execute, in order."""
        return [i for i in range(len(self.signatures)) if i not in self.restored]

    def start_item(self, index: int, inputs: dict[str, Any]) -> Recorder:
        """Queue the child run of item ``index`` and return its recorder."""
        child = self.child_ids[index]
        if child in self.existing:
            self.session.queue_reset(child)  # a re-run replaces the old child (D35.4)
        self.session.queue_create(
            child,
            graph_name=self.plan.name,
            parent_run_id=self.batch_id,
            config=run_config(
                self.graph, kind="run", map_item_signature=self.signatures[index]
            ),
            inputs=dict(inputs),  # the run mutates its inputs dict as its state
        )
        return Recorder(
            self.session,
            self.checkpointer,
            child,
            is_item=True,
            resumed=child in self.existing,
        )

    def note(self, result: RunResult) -> None:
        """Count an executed item's outcome for the parent's end status."""
        if result.status is RunStatus.FAILED:
            self.failed += 1
        elif result.status is RunStatus.PAUSED:
            self.paused += 1

    async def finish(self, duration_ms: float, *, raised: bool) -> None:
        """The parent's end status (D32), committed with everything before it."""
        if raised or self.failed:
            status = WorkflowStatus.FAILED
        elif self.paused:
            status = WorkflowStatus.PAUSED
        else:
            status = WorkflowStatus.COMPLETED
        await self.session.update_run(
            self.batch_id,
            status,
            duration_ms=round(duration_ms, 3),
            node_count=len(self.signatures),
            error_count=self.failed,
        )


def _claim(
    completed: dict[str, list[tuple[int, Run]]],
    claimed: set[str],
    batch_id: str,
    index: int,
    signature: str,
) -> Run | None:
    """An unclaimed COMPLETED child with this signature: prefer B/<index> (D35.2)."""
    candidates = [
        run for _, run in completed.get(signature, []) if run.id not in claimed
    ]
    if not candidates:
        return None
    preferred = child_workflow_id(batch_id, index)
    for run in candidates:
        if run.id == preferred:
            return run
    return candidates[0]


async def plan_batch(
    checkpointer: Checkpointer,
    session: Session,
    graph: Graph,
    plan: Plan,
    source: ItemSource,
    *,
    batch_id: str,
    map_over: list[str],
    map_mode: str,
) -> BatchStore:
    """Check the stored batch, restore matching items, and assign child ids.

    Raises:
        ValueError: ``batch_id`` names a plain run, not a batch.
        GraphChangedError: the batch was stored for a differently shaped graph.
    """
    existing = await checkpointer.get_run_async(batch_id)
    if existing is not None:
        config = existing.config or {}
        if config.get("kind") == "run":
            raise ValueError(
                f"workflow {batch_id!r} is not a batch (it is a single run).\n\nHow to "
                "fix: use another workflow_id for the batch."
            )
        if config.get("graph_struct_hash") not in (None, struct_hash(graph)):
            raise GraphChangedError(batch_id, batch=True)
    count = source.count
    signatures = [
        item_signature(source.inputs(i), map_over, map_mode) for i in range(count)
    ]
    store = BatchStore(checkpointer, session, batch_id, graph, plan, signatures)
    children = (
        list(await checkpointer.list_runs(parent_run_id=batch_id, limit=None))
        if existing is not None
        else []
    )
    store.existing = {run.id for run in children}
    completed: dict[str, list[tuple[int, Run]]] = {}
    for run in children:
        signature = (run.config or {}).get("map_item_signature")
        position = _index_of(batch_id, run.id)
        if run.status is WorkflowStatus.COMPLETED and position is not None:
            key = signature if signature is not None else f"#legacy{position}"
            completed.setdefault(key, []).append((position, run))
    for runs in completed.values():
        runs.sort(key=lambda pair: pair[0])
    claimed: dict[int, Run] = {}
    taken: set[str] = set()  # ids already claimed (one set: O(N), not O(N^2))
    for index, signature in enumerate(signatures):
        found = _claim(completed, taken, batch_id, index, signature) or _claim(
            completed, taken, batch_id, index, f"#legacy{index}"
        )
        if found is not None:
            claimed[index] = found
            taken.add(found.id)
    # One read for every restored child's state: re-running a finished batch of
    # any size costs one query, not one per item (D-9).
    states = await checkpointer.child_states(batch_id)
    names = plan.result_names
    for index, run in claimed.items():
        state = states.get(run.id, {})
        values = {name: state[name] for name in names if name in state}
        store.restored[index] = RunResult(
            values, RunStatus.COMPLETED, run.id, run.id, None, None, None
        )
    _assign_children(store, {run.id for run in claimed.values()}, count)
    return store


def _assign_children(store: BatchStore, claimed: set[str], count: int) -> None:
    """Executed items use B/<i>, or the smallest unused B/<k>, k >= N (D35.4)."""
    batch_id = store.batch_id
    used = set(claimed)
    spare = count
    for index in store.todo:
        child = child_workflow_id(batch_id, index)
        if child in claimed:
            while child_workflow_id(batch_id, spare) in used:
                spare += 1
            child = child_workflow_id(batch_id, spare)
            spare += 1
        used.add(child)
        store.child_ids[index] = child
