"""Token writes act with the token user's model permissions and go through the models' own
methods, so the API refuses exactly what the admin refuses."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from knox.models import AuthToken

from regulation import signals
from regulation.models import ONE_LINE, Commitment, Milestone, Source, Status
from tests.factories import make_commitment, make_milestone, make_platform, make_source
from tests.regulation.api.conftest import grant, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    platform = make_platform("Snapchat", status=Status.PUBLISHED)
    source = make_source(key="S900")
    return {
        "platform": platform,
        "source": source,
        "milestone": make_milestone(title="Children's codes in force"),
        "commitment": make_commitment(platforms=[platform]),
        "draft": make_milestone(title="Draft guidance", status=Status.DRAFT, sources=[source]),
    }


def writes(records) -> dict[str, tuple[str, dict]]:
    """Every write, as (url, body), each one the API should accept from an editor."""
    return {
        "create commitment": (
            "/api/v1/commitments/",
            {
                "summary": "Teen accounts by default",
                "platforms": ["snapchat"],
                "made_on": "2025-04-01",
                "sources": ["S900"],
            },
        ),
        "status update": (
            f"/api/v1/commitments/{records['commitment'].slug}/updates/",
            {"on": "2025-06-01", "delivery_status": "delivered", "evidence": "S900"},
        ),
        "move date": (
            f"/api/v1/milestones/{records['milestone'].slug}/move/",
            {"date": "2026-07-01", "precision": "month", "reason": "Ofcom announced a delay"},
        ),
        "create source": (
            "/api/v1/sources/",
            {
                "title": "Ofcom statement",
                "document_url": "https://www.ofcom.org.uk/s",
                "publisher_name": "Ofcom",
                "origin": "primary",
            },
        ),
        "publish": (f"/api/v1/milestones/{records['draft'].slug}/publish/", {}),
    }


WRITES = ["create commitment", "status update", "move date", "create source", "publish"]


@pytest.mark.parametrize("write", WRITES)
def test_an_anonymous_client_may_not_write(api, records, write):
    url, body = writes(records)[write]
    assert api.post(url, body, format="json").status_code == 401


@pytest.mark.parametrize("write", WRITES)
def test_a_token_without_the_permission_is_refused(visitor_api, records, write):
    url, body = writes(records)[write]
    assert visitor_api.post(url, body, format="json").status_code in (403, 404)


@pytest.mark.parametrize("write", WRITES)
def test_a_staff_token_with_the_permissions_writes(staff_api, records, write):
    url, body = writes(records)[write]
    response = staff_api.post(url, body, format="json")
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("write", WRITES)
def test_a_revoked_token_is_refused(editor, records, write):
    client = token_client(editor)
    AuthToken.objects.filter(user=editor).delete()
    url, body = writes(records)[write]
    assert client.post(url, body, format="json").status_code == 401


@pytest.mark.parametrize("write", WRITES)
def test_an_expired_token_is_refused(editor, records, write):
    client = token_client(editor, expiry=dt.timedelta(seconds=-1))
    url, body = writes(records)[write]
    assert client.post(url, body, format="json").status_code == 401


def test_tokens_are_stored_hashed(editor):
    client = token_client(editor)
    stored = AuthToken.objects.get(user=editor)
    assert client.token not in {stored.digest, stored.token_key}


def test_a_user_with_only_the_add_commitment_permission_may_add_but_not_move(visitor, records):
    client = token_client(grant(visitor, "add_commitment"))
    url, body = writes(records)["create commitment"]
    assert client.post(url, body, format="json").status_code == 201
    url, body = writes(records)["move date"]
    assert client.post(url, body, format="json").status_code == 403


def test_a_new_commitment_is_a_draft_credited_to_the_token_user(staff_api, editor, records):
    url, body = writes(records)["create commitment"]
    created = staff_api.post(url, body, format="json").json()
    assert created["status"] == "draft"
    commitment = Commitment.objects.get(slug=created["slug"])
    assert commitment.history.first().history_user == editor
    assert [s["key"] for s in created["sources"]] == ["S900"]


def test_publishing_without_a_source_is_refused_as_in_the_admin(staff_api):
    uncited = Milestone.objects.create(title="No source yet", date=dt.date(2026, 1, 1))
    response = staff_api.post(f"/api/v1/milestones/{uncited.slug}/publish/")
    assert response.status_code == 400
    assert "source" in response.json()["sources"][0]
    uncited.refresh_from_db()
    assert uncited.status == Status.DRAFT


def test_a_contributor_token_may_not_publish(records):
    """The Contributor group may change a milestone, not publish it: the API refuses as the
    admin does (the change permission alone is not enough)."""
    contributor = User.objects.create_user("contributor", "c@example.org", is_staff=True)
    contributor.groups.add(Group.objects.get(name="Contributor"))
    draft = records["draft"]
    response = token_client(contributor).post(f"/api/v1/milestones/{draft.slug}/publish/")
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_contributor_token_may_not_move_a_published_date(records):
    """A published date is what the public sees: only an editor moves it, as in the admin."""
    contributor = User.objects.create_user("contributor", "c@example.org", is_staff=True)
    contributor.groups.add(Group.objects.get(name="Contributor"))
    milestone = records["milestone"]
    body = {"date": "2026-07-01", "precision": "month", "reason": "Ofcom announced a delay"}

    response = token_client(contributor).post(
        f"/api/v1/milestones/{milestone.slug}/move/", body, format="json"
    )

    assert response.status_code == 403
    assert not milestone.date_changes.exists()


def test_publishing_through_the_api_records_who_published(staff_api, editor, records):
    draft = records["draft"]
    assert staff_api.post(f"/api/v1/milestones/{draft.slug}/publish/").status_code == 200
    draft.refresh_from_db()
    assert draft.published_by == editor
    assert draft.history.latest().history_user == editor


def test_publishing_a_cited_draft_makes_it_public(staff_api, api, records):
    draft = records["draft"]
    assert staff_api.post(f"/api/v1/milestones/{draft.slug}/publish/").json()["status"] == (
        "published"
    )
    assert api.get(f"/api/v1/milestones/{draft.slug}/").status_code == 200


@pytest.mark.parametrize("reason", [None, ""])
def test_a_date_move_without_a_reason_is_refused(staff_api, records, reason):
    milestone = records["milestone"]
    body = {"date": "2026-07-01"} | ({} if reason is None else {"reason": reason})
    response = staff_api.post(f"/api/v1/milestones/{milestone.slug}/move/", body, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert not milestone.date_changes.exists()


def test_a_move_to_the_same_date_is_refused_on_the_date(staff_api, records):
    milestone = records["milestone"]
    body = {"date": milestone.date.isoformat(), "reason": "No change"}
    response = staff_api.post(f"/api/v1/milestones/{milestone.slug}/move/", body, format="json")
    assert response.status_code == 400
    assert "date" in response.json()


def test_a_date_move_is_recorded_with_its_reason_and_author(staff_api, editor, records):
    milestone = records["milestone"]
    url, body = writes(records)["move date"]
    moved = staff_api.post(url, body, format="json").json()
    assert moved["date"]["display"] == "July 2026"
    change = milestone.date_changes.get()
    assert (change.reason, change.created_by) == ("Ofcom announced a delay", editor)
    assert moved["date_changes"][0]["reason"] == "Ofcom announced a delay"


def test_a_status_update_sets_the_commitment_status(staff_api, records):
    url, body = writes(records)["status update"]
    body = staff_api.post(url, body, format="json").json()
    assert body["delivery_status"] == "delivered"
    assert body["updates"][0]["evidence"]["key"] == "S900"


def test_a_status_update_before_the_commitment_is_refused_on_its_date(staff_api, records):
    commitment = records["commitment"]
    response = staff_api.post(
        f"/api/v1/commitments/{commitment.slug}/updates/",
        {"on": "2020-01-01", "delivery_status": "delivered"},
        format="json",
    )
    assert response.status_code == 400
    assert "on" in response.json()


def test_a_javascript_address_is_refused_for_a_source(staff_api):
    response = staff_api.post(
        "/api/v1/sources/",
        {
            "title": "x",
            "document_url": "javascript:alert(1)",
            "publisher_name": "x",
            "origin": "primary",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "document_url" in response.json()


def test_malformed_write_bodies_are_field_errors(staff_api, records):
    response = staff_api.post(
        "/api/v1/commitments/",
        {"summary": "", "platforms": ["no-such-app"], "made_on": "soon"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"summary", "platforms", "made_on"}


def test_a_non_staff_token_is_not_staff(visitor):
    assert not User.objects.get(pk=visitor.pk).is_staff


@pytest.mark.parametrize(
    "title", ["Ofcom deadline\r\nfor services", "Ofcom\x00statement", "Ofcom\u2028statement"]
)
def test_the_api_refuses_a_title_of_more_than_one_line(staff_api, title):
    body = {
        "title": title,
        "document_url": "https://www.ofcom.org.uk/s",
        "publisher_name": "Ofcom",
        "origin": "primary",
    }

    response = staff_api.post("/api/v1/sources/", body, format="json")

    assert response.status_code == 400, response.content
    assert ONE_LINE in str(response.json())
    assert not Source.objects.exists()


def test_a_body_nested_too_deeply_is_a_clear_400(staff_api):
    body = "[" * 100_000 + "]" * 100_000

    response = staff_api.post("/api/v1/sources/", body, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in str(response.json())


def test_a_key_with_a_nul_character_is_not_found_rather_than_a_server_error(staff_api, records):
    url = f"/api/v1/commitments/{records['commitment'].slug}/updates/"
    body = {"on": "2025-06-01", "delivery_status": "delivered", "evidence": "S900\u0000"}

    response = staff_api.post(url, body, format="json")

    assert response.status_code == 400
    assert "evidence" in response.json()


def test_publishing_or_unpublishing_twice_changes_and_tells_nothing_the_second_time(
    staff_api, records
):
    draft = records["draft"]
    told = []

    def listener(sender, record, by, **kwargs) -> None:
        told.append(record.pk)

    signals.record_published.connect(listener)
    signals.record_unpublished.connect(listener)
    try:
        url = f"/api/v1/milestones/{draft.slug}/"
        stamps = Milestone.objects.filter(pk=draft.pk).values_list("published_at", "updated_at")
        first = staff_api.post(f"{url}publish/").json()
        first_stamps = stamps.get()
        again = staff_api.post(f"{url}publish/").json()
        assert again == first
        assert stamps.get() == first_stamps
        draft.refresh_from_db()
        draft.unpublish()
        draft.unpublish()
    finally:
        signals.record_published.disconnect(listener)
        signals.record_unpublished.disconnect(listener)

    assert told == [draft.pk, draft.pk]  # once published, once unpublished
