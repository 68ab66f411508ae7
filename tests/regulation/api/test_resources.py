"""Every resource on the seed data: explicit fields, links by URL and key, honest dates,
verification, sources and conflicts on every record, and drafts kept from the public."""

import pytest

from regulation.models import (
    Certainty,
    Commitment,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    SeedConflict,
    Source,
    Topic,
)

pytestmark = pytest.mark.django_db

PUBLIC = {
    "milestones": Milestone,
    "commitments": Commitment,
    "instruments": Instrument,
    "measures": Measure,
    "platforms": Platform,
    "organisations": Organisation,
    "indicators": Indicator,
    "observations": Observation,
}


def everything(api, path: str) -> list[dict]:
    """All pages of a list."""
    results, url = [], f"/api/v1/{path}/?page_size=200"
    while url:
        body = api.get(url).json()
        results += body["results"]
        url = body["next"]
    return results


def test_the_root_links_every_resource(seeded, api):
    body = api.get("/api/v1/").json()
    for name in [*PUBLIC, "sources", "topics"]:
        assert body[name] == f"http://testserver/api/v1/{name}/"


def test_the_root_adds_the_links_the_site_names(api, settings):
    settings.API_ROOT_LINKS = {"everything": "api:export"}
    body = api.get("/api/v1/").json()
    assert body["everything"] == "http://testserver/api/v1/export/"
    assert "webhooks" not in body
    settings.API_ROOT_LINKS = {}
    assert "everything" not in api.get("/api/v1/").json()


@pytest.mark.parametrize("path, model", PUBLIC.items())
def test_a_list_holds_exactly_the_published_records(seeded, api, path, model):
    listed = everything(api, path)
    assert sorted(r["key"] or r["slug"] for r in listed) == sorted(
        r.key or r.slug for r in model.objects.published()
    )
    assert {r["status"] for r in listed} == {"published"}


@pytest.mark.parametrize("path, model", PUBLIC.items())
def test_every_record_shows_its_verification_sources_and_conflicts(seeded, api, path, model):
    record = api.get(f"/api/v1/{path}/").json()["results"][0]
    assert record["verification"] in {"confirmed", "unverified"}
    assert record["sources"], "a published record cites at least one source"
    source = record["sources"][0]
    assert source["url"].startswith("http://testserver/api/v1/sources/")
    assert source["document_url"].startswith("http")
    assert isinstance(record["conflicts"], list)


def test_public_sources_and_topics_are_listed_in_full(seeded, api):
    assert len(everything(api, "sources")) == Source.objects.public().count()
    assert len(everything(api, "topics")) == Topic.objects.count()


def test_a_milestone_is_found_by_its_key_and_by_its_slug(seeded, api):
    milestone = Milestone.objects.published().get(key="M21")
    by_key = api.get("/api/v1/milestones/M21/")
    by_slug = api.get(f"/api/v1/milestones/{milestone.slug}/")
    assert by_key.status_code == by_slug.status_code == 200
    assert by_key.json() == by_slug.json()
    assert by_key.json()["key"] == "M21"


def test_a_source_is_found_by_its_key(seeded, api):
    source = Source.objects.exclude(key=None).first()
    body = api.get(f"/api/v1/sources/{source.key}/").json()
    assert (body["key"], body["title"], body["document_url"]) == (
        source.key,
        source.title,
        source.url,
    )


def test_an_unknown_key_is_404(seeded, api):
    response = api.get("/api/v1/milestones/M9999/")
    assert response.status_code == 404
    assert "M9999" in response.json()["detail"]


def test_a_date_carries_its_precision_certainty_and_the_words_a_reader_sees(seeded, api):
    expected = Milestone.objects.published().filter(certainty=Certainty.EXPECTED).first()
    date = api.get(f"/api/v1/milestones/{expected.key}/").json()["date"]
    assert date["certainty"] == "expected"
    assert date["precision"] == expected.date_precision
    assert date["display"] == expected.date_display
    assert date["display"].startswith("Expected: ")
    assert date["start"] == expected.date.isoformat()
    assert date["end"] == expected.date_end.isoformat()
    assert date["iso"] == expected.date_iso


def test_links_name_the_record_by_key_and_lead_to_it(seeded, api):
    commitment = Commitment.objects.published().filter(platforms__isnull=False).first()
    body = api.get(f"/api/v1/commitments/{commitment.key}/").json()
    platform_link = body["platforms"][0]
    platform = api.get(platform_link["url"]).json()
    assert platform["slug"] == platform_link["slug"]
    assert platform["name"] == platform_link["label"]


def test_a_moved_milestone_shows_its_date_history(seeded, api):
    moved = Milestone.objects.published().get(key="M21")
    moved.move_to(
        moved.date.replace(year=moved.date.year + 1),
        certainty=Certainty.EXPECTED,
        reason="Ofcom said it slipped",
    )
    body = api.get(f"/api/v1/milestones/{moved.key}/").json()
    changes = list(moved.date_changes.order_by("created_at"))
    assert len(body["date_changes"]) == len(changes)
    assert body["date_changes"][0]["old"]["start"] == changes[0].old_date.isoformat()
    assert body["date_changes"][0]["reason"] == changes[0].reason


def test_figures_that_disagree_link_each_other(seeded, api):
    conflicted = Observation.objects.published().filter(conflicts_with__isnull=False).first()
    body = api.get(f"/api/v1/observations/{conflicted.slug}/").json()
    assert {link["slug"] for link in body["conflicts_with"]} == set(
        conflicted.conflicts_with.values_list("slug", flat=True)
    )


def test_an_open_seed_conflict_is_shown_on_its_record(seeded, api):
    milestone = Milestone.objects.published().get(key="M21")
    release = seeded_release()
    SeedConflict.objects.create(
        release=release,
        model="regulation.milestone",
        fact_id="M21",
        object_pk=milestone.pk,
        field="title",
        staff_value=milestone.title,
        release_value="Another title",
        reason="S01 says otherwise",
    )
    listed = {r["key"]: r for r in everything(api, "milestones")}
    detail = api.get("/api/v1/milestones/M21/").json()
    for body in (listed["M21"], detail):
        assert body["conflicts"] == [
            {
                "field": "title",
                "record_value": milestone.title,
                "release_value": "Another title",
                "release": release.name,
                "reason": "S01 says otherwise",
            }
        ]


def seeded_release():
    from regulation.models import FactRelease

    return FactRelease.objects.first()
