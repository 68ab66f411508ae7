"""The home page lists the next dates and the latest milestones from the published data."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from regulation.models import Certainty, Milestone, Precision, Verification
from regulation.seed import load_seed
from tests.factories import make_milestone, make_source

LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db


def visit_home(client, at: dt.datetime) -> str:
    with time_machine.travel(at, tick=False):
        response = client.get(reverse("regulation:home"))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, heading: str) -> str:
    start = html.index(heading)
    end = html.find("</section>", start)
    return html[start:end]


def visit_milestone(client, milestone: Milestone, at: dt.datetime) -> str:
    with time_machine.travel(at, tick=False):
        response = client.get(milestone.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def listed_date(html: str, title: str) -> str:
    """What a list shows as the date of the milestone with this title (its date element)."""
    item = html[html.rindex("<li", 0, html.index(title)) : html.index(title)]
    return item[item.index('<span class="date">') :]


def page_date(html: str) -> str:
    """What a milestone's own page shows as its date (the date paragraph)."""
    start = html.index('<p class="date">')
    return html[start : html.index("</p>", start)]


def amended_codes_in_force(**fields) -> Milestone:
    """A day no cited source confirms, as M59 was before the November 2026 update."""
    defaults = {
        "title": "Amended Illegal content Codes take effect",
        "date": dt.date(2026, 9, 30),
        "verification": Verification.UNVERIFIED,
        "sources": [make_source()],
    }
    return make_milestone(**{**defaults, **fields})


def register_published(**fields) -> Milestone:
    """An expected month, as M58 is: the register of categorised services in July 2026."""
    defaults = {
        "title": "Register of categorised services published",
        "date": dt.date(2026, 7, 1),
        "date_precision": Precision.MONTH,
        "certainty": Certainty.EXPECTED,
        "verification": Verification.CONFIRMED,
        "sources": [make_source()],
    }
    return make_milestone(**{**defaults, **fields})


def test_it_lists_the_march_2025_deadlines_as_next_in_march_2025(seeded, client):
    html = visit_home(client, dt.datetime(2025, 3, 1, 9, 0, tzinfo=LONDON))

    upcoming = section(html, "Next deadlines and dates")
    # M29: Ofcom's own page dates it 3 March (the November 2026 update's correction).
    assert upcoming.index("3 March 2025") < upcoming.index("16 March 2025")
    assert upcoming.index("16 March 2025") < upcoming.index("17 March 2025")
    assert "Compliance deadline" in upcoming
    latest = section(html, "Latest milestones")
    assert "26 February 2025" in latest  # threshold regulations made
    assert "16 March 2025" not in latest


def test_it_shows_expected_dates_at_their_precision(seeded, client):
    html = visit_home(client, dt.datetime(2026, 6, 20, 12, 0, tzinfo=LONDON))

    upcoming = section(html, "Next deadlines and dates")
    assert "Expected: July 2026" in upcoming
    assert "Expected: autumn 2026" in upcoming
    assert "1 July 2026" not in upcoming


def test_an_expected_date_that_passed_is_not_shown_as_having_happened(seeded, client):
    html = visit_home(client, dt.datetime(2026, 11, 28, 12, 0, tzinfo=LONDON))

    latest = section(html, "Latest milestones")
    register = latest[latest.index("Expected: July 2026") :]
    assert "Expected date passed: not confirmed as happened" in register.split("</li>")[0]
    confirmed = latest[latest.index("19 June 2026") :]
    assert "not confirmed as happened" not in confirmed.split("</li>")[0]


def test_it_never_shows_drafts(seeded, client):
    draft = Milestone.objects.get(key="M57")
    draft.unpublish()
    html = visit_home(client, dt.datetime(2026, 6, 1, 12, 0, tzinfo=LONDON))

    assert draft.title not in html
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_a_milestone_page_shows_its_sources(seeded, client):
    milestone = Milestone.objects.get(key="M21")

    html = client.get(milestone.get_absolute_url()).content.decode()

    assert "16 December 2024" in html
    assert "Statement: Protecting people from illegal harms online" in html  # S13
    assert "Compliance deadline" in html


def test_the_home_page_costs_the_same_queries_however_many_milestones(client):
    at = dt.datetime(2025, 3, 1, 9, 0, tzinfo=LONDON)
    with CaptureQueriesContext(connection) as empty:
        visit_home(client, at)
    load_seed()
    with CaptureQueriesContext(connection) as seeded:
        visit_home(client, at)

    assert len(seeded) == len(empty)


BEFORE_SEPTEMBER_2026 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=LONDON)
AFTER_JULY_2026 = dt.datetime(2026, 8, 1, 0, 30, tzinfo=LONDON)  # 31 July 23:30 UTC


def test_an_unverified_day_carries_its_mark_in_the_list_of_next_dates(client):
    milestone = amended_codes_in_force()

    date = listed_date(visit_home(client, BEFORE_SEPTEMBER_2026), milestone.title)

    assert "30 September 2026</time>" in date
    assert "Unverified" in date


def test_an_unverified_day_carries_its_mark_on_its_own_page(client):
    milestone = amended_codes_in_force()

    date = page_date(visit_milestone(client, milestone, BEFORE_SEPTEMBER_2026))

    assert "30 September 2026</time>" in date
    assert "Unverified" in date


def test_a_verified_day_shows_no_unverified_mark(client):
    milestone = amended_codes_in_force(verification=Verification.CONFIRMED)

    home = visit_home(client, BEFORE_SEPTEMBER_2026)
    page = visit_milestone(client, milestone, BEFORE_SEPTEMBER_2026)

    assert "Unverified" not in listed_date(home, milestone.title)
    assert "Unverified" not in page_date(page)
    assert "Confirmed in a cited source" in page_date(page)


def test_an_unverified_expected_season_carries_its_mark_too(client):
    milestone = amended_codes_in_force(
        title="Statement on the remaining additional safety measures",
        date=dt.date(2026, 9, 1),
        date_precision=Precision.SEASON,
        certainty=Certainty.EXPECTED,
    )

    date = listed_date(visit_home(client, BEFORE_SEPTEMBER_2026), milestone.title)

    # HTML's datetime has no season: the period is given as its first and last days.
    assert 'data-period="2026-09-01/2026-11-30">Expected: autumn 2026</span>' in date
    assert "Unverified" in date


PASSED_UNCONFIRMED = "Expected date passed: not confirmed as happened"


def test_an_expected_date_that_passed_unconfirmed_says_so_in_the_latest_milestones(client):
    milestone = register_published()

    date = listed_date(visit_home(client, AFTER_JULY_2026), milestone.title)

    assert "Expected: July 2026</time>" in date
    assert PASSED_UNCONFIRMED in date


def test_an_expected_date_that_passed_unconfirmed_says_so_on_its_own_page(client):
    milestone = register_published()

    date = page_date(visit_milestone(client, milestone, AFTER_JULY_2026))

    assert "Expected: July 2026</time>" in date
    assert PASSED_UNCONFIRMED in date


def test_an_expected_date_not_yet_over_does_not_say_it_passed(client):
    milestone = register_published()
    last_evening = dt.datetime(2026, 7, 31, 23, 30, tzinfo=LONDON)

    home = visit_home(client, last_evening)
    page = visit_milestone(client, milestone, last_evening)

    assert PASSED_UNCONFIRMED not in listed_date(home, milestone.title)
    assert PASSED_UNCONFIRMED not in page_date(page)
