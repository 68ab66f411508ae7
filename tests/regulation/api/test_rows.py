"""A list's page is answered from `.values()` rows; a detail, a point-in-time answer and the
bulk export from model instances. Both go through each record's one row-to-JSON definition.
On the seed data, with drafts, open conflicts, a moved date and linked drafts added, every
list entry must be the record's detail, and both must say what the models say."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.reverse import reverse

from regulation.api import serializers as s
from regulation.api.permissions import visible
from regulation.models import (
    Commitment,
    FactRelease,
    Indicator,
    Instrument,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    SeedConflict,
    Status,
)
from tests.factories import make_commitment, make_milestone, make_platform, make_source

pytestmark = pytest.mark.django_db

PUBLIC = {
    "milestones": (Milestone, s.MilestoneSerializer),
    "commitments": (Commitment, s.CommitmentSerializer),
    "instruments": (Instrument, s.InstrumentSerializer),
    "measures": (Measure, s.MeasureSerializer),
    "platforms": (Platform, s.PlatformSerializer),
    "organisations": (Organisation, s.OrganisationSerializer),
    "indicators": (Indicator, s.IndicatorSerializer),
    "observations": (Observation, s.ObservationSerializer),
}


@pytest.fixture
def varied(seeded):
    """The seed, with what it lacks: drafts linked from published records (and a published
    platform owned by a draft organisation), open conflicts, a date moved twice, a status
    update with evidence, and two observations that disagree."""
    draft_platform = make_platform("A draft app")
    milestone = Milestone.objects.published().order_by("key")[3]
    milestone.move_to(
        dt.date(2027, 1, 1),
        precision="quarter",
        certainty="expected",
        reason="Slipped",
        source=make_source(published_on=dt.date(2025, 4, 1), published_precision="month"),
        announced_on=dt.date(2025, 5, 1),
    )
    milestone.move_to(dt.date(2027, 6, 1), precision="month", reason="Slipped again")
    milestone.platforms.add(draft_platform)
    commitment = Commitment.objects.published().order_by("key")[2]
    commitment.platforms.add(draft_platform)
    commitment.record_update(
        on=dt.date(2026, 1, 1), delivery_status="in_progress", evidence=make_source()
    )
    draft_milestone = make_milestone(title="A draft milestone", status=Status.DRAFT)
    commitment.milestones.add(draft_milestone)
    make_commitment(status=Status.DRAFT, platforms=[draft_platform])
    release = FactRelease.objects.first()
    for record, field in ((milestone, "title"), (commitment, "summary")):
        SeedConflict.objects.create(
            release=release,
            model=record._meta.label_lower,
            fact_id=f"X-{record.key}",
            object_pk=record.pk,
            field=field,
            staff_value="ours",
            release_value="theirs",
            reason="A newer source",
        )
    first, second = Observation.objects.published().order_by("pk")[:2]
    first.conflicts_with.add(second)
    platform = Platform.objects.published().order_by("key").last()
    platform.owner = Organisation.objects.create(name="A draft organisation")
    platform.save()


def pages(client, url: str) -> list[dict]:
    """Every entry of a list, following its next links."""
    results = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        results += response.json()["results"]
        url = response.json()["next"]
    return results


@pytest.mark.parametrize("as_staff", [False, True], ids=["anonymous", "staff"])
@pytest.mark.parametrize("path", PUBLIC)
def test_every_list_entry_is_the_records_detail(varied, api, staff_api, path, as_staff):
    client = staff_api if as_staff else api
    model = PUBLIC[path][0]
    numbered = pages(client, f"/api/v1/{path}/?page_size=7")
    by_cursor = pages(client, f"/api/v1/{path}/?ordering=-updated_at&page_size=7")
    expected = model.objects.all() if as_staff else model.objects.published()
    assert len(numbered) == expected.count() > 0
    assert sorted(numbered, key=lambda e: e["url"]) == sorted(by_cursor, key=lambda e: e["url"])
    for entry in numbered:
        assert client.get(entry["url"]).json() == entry


@pytest.mark.parametrize("path", ["milestones", "commitments"])
def test_a_list_recorded_as_of_now_is_the_list_as_it_is(varied, api, path):
    """recorded_as_of answers from the history's instances: the same records as now."""
    moment = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    now = pages(api, f"/api/v1/{path}/?page_size=200")
    # (the history's versions of this minute; a later second would be absent)
    recorded = pages(api, f"/api/v1/{path}/?recorded_as_of={moment}:59&page_size=200")
    assert {e["url"]: e for e in now} == {e["url"]: e for e in recorded}


@pytest.mark.parametrize("path", ["milestones", "commitments"])
def test_filters_and_search_answer_entries_as_the_whole_list_does(varied, api, path):
    everything = {e["url"]: e for e in pages(api, f"/api/v1/{path}/?page_size=200")}
    platform = Platform.objects.published().filter(**{f"{path}__isnull": False}).first()
    first = next(iter(everything.values()))
    word = max((first.get("title") or first["summary"]).split(), key=len).strip(".,()")
    for query in (f"platform={platform.slug}", f"search={word}", "ordering=-key"):
        found = pages(api, f"/api/v1/{path}/?{query}&page_size=9")
        assert found
        assert all(everything[e["url"]] == e for e in found)


def link_urls(records, request) -> list[str]:
    return [s.api_url(record, request) for record in records]


@pytest.mark.parametrize("path", PUBLIC)
def test_each_answer_says_what_the_models_say(varied, api, path, rf):
    """Independently of the row path: each column as DRF's field shows the model's value,
    links in the visible linked records' order, dates in the models' words."""
    model, serializer_class = PUBLIC[path]
    fields = serializer_class().fields
    request = rf.get("/")
    for entry in pages(api, f"/api/v1/{path}/?page_size=50"):
        record = model.objects.get(slug=entry["slug"])
        assert entry["url"] == reverse(
            f"api:{model._meta.model_name}-detail", kwargs={"lookup": record.slug}, request=request
        )
        for name, field in fields.items():
            if isinstance(field, drf.SerializerMethodField):
                continue
            if isinstance(field, drf.ListSerializer):
                related = getattr(record, field.source).all()
                if name != "sources":
                    related = related.filter(pk__in=visible(related.model, None))
                else:
                    related = related.order_by("key", "pk")
                assert [link["url"] for link in entry[name]] == link_urls(related, request)
                assert [link["label"] for link in entry[name]] == [
                    s.record_label(r) for r in related
                ]
            elif isinstance(field, s.LinkSerializer):
                linked = getattr(record, field.source)
                assert (entry[name] or {}).get("url") == (
                    s.api_url(linked, request) if linked else None
                )
            else:
                value = getattr(record, field.source)
                shown = None if value is None else field.to_representation(value)
                assert entry[name] == (float(shown) if isinstance(shown, Decimal) else shown)
        conflicts = SeedConflict.objects.unresolved().filter(
            model=model._meta.label_lower, object_pk=record.pk
        )
        assert [c["release_value"] for c in entry["conflicts"]] == [
            c.release_value for c in conflicts.order_by("field", "created_at")
        ]
        if model is Milestone:
            assert entry["date"]["display"] == record.date_display
            assert entry["date"]["unverified"] == record.date_is_unverified
            assert [c["reason"] for c in entry["date_changes"]] == [
                c.reason for c in record.date_changes.order_by("created_at", "pk")
            ]
        if model is Commitment:
            assert entry["made"]["display"] == record.made_on_display
            assert (entry["due"] or {}).get("display", "") == record.due_display
            assert [u["note"] for u in entry["updates"]] == [
                u.note for u in record.updates.order_by("on", "created_at")
            ]
