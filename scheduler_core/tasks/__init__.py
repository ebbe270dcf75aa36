"""Tasks: schedule arithmetic, re-planning after edits, run bookkeeping, operator actions."""
