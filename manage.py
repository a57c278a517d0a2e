#!/usr/bin/env python
"""Django's command-line utility. platform/ goes on sys.path (it is not a package:
`platform` would shadow the standard library module)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main():
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veritalk.settings")
    from django.core.management import execute_from_command_line  # noqa: PLC0415 - after the platform folder is on sys.path

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
