"""The one async core: scheduling, node invocation, batches and runner entry points."""
