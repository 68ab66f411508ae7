"""Every write in the admin needs the matching permission, checked on the request.

A staff user who may only look at records must not be able to change anything, whichever admin
URL they POST to; a revert from the history page is a change like any other and obeys the same
rules (publishing needs a source, a date moves only with its reason).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.models import Session
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from regulation.models import (
    PUBLISH_WITHOUT_SOURCE,
    Commitment,
    DeliveryStatus,
    FactRelease,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    SeedConflict,
    SingleLineField,
    Source,
    Status,
    Topic,
)
from tests.factories import make_commitment, make_milestone, make_platform, make_source
from tests.tracker.reminders import subscribe
from tracker.models import FollowUp, Heartbeat, PlannerRun, Reminder
from tracker.webhooks.models import Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


# --- Who is asking --------------------------------------------------------------------------


def staff_user(username: str, *codenames: str) -> User:
    # No password: tests log in directly, and hashing one costs a noticeable fraction of a second.
    user = User.objects.create_user(username, f"{username}@example.org", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer() -> User:
    """Staff who may look at every record in the admin and change none."""
    user = staff_user("viewer")
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


@pytest.fixture
def viewer_client(viewer) -> Client:
    return client_for(viewer)


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.org", password=None)


@pytest.fixture
def root_client(superuser) -> Client:
    return client_for(superuser)


# --- What is in the database ----------------------------------------------------------------


def database_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, history and many-to-many tables included. Sessions are left
    out: logging in writes them, and they hold no knowledge."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
        if model is not Session
    }


def cited_draft(record: models.Model, source: Source) -> models.Model:
    """A draft citing a source, edited once, so it has a history to revert and can be published."""
    record.sources.add(source)
    record.notes = "Checked against the source."
    record.save()
    return record


@pytest.fixture
def world() -> None:
    """Records of every registered kind; for each, at least one that may be deleted and one with
    more than one version in its history."""
    source = make_source(key="S1")
    source.url = "https://www.ofcom.org.uk/moved"
    source.save()
    make_source(key="S2")
    Topic.objects.create(name="Grooming", slug="grooming")
    cited_draft(Organisation.objects.create(name="NSPCC", kind="charity"), source)
    snapchat = cited_draft(Platform.objects.create(name="Snapchat"), source)
    cited_draft(
        Instrument.objects.create(title="Online Safety Act", kind="act", stage="final"), source
    )
    cited_draft(Measure.objects.create(title="Default settings", summary="Hide children."), source)
    milestone = cited_draft(make_milestone(key="M21", status=Status.DRAFT), source)
    milestone.move_to(dt.date(2026, 9, 1), reason="Ofcom's roadmap")
    commitment = make_commitment(key="C1", status=Status.DRAFT, platforms=[snapchat])
    cited_draft(commitment, source)
    commitment.record_update(on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.IN_PROGRESS)
    cited_draft(Indicator.objects.create(name="Grooming offences"), source)
    indicator = Indicator.objects.create(name="Offences by platform")
    observation = Observation.objects.create(
        indicator=indicator, metric="Offences", value_text="7,062", period_label="2023/24"
    )
    cited_draft(observation, source)
    Heartbeat.objects.create(worker="celery@host", task_id="task-1")
    subscription = subscribe(milestone=milestone)
    subscribe(platform=snapchat)
    now = timezone.now()
    Reminder.objects.create(
        subscription=subscription,
        milestone=milestone,
        kind="day",
        planned_for=milestone.date,
        lead_days=7,
        not_before=now,
        created_at=now,
        updated_at=now,
    )
    PlannerRun.objects.create(started_at=now, finished_at=now)
    FollowUp.objects.create(
        kind="review_due", commitment=commitment, occasion=now.date(), created_at=now
    )
    release = FactRelease.objects.create(
        name="0001_first_facts", facts_file="osa-facts.json", curation_file="curation.json"
    )
    FactRelease.objects.create(
        name="0002_update", facts_file="update.json", curation_file="curation-update.json"
    )
    SeedConflict.objects.create(
        release=release,
        model="regulation.milestone",
        fact_id="M21",
        field="notes",
        staff_value="Checked by staff",
        release_value="As the facts say",
    )
    staff_user("contributor")
    AuthToken.objects.create(staff_user("api-client"))
    AuthToken.objects.create(staff_user("api-client-2"))
    endpoint = Endpoint.objects.create(
        owner=staff_user("webhook-client"), url="https://hooks.example.org/in"
    )
    event = Event.objects.create(type="milestone.confirmed", payload={"key": "M21"})
    Delivery.objects.create(event=event, endpoint=endpoint)
    Group.objects.create(name="Editors")


# --- Building a plausible POST from the page the admin serves --------------------------------


def form_data(form: forms.BaseForm) -> dict[str, Any]:
    """What a browser would submit for the form as rendered, without any change."""
    data: dict[str, Any] = {}
    for field in form:
        if field.field.disabled:
            continue
        value, widget = field.value(), field.field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = value if isinstance(value, list) else widget.decompress(value)
            for suffix, part in zip(widget.widgets_names, parts, strict=True):
                data[field.html_name + suffix] = "" if part is None else part
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[field.html_name] = "on"
        else:
            data[field.html_name] = "" if value is None else value
    return data


def page_data(response) -> dict[str, Any]:
    """The main form and every inline formset of an admin add, change or history page."""
    data = form_data(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        data |= form_data(inline.formset.management_form)
        for form in inline.formset.forms:
            data |= form_data(form)
    return data


def model_field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def edited(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    """The data with one plain text field changed, so a save would visibly change the record."""
    for name, value in data.items():
        field = model_field(model, name)
        plain = type(field) in (models.CharField, SingleLineField, models.TextField)
        if plain and value and not field.choices and not field.unique:
            return {**data, name: f"{value} (edited)"}
    return data


def with_form_only_fields_filled(page) -> dict[str, Any]:
    """The page's data with its empty form-only text fields (such as why a date changed)
    filled in, as an editor would."""
    form, data = page.context["adminform"].form, page_data(page)
    for name, field in form.fields.items():
        if not model_field(form._meta.model, name) and type(field) is forms.CharField:
            data[name] = data[name] or "Restored by the permission walk"
    return data


def new_record_data(model, add_page, change_page) -> dict[str, Any]:
    """The add form filled from an existing record, with its unique values made new."""
    existing = page_data(change_page)
    fields = add_page.context["adminform"].form.fields
    data = page_data(add_page)
    for name, value in data.items():
        if value in ("", []) and name in existing:
            data[name] = existing[name]
        elif value == "" and isinstance(fields[name].widget, forms.PasswordInput):
            data[name] = "a-long-password-for-a-new-user"
    for name, value in data.items():
        field = model_field(model, name)
        if field is not None and field.unique and not field.primary_key:
            if isinstance(field, models.EmailField):
                data[name] = f"new-{value}"
            else:
                data[name] = "" if field.blank else f"{value}-2"
    return data


# --- Every admin URL that accepts POST, for every registered model ----------------------------


@dataclass(frozen=True)
class Write:
    model: type[models.Model]
    kind: str  # add, change, delete, revert or action
    action: str = ""

    def __str__(self) -> str:
        return f"{self.model._meta.label}-{self.kind}{'-' + self.action if self.action else ''}"


def every_admin_write() -> list[Write]:
    writes = []
    for model, model_admin in admin.site._registry.items():
        writes += [Write(model, "add"), Write(model, "change"), Write(model, "delete")]
        if isinstance(model_admin, SimpleHistoryAdmin):
            writes.append(Write(model, "revert"))
        writes += [Write(model, "action", name) for _, name, _ in model_admin._get_base_actions()]
    return writes


def target(model: type[models.Model], spare: set[User]) -> models.Model:
    """A record of the model that nothing protects from deletion (and not a user acting)."""
    for record in model._default_manager.order_by("pk"):
        if record in spare:
            continue
        collector = NestedObjects(using="default")
        collector.collect([record])
        if not collector.protected:
            return record
    raise AssertionError(f"the world has no deletable {model._meta.label}")


def prepare(write: Write, record: models.Model, root: Client) -> tuple[str, dict]:
    """The URL and the data of the write, as a user allowed to make it would send them."""
    opts = record._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    change_url = reverse(f"{name}_change", args=[record.pk])
    if write.kind == "add":
        url, add_page = reverse(f"{name}_add"), root.get(reverse(f"{name}_add"))
        if add_page.status_code != 200:
            return url, {}
        return url, new_record_data(write.model, add_page, root.get(change_url))
    if write.kind == "change":
        page = root.get(change_url)
        if "adminform" not in (page.context or {}):
            return change_url, {}
        return change_url, edited(write.model, page_data(page))
    if write.kind == "delete":
        return reverse(f"{name}_delete", args=[record.pk]), {"post": "yes"}
    if write.kind == "revert":
        version = record.history.earliest()
        url = reverse(f"{name}_simple_history", args=[record.pk, version.history_id])
        return url, with_form_only_fields_filled(root.get(url))
    data = {"action": write.action, "_selected_action": [record.pk], "post": "yes"}
    if write.action == "send_back":  # the note its own page asks for
        data |= {"apply": "yes", "note": "Cite the primary source."}
    if write.action == "merge_selected":  # a duplicate, the record to keep and why
        data |= {
            "_selected_action": [record.pk, duplicate_of(record).pk],
            "apply": "yes",
            "kept": record.pk,
            "reason": "Entered twice.",
        }
    return reverse(f"{name}_changelist"), data


def duplicate_of(record: models.Model) -> models.Model:
    """A new draft copy of the record (its unique values left to be made afresh), to merge."""
    duplicate = record._meta.model._default_manager.get(pk=record.pk)
    duplicate.pk, duplicate._state.adding = None, True
    for field in record._meta.concrete_fields:
        if field.unique and not field.primary_key:
            setattr(duplicate, field.attname, None if field.null else "")
    if hasattr(duplicate, "status"):
        duplicate.status = Status.DRAFT
    duplicate.save()
    return duplicate


def superuser_may(write: Write, record: models.Model, superuser: User) -> bool:
    """Whether the admin allows this write to anyone at all (some models are read-only)."""
    request = RequestFactory().get("/")
    request.user = superuser
    model_admin = admin.site._registry[write.model]
    if write.kind == "action":
        return write.action in model_admin.get_actions(request)
    if write.kind == "add":
        return model_admin.has_add_permission(request)
    if write.kind == "delete":
        return model_admin.has_delete_permission(request, record)
    return model_admin.has_change_permission(request, record)


def refusals(write: Write) -> set[int]:
    """403 from our admins. Django's own admins (users, groups) answer an action the user may
    not run by showing the list again with nothing done."""
    ours = write.model._meta.app_label in ("regulation", "tracker")
    return {403} if ours or write.kind != "action" else {403, 200}


@pytest.mark.parametrize("write", every_admin_write(), ids=str)
def test_a_view_only_user_changes_nothing_through_any_admin_url(
    write, world, viewer, viewer_client, superuser, root_client
):
    record = target(write.model, spare={viewer, superuser})
    if write.action == "unpublish_selected":
        record.publish()  # unpublishing a draft changes nothing, whoever asks
    url, data = prepare(write, record, root_client)
    before = database_state()

    response = viewer_client.post(url, data)

    assert response.status_code in refusals(write), (url, response.status_code)
    assert database_state() == before

    # The same request from a user allowed to make it does write, so the refusal above is the
    # permission check and not bad data.
    response = root_client.post(url, data)
    if superuser_may(write, record, superuser):
        assert response.status_code == 302, (url, response.status_code)
        assert database_state() != before
    else:
        assert response.status_code == 403
        assert database_state() == before


def test_the_walk_covers_django_s_admins_and_every_history_and_action():
    kinds = {(write.model, write.kind, write.action) for write in every_admin_write()}

    assert {(User, "change", ""), (Group, "delete", "")} <= kinds
    assert (Milestone, "revert", "") in kinds
    assert (Source, "revert", "") in kinds
    assert (Commitment, "action", "publish_selected") in kinds
    assert (Source, "action", "merge_selected") in kinds
    assert (Heartbeat, "action", "delete_selected") in kinds


# --- The reported case: a view-only user reverting -----------------------------------------


def revert_url(record: models.Model, version) -> str:
    opts = record._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_simple_history"
    return reverse(name, args=[record.pk, version.history_id])


def revert_form(client: Client, record: models.Model, version, **changes) -> tuple[str, dict]:
    url = revert_url(record, version)
    page = client.get(url)
    assert page.status_code == 200
    return url, {**page_data(page), **changes}


@pytest.fixture
def cited_milestone() -> Milestone:
    source = make_source()
    milestone = make_milestone(
        key="M21", date=dt.date(2026, 7, 1), date_precision="month", status=Status.DRAFT
    )
    return cited_draft(milestone, source)


def test_a_view_only_user_cannot_publish_a_draft_through_the_revert_form(
    viewer_client, cited_milestone
):
    url, data = revert_form(
        viewer_client, cited_milestone, cited_milestone.history.earliest(), status="published"
    )
    data["sources"] = [source.pk for source in cited_milestone.sources.all()]

    response = viewer_client.post(url, data)

    assert response.status_code == 403  # was 302, and the draft was published
    cited_milestone.refresh_from_db()
    assert cited_milestone.status == Status.DRAFT


def test_a_view_only_user_cannot_move_a_date_through_the_revert_form(
    viewer_client, cited_milestone
):
    versions = cited_milestone.history.count()
    url, data = revert_form(
        viewer_client,
        cited_milestone,
        cited_milestone.history.earliest(),
        date="2027-01-01",
        date_change_reason="Because I can",
    )

    response = viewer_client.post(url, data)

    assert response.status_code == 403  # was 302, and the date moved with no record of it
    cited_milestone.refresh_from_db()
    assert cited_milestone.date == dt.date(2026, 7, 1)
    assert not cited_milestone.date_changes.exists()
    assert cited_milestone.history.count() == versions


def test_a_view_only_user_cannot_change_a_sources_url_through_the_revert_form(viewer_client):
    source = make_source(url="https://www.ofcom.org.uk/statement")
    url, data = revert_form(
        viewer_client, source, source.history.earliest(), url="https://attacker.example/"
    )

    response = viewer_client.post(url, data)

    assert response.status_code == 403  # was 302, and the URL was changed
    source.refresh_from_db()
    assert source.url == "https://www.ofcom.org.uk/statement"


def test_a_view_only_user_may_still_read_a_past_version(viewer_client, cited_milestone):
    response = viewer_client.get(revert_url(cited_milestone, cited_milestone.history.earliest()))

    assert response.status_code == 200
    assert response.context["revert_disabled"]


# --- Reverting with change permission: the rules still hold --------------------------------


def test_a_revert_to_a_version_without_sources_cannot_leave_a_published_record_uncited(
    editor_client,
):
    # Published as the rule requires: its first version, the new draft, cites nothing.
    milestone = make_milestone(status=Status.PUBLISHED)
    (source,) = milestone.sources.all()
    first = milestone.history.earliest()
    assert (first.status, list(first.sources.all())) == ("draft", [])
    url, data = revert_form(editor_client, milestone, first, sources=[], status="published")

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert PUBLISH_WITHOUT_SOURCE in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.is_published
    assert list(milestone.sources.all()) == [source]


def test_a_revert_that_moves_the_date_needs_a_reason(editor_client, cited_milestone):
    first = cited_milestone.history.earliest()
    cited_milestone.move_to(dt.date(2026, 9, 1), reason="Ofcom's roadmap")
    url, data = revert_form(editor_client, cited_milestone, first)
    assert data["date"] == dt.date(2026, 7, 1)

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert "Say why the date changed" in response.content.decode()
    cited_milestone.refresh_from_db()
    assert cited_milestone.date == dt.date(2026, 9, 1)
    assert cited_milestone.date_changes.count() == 1


def test_a_revert_that_moves_the_date_records_the_move(editor_client, editor, cited_milestone):
    first = cited_milestone.history.earliest()
    cited_milestone.move_to(dt.date(2026, 9, 1), reason="Ofcom's roadmap")
    url, data = revert_form(
        editor_client, cited_milestone, first, date_change_reason="Ofcom withdrew the delay"
    )

    response = editor_client.post(url, data)

    assert response.status_code == 302
    cited_milestone.refresh_from_db()
    assert cited_milestone.date_display == "July 2026"
    latest = cited_milestone.date_changes.latest("created_at")
    assert str(latest) == "September 2026 → July 2026"
    assert (latest.reason, latest.created_by) == ("Ofcom withdrew the delay", editor)
    reverted = cited_milestone.history.latest()
    assert reverted.history_change_reason == f"Reverted to version {first.history_id}"
    assert reverted.history_user == editor


def test_a_revert_keeps_the_key_the_record_has_now(editor_client):
    milestone = make_milestone(status=Status.DRAFT)  # created without a key
    first = milestone.history.earliest()
    milestone.key = "M99"
    milestone.save()
    url, data = revert_form(editor_client, milestone, first, title="Restored title")

    response = editor_client.post(url, data)

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.key, milestone.title) == ("M99", "Restored title")


def test_a_revert_leaves_the_delivery_status_to_the_status_updates(editor_client):
    commitment = make_commitment(platforms=[make_platform()], status=Status.DRAFT)
    first = commitment.history.earliest()
    commitment.record_update(on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED)
    url, data = revert_form(editor_client, commitment, first)

    response = editor_client.post(url, data)

    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.DELIVERED


def test_a_deleted_record_is_not_brought_back_by_a_revert(editor_client):
    source = make_source()
    version = source.history.earliest()
    url, data = revert_form(editor_client, source, version)
    source.delete()

    editor_client.post(url, data)

    assert not Source.objects.exists()


# --- Inlines and list actions need their own permissions ----------------------------------


def test_changing_a_commitment_does_not_let_a_user_add_status_updates_they_may_only_view():
    user = staff_user("c", "view_commitment", "change_commitment", "view_commitmentupdate")
    commitment = make_commitment(platforms=[make_platform()], status=Status.DRAFT)
    client = client_for(user)
    url = reverse("admin:regulation_commitment_change", args=[commitment.pk])
    data = page_data(client.get(url))
    data |= {
        "updates-TOTAL_FORMS": 1,
        "updates-0-on": "2025-06-01",
        "updates-0-delivery_status": "delivered",
        "updates-0-note": "Done",
        "updates-0-evidence": "",
    }

    response = client.post(url, data | {"summary": "Reworded"})

    assert response.status_code == 302  # the commitment was saved, its new update ignored
    commitment.refresh_from_db()
    assert commitment.summary == "Reworded"
    assert not commitment.updates.exists()
    assert commitment.delivery_status == DeliveryStatus.ANNOUNCED


def test_a_user_who_may_not_record_date_changes_cannot_move_a_date():
    user = staff_user("m", "view_milestone", "change_milestone", "view_datechange")
    milestone = make_milestone(date=dt.date(2026, 7, 1), status=Status.DRAFT)
    client = client_for(user)
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])
    data = page_data(client.get(url)) | {
        "date": "2027-01-01",
        "date_change_reason": "Slipped",
        "title": "Renamed",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert (milestone.title, milestone.date) == ("Renamed", dt.date(2026, 7, 1))
    assert not milestone.date_changes.exists()


def test_posting_an_action_the_user_may_not_run_is_refused():
    user = staff_user("p", "view_milestone", "change_milestone")
    milestone = make_milestone(status=Status.DRAFT)
    url = reverse("admin:regulation_milestone_changelist")
    data = {"action": "delete_selected", "_selected_action": [milestone.pk], "post": "yes"}

    response = client_for(user).post(url, data)

    assert response.status_code == 403
    assert Milestone.objects.filter(pk=milestone.pk).exists()


# --- A key, once set, cannot be edited in the admin ----------------------------------------


KEYED_MODELS = [model for model in admin.site._registry if model_field(model, "key")]


def test_every_record_with_a_key_is_covered():
    assert {Source, Milestone, Commitment, Organisation} <= set(KEYED_MODELS)


@pytest.mark.parametrize("model", KEYED_MODELS, ids=lambda model: model.__name__)
def test_a_key_once_set_is_read_only_on_the_change_form(model, world, editor_client):
    record = model._default_manager.exclude(key=None).first() or model._default_manager.first()
    record.key = "K1"
    record.save()
    url = reverse(f"admin:regulation_{model._meta.model_name}_change", args=[record.pk])
    page = editor_client.get(url)
    assert "key" not in page.context["adminform"].form.fields
    data = page_data(page) | {"key": "K2"}

    response = editor_client.post(url, data)

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.key == "K1"


@pytest.mark.parametrize("model", KEYED_MODELS, ids=lambda model: model.__name__)
def test_a_record_without_a_key_may_be_given_one(model, world, editor_client):
    record = model._default_manager.first()
    record.key = None
    record.save()
    url = reverse(f"admin:regulation_{model._meta.model_name}_change", args=[record.pk])

    assert "key" in editor_client.get(url).context["adminform"].form.fields


@pytest.mark.parametrize("model", KEYED_MODELS, ids=lambda model: model.__name__)
def test_a_new_record_saved_without_a_key_gets_the_next_of_its_series(
    model, world, editor_client, root_client
):
    record = model._default_manager.first()
    name = f"admin:regulation_{model._meta.model_name}"
    root = root_client
    add_page = root.get(reverse(f"{name}_add"))
    assert "key" in add_page.context["adminform"].form.fields
    data = new_record_data(model, add_page, root.get(reverse(f"{name}_change", args=[record.pk])))
    assert data["key"] == ""

    response = editor_client.post(reverse(f"{name}_add"), data)

    assert response.status_code == 302
    # It is given the next key of its type's series (a type without one keeps none).
    created = model._default_manager.latest("created_at")
    series = getattr(model, "key_series", "")
    if series:
        assert created.key == next_key_after(model, created)
    else:
        assert created.key is None


def next_key_after(model, created) -> str:
    series = model.key_series
    numbers = [
        int(key[len(series) :])
        for key in model._default_manager.exclude(pk=created.pk).values_list("key", flat=True)
        if key and key.startswith(series) and key[len(series) :].isdigit()
    ]
    return f"{series}{max(numbers, default=0) + 1}"
