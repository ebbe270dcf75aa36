"""What goes wrong with a manifest: located problems, and the errors that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scheduler_core.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class Problem:
    """One error at `file:line`, about the value at `path` (e.g. ``tasks[2].cron``).

    `line` 0 means the file as a whole (it could not be read); `path` "" means the document."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class ManifestInvalid(InvalidInput):
    """The manifest failed validation; `problems` lists every error (one line each)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{_count(len(self.problems), 'error')} in the manifest; nothing was written")


class ManifestConflict(Conflict):
    """Apply would take over tasks owned by another set or made by hand; `lines` names each one."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__(
            f"{_count(len(self.lines), 'conflict')}; nothing was written (--force-conflicts takes them over)"
        )
