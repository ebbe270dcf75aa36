"""Jobs: the record, the `@job` decorator, operator actions, CLI arguments."""
