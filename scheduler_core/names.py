"""What a task (or set) name may be: text an operator can type, read and pass as an argument.

Refused: invisible or reordering characters (Unicode format and control characters such as
U+202E RIGHT-TO-LEFT OVERRIDE and U+200B ZERO WIDTH SPACE: two names that look the same, or a name
that shows as another), a leading `-` (read as an option by `tasks show -x`), surrounding spaces.
"""

from __future__ import annotations

import unicodedata

_HIDDEN = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}  # control, format, private, surrogate, unassigned


def name_problem(value: str) -> str | None:
    """Why `value` is no usable name, or None."""
    if not value.strip():
        return "must not be empty"
    for ch in value:
        if unicodedata.category(ch) in _HIDDEN:
            return f"must not contain invisible or control characters (U+{ord(ch):04X})"
    if value.startswith("-"):
        return "must not start with '-' (it would read as an option)"
    if value != value.strip():
        return "must not start or end with spaces"
    return None
