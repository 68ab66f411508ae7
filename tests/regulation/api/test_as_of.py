"""as_of=YYYY-MM-DD answers what was true in the world that day, from the facts' own dates
(a commitment's announcement and updates, a date move's announcement), whatever day the
records were typed in."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regulation.models import Certainty, DeliveryStatus, Precision, Status
from tests.factories import make_commitment, make_milestone, make_platform, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def instagram():
    return make_platform("Instagram", status=Status.PUBLISHED)


def by_slug(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {record["slug"]: record for record in response.json()["results"]}


def test_what_instagram_had_committed_to_on_17_march_2025(api, instagram):
    teen_accounts = make_commitment(platforms=[instagram], made_on=dt.date(2025, 1, 10))
    teen_accounts.record_update(on=dt.date(2025, 2, 1), delivery_status=DeliveryStatus.IN_PROGRESS)
    teen_accounts.record_update(on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED)
    nudity_filter = make_commitment(platforms=[instagram], made_on=dt.date(2025, 1, 1))
    nudity_filter.record_update(on=dt.date(2025, 5, 1), delivery_status=DeliveryStatus.DELIVERED)
    later = make_commitment(platforms=[instagram], made_on=dt.date(2025, 4, 1))

    then = by_slug(api.get("/api/v1/commitments/?platform=instagram&as_of=2025-03-17"))

    assert set(then) == {teen_accounts.slug, nudity_filter.slug}
    assert then[teen_accounts.slug]["delivery_status"] == "in_progress"
    assert [u["date"]["start"] for u in then[teen_accounts.slug]["updates"]] == ["2025-02-01"]
    # Before its first update, the status it was recorded with.
    assert then[nudity_filter.slug]["delivery_status"] == "announced"
    assert then[nudity_filter.slug]["updates"] == []
    # Today both are delivered, and the later one is listed.
    now = by_slug(api.get("/api/v1/commitments/?platform=instagram"))
    assert now[teen_accounts.slug]["delivery_status"] == "delivered"
    assert later.slug in now
    assert api.get(f"/api/v1/commitments/{later.slug}/?as_of=2025-03-17").status_code == 404


def test_a_milestone_shows_the_date_it_had_then(api):
    codes = make_milestone(title="Children's codes in force", date=dt.date(2025, 3, 1))
    codes.move_to(
        dt.date(2025, 6, 1),
        precision=Precision.MONTH,
        certainty=Certainty.EXPECTED,
        reason="Consultation extended",
        announced_on=dt.date(2025, 2, 15),
    )
    codes.move_to(
        dt.date(2025, 9, 1),
        precision=Precision.QUARTER,
        reason="Ofcom delayed it again",
        announced_on=dt.date(2025, 4, 1),
    )
    url = f"/api/v1/milestones/{codes.slug}/"

    before_any = api.get(url + "?as_of=2025-02-01").json()
    between = api.get(url + "?as_of=2025-03-17").json()
    now = api.get(url).json()

    assert before_any["date"]["display"] == "1 March 2025"
    assert before_any["date_changes"] == []
    assert between["date"]["display"] == "Expected: June 2025"
    assert [c["reason"] for c in between["date_changes"]] == ["Consultation extended"]
    assert now["date"]["display"] == "Expected: Q3 2025"
    assert len(now["date_changes"]) == 2
    listed = by_slug(api.get("/api/v1/milestones/?as_of=2025-03-17"))
    assert listed[codes.slug]["date"] == between["date"]


def test_a_milestone_first_known_later_is_absent(api):
    known = make_milestone(date=dt.date(2025, 1, 10))
    announced_later = make_milestone(
        date=dt.date(2026, 1, 1), sources=[make_source(published_on=dt.date(2025, 5, 1))]
    )
    then = by_slug(api.get("/api/v1/milestones/?as_of=2025-03-17"))
    assert known.slug in then
    assert announced_later.slug not in then


@pytest.mark.parametrize("value", ["17-03-2025", "2025-02-30", "20250317", "yesterday"])
def test_a_malformed_as_of_is_a_400(api, value):
    make_milestone()
    for path in ("milestones", "commitments"):
        response = api.get(f"/api/v1/{path}/?as_of={value}")
        assert response.status_code == 400
        assert "as_of" in response.json()


def test_as_of_is_refused_where_it_means_nothing(api):
    assert api.get("/api/v1/instruments/?as_of=2025-03-17").status_code == 400


def test_as_of_costs_the_same_queries_at_3_and_30_rows(api):
    def counted() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/commitments/?as_of=2025-12-31&page_size=50").status_code == 200
        return len(captured)

    def add(n: int) -> None:
        for _ in range(n):
            commitment = make_commitment()
            commitment.record_update(on=dt.date(2025, 5, 1), delivery_status="delivered")

    add(3)
    at_3 = counted()
    add(27)
    assert counted() == at_3
