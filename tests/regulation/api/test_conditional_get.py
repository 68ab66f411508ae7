"""ETag and Last-Modified on every GET; a client with the current copy gets a 304 for at most
two queries; any change to the knowledge gives a new tag."""

import datetime as dt

import pytest
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
