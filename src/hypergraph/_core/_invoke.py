"""Run one node body: call sync code inline, await async code, hop threads if blocking.

Also builds the call arguments from the run state (R14) and splits return values
into outputs (R18, R23).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import types
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from hypergraph._core._context import CallContext, need_loop
from hypergraph._plan import MISSING, NodePlan, Param, copy_default

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = (
    "NotReady",
    "build_arguments",
    "call_body",
    "is_plain",
    "settle",
    "split_outputs",
)

_P = inspect.Parameter
_NEEDS_AWAIT = (types.CoroutineType, asyncio.Future)
_DRAIN = (types.GeneratorType, types.AsyncGeneratorType)


class NotReady(Exception):
    """A parameter has no value (the node cannot run yet)."""


def _fallback(plan: NodePlan, param: Param) -> Any:
    """R14 (2)-(3): the binding, else a (deep-copied, if mutable) default."""
    if param.bound is not MISSING:
        return param.bound
    if param.default is MISSING:
        if param.has_fallback:
            return MISSING  # a GraphNode input the inner graph fills in itself
        raise NotReady(param.value_name)
    if param.copy_default:
        return copy_default(param, plan.name)
    return param.default


def build_arguments(
    plan: NodePlan, values: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Resolve every parameter (state, then binding, then copied default).

    Raises:
        NotReady: a parameter has no value at all.
        GraphConfigError: a mutable default cannot be deep-copied.
    """
    kwargs: dict[str, Any] = {}
    if plan.keyword_call:
        for param in plan.params:
            value = values.get(param.value_name, MISSING)
            if value is MISSING:
                value = _fallback(plan, param)
                if value is MISSING:
                    continue
            kwargs[param.arg_name] = value
        return (), kwargs
    args: list[Any] = []
    for param in plan.params:
        value = values.get(param.value_name, MISSING)
        if value is MISSING:
            value = _fallback(plan, param)
        kind = param.kind
        # Parameters come in signature order, so positional ones come first; a
        # positional-or-keyword one goes by position too, or *args would clash.
        if kind is _P.POSITIONAL_ONLY or kind is _P.POSITIONAL_OR_KEYWORD:
            args.append(value)
        elif kind is _P.VAR_POSITIONAL:
            args.extend(value)
        elif kind is _P.VAR_KEYWORD:
            kwargs.update(value)
        else:
            kwargs[param.arg_name] = value
    return tuple(args), kwargs


def _call_and_drain(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    result = func(*args, **kwargs)
    if isinstance(result, types.GeneratorType):
        return list(result)
    return result


def is_plain(result: Any) -> bool:
    """True unless a plain function returned a coroutine or generator to finish."""
    return not isinstance(result, _NEEDS_AWAIT) and not isinstance(result, _DRAIN)


async def settle(result: Any) -> Any:
    """Await coroutines and drain generators a plain function returned (R22)."""
    if isinstance(result, _NEEDS_AWAIT):
        await need_loop()
        result = await result
    if isinstance(result, types.GeneratorType):
        return list(result)
    if isinstance(result, types.AsyncGeneratorType):
        await need_loop()
        return [item async for item in result]
    return result


async def call_body(
    plan: NodePlan, args: tuple[Any, ...], kwargs: dict[str, Any], call: CallContext
) -> Any:
    """Execute a function node's body and return its raw value (generators drained)."""
    func = plan.func
    if plan.blocking:
        await need_loop()
        bound_call = functools.partial(_call_and_drain, func, args, kwargs)
        result = await anyio.to_thread.run_sync(
            bound_call, limiter=call.thread_limiter()
        )
        return await settle(result)
    if plan.is_async:
        await need_loop()
        if plan.is_generator:
            return [item async for item in func(*args, **kwargs)]
        return await func(*args, **kwargs)
    result = func(*args, **kwargs)
    if isinstance(result, _NEEDS_AWAIT + _DRAIN):
        return await settle(result)
    return result


def split_outputs(plan: NodePlan, result: Any) -> tuple[Any, ...]:
    """Map a return value onto the node's data outputs (R18).

    Raises:
        ValueError: a multi-output node returned the wrong number of values.
        TypeError: a multi-output node returned something without a length.
    """
    outputs = plan.outputs
    count = len(outputs)
    if count == 1:
        return (result,)
    if count == 0:
        return ()
    try:
        size = len(result)
    except TypeError:
        raise TypeError(
            f"Node {plan.name!r} has {count} data outputs {outputs!r} and must return "
            f"a sequence of {count} values, but returned {type(result).__name__}."
            "\n\nHow to fix: return a tuple with one value per output."
        ) from None
    if size != count:
        raise ValueError(
            f"Node {plan.name!r} has {count} data outputs but returned {size} values "
            f"(outputs: {outputs!r}).\n\nHow to fix: return exactly {count} values, "
            "or change output_name."
        )
    return tuple(result)
