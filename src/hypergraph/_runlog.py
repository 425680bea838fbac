"""``RunLog``, ``NodeRecord``, ``NodeStats`` and ``MapLog``: what happened in a run.

The engine records one small tuple per node execution; the public record objects
are only built when someone reads ``result.log``, so an unread log costs almost
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, final

__all__ = (
    "MapLog",
    "NodeRecord",
    "NodeStats",
    "RunLog",
    "format_duration",
    "short_error",
)

_ERROR_LIMIT: Final = 500


def format_duration(ms: float | None) -> str:
    """Render milliseconds one way everywhere (``"0.3ms"``, ``"42ms"``, ``"1.5s"``).

    Example:
        >>> format_duration(1500)
        '1.5s'
    """
    if ms is None:
        return "—"
    if ms == 0:
        return "0ms"
    if ms < 1:
        return f"{ms:.1f}ms"
    if ms < 1000:
        return f"{round(ms)}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    minutes, rest = divmod(ms / 1000, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


def plural(count: int, word: str) -> str:
    """``plural(1, "node") == "1 node"``; ``plural(2, "node") == "2 nodes"``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def short_error(exc: BaseException) -> str:
    """The exported form of an error message: ``str(exc)`` cut to 500 chars."""
    return str(exc)[:_ERROR_LIMIT]


def error_type_name(exc: BaseException) -> str:
    """``"<module>.<qualname>"`` of an exception class (``builtins.ValueError``)."""
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _decision_text(decision: object) -> str:
    if isinstance(decision, list):
        return ", ".join(str(d) for d in decision)
    return str(decision)


@final
@dataclass(frozen=True, slots=True)
class NodeRecord:
    """One node execution: timing, status, error, routing decision, nested log."""

    node_name: str
    superstep: int
    duration_ms: float
    status: str
    span_id: str
    error: str | None = None
    error_type: str | None = None
    cached: bool = False
    decision: str | list[str] | None = None
    log: RunLog | MapLog | None = None

    def __repr__(self) -> str:
        status = "cached" if self.cached else self.status
        parts = [
            f"NodeRecord: {self.node_name}",
            status,
            format_duration(self.duration_ms),
            f"superstep {self.superstep}",
        ]
        if self.error is not None:
            parts.append(f"error: {self.error[:60]}")
        if self.decision is not None:
            parts.append(f"-> {_decision_text(self.decision)}")
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (``inner_log`` holds the nested log's dict)."""
        return {
            "node_name": self.node_name,
            "superstep": self.superstep,
            "duration_ms": self.duration_ms,
            "status": self.status,
            "span_id": self.span_id,
            "error": self.error,
            "error_type": self.error_type,
            "cached": self.cached,
            "decision": self.decision,
            "inner_log": None if self.log is None else self.log.to_dict(),
        }


@final
@dataclass(frozen=True, slots=True)
class NodeStats:
    """Aggregate of one node's records: counts, total and average time."""

    count: int = 0
    total_ms: float = 0.0
    errors: int = 0
    cached: int = 0
    succeeded_ms: float = 0.0

    @property
    def succeeded(self) -> int:
        """Executions that neither failed nor came from a cache."""
        return self.count - self.errors - self.cached

    @property
    def avg_ms(self) -> float:
        """Mean duration of succeeded, non-cached executions (0.0 if none)."""
        return self.succeeded_ms / self.succeeded if self.succeeded else 0.0

    def __repr__(self) -> str:
        if not self.count:
            return "NodeStats: empty"
        return (
            f"NodeStats: {self.succeeded} succeeded, {plural(self.errors, 'error')}, "
            f"avg {format_duration(self.avg_ms)}"
        )


def _stats(records: Sequence[NodeRecord]) -> dict[str, NodeStats]:
    acc: dict[str, list[float]] = {}
    for r in records:
        row = acc.setdefault(r.node_name, [0, 0.0, 0, 0, 0.0])
        row[0] += 1
        row[1] += r.duration_ms
        if r.status == "failed":
            row[2] += 1
        elif r.cached:
            row[3] += 1
        elif r.status == "completed":
            row[4] += r.duration_ms
    return {
        name: NodeStats(int(c), round(t, 3), int(e), int(k), s)
        for name, (c, t, e, k, s) in acc.items()
    }


class SpanSource(Protocol):
    """Where a log finds its call's span-id prefix (computed once, on demand)."""

    @property
    def span_prefix(self) -> str: ...


# A raw record as the engine appends it.
RawRecord = tuple[
    str,  # node name
    int,  # superstep
    int,  # duration in ns
    str,  # status
    BaseException | None,  # error
    Any,  # decision (already JSON-shaped) or None
    "RunLog | MapLog | None",  # nested log
    int,  # span counter
]


@final
class RunLog:
    """The trace of one run: its node records in completion order.

    Built lazily from the engine's raw records; read-only.
    """

    __slots__ = ("_graph_name", "_raw", "_run_id", "_spans", "_steps", "_total_ms")

    def __init__(
        self,
        graph_name: str,
        run_id: str,
        total_duration_ms: float,
        steps: Sequence[NodeRecord] | None = None,
        raw: list[RawRecord] | None = None,
        spans: SpanSource | None = None,
    ) -> None:
        self._graph_name = graph_name
        self._run_id = run_id
        self._total_ms = total_duration_ms
        self._steps = None if steps is None else tuple(steps)
        self._raw = raw
        self._spans = spans

    @property
    def graph_name(self) -> str:
        """Name of the graph that ran (``""`` when unnamed)."""
        return self._graph_name

    @property
    def run_id(self) -> str:
        """Same as the result's ``run_id``."""
        return self._run_id

    @property
    def total_duration_ms(self) -> float:
        """Wall time of the run, in milliseconds (3 decimals)."""
        return round(self._total_ms, 3)

    @property
    def steps(self) -> tuple[NodeRecord, ...]:
        """Node records in completion order."""
        steps: tuple[NodeRecord, ...] | None = self._steps
        if steps is None:
            prefix = "" if self._spans is None else self._spans.span_prefix
            built = []
            for name, superstep, ns, status, error, decision, log, span in (
                self._raw or ()
            ):
                built.append(
                    NodeRecord(
                        node_name=name,
                        superstep=superstep,
                        duration_ms=round(ns / 1e6, 3),
                        status=status,
                        span_id=f"{prefix}{span:08x}",
                        error=None if error is None else short_error(error),
                        error_type=None if error is None else error_type_name(error),
                        decision=decision,
                        log=log,
                    )
                )
            steps = tuple(built)
            self._steps = steps
        return steps

    @property
    def records(self) -> tuple[NodeRecord, ...]:
        """Alias of :attr:`steps`."""
        return self.steps

    @property
    def errors(self) -> tuple[NodeRecord, ...]:
        """Failed records."""
        return tuple(r for r in self.steps if r.status == "failed")

    @property
    def timing(self) -> dict[str, float]:
        """Total milliseconds per node name."""
        return {name: s.total_ms for name, s in self.node_stats.items()}

    @property
    def node_stats(self) -> dict[str, NodeStats]:
        """Aggregates per node name."""
        return _stats(self.steps)

    def slowest(self, n: int | None = None) -> list[NodeRecord]:
        """Records by duration, slowest first (the first ``n``, or all)."""
        ranked = sorted(self.steps, key=lambda r: r.duration_ms, reverse=True)
        return ranked if n is None else ranked[:n]

    def summary(self) -> str:
        """``"3 nodes | 12ms | 0 errors | slowest: generate (8ms)"``."""
        stats = self.node_stats
        parts = [
            plural(len(stats), "node"),
            format_duration(self.total_duration_ms),
            plural(len(self.errors), "error"),
        ]
        if stats:
            name, top = max(stats.items(), key=lambda kv: kv[1].total_ms)
            if top.total_ms > 0:
                parts.append(f"slowest: {name} ({format_duration(top.total_ms)})")
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Primitives only; ``json.dumps`` works on the result."""
        return {
            "graph_name": self.graph_name,
            "run_id": self.run_id,
            "total_duration_ms": self.total_duration_ms,
            "steps": [r.to_dict() for r in self.steps],
            "node_stats": {
                name: {
                    "count": s.count,
                    "total_ms": s.total_ms,
                    "avg_ms": round(s.avg_ms, 3),
                    "errors": s.errors,
                    "cached": s.cached,
                }
                for name, s in self.node_stats.items()
            },
        }

    def __str__(self) -> str:
        steps = self.steps
        header = (
            f"RunLog: {self.graph_name or 'unnamed'} | "
            f"{format_duration(self.total_duration_ms)} | "
            f"{plural(len(self.node_stats), 'node')} | "
            f"{plural(len(self.errors), 'error')}"
        )
        with_decision = any(r.decision is not None for r in steps)
        columns = ["Step", "Node", "Duration", "Status"] + (
            ["Decision"] * with_decision
        )
        rows = []
        for record in steps:
            if record.status == "failed":
                status = f"FAILED: {record.error}"
            else:
                status = "cached" if record.cached else record.status
            if record.log is not None:
                status += f" ({len(_inner_items(record.log))} inner)"
            row = [
                str(record.superstep),
                record.node_name,
                format_duration(record.duration_ms),
                status,
            ]
            if with_decision:
                decision = record.decision
                row.append("" if decision is None else f"→ {_decision_text(decision)}")
            rows.append(row)
        lines = [header, *_table(columns, rows)]
        if any(r.log is not None for r in steps):
            lines.append("→ .steps[i].log for inner trace")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"RunLog(graph={self.graph_name!r}, steps={len(self.steps)}, "
            f"duration={format_duration(self.total_duration_ms)})"
        )


def _inner_items(log: RunLog | MapLog) -> Sequence[Any]:
    return log.items if isinstance(log, MapLog) else log.steps


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines.extend(
        " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        for row in rows
    )
    return lines


@final
class MapLog(Sequence[RunLog]):
    """The per-item logs of a batch (``MapResult.log`` or a mapped GraphNode's step)."""

    __slots__ = ("graph_name", "items", "total_duration_ms")

    graph_name: str
    items: tuple[RunLog, ...]
    total_duration_ms: float

    def __init__(
        self, graph_name: str, total_duration_ms: float, items: Sequence[RunLog]
    ) -> None:
        object.__setattr__(self, "graph_name", graph_name)
        object.__setattr__(self, "total_duration_ms", round(total_duration_ms, 3))
        object.__setattr__(self, "items", tuple(items))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"MapLog is immutable; cannot set {name!r}")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __iter__(self) -> Iterator[RunLog]:
        return iter(self.items)

    @property
    def errors(self) -> tuple[NodeRecord, ...]:
        """Failed records of every item."""
        return tuple(r for log in self.items for r in log.errors)

    @property
    def node_stats(self) -> dict[str, NodeStats]:
        """Per-node aggregates across all items."""
        return _stats([r for log in self.items for r in log.steps])

    def _succeeded(self) -> list[RunLog]:
        return [log for log in self.items if not log.errors]

    def summary(self) -> str:
        """``"3 items | 2 completed, 1 error | avg 5ms/item"``."""
        if not self.items:
            return "0 items"
        ok = self._succeeded()
        errors = len(self.errors)
        states = []
        if ok:
            states.append(f"{len(ok)} completed")
        if errors:
            states.append(plural(errors, "error"))
        parts = [plural(len(self.items), "item")]
        if states:
            parts.append(", ".join(states))
        if ok:
            avg = sum(log.total_duration_ms for log in ok) / len(ok)
            parts.append(f"avg {format_duration(avg)}/item")
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Primitives only."""
        return {
            "graph_name": self.graph_name,
            "total_duration_ms": self.total_duration_ms,
            "items": [log.to_dict() for log in self.items],
        }

    def __str__(self) -> str:
        ok = self._succeeded()
        header = (
            f"MapLog: {self.graph_name or 'unnamed'} | "
            f"{plural(len(self.items), 'item')} "
            f"({len(ok)} succeeded) | {plural(len(self.errors), 'error')}"
        )
        if ok:
            avg = sum(log.total_duration_ms for log in ok) / len(ok)
            header += f" | avg {format_duration(avg)}/item"
        rows = []
        for i, log in enumerate(self.items[:20]):
            status = "failed" if log.errors else "completed"
            rows.append(
                [
                    str(i),
                    format_duration(log.total_duration_ms),
                    status,
                    str(len(log.steps)),
                ]
            )
        lines = [header, *_table(["Item", "Duration", "Status", "Nodes"], rows)]
        if len(self.items) > 20:
            lines.append(f"... and {len(self.items) - 20} more items")
        lines.append("→ .log[i] for per-item trace")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"MapLog(graph={self.graph_name!r}, items={len(self.items)}, "
            f"duration={format_duration(self.total_duration_ms)})"
        )
