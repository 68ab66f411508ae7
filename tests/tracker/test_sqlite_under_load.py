"""The embedded SQLite default holds up when staff save while the public pages are read."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("sqlite_contention.py")
WRITERS, READERS, ROUNDS = 4, 8, 40


def test_concurrent_writers_and_readers_on_sqlite_never_see_database_is_locked(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DJANGO_DEBUG": "true",
        "VAR_DIR": str(tmp_path / "var"),
    }  # no DATABASE_URL: the embedded default, a SQLite file under VAR_DIR
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(WRITERS), str(READERS), str(ROUNDS)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout.strip().splitlines()[-1])

    assert counts["locked"] == 0
    assert counts["other_errors"] == 0
    assert counts["saved"] == counts["rows"] == WRITERS * ROUNDS
    assert counts["read"] == READERS * ROUNDS
    assert counts["journal_mode"] == "wal"
    assert counts["busy_timeout_ms"] == 20_000
