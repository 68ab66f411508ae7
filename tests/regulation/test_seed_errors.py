"""Bad seed data gets one clear line per problem (file, entry, field, problem) and nothing is
written. The cases are the corrupted copies of the facts file a review reported."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from regulation.models import FactRelease, Milestone, Source
from regulation.seed import SeedError, load_seed
from regulation.seed.parsing import source_date
from tests.regulation.release_files import corrupted, update, write_manifest

pytestmark = pytest.mark.django_db


def entry(facts: dict, section: str, fact_id: str) -> dict:
    return next(e for e in facts[section] if e["id"] == fact_id)


def set_field(section: str, fact_id: str, name: str, value):
    def change(facts: dict) -> None:
        entry(facts, section, fact_id)[name] = value

    return change


def drop_field(section: str, fact_id: str, name: str):
    def change(facts: dict) -> None:
        del entry(facts, section, fact_id)[name]

    return change


def duplicate(section: str, fact_id: str):
    def change(facts: dict) -> None:
        facts[section].append(dict(entry(facts, section, fact_id)))

    return change


CASES = [
    # Each was a raw traceback naming no record (KeyError: 'event', ValueError, DataError,
    # IntegrityError), or was loaded silently (the last three).
    (drop_field("milestones", "M05", "event"), "osa-facts.json: M05: event: missing"),
    (
        set_field("milestones", "M21", "date", "2024-02-30"),
        # Worded by regulation.dates.from_facts, the one reading of the facts' milestone dates.
        "osa-facts.json: M21: date: impossible date '2024-02-30': day is out of range for month",
    ),
    (
        set_field("milestones", "M03", "event", "x" * 501),
        "osa-facts.json: M03: event: Ensure this value has at most 500 characters (it has 501).",
    ),
    (duplicate("milestones", "M10"), "osa-facts.json: M10: id: duplicate id"),
    (
        set_field("statistics", "ST04", "value", "150%"),
        "osa-facts.json: ST04: value: A percentage must lie between 0 and 100.",
    ),
    (
        set_field("sources", "S05", "date", "yesterday"),
        "osa-facts.json: S05: date: 'yesterday' is not a date: write YYYY, YYYY-MM or "
        "YYYY-MM-DD (optionally followed by a note in brackets), or 'undated (...)'",
    ),
    (
        set_field("sources", "S06", "date", "26-10-2023"),
        "osa-facts.json: S06: date: '26-10-2023' is not a date: write YYYY, YYYY-MM or "
        "YYYY-MM-DD (optionally followed by a note in brackets), or 'undated (...)'",
    ),
    (
        set_field("sources", "S07", "type", "tertiary"),
        "osa-facts.json: S07: type: Value 'tertiary' is not a valid choice.",
    ),
]


@pytest.mark.parametrize(("change", "line"), CASES, ids=[line for _, line in CASES])
def test_each_reported_case_is_one_line_and_nothing_is_written(tmp_path, change, line):
    manifest = write_manifest(tmp_path, facts=corrupted(change))

    with pytest.raises(SeedError) as raised:
        load_seed(manifest)

    assert raised.value.lines == [line]
    assert not Source.objects.exists()
    assert not FactRelease.objects.exists()


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    def all_of_them(facts: dict) -> None:
        for change, _ in CASES:
            change(facts)

    manifest = write_manifest(tmp_path, facts=corrupted(all_of_them))

    with pytest.raises(SeedError) as raised:
        load_seed(manifest)

    assert sorted(raised.value.lines) == sorted(line for _, line in CASES)


def test_the_command_prints_the_lines_and_fails_without_a_traceback(tmp_path, monkeypatch):
    manifest = write_manifest(tmp_path, facts=corrupted(drop_field("milestones", "M05", "event")))
    monkeypatch.setattr("regulation.seed.FIXTURES_DIR", manifest.parent)

    with pytest.raises(CommandError) as raised:
        call_command("load_seed", stdout=StringIO())

    assert str(raised.value) == (
        "Seed data not loaded (nothing was changed):\nosa-facts.json: M05: event: missing"
    )
    assert not Milestone.objects.exists()


def test_a_date_that_does_not_match_its_precision_is_refused(tmp_path):
    change = set_field("milestones", "M21", "precision", "month")
    manifest = write_manifest(tmp_path, facts=corrupted(change))

    with pytest.raises(SeedError, match=re.escape("M21: date: date '2024-12-16' does not match")):
        load_seed(manifest)


def test_an_unreadable_release_file_is_named(tmp_path):
    manifest = write_manifest(tmp_path)
    (tmp_path / "curation.json").write_text("{ not json")

    with pytest.raises(SeedError, match=r"^curation\.json: unreadable JSON"):
        load_seed(manifest)


MALFORMED_FILES = [
    (
        '{"milestones": [{"id": "M01", "da',
        "osa-facts.json: unreadable JSON (cut short or damaged?): Unterminated string ",
    ),
    ("", "osa-facts.json: the file is empty"),
    ("  \n", "osa-facts.json: the file is empty"),
    ("[]", "osa-facts.json: expected a JSON object at the top level, not a list"),
    ('"facts"', "osa-facts.json: expected a JSON object at the top level, not a string"),
]


@pytest.mark.parametrize(
    ("text", "start"), MALFORMED_FILES, ids=["cut short", "empty", "blank", "a list", "a string"]
)
def test_a_malformed_release_file_is_named_and_no_later_release_is_planned(tmp_path, text, start):
    manifest = write_manifest(tmp_path, update())
    (tmp_path / "osa-facts.json").write_text(text)

    with pytest.raises(SeedError) as raised:
        load_seed(manifest)

    # One line, about the file: release 2 (which needs release 1's sources and curation) is
    # not planned on top of a release that failed.
    assert len(raised.value.lines) == 1
    assert raised.value.lines[0].startswith(start)
    assert not FactRelease.objects.exists()
    assert not Source.objects.exists()


def test_a_malformed_curation_file_stops_the_releases_after_it(tmp_path):
    manifest = write_manifest(tmp_path, update())
    (tmp_path / "curation.json").write_text('["indicator_groups"]')

    with pytest.raises(SeedError) as raised:
        load_seed(manifest)

    assert raised.value.lines == [
        "curation.json: expected a JSON object at the top level, not a list"
    ]
    assert not FactRelease.objects.exists()


def test_a_release_with_bad_entries_stops_the_releases_after_it(tmp_path):
    later = update()
    later["facts"]["milestones"][0]["source_ids"] = ["S500"]
    manifest = write_manifest(
        tmp_path, update(), later, facts=corrupted(drop_field("milestones", "M05", "event"))
    )

    with pytest.raises(SeedError) as raised:
        load_seed(manifest)

    assert raised.value.lines == ["osa-facts.json: M05: event: missing"]
    assert not FactRelease.objects.exists()


def test_a_figure_added_to_an_indicator_no_release_made_is_named(tmp_path):
    figure = {
        "id": "ST99",
        "metric": "A synthetic test figure",
        "value": "12",
        "period": "2025",
        "coverage": "UK",
        "data_publisher": "Ofcom",
        "source_ids": ["S113"],
        "status": "confirmed",
        "notes": "",
    }
    later = update(statistics=[figure])
    later["curation"]["indicator_group_members"] = {"no-such-indicator": ["ST99"]}

    with pytest.raises(SeedError) as raised:
        load_seed(write_manifest(tmp_path, later))

    assert raised.value.lines == [
        "update-2.json: ST99: indicator: unknown indicator 'no-such-indicator'"
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2024-12-16", "16 December 2024"),
        ("2020-03 (site updated 2023)", "March 2020"),
        ("2025–2026", "2025"),
        ("2024-07/08", "July 2024"),
        ("undated (covers to 2025)", "undated (covers to 2025)"),
    ],
)
def test_the_source_date_forms_the_facts_use_are_accepted(text, shown):
    published_on, precision, note = source_date(text)
    source = Source(published_on=published_on, published_precision=precision, date_note=note)
    assert source.date_display == shown
