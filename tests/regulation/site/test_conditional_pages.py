"""Pages answer conditional requests: a reader with the current version gets a 304."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.factories import make_milestone

LONDON = ZoneInfo("Europe/London")
NOON = dt.datetime(2026, 11, 29, 12, 0, tzinfo=LONDON)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["regulation:home", "regulation:timeline", "regulation:about"])
def test_a_page_unchanged_since_the_reader_saw_it_answers_304(client, name):
    make_milestone(title="Children's codes in force")
    with time_machine.travel(NOON, tick=False):
        first = client.get(reverse(name))
        again = client.get(reverse(name), HTTP_IF_NONE_MATCH=first["ETag"])
        since = client.get(reverse(name), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert first.status_code == 200
    assert again.status_code == 304
    assert since.status_code == 304


def test_a_change_to_the_knowledge_or_a_new_day_makes_the_page_new_again(clock, client):
    # Made inside the pinned time: a record made after the pinned day would carry a change
    # later than the next day's midnight, and the next day would not move the page's stamp.
    milestone = make_milestone(title="Children's codes in force")
    url = milestone.get_absolute_url()
    etag = client.get(url)["ETag"]
    clock.shift(dt.timedelta(minutes=5))
    milestone.description = "Now with its measures."
    milestone.save()
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    clock.shift(dt.timedelta(days=1))
    next_day = client.get(url, HTTP_IF_NONE_MATCH=changed["ETag"])

    assert changed.status_code == 200
    assert next_day.status_code == 200  # "upcoming" and countdowns move with the day
