"""Public result types: ``RunResult``, ``RunStatus``, ``PauseInfo``, ``MapResult``."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, final, overload

from hypergraph._runlog import (
    MapLog,
    NodeRecord,
    NodeStats,
    RunLog,
    format_duration,
)
from hypergraph._runlog import plural as _plural
from hypergraph._runlog import short_error as _short_error

__all__ = (
    "MapLog",
    "MapResult",
    "NodeRecord",
    "NodeStats",
    "PauseInfo",
    "RunLog",
    "RunResult",
    "RunStatus",
    "format_duration",
)


class RunStatus(enum.StrEnum):
    """Outcome of a run (``PARTIAL`` only for batches)."""

    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    PARTIAL = "partial"


@final
@dataclass(slots=True)
class PauseInfo:
    """Where a run paused and how to answer it.

    ``node_name`` is ``/``-joined for nested graphs (``"inner/approval"``).
    """

    node_name: str
    output_param: str
    value: Any = None
    output_params: tuple[str, ...] | None = None
    values: dict[str, Any] | None = None

    def _key(self, output: str) -> str:
        path = self.node_name.split("/")[:-1]
        return ".".join([*path, output])

    @property
    def response_key(self) -> str:
        """The input name to pass the answer under when resuming."""
        return self._key(self.output_param)

    @property
    def response_keys(self) -> dict[str, str]:
        """Each data output of the interrupt mapped to its response key."""
        outputs = self.output_params or (self.output_param,)
        return {o: self._key(o) for o in outputs}


@final
@dataclass(slots=True)
class RunResult:
    """The outcome of one run: values, status, error or pause, and its log."""

    values: dict[str, Any]
    status: RunStatus
    run_id: str
    workflow_id: str | None = None
    error: BaseException | None = None
    pause: PauseInfo | None = None
    log: RunLog | None = None
    error_node: str | None = field(default=None, repr=False)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            known = ", ".join(repr(k) for k in sorted(self.values)) or "(none)"
            raise KeyError(
                f"{key!r} is not among this run's values ({known}); run status "
                f"{self.status.value}. A node that did not run (a branch not "
                "taken, a failure, a pause) leaves no value. Use result.get(...) "
                "for a value that may be missing."
            ) from None

    def get(self, key: str, default: Any = None) -> Any:
        """Return ``values[key]`` or ``default``."""
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    @property
    def completed(self) -> bool:
        """Whether the run completed."""
        return self.status is RunStatus.COMPLETED

    @property
    def failed(self) -> bool:
        """Whether the run failed."""
        return self.status is RunStatus.FAILED

    @property
    def paused(self) -> bool:
        """Whether the run paused at an interrupt."""
        return self.status is RunStatus.PAUSED

    def summary(self) -> str:
        """The log's summary, else the error, else the status."""
        if self.log is not None:
            return self.log.summary()
        if self.error is not None:
            return f"failed: {type(self.error).__name__}: {_short_error(self.error)}"
        return str(self.status.value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view: status, ids, log, and the error (never raw values)."""
        data: dict[str, Any] = {
            "status": self.status.value,
            "run_id": self.run_id,
            "workflow_id": self.workflow_id,
        }
        if self.log is not None:
            data["log"] = self.log.to_dict()
        if self.status is RunStatus.FAILED:
            error = self.error
            data["error"] = (
                None
                if error is None
                else f"{type(error).__name__}: {_short_error(error)}"
            )
            data["error_node"] = self.error_node
        return data


@final
class MapResult(Sequence[RunResult]):
    """The results of a batch: one :class:`RunResult` per item, in input order.

    Read-only and sequence-like; ``r["key"]`` gives the list of that output across
    items (``None`` where an item has no value).
    """

    __slots__ = (
        "graph_name",
        "map_mode",
        "map_over",
        "results",
        "run_id",
        "total_duration_ms",
        "workflow_id",
    )

    results: tuple[RunResult, ...]
    run_id: str | None
    total_duration_ms: float
    map_over: tuple[str, ...]
    map_mode: str
    graph_name: str
    workflow_id: str | None

    def __init__(
        self,
        results: Sequence[RunResult],
        *,
        run_id: str | None,
        total_duration_ms: float,
        map_over: Sequence[str],
        map_mode: str,
        graph_name: str,
        workflow_id: str | None = None,
    ) -> None:
        setter = object.__setattr__
        setter(self, "results", tuple(results))
        setter(self, "run_id", run_id)
        setter(self, "total_duration_ms", round(total_duration_ms, 3))
        setter(self, "map_over", tuple(map_over))
        setter(self, "map_mode", map_mode)
        setter(self, "graph_name", graph_name)
        setter(self, "workflow_id", workflow_id)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"MapResult is immutable; cannot set {name!r}")

    # -- sequence behaviour -----------------------------------------------------
    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[RunResult]:
        return iter(self.results)

    def __reversed__(self) -> Iterator[RunResult]:
        return reversed(self.results)

    def __bool__(self) -> bool:
        return bool(self.results)

    @overload
    def __getitem__(self, index: int) -> RunResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[RunResult]: ...
    @overload
    def __getitem__(self, index: str) -> list[Any]: ...
    def __getitem__(self, index: int | slice | str) -> Any:
        if isinstance(index, str):
            return [r.values.get(index) for r in self.results]
        if isinstance(index, slice):
            return list(self.results[index])
        if isinstance(index, int):
            return self.results[index]
        raise TypeError(
            f"indices must be integers, slices, or strings, not {type(index).__name__}"
        )

    def __contains__(self, item: object) -> bool:
        return any(item is r or item == r for r in self.results)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MapResult):
            return self.results == other.results
        if isinstance(other, list):
            return list(self.results) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: Any = None) -> list[Any]:
        """``[item.values.get(key, default) for item in results]``."""
        return [r.values.get(key, default) for r in self.results]

    # -- aggregate status ---------------------------------------------------------
    def _counts(self) -> tuple[int, int, int]:
        done = failed = paused = 0
        for r in self.results:
            if r.status is RunStatus.COMPLETED:
                done += 1
            elif r.status is RunStatus.FAILED:
                failed += 1
            elif r.status is RunStatus.PAUSED:
                paused += 1
        return done, failed, paused

    @property
    def status(self) -> RunStatus:
        """PARTIAL, FAILED, PAUSED or COMPLETED, from the items' statuses."""
        done, failed, paused = self._counts()
        if failed and done:
            return RunStatus.PARTIAL
        if failed:
            return RunStatus.FAILED
        if paused:
            return RunStatus.PAUSED
        return RunStatus.COMPLETED

    @property
    def completed(self) -> bool:
        """Whether every item completed (True for an empty batch)."""
        return self.status is RunStatus.COMPLETED

    @property
    def paused(self) -> bool:
        """Whether the aggregate status is PAUSED."""
        return self.status is RunStatus.PAUSED

    @property
    def partial(self) -> bool:
        """Whether some items failed and some completed."""
        return self.status is RunStatus.PARTIAL

    @property
    def failed(self) -> bool:
        """Whether any item failed."""
        return self.status in (RunStatus.FAILED, RunStatus.PARTIAL)

    @property
    def failures(self) -> list[RunResult]:
        """Failed items, in input order."""
        return [r for r in self.results if r.status is RunStatus.FAILED]

    @property
    def log(self) -> MapLog:
        """Per-item logs (restored items contribute an empty log)."""
        items = [
            r.log if r.log is not None else RunLog(self.graph_name, r.run_id, 0.0, ())
            for r in self.results
        ]
        return MapLog(self.graph_name, self.total_duration_ms, items)

    def summary(self) -> str:
        """``"3 items | 2 completed, 1 failed | 1.2s"``."""
        done, failed, paused = self._counts()
        states = [
            f"{n} {word}"
            for n, word in ((done, "completed"), (failed, "failed"), (paused, "paused"))
            if n
        ]
        parts = [_plural(len(self.results), "item")]
        if states:
            parts.append(", ".join(states))
        parts.append(format_duration(self.total_duration_ms))
        return " | ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view of the batch and its items."""
        done, failed, paused = self._counts()
        return {
            "run_id": self.run_id,
            "workflow_id": self.workflow_id,
            "status": self.status.value,
            "total_duration_ms": self.total_duration_ms,
            "map_over": list(self.map_over),
            "map_mode": self.map_mode,
            "graph_name": self.graph_name,
            "item_count": len(self.results),
            "completed_count": done,
            "failed_count": failed,
            "paused_count": paused,
            "items": [r.to_dict() for r in self.results],
        }

    def __repr__(self) -> str:
        if not self.results:
            return f"MapResult(0 items: empty, map_over={self.map_over!r})"
        done, failed, paused = self._counts()
        states = [
            f"{n} {word}"
            for n, word in ((done, "completed"), (failed, "failed"), (paused, "paused"))
            if n
        ]
        durations = [r.log.total_duration_ms for r in self.results if r.log is not None]
        avg = sum(durations) / len(durations) if durations else 0.0
        return (
            f"MapResult({_plural(len(self.results), 'item')}: {', '.join(states)}, "
            f"avg {format_duration(avg)}/item, map_over={self.map_over!r})"
        )
