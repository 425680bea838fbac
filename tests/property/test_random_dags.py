"""Random DAGs of small arithmetic nodes agree with a sequential oracle.

Nodes ``n0..nk`` compute ``v{i} = (sum(inputs) * a + b) % 1009`` where the inputs
are earlier outputs ``v{j}`` (edges only go from low to high index) and/or graph
inputs ``x{m}``. Some nodes are async, and a contiguous slice of nodes may be
wrapped in a nested GraphNode. Every run goes through both runners.
"""

from __future__ import annotations

import itertools
import linecache
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from proptools import PROPERTY_SETTINGS

from hypergraph import FunctionNode, Graph, RunStatus, node

pytestmark = pytest.mark.anyio

MOD = 1009
N_GRAPH_INPUTS = 4
SUB_NAME = "sub"
KINDS = ("sync", "async", "async_sleep")
_SOURCE_IDS = itertools.count()


class Boom(Exception):
    """The failure raised by the designated failing node."""


@dataclass(frozen=True)
class NodeSpec:
    """One random arithmetic node."""

    index: int
    preds: tuple[int, ...]
    graph_inputs: tuple[int, ...]
    a: int
    b: int
    kind: str
    rename_in_ctor: bool

    @property
    def sources(self) -> tuple[str, ...]:
        """Names the node reads, in parameter order."""
        return tuple(f"v{j}" for j in self.preds) + tuple(
            f"x{m}" for m in self.graph_inputs
        )


@dataclass(frozen=True)
class DagSpec:
    """A random DAG plus run parameters."""

    nodes: tuple[NodeSpec, ...]
    segment: tuple[int, int] | None
    inputs: dict[str, int]
    max_concurrency: int | None

    def in_segment(self, i: int) -> bool:
        """Whether node ``i`` lives in the nested GraphNode."""
        return self.segment is not None and self.segment[0] <= i < self.segment[1]


@dataclass
class Recorder:
    """Start/end log shared by all node bodies of one example."""

    started: list[str] = field(default_factory=list)
    failing: str | None = None
    error: BaseException | None = None


@st.composite
def dag_specs(draw: st.DrawFn, *, allow_segment: bool = True) -> DagSpec:
    """Draw a random DAG with edges only from low to high index."""
    k = draw(st.integers(1, 9))
    nodes = []
    for i in range(k):
        preds = (
            draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        )
        xs = draw(st.lists(st.integers(0, N_GRAPH_INPUTS - 1), unique=True, max_size=2))
        nodes.append(
            NodeSpec(
                index=i,
                preds=tuple(sorted(preds)),
                graph_inputs=tuple(sorted(xs)),
                a=draw(st.integers(1, 7)),
                b=draw(st.integers(0, 20)),
                kind=draw(st.sampled_from(KINDS)),
                rename_in_ctor=draw(st.booleans()),
            )
        )
    segment = None
    if allow_segment and draw(st.booleans()):
        start = draw(st.integers(0, k - 1))
        segment = (start, draw(st.integers(start + 1, k)))
    used = sorted({m for n in nodes for m in n.graph_inputs})
    inputs = {f"x{m}": draw(st.integers(-50, 50)) for m in used}
    mc = draw(st.sampled_from([None, 1, 2, 5]))
    return DagSpec(tuple(nodes), segment, inputs, mc)


def _make_function(spec: NodeSpec, recorder: Recorder) -> Any:
    """Compile ``n{i}(p0, ..., pm)`` with generic parameter names."""
    params = [f"p{j}" for j in range(len(spec.sources))]
    total = " + ".join(params) or "0"
    prefix = "async def" if spec.kind != "sync" else "def"
    body = [f"    recorder.started.append('n{spec.index}')"]
    if spec.kind == "async_sleep":
        body.append("    await anyio.sleep(0)")
    body += [
        f"    if recorder.failing == 'n{spec.index}':",
        "        raise recorder.error",
    ]
    if spec.kind == "async_sleep":
        body.append("    await anyio.sleep(0)")
    body.append(f"    return (({total}) * {spec.a} + {spec.b}) % {MOD}")
    source = f"{prefix} n{spec.index}({', '.join(params)}):\n" + "\n".join(body) + "\n"
    namespace: dict[str, Any] = {"anyio": anyio, "recorder": recorder}
    filename = f"<random-dag n{spec.index} {next(_SOURCE_IDS)}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[f"n{spec.index}"]


def _make_node(spec: NodeSpec, recorder: Recorder) -> FunctionNode:
    """Wrap the compiled function, renaming ``p{j}`` to the real sources."""
    func = _make_function(spec, recorder)
    renames = {f"p{j}": src for j, src in enumerate(spec.sources)}
    if spec.rename_in_ctor:
        return FunctionNode(
            func,
            name=f"n{spec.index}",
            output_name=f"v{spec.index}",
            rename_inputs=renames or None,
        )
    built = node(func, output_name=f"v{spec.index}").with_name(f"n{spec.index}")
    return built.with_inputs(renames) if renames else built


def _build_graph(dag: DagSpec, recorder: Recorder) -> Graph:
    """Build the outer graph, nesting the segment as a GraphNode when present."""
    built = [_make_node(n, recorder) for n in dag.nodes]
    if dag.segment is None:
        return Graph(built)
    start, stop = dag.segment
    inner = Graph(built[start:stop], name=SUB_NAME)
    return Graph([*built[:start], inner.as_node(), *built[stop:]])


def _oracle(dag: DagSpec) -> dict[str, int]:
    """Evaluate every node in index order with a plain dict."""
    env: dict[str, int] = dict(dag.inputs)
    for n in dag.nodes:
        env[f"v{n.index}"] = (sum(env[s] for s in n.sources) * n.a + n.b) % MOD
    return {f"v{n.index}": env[f"v{n.index}"] for n in dag.nodes}


def _unit(dag: DagSpec, i: int, *, inner: bool) -> str:
    """Name of the step that runs node ``i`` at the outer (or inner) level."""
    if not inner and dag.in_segment(i):
        return SUB_NAME
    return f"n{i}"


def _level_preds(dag: DagSpec, *, inner: bool) -> dict[str, set[str]]:
    """Predecessor steps of each step at one nesting level."""
    members = [n for n in dag.nodes if dag.in_segment(n.index) == inner or not inner]
    preds: dict[str, set[str]] = {}
    for n in members:
        unit = _unit(dag, n.index, inner=inner)
        mine = preds.setdefault(unit, set())
        for j in n.preds:
            if inner and not dag.in_segment(j):
                continue
            producer = _unit(dag, j, inner=inner)
            if producer != unit:
                mine.add(producer)
    return preds


def _check_steps(steps: Any, preds: dict[str, set[str]]) -> dict[str, Any]:
    """One completed record per step; superstep = 1 + max(predecessor supersteps)."""
    counts = Counter(r.node_name for r in steps)
    assert counts == Counter(list(preds)), f"records {counts} != steps {sorted(preds)}"
    by_name = {r.node_name: r for r in steps}
    for name, record in by_name.items():
        assert record.status == "completed"
        expected = 1 + max((by_name[p].superstep for p in preds[name]), default=-1)
        assert record.superstep == expected, (name, record.superstep, expected)
    return by_name


def _supersteps(dag: DagSpec) -> list[int]:
    """Superstep of each node in an un-nested graph (longest path from a source)."""
    steps: list[int] = []
    for n in dag.nodes:
        steps.append(1 + max((steps[j] for j in n.preds), default=-1))
    return steps


@PROPERTY_SETTINGS
@given(dag=dag_specs())
async def test_random_dag_matches_sequential_oracle(runner, dag: DagSpec) -> None:
    """A random DAG (maybe nested) returns the oracle's values in output order."""
    graph = _build_graph(dag, Recorder())
    assert set(graph.inputs.required) == set(dag.inputs)
    result = await runner.run(
        graph, dict(dag.inputs), max_concurrency=dag.max_concurrency
    )
    assert result.status is RunStatus.COMPLETED, result.error
    assert result.values == _oracle(dag)
    assert list(result.values) == list(graph.outputs)


@PROPERTY_SETTINGS
@given(dag=dag_specs())
async def test_random_dag_log_has_one_record_per_node_in_its_superstep(
    runner, dag: DagSpec
) -> None:
    """Each step is logged once, in superstep 1 + max(predecessor supersteps)."""
    recorder = Recorder()
    graph = _build_graph(dag, recorder)
    result = await runner.run(
        graph, dict(dag.inputs), max_concurrency=dag.max_concurrency
    )
    assert result.status is RunStatus.COMPLETED, result.error
    assert Counter(recorder.started) == Counter(f"n{n.index}" for n in dag.nodes)
    by_name = _check_steps(result.log.steps, _level_preds(dag, inner=False))
    if dag.segment is not None:
        inner_log = by_name[SUB_NAME].log
        assert inner_log is not None
        _check_steps(inner_log.steps, _level_preds(dag, inner=True))


@st.composite
def failing_dags(draw: st.DrawFn) -> tuple[DagSpec, int, str]:
    """Draw an un-nested DAG, the index of its failing node and the error mode."""
    dag = draw(dag_specs(allow_segment=False))
    failing = draw(st.integers(0, len(dag.nodes) - 1))
    return dag, failing, draw(st.sampled_from(["raise", "continue"]))


def _siblings(*kinds: str, max_concurrency: int | None = None) -> DagSpec:
    """Independent zero-input nodes, all in superstep 0."""
    nodes = tuple(
        NodeSpec(i, (), (), 1, i, kind, False) for i, kind in enumerate(kinds)
    )
    return DagSpec(nodes, None, {}, max_concurrency)


@PROPERTY_SETTINGS
@given(case=failing_dags())
@example(case=(_siblings("sync", "sync"), 0, "continue"))
@example(case=(_siblings("sync", "async"), 0, "continue"))
@example(case=(_siblings("sync", "sync", max_concurrency=2), 0, "continue"))
@example(case=(_siblings("async", "async", "sync"), 1, "raise"))
async def test_random_dag_failure_stops_scheduling(
    runner, case: tuple[DagSpec, int, str]
) -> None:
    """A failing node raises its own exception; nothing after its superstep runs."""
    dag, failing, error_handling = case
    recorder = Recorder(failing=f"n{failing}", error=Boom(f"n{failing}"))
    graph = _build_graph(dag, recorder)
    steps = _supersteps(dag)
    fail_step = steps[failing]
    sequential = runner.is_sync and dag.max_concurrency is None

    if error_handling == "raise":
        with pytest.raises(Boom) as caught:
            await runner.run(
                graph, dict(dag.inputs), max_concurrency=dag.max_concurrency
            )
        assert caught.value is recorder.error
    else:
        result = await runner.run(
            graph,
            dict(dag.inputs),
            max_concurrency=dag.max_concurrency,
            error_handling="continue",
        )
        assert result.status is RunStatus.FAILED
        assert result.error is recorder.error
        oracle = _oracle(dag)
        expected = {
            f"v{i}": oracle[f"v{i}"]
            for i, s in enumerate(steps)
            if s < fail_step
            or (s == fail_step and i != failing and (not sequential or i < failing))
        }
        assert result.values == expected

    started = {int(name[1:]) for name in recorder.started}
    assert all(steps[i] <= fail_step for i in started), (started, fail_step)
    assert {i for i, s in enumerate(steps) if s < fail_step} <= started
    if sequential:
        same_step = {i for i, s in enumerate(steps) if s == fail_step}
        assert started & same_step == {i for i in same_step if i <= failing}
