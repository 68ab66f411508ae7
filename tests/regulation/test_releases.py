"""Fact releases: applied once and in order, remembered record by record, corrections recorded
as changes, staff edits and deletions respected."""

import threading
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from regulation.models import (
    Commitment,
    FactRelease,
    Measure,
    Milestone,
    Platform,
    SeedConflict,
    SeededRecord,
    Status,
    Topic,
)
from regulation.seed import SeedError, load_seed
from tests.factories import make_milestone
from tests.regulation.release_files import update, write_manifest

pytestmark = pytest.mark.django_db


@pytest.fixture
def first_only(tmp_path):
    (tmp_path / "first").mkdir()
    return write_manifest(tmp_path / "first")


@pytest.fixture
def with_update(tmp_path):
    (tmp_path / "update").mkdir()
    return write_manifest(tmp_path / "update", update())


def test_a_fresh_install_applies_every_release_in_order_in_one_run(with_update):
    report = load_seed(with_update, applied_by="a test")

    assert report.applied == ["0001_first_facts", "0002_update"]
    releases = list(FactRelease.objects.values_list("name", "applied_by"))
    assert releases == [("0001_first_facts", "a test"), ("0002_update", "a test")]
    second = FactRelease.objects.get(name="0002_update")
    assert second.counts["Milestones created"] == 1
    assert second.counts["corrections applied"] == 5
    assert Milestone.objects.get(key="M61").status == Status.PUBLISHED
    assert SeededRecord.objects.filter(release=second, model="regulation.milestone").count() == 1


def test_running_again_changes_nothing_and_says_so(with_update, monkeypatch):
    monkeypatch.setattr("regulation.seed.FIXTURES_DIR", with_update.parent)
    load_seed(with_update)
    history = Milestone.history.count()
    rows = list(Milestone.objects.order_by("pk").values_list("pk", "updated_at"))

    out = StringIO()
    call_command("load_seed", stdout=out)  # the same manifest, read by the command
    report = load_seed(with_update)

    assert out.getvalue().strip() == "Seed up to date: no release left to apply."
    assert report.applied == []
    assert Milestone.history.count() == history
    assert list(Milestone.objects.order_by("pk").values_list("pk", "updated_at")) == rows


def test_an_update_applied_later_creates_only_its_own_records(first_only, with_update):
    load_seed(first_only)

    report = load_seed(with_update)

    assert report.applied == ["0002_update"]
    assert report.created == {"Sources": 2, "Milestones": 1, "Commitments": 1}
    assert Milestone.objects.count() == 61


def test_a_date_correction_moves_the_date_with_its_evidence_and_first_source(with_update):
    load_seed(with_update)

    milestone = Milestone.objects.get(key="M29")
    [change] = milestone.date_changes.all()
    assert (change.old_date.isoformat(), change.new_date.isoformat()) == (
        "2025-03-05",
        "2025-03-03",
    )
    assert change.reason == "Ofcom's page is dated 3 March 2025."
    assert change.source.key == "S113"
    assert milestone.date_display == "3 March 2025"


def test_another_correction_is_a_history_entry_naming_release_correction_and_sources(with_update):
    load_seed(with_update)

    milestone = Milestone.objects.get(key="M29")
    assert milestone.title == "Ofcom opens its risk-assessment enforcement programme."
    latest = milestone.history.filter(title=milestone.title).earliest("history_date")
    assert latest.history_change_reason == "Release 0002_update, correction 2 (M29 event): S113"
    assert milestone.history.filter(
        history_change_reason__startswith="Release 0002_update, correction 1"
    ).exists()


def test_a_correction_that_gives_an_unsourced_draft_a_source_publishes_it(first_only, with_update):
    load_seed(first_only)
    assert Milestone.objects.get(key="M57").status == Status.DRAFT

    load_seed(with_update)

    milestone = Milestone.objects.get(key="M57")
    assert (milestone.status, milestone.verification) == (Status.PUBLISHED, "confirmed")
    assert list(milestone.sources.values_list("key", flat=True)) == ["S113"]


def test_a_staff_edit_to_a_corrected_field_is_kept_and_reported(first_only, with_update):
    load_seed(first_only)
    milestone = Milestone.objects.get(key="M44")
    milestone.notes = "Staff wrote this."
    milestone.save()

    report = load_seed(with_update)

    milestone.refresh_from_db()
    assert milestone.notes == "Staff wrote this."
    assert report.conflicts == [
        "M44 notes: staff value 'Staff wrote this.', release value 'A note the release adds.'"
    ]
    conflict = SeedConflict.objects.get()
    assert (conflict.fact_id, conflict.field, conflict.staff_value, conflict.release_value) == (
        "M44",
        "notes",
        "Staff wrote this.",
        "A note the release adds.",
    )
    assert conflict.object_pk == milestone.pk and not conflict.is_resolved
    # The other corrections of the same release still apply.
    assert Milestone.objects.get(key="M29").date.isoformat() == "2025-03-03"


def test_the_command_lists_the_conflicts_it_kept(first_only, with_update, monkeypatch):
    load_seed(first_only)
    Milestone.objects.filter(key="M44").update(notes="Staff wrote this.")
    monkeypatch.setattr("regulation.seed.FIXTURES_DIR", with_update.parent)

    out = StringIO()
    call_command("load_seed", stdout=out)

    assert (
        "Kept the staff's edit: M44 notes: staff value 'Staff wrote this.', "
        "release value 'A note the release adds.'"
    ) in out.getvalue()
    assert "Applied 0002_update" in out.getvalue()


def test_a_record_staff_deleted_stays_deleted_and_its_corrections_are_skipped(
    first_only, with_update
):
    load_seed(first_only)
    Milestone.objects.get(key="M44").delete()

    report = load_seed(with_update)

    assert not Milestone.objects.filter(key="M44").exists()
    assert "correction M44 notes: the record was deleted by staff" in report.skipped


def test_renamed_slugs_do_not_abort_the_seed_or_make_a_second_snapchat(first_only, with_update):
    load_seed(first_only)
    Platform.objects.filter(slug="snapchat").update(slug="snapchat-app")
    Topic.objects.filter(slug="online-grooming").update(slug="grooming")

    load_seed(with_update)

    assert Platform.objects.filter(name="Snapchat").count() == 1
    commitment = Commitment.objects.get(key="PC23")
    assert [p.slug for p in commitment.platforms.all()] == ["snapchat-app"]
    assert [t.slug for t in Milestone.objects.get(key="M61").topics.all()] == ["grooming"]


def test_a_blanked_key_does_not_make_a_second_record(first_only, tmp_path):
    load_seed(first_only)
    Milestone.objects.filter(key="M29").update(key=None)
    Measure.objects.filter(key="CM13").update(key="")
    release = update()
    release["facts"]["corrections"].append(
        {
            "id": "CM13",
            "field": "measure_id",
            "old": "ICU C14 (reported)",
            "new": "ICU C14",
            "source_ids": ["S113"],
            "evidence": "A test source quotes the code.",
        }
    )

    load_seed(write_manifest(tmp_path, release))

    assert Milestone.objects.count() == 61
    assert Measure.objects.count() == 14
    assert Measure.objects.get(key="").reference == "ICU C14"
    assert Milestone.objects.get(key=None).date.isoformat() == "2025-03-03"


def test_an_install_seeded_before_releases_adopts_its_records_without_changing_them(first_only):
    load_seed(first_only)
    # As seeded by the loader that came before releases: records, no memory of them.
    SeededRecord.objects.all().delete()
    FactRelease.objects.all().delete()
    Milestone.objects.filter(key="M21").update(title="Edited by staff")
    Commitment.objects.get(key="PC01").delete()
    Platform.objects.get(slug="kik").delete()
    rows = list(Milestone.objects.order_by("pk").values_list("pk", "updated_at"))

    report = load_seed(first_only)

    assert report.total_created == 0
    assert report.adopted["Milestones"] == 60
    assert "PC01 (commitment): deleted by staff" in report.skipped
    assert "kik (platform): deleted by staff" in report.skipped
    assert list(Milestone.objects.order_by("pk").values_list("pk", "updated_at")) == rows
    assert Milestone.objects.get(key="M21").title == "Edited by staff"
    assert SeededRecord.objects.filter(adopted=True).count() == 322


def test_a_broken_release_writes_nothing_and_names_the_entry(first_only, tmp_path):
    load_seed(first_only)
    release = update()
    release["facts"]["corrections"].append(
        {
            "id": "M999",
            "field": "notes",
            "old": "",
            "new": "x",
            "source_ids": ["S113"],
            "evidence": "-",
        }
    )
    release["facts"]["milestones"][0]["source_ids"] = ["S500"]

    with pytest.raises(SeedError) as raised:
        load_seed(write_manifest(tmp_path, release))

    assert raised.value.lines == [
        "update-2.json: M999: id: a correction to an unknown record",
        "update-2.json: M61: source_ids: cites S500, which is not a known source",
    ]
    assert list(FactRelease.objects.values_list("name", flat=True)) == ["0001_first_facts"]
    assert not Milestone.objects.filter(key="M61").exists()
    assert Milestone.objects.get(key="M29").date.isoformat() == "2025-03-05"


@pytest.mark.django_db(transaction=True)
def test_two_seed_runs_at_once_apply_each_release_once(with_update):
    assert connection.vendor == "postgresql"
    reports, errors = [], []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            reports.append(load_seed(with_update))
        except Exception as error:  # any failure, reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(len(r.applied) for r in reports) == [0, 2]
    assert FactRelease.objects.count() == 2
    assert Milestone.objects.count() == 61


def test_an_editor_sees_the_conflicts_and_marks_them_resolved(first_only, with_update, client):
    load_seed(first_only)
    Milestone.objects.filter(key="M44").update(notes="Staff wrote this.")
    load_seed(with_update)
    conflict = SeedConflict.objects.get()
    editor = User.objects.create_user("editor", is_staff=True)
    editor.user_permissions.set(
        Permission.objects.filter(codename__in=["view_seedconflict", "change_seedconflict"])
    )
    client.force_login(editor)
    url = reverse("admin:regulation_seedconflict_changelist")

    waiting = client.get(url, {"resolved": "no"})
    response = client.post(
        url, {"action": "mark_resolved", "_selected_action": [conflict.pk]}, follow=True
    )

    release_page = client.get(reverse("admin:regulation_factrelease_changelist"))
    conflict_page = client.get(reverse("admin:regulation_seedconflict_change", args=[conflict.pk]))
    assert (release_page.status_code, conflict_page.status_code) == (403, 200)
    assert "Staff wrote this." in waiting.content.decode()
    assert "A note the release adds." in waiting.content.decode()
    assert "1 conflict(s) marked resolved." in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.is_resolved and conflict.resolved_by == editor
    assert not SeedConflict.objects.unresolved().exists()


def test_a_view_only_user_cannot_resolve_a_conflict(first_only, with_update, client):
    load_seed(first_only)
    Milestone.objects.filter(key="M44").update(notes="Staff wrote this.")
    load_seed(with_update)
    conflict = SeedConflict.objects.get()
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_seedconflict"))
    client.force_login(viewer)

    client.post(
        reverse("admin:regulation_seedconflict_changelist"),
        {"action": "mark_resolved", "_selected_action": [conflict.pk]},
    )

    conflict.refresh_from_db()
    assert not conflict.is_resolved


def test_a_key_staff_gave_a_new_record_is_never_taken_for_a_later_release_record(
    first_only, with_update
):
    load_seed(first_only)
    # Staff add a milestone after the first release: it takes the next key, M61, which the
    # update also uses for a record of its own.
    staff = make_milestone(title="Added by staff", status=Status.DRAFT)
    assert staff.key == "M61"

    report = load_seed(with_update)

    staff.refresh_from_db()
    assert (staff.key, staff.title) == ("M61", "Added by staff")
    row = SeededRecord.objects.get(model="regulation.milestone", fact_id="M61")
    released = Milestone.objects.get(pk=row.object_pk)
    assert released.pk != staff.pk and not row.adopted
    assert released.key == "M62"
    assert released.title.startswith("Ofcom opens an enforcement programme")
    assert report.created["Milestones"] == 1
    conflict = SeedConflict.objects.get(fact_id="M61", field="key")
    assert (conflict.object_pk, conflict.staff_value, conflict.release_value) == (
        released.pk,
        "M62",
        "M61",
    )
    assert "M61 (milestone): key M61 is held by a record staff created" in " ".join(
        report.conflicts
    )


def test_a_staff_record_deleted_under_a_later_release_key_does_not_stop_that_record(
    first_only, with_update
):
    load_seed(first_only)
    make_milestone(title="Added by staff, then deleted", status=Status.DRAFT).delete()

    report = load_seed(with_update)

    assert report.created["Milestones"] == 1
    released = Milestone.objects.get(key="M61")
    assert released.title.startswith("Ofcom opens an enforcement programme")
    assert not SeedConflict.objects.filter(field="key").exists()
