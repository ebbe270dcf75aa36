# Redis for scripts/demo and scripts/test (sourced, not run); see scripts/ensure_redis.py.
#   redis_up VAR DB   sets REDIS_URL: $VAR when set, else local 127.0.0.1:6379/DB when it answers,
#                     else a private redis-server (stopped by redis_down, which the EXIT trap calls).
# Needs $PY (a Python >= 3.11) and $ROOT.

REDIS_URL=""
REDIS_DIR="-"

redis_up() {
    local var=$1 db=$2 out
    out="$("$PY" "$ROOT/scripts/ensure_redis.py" up --env "$var" --db "$db")" || exit 69
    REDIS_URL="${out% *}"
    REDIS_DIR="${out##* }"
    if [[ "$REDIS_DIR" != "-" ]]; then
        say "started a private Redis at $REDIS_URL (stopped on exit)"
    elif [[ -n "${!var:-}" ]]; then
        say "using Redis from \$$var"   # the URL may hold a password: not printed
    else
        say "using Redis at $REDIS_URL"
    fi
}

redis_down() {
    if [[ "$REDIS_DIR" != "-" ]]; then
        "$PY" "$ROOT/scripts/ensure_redis.py" down "$REDIS_DIR" || true
        REDIS_DIR="-"
    fi
}
