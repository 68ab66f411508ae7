"""Only published records appear anywhere public: a draft of every type, tied to published
records, shows on no page and in no sitemap, and its own address is a 404."""

import datetime as dt

import pytest
from django.test import Client

from regulation.models import (
    DeliveryStatus,
    Indicator,
    Instrument,
    Measure,
    Organisation,
    Platform,
    Source,
)
from tests.factories import make_commitment, make_milestone, make_observation
from tests.regulation.site.pages import crawl
from tests.regulation.site.world import grow, make_world

pytestmark = pytest.mark.django_db
MARK = "Zanzibar-draft"  # in every draft's words, and nowhere else


def make_drafts(world) -> list:
    """A draft of every type, each tied to the world's published hubs."""
    draft_only_source = Source.objects.create(
        title=f"{MARK} source only drafts cite",
        url="https://example.org/draft",
        publisher_name=f"{MARK} publisher",
        origin=Source.Origin.PRIMARY,
    )
    organisation = Organisation.objects.create(name=f"{MARK} organisation")
    platform = Platform.objects.create(name=f"{MARK} platform", owner=world.organisation)
    world.organisation.sources.add(draft_only_source)  # a published record may cite it too...
    world.organisation.sources.remove(draft_only_source)  # ...but here only drafts do
    instrument = Instrument.objects.create(
        title=f"{MARK} instrument",
        kind=Instrument.Kind.GUIDANCE,
        stage=Instrument.Stage.DRAFT,
        parent=world.instrument,
        issuer=world.organisation,
    )
    instrument.topics.add(world.topic)
    measure = Measure.objects.create(
        title=f"{MARK} measure", summary="Draft.", instrument=world.instrument
    )
    measure.topics.add(world.topic)
    world.commitment.measures.add(measure)
    milestone = make_milestone(
        title=f"{MARK} milestone",
        status="draft",
        sources=[draft_only_source],
        platforms=[world.platform],
    )
    milestone.instruments.add(world.instrument)
    milestone.topics.add(world.topic)
    milestone.measures.add(world.measure)
    milestone.move_to(dt.date(2031, 1, 1), reason=f"{MARK} move", source=draft_only_source)
    commitment = make_commitment(
        summary=f"{MARK} commitment",
        status="draft",
        platforms=[world.platform, platform],
        milestones=[world.milestone],
        sources=[draft_only_source],
        made_by_organisation=world.organisation,
    )
    commitment.measures.add(world.measure)
    commitment.topics.add(world.topic)
    commitment.record_update(
        on=dt.date(2025, 5, 1),
        delivery_status=DeliveryStatus.DELIVERED,
        note=f"{MARK} update",
        evidence=draft_only_source,
    )
    indicator = Indicator.objects.create(name=f"{MARK} indicator", publisher=world.organisation)
    observation = make_observation(
        metric=f"{MARK} observation", value_text="123", indicator=indicator, status="draft"
    )
    observation.platforms.add(world.platform)
    # A published platform whose owner is a draft: the owner must not show through it.
    world.platform.owner = organisation
    world.platform.save()
    return [organisation, platform, instrument, measure, milestone, commitment]


def test_no_draft_shows_on_any_page_or_in_the_sitemap():
    world = grow(make_world(), 2)
    drafts = make_drafts(world)
    client = Client()

    pages = crawl(client)
    pages["/sitemap.xml"] = client.get("/sitemap.xml").content.decode()
    pages["/timeline/?when=upcoming"] = client.get("/timeline/?when=upcoming").content.decode()

    assert len(pages) > 20
    assert not [url for url, html in pages.items() if MARK in html]
    for draft in drafts:
        assert draft.get_absolute_url() not in pages
        assert client.get(draft.get_absolute_url()).status_code == 404


def test_a_source_only_drafts_cite_has_no_page():
    world = make_world()
    make_drafts(world)
    source = Source.objects.get(title__startswith=MARK)

    assert Client().get(source.get_absolute_url()).status_code == 404
    assert source not in Source.objects.public()


def test_the_commitment_counts_leave_drafts_out():
    world = make_world()
    make_drafts(world)

    home = Client().get("/").content.decode()

    assert "Delivered</th><td>0</td>" in home.replace("\n", "")
    assert world.platform.commitments.count() == 2  # the published one and the draft
    platforms = Client().get("/platforms/").content.decode()
    assert platforms.split(world.platform.name)[1].split("</tr>")[0].count("<td>1</td>") == 1
