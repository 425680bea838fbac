"""Durable runs: the checkpointer seam, SQLite and in-memory stores, serializers."""
