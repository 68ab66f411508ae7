"""Loading the seed: idempotent, keeps staff edits, atomic, clear about bad data."""

import copy
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from regulation.models import Commitment, FactRelease, Milestone, Source
from regulation.seed import SeedError, load_seed, read_fixture
from tests.regulation.test_seed import PUBLIC_MODELS, source_keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    return load_seed()


def test_running_it_twice_changes_nothing(seeded):
    before = {
        model: list(model.objects.order_by("pk").values_list("pk", "updated_at"))
        for model in PUBLIC_MODELS
    }
    history_before = Milestone.history.count()

    report = load_seed()

    assert report.applied == []
    assert report.total_created == 0
    for model, rows in before.items():
        assert list(model.objects.order_by("pk").values_list("pk", "updated_at")) == rows
    assert Milestone.history.count() == history_before


def test_it_keeps_staff_edits_and_never_restores_what_staff_deleted(seeded):
    milestone = Milestone.objects.get(key="M21")
    milestone.title = "Ofcom publishes the Illegal Harms Statement (edited by staff)"
    milestone.save()
    milestone.sources.remove(Source.objects.get(key="S02"))
    Commitment.objects.get(key="PC01").delete()

    report = load_seed()

    milestone.refresh_from_db()
    assert milestone.title == "Ofcom publishes the Illegal Harms Statement (edited by staff)"
    assert source_keys(milestone) == {"S13", "S14"}
    assert not Commitment.objects.filter(key="PC01").exists()
    assert report.total_created == 0


def test_the_command_says_what_it_did_with_counts(db):
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert "Milestones: 110 created, 0 already present" in out.getvalue()
    assert "Applied 0001_first_facts, 0002_update_2026_11: 560 created." in out.getvalue()
    first, update = FactRelease.objects.order_by("pk")
    assert first.applied_by.startswith("manage.py load_seed (")
    assert first.counts["Milestones created"] == 60
    assert update.counts["Milestones created"] == 50

    out = StringIO()
    call_command("load_seed", stdout=out)
    assert out.getvalue().strip() == "Seed up to date: no release left to apply."


def test_bad_seed_data_is_refused_with_a_clear_error_and_loads_nothing(db):
    facts = copy.deepcopy(read_fixture("osa-facts.json"))
    facts["milestones"][5]["source_ids"].append("S999")

    with pytest.raises(SeedError, match=r"osa-facts\.json: M06: source_ids: cites S999"):
        load_seed(facts=facts)

    assert not Source.objects.exists()


def test_an_error_half_way_rolls_the_whole_load_back(db):
    facts = copy.deepcopy(read_fixture("osa-facts.json"))
    facts["commitments"][-1]["date"] = "sometime"

    with pytest.raises(SeedError, match="PC22"):
        load_seed(facts=facts)

    assert not Source.objects.exists()
    assert not Milestone.objects.exists()


def test_the_command_reports_bad_data_as_a_command_error(db, tmp_path, settings, monkeypatch):
    broken = tmp_path / "osa-facts.json"
    broken.write_text("{ not json")
    (tmp_path / "releases.json").write_text(
        (Path(__file__).parents[2] / "fixtures" / "releases.json").read_text()
    )
    (tmp_path / "curation.json").write_text(
        (Path(__file__).parents[2] / "fixtures" / "curation.json").read_text()
    )
    monkeypatch.setattr("regulation.seed.FIXTURES_DIR", tmp_path)

    with pytest.raises(CommandError, match="nothing was changed") as raised:
        call_command("load_seed", stdout=StringIO())

    assert "osa-facts.json: unreadable JSON" in str(raised.value)
