"""Each page runs the same number of queries with 3 records around it as with 300."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.regulation.site.world import grow, make_world

pytestmark = pytest.mark.django_db


def queries_per_page(client: Client, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        client.get(url)  # once first, so that a first-request cache is not counted
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(queries)
    return counts


def test_every_page_type_costs_the_same_queries_at_3_and_at_300_records(client):
    world = grow(make_world(), 3)
    at_3 = queries_per_page(client, world.urls())

    grow(world, 297)
    at_300 = queries_per_page(client, world.urls())

    assert at_300 == at_3
    assert max(at_3.values()) <= 20, at_3  # and few of them
    # The pages really list the 300: the platform's commitments, the timeline's milestones.
    assert (
        client.get(world.platform.get_absolute_url()).content.decode().count('href="/commitments/')
        >= 2 * 300
    )
    assert client.get("/timeline/").content.decode().count('<span class="date">') > 300
