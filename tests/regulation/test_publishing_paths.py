"""Whichever way round the models' methods a change goes, the database itself refuses to commit a
published record citing no source: PostgreSQL with deferred constraint triggers (0007), SQLite,
the embedded default, with triggers keeping a deferred foreign key unsatisfied (0019)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from regulation.models import Status
from tests.factories import make_milestone, make_source
from tests.regulation.uncited_paths import PATHS, STILL_ALLOWED, published_uncited

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS)
def test_the_suites_database_refuses_a_published_record_citing_nothing(path):
    cited = make_milestone(sources=[make_source()])
    draft = make_milestone(status=Status.DRAFT)

    with pytest.raises((IntegrityError, ValidationError)), transaction.atomic():
        PATHS[path](cited, draft)
        connection.check_constraints()  # what COMMIT would check

    assert published_uncited() == []
    cited.refresh_from_db()
    assert cited.is_published and cited.sources.exists()


@pytest.fixture(scope="module")
def on_sqlite(tmp_path_factory) -> dict:
    """Each path tried on the embedded SQLite default, committing for real as `make run` does."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DJANGO_DEBUG": "true",
        "VAR_DIR": str(tmp_path_factory.mktemp("sqlite") / "var"),
    }  # no DATABASE_URL: the embedded default, a SQLite file under VAR_DIR
    result = subprocess.run(
        [sys.executable, "-m", "tests.regulation.sqlite_uncited"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", PATHS)
def test_sqlite_refuses_to_commit_a_published_record_citing_nothing(on_sqlite, path):
    assert on_sqlite[path]["refused"]
    assert on_sqlite[path]["published_uncited"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("change", STILL_ALLOWED)
def test_the_suites_database_still_allows_a_change_that_ends_cited(change):
    cited = make_milestone(sources=[make_source()])
    draft = make_milestone(status=Status.DRAFT)

    with transaction.atomic():
        STILL_ALLOWED[change](cited, draft)
        connection.check_constraints()

    assert published_uncited() == []


@pytest.mark.parametrize("change", STILL_ALLOWED)
def test_sqlite_still_commits_a_change_that_ends_cited(on_sqlite, change):
    assert on_sqlite[change] == {"refused": None, "published_uncited": []}
