"""Decide, before anything runs, what a persisted run continues from (spec 04 D20-D29).

Every check here happens before any event is emitted or anything is written, so
a rejected call leaves the store unchanged (D61).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypergraph._checkpoint._reads import fork_id, next_retry_index, unknown_source
from hypergraph._checkpoint._types import Checkpoint, StepRecord, WorkflowStatus
from hypergraph._gates import END, GateNode, RouteNode
from hypergraph._graph_node import GraphNode
from hypergraph._ids import new_workflow_id
from hypergraph.exceptions import (
    GraphChangedError,
    InputOverrideRequiresForkError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)

if TYPE_CHECKING:
    from hypergraph._checkpoint._store import Checkpointer
    from hypergraph._core._calls import RunRequest
    from hypergraph._graph import Graph
    from hypergraph._plan import Plan

__all__ = ("Lineage", "decide_lineage", "item_signature", "struct_hash")


def _structure(graph: Graph) -> list[dict[str, Any]]:
    entries = []
    for name in sorted(graph.nodes):
        node = graph.nodes[name]
        entry: dict[str, Any] = {
            "class": type(node).__name__,
            "name": name,
            "inputs": list(node.inputs),
            "outputs": list(node.outputs),
            "wait_for": list(node.wait_for),
        }
        if isinstance(node, GateNode):
            entry["targets"] = [str(t) for t in node.targets]
            entry["fallback"] = None if node.fallback is None else str(node.fallback)
            entry["multi_target"] = isinstance(node, RouteNode) and node.multi_target
        if isinstance(node, GraphNode):
            entry["graph"] = struct_hash(node.graph)
            mapping = node.mapping
            if mapping is not None:
                entry["map"] = [
                    list(mapping.params),
                    mapping.mode,
                    mapping.error_handling,
                    mapping.clone
                    if isinstance(mapping.clone, bool)
                    else list(mapping.clone),
                ]
        entries.append(entry)
    return entries


def struct_hash(graph: Graph) -> str:
    """The structural hash of D24: shape only (no bodies, bindings or node order)."""
    cached: str | None = getattr(graph, "_struct_hash", None)
    if cached is None:
        text = json.dumps(_structure(graph), sort_keys=True, separators=(",", ":"))
        cached = hashlib.sha256(text.encode()).hexdigest()
        graph._struct_hash = cached  # type: ignore[attr-defined]  # cache on the immutable graph
    return cached


def _normalise(value: Any) -> Any:
    """D31 normalisation: JSON scalars kept, containers recursed, the rest by repr."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [_normalise(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return {"__type__": type(value).__name__, "__repr__": repr(value)}


def canonical(value: Any) -> str:
    """Compact, key-sorted, ASCII JSON of the normalised value."""
    return json.dumps(
        _normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )


def item_signature(inputs: dict[str, Any], map_over: list[str], map_mode: str) -> str:
    """The first 16 hex chars of SHA-256 over an item's canonical inputs (D31)."""
    text = canonical({"inputs": inputs, "map_mode": map_mode, "map_over": map_over})
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


def run_config(graph: Graph, **extra: Any) -> dict[str, Any]:
    """The ``config`` persisted with a run (D2)."""
    return {
        "graph_struct_hash": struct_hash(graph),
        "graph_code_hash": graph.definition_hash,
        **extra,
    }


@dataclass
class Lineage:
    """Where a persisted run starts from, decided before it starts."""

    workflow_id: str
    inputs: dict[str, Any]  # what this attempt runs with (persisted with the run)
    restore: list[StepRecord] = field(default_factory=list)
    copied: list[StepRecord] = field(default_factory=list)  # fork: source steps (D27)
    overrides: set[str] = field(default_factory=set)  # fork: runtime values that win
    fields: dict[str, Any] = field(default_factory=dict)  # lineage columns of the run
    config: dict[str, Any] = field(default_factory=dict)  # a resumed run's config
    resumed: bool = False  # an existing run continues in place (strict resume)
    superstep_offset: int = 0
    next_index: int = 0

    @property
    def resumes(self) -> bool:
        """Whether stored steps are replayed before running."""
        return bool(self.restore)


def _offsets(steps: list[StepRecord]) -> tuple[int, int]:
    if not steps:
        return 0, 0
    return max(s.superstep for s in steps) + 1, max(s.index for s in steps) + 1


async def _fork(
    checkpointer: Checkpointer,
    checkpoint: Checkpoint,
    target: str,
    values: dict[str, Any],
    source_inputs: dict[str, Any],
    fields: dict[str, Any],
) -> Lineage:
    copied = [
        StepRecord(**{**_as_kwargs(step), "run_id": target})
        for step in checkpoint.steps
    ]
    step_offset, index_offset = _offsets(copied)
    return Lineage(
        workflow_id=target,
        inputs={**source_inputs, **values},
        restore=copied,
        copied=copied,
        overrides=set(values),
        fields=fields,
        superstep_offset=step_offset,
        next_index=index_offset,
    )


def _as_kwargs(step: StepRecord) -> dict[str, Any]:
    return {name: getattr(step, name) for name in step.__dataclass_fields__}


def _is_new_input(plan: Plan, values: dict[str, Any], stored: dict[str, Any]) -> bool:
    """D23.2: runtime values other than interrupt answers or the stored inputs."""
    if not values:
        return False
    if all(key in plan.response_keys for key in values):
        return False
    return canonical(values) != canonical(stored)


async def decide_lineage(
    checkpointer: Checkpointer,
    graph: Graph,
    plan: Plan,
    request: RunRequest,
    values: dict[str, Any],
) -> Lineage:
    """Apply D22-D29 and return what this run starts from.

    Raises:
        ValueError: conflicting fork arguments or an unknown source.
        WorkflowForkError: a fork targets an existing workflow.
        GraphChangedError, InputOverrideRequiresForkError,
        WorkflowAlreadyCompletedError: strict resume refused (D23).
    """
    if request.fork_from and request.retry_from:
        raise ValueError(
            "Pass fork_from or retry_from, not both.\n\nHow to fix: retry_from is a "
            "fork that also records retry lineage; choose one."
        )
    if request.checkpoint is not None and (request.fork_from or request.retry_from):
        raise ValueError(
            "checkpoint=... cannot be combined with fork_from/retry_from.\n\nHow to "
            "fix: pass either a checkpoint or a source workflow id."
        )
    source = request.retry_from or request.fork_from
    if source is not None:
        return await _fork_from_source(checkpointer, request, values, source)
    if request.checkpoint is not None:
        return await _fork_from_checkpoint(checkpointer, request, values)
    workflow_id = request.workflow_id or new_workflow_id()
    existing = await checkpointer.get_run_async(workflow_id)
    if existing is None:
        return Lineage(workflow_id=workflow_id, inputs=values)
    if request.override_workflow:
        target = fork_id(workflow_id, None)
        checkpoint = await checkpointer.get_checkpoint(workflow_id)
        stored = await checkpointer.get_inputs(workflow_id)
        return await _fork(
            checkpointer,
            checkpoint,
            target,
            values,
            stored,
            {"forked_from": workflow_id},
        )
    return await _resume(checkpointer, graph, plan, workflow_id, existing, values)


async def _resume(
    checkpointer: Checkpointer,
    graph: Graph,
    plan: Plan,
    workflow_id: str,
    existing: Any,
    values: dict[str, Any],
) -> Lineage:
    config = existing.config or {}
    if config.get("graph_struct_hash") not in (None, struct_hash(graph)):
        raise GraphChangedError(workflow_id)
    stored = await checkpointer.get_inputs(workflow_id)
    if _is_new_input(plan, values, stored):
        raise InputOverrideRequiresForkError(workflow_id)
    if existing.status is WorkflowStatus.COMPLETED:
        raise WorkflowAlreadyCompletedError(workflow_id)
    steps = list(await checkpointer.get_steps(workflow_id))
    step_offset, index_offset = _offsets(steps)
    answers = {k: v for k, v in values.items() if k in plan.response_keys}
    return Lineage(
        workflow_id=workflow_id,
        inputs={**stored, **answers},
        restore=steps,
        fields={
            "forked_from": existing.forked_from,
            "fork_superstep": existing.fork_superstep,
            "retry_of": existing.retry_of,
            "retry_index": existing.retry_index,
            "parent_run_id": existing.parent_run_id,
        },
        superstep_offset=step_offset,
        next_index=index_offset,
        config=dict(config),
        resumed=True,
    )


async def _fork_from_source(
    checkpointer: Checkpointer, request: RunRequest, values: dict[str, Any], source: str
) -> Lineage:
    if await checkpointer.get_run_async(source) is None:
        raise unknown_source(source)
    target = request.workflow_id or new_workflow_id()
    if await checkpointer.get_run_async(target) is not None:
        raise WorkflowForkError(target)
    fields: dict[str, Any] = {"forked_from": source, "fork_superstep": None}
    if request.retry_from:
        index = next_retry_index(source, await checkpointer.list_runs(limit=None))
        fields.update(retry_of=source, retry_index=index)
    checkpoint = await checkpointer.get_checkpoint(source)
    stored = await checkpointer.get_inputs(source)
    return await _fork(checkpointer, checkpoint, target, values, stored, fields)


async def _fork_from_checkpoint(
    checkpointer: Checkpointer, request: RunRequest, values: dict[str, Any]
) -> Lineage:
    checkpoint: Checkpoint = request.checkpoint
    target = request.workflow_id or new_workflow_id()
    if await checkpointer.get_run_async(target) is not None:
        raise WorkflowForkError(target)
    fields = {
        "forked_from": checkpoint.source_run_id,
        "fork_superstep": checkpoint.source_superstep,
        "retry_of": checkpoint.retry_of,
        "retry_index": checkpoint.retry_index,
    }
    stored = (
        await checkpointer.get_inputs(checkpoint.source_run_id)
        if checkpoint.source_run_id
        else {}
    )
    return await _fork(checkpointer, checkpoint, target, values, stored, fields)


def decision_targets(plan: Plan, gate: int, record: Any) -> set[int]:
    """Targets a stored gate record activates (for replaying a resumed run)."""
    node_plan = plan.nodes[gate]
    index = node_plan.target_index or {}
    node = node_plan.node
    if record is True or record is False:
        target = node.when_true if record else node.when_false  # type: ignore[attr-defined]
        return {index[target]} if isinstance(target, str) and target in index else set()
    names = record if isinstance(record, list) else [record]
    return {index[n] for n in names if n is not END and n in index}
