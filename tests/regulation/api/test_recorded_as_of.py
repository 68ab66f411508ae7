"""recorded_as_of=YYYY-MM-DDTHH:MM answers what this database said at that moment, from the
records' history: for audits of what the public was shown. Each step below happens at a
known time (time_machine), so the history has moments to tell apart."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regulation.models import Certainty, DeliveryStatus, Precision, Status
from tests.factories import make_commitment, make_milestone, make_source

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def at(*when: int):
    """Travel to a London wall-clock time, the clock standing still."""
    return time_machine.travel(dt.datetime(*when, tzinfo=LONDON), tick=False)


def slugs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {record["slug"] for record in response.json()["results"]}


def test_a_moved_milestone_shows_the_date_recorded_before_and_after_the_move(api):
    with at(2025, 3, 1, 10, 0):
        codes = make_milestone(title="Children's codes in force", date=dt.date(2025, 3, 17))
    with at(2025, 3, 10, 9, 0):
        codes.move_to(
            dt.date(2025, 7, 1),
            precision=Precision.MONTH,
            certainty=Certainty.EXPECTED,
            reason="Consultation extended",
        )
    url = f"/api/v1/milestones/{codes.slug}/"

    before = api.get(url + "?recorded_as_of=2025-03-10T08:59").json()
    after = api.get(url + "?recorded_as_of=2025-03-10T09:00").json()

    assert before["date"]["display"] == "17 March 2025"
    assert before["date_changes"] == []
    assert after["date"]["display"] == "Expected: July 2025"
    assert [c["reason"] for c in after["date_changes"]] == ["Consultation extended"]
    listed = api.get("/api/v1/milestones/?recorded_as_of=2025-03-10T08:59").json()["results"]
    assert [m["date"] for m in listed] == [before["date"]]


def test_a_record_created_after_the_moment_is_404_and_absent_from_lists(api):
    with at(2025, 3, 1, 10, 0):
        earlier = make_milestone()
        made = make_commitment()
    with at(2025, 3, 2, 10, 0):
        later = make_milestone()

    assert (
        api.get(f"/api/v1/milestones/{later.slug}/?recorded_as_of=2025-03-01T12:00").status_code
        == 404
    )
    assert (
        api.get(f"/api/v1/milestones/{later.key}/?recorded_as_of=2025-03-01T12:00").status_code
        == 404
    )
    assert slugs(api.get("/api/v1/milestones/?recorded_as_of=2025-03-01T12:00")) == {earlier.slug}
    assert (
        api.get(f"/api/v1/commitments/{made.slug}/?recorded_as_of=2025-02-28T12:00").status_code
        == 404
    )
    assert slugs(api.get("/api/v1/commitments/?recorded_as_of=2025-02-28T12:00")) == set()
    # Now both milestones are there.
    assert slugs(api.get("/api/v1/milestones/")) == {earlier.slug, later.slug}


def test_a_record_published_after_the_moment_is_absent_before(api, staff_api):
    with at(2025, 3, 1, 10, 0):
        milestone = make_milestone(status=Status.DRAFT, sources=[make_source()])
    with at(2025, 3, 5, 10, 0):
        milestone.publish()
    url = f"/api/v1/milestones/{milestone.slug}/"

    assert slugs(api.get("/api/v1/milestones/?recorded_as_of=2025-03-04T10:00")) == set()
    assert api.get(url + "?recorded_as_of=2025-03-04T10:00").status_code == 404
    assert api.get(url + "?recorded_as_of=2025-03-05T10:00").json()["status"] == "published"
    # Staff see the draft it was then.
    assert staff_api.get(url + "?recorded_as_of=2025-03-04T10:00").json()["status"] == "draft"


def test_the_sources_are_those_cited_then(api):
    first, second = make_source(), make_source()
    with at(2025, 3, 1, 10, 0):
        milestone = make_milestone(sources=[first])
    with at(2025, 3, 3, 10, 0):
        milestone.sources.add(second)
    url = f"/api/v1/milestones/{milestone.slug}/"

    then = api.get(url + "?recorded_as_of=2025-03-02T10:00").json()
    now = api.get(url).json()

    assert [s["key"] for s in then["sources"]] == [first.key]
    assert {s["key"] for s in now["sources"]} == {first.key, second.key}


def test_a_commitment_shows_the_status_and_updates_recorded_then(api):
    with at(2025, 4, 1, 10, 0):
        commitment = make_commitment(made_on=dt.date(2025, 4, 1))
    with at(2025, 6, 2, 10, 0):
        commitment.record_update(on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED)
    url = f"/api/v1/commitments/{commitment.slug}/"

    then = api.get(url + "?recorded_as_of=2025-06-01T10:00").json()
    now = api.get(url).json()

    assert then["delivery_status"] == "announced"
    assert then["updates"] == []
    assert now["delivery_status"] == "delivered"
    assert len(now["updates"]) == 1


def test_a_naive_moment_is_london_time_and_an_offset_is_honoured(api):
    # 10:30 UTC on 1 July is 11:30 in London (summer time).
    with time_machine.travel(dt.datetime(2025, 7, 1, 10, 30, tzinfo=dt.UTC), tick=False):
        milestone = make_milestone()
    url = f"/api/v1/milestones/{milestone.slug}/?recorded_as_of="

    assert api.get(url + "2025-07-01T11:00").status_code == 404  # 10:00 UTC
    assert api.get(url + "2025-07-01T11:30").status_code == 200
    assert api.get(url + "2025-07-01T10:45Z").status_code == 200
    assert api.get(url + "2025-07-01T10:45%2B01:00").status_code == 404  # 09:45 UTC


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-17",
        "2025-02-30T10:00",
        "2025-03-17T25:00",
        "17-03-2025T10:00",
        "yesterday",
        "0001-01-01T00:00%2B01:00",
    ],
)
def test_a_malformed_recorded_as_of_is_a_400(api, value):
    milestone = make_milestone()
    for url in (
        f"/api/v1/milestones/?recorded_as_of={value}",
        f"/api/v1/milestones/{milestone.slug}/?recorded_as_of={value}",
        f"/api/v1/commitments/?recorded_as_of={value}",
    ):
        response = api.get(url)
        assert response.status_code == 400, url
        assert "recorded_as_of" in response.json()


def test_recorded_as_of_is_refused_with_as_of_filters_or_where_it_means_nothing(api):
    make_milestone()
    both = api.get("/api/v1/milestones/?recorded_as_of=2025-03-01T10:00&as_of=2025-03-01")
    assert both.status_code == 400
    assert "recorded_as_of" in both.json()
    filtered = api.get("/api/v1/milestones/?recorded_as_of=2025-03-01T10:00&kind=other")
    assert filtered.status_code == 400
    assert "kind" in filtered.json()
    assert api.get("/api/v1/instruments/?recorded_as_of=2025-03-01T10:00").status_code == 400


def test_search_and_ordering_apply_to_the_records_as_they_were(api):
    with at(2025, 3, 1, 10, 0):
        renamed = make_milestone(title="Illegal harms codes in force")
        make_milestone(title="Fees regime begins")
    with at(2025, 3, 2, 10, 0):
        renamed.title = "Protection of children codes in force"
        renamed.save()
    then = "/api/v1/milestones/?recorded_as_of=2025-03-01T12:00"

    assert slugs(api.get(then + "&search=illegal")) == {renamed.slug}
    assert slugs(api.get(then + "&search=children")) == set()
    titles = [m["title"] for m in api.get(then + "&ordering=title").json()["results"]]
    assert titles == ["Fees regime begins", "Illegal harms codes in force"]


@pytest.mark.parametrize("path", ["milestones", "commitments"])
def test_recorded_as_of_costs_the_same_queries_at_3_and_30_rows(api, path):
    def add(n: int) -> None:
        with at(2025, 3, 1, 10, 0):
            for _ in range(n):
                milestone = make_milestone(sources=[make_source(), make_source()])
                milestone.move_to(dt.date(2026, 7, 1), precision="month", reason="It slipped")
                commitment = make_commitment(milestones=[milestone])
                commitment.record_update(on=dt.date(2025, 5, 1), delivery_status="in_progress")

    def counted(size: int) -> tuple[int, int]:
        url = f"/api/v1/{path}/?recorded_as_of=2025-03-02T10:00&page_size={size}"
        with CaptureQueriesContext(connection) as listed:
            response = api.get(url)
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == size
        detail = response.json()["results"][-1]["url"] + "?recorded_as_of=2025-03-02T10:00"
        with CaptureQueriesContext(connection) as shown:
            assert api.get(detail).status_code == 200
        return len(listed), len(shown)

    add(3)
    at_3 = counted(3)
    add(27)
    assert counted(30) == at_3


def test_the_schema_documents_recorded_as_of_on_milestones_and_commitments(api):
    paths = api.get("/api/v1/schema/?format=json").json()["paths"]
    for path in (
        "/api/v1/milestones/",
        "/api/v1/milestones/{lookup}/",
        "/api/v1/commitments/",
        "/api/v1/commitments/{lookup}/",
    ):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert "recorded_as_of" in names, path
    assert "recorded_as_of" not in {
        p["name"] for p in paths["/api/v1/instruments/"]["get"]["parameters"]
    }


def test_a_record_deleted_since_is_shown_as_it_was(api):
    with at(2025, 3, 1, 10, 0):
        milestone = make_milestone(title="Register of categorised services")
    slug = milestone.slug
    with at(2025, 3, 2, 10, 0):
        milestone.delete()

    then = api.get(f"/api/v1/milestones/{slug}/?recorded_as_of=2025-03-01T12:00")
    assert then.status_code == 200
    assert then.json()["title"] == "Register of categorised services"
    assert api.get(f"/api/v1/milestones/{slug}/?recorded_as_of=2025-03-02T12:00").status_code == 404
