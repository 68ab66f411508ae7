"""A small world of published records around a few hubs, grown to any size: every page type
has a record whose page lists n of something, so query counts can be compared at 3 and 300."""

import datetime as dt
from dataclasses import dataclass
from itertools import count

from regulation.models import (
    DeliveryStatus,
    Instrument,
    Measure,
    Milestone,
    Organisation,
    Platform,
    Precision,
    PublicRecord,
    Source,
    Status,
    Topic,
)
from tests.factories import make_commitment, make_milestone, make_observation, make_source

_numbers = count(1)


def publish(record: PublicRecord, source: Source) -> PublicRecord:
    record.sources.add(source)
    record.publish()
    return record


@dataclass
class World:
    source: Source
    topic: Topic
    organisation: Organisation
    platform: Platform
    instrument: Instrument
    measure: Measure
    milestone: Milestone
    commitment: object
    size: int = 0

    def urls(self) -> dict[str, str]:
        """One URL of each page type, each showing the whole world around its hub."""
        platform, topic = self.platform.slug, self.topic.slug
        return {
            "home": "/",
            "timeline": "/timeline/",
            "timeline filtered": f"/timeline/?platform={platform}&topic={topic}&when=past",
            "instruments": "/instruments/",
            "platforms": "/platforms/",
            "commitments": "/commitments/",
            "organisations": "/organisations/",
            "sources": "/sources/",
            "topics": "/topics/",
            "about": "/about/",
            "sitemap": "/sitemap.xml",
            "milestone": self.milestone.get_absolute_url(),
            "instrument": self.instrument.get_absolute_url(),
            "measure": self.measure.get_absolute_url(),
            "platform": self.platform.get_absolute_url(),
            "commitment": self.commitment.get_absolute_url(),
            "organisation": self.organisation.get_absolute_url(),
            "source": self.source.get_absolute_url(),
            "topic": self.topic.get_absolute_url(),
        }


def make_world() -> World:
    source = make_source(key="S900", title="The hub source")
    topic = Topic.objects.create(name="Online grooming", slug="online-grooming")
    organisation = publish(Organisation.objects.create(name="Hub owner"), source)
    platform = publish(Platform.objects.create(name="Hubgram", owner=organisation), source)
    instrument = publish(
        Instrument.objects.create(
            title="Hub code",
            kind=Instrument.Kind.CODE_OF_PRACTICE,
            stage=Instrument.Stage.IN_FORCE,
            issuer=organisation,
        ),
        source,
    )
    measure = publish(
        Measure.objects.create(title="Hub measure", summary="S900 says so.", instrument=instrument),
        source,
    )
    measure.topics.add(topic)
    # Far ahead, so that every list of next dates has one at any size.
    milestone = make_milestone(
        title="Hub milestone",
        date=dt.date(2040, 1, 1),
        kind=Milestone.Kind.COMPLIANCE_DEADLINE,
        sources=[source],
        platforms=[platform],
    )
    milestone.topics.add(topic)
    milestone.instruments.add(instrument)
    commitment = make_commitment(
        platforms=[platform], sources=[source], made_by_organisation=organisation
    )
    commitment.measures.add(measure)
    commitment.topics.add(topic)
    return World(source, topic, organisation, platform, instrument, measure, milestone, commitment)


def grow(world: World, n: int) -> World:
    """Add n records of each kind, each tied to the hubs."""
    w = world
    for _ in range(n):
        i = next(_numbers)
        precision = [Precision.DAY, Precision.MONTH, Precision.QUARTER][i % 3]
        milestone = make_milestone(
            title=f"Milestone {i} of the world",
            date=dt.date(2024, 1, 1) + dt.timedelta(days=7 * i),
            date_precision=precision,
            sources=[w.source],
            platforms=[w.platform],
        )
        milestone.instruments.add(w.instrument)
        milestone.topics.add(w.topic)
        milestone.move_to(
            milestone.date + dt.timedelta(days=120), reason="Delayed", source=w.source
        )
        measure = publish(
            Measure.objects.create(
                title=f"Measure {i}", summary="A measure.", instrument=w.instrument
            ),
            w.source,
        )
        measure.topics.add(w.topic)
        w.milestone.measures.add(measure)
        commitment = make_commitment(
            platforms=[w.platform],
            milestones=[w.milestone, milestone],
            sources=[w.source],
            made_by_organisation=w.organisation,
            due_on=dt.date(2025, 1, 1),
        )
        commitment.measures.add(measure, w.measure)
        commitment.topics.add(w.topic)
        commitment.record_update(
            on=dt.date(2025, 6, 1), delivery_status=DeliveryStatus.IN_PROGRESS, evidence=w.source
        )
        w.commitment.milestones.add(milestone)
        w.commitment.measures.add(measure)
        child = publish(
            Instrument.objects.create(
                title=f"Instrument {i}",
                kind=Instrument.Kind.GUIDANCE,
                stage=Instrument.Stage.FINAL,
                parent=w.instrument,
                issuer=w.organisation,
            ),
            w.source,
        )
        child.topics.add(w.topic)
        publish(Platform.objects.create(name=f"Platform {i}", owner=w.organisation), w.source)
        observation = make_observation(sources=[w.source], status=Status.PUBLISHED)
        observation.platforms.add(w.platform)
        Source.objects.create(
            title=f"Source {i}",
            url=f"https://example.org/{i}",
            publisher=w.organisation,
            publisher_name="Hub owner",
            origin=Source.Origin.PRIMARY,
        ).milestones.add(milestone)
        Topic.objects.create(name=f"Topic {i}", slug=f"topic-{i}")
    w.size += n
    return w
