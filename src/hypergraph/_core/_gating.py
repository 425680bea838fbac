"""Turn a gate function's return value into a validated routing decision."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from hypergraph._gates import END, IfElseNode, RouteNode

if TYPE_CHECKING:
    from hypergraph._plan import NodePlan

__all__ = ("decide",)

# A decision as recorded: (state record, log/event form, activated node indices)
Decision = tuple[Any, Any, set[int]]


def _name(target: Any) -> str:
    return "END" if target is END else str(target)


def _activate(plan: NodePlan, targets: list[Any]) -> set[int]:
    index = plan.target_index or {}
    return {index[t] for t in targets if t is not END and t in index}


def _invalid(plan: NodePlan, value: Any) -> ValueError:
    valid = ", ".join(_name(t) for t in plan.node.targets)  # type: ignore[attr-defined]
    return ValueError(
        f"Route {plan.name!r} returned {value!r}, an invalid target. Valid targets: "
        f"{valid}.\n\nHow to fix: return one of the listed targets (use the END "
        "sentinel, not the string 'END'), or add the target to @route(targets=...)."
    )


def _decide_ifelse(plan: NodePlan, node: IfElseNode, result: Any) -> Decision:
    if result is not True and result is not False:
        raise TypeError(
            f"IfElse {plan.name!r} must return exactly True or False, got {result!r} "
            f"({type(result).__name__}).\n\nHow to fix: return a bool, e.g. "
            "`return bool(value)`."
        )
    target = node.when_true if result else node.when_false
    return result, _name(target), _activate(plan, [target])


def _decide_single(plan: NodePlan, node: RouteNode, result: Any) -> Decision:
    if result is None:
        if node.fallback is None:
            return None, None, set()
        result = node.fallback
    if isinstance(result, list | tuple | set):
        raise TypeError(
            f"Route {plan.name!r} returned a {type(result).__name__} but is not "
            "multi_target.\n\nHow to fix: return one target, or declare "
            "@route(..., multi_target=True)."
        )
    if result is END:
        return "END", "END", set()
    if result not in node.targets or not isinstance(result, str):
        if result == "END" and END in node.targets:
            warnings.warn(
                f"Route {plan.name!r} returned the string 'END'; return the END "
                "sentinel (from hypergraph import END) instead.",
                UserWarning,
                stacklevel=2,
            )
        raise _invalid(plan, result)
    return result, result, _activate(plan, [result])


def _decide_multi(plan: NodePlan, node: RouteNode, result: Any) -> Decision:
    if result is None:
        return None, None, set()
    if not isinstance(result, list):
        raise TypeError(
            f"multi_target route {plan.name!r} must return a list of targets (or "
            f"None), got {type(result).__name__}.\n\nHow to fix: return e.g. "
            "['a', 'b'] or []."
        )
    for target in result:
        if target is not END and (
            not isinstance(target, str) or target not in node.targets
        ):
            raise _invalid(plan, target)
    names = [_name(t) for t in result]
    return names, names, _activate(plan, result)


def decide(plan: NodePlan, result: Any) -> Decision:
    """Validate ``result`` for the gate in ``plan``.

    Raises:
        TypeError: the value has the wrong type for this gate.
        ValueError: the value names a target the gate does not have.
    """
    node = plan.node
    if isinstance(node, IfElseNode):
        return _decide_ifelse(plan, node, result)
    assert isinstance(node, RouteNode)
    if node.multi_target:
        return _decide_multi(plan, node, result)
    return _decide_single(plan, node, result)
