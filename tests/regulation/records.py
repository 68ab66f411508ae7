"""Factories for the kinds of record tests/factories.py does not make yet, through the same
publishing rule (a draft, its sources, then publish())."""

from typing import Any

from regulation.models import Instrument, Measure, Organisation, Topic
from tests.factories import _create_public


def make_instrument(**fields: Any) -> Instrument:
    defaults = {
        "title": "Illegal content Codes of Practice for user-to-user services",
        "kind": Instrument.Kind.CODE_OF_PRACTICE,
        "stage": Instrument.Stage.IN_FORCE,
        "status": "published",
    }
    return _create_public(Instrument, **{**defaults, **fields})


def make_measure(**fields: Any) -> Measure:
    defaults = {
        "title": "Safer default settings for children",
        "summary": "Children's profiles are not shown to strangers.",
        "status": "published",
    }
    return _create_public(Measure, **{**defaults, **fields})


def make_organisation(**fields: Any) -> Organisation:
    defaults = {"name": "Ofcom", "status": "published"}
    return _create_public(Organisation, **{**defaults, **fields})


def make_topic(name: str = "Grooming", **fields: Any) -> Topic:
    return Topic.objects.create(name=name, slug=fields.pop("slug", name.lower()), **fields)
