"""Commands run against a database that was never migrated say so, with the fix, and
exit 2, instead of a traceback from the first query."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["audit_verify"], ["mint_token", "nobody"], ["verify", "missing.mp4"]])
def test_command_on_an_unmigrated_database_names_the_fix(tmp_path, command):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    r = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2, r.stderr
    assert "is not migrated" in r.stderr and "manage.py migrate" in r.stderr and "Traceback" not in r.stderr
