"""Dotted path -> callable, cached, with clear errors and the ALLOWED_CALLABLES guard.

The guard is one rule, applied at validate, enqueue and run time (`resolve`): with
ALLOWED_CALLABLES set, a path must sit under an allowed prefix, no segment of it may start with
`_` (no `__loader__`, `__globals__`, `_private`), and the object it resolves to must be *defined*
in a module under an allowed prefix (its `__module__`): `myjobs.os.system` names an allowed prefix
but resolves to a function of `posix`, so it is refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from scheduler_core.errors import CallableError


def _under(name: str, prefix: str) -> bool:
    prefix = prefix.rstrip(".")
    return name == prefix or name.startswith(prefix + ".")


def check_allowed(path: str, allowed: Sequence[str]) -> None:
    """Refuse a path outside the configured prefixes, or with a segment starting with `_`
    (an empty list allows anything). A check of the text only: `resolve` also checks the object."""
    if not allowed:
        return
    if not isinstance(path, str) or not any(_under(path, p) for p in allowed):
        raise CallableError(f"callable {path!r} is not allowed by ALLOWED_CALLABLES")
    private = next((seg for seg in path.split(".") if seg.startswith("_")), None)
    if private is not None:
        raise CallableError(
            f"callable {path!r} is not allowed: segment {private!r} starts with '_' (ALLOWED_CALLABLES)"
        )


def check_defined_under(path: str, obj: Any, allowed: Sequence[str]) -> None:
    """Refuse an object not defined in a module under an allowed prefix (reached by traversal:
    `myjobs.os.system`, `myjobs.helper` imported from elsewhere, a builtin method)."""
    if not allowed:
        return
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str) or not any(
        # the prefix is a module (or package) holding it, or names the object inside its module
        _under(module, p) or (_under(p, module) and _under(path, p))
        for p in allowed
    ):
        where = f"defined in {module!r}" if isinstance(module, str) else "not defined in a module"
        raise CallableError(
            f"callable {path!r} is not allowed: it resolves to an object {where}, outside ALLOWED_CALLABLES"
        )


def resolve(path: str, allowed: Sequence[str]) -> Callable[..., Any]:
    """The callable at `path` once it passes every ALLOWED_CALLABLES check (CallableError else)."""
    check_allowed(path, allowed)
    func = import_callable(path)
    check_defined_under(path, func, allowed)
    return func


@lru_cache(maxsize=1024)
def import_callable(path: str) -> Callable[..., Any]:
    """Import `pkg.module.func` (or `pkg.module.Class.method`); raise CallableError with the reason."""
    if not isinstance(path, str) or "." not in path or path.startswith(".") or path.endswith("."):
        raise CallableError(f"callable {path!r} is not a dotted path like 'package.module.function'")
    parts = path.split(".")
    module = None
    for i in range(len(parts) - 1, 0, -1):
        mod_name = ".".join(parts[:i])
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name and mod_name.startswith(exc.name):
                continue  # that prefix is not a module: try a shorter one
            raise CallableError(f"callable {path!r}: importing {mod_name} failed: {exc}") from None
        except Exception as exc:
            raise CallableError(f"callable {path!r}: importing {mod_name} failed: {exc!r}") from None
        obj: Any = module
        for attr in parts[i:]:
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                raise CallableError(f"callable {path!r}: {mod_name} has no attribute {attr!r}") from None
        if not callable(obj):
            return _task_runner(obj, path)
        return obj  # type: ignore[no-any-return]
    raise CallableError(f"callable {path!r}: no module {parts[0]!r}")


_TASK_MODULES = ("django.tasks.base", "django_tasks.base")


def _task_runner(obj: Any, path: str) -> Callable[..., Any]:
    """A django.tasks `@task` (a Task object, not callable) runs through the backend's runner;
    anything else that is not callable is an error."""
    if any(c.__name__ == "Task" and c.__module__ in _TASK_MODULES for c in type(obj).__mro__):
        from scheduler_core.backend.runner import runner_for  # noqa: PLC0415  # the backend imports callables

        return runner_for(obj)
    raise CallableError(f"callable {path!r} is not callable")


def dotted_path(func: Callable[..., Any] | str) -> str:
    """The dotted path of a module-level function (what a job record stores)."""
    if isinstance(func, str):
        return func
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise CallableError(f"{func!r} is not importable by path: use a module-level function")
    if module == "__main__":
        raise CallableError(f"{qualname} is defined in __main__: workers cannot import it by path")
    return f"{module}.{qualname}"
