"""Serializers for persisted values: msgspec JSON by default, MessagePack opt-in.

Pickle is available only through an explicit opt-in, because loading a pickle
runs code: a database must never be able to do that by default.
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from typing import Any

import msgspec

from hypergraph.exceptions import CheckpointSerializationError

__all__ = (
    "JsonSerializer",
    "MsgpackSerializer",
    "PickleSerializer",
    "Serializer",
    "encode_values",
)


class Serializer(ABC):
    """Turns node values into bytes and back."""

    @abstractmethod
    def serialize(self, value: Any) -> bytes:
        """Encode ``value``.

        Raises:
            TypeError: the value cannot be encoded.
        """

    @abstractmethod
    def deserialize(self, data: bytes) -> Any:
        """Decode bytes made by :meth:`serialize`."""


def encode_values(
    serializer: Serializer, values: dict[str, Any], run_id: str, node_name: str | None
) -> bytes:
    """Encode a dict of values, naming the one that cannot be stored.

    ``node_name`` is the node whose outputs these are, or None for run inputs.

    Raises:
        CheckpointSerializationError: a value cannot be encoded.
    """
    try:
        return serializer.serialize(values)
    except Exception as whole:
        # Only on failure: find the key to blame, one value at a time.
        for key, value in values.items():
            try:
                serializer.serialize({key: value})
            except Exception as exc:
                raise CheckpointSerializationError(
                    run_id, node_name, key, value, str(exc)
                ) from exc
        raise CheckpointSerializationError(
            run_id, node_name, "?", values, str(whole)
        ) from whole


def _unsupported(obj: Any) -> Any:
    raise TypeError(f"Encoding objects of type {type(obj).__name__} is unsupported")


def _as_text(obj: Any) -> Any:
    return str(obj)


class JsonSerializer(Serializer):
    """msgspec JSON: JSON types plus dataclasses, enums, datetimes and UUIDs.

    Those extra types come back as plain JSON values (dicts, strings, numbers).

    Args:
        lossy: Store values it cannot encode as ``str(value)`` instead of failing.
    """

    def __init__(self, *, lossy: bool = False) -> None:
        self.lossy = lossy
        self._encoder = msgspec.json.Encoder(
            enc_hook=_as_text if lossy else _unsupported
        )
        self._decoder = msgspec.json.Decoder()

    def serialize(self, value: Any) -> bytes:
        """Encode ``value`` as JSON bytes."""
        return self._encoder.encode(value)

    def deserialize(self, data: bytes) -> Any:
        """Decode JSON bytes into plain values."""
        return self._decoder.decode(data)

    def __repr__(self) -> str:
        return f"JsonSerializer(lossy={self.lossy})"


class MsgpackSerializer(Serializer):
    """msgspec MessagePack: the same types and ``lossy`` rule as JSON, smaller."""

    def __init__(self, *, lossy: bool = False) -> None:
        self.lossy = lossy
        self._encoder = msgspec.msgpack.Encoder(
            enc_hook=_as_text if lossy else _unsupported
        )
        self._decoder = msgspec.msgpack.Decoder()

    def serialize(self, value: Any) -> bytes:
        """Encode ``value`` as MessagePack bytes."""
        return self._encoder.encode(value)

    def deserialize(self, data: bytes) -> Any:
        """Decode MessagePack bytes into plain values."""
        return self._decoder.decode(data)

    def __repr__(self) -> str:
        return f"MsgpackSerializer(lossy={self.lossy})"


class PickleSerializer(Serializer):
    """Pickle: any picklable object round-trips, but loading runs code.

    Raises:
        ValueError: ``allow_pickle`` is not True.
    """

    def __init__(self, *, allow_pickle: bool = False) -> None:
        if allow_pickle is not True:
            raise ValueError(
                "PickleSerializer can execute arbitrary code when a database is "
                "loaded, so it is off by default.\n\nHow to fix: only for databases "
                "you trust, pass PickleSerializer(allow_pickle=True); otherwise use "
                "JsonSerializer or MsgpackSerializer."
            )

    def serialize(self, value: Any) -> bytes:
        """Pickle ``value``."""
        try:
            return pickle.dumps(value)
        except Exception as exc:
            raise TypeError(str(exc)) from exc

    def deserialize(self, data: bytes) -> Any:
        """Unpickle (runs code from the database: trusted data only)."""
        return pickle.loads(data)

    def __repr__(self) -> str:
        return "PickleSerializer(allow_pickle=True)"
