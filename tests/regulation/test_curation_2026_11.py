"""The November 2026 curation (fixtures/curation-2026-11.json) holds together with the facts.

No database: these tests read the fixtures and the models' choices only. They check that every
record of the update is classified, that every id, slug, source and choice the curation names
exists, and that status updates and corrections stay within what the facts give.
"""

import datetime as dt
import json
import re
from collections import Counter

import pytest
from django.core.exceptions import FieldDoesNotExist

from regulation.models import (
    DeliveryStatus,
    Indicator,
    Instrument,
    Milestone,
    Observation,
    Organisation,
    Platform,
    Source,
    Verification,
)
from regulation.seed import FIXTURES_DIR
from regulation.seed.parsing import parse_fuzzy_date

FIRST = json.loads((FIXTURES_DIR / "osa-facts.json").read_text(encoding="utf-8"))
UPDATE = json.loads((FIXTURES_DIR / "osa-facts-update-2026-11.json").read_text(encoding="utf-8"))
CURATION = json.loads((FIXTURES_DIR / "curation.json").read_text(encoding="utf-8"))
NEW = json.loads((FIXTURES_DIR / "curation-2026-11.json").read_text(encoding="utf-8"))

SOURCES = {s["id"]: s for s in FIRST["sources"] + UPDATE["sources"]}
ORGANISATIONS = {o["id"] for o in FIRST["organisations"]}
MILESTONES = {m["id"] for m in FIRST["milestones"] + UPDATE["milestones"]}
STATISTICS = {s["id"]: s for s in FIRST["statistics"] + UPDATE["statistics"]}
COMMITMENTS = {c["id"]: c for c in FIRST["commitments"] + UPDATE["commitments"]}
PLATFORMS = {p["slug"] for p in CURATION["platforms"] + NEW["platforms"]}
TOPICS = {t["slug"] for t in CURATION["topics"] + NEW["topics"]}
INSTRUMENTS = {i["slug"] for i in CURATION["instruments"] + NEW["instruments"]}
GROUPED = {m for g in CURATION["indicator_groups"] for m in g["members"]}
# A first-release statistic outside every curated group gets an indicator of its own (seed.py).
INDICATORS = {g["slug"] for g in CURATION["indicator_groups"] + NEW["indicator_groups"]} | {
    s["id"].lower() for s in FIRST["statistics"] if s["id"] not in GROUPED
}


def new_choices(name: str) -> set[str]:
    return {entry["value"] for entry in NEW["model_changes"].get(name, [])}


def choices(field_owner, field: str, changes_key: str) -> set[str]:
    return {value for value, _ in field_owner._meta.get_field(field).choices} | new_choices(
        changes_key
    )


MILESTONE_KINDS = choices(Milestone, "kind", "Milestone.Kind")
INSTRUMENT_KINDS = choices(Instrument, "kind", "Instrument.Kind")
INSTRUMENT_STAGES = choices(Instrument, "stage", "Instrument.Stage")
PLATFORM_KINDS = choices(Platform, "kind", "Platform.Kind")
ORGANISATION_KINDS = choices(Organisation, "kind", "Organisation.Kind")
SOURCE_KINDS = choices(Source, "kind", "Source.Kind")

MODELS = {
    "milestone": Milestone,
    "observation": Observation,
    "instrument": Instrument,
    "platform": Platform,
    "organisation": Organisation,
    "indicator": Indicator,
}
RECORDS = {
    "milestone": {m["id"] for m in FIRST["milestones"]},
    "observation": {s["id"] for s in FIRST["statistics"]},
    "instrument": {i["slug"] for i in CURATION["instruments"]},
    "platform": {p["slug"] for p in CURATION["platforms"]},
    "organisation": ORGANISATIONS,
    "indicator": INDICATORS,
}


def fuzzy(on: str, precision: str) -> str:
    """A status update's date written the way the facts write dates at that precision."""
    return {"day": on, "month": on[:7], "year": on[:4]}[precision]


def field_exists(model_name: str, field: str) -> bool:
    if f"{MODELS[model_name].__name__}.{field}" in NEW["model_changes"]:
        return True
    try:
        MODELS[model_name]._meta.get_field(field)
    except FieldDoesNotExist:
        return False
    return True


def test_the_update_fixture_is_the_facts_update_it_describes():
    """The project's copy holds the whole update: 50 milestones, 115 sources, 8 commitments,
    16 statistics (the counts the facts' README gives)."""
    counts = {key: len(UPDATE[key]) for key in ("milestones", "sources", "commitments")}
    assert counts == {"milestones": 50, "sources": 115, "commitments": 8}
    assert len(UPDATE["statistics"]) == 16
    assert "S167" not in SOURCES


def test_every_update_milestone_and_commitment_is_classified_and_nothing_else():
    assert set(NEW["milestones"]) == {m["id"] for m in UPDATE["milestones"]}
    assert set(NEW["commitments"]) == {c["id"] for c in UPDATE["commitments"]}


def test_every_update_statistic_is_placed_once_at_most_and_the_rest_get_their_own_indicator():
    members = [m for ids in NEW["indicator_group_members"].values() for m in ids]
    members += [m for g in NEW["indicator_groups"] for m in g["members"]]
    assert set(members) <= {s["id"] for s in UPDATE["statistics"]}
    assert not [m for m, n in Counter(members).items() if n > 1]
    assert set(NEW["statistics"]) <= {s["id"] for s in UPDATE["statistics"]}


def test_indicator_group_members_join_indicators_that_exist():
    assert set(NEW["indicator_group_members"]) <= INDICATORS


@pytest.mark.parametrize("key", sorted(NEW["milestones"]))
def test_milestone_classification_names_only_existing_kinds_and_records(key):
    entry = NEW["milestones"][key]
    assert entry["kind"] in MILESTONE_KINDS
    assert set(entry["instruments"]) <= INSTRUMENTS
    assert set(entry["platforms"]) <= PLATFORMS
    assert set(entry["topics"]) <= TOPICS


@pytest.mark.parametrize("key", sorted(NEW["commitments"]))
def test_commitment_classification_names_existing_platforms_topics_and_milestones(key):
    entry = NEW["commitments"][key]
    assert entry["platforms"], "every commitment is about at least one platform"
    assert set(entry["platforms"]) <= PLATFORMS
    assert set(entry["topics"]) <= TOPICS
    assert set(entry.get("milestones", [])) <= MILESTONES


def test_every_commitment_owner_is_known():
    owners = CURATION["commitment_owners"] | NEW["commitment_owners"]
    assert {c["owner"] for c in UPDATE["commitments"]} <= set(owners)
    assert set(owners.values()) <= ORGANISATIONS


def test_statistic_classification_names_existing_platforms_and_statistics():
    for key, entry in NEW["statistics"].items():
        assert set(entry.get("platforms", [])) <= PLATFORMS, key
        assert set(entry.get("conflicts_with", [])) <= set(STATISTICS) - {key}, key


def test_new_slugs_do_not_clash_with_the_first_curation():
    for section in ("platforms", "topics", "instruments"):
        slugs = [e["slug"] for e in CURATION[section] + NEW[section]]
        assert not [s for s, n in Counter(slugs).items() if n > 1], section


@pytest.mark.parametrize("entry", NEW["instruments"], ids=lambda e: e["slug"])
def test_new_instrument_rests_on_existing_sources_and_choices(entry):
    assert entry["source_ids"] and set(entry["source_ids"]) <= set(SOURCES)
    assert entry["kind"] in INSTRUMENT_KINDS
    assert entry["stage"] in INSTRUMENT_STAGES
    assert entry["verification"] in Verification.values
    assert entry["issuer"] is None or entry["issuer"] in ORGANISATIONS
    assert entry["parent"] is None or entry["parent"] in INSTRUMENTS - {entry["slug"]}
    assert set(entry.get("topics", [])) <= TOPICS


def test_official_links_are_addresses_the_facts_give():
    addresses = {s["url"] for s in SOURCES.values()}
    linked = [i["official_url"] for i in NEW["instruments"] if i["official_url"]]
    linked += [c["new"] for c in NEW["corrections"] if c["field"] == "official_url"]
    assert linked
    assert set(linked) <= addresses


@pytest.mark.parametrize("entry", NEW["platforms"], ids=lambda e: e["slug"])
def test_new_platform_rests_on_existing_sources(entry):
    assert entry["kind"] in PLATFORM_KINDS
    assert entry["owner"] is None or entry["owner"] in ORGANISATIONS
    assert entry["source_ids"] and set(entry["source_ids"]) <= set(SOURCES)
    assert entry["verification"] in Verification.values


def test_sources_are_classified_at_most_once_and_only_update_sources():
    classified = [sid for ids in NEW["source_kinds"].values() for sid in ids]
    assert not [s for s, n in Counter(classified).items() if n > 1]
    update_sources = {s["id"] for s in UPDATE["sources"]}
    assert set(classified) <= update_sources
    assert set(NEW["source_kinds"]) <= SOURCE_KINDS
    assert set(NEW["source_publishers"]) <= update_sources
    assert set(NEW["source_publishers"].values()) <= ORGANISATIONS


def test_data_publishers_name_publishers_of_update_statistics():
    assert set(NEW["data_publishers"]) <= {s["data_publisher"] for s in UPDATE["statistics"]}
    assert set(NEW["data_publishers"].values()) <= ORGANISATIONS


@pytest.mark.parametrize("update", NEW["status_updates"], ids=lambda u: u["commitment"])
def test_status_update_follows_a_source_of_its_commitment_on_a_date_the_facts_give(update):
    commitment = COMMITMENTS[update["commitment"]]
    assert update["delivery_status"] in DeliveryStatus.values
    assert update["evidence"] in commitment["source_ids"]
    on = dt.date.fromisoformat(update["on"])
    made_on, _, _ = parse_fuzzy_date(commitment["date"])
    assert on >= made_on, "a status update cannot come before the commitment"
    written = fuzzy(update["on"], update["precision"])
    assert written in (commitment["date"], SOURCES[update["evidence"]]["date"])
    assert update["note"]


def test_each_commitment_has_one_status_update_at_most_including_those_the_issue_names():
    counts = Counter(u["commitment"] for u in NEW["status_updates"])
    assert max(counts.values()) == 1
    assert {"PC01", "PC20", "PC22"} <= set(counts)


@pytest.mark.parametrize(
    "correction",
    NEW["corrections"],
    ids=lambda c: f"{c['record']}.{c['field']}",
)
def test_correction_names_an_existing_record_field_and_sources(correction):
    model = correction["model"]
    assert correction["record"] in RECORDS[model]
    assert field_exists(model, correction["field"])
    assert correction["old"] != correction["new"]
    assert set(correction["source_ids"]) <= set(SOURCES)
    # Only a removal (a value the facts never gave) may cite no source.
    assert correction["source_ids"] or correction["new"] is None
    assert correction["reason"]


def test_corrections_use_only_existing_or_declared_choice_values():
    allowed = {
        ("instrument", "stage"): INSTRUMENT_STAGES,
        ("instrument", "verification"): set(Verification.values),
        ("organisation", "kind"): ORGANISATION_KINDS,
        ("milestone", "kind"): MILESTONE_KINDS,
    }
    checked = [c for c in NEW["corrections"] if (c["model"], c["field"]) in allowed]
    assert checked
    for c in checked:
        assert c["new"] in allowed[(c["model"], c["field"])], c


def test_corrected_links_name_existing_records():
    for c in NEW["corrections"]:
        if (c["model"], c["field"]) == ("milestone", "instruments"):
            assert set(c["new"]) <= INSTRUMENTS
        if (c["model"], c["field"]) == ("instrument", "sources"):
            assert set(c["new"]) <= set(SOURCES)
        if (c["model"], c["field"]) == ("platform", "owner"):
            assert c["new"] is None or c["new"] in ORGANISATIONS


def test_declared_choice_values_fit_their_fields():
    for key, values in NEW["model_changes"].items():
        if not isinstance(values, list):
            continue
        model_name, _ = key.split(".")
        model = next(m for m in MODELS.values() if m.__name__ == model_name)
        field = model._meta.get_field("stage" if model is Instrument else "kind")
        for entry in values:
            assert len(entry["value"]) <= field.max_length, entry


_BARE_POLICE_YEARS = re.compile(r"\d{4}/\d{2}(?:\s*(?:→|,)\s*\d{4}/\d{2})*(?:\s*\(annual\))?")


def test_period_dates_go_wherever_the_label_does_not_give_them():
    """A label such as '2023/24' names a year but not its months: the facts never say April to
    March. '2024/25 (year to Mar 2025)' does give them, and keeps its dates."""
    bare = {s["id"] for s in FIRST["statistics"] if _BARE_POLICE_YEARS.fullmatch(s["period"])}
    removed = {
        field: {c["record"] for c in NEW["corrections"] if c["field"] == field and c["new"] is None}
        for field in ("period_start", "period_end")
    }
    assert removed["period_start"] == removed["period_end"] == bare
    assert {"ST15", "ST22"}.isdisjoint(bare)
