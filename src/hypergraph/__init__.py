"""hypergraph: write the logic for one item as plain functions, scale it with map.

Public API only: every name is re-exported from a private module.
"""

from __future__ import annotations

from hypergraph._core._runner import AsyncRunner, BaseRunner, RunnerCapabilities
from hypergraph._events import (
    AsyncEventProcessor,
    BaseEvent,
    CacheHitEvent,
    Event,
    EventDispatcher,
    EventProcessor,
    InterruptEvent,
    NodeEndEvent,
    NodeErrorEvent,
    NodeStartEvent,
    RouteDecisionEvent,
    RunEndEvent,
    RunStartEvent,
    StopRequestedEvent,
    SuperstepStartEvent,
    TypedEventProcessor,
)
from hypergraph._gates import END, GateNode, IfElseNode, RouteNode, ifelse, route
from hypergraph._graph import Graph
from hypergraph._graph_node import ErrorHandling, GraphNode
from hypergraph._node import FunctionNode, HyperNode, InterruptNode, interrupt, node
from hypergraph._scope import InputSpec
from hypergraph._sync_shim._runner import SyncRunner
from hypergraph.checkpointers import (
    CheckpointPolicy,
    MemoryCheckpointer,
    SqliteCheckpointer,
    WorkflowStatus,
)
from hypergraph.exceptions import (
    CheckpointSerializationError,
    GraphChangedError,
    GraphConfigError,
    HypergraphError,
    IncompatibleRunnerError,
    InfiniteLoopError,
    InputOverrideRequiresForkError,
    MissingInputError,
    RenameError,
    WorkflowAlreadyCompletedError,
    WorkflowForkError,
)
from hypergraph.results import (
    MapLog,
    MapResult,
    NodeRecord,
    NodeStats,
    PauseInfo,
    RunLog,
    RunResult,
    RunStatus,
)

__version__ = "0.1.0.dev0"

__all__ = (
    "END",
    "AsyncEventProcessor",
    "AsyncRunner",
    "BaseEvent",
    "BaseRunner",
    "CacheHitEvent",
    "CheckpointPolicy",
    "CheckpointSerializationError",
    "ErrorHandling",
    "Event",
    "EventDispatcher",
    "EventProcessor",
    "FunctionNode",
    "GateNode",
    "Graph",
    "GraphChangedError",
    "GraphConfigError",
    "GraphNode",
    "HyperNode",
    "HypergraphError",
    "IfElseNode",
    "IncompatibleRunnerError",
    "InfiniteLoopError",
    "InputOverrideRequiresForkError",
    "InputSpec",
    "InterruptEvent",
    "InterruptNode",
    "MapLog",
    "MapResult",
    "MemoryCheckpointer",
    "MissingInputError",
    "NodeEndEvent",
    "NodeErrorEvent",
    "NodeRecord",
    "NodeStartEvent",
    "NodeStats",
    "PauseInfo",
    "RenameError",
    "RouteDecisionEvent",
    "RouteNode",
    "RunEndEvent",
    "RunLog",
    "RunResult",
    "RunStartEvent",
    "RunStatus",
    "RunnerCapabilities",
    "SqliteCheckpointer",
    "StopRequestedEvent",
    "SuperstepStartEvent",
    "SyncRunner",
    "TypedEventProcessor",
    "WorkflowAlreadyCompletedError",
    "WorkflowForkError",
    "WorkflowStatus",
    "ifelse",
    "interrupt",
    "node",
    "route",
)
