"""Plain helpers that create knowledge records with sensible defaults.

Each takes keyword overrides for any field, so a test names only what it is about.
A published record is created as the rule requires: a draft, then its sources, then publish();
one asked for as published without sources cites a fresh source.
"""

import datetime as dt
from collections.abc import Iterable
from itertools import count
from typing import Any

from regulation.models import (
    Commitment,
    Indicator,
    Milestone,
    Observation,
    Platform,
    PublicRecord,
    Source,
    Status,
    Unit,
)

_numbers = count(1)


def make_source(**fields: Any) -> Source:
    n = next(_numbers)
    defaults = {
        "title": f"Ofcom statement {n}",
        "url": f"https://www.ofcom.org.uk/statement-{n}",
        "publisher_name": "Ofcom",
        "origin": Source.Origin.PRIMARY,
    }
    return Source.objects.create(**{**defaults, **fields})


def _create_public(
    model: type[PublicRecord], sources: Iterable[Source] = (), **fields: Any
) -> PublicRecord:
    publish = fields.pop("status", Status.DRAFT) == Status.PUBLISHED
    record = model.objects.create(**fields)
    sources = list(sources)
    if publish and not sources:
        sources = [make_source()]
    record.sources.set(sources)
    if publish:
        record.publish()
    return record


def make_platform(name: str = "", **fields: Any) -> Platform:
    return _create_public(Platform, name=name or f"Platform {next(_numbers)}", **fields)


def make_milestone(
    *, platforms: Iterable[Platform] = (), sources: Iterable[Source] = (), **fields: Any
) -> Milestone:
    """A published milestone confirmed to the day, unless told otherwise."""
    defaults = {
        "title": f"Milestone {next(_numbers)}",
        "date": dt.date(2025, 3, 17),
        "status": Status.PUBLISHED,
    }
    milestone = _create_public(Milestone, sources, **{**defaults, **fields})
    milestone.platforms.set(platforms)
    return milestone


def make_commitment(
    *,
    platforms: Iterable[Platform] = (),
    milestones: Iterable[Milestone] = (),
    sources: Iterable[Source] = (),
    **fields: Any,
) -> Commitment:
    """A published commitment announced on 1 April 2025, unless told otherwise."""
    defaults = {
        "summary": f"We will verify the age of every user ({next(_numbers)}).",
        "made_on": dt.date(2025, 4, 1),
        "status": Status.PUBLISHED,
    }
    commitment = _create_public(Commitment, sources, **{**defaults, **fields})
    commitment.platforms.set(platforms)
    commitment.milestones.set(milestones)
    return commitment


def make_indicator(**fields: Any) -> Indicator:
    defaults = {"name": f"Sexual communication with a child offences ({next(_numbers)})"}
    return _create_public(Indicator, **{**defaults, **fields})


def make_observation(**fields: Any) -> Observation:
    defaults = {
        "metric": f"Offences recorded by police ({next(_numbers)})",
        "value_text": "7,062",
        "value": 7062,
        "unit": Unit.COUNT,
        "period_label": "2023/24",
    }
    fields = {**defaults, **fields}
    if "indicator" not in fields:
        fields["indicator"] = make_indicator()
    return _create_public(Observation, **fields)
