"""Queues: enqueue and the six registries, worker-side moves, the broker invariant."""
