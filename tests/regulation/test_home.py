"""The home page lists the next dates and the latest milestones from the published data."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from regulation.models import Milestone
from regulation.seed import load_seed

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


def test_it_lists_the_march_2025_deadlines_as_next_in_march_2025(seeded, client):
    html = visit_home(client, dt.datetime(2025, 3, 1, 9, 0, tzinfo=LONDON))

    upcoming = section(html, "Next deadlines and dates")
    assert upcoming.index("5 March 2025") < upcoming.index("16 March 2025")
    assert upcoming.index("16 March 2025") < upcoming.index("17 March 2025")
    assert "Compliance deadline" in upcoming
    latest = section(html, "Latest milestones")
    assert "26 February 2025" in latest  # threshold regulations made
    assert "16 March 2025" not in latest


def test_it_shows_expected_dates_at_their_precision(seeded, client):
    html = visit_home(client, dt.datetime(2026, 6, 20, 12, 0, tzinfo=LONDON))

    upcoming = section(html, "Next deadlines and dates")
    assert "Expected: July 2026" in upcoming
    assert "Expected: mid-2027" in upcoming
    assert "1 July 2026" not in upcoming


def test_an_expected_date_that_passed_is_not_shown_as_having_happened(seeded, client):
    html = visit_home(client, dt.datetime(2026, 11, 28, 12, 0, tzinfo=LONDON))

    latest = section(html, "Latest milestones")
    register = latest[latest.index("Expected: July 2026") :]
    assert "Expected date passed: not confirmed as happened" in register.split("</li>")[0]
    confirmed = latest[latest.index("18 June 2026") :]
    assert "not confirmed as happened" not in confirmed.split("</li>")[0]


def test_it_never_shows_drafts(seeded, client):
    draft = Milestone.objects.get(key="M57")  # no citable source: a draft
    html = visit_home(client, dt.datetime(2026, 6, 1, 12, 0, tzinfo=LONDON))

    assert draft.title not in html
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_a_milestone_page_shows_its_sources(seeded, client):
    milestone = Milestone.objects.get(key="M21")

    html = client.get(milestone.get_absolute_url()).content.decode()

    assert "16 December 2024" in html
    assert "Statement: Protecting people from illegal harms online" in html  # S13
    assert "Compliance deadline" in html


def test_the_home_page_costs_the_same_queries_however_many_milestones(
    client, django_assert_num_queries
):
    at = dt.datetime(2025, 3, 1, 9, 0, tzinfo=LONDON)
    with django_assert_num_queries(2):
        visit_home(client, at)
    load_seed()
    with django_assert_num_queries(2):
        visit_home(client, at)
