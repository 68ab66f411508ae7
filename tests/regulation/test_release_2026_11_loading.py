"""Release 2 on installs in other states: applied twice, onto an install seeded with release 1
only (staff edits kept and reported), and refused whole when broken, naming the entry."""

import copy
import datetime as dt
import json

import pytest

from regulation.models import (
    CommitmentUpdate,
    FactRelease,
    Instrument,
    Milestone,
    Observation,
    Platform,
    SeedConflict,
    SeededRecord,
    Source,
)
from regulation.seed import FIXTURES_DIR, SeedError, load_seed
from regulation.seed.parsing import parse_period
from tests.regulation.release_files import update_facts, write_manifest

pytestmark = pytest.mark.django_db

CURATION = json.loads((FIXTURES_DIR / "curation-2026-11.json").read_text(encoding="utf-8"))
RELEASE = "0002_update_2026_11"


def release_manifest(tmp_path, facts: dict | None = None, curation: dict | None = None):
    """The first release and a copy of release 2 (changed where given), in a temporary folder."""
    return write_manifest(
        tmp_path,
        {
            "name": RELEASE,
            "facts": facts if facts is not None else update_facts(),
            "curation": curation if curation is not None else copy.deepcopy(CURATION),
        },
    )


def first_release_only(tmp_path):
    folder = tmp_path / "first"
    folder.mkdir()
    return write_manifest(folder)


# Applying twice; staff edits; an install seeded with release 1 only.


def test_applying_the_releases_again_changes_nothing(db):
    load_seed()
    counts = {
        model: model.objects.count()
        for model in (Milestone, CommitmentUpdate, SeedConflict, Source, Observation)
    }
    history = Milestone.history.count() + Instrument.history.count() + Platform.history.count()

    report = load_seed()

    assert report.applied == [] and report.total_created == 0
    assert {model: model.objects.count() for model in counts} == counts
    assert (
        Milestone.history.count() + Instrument.history.count() + Platform.history.count() == history
    )


def test_an_install_seeded_with_release_1_gets_release_2_and_keeps_staff_edits(tmp_path, editor):
    load_seed(first_release_only(tmp_path))
    staff_note = "Fined £20,000 (staff note)."
    milestone = Milestone.objects.get(key="M44")
    milestone.notes = staff_note
    milestone.save()
    act = Instrument.objects.get(slug="online-safety-act-2023")
    act.official_url = "https://www.legislation.gov.uk/ukpga/2023/50/contents"
    act.save()

    report = load_seed()

    assert report.applied == [RELEASE]
    assert FactRelease.objects.count() == 2
    assert Milestone.objects.count() == 110
    assert Milestone.objects.get(key="M44").notes == staff_note
    act.refresh_from_db()
    assert act.official_url == "https://www.legislation.gov.uk/ukpga/2023/50/contents"
    assert act.stage == "partly_in_force"  # its other correction applies
    conflicts = {(c.fact_id, c.field): c for c in SeedConflict.objects.all()}
    assert set(conflicts) == {("M44", "notes"), ("online-safety-act-2023", "official_url")}
    assert conflicts["M44", "notes"].staff_value == staff_note
    assert conflicts["M44", "notes"].release_value.startswith("With daily penalties")
    assert "S166" in conflicts["M44", "notes"].reason
    assert any(line.startswith("M44 notes: staff value") for line in report.conflicts)
    # The corrections staff did not touch apply as on a fresh install.
    assert Milestone.objects.get(key="M29").date == dt.date(2025, 3, 3)


def test_a_release_1_install_loses_the_invented_police_year_months_with_a_history_entry(
    tmp_path,
):
    """An install seeded before this issue holds April-March dates for '2023/24'."""
    load_seed(first_release_only(tmp_path))
    old = Observation.objects.get(key="ST08")
    old.period_start, old.period_end = dt.date(2023, 4, 1), dt.date(2024, 3, 31)
    old._change_reason = "As the first loader wrote it"
    old.save()
    row = SeededRecord.objects.get(model="regulation.observation", fact_id="ST08")
    row.values.update(period_start="2023-04-01", period_end="2024-03-31")
    row.save()

    load_seed()

    old.refresh_from_db()
    assert (old.period_start, old.period_end) == (None, None)
    reasons = list(old.history.values_list("history_change_reason", flat=True)[:2])
    assert all(r.startswith(f"Release {RELEASE}, curation correction") for r in reasons)


# A broken release 2 writes nothing and names the entry.


def with_correction_to(facts: dict, fact_id: str) -> dict:
    facts["corrections"][0]["id"] = fact_id
    return facts


def milestone(facts: dict, fact_id: str) -> dict:
    return next(m for m in facts["milestones"] if m["id"] == fact_id)


def broken(change) -> dict:
    facts = update_facts()
    change(facts)
    return facts


BROKEN = [
    (
        lambda f: with_correction_to(f, "M999"),
        "update-2.json: M999: id: a correction to an unknown record",
    ),
    (
        lambda f: milestone(f, "M61").update(source_ids=["S999"]),
        "update-2.json: M61: source_ids: cites S999, which is not a known source",
    ),
    (
        lambda f: milestone(f, "M61").update(precision="month"),
        "update-2.json: M61: date: date '2025-03-17' does not match its precision 'month'",
    ),
]


@pytest.mark.parametrize(("change", "line"), BROKEN, ids=[line for _, line in BROKEN])
def test_a_broken_release_2_writes_nothing_and_names_the_entry(tmp_path, change, line):
    load_seed(first_release_only(tmp_path))
    history = Milestone.history.count()

    with pytest.raises(SeedError) as raised:
        load_seed(release_manifest(tmp_path, facts=broken(change)))

    assert raised.value.lines == [line]
    assert list(FactRelease.objects.values_list("name", flat=True)) == ["0001_first_facts"]
    assert Milestone.objects.count() == 60
    assert Milestone.history.count() == history
    assert not CommitmentUpdate.objects.exists()


def test_a_curation_correction_to_an_unknown_record_is_refused(tmp_path):
    curation = copy.deepcopy(CURATION)
    curation["corrections"][1]["record"] = "no-such-instrument"

    with pytest.raises(SeedError) as raised:
        load_seed(release_manifest(tmp_path, curation=curation))

    assert raised.value.lines == [
        "update-2-curation.json: no-such-instrument: record: a correction to an unknown record"
    ]
    assert not FactRelease.objects.exists()


def test_an_unreadable_release_2_is_named_and_nothing_is_written(tmp_path):
    manifest = release_manifest(tmp_path)
    (tmp_path / "update-2.json").write_text("{ not json")

    with pytest.raises(SeedError, match=r"^update-2\.json: unreadable JSON"):
        load_seed(manifest)

    assert not FactRelease.objects.exists()
    assert not Milestone.objects.exists()


@pytest.mark.parametrize(
    ("label", "period"),
    [
        ("2023/24", (None, None)),  # names police years, not their months
        ("2017/18 → 2023/24 (annual)", (None, None)),
        ("2024/25 (year to Mar 2025)", (dt.date(2024, 4, 1), dt.date(2025, 3, 31))),
        ("2024/25 (year to Mar 2026)", (None, None)),  # the label contradicts itself
        ("2023–2024", (dt.date(2023, 1, 1), dt.date(2024, 12, 31))),
        ("H1 2025", (dt.date(2025, 1, 1), dt.date(2025, 6, 30))),
    ],
)
def test_a_period_has_dates_only_where_its_label_gives_them(label, period):
    assert parse_period(label) == period
