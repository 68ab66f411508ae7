"""Contributors and editors: only an editor changes what the public sees, on every path.

The groups come from the data migration, as on a real site. Each way to change a record's
status is tried by anonymous visitors, a contributor, an editor and a superuser, with POSTs
built by hand (a contributor's browser never shows the publish action or the status field,
so the refusal must be on the request, not only in the page).
"""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.test import Client
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
    PublicRecord,
    ReviewState,
    Status,
    public_models,
)
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)
from tests.regulation.test_admin_permissions import page_data

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "contributor", "editor", "superuser"]
# Who may publish, unpublish, and delete a published record.
DECIDES = {"anonymous": False, "contributor": False, "editor": True, "superuser": True}


def member(username: str, group: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def persona(name: str) -> tuple[User | None, Client]:
    client = Client()
    if name == "anonymous":
        return None, client
    if name == "superuser":
        user = User.objects.create_superuser("root", "root@example.org", password=None)
    else:
        user = member(name, name.capitalize())
    client.force_login(user)
    return user, client


def cited(record: PublicRecord) -> PublicRecord:
    record.sources.add(make_source())
    return record


def draft_of(model: type[PublicRecord]) -> PublicRecord:
    """A cited draft of the model, ready to be published."""
    makers = {
        Organisation: lambda: Organisation.objects.create(name="NSPCC", kind="charity"),
        Platform: lambda: make_platform(status=Status.DRAFT),
        Instrument: lambda: Instrument.objects.create(
            title="Online Safety Act 2023", kind="act", stage="in_force"
        ),
        Measure: lambda: Measure.objects.create(title="Default settings", summary="Hide."),
        Milestone: lambda: make_milestone(status=Status.DRAFT),
        Commitment: lambda: make_commitment(status=Status.DRAFT, platforms=[make_platform()]),
        Indicator: make_indicator,
        Observation: make_observation,
    }
    return cited(makers[model]())


def admin_url(record: PublicRecord, view: str, *args) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def action(client: Client, record: PublicRecord, name: str, **extra):
    data = {"action": name, "_selected_action": [record.pk], "post": "yes", **extra}
    return client.post(admin_url(record, "changelist"), data)


def status_of(record: PublicRecord) -> str:
    return type(record)._default_manager.values_list("status", flat=True).get(pk=record.pk)


def assert_refused(response, who: str) -> None:
    if who == "anonymous":
        assert response.status_code == 302
        assert reverse("admin:login") in response["Location"]
    else:
        assert response.status_code == 403


# --- The groups the migration creates --------------------------------------------------------


def test_the_migration_creates_contributor_and_editor_groups_with_their_permissions():
    contributor = set(
        Group.objects.get(name="Contributor").permissions.values_list("codename", flat=True)
    )
    editor = set(Group.objects.get(name="Editor").permissions.values_list("codename", flat=True))

    for model in public_models():
        name = model._meta.model_name
        assert {f"add_{name}", f"change_{name}", f"view_{name}"} <= contributor
        assert f"publish_{name}" not in contributor
        assert f"publish_{name}" in editor
    assert {"add_source", "add_commitmentupdate", "add_datechange"} <= contributor
    assert contributor < editor


# --- publish() and unpublish() themselves ----------------------------------------------------


@pytest.mark.parametrize("who", PERSONAS[1:])
def test_publish_and_unpublish_ask_for_the_permission(who):
    user, _ = persona(who)
    milestone = draft_of(Milestone)

    if not DECIDES[who]:
        with pytest.raises(PermissionDenied):
            milestone.publish(by=user)
        assert status_of(milestone) == Status.DRAFT
        return
    milestone.publish(by=user)
    milestone.refresh_from_db()
    assert (milestone.status, milestone.published_by) == (Status.PUBLISHED, user)
    assert milestone.published_at is not None
    milestone.unpublish(by=user)
    assert status_of(milestone) == Status.DRAFT


def test_a_system_path_publishes_without_a_user():
    milestone = draft_of(Milestone)

    milestone.publish()

    milestone.refresh_from_db()
    assert milestone.is_published
    assert milestone.published_by is None


def test_a_contributor_cannot_unpublish_through_the_model():
    contributor, _ = persona("contributor")
    milestone = make_milestone()  # published

    with pytest.raises(PermissionDenied):
        milestone.unpublish(by=contributor)

    assert status_of(milestone) == Status.PUBLISHED


# --- The list actions, for every public model ------------------------------------------------


@pytest.mark.parametrize("model", public_models(), ids=lambda model: model.__name__)
@pytest.mark.parametrize("who", PERSONAS)
def test_the_publish_action_needs_the_publish_permission(model, who):
    user, client = persona(who)
    record = draft_of(model)

    response = action(client, record, "publish_selected")

    if DECIDES[who]:
        assert response.status_code == 302
        record.refresh_from_db()
        assert (record.status, record.published_by) == (Status.PUBLISHED, user)
    else:
        assert_refused(response, who)
        assert status_of(record) == Status.DRAFT


@pytest.mark.parametrize("model", public_models(), ids=lambda model: model.__name__)
@pytest.mark.parametrize("who", PERSONAS)
def test_the_unpublish_action_needs_the_publish_permission(model, who):
    _, client = persona(who)
    record = draft_of(model)
    record.publish()

    response = action(client, record, "unpublish_selected")

    if DECIDES[who]:
        assert response.status_code == 302
        assert status_of(record) == Status.DRAFT
    else:
        assert_refused(response, who)
        assert status_of(record) == Status.PUBLISHED


@pytest.mark.parametrize("who", PERSONAS)
def test_the_send_back_action_needs_the_publish_permission(who):
    _, client = persona(who)
    record = draft_of(Commitment)
    record.submit_for_review()

    response = action(client, record, "send_back", apply="yes", note="Cite Ofcom's statement.")

    record.refresh_from_db()
    if DECIDES[who]:
        assert response.status_code == 302
        assert (record.review_state, record.review_note) == (
            ReviewState.SENT_BACK,
            "Cite Ofcom's statement.",
        )
    else:
        assert_refused(response, who)
        assert record.review_state == ReviewState.SUBMITTED


@pytest.mark.parametrize("who", PERSONAS)
def test_anyone_who_may_edit_submits_a_draft_for_review(who):
    _, client = persona(who)
    record = draft_of(Milestone)

    response = action(client, record, "submit_for_review")

    record.refresh_from_db()
    if who == "anonymous":
        assert_refused(response, who)
        assert record.review_state == ReviewState.NONE
    else:
        assert response.status_code == 302
        assert record.review_state == ReviewState.SUBMITTED


# --- The change form, the add form and the revert form ---------------------------------------


@pytest.mark.parametrize("who", PERSONAS)
def test_the_status_field_of_the_change_form_needs_the_publish_permission(who):
    user, client = persona(who)
    _, root = persona("superuser") if who != "superuser" else (user, client)
    milestone = draft_of(Milestone)
    url = admin_url(milestone, "change", milestone.pk)
    data = page_data(root.get(url)) | {"status": "published", "title": "Edited title"}

    response = client.post(url, data)

    milestone.refresh_from_db()
    if who == "anonymous":
        assert_refused(response, who)
        assert milestone.title != "Edited title"
    else:
        assert response.status_code == 302
        assert milestone.title == "Edited title"  # the rest of the edit is kept
    assert milestone.is_published == DECIDES[who]
    if DECIDES[who]:
        assert milestone.published_by == user


def test_a_contributor_does_not_see_the_status_field():
    _, client = persona("contributor")
    milestone = draft_of(Milestone)

    page = client.get(admin_url(milestone, "change", milestone.pk))

    assert "status" not in page.context["adminform"].form.fields
    changelist = client.get(admin_url(milestone, "changelist"))
    offered = [name for name, _ in changelist.context["action_form"].fields["action"].choices]
    assert "submit_for_review" in offered
    assert not {"publish_selected", "unpublish_selected", "send_back"} & set(offered)


@pytest.mark.parametrize("who", ["contributor", "editor"])
def test_a_new_record_posted_as_published_is_published_only_for_an_editor(who):
    user, client = persona(who)
    _, root = persona("superuser")
    template = draft_of(Commitment)
    data = page_data(root.get(admin_url(template, "change", template.pk)))
    data |= {"summary": "A new commitment", "status": "published", "key": "", "slug": ""}
    data["sources"] = [source.pk for source in template.sources.all()]

    response = client.post(reverse("admin:regulation_commitment_add"), data)

    assert response.status_code == 302
    created = Commitment.objects.get(summary="A new commitment")
    assert created.is_published == DECIDES[who]
    assert created.published_by == (user if DECIDES[who] else None)


@pytest.mark.parametrize("who", PERSONAS[1:])
def test_a_revert_to_a_published_version_publishes_only_for_an_editor(who):
    user, client = persona(who)
    milestone = draft_of(Milestone)
    milestone.publish()
    published_version = milestone.history.latest()
    milestone.unpublish()
    url = admin_url(milestone, "simple_history", milestone.pk, published_version.history_id)
    _, root = persona("superuser") if who != "superuser" else (user, client)
    data = page_data(root.get(url))
    assert data["status"] == "published"

    response = client.post(url, data)

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.is_published == DECIDES[who]


# --- Deleting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", PERSONAS)
def test_deleting_a_published_record_needs_the_publish_permission(who):
    _, client = persona(who)
    milestone = make_milestone(date=dt.date(2026, 7, 1))

    response = client.post(admin_url(milestone, "delete", milestone.pk), {"post": "yes"})

    gone = not Milestone.objects.filter(pk=milestone.pk).exists()
    assert gone == DECIDES[who]
    if not DECIDES[who]:
        assert_refused(response, who)


@pytest.mark.parametrize("who", PERSONAS)
def test_bulk_deleting_published_records_needs_the_publish_permission(who):
    _, client = persona(who)
    published, draft = make_milestone(), make_milestone(status=Status.DRAFT)
    data = {"action": "delete_selected", "_selected_action": [published.pk, draft.pk]}

    response = client.post(reverse("admin:regulation_milestone_changelist"), data | {"post": "1"})

    remaining = set(Milestone.objects.values_list("pk", flat=True))
    if DECIDES[who]:
        assert remaining == set()
    else:
        assert remaining == {published.pk, draft.pk}
        assert_refused(response, who)


def test_a_contributor_may_delete_a_draft():
    _, client = persona("contributor")
    draft = make_milestone(status=Status.DRAFT)

    response = client.post(admin_url(draft, "delete", draft.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Milestone.objects.filter(pk=draft.pk).exists()


def test_no_list_edits_the_status_in_bulk():
    """Bulk edits of the status go through the list actions only, which ask for the publish
    permission and call publish() / unpublish(): no list offers the status as an editable
    column (list_editable saves with the form's value and no such check)."""
    for model in public_models():
        model_admin = admin.site._registry[model]
        assert "status" not in model_admin.list_editable, model
        changes_status = {"publish_selected", "unpublish_selected"}
        actions = {name for _, name, _ in model_admin._get_base_actions()}
        assert changes_status <= actions, model


# --- Changing what the public sees -------------------------------------------------------------


@pytest.mark.parametrize("who", ["contributor", "editor"])
def test_only_an_editor_renames_a_published_milestone(who):
    _, client = persona(who)
    milestone = make_milestone(title="Children's codes in force")
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])
    data = {**page_data(client.get(url)), "title": "Renamed without review"}
    data["sources"] = [source.pk for source in milestone.sources.all()]

    response = client.post(url, data)

    milestone.refresh_from_db()
    if who == "editor":
        assert response.status_code == 302
        assert milestone.title == "Renamed without review"
    else:
        assert response.status_code == 403
        assert milestone.title == "Children's codes in force"


def test_a_contributor_still_changes_a_draft():
    _, client = persona("contributor")
    draft = make_milestone(title="Draft title", status=Status.DRAFT)
    url = reverse("admin:regulation_milestone_change", args=[draft.pk])
    data = {**page_data(client.get(url)), "title": "Better draft title"}

    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Better draft title"


@pytest.mark.parametrize("who", ["contributor", "editor"])
def test_only_an_editor_changes_a_source_published_records_cite(who):
    _, client = persona(who)
    source = make_source(url="https://www.ofcom.org.uk/statement")
    make_milestone(sources=[source])
    url = reverse("admin:regulation_source_change", args=[source.pk])
    data = {**page_data(client.get(url)), "url": "https://attacker.example/phish"}

    response = client.post(url, data)

    source.refresh_from_db()
    changed = source.url == "https://attacker.example/phish"
    assert (response.status_code, changed) == ((302, True) if who == "editor" else (403, False))


@pytest.mark.parametrize("who", ["contributor", "editor"])
def test_only_an_editor_moves_a_published_date_or_records_a_status_update(who):
    user, _ = persona(who)
    milestone = make_milestone(date=dt.date(2025, 3, 17))
    commitment = make_commitment(platforms=[make_platform()])
    move = lambda: milestone.move_to(dt.date(2025, 7, 25), reason="Ofcom said so", by=user)  # noqa: E731
    update = lambda: commitment.record_update(  # noqa: E731
        on=dt.date(2025, 6, 1), delivery_status="delivered", by=user
    )

    if who == "editor":
        move()
        update()
        assert milestone.date_changes.count() == commitment.updates.count() == 1
    else:
        for change in (move, update):
            with pytest.raises(PermissionDenied):
                change()
        assert milestone.date_changes.count() == commitment.updates.count() == 0
