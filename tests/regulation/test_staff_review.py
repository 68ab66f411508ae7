"""Review before publishing: a contributor submits a draft, an editor publishes it or sends it
back with a note, and each record says who published it and when."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from regulation.models import Commitment, Milestone, ReviewState, Status
from tests.factories import make_commitment, make_milestone, make_platform, make_source

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def member(username: str, group: str) -> tuple[User, Client]:
    user = User.objects.create_user(username, f"{username}@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def contributor() -> tuple[User, Client]:
    return member("casey", "Contributor")


@pytest.fixture
def editor() -> tuple[User, Client]:
    return member("eddie", "Editor")


@pytest.fixture
def draft() -> Commitment:
    commitment = make_commitment(status=Status.DRAFT, platforms=[make_platform("Discord")])
    commitment.sources.add(make_source())
    return commitment


def act(client: Client, record, name: str, **extra):
    url = reverse(f"admin:regulation_{record._meta.model_name}_changelist")
    return client.post(url, {"action": name, "_selected_action": [record.pk], **extra})


def waiting_list(client: Client) -> list[Commitment]:
    url = reverse("admin:regulation_commitment_changelist")
    return list(client.get(url, {"publishing": "waiting"}).context["cl"].result_list)


def test_a_submitted_draft_waits_for_an_editor_who_publishes_it(contributor, editor, draft):
    _, casey_client = contributor
    eddie, eddie_client = editor

    act(casey_client, draft, "submit_for_review")

    assert waiting_list(eddie_client) == [draft]
    at = dt.datetime(2026, 11, 29, 10, 30, tzinfo=LONDON)
    with time_machine.travel(at, tick=False):
        response = act(eddie_client, draft, "publish_selected")

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    assert (draft.published_by, draft.published_at) == (eddie, at)
    assert draft.review_state == ReviewState.NONE
    assert waiting_list(eddie_client) == []
    # Who published it, and when, is on the record's page.
    page = eddie_client.get(reverse("admin:regulation_commitment_change", args=[draft.pk]))
    assert "eddie" in page.content.decode()
    assert "10:30" in page.content.decode()


def test_an_editor_sends_a_draft_back_with_a_note(contributor, editor, draft):
    _, casey_client = contributor
    _, eddie_client = editor
    act(casey_client, draft, "submit_for_review")

    asked = act(eddie_client, draft, "send_back")
    assert asked.status_code == 200  # the page asking for the note
    assert "What should the contributor change?" in asked.content.decode()

    response = act(eddie_client, draft, "send_back", apply="yes", note="Quote Discord's post.")

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.review_state) == (Status.DRAFT, ReviewState.SENT_BACK)
    assert draft.review_note == "Quote Discord's post."
    assert waiting_list(eddie_client) == []
    # The contributor sees the note on the draft and in the list of drafts sent back.
    page = casey_client.get(reverse("admin:regulation_commitment_change", args=[draft.pk]))
    assert "Quote Discord&#x27;s post." in page.content.decode()
    sent_back = casey_client.get(
        reverse("admin:regulation_commitment_changelist"), {"publishing": "sent_back"}
    )
    assert list(sent_back.context["cl"].result_list) == [draft]


def test_sending_back_without_a_note_is_refused(editor, draft):
    _, eddie_client = editor
    draft.submit_for_review()

    response = act(eddie_client, draft, "send_back", apply="yes", note="   ")

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    draft.refresh_from_db()
    assert draft.review_state == ReviewState.SUBMITTED
    with pytest.raises(ValidationError):
        draft.send_back("")


def test_a_draft_sent_back_and_resubmitted_waits_again(contributor, editor, draft):
    casey, _ = contributor
    eddie, eddie_client = editor
    draft.submit_for_review(by=casey)
    draft.send_back("Add the source's date.", by=eddie)

    draft.submit_for_review(by=casey)

    draft.refresh_from_db()
    assert (draft.review_state, draft.review_note) == (ReviewState.SUBMITTED, "")
    assert waiting_list(eddie_client) == [draft]


def test_a_published_record_cannot_be_submitted_or_sent_back(editor):
    eddie, _ = editor
    milestone = make_milestone()

    with pytest.raises(ValidationError):
        milestone.submit_for_review()
    with pytest.raises(ValidationError):
        milestone.send_back("No", by=eddie)


def test_drafts_waiting_for_review_across_types():
    milestone, commitment = make_milestone(status=Status.DRAFT), make_commitment(status="draft")
    make_milestone(status=Status.DRAFT)  # not submitted
    milestone.submit_for_review()
    commitment.submit_for_review()

    assert list(Milestone.objects.waiting_for_review()) == [milestone]
    assert list(Commitment.objects.waiting_for_review()) == [commitment]
