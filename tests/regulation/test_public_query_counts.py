"""The statistics page, search and both feeds cost the same number of queries whatever the
amount of data: measured at 3 and at 300 records of each kind they show."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from regulation.models import DeliveryStatus, Unit
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)
from tests.regulation.records import make_topic

pytestmark = pytest.mark.django_db


def milestones_with_moves(n: int, topic) -> None:
    sources = [make_source(), make_source()]
    for i in range(n):
        milestone = make_milestone(title=f"Grooming duty {i}", sources=sources)
        milestone.topics.set([topic])
        if i % 3 == 0:
            milestone.move_to(dt.date(2025, 6, 1), reason="Ofcom moved it.")


def commitments_with_updates(n: int, platform) -> None:
    for i in range(n):
        commitment = make_commitment(summary=f"Grooming warnings for teens ({i})")
        commitment.platforms.set([platform])
        commitment.record_update(on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.DELIVERED)


def platform_shares(n: int, indicator) -> None:
    for i in range(n):
        observation = make_observation(
            indicator=indicator,
            unit=Unit.PERCENT,
            value=Decimal(i % 100),
            value_text=f"{i % 100}%",
            status="published",
        )
        observation.platforms.set([make_platform(status="published")])


def count_queries(client, url: str, params: dict, django_assert_num_queries, expected: int):
    with django_assert_num_queries(expected):
        response = client.get(url, params)
    assert response.status_code == 200
    return response


def test_the_statistics_page(client, django_assert_num_queries):
    url = reverse("regulation:statistics")
    indicator = make_indicator(slug="scwc-platform-share", unit=Unit.PERCENT, status="published")
    platform_shares(3, indicator)
    first, second, _ = indicator.observations.all()
    first.conflicts_with.add(second)  # as ST06 and ST07 do
    count_queries(client, url, {}, django_assert_num_queries, 9)

    platform_shares(297, indicator)
    response = count_queries(client, url, {}, django_assert_num_queries, 9)
    assert response.content.decode().count("<rect") == 300


def uncharted_indicators(first: int, last: int) -> None:
    """Indicators the page does not chart, numbered first to last, each with one figure."""
    source = make_source()
    for i in range(first, last):
        indicator = make_indicator(slug=f"uncharted-{i}", sources=[source], status="published")
        make_observation(indicator=indicator, sources=[source], status="published")


def test_the_statistics_page_with_every_other_indicator(client, django_assert_num_queries):
    url = reverse("regulation:statistics")
    uncharted_indicators(0, 3)
    count_queries(client, url, {}, django_assert_num_queries, 8)  # no conflicts to prefetch

    uncharted_indicators(3, 300)
    response = count_queries(client, url, {}, django_assert_num_queries, 8)
    html = response.content.decode()
    assert html.count('<section class="statistic" id="uncharted-') == 300
    assert html.count('<tr id="') == 300


def add_search_records(n: int) -> None:
    """n milestones and a tenth as many commitments, all matching "grooming"."""
    topic = make_topic(f"Grooming {n}", slug=f"grooming-{n}")
    milestones_with_moves(n, topic)
    commitments_with_updates(n // 10, make_platform(f"Grooming chat {n}", status="published"))


def test_search(client, django_assert_num_queries):
    url = reverse("regulation:search")
    overview, second_page = {"q": "grooming"}, {"q": "grooming", "type": "milestones", "page": 2}
    add_search_records(30)  # enough for a second page
    count_queries(client, url, overview, django_assert_num_queries, 9)
    count_queries(client, url, second_page, django_assert_num_queries, 4)

    add_search_records(270)
    response = count_queries(client, url, overview, django_assert_num_queries, 9)
    assert "All 300 milestones" in response.content.decode()
    count_queries(client, url, second_page, django_assert_num_queries, 4)


def test_the_calendar(client, django_assert_num_queries):
    url = reverse("regulation:calendar")
    topic = make_topic()
    milestones_with_moves(3, topic)
    count_queries(client, url, {}, django_assert_num_queries, 3)
    count_queries(client, url, {"topic": topic.slug}, django_assert_num_queries, 4)

    milestones_with_moves(297, topic)
    response = count_queries(client, url, {}, django_assert_num_queries, 3)
    assert response.content.count(b"BEGIN:VEVENT") == 300
    count_queries(client, url, {"topic": topic.slug}, django_assert_num_queries, 4)


def test_the_changes_feed(client, django_assert_num_queries):
    url = reverse("regulation:changes_feed")
    platform = make_platform("Snapchat", status="published")
    milestones_with_moves(3, make_topic())
    commitments_with_updates(3, platform)
    count_queries(client, url, {}, django_assert_num_queries, 9)

    milestones_with_moves(297, make_topic("Age assurance", slug="age-assurance"))
    commitments_with_updates(27, platform)
    count_queries(client, url, {}, django_assert_num_queries, 9)
