"""The XSS corpus through every Markdown field on the page that shows it: whatever the hostile
text adds to the page is inert (the elements the page has with harmless text in the same field
are the page's own)."""

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import models
from django.test import Client

from regulation.models import (
    CommitmentUpdate,
    DateChange,
    Indicator,
    Instrument,
    Measure,
    Observation,
    Organisation,
    Status,
    Topic,
)
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)
from tests.regulation.test_markdown import XSS_CORPUS, assert_inert, inspect

pytestmark = pytest.mark.django_db

HARMLESS = "Nothing to see here."


def published(record):
    record.sources.add(make_source())
    record.publish()
    return record


def date_change() -> DateChange:
    return make_milestone().move_to(dt.date(2025, 5, 1), reason=HARMLESS)


def commitment_update() -> CommitmentUpdate:
    return CommitmentUpdate.objects.create(
        commitment=make_commitment(), on=dt.date(2025, 6, 1), delivery_status="in_progress"
    )


def indicator() -> Indicator:
    indicator = make_indicator(status=Status.PUBLISHED)
    make_observation(indicator=indicator, status=Status.PUBLISHED)
    return indicator


def disagreeing_observation() -> Observation:
    """The statistics page shows an observation's notes where sources disagree."""
    series = indicator()
    observation = make_observation(indicator=series, status=Status.PUBLISHED)
    observation.conflicts_with.add(make_observation(indicator=series, status=Status.PUBLISHED))
    return observation


# Each Markdown field: a published record showing it, and the page it is shown on.
FIELDS: dict[str, tuple[Callable[[], models.Model], Callable[[models.Model], str]]] = {
    "milestone.description": (make_milestone, lambda r: r.get_absolute_url()),
    "milestone.notes": (make_milestone, lambda r: r.get_absolute_url()),
    "datechange.reason": (date_change, lambda r: r.milestone.get_absolute_url()),
    "commitment.notes": (make_commitment, lambda r: r.get_absolute_url()),
    "commitmentupdate.note": (commitment_update, lambda r: r.commitment.get_absolute_url()),
    "platform.notes": (
        lambda: make_platform(status=Status.PUBLISHED),
        lambda r: r.get_absolute_url(),
    ),
    "organisation.description": (
        lambda: published(Organisation.objects.create(name="NSPCC", kind="charity")),
        lambda r: r.get_absolute_url(),
    ),
    "organisation.notes": (
        lambda: published(Organisation.objects.create(name="NSPCC", kind="charity")),
        lambda r: r.get_absolute_url(),
    ),
    "instrument.summary": (
        lambda: published(Instrument.objects.create(title="Act", kind="act", stage="final")),
        lambda r: r.get_absolute_url(),
    ),
    "instrument.notes": (
        lambda: published(Instrument.objects.create(title="Act", kind="act", stage="final")),
        lambda r: r.get_absolute_url(),
    ),
    "measure.summary": (
        lambda: published(Measure.objects.create(title="Defaults", summary=HARMLESS)),
        lambda r: r.get_absolute_url(),
    ),
    "measure.relevance": (
        lambda: published(Measure.objects.create(title="Defaults", summary=HARMLESS)),
        lambda r: r.get_absolute_url(),
    ),
    "measure.notes": (
        lambda: published(Measure.objects.create(title="Defaults", summary=HARMLESS)),
        lambda r: r.get_absolute_url(),
    ),
    "indicator.method_note": (indicator, lambda r: r.get_absolute_url()),
    "indicator.notes": (indicator, lambda r: r.get_absolute_url()),
    "observation.notes": (
        disagreeing_observation,
        lambda r: r.get_absolute_url(),
    ),
    "topic.description": (
        lambda: Topic.objects.create(name="Grooming", slug="grooming"),
        lambda r: r.get_absolute_url(),
    ),
}


def write(record: models.Model, field: str, text: str) -> None:
    # One column, as staff would type it. Nothing else changes (the page's "last updated"
    # stays), so whatever the page gains comes from the text.
    type(record)._base_manager.filter(pk=record.pk).update(**{field: text})


def elements(html: str) -> Counter:
    return Counter(
        (tag, tuple(sorted(attributes.items()))) for tag, attributes in inspect(html).elements
    )


def page(url: str) -> str:
    response = Client().get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("field", FIELDS)
def test_hostile_text_in_every_markdown_field_comes_out_inert(field):
    make, page_of = FIELDS[field]
    record, name = make(), field.split(".")[1]
    write(record, name, HARMLESS)
    harmless = elements(page(page_of(record)))
    write(record, name, "\n\n".join(XSS_CORPUS))
    hostile_page = page(page_of(record))

    added = elements(hostile_page) - harmless
    # The text reached the page as Markdown (paragraphs, links, code), so the test looks at
    # the field it means to.
    assert sum(added.values()) > 0, field
    for tag, attributes in added:
        attrs = "".join(f' {name}="{value}"' for name, value in attributes)
        assert_inert(f"<{tag}{attrs}>")
    assert "<script>alert" not in hostile_page.lower()
