"""Every list and detail costs the same number of queries at 3 rows as at 30."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from regulation.models import Instrument, Measure, Organisation, SeedConflict, Status, Topic
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_answer_built(settings):
    """What building an answer costs: none is answered from a kept one (test_kept_answers)."""
    settings.API_ANSWER_SECONDS = 0


def published(model, **fields):
    record = model.objects.create(**fields)
    record.sources.set([make_source(), make_source()])
    record.publish()
    return record


def make_fully_linked(n: int) -> None:
    """One of each record, linked to everything it can link to."""
    owner = published(Organisation, name=f"Owner {n}")
    topic = Topic.objects.create(name=f"Topic {n}", slug=f"topic-{n}")
    platform = make_platform(f"App {n}", owner=owner, status=Status.PUBLISHED)
    act = published(Instrument, title=f"Act {n}", kind="act", stage="in_force", issuer=owner)
    code = published(
        Instrument, title=f"Code {n}", kind="code_of_practice", stage="final", parent=act
    )
    code.topics.set([topic])
    measure = published(Measure, title=f"Measure {n}", summary="Do it", instrument=code)
    measure.topics.set([topic])
    milestone = make_milestone(platforms=[platform], sources=[make_source(), make_source()])
    milestone.instruments.set([act, code])
    milestone.measures.set([measure])
    milestone.topics.set([topic])
    milestone.move_to(
        dt.date(2026, 7, 1), precision="month", reason="It slipped", source=make_source()
    )
    commitment = make_commitment(
        platforms=[platform], milestones=[milestone], made_by_organisation=owner
    )
    commitment.measures.set([measure])
    commitment.topics.set([topic])
    commitment.record_update(
        on=dt.date(2025, 5, 1), delivery_status="in_progress", evidence=make_source()
    )
    indicator = make_indicator(publisher=owner, status=Status.PUBLISHED)
    indicator.topics.set([topic])
    first = make_observation(indicator=indicator, status=Status.PUBLISHED)
    second = make_observation(indicator=indicator, status=Status.PUBLISHED)
    first.conflicts_with.set([second])
    first.platforms.set([platform])
    SeedConflict.objects.create(
        release=_release(),
        model="regulation.milestone",
        fact_id=f"M{n}",
        object_pk=milestone.pk,
        field="title",
    )


def _release():
    from regulation.models import FactRelease

    return FactRelease.objects.get_or_create(
        name="0001_test", defaults={"facts_file": "f", "curation_file": "c", "applied_by": "t"}
    )[0]


RESOURCES = [
    "milestones",
    "commitments",
    "instruments",
    "measures",
    "platforms",
    "organisations",
    "indicators",
    "observations",
    "sources",
    "topics",
]


@pytest.fixture(scope="module")
def linked_30(django_db_setup, django_db_blocker):
    """30 of every record, fully linked, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        for n in range(30):
            make_fully_linked(n)
        yield
        transaction.set_rollback(True)


def queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def list_counts(api, path: str) -> dict[int, int]:
    """Queries for a page of 3 and a page of 30 records."""
    return {size: queries(api, f"/api/v1/{path}/?page_size={size}") for size in (3, 30)}


@pytest.mark.parametrize("path", RESOURCES)
def test_a_list_costs_the_same_queries_at_3_and_30_rows(linked_30, api, path):
    counted = list_counts(api, path)
    assert counted[3] == counted[30]


@pytest.mark.parametrize("path", RESOURCES)
def test_every_detail_costs_the_same_queries(linked_30, api, path):
    urls = [r["url"] for r in api.get(f"/api/v1/{path}/?page_size=30").json()["results"]]
    assert len({queries(api, url) for url in (urls[0], urls[-1])}) == 1


@pytest.mark.parametrize("path", ["milestones", "commitments"])
def test_a_staff_token_costs_the_same_queries_at_3_and_30_rows(linked_30, staff_api, path):
    counted = list_counts(staff_api, path)
    assert counted[3] == counted[30]
