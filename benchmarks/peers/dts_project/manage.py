#!/usr/bin/env python
"""manage.py for the django-tasks-scheduler benchmark project (run with benchmarks/.venv-peers)."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here.parent), str(here.parent.parent)]  # dts_project, benchlib
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dts_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
