"""Filtering, search, ordering and pagination; bad input is a 400 with a message, never a 500."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from regulation.models import Certainty, Milestone, Precision, Status
from tests.factories import make_commitment, make_milestone, make_platform

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [record["slug"] for record in response.json()["results"]]


@pytest.fixture
def timeline():
    """Three milestones around 17 March 2025: one over, one due that day, one in July."""
    return {
        "over": make_milestone(title="Illegal harms codes", date=dt.date(2025, 3, 16)),
        "today": make_milestone(title="Duties in force", date=dt.date(2025, 3, 17)),
        "july": make_milestone(
            title="Children's codes",
            date=dt.date(2025, 7, 1),
            date_precision=Precision.MONTH,
            certainty=Certainty.EXPECTED,
        ),
    }


def test_upcoming_and_past_answer_as_the_models_querysets_do(api, timeline):
    at = dt.datetime(2025, 3, 17, 23, 30, tzinfo=LONDON)
    with time_machine.travel(at, tick=False):
        upcoming = slugs(api.get("/api/v1/milestones/?upcoming=true"))
        past = slugs(api.get("/api/v1/milestones/?past=true"))
        expected_upcoming = [m.slug for m in Milestone.objects.published().upcoming(at=at)]
        expected_past = [m.slug for m in Milestone.objects.published().past(at=at)]
    assert upcoming == expected_upcoming == [timeline["today"].slug, timeline["july"].slug]
    assert past == expected_past == [timeline["over"].slug]


def test_milestones_filter_by_certainty_precision_and_date_range(api, timeline):
    assert slugs(api.get("/api/v1/milestones/?certainty=expected")) == [timeline["july"].slug]
    assert slugs(api.get("/api/v1/milestones/?precision=month")) == [timeline["july"].slug]
    in_july = api.get("/api/v1/milestones/?date_from=2025-07-15&date_to=2025-07-20")
    assert slugs(in_july) == [timeline["july"].slug]


def test_milestones_filter_by_platform_including_through_its_commitments(api):
    snapchat = make_platform("Snapchat", status=Status.PUBLISHED)
    named = make_milestone(platforms=[snapchat])
    through = make_milestone()
    make_commitment(platforms=[snapchat], milestones=[through])
    make_milestone()
    found = slugs(api.get(f"/api/v1/milestones/?platform={snapchat.slug}"))
    assert sorted(found) == sorted([named.slug, through.slug])
    assert slugs(api.get("/api/v1/milestones/?platform=no-such-app")) == []


def test_commitments_filter_by_a_milestone_key_or_slug(api):
    milestone = make_milestone(key="M77")
    linked = make_commitment(milestones=[milestone])
    make_commitment()
    assert slugs(api.get("/api/v1/commitments/?milestone=M77")) == [linked.slug]
    assert slugs(api.get(f"/api/v1/commitments/?milestone={milestone.slug}")) == [linked.slug]


def test_overdue_commitments_are_the_open_ones_past_their_due_period(api):
    late = make_commitment(due_on=dt.date(2025, 5, 1), due_precision=Precision.MONTH)
    make_commitment(due_on=dt.date(2025, 5, 1), delivery_status="delivered")
    make_commitment(due_on=dt.date(2025, 9, 1))
    with time_machine.travel(dt.datetime(2025, 6, 1, 9, tzinfo=LONDON), tick=False):
        assert slugs(api.get("/api/v1/commitments/?overdue=true")) == [late.slug]


def test_updated_since_lists_only_records_changed_since(api):
    with time_machine.travel(dt.datetime(2025, 1, 1, 12, tzinfo=LONDON), tick=False):
        make_milestone()
    with time_machine.travel(dt.datetime(2025, 2, 1, 12, tzinfo=LONDON), tick=False):
        recent = make_milestone()
    assert slugs(api.get("/api/v1/milestones/?updated_since=2025-01-15T00:00")) == [recent.slug]
    assert slugs(api.get("/api/v1/commitments/?updated_since=2025-01-15T00:00Z")) == []


def test_updated_since_accepts_any_offset_python_can_read(api):
    # PostgreSQL refuses offsets beyond 15 hours; the filter converts to UTC first.
    response = api.get("/api/v1/milestones/?updated_since=0383-03-04T10:38:12-17:08")
    assert response.status_code == 200


def test_search_finds_words_in_the_title(api):
    wanted = make_milestone(title="Age assurance guidance published")
    make_milestone(title="Fees regime starts")
    assert slugs(api.get("/api/v1/milestones/?search=assurance")) == [wanted.slug]


def test_ordering_by_title(api):
    b = make_milestone(title="B")
    a = make_milestone(title="A")
    assert slugs(api.get("/api/v1/milestones/?ordering=title")) == [a.slug, b.slug]
    assert slugs(api.get("/api/v1/milestones/?ordering=-title")) == [b.slug, a.slug]


def test_a_poller_ordered_by_change_time_misses_nothing_and_repeats_nothing(api):
    made = [make_milestone(title=f"M {n}") for n in range(5)]
    first = api.get("/api/v1/milestones/?ordering=updated_at&page_size=2").json()
    assert first["count"] is None
    # A record changes between two pages: it moves to the end, and is seen there once.
    made[0].move_to(dt.date(2030, 1, 1), reason="Delayed")
    seen, url = [r["slug"] for r in first["results"]], first["next"]
    while url:
        page = api.get(url).json()
        seen += [r["slug"] for r in page["results"]]
        url = page["next"]
    assert seen == [m.slug for m in made[:2]] + [m.slug for m in made[2:]] + [made[0].slug]


def test_a_page_past_the_end_is_404(api):
    make_milestone()
    assert api.get("/api/v1/milestones/?page=99").status_code == 404


def test_page_sizes_are_capped(api, settings):
    settings.API_MAX_PAGE_SIZE = 3
    for _ in range(4):
        make_milestone()
    body = api.get("/api/v1/milestones/?page_size=1000").json()
    assert (body["count"], len(body["results"])) == (4, 3)


def test_cursor_page_sizes_are_capped_too(api, settings):
    settings.API_MAX_PAGE_SIZE = 3
    for _ in range(4):
        make_milestone()
    body = api.get("/api/v1/milestones/?ordering=updated_at&page_size=1000").json()
    assert len(body["results"]) == 3
    assert body["next"] is not None


@pytest.mark.parametrize(
    "query, field",
    [
        ("colour=red", "colour"),
        ("upcoming=perhaps", "upcoming"),
        ("date_from=2025-13-45", "date_from"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B10:00", "updated_since"),
        ("kind=banana", "kind"),
        ("page=two", "page"),
        ("page_size=-5", "page_size"),
        ("page_size=lots", "page_size"),
        ("page_size=0", "page_size"),
        # Cursor pages read page_size as numbered pages do: not silently the default.
        ("ordering=updated_at&page_size=lots", "page_size"),
        ("ordering=-updated_at&page_size=0", "page_size"),
        ("ordering=updated_at&cursor=not-a-cursor", "cursor"),
        ("cursor=abc", "cursor"),
        # An ordering the list does not offer is refused, not silently the default order.
        ("ordering=colour", "ordering"),
        ("ordering=title,-colour", "ordering"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(api, query, field):
    make_milestone()
    response = api.get(f"/api/v1/milestones/?{query}")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    "path", ["/api/v1/milestones/%00/", "/api/v1/commitments/pc%0004/", "/api/v1/sources/S%00/"]
)
def test_an_address_with_a_null_character_is_404_not_a_server_error(api, staff_api, path):
    # PostgreSQL refuses NUL in text: the lookup must not reach it.
    assert api.get(path).status_code == 404
    if "sources" not in path:
        assert staff_api.post(f"{path}publish/").status_code == 404
