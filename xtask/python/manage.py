#!/usr/bin/env python
"""Django's command-line utility for the benchmark's Python peer.

`BENCH_DATABASE=/abs/path.sqlite3 python manage.py migrate` makes the SQLite
file that every variant of `cargo xtask bench` then serves.
"""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
