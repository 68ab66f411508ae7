"""ETag and Last-Modified on every GET; a client with the current copy gets a 304 for at most
two queries; any change to the knowledge gives a new tag."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_milestone, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def milestone():
    return make_milestone(title="Illegal content duties in force")


@pytest.mark.parametrize("path", ["/api/v1/milestones/", "/api/v1/milestones/{slug}/"])
def test_a_client_holding_the_current_copy_gets_304_for_at_most_2_queries(api, milestone, path):
    url = path.format(slug=milestone.slug)
    first = api.get(url)
    assert first.status_code == 200
    assert first["ETag"] and first["Last-Modified"]
    assert first["Cache-Control"] == "public, max-age=60"
    for header, value in (
        ("HTTP_IF_NONE_MATCH", first["ETag"]),
        ("HTTP_IF_MODIFIED_SINCE", first["Last-Modified"]),
    ):
        with CaptureQueriesContext(connection) as captured:
            again = api.get(url, **{header: value})
        assert again.status_code == 304
        assert again["ETag"] == first["ETag"]
        assert len(captured) <= 2


def test_a_change_gives_a_new_tag_and_a_full_answer(api, milestone):
    first = api.get("/api/v1/milestones/")
    milestone.move_to(dt.date(2026, 1, 1), reason="Delayed by the consultation")
    again = api.get("/api/v1/milestones/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_a_deletion_gives_a_new_tag(api, milestone):
    other = make_milestone()
    first = api.get("/api/v1/milestones/")
    other.delete()
    assert api.get("/api/v1/milestones/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_new_citation_gives_a_new_tag(api, milestone):
    first = api.get(f"/api/v1/milestones/{milestone.slug}/")
    milestone.sources.add(make_source())
    again = api.get(f"/api/v1/milestones/{milestone.slug}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200


def test_each_query_string_has_its_own_tag(api, milestone):
    assert (
        api.get("/api/v1/milestones/")["ETag"] != api.get("/api/v1/milestones/?kind=other")["ETag"]
    )


def test_staff_answers_are_private_and_tagged_apart_from_the_public_ones(api, staff_api, milestone):
    public = api.get("/api/v1/milestones/")
    staff = staff_api.get("/api/v1/milestones/")
    assert staff["Cache-Control"] == "private, no-cache"
    assert staff["ETag"] != public["ETag"]
    assert "Authorization" in staff["Vary"]


LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("query", "header"),
    [
        ("upcoming=true", "HTTP_IF_NONE_MATCH"),
        ("upcoming=true", "HTTP_IF_MODIFIED_SINCE"),
        ("past=true", "HTTP_IF_NONE_MATCH"),
    ],
)
def test_a_list_asked_relative_to_today_is_answered_anew_when_the_day_changes(api, query, header):
    """Nothing in the data changes overnight, but what is upcoming (or past) does: a client
    holding yesterday's copy gets today's, not a 304."""
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=LONDON), tick=False):
        due = make_milestone(date=dt.date(2026, 3, 17))
    url = f"/api/v1/milestones/?{query}"
    with time_machine.travel(dt.datetime(2026, 3, 17, 23, 30, tzinfo=LONDON), tick=False):
        first = api.get(url)
    with time_machine.travel(dt.datetime(2026, 3, 18, 0, 30, tzinfo=LONDON), tick=False):
        validator = first["ETag"] if header == "HTTP_IF_NONE_MATCH" else first["Last-Modified"]
        again = api.get(url, **{header: validator})
        assert again.status_code == 200
        assert again["ETag"] != first["ETag"]
        keys = {record["key"] for record in again.json()["results"]}
        was = {record["key"] for record in first.json()["results"]}
        assert (due.key in was, due.key in keys) == (
            (True, False) if query == "upcoming=true" else (False, True)
        )
        # Within the day, the copy stays current.
        assert api.get(url, HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304


def test_a_list_not_asked_relative_to_today_keeps_its_tag_overnight(api):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=LONDON), tick=False):
        make_milestone(date=dt.date(2026, 3, 17))
    with time_machine.travel(dt.datetime(2026, 3, 17, 23, 30, tzinfo=LONDON), tick=False):
        first = api.get("/api/v1/milestones/")
    with time_machine.travel(dt.datetime(2026, 3, 18, 0, 30, tzinfo=LONDON), tick=False):
        again = api.get("/api/v1/milestones/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_every_filter_answered_from_today_is_named_so_and_exists():
    import inspect

    from regulation.api import filters

    def source_of(filterset, method) -> str:
        return inspect.getsource(method if callable(method) else getattr(filterset, method))

    for filterset in (filters.MilestoneFilter, filters.CommitmentFilter):
        reads_today = {
            name
            for name, declared in filterset.base_filters.items()
            if declared.method and "at_now()" in source_of(filterset, declared.method)
        }
        assert reads_today and reads_today == set(filterset.relative_to_today)
