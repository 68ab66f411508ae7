"""Child-process script for test_publishing_paths (`python -m tests.regulation.sqlite_uncited`):
tries each of uncited_paths.PATHS and STILL_ALLOWED on the embedded SQLite default (a file under
VAR_DIR) with real commits, as `make run` would, and prints one JSON line: for each, the error
that refused it (none: not refused) and the published records it left citing no source."""

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from regulation.models import Status, public_models  # noqa: E402
from tests.factories import make_milestone, make_source  # noqa: E402
from tests.regulation.uncited_paths import PATHS, STILL_ALLOWED, published_uncited  # noqa: E402

assert connection.vendor == "sqlite", connection.vendor
call_command("migrate", verbosity=0)

results = {}
for name, path in {**PATHS, **STILL_ALLOWED}.items():
    cited = make_milestone(sources=[make_source()])
    draft = make_milestone(status=Status.DRAFT)
    try:
        with transaction.atomic():
            path(cited, draft)
        error = None
    except Exception as refusal:  # any refusal will do; the report names it
        error = f"{type(refusal).__name__}: {refusal}"
    results[name] = {"refused": error, "published_uncited": published_uncited()}
    # Start the next path from a clean slate, whatever this one left.
    for model in public_models():
        model._base_manager.filter(sources__isnull=True).update(status=Status.DRAFT)

print(json.dumps(results))
