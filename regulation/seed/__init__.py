"""Load the seed data as fact releases, applied like migrations.

fixtures/releases.json lists the releases in order, each a facts file (copied from the
researched facts) and a curation file (the project's editorial classification of them). The seed
command applies each release not yet applied, once and in order, in one transaction, and records
it (FactRelease). It remembers every record a release created (SeededRecord), so it finds them
again whatever staff rename, never recreates what staff deleted, and corrects a field only where
staff have not changed it since a release set it; otherwise it keeps the staff's value and lists
the conflict for an editor (SeedConflict).

Every entry is checked before anything is written; a bad release is refused as a whole, with one
line per problem naming the file, the entry, the field and what is wrong; the releases after it
are not planned, since each builds on the ones before.
"""

from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from regulation.models import FactRelease
from regulation.seed.apply import SEED_REASON, Memory, ReleaseApplier, SeedReport
from regulation.seed.plan import Planner, Release, SeedError, read_json, read_manifest

__all__ = ["SEED_REASON", "SeedError", "SeedReport", "load_seed", "read_fixture"]

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
MANIFEST = "releases.json"
# Any fixed number: every seed run takes the same PostgreSQL advisory lock.
SEED_LOCK_ID = 7_240_513


def read_fixture(name: str) -> dict:
    return read_json(FIXTURES_DIR / name)


def load_seed(
    manifest: Path | None = None,
    *,
    facts: dict | None = None,
    curation: dict | None = None,
    applied_by: str = "load_seed",
) -> SeedReport:
    """Apply every release in the manifest that is not applied yet; return what was done.

    facts / curation replace the first release's files (for tests of bad data).
    Raises SeedError, with one line per problem, when a release is refused; nothing is written.
    """
    releases = read_manifest(manifest or FIXTURES_DIR / MANIFEST)
    report = SeedReport()
    with transaction.atomic():
        _wait_for_other_seed_runs()
        # Read after the lock: a run that waited sees what the one before it applied.
        applied = set(FactRelease.objects.values_list("name", flat=True))
        pending = [release for release in releases if release.name not in applied]
        if not pending:
            return report
        errors = _plan(releases, facts, curation)
        if errors:
            raise SeedError(errors)
        memory = Memory()
        for n, release in enumerate(pending):
            record = FactRelease.objects.create(
                name=release.name,
                facts_file=release.facts_path.name,
                curation_file=release.curation_path.name,
                applied_by=applied_by,
            )
            adopting = not applied and n == 0  # the first release this database has seen
            ReleaseApplier(release, record, memory, report, adopting=adopting).apply()
            report.applied.append(release.name)
    return report


def _plan(releases: list[Release], facts: dict | None, curation: dict | None) -> list[str]:
    """Plan the releases in order; the errors of the first that fails, or none.

    Each release builds on what the ones before it define (sources, curation), so planning stops
    at the first failure: a later release planned without it would report only the confusion.
    """
    planner = Planner()
    for n, release in enumerate(releases):
        if n == 0:
            planner.plan(release, facts, curation)
        else:
            planner.plan(release)
        if release.errors:
            return release.errors
    return []


def _wait_for_other_seed_runs() -> None:
    """Serialise seed runs. On PostgreSQL an advisory lock held to the end of the transaction;
    SQLite serialises writing transactions itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEED_LOCK_ID])
