"""What the admin's operations pages show and do, as plain functions (the views stay thin):
overview (the Queues page), registry (a registry's job list and its bulk actions), job (one job and
its actions), task_runs (a task's recent jobs). Reading never writes to the broker."""
