"""Code, docs and scripts cite no file outside the repository: its own docs/ is the reference."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"DESIGN §|DESIGN\.md|\.\./shared/|shared/research")


def test_nothing_cites_a_file_outside_the_repository() -> None:
    places = [REPO / "README.md", REPO / "CHANGELOG.md"]
    folders = (("scheduler_core", "*.py"), ("taskctl", "*.py"), ("docs", "*.md"), ("scripts", "*"))
    for folder, pattern in folders:
        places += [p for p in (REPO / folder).rglob(pattern) if p.is_file()]
    cited = [
        f"{p.relative_to(REPO)}:{n}"
        for p in places
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert cited == []
