"""Release 2, the November 2026 update, loaded with the first facts (once for the module): every
new record equals the update, every correction is recorded, and the home page's next dates are
brought up to 29 November 2026. Loading it into other installs: test_release_2026_11_loading.py."""

import datetime as dt
import json

import pytest
from django.utils.html import escape

from regulation.dates import from_facts
from regulation.models import (
    Commitment,
    CommitmentUpdate,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Status,
    Topic,
    Verification,
)
from regulation.seed import FIXTURES_DIR
from regulation.seed.parsing import commitment_date, parse_period, source_date
from tests.regulation.release_files import update_facts
from tests.regulation.test_home import LONDON, section, visit_home

pytestmark = pytest.mark.django_db

UPDATE = update_facts()
CURATION = json.loads((FIXTURES_DIR / "curation-2026-11.json").read_text(encoding="utf-8"))
RELEASE = "0002_update_2026_11"


def source_keys(record) -> set[str]:
    return set(record.sources.values_list("key", flat=True))


# After loading: every new record equals the update file.


def test_every_new_milestone_equals_the_update_field_by_field(seeded):
    for fact in UPDATE["milestones"]:
        milestone = Milestone.objects.get(key=fact["id"])
        when = from_facts(fact["date"], fact["precision"], fact.get("season"), fact.get("label"))
        assert milestone.title == fact["event"], fact["id"]
        assert (milestone.date, milestone.date_precision) == (when.date, when.precision)
        assert (milestone.certainty, milestone.date_label) == (when.certainty, when.label)
        assert milestone.phase == fact["phase"]
        assert milestone.who_must_act == fact["responsible"]
        assert milestone.verification == fact["status"], fact["id"]
        assert milestone.notes == (fact.get("notes") or "")
        assert source_keys(milestone) == set(fact["source_ids"]), fact["id"]
        assert milestone.kind == CURATION["milestones"][fact["id"]]["kind"]


def test_every_new_source_equals_the_update(seeded):
    for fact in UPDATE["sources"]:
        source = Source.objects.get(key=fact["id"])
        published_on, precision, note = source_date(fact["date"])
        assert (source.title, source.url, source.publisher_name, source.origin) == (
            fact["title"],
            fact["url"],
            fact["publisher"],
            fact["type"],
        )
        assert (source.published_on, source.published_precision, source.date_note) == (
            published_on,
            precision,
            note,
        ), fact["id"]
    regulator = Source.objects.get(key="S113")
    assert (regulator.kind, regulator.publisher.key) == ("regulator", "OR01")


def test_every_new_commitment_equals_the_update_with_its_platforms_and_milestones(seeded):
    for fact in UPDATE["commitments"]:
        commitment = Commitment.objects.get(key=fact["id"])
        curated = CURATION["commitments"][fact["id"]]
        assert commitment.summary == fact["commitment"]
        assert commitment.platform_label == fact["platform"]
        made = commitment_date(fact["date"], fact["precision"])
        assert (commitment.made_on, commitment.made_on_precision) == made
        assert commitment.verification == fact["status"]
        assert commitment.notes == (fact.get("notes") or "")
        assert source_keys(commitment) == set(fact["source_ids"]), fact["id"]
        assert {p.slug for p in commitment.platforms.all()} == set(curated["platforms"])
        linked = set(commitment.milestones.values_list("key", flat=True))
        assert linked == set(curated.get("milestones", [])), fact["id"]


def test_every_new_statistic_equals_the_update_with_its_own_publisher(seeded):
    joined = {m: slug for slug, ids in CURATION["indicator_group_members"].items() for m in ids}
    for fact in UPDATE["statistics"]:
        observation = Observation.objects.get(key=fact["id"])
        assert observation.metric == fact["metric"]
        assert observation.value_text == fact["value"]
        assert observation.period_label == fact["period"]
        assert (observation.period_start, observation.period_end) == parse_period(fact["period"])
        assert observation.coverage == fact["coverage"]
        assert observation.verification == fact["status"]
        assert observation.publisher_display == fact["data_publisher"], fact["id"]
        assert source_keys(observation) == set(fact["source_ids"]), fact["id"]
        slug = joined.get(fact["id"], fact["id"].lower())
        assert observation.indicator.slug == slug
    assert Observation.objects.get(key="ST39").indicator.observations.filter(key="ST24").exists()


def test_the_new_topics_platforms_and_instruments_are_the_curations(seeded):
    for entry in CURATION["topics"]:
        assert Topic.objects.get(slug=entry["slug"]).name == entry["name"]
    for entry in CURATION["platforms"]:
        platform = Platform.objects.get(slug=entry["slug"])
        assert platform.owner is None
        assert source_keys(platform) == set(entry["source_ids"])
        assert platform.status == Status.PUBLISHED
    for entry in CURATION["instruments"]:
        instrument = Instrument.objects.get(slug=entry["slug"])
        assert (instrument.title, instrument.stage, instrument.official_url) == (
            entry["title"],
            entry["stage"],
            entry["official_url"],
        )
        assert instrument.verification == entry["verification"]
        assert source_keys(instrument) == set(entry["source_ids"])


def test_status_updates_are_recorded_with_their_source_as_evidence(seeded):
    assert CommitmentUpdate.objects.count() == len(CURATION["status_updates"]) == 20
    for entry in CURATION["status_updates"]:
        [update] = CommitmentUpdate.objects.filter(commitment__key=entry["commitment"])
        assert update.on.isoformat() == entry["on"]
        assert (update.on_precision, update.delivery_status) == (
            entry["precision"],
            entry["delivery_status"],
        )
        assert update.evidence.key == entry["evidence"]
        assert update.commitment.delivery_status == entry["delivery_status"]
    # No source says these were delivered: they stay announced.
    assert Commitment.objects.get(key="PC04").delivery_status == "announced"


# Corrections: a date change or a history entry with its sources.


def test_m29_moves_from_5_to_3_march_2025_with_ofcoms_page_as_the_source(seeded):
    milestone = Milestone.objects.get(key="M29")
    [change] = milestone.date_changes.all()
    assert (change.old_date, change.new_date) == (dt.date(2025, 3, 5), dt.date(2025, 3, 3))
    assert change.source.key == "S113"
    assert change.reason.startswith("Ofcom's page (Welsh-language version) is dated")
    assert milestone.date_display == "3 March 2025"


def test_m57_and_m59_become_confirmed_and_cited(seeded):
    for key in ("M57", "M59"):
        milestone = Milestone.objects.get(key=key)
        assert milestone.verification == Verification.CONFIRMED
        assert milestone.status == Status.PUBLISHED
    assert source_keys(Milestone.objects.get(key="M57")) >= {"S172", "S173", "S174"}


@pytest.mark.parametrize("number", range(1, len(UPDATE["corrections"]) + 1))
def test_each_facts_correction_is_a_history_entry_naming_release_and_sources(seeded, number):
    correction = UPDATE["corrections"][number - 1]
    model = Measure if correction["id"].startswith("CM") else Milestone
    record = model.objects.get(key=correction["id"])
    entries = record.history.filter(
        history_change_reason__regex=rf"^Release {RELEASE}, correction {number}\D"
    )
    assert entries.exists()
    for entry in entries:
        assert ", ".join(correction["source_ids"]) in entry.history_change_reason


CURATED_MODELS = {
    "milestone": (Milestone, "key"),
    "observation": (Observation, "key"),
    "organisation": (Organisation, "key"),
    "instrument": (Instrument, "slug"),
    "platform": (Platform, "slug"),
    "indicator": (Indicator, "slug"),
}
# The first release now loads these as the facts give them (no invented police-year months; an
# observation's own publisher), so on a fresh install there is nothing left to correct.
ALREADY_RIGHT = {"period_start", "period_end", "publisher_name"}


@pytest.mark.parametrize("number", range(1, len(CURATION["corrections"]) + 1))
def test_each_curation_correction_holds_and_is_recorded_where_it_changed_something(seeded, number):
    correction = CURATION["corrections"][number - 1]
    model, match = CURATED_MODELS[correction["model"]]
    record = model.objects.get(**{match: correction["record"]})
    name, new = correction["field"], correction["new"]
    field = model._meta.get_field(name)
    if field.many_to_many:
        key = "key" if field.related_model is Source else "slug"
        assert set(getattr(record, name).values_list(key, flat=True)) == set(new)
    elif field.many_to_one:
        target = getattr(record, name)
        assert (target.key if target else None) == new
    else:
        assert getattr(record, name) == new
    entries = record.history.filter(
        history_change_reason__regex=rf"^Release {RELEASE}, curation correction {number}\D"
    )
    if name in ALREADY_RIGHT:
        assert not entries.exists()
    else:
        assert entries.exists()
        for entry in entries:
            assert ", ".join(correction["source_ids"]) in entry.history_change_reason


def test_telegram_is_no_longer_presented_as_its_own_owner(seeded):
    telegram = Platform.objects.get(slug="telegram")
    assert telegram.owner is None
    assert source_keys(telegram) == {"S52", "S53"}
    assert Organisation.objects.get(key="OR14").kind == "platform"


# The home page on 29 November 2026.


def test_the_home_page_on_29_november_2026_lists_the_next_dates_in_order(seeded, client):
    html = visit_home(client, dt.datetime(2026, 11, 29, 9, 0, tzinfo=LONDON))

    upcoming = section(html, "Next deadlines and dates")
    shown = [
        "Expected: autumn 2026",  # M101 and M102, the remaining decisions
        "Expected: January 2027",  # M106, the app-store report
        "Expected: 1 April 2027",  # M108, the fees year
        "Expected: spring 2027",  # M107, under-16 restrictions
        "Expected: mid-2027",  # M60, Phase 3
    ]
    positions = [upcoming.index(text) for text in shown]
    assert positions == sorted(positions)
    assert upcoming.count("Expected: autumn 2026") == 2
    for key in ("M101", "M102", "M106", "M107", "M108", "M60"):
        title = Milestone.objects.get(key=key).title
        assert escape(title[:40]) in upcoming, key
