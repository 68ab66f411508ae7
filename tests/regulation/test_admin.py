"""The admin as advocacy staff use it: log commitments with sources, record updates, publish."""

import datetime as dt

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from regulation.admin import ReadOnlyAdmin
from regulation.models import (
    PUBLISH_WITHOUT_SOURCE,
    Commitment,
    DeliveryStatus,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Status,
    Topic,
)

pytestmark = pytest.mark.django_db

ADD_COMMITMENT = reverse("admin:regulation_commitment_add")


# --- Test data ------------------------------------------------------------------------------


def make_source(title: str = "Snapchat statement on grooming", **fields) -> Source:
    defaults = {
        "url": "https://example.org/statement",
        "publisher_name": "Snap Inc.",
        "origin": Source.Origin.PRIMARY,
    }
    return Source.objects.create(title=title, **{**defaults, **fields})


def make_commitment(summary: str = "Stop recommending teens to strangers", **fields) -> Commitment:
    sources = fields.pop("sources", [])
    commitment = Commitment.objects.create(
        summary=summary, made_on=fields.pop("made_on", dt.date(2024, 11, 1)), **fields
    )
    commitment.platforms.add(Platform.objects.get_or_create(name="Snapchat")[0])
    commitment.sources.set(sources)
    return commitment


def make_milestone(title: str = "Children's codes in force", **fields) -> Milestone:
    """A draft milestone; asked for as published, it cites a source and is published by the rule."""
    defaults = {"date": dt.date(2026, 7, 1), "date_precision": "month"}
    publish = fields.pop("status", Status.DRAFT) == Status.PUBLISHED
    milestone = Milestone.objects.create(title=title, **{**defaults, **fields})
    if publish:
        milestone.sources.add(make_source())
        milestone.publish()
    return milestone


def management_form(prefix: str, total: int = 0, initial: int = 0) -> dict[str, int]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def commitment_form(platform: Platform, **fields) -> dict:
    """What an editor types into the commitment form, with an empty status-updates inline."""
    data = {
        "summary": "Stop recommending teens to strangers",
        "platforms": [platform.pk],
        "made_on": "2024-11-01",
        "made_on_precision": "day",
        "due_precision": "day",
        "status": Status.DRAFT,
        "verification": "unverified",
        **management_form("updates"),
    }
    return {**data, **fields}


def update_row(index: int, on: str, delivery_status: str, **fields) -> dict:
    row = {
        "on": on,
        "on_precision": "day",
        "delivery_status": delivery_status,
        "note": "",
        "evidence": "",
        **fields,
    }
    return {f"updates-{index}-{name}": value for name, value in row.items()}


@pytest.fixture
def snapchat() -> Platform:
    return Platform.objects.create(name="Snapchat")


@pytest.fixture
def world() -> None:
    """One record of every kind, so lists, add and change pages render real rows."""
    source = make_source(key="S1")
    ofcom = Organisation.objects.create(name="Ofcom", kind="regulator")
    topic = Topic.objects.create(name="Grooming", slug="grooming")
    act = Instrument.objects.create(title="Online Safety Act 2023", kind="act", stage="in_force")
    Measure.objects.create(title="Default settings for children", summary="...", instrument=act)
    milestone = make_milestone(key="M21")
    milestone.move_to(dt.date(2026, 9, 1), reason="Ofcom said so", source=source)
    commitment = make_commitment(key="C1", sources=[source])
    commitment.topics.add(topic)
    commitment.record_update(on=dt.date(2025, 1, 1), delivery_status="in_progress")
    indicator = Indicator.objects.create(name="Grooming offences", publisher=ofcom)
    first, second = (
        Observation.objects.create(
            indicator=indicator, metric="Offences", value_text=value, period_label="2023/24"
        )
        for value in ("7,062", "7,000")
    )
    first.conflicts_with.add(second)


# --- Publishing needs a source --------------------------------------------------------------


def test_it_adds_a_published_commitment_citing_a_source(editor_client, editor, snapchat):
    source = make_source()
    prefix = editor_client.get(ADD_COMMITMENT).context["inline_admin_formsets"][0].formset.prefix
    assert prefix == "updates"

    data = commitment_form(snapchat, status=Status.PUBLISHED, sources=[source.pk])
    response = editor_client.post(ADD_COMMITMENT, data)

    assert response.status_code == 302
    commitment = Commitment.objects.get()
    assert commitment.is_published
    assert list(commitment.sources.all()) == [source]
    assert list(commitment.platforms.all()) == [snapchat]
    creation = commitment.history.earliest()
    assert creation.history_type == "+"
    assert creation.history_user == editor


def test_it_refuses_to_publish_a_commitment_without_a_source(editor_client, snapchat):
    response = editor_client.post(ADD_COMMITMENT, commitment_form(snapchat, status="published"))

    assert response.status_code == 200
    assert not Commitment.objects.exists()
    assert PUBLISH_WITHOUT_SOURCE in response.context["adminform"].form.errors["sources"]
    assert PUBLISH_WITHOUT_SOURCE in response.content.decode()


def test_it_saves_a_draft_commitment_without_a_source(editor_client, snapchat):
    response = editor_client.post(ADD_COMMITMENT, commitment_form(snapchat, status="draft"))

    assert response.status_code == 302
    assert Commitment.objects.get().status == Status.DRAFT


def test_it_refuses_to_publish_an_organisation_without_a_source(editor_client):
    data = {"name": "Ofcom", "kind": "regulator", "relationships": "{}", "status": "published"}
    data["verification"] = "confirmed"

    response = editor_client.post(reverse("admin:regulation_organisation_add"), data)

    assert response.status_code == 200
    assert not Organisation.objects.exists()
    assert PUBLISH_WITHOUT_SOURCE in response.context["adminform"].form.errors["sources"]


def test_unpublishing_a_record_and_removing_all_its_sources_in_one_save_is_allowed(
    editor_client, editor
):
    milestone = make_milestone(status=Status.PUBLISHED)
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])

    # The form without a sources value unselects them all; a draft may cite nothing.
    response = editor_client.post(url, milestone_form(milestone, status="draft"))

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.status == Status.DRAFT
    assert not milestone.sources.exists()


def test_keeping_a_record_published_while_removing_all_its_sources_is_refused(editor_client):
    milestone = make_milestone(status=Status.PUBLISHED)
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])

    response = editor_client.post(url, milestone_form(milestone))

    assert response.status_code == 200
    assert PUBLISH_WITHOUT_SOURCE in response.context["adminform"].form.errors["sources"]
    assert milestone.sources.exists()


def test_every_public_record_admin_uses_the_publishing_rule():
    from regulation.admin import PublicRecordAdmin, PublicRecordForm

    public_models = {Organisation, Platform, Instrument, Measure, Milestone, Commitment}
    public_models |= {Indicator, Observation}
    for model in public_models:
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, PublicRecordAdmin), model
        assert issubclass(model_admin.form, PublicRecordForm), model


# --- Actions --------------------------------------------------------------------------------


def run_action(client, model_name: str, action: str, records: list):
    url = reverse(f"admin:regulation_{model_name}_changelist")
    data = {"action": action, "_selected_action": [record.pk for record in records]}
    return client.post(url, data, follow=True)


def test_publish_selected_publishes_cited_records_and_names_those_refused(editor_client):
    cited = make_commitment("Cited commitment", sources=[make_source()])
    uncited = make_commitment("Uncited commitment")

    response = run_action(editor_client, "commitment", "publish_selected", [cited, uncited])

    cited.refresh_from_db()
    uncited.refresh_from_db()
    assert cited.status == Status.PUBLISHED
    assert uncited.status == Status.DRAFT
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert ("success", "Published 1 record.") in shown
    [error] = [text for level, text in shown if level == "error"]
    assert "Uncited commitment" in error
    assert "Cited commitment" not in error
    assert PUBLISH_WITHOUT_SOURCE in error


def test_unpublish_selected_moves_records_back_to_draft_with_history(editor_client, editor):
    milestone = make_milestone(status=Status.PUBLISHED)

    run_action(editor_client, "milestone", "unpublish_selected", [milestone])

    milestone.refresh_from_db()
    assert milestone.status == Status.DRAFT
    assert milestone.history.latest().history_user == editor


# --- Status updates -------------------------------------------------------------------------


def test_it_refuses_a_status_update_dated_before_the_commitment(editor_client, snapchat):
    commitment = make_commitment()
    url = reverse("admin:regulation_commitment_change", args=[commitment.pk])
    data = commitment_form(snapchat, **management_form("updates", total=1))
    data |= update_row(0, on="2024-10-31", delivery_status="delivered")

    response = editor_client.post(url, data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors == [{"on": ["A status update cannot be dated before the commitment was made."]}]
    assert not commitment.updates.exists()


def test_a_status_update_sets_the_commitments_delivery_status(editor_client, editor, snapchat):
    commitment = make_commitment()
    evidence = make_source("Snap delivers")
    url = reverse("admin:regulation_commitment_change", args=[commitment.pk])
    data = commitment_form(snapchat, **management_form("updates", total=1))
    data |= update_row(0, on="2025-03-01", delivery_status="delivered", evidence=evidence.pk)

    response = editor_client.post(url, data)

    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.delivery_status == DeliveryStatus.DELIVERED
    update = commitment.updates.get()
    assert (update.evidence, update.created_by) == (evidence, editor)


def test_a_commitment_can_be_added_with_its_first_status_update(editor_client, snapchat):
    data = commitment_form(snapchat, **management_form("updates", total=1))
    data |= update_row(0, on="2024-12-01", delivery_status="in_progress")

    response = editor_client.post(ADD_COMMITMENT, data)

    assert response.status_code == 302
    commitment = Commitment.objects.get()
    assert commitment.delivery_status == DeliveryStatus.IN_PROGRESS
    assert commitment.updates.get().commitment_made_on == dt.date(2024, 11, 1)


def test_a_status_update_is_checked_against_the_date_being_typed(editor_client, snapchat):
    # The editor corrects the commitment's date and adds an update in the same save.
    commitment = make_commitment(made_on=dt.date(2024, 11, 1))
    url = reverse("admin:regulation_commitment_change", args=[commitment.pk])
    data = commitment_form(snapchat, made_on="2025-02-01", **management_form("updates", total=1))
    data |= update_row(0, on="2025-01-15", delivery_status="delivered")

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["on"]
    commitment.refresh_from_db()
    assert commitment.made_on == dt.date(2024, 11, 1)


def test_it_keeps_the_delivery_status_when_no_update_changes(editor_client, snapchat):
    # A status that came from seed data without updates must survive an unrelated edit.
    commitment = make_commitment(delivery_status=DeliveryStatus.DELIVERED)
    url = reverse("admin:regulation_commitment_change", args=[commitment.pk])

    response = editor_client.post(url, commitment_form(snapchat, summary="Typo fixed"))

    assert response.status_code == 302
    commitment.refresh_from_db()
    assert (commitment.summary, commitment.delivery_status) == ("Typo fixed", "delivered")


def test_it_reports_a_missing_commitment_date_even_with_an_update(editor_client, snapchat):
    data = commitment_form(snapchat, made_on="", **management_form("updates", total=1))
    data |= update_row(0, on="2025-03-01", delivery_status="delivered")

    response = editor_client.post(ADD_COMMITMENT, data)

    assert response.status_code == 200
    assert "made_on" in response.context["adminform"].form.errors
    assert not Commitment.objects.exists()


def milestone_form(milestone: Milestone, **fields) -> dict:
    data = {
        "title": milestone.title,
        "kind": milestone.kind,
        "date": milestone.date.isoformat(),
        "date_precision": milestone.date_precision,
        "certainty": milestone.certainty,
        "status": milestone.status,
        "verification": milestone.verification,
        **management_form("date_changes"),
    }
    return {**data, **fields}


def test_changing_the_date_records_the_move_with_its_reason_and_editor(editor_client, editor):
    milestone = make_milestone()
    source = make_source()
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])
    data = milestone_form(
        milestone,
        date="2026-09-01",
        certainty="expected",
        date_change_reason="Ofcom's updated roadmap",
        date_change_source=source.pk,
        date_change_announced_on="2026-05-12",
    )

    response = editor_client.post(url, data)

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.date_display == "Expected: September 2026"
    change = milestone.date_changes.get()
    assert str(change) == "July 2026 → September 2026"
    assert (change.old_certainty, change.new_certainty) == ("confirmed", "expected")
    assert (change.reason, change.source, change.created_by) == (
        "Ofcom's updated roadmap",
        source,
        editor,
    )
    assert change.announced_on == dt.date(2026, 5, 12)
    assert milestone.history.first().history_user == editor


def test_changing_the_date_without_a_reason_is_refused(editor_client):
    milestone = make_milestone()
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])

    response = editor_client.post(url, milestone_form(milestone, date="2026-09-01"))

    assert response.status_code == 200
    assert "Say why the date changed" in response.content.decode()
    milestone.refresh_from_db()
    assert milestone.date == dt.date(2026, 7, 1)
    assert not milestone.date_changes.exists()


def test_editing_a_milestone_without_moving_its_date_records_no_change(editor_client):
    milestone = make_milestone()
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])

    response = editor_client.post(url, milestone_form(milestone, title="Children's codes apply"))

    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.title == "Children's codes apply"
    assert not milestone.date_changes.exists()


@pytest.mark.parametrize("reason", ["", "Typed the day"])
def test_another_day_in_the_same_month_is_not_a_move(editor_client, reason):
    milestone = make_milestone()  # July 2026, known to the month
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])
    data = milestone_form(milestone, date="2026-07-15", date_change_reason=reason)

    response = editor_client.post(url, data)

    # Was refused for want of a reason, and with one answered 500 (move_to() refused it).
    assert response.status_code == 302
    milestone.refresh_from_db()
    assert milestone.date == dt.date(2026, 7, 1)
    assert not milestone.date_changes.exists()


def test_the_date_changes_are_listed_on_the_milestone_page(editor_client):
    milestone = make_milestone()
    milestone.move_to(dt.date(2026, 9, 1), reason="Slipped after consultation")
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])

    html = editor_client.get(url).content.decode()

    assert "July 2026 → September 2026" in html
    assert "Slipped after consultation" in html


# --- Lists, pages and search ----------------------------------------------------------------


def editable_models() -> list:
    """The models staff edit (the seed's release records are read-only, see test_releases)."""
    return [
        model
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "regulation" and not isinstance(model_admin, ReadOnlyAdmin)
    ]


def regulation_admin_urls() -> list[str]:
    urls = []
    for model in editable_models():
        name = f"admin:regulation_{model._meta.model_name}"
        urls += [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
    return urls


def test_every_regulation_list_and_add_page_loads(editor_client, world):
    urls = regulation_admin_urls()
    assert len(urls) == 20

    for url in urls:
        assert editor_client.get(url).status_code == 200, url


def test_every_regulation_change_and_history_page_loads(editor_client, world):
    for model in editable_models():
        record = model.objects.first()
        name = f"admin:regulation_{model._meta.model_name}"
        for view in ("change", "history"):
            url = reverse(f"{name}_{view}", args=[record.pk])
            assert editor_client.get(url).status_code == 200, url


def test_the_milestone_list_shows_dates_at_their_precision(editor_client):
    make_milestone(key="M21", certainty="confirmed")

    response = editor_client.get(reverse("admin:regulation_milestone_changelist"))

    page = response.content.decode()
    assert "July 2026" in page
    assert "1 July 2026" not in page


def test_the_observation_list_marks_figures_sources_disagree_on(editor_client, world):
    url = reverse("admin:regulation_observation_changelist")

    response = editor_client.get(url, {"conflict": "yes"})

    assert response.context["cl"].result_count == 2


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("model_name", "make"),
    [
        ("milestone", lambda n: make_milestone(f"Milestone {n}")),
        ("commitment", lambda n: make_commitment(f"Commitment {n}")),
    ],
)
def test_a_list_costs_the_same_queries_for_2_or_10_records(editor_client, model_name, make):
    url = reverse(f"admin:regulation_{model_name}_changelist")
    for n in range(2):
        make(n)
    with_two = count_queries(editor_client, url)
    for n in range(2, 10):
        make(n)

    assert count_queries(editor_client, url) == with_two


def test_searching_milestones_by_key_finds_the_milestone(editor_client):
    make_milestone("Children's codes in force", key="M21")
    make_milestone("Categorisation register", key="M30")

    response = editor_client.get(reverse("admin:regulation_milestone_changelist"), {"q": "M21"})

    assert [str(m) for m in response.context["cl"].result_list] == [
        "M21: Children's codes in force"
    ]


def test_the_admin_passes_djangos_system_checks():
    call_command("check", "--fail-level", "WARNING")
