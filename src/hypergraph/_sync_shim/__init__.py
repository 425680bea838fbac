"""The blocking shim: SyncRunner adapts the async core to synchronous callers."""
