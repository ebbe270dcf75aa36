"""Example job callables and the `examples` manifest (examples/tasks.yaml)."""
