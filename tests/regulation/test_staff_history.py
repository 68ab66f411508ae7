"""Every change to a public record, field by field (old → new), with who, when and why: the
reason given for a date move or a status update is the history's change reason."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from regulation.models import DeliveryStatus, Precision, Status
from tests.factories import make_commitment, make_milestone, make_platform, make_source
from tests.regulation.test_admin_permissions import page_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> User:
    user = User.objects.create_user("eddie", "eddie@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def history_page(user: User, record) -> str:
    client = Client()
    client.force_login(user)
    url = reverse(f"admin:regulation_{record._meta.model_name}_history", args=[record.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_date_move_gives_its_reason_to_the_milestone_s_history(editor):
    milestone = make_milestone(date=dt.date(2026, 7, 1), date_precision=Precision.MONTH)

    milestone.move_to(dt.date(2026, 9, 1), reason="Ofcom's roadmap, June 2026", by=editor)

    latest = milestone.history.latest()
    assert latest.history_change_reason == "Ofcom's roadmap, June 2026"
    assert latest.history_user == editor
    page = history_page(editor, milestone)
    assert "Ofcom&#x27;s roadmap, June 2026" in page
    assert "2026-07-01" in page and "2026-09-01" in page  # the date field, old → new
    # The save after it gives no reason of its own.
    milestone.notes = "Checked."
    milestone.save()
    assert milestone.history.latest().history_change_reason is None


def test_a_status_update_gives_its_note_to_the_commitment_s_history(editor):
    commitment = make_commitment(platforms=[make_platform()])
    evidence = make_source(title="Discord's safety post")

    commitment.record_update(
        on=dt.date(2026, 3, 2),
        delivery_status=DeliveryStatus.DELIVERED,
        note="Teen-by-default settings live worldwide.",
        evidence=evidence,
        by=editor,
    )

    latest = commitment.history.latest()
    assert latest.history_change_reason == "Teen-by-default settings live worldwide."
    assert (latest.delivery_status, latest.history_user) == (DeliveryStatus.DELIVERED, editor)
    assert commitment.updates.get().history.latest().history_change_reason == (
        "Teen-by-default settings live worldwide."
    )
    page = history_page(editor, commitment)
    assert "Teen-by-default settings live worldwide." in page
    assert "announced" in page and "delivered" in page


def test_a_status_update_without_a_note_gives_its_evidence_as_the_reason():
    commitment = make_commitment(platforms=[make_platform()])
    evidence = make_source(title="Discord's safety post")

    commitment.record_update(
        on=dt.date(2026, 3, 2), delivery_status=DeliveryStatus.IN_PROGRESS, evidence=evidence
    )

    assert commitment.history.latest().history_change_reason == f"Evidence: {evidence}"


def test_a_long_reason_is_shortened_to_fit_the_history():
    milestone = make_milestone(date=dt.date(2026, 7, 1))

    milestone.move_to(dt.date(2026, 9, 1), reason="Slipped. " * 30)

    reason = milestone.history.latest().history_change_reason
    assert len(reason) == 100
    assert reason.endswith("…")
    assert milestone.date_changes.get().reason == "Slipped. " * 30  # kept whole where it lives


def test_the_history_shows_publishing_field_by_field_with_who(editor):
    milestone = make_milestone(status=Status.DRAFT, title="Codes in force")
    milestone.sources.add(make_source())

    milestone.publish(by=editor)

    page = history_page(editor, milestone)
    assert "draft" in page and "published" in page
    assert "eddie" in page
    latest = milestone.history.latest()
    previous = latest.prev_record
    changes = {
        change.field: (change.old, change.new) for change in latest.diff_against(previous).changes
    }
    assert changes["status"] == ("draft", "published")
    assert (latest.history_user, latest.published_by) == (editor, editor)


def test_the_history_page_has_no_inline_style(editor):
    milestone = make_milestone()

    assert "style=" not in history_page(editor, milestone)


def test_a_status_update_added_in_the_admin_gives_its_note_as_the_reason(editor):
    commitment = make_commitment(platforms=[make_platform()], made_on=dt.date(2026, 2, 9))
    client = Client()
    client.force_login(editor)
    url = reverse("admin:regulation_commitment_change", args=[commitment.pk])
    data = page_data(client.get(url)) | {
        "updates-TOTAL_FORMS": 1,
        "updates-0-on": "2026-03-02",
        "updates-0-on_precision": "day",
        "updates-0-delivery_status": "delivered",
        "updates-0-note": "Live for every UK account.",
        "updates-0-evidence": "",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    latest = commitment.history.latest()
    assert (latest.delivery_status, latest.history_change_reason) == (
        "delivered",
        "Live for every UK account.",
    )
    assert latest.history_user == editor
