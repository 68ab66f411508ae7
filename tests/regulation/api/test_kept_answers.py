"""The answer to an anonymous GET is kept under its ETag: the next anonymous client asking the
same thing while the data stays the same gets the same bytes for one query, and no change to
the data is ever hidden by a kept answer."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regulation.models import Status
from tests.factories import make_milestone, make_source

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/milestones/",
    "/api/v1/milestones/{slug}/",
    "/api/v1/milestones/?kind=enforcement",
]


def counted(client, url: str, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    return response, len(captured)


@pytest.fixture
def milestone():
    return make_milestone(title="Illegal content duties in force", sources=[make_source()])


@pytest.mark.parametrize("path", PATHS)
def test_the_same_anonymous_get_again_is_the_same_answer_for_one_query(api, milestone, path):
    url = path.format(slug=milestone.slug)
    first, built = counted(api, url)
    again, kept = counted(api, url)
    assert first.status_code == again.status_code == 200
    assert kept == 1 < built  # the data's version, and nothing else
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    for header in ("ETag", "Last-Modified", "Cache-Control", "Vary"):
        assert again[header] == first[header]


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.move_to(dt.date(2027, 1, 1), reason="Delayed by the consultation"),
        lambda m: m.sources.add(make_source(title="A later statement")),
        lambda m: m.delete(),
    ],
    ids=["date moved", "source cited", "deleted"],
)
def test_a_change_to_the_data_is_never_hidden_by_a_kept_answer(api, milestone, change):
    first = api.get("/api/v1/milestones/")
    assert api.get("/api/v1/milestones/").content == first.content  # kept
    change(milestone)
    again, queries = counted(api, "/api/v1/milestones/")
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.content != first.content
    assert queries > 1  # built anew
    built_now = api.get("/api/v1/milestones/", HTTP_ACCEPT="application/json; indent=0").json()
    assert again.json() == built_now


def test_staff_and_token_clients_are_answered_from_the_data_not_from_kept_answers(
    api, staff_api, visitor_api, milestone
):
    draft = make_milestone(title="A draft only staff may see", status=Status.DRAFT)
    public = api.get("/api/v1/milestones/")
    assert draft.key not in {r["key"] for r in public.json()["results"]}
    for client in (staff_api, visitor_api):
        client.get("/api/v1/milestones/")
        again, queries = counted(client, "/api/v1/milestones/")
        assert queries > 1
        assert again["Cache-Control"] == "private, no-cache"
    assert draft.key in {r["key"] for r in staff_api.get("/api/v1/milestones/").json()["results"]}
    assert draft.key not in {
        r["key"] for r in visitor_api.get("/api/v1/milestones/").json()["results"]
    }


def test_the_browsable_api_is_built_for_each_request(api, milestone):
    """Its pages carry a form with a CSRF token of their own: never shared between clients."""
    api.get("/api/v1/milestones/", HTTP_ACCEPT="text/html")
    again, queries = counted(api, "/api/v1/milestones/", HTTP_ACCEPT="text/html")
    assert again.status_code == 200
    assert again["Content-Type"].startswith("text/html")
    assert queries > 1


def test_each_accept_header_and_query_string_is_kept_apart(api, milestone):
    plain = api.get("/api/v1/milestones/")
    other_kind = api.get("/api/v1/milestones/?kind=enforcement")
    assert plain.json()["count"] == 1 and other_kind.json()["count"] == 0
    assert api.get("/api/v1/milestones/?kind=enforcement").json()["count"] == 0
    assert api.get("/api/v1/milestones/").json()["count"] == 1


def test_an_error_is_not_kept(api, milestone):
    assert api.get("/api/v1/milestones/?as_of=yesterday").status_code == 400
    again, queries = counted(api, "/api/v1/milestones/?as_of=yesterday")
    assert again.status_code == 400
    assert queries >= 1


def test_with_no_seconds_configured_every_answer_is_built(api, milestone, settings):
    settings.API_ANSWER_SECONDS = 0
    first, built = counted(api, "/api/v1/milestones/")
    again, rebuilt = counted(api, "/api/v1/milestones/")
    assert again.content == first.content
    assert rebuilt == built > 1


def test_what_clients_can_make_a_process_keep_is_bounded(api, milestone, settings):
    """Every address a client invents (a search, a page size) is an answer of its own: the
    process keeps at most MAX_ENTRIES of them, each at most KEEP_AT_MOST_BYTES."""
    limit = settings.CACHES["api"]["OPTIONS"]["MAX_ENTRIES"]
    for n in range(limit + 20):
        assert api.get(f"/api/v1/milestones/?search=invented-{n}").status_code == 200
    assert len(caches["api"]._cache) <= limit


def test_an_answer_larger_than_the_limit_is_built_each_time(api, milestone, monkeypatch):
    from regulation.api import caching

    size = len(api.get("/api/v1/milestones/?page_size=1").content)
    monkeypatch.setattr(caching, "KEEP_AT_MOST_BYTES", size - 1)
    api.get("/api/v1/milestones/")
    _, queries = counted(api, "/api/v1/milestones/")
    assert queries > 1
