"""Plain helpers that create knowledge records with sensible defaults.

Each takes keyword overrides for any field, so a test names only what it is about.
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


def make_platform(name: str = "", **fields: Any) -> Platform:
    return Platform.objects.create(name=name or f"Platform {next(_numbers)}", **fields)


def make_milestone(
    *, platforms: Iterable[Platform] = (), sources: Iterable[Source] = (), **fields: Any
) -> Milestone:
    """A published milestone confirmed to the day, unless told otherwise."""
    defaults = {
        "title": f"Milestone {next(_numbers)}",
        "date": dt.date(2025, 3, 17),
        "status": Status.PUBLISHED,
    }
    milestone = Milestone.objects.create(**{**defaults, **fields})
    milestone.platforms.set(platforms)
    milestone.sources.set(sources)
    return milestone


def make_commitment(
    *, platforms: Iterable[Platform] = (), milestones: Iterable[Milestone] = (), **fields: Any
) -> Commitment:
    """A published commitment announced on 1 April 2025, unless told otherwise."""
    defaults = {
        "summary": f"We will verify the age of every user ({next(_numbers)}).",
        "made_on": dt.date(2025, 4, 1),
        "status": Status.PUBLISHED,
    }
    commitment = Commitment.objects.create(**{**defaults, **fields})
    commitment.platforms.set(platforms)
    commitment.milestones.set(milestones)
    return commitment


def make_indicator(**fields: Any) -> Indicator:
    defaults = {"name": f"Sexual communication with a child offences ({next(_numbers)})"}
    return Indicator.objects.create(**{**defaults, **fields})


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
    return Observation.objects.create(**fields)
