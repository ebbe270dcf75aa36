#!/usr/bin/env bash
# Create benchmarks/.venv-peers with the peer systems (RQ 2.x, django-tasks-scheduler 4.4.0, and
# django-tasks-rq 0.12.0: RQ as a django.tasks backend, for the django_tasks_enqueue scenario).
# The peers never go into the project's own virtualenv. Idempotent: a stamp file records the
# requirement set, and a second run with the same set does nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-peers"
python="${PYTHON:-python3}"
# Pinned, so every run measures the same code (redis-py is the one the project's venv has too).
requirements=(
  "rq==2.12.0"
  "django-tasks-scheduler==4.4.0"
  "django==5.2.19"
  "redis==8.1.0"
  "django-tasks-rq==0.12.0"
  "django-tasks==0.12.0"
  "django-rq==4.2.0"
)
stamp="$venv/.peers-stamp"
want="$(printf '%s\n' "${requirements[@]}")"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
  echo "peers venv up to date: $venv" >&2
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
"$venv/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("rq", "django-tasks-scheduler", "django", "redis", "django-tasks-rq", "django-tasks", "django-rq"):
    print(f"{name}=={version(name)}")
PY
printf '%s\n' "$want" > "$stamp"
echo "peers venv ready: $venv" >&2
