"""A published record cites at least one source, whichever path changes it: the admin, the ORM,
many-to-many managers, bulk queries, loaddata, and the database itself (more paths round the
models: test_publishing_paths)."""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from regulation.models import (
    Commitment,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Status,
    UncitedRecordsError,
    public_models,
)
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_source,
)

pytestmark = pytest.mark.django_db

HARMS = "Illegal harms duties in force"


@pytest.fixture
def only_source() -> Source:
    return make_source(title="Ofcom roadmap")


@pytest.fixture
def milestone(only_source) -> Milestone:
    """A published milestone whose only source is `only_source`."""
    return make_milestone(title="Illegal harms duties in force", sources=[only_source])


def still_published_and_cited(record) -> bool:
    record.refresh_from_db()
    return record.is_published and record.sources.exists()


# --- Deleting a source ---------------------------------------------------------------------


def test_deleting_the_only_source_of_a_published_record_is_refused_naming_it(
    milestone, only_source
):
    with pytest.raises(UncitedRecordsError, match="Illegal harms duties in force"):
        only_source.delete()

    assert Source.objects.filter(pk=only_source.pk).exists()
    assert still_published_and_cited(milestone)


def test_a_bulk_delete_of_every_source_a_record_cites_is_refused(only_source):
    second = make_source()
    record = make_commitment(summary="Teen accounts by default", sources=[only_source, second])

    with pytest.raises(UncitedRecordsError, match="Teen accounts by default"):
        Source.objects.filter(pk__in=[only_source.pk, second.pk]).delete()

    assert Source.objects.filter(pk__in=[only_source.pk, second.pk]).count() == 2
    assert still_published_and_cited(record)


def test_a_source_may_go_while_the_record_cites_another(milestone, only_source):
    milestone.sources.add(make_source())

    only_source.delete()

    assert still_published_and_cited(milestone)


def test_a_source_cited_only_by_drafts_may_be_deleted(only_source):
    draft = make_milestone(status=Status.DRAFT, sources=[only_source])

    Source.objects.filter(pk=only_source.pk).delete()

    assert not draft.sources.exists()


# --- Deleting a source in the admin ---------------------------------------------------------


@pytest.fixture
def source_deleter(client) -> User:
    """Staff holding only delete_source."""
    user = User.objects.create_user("deleter", password="a-long-test-password", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="delete_source"))
    client.force_login(user)
    return user


def test_the_admin_refuses_to_delete_a_records_only_source_and_names_the_record(
    client, source_deleter, milestone, only_source
):
    url = reverse("admin:regulation_source_delete", args=[only_source.pk])

    page = client.get(url)
    response = client.post(url, {"post": "yes"})

    assert "Illegal harms duties in force" in page.content.decode()
    assert response.status_code == 200
    assert "Illegal harms duties in force" in response.content.decode()
    assert response.context["protected"]
    assert Source.objects.filter(pk=only_source.pk).exists()
    assert still_published_and_cited(milestone)


def test_the_admin_bulk_delete_refuses_and_names_the_record(
    client, source_deleter, milestone, only_source
):
    other = make_source()
    # The list, where the bulk action lives, needs view permission too.
    source_deleter.user_permissions.add(Permission.objects.get(codename="view_source"))
    url = reverse("admin:regulation_source_changelist")
    data = {"action": "delete_selected", "_selected_action": [only_source.pk, other.pk]}

    response = client.post(url, {**data, "post": "yes"})

    assert "Illegal harms duties in force" in response.content.decode()
    assert Source.objects.filter(pk__in=[only_source.pk, other.pk]).count() == 2
    assert still_published_and_cited(milestone)


def test_the_admin_still_deletes_a_source_nothing_depends_on(client, source_deleter):
    source = make_source()
    url = reverse("admin:regulation_source_delete", args=[source.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()


# --- Removing citations through many-to-many managers -----------------------------------------


def test_removing_the_last_source_from_a_published_record_is_refused(milestone, only_source):
    with pytest.raises(UncitedRecordsError, match=HARMS), transaction.atomic():
        milestone.sources.remove(only_source)

    assert still_published_and_cited(milestone)


def test_clearing_a_published_records_sources_is_refused(milestone):
    with pytest.raises(UncitedRecordsError, match=HARMS), transaction.atomic():
        milestone.sources.clear()

    assert still_published_and_cited(milestone)


def test_removing_from_the_sources_side_is_refused(milestone, only_source):
    with pytest.raises(UncitedRecordsError, match=HARMS), transaction.atomic():
        only_source.milestones.remove(milestone)
    with pytest.raises(UncitedRecordsError, match=HARMS), transaction.atomic():
        only_source.milestones.clear()

    assert still_published_and_cited(milestone)


def test_replacing_all_of_a_records_sources_through_a_form_keeps_it_cited(milestone):
    replacement = make_source()

    Milestone._meta.get_field("sources").save_form_data(milestone, [replacement])

    assert list(milestone.sources.all()) == [replacement]


def test_saving_a_form_with_the_same_sources_records_no_new_version(milestone, only_source):
    versions = milestone.history.count()

    Milestone._meta.get_field("sources").save_form_data(milestone, [only_source])

    assert milestone.history.count() == versions


def test_a_draft_may_lose_all_its_sources(only_source):
    draft = make_milestone(status=Status.DRAFT, sources=[only_source])

    draft.sources.clear()

    assert not draft.sources.exists()


# --- Publishing in bulk and creating as published -------------------------------------------


def test_a_bulk_update_to_published_is_refused_for_records_citing_nothing():
    cited = make_milestone(status=Status.DRAFT, sources=[make_source()])
    uncited = make_milestone(status=Status.DRAFT, title="Categorisation register")

    with pytest.raises(UncitedRecordsError, match="Categorisation register"):
        Milestone.objects.filter(pk__in=[cited.pk, uncited.pk]).update(status=Status.PUBLISHED)

    assert not Milestone.objects.published().exists()


def test_a_bulk_update_may_publish_records_that_cite_a_source():
    cited = make_milestone(status=Status.DRAFT, sources=[make_source()])

    Milestone.objects.filter(pk=cited.pk).update(status=Status.PUBLISHED)

    assert still_published_and_cited(cited)


@pytest.mark.parametrize(
    "create",
    [
        lambda: Platform.objects.create(name="Snapchat", status=Status.PUBLISHED),
        lambda: Platform(name="Snapchat", status=Status.PUBLISHED).save(),
        lambda: Platform.objects.bulk_create([Platform(name="Snapchat", status=Status.PUBLISHED)]),
    ],
    ids=["objects.create", "save", "bulk_create"],
)
def test_a_new_record_cannot_be_created_as_published(create):
    with pytest.raises(ValidationError, match="cannot be created as published"):
        create()

    assert not Platform.objects.exists()


def test_a_record_is_created_as_a_draft_then_published_once_it_cites_a_source():
    platform = Platform.objects.create(name="Snapchat")
    platform.sources.add(make_source())

    platform.publish()

    assert still_published_and_cited(platform)


# --- The database itself (PostgreSQL's deferred triggers, SQLite's deferred foreign key) ------
# connection.check_constraints() checks what COMMIT would.


DRAFTS = {
    Organisation: lambda: Organisation.objects.create(name="Ofcom"),
    Platform: lambda: Platform.objects.create(name="Snapchat"),
    Instrument: lambda: Instrument.objects.create(title="Act", kind="act", stage="in_force"),
    Measure: lambda: Measure.objects.create(title="Default settings", summary="..."),
    Milestone: lambda: make_milestone(status=Status.DRAFT),
    Commitment: lambda: make_commitment(status=Status.DRAFT),
    Indicator: lambda: make_indicator(),
    Observation: lambda: make_observation(),
}


def test_every_public_model_is_covered_here():
    assert set(DRAFTS) == set(public_models())


@pytest.mark.parametrize("model", DRAFTS, ids=lambda m: m.__name__)
def test_the_database_refuses_to_commit_a_published_record_without_a_source(model):
    record = DRAFTS[model]()

    # Raw SQL goes round every check in Python: only the trigger is left to refuse.
    with pytest.raises(IntegrityError, match="cites none"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {model._meta.db_table} SET status = 'published' WHERE id = %s",
                [record.pk],
            )
        connection.check_constraints()

    record.refresh_from_db()
    assert not record.is_published


def test_the_database_refuses_to_commit_the_removal_of_a_published_records_last_source(
    milestone,
):
    table = Milestone.sources.through._meta.db_table

    with pytest.raises(IntegrityError, match="cites none"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE milestone_id = %s", [milestone.pk])
        connection.check_constraints()

    assert still_published_and_cited(milestone)


def test_the_database_accepts_a_record_published_once_its_sources_are_in(only_source):
    with transaction.atomic():
        # Published before its source row exists: only the state at commit counts.
        milestone = make_milestone(status=Status.DRAFT)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Milestone._meta.db_table} SET status = 'published' WHERE id = %s",
                [milestone.pk],
            )
        milestone.sources.add(only_source)
        connection.check_constraints()

    assert still_published_and_cited(milestone)


def test_loaddata_cannot_bring_in_a_published_record_without_a_source(tmp_path):
    fixture = tmp_path / "uncited.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "regulation.platform",
                    "fields": {
                        "name": "Snapchat",
                        "slug": "snapchat",
                        "status": "published",
                        "created_at": "2025-07-25T09:00:00Z",
                        "updated_at": "2025-07-25T09:00:00Z",
                    },
                }
            ]
        )
    )

    with pytest.raises(IntegrityError, match="cites none"), transaction.atomic():
        call_command("loaddata", str(fixture), verbosity=0)
        connection.check_constraints()

    assert not Platform.objects.exists()


# --- The check for databases without the trigger (SQLite) ---------------------------------------


def test_the_system_check_reports_a_published_record_citing_no_source(milestone, only_source):
    with transaction.atomic():
        Milestone.sources.through.objects.filter(milestone=milestone).delete()  # raw: no signal
        errors = checks.run_checks(tags=[checks.Tags.database], databases=["default"])
        transaction.set_rollback(True)

    assert [e.id for e in errors] == ["regulation.E001"]
    assert "Illegal harms duties in force" in errors[0].msg


def test_the_system_check_is_quiet_when_every_published_record_cites_a_source(milestone):
    assert checks.run_checks(tags=[checks.Tags.database], databases=["default"]) == []
