"""The seeded knowledge equals the facts, record by record (the seed is loaded once per module).

The seed holds both releases: the first facts' records are compared as the November 2026
update's corrections left them (its own records: test_release_2026_11.py)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from regulation.models import (
    Commitment,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Status,
)
from tests.regulation.release_files import corrected_first_facts, update_facts

FACTS = corrected_first_facts()
UPDATE = update_facts()
CURATION = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "curation-2026-11.json").read_text()
)
PUBLIC_MODELS = [
    Organisation,
    Platform,
    Instrument,
    Measure,
    Milestone,
    Commitment,
    Indicator,
    Observation,
]

pytestmark = pytest.mark.django_db


def source_keys(record) -> set[str]:
    return set(record.sources.values_list("key", flat=True))


def precision_of(date_text: str) -> str:
    """The precision a facts date is written at: 2024 / 2024-12 / 2024-12-16."""
    return {4: "year", 7: "month", 10: "day"}[len(date_text.split(" ")[0])]


def test_it_loads_every_record_in_the_facts(seeded, db):
    assert Milestone.objects.count() == len(FACTS["milestones"]) + len(UPDATE["milestones"]) == 110
    assert Measure.objects.count() == len(FACTS["code_measures"]) == 14
    assert Observation.objects.count() == len(FACTS["statistics"]) + 16 == 54
    assert Commitment.objects.count() == len(FACTS["commitments"]) + 8 == 30
    assert Organisation.objects.count() == len(FACTS["organisations"]) == 17
    assert Source.objects.count() == len(FACTS["sources"]) + len(UPDATE["sources"]) == 227
    assert set(Platform.objects.values_list("name", flat=True)) >= {
        "Snapchat",
        "WhatsApp",
        "Instagram",
        "Facebook",
        "Messenger",
    }


def test_every_milestone_equals_its_fact(seeded, db):
    for fact in FACTS["milestones"]:
        milestone = Milestone.objects.get(key=fact["id"])
        date_text = fact["date"]
        assert milestone.title == fact["event"], fact["id"]
        assert milestone.date_iso == date_text.split(" ")[0], fact["id"]
        assert milestone.date_precision == precision_of(date_text), fact["id"]
        expected = "expected" if fact["precision"] == "expected" else "confirmed"
        assert milestone.certainty == expected, fact["id"]
        assert milestone.phase == fact["phase"]
        assert milestone.who_must_act == fact["responsible"]
        assert milestone.verification == fact["status"], fact["id"]
        assert milestone.notes == fact["notes"]
        assert source_keys(milestone) == set(fact["source_ids"]), fact["id"]


def test_it_shows_dates_no_more_precisely_than_the_facts(seeded, db):
    assert Milestone.objects.get(key="M01").date_display == "April 2019"
    assert Milestone.objects.get(key="M21").date_display == "16 December 2024"
    assert Milestone.objects.get(key="M58").date_display == "Expected: July 2026"
    assert Milestone.objects.get(key="M60").date_display == "Expected: mid-2027"


def test_the_december_2024_publication_and_march_2025_dates_are_compliance_deadlines(seeded, db):
    deadlines = Milestone.objects.compliance_deadlines()
    dates = {m.key: m.date.isoformat() for m in deadlines.filter(key__in=["M21", "M27", "M28"])}
    assert dates == {"M21": "2024-12-16", "M27": "2025-03-16", "M28": "2025-03-17"}


def test_every_measure_equals_its_fact(seeded, db):
    for fact in FACTS["code_measures"]:
        measure = Measure.objects.get(key=fact["id"])
        assert measure.reference == fact["measure_id"]
        assert measure.title == fact["title"]
        assert measure.instrument_reference == fact["code"]
        assert measure.summary == fact["description"]
        assert measure.applies_to == fact["applies_to"]
        assert measure.relevance == fact["grooming_relevance"]
        assert measure.verification == fact["status"], fact["id"]
        assert source_keys(measure) == set(fact["source_ids"]), fact["id"]


def test_every_statistic_equals_its_fact(seeded, db):
    for fact in FACTS["statistics"]:
        observation = Observation.objects.get(key=fact["id"])
        assert observation.metric == fact["metric"]
        assert observation.value_text == fact["value"], fact["id"]
        assert observation.period_label == fact["period"]
        assert observation.coverage == fact["coverage"]
        assert observation.verification == fact["status"], fact["id"]
        assert source_keys(observation) == set(fact["source_ids"]), fact["id"]
        if observation.value is not None:
            digits = fact["value"].split(" ")[0].replace(",", "").rstrip("%").lstrip("+")
            assert observation.value == Decimal(digits), fact["id"]


def test_the_headline_figures_are_numbers_for_charts(seeded, db):
    figures = {o.key: (o.value, o.unit) for o in Observation.objects.filter(key__startswith="ST0")}
    assert figures["ST01"] == (Decimal(7062), "count")
    assert figures["ST02"] == (Decimal(89), "percent_change")
    assert figures["ST03"] == (Decimal(1824), "count")
    assert figures["ST04"] == (Decimal(48), "percent")
    snapchat_share = Observation.objects.get(key="ST04")
    assert [p.name for p in snapchat_share.platforms.all()] == ["Snapchat"]
    # '2023/24' names police years, not their months: the facts do not say April to March.
    police_year = Observation.objects.get(key="ST01")
    assert (police_year.period_start, police_year.period_end) == (None, None)


def test_it_keeps_the_facebook_and_messenger_disagreement_as_a_conflict(seeded, db):
    nspcc_text = Observation.objects.get(key="ST06")
    pa_copy = Observation.objects.get(key="ST07")
    assert (nspcc_text.value, pa_copy.value) == (Decimal(10), Decimal(12))
    assert list(nspcc_text.conflicts_with.all()) == [pa_copy]
    assert list(pa_copy.conflicts_with.all()) == [nspcc_text]
    assert nspcc_text.is_conflicted and pa_copy.is_conflicted
    assert source_keys(nspcc_text) == {"S56", "S57", "S58", "S106"}
    assert source_keys(pa_copy) == {"S54", "S55"}
    both = {p.slug for p in nspcc_text.platforms.all()} & {p.slug for p in pa_copy.platforms.all()}
    assert both == {"facebook", "messenger"}


def test_every_commitment_equals_its_fact(seeded, db):
    for fact in FACTS["commitments"]:
        commitment = Commitment.objects.get(key=fact["id"])
        assert commitment.summary == fact["commitment"]
        assert commitment.platform_label == fact["platform"]
        assert commitment.made_on.isoformat().startswith(fact["date"]), fact["id"]
        assert commitment.made_on_precision == fact["precision"] == precision_of(fact["date"])
        assert commitment.verification == fact["status"]
        assert commitment.notes == fact["notes"]
        assert source_keys(commitment) == set(fact["source_ids"]), fact["id"]
        assert commitment.platforms.exists(), fact["id"]
        # Delivered (or under way) only where the curation found a source saying so.
        assert commitment.delivery_status == DELIVERY.get(fact["id"], "announced"), fact["id"]


DELIVERY = {u["commitment"]: u["delivery_status"] for u in CURATION["status_updates"]}


def test_commitments_are_linked_to_each_platform_they_name(seeded, db):
    meta_teen_accounts = Commitment.objects.get(key="PC09")
    assert {p.name for p in meta_teen_accounts.platforms.all()} == {
        "Facebook",
        "Messenger",
        "Instagram",
    }
    snapchat = Platform.objects.get(slug="snapchat")
    assert set(Commitment.objects.for_platform(snapchat).values_list("key", flat=True)) == {
        "PC01",
        "PC02",
        "PC03",
        "PC04",
        "PC26",
        "PC29",
    }
    assert snapchat.owner.name == "Snap Inc."


def test_every_organisation_and_source_equals_its_fact(seeded, db):
    for fact in FACTS["organisations"]:
        organisation = Organisation.objects.get(key=fact["id"])
        assert organisation.name == fact["name"]
        assert organisation.kind_label == fact["type"]
        assert organisation.description == fact["role"]
        assert organisation.verification == fact["status"]
        assert source_keys(organisation) == set(fact["source_ids"])
    for fact in FACTS["sources"]:
        source = Source.objects.get(key=fact["id"])
        assert (source.title, source.url, source.publisher_name, source.origin) == (
            fact["title"],
            fact["url"],
            fact["publisher"],
            fact["type"],
        )
        if source.published_on:
            written = fact["date"].split(" ")[0]
            assert source.published_precision == precision_of(written), fact["id"]
            assert source.published_on.isoformat().startswith(written), fact["id"]
        else:
            assert source.date_note == fact["date"], fact["id"]


def test_every_published_record_cites_a_source(seeded, db):
    for model in PUBLIC_MODELS:
        uncited = model.objects.published().filter(sources=None)
        assert not uncited.exists(), f"{model.__name__}: {list(uncited)}"


def test_facts_without_a_source_stay_unpublished_drafts(seeded, db):
    uncited_facts = {
        fact["id"]
        for section in ("milestones", "code_measures", "statistics", "commitments")
        for fact in FACTS[section]
        if not fact["source_ids"]
    }
    # M57 had none until the update's correction gave it its sources.
    assert uncited_facts == {"CM10", "ST17"}
    for model in (Milestone, Measure, Observation):
        for record in model.objects.filter(key__in=uncited_facts):
            assert record.status == Status.DRAFT


def test_nothing_unverified_is_promoted(seeded, db):
    for section, model in (
        ("milestones", Milestone),
        ("code_measures", Measure),
        ("statistics", Observation),
        ("commitments", Commitment),
        ("organisations", Organisation),
    ):
        facts = FACTS[section] + UPDATE.get(section, [])
        unverified = {f["id"] for f in facts if f["status"] == "unverified"}
        stored = set(model.objects.filter(verification="unverified").values_list("key", flat=True))
        assert stored == unverified, section
