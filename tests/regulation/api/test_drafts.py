"""Drafts are for staff: never listed, found or linked for anonymous clients."""

import pytest

from regulation.models import Status
from tests.factories import make_commitment, make_milestone, make_platform

pytestmark = pytest.mark.django_db


def keys(response) -> set[str]:
    return {record["slug"] for record in response.json()["results"]}


def test_an_anonymous_client_never_sees_a_draft(api):
    published = make_milestone(title="Codes in force")
    draft = make_milestone(title="Codes consultation", status=Status.DRAFT)
    assert keys(api.get("/api/v1/milestones/")) == {published.slug}
    assert api.get(f"/api/v1/milestones/{draft.slug}/").status_code == 404
    assert keys(api.get("/api/v1/milestones/?status=draft")) == set()


def test_a_token_without_staff_rights_sees_no_draft(visitor_api):
    draft = make_milestone(status=Status.DRAFT)
    assert visitor_api.get(f"/api/v1/milestones/{draft.slug}/").status_code == 404


def test_staff_see_drafts_and_can_ask_for_them_alone(staff_api):
    published = make_milestone()
    draft = make_milestone(status=Status.DRAFT)
    assert keys(staff_api.get("/api/v1/milestones/")) == {published.slug, draft.slug}
    assert keys(staff_api.get("/api/v1/milestones/?status=draft")) == {draft.slug}
    assert staff_api.get(f"/api/v1/milestones/{draft.slug}/").json()["status"] == "draft"


def test_a_published_record_does_not_link_a_draft_for_the_public(api, staff_api):
    shown = make_platform("Snapchat", status=Status.PUBLISHED)
    hidden = make_platform("Unannounced app")
    commitment = make_commitment(platforms=[shown, hidden])
    public = api.get(f"/api/v1/commitments/{commitment.slug}/").json()
    staff = staff_api.get(f"/api/v1/commitments/{commitment.slug}/").json()
    assert [p["slug"] for p in public["platforms"]] == [shown.slug]
    assert sorted(p["slug"] for p in staff["platforms"]) == sorted([shown.slug, hidden.slug])
