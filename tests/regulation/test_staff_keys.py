"""New records get a key in their type's series (M111, PC31, S229, ...), continuing after the
highest existing key, even when two are created at the same moment; and published records of
every type link to their public page ("View on site")."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regulation.models import (
    Commitment,
    Indicator,
    Measure,
    Milestone,
    Observation,
    Organisation,
    Platform,
    PublicRecord,
    Source,
    Status,
    public_models,
)
from tests.factories import (
    make_commitment,
    make_indicator,
    make_milestone,
    make_observation,
    make_platform,
    make_source,
)
from tests.regulation.test_races import run_at_once

SERIES = {
    Milestone: "M",
    Commitment: "PC",
    Source: "S",
    Measure: "CM",
    Observation: "ST",
    Organisation: "OR",
}


@pytest.mark.django_db
def test_each_keyed_type_has_its_series():
    assert {model: model.key_series for model in SERIES} == SERIES
    assert not Platform.key_series and not Indicator.key_series


@pytest.mark.django_db
def test_a_new_record_continues_after_the_highest_key_of_its_series():
    make_milestone(key="M9")
    make_milestone(key="M110")
    make_milestone(key="M21")
    make_milestone(key="MISC")  # not of the series: no number

    assert make_milestone().key == "M111"
    assert make_milestone().key == "M112"


@pytest.mark.django_db
def test_series_that_share_a_letter_are_counted_apart():
    make_source(key="S228")
    make_observation(key="ST54")

    assert make_source().key == "S229"
    assert make_observation().key == "ST55"
    assert make_commitment().key == "PC1"


@pytest.mark.django_db
def test_a_key_given_by_hand_is_kept():
    assert make_milestone(key="M500").key == "M500"


@pytest.mark.django_db
def test_a_record_of_a_type_without_a_series_gets_no_key():
    assert make_platform().key is None
    assert make_indicator().key is None


@pytest.mark.django_db
def test_a_new_record_is_shown_with_its_key_like_a_seeded_one():
    make_commitment(key="PC30")

    commitment = make_commitment(summary="Teen accounts by default.")

    assert str(commitment) == "PC31: Teen accounts by default."
    assert commitment.slug == "pc31-teen-accounts-by-default"


@pytest.mark.django_db
def test_the_admin_gives_a_new_record_its_key(client):
    make_source(key="S228")
    root = User.objects.create_superuser("root", "root@example.org", password=None)
    client.force_login(root)

    response = client.post(
        reverse("admin:regulation_source_add"),
        {
            "title": "Ofcom statement",
            "url": "https://www.ofcom.org.uk/statement",
            "publisher_name": "Ofcom",
            "kind": "regulator",
            "origin": "primary",
            "published_precision": "day",
        },
    )

    assert response.status_code == 302
    assert Source.objects.get(title="Ofcom statement").key == "S229"


@pytest.mark.django_db(transaction=True)
def test_records_created_at_the_same_moment_get_different_keys():
    for _ in range(5):
        outcomes = run_at_once(*(lambda: make_milestone(status=Status.DRAFT).key for _ in range(4)))

        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert len(set(outcomes)) == 4
    keys = sorted(Milestone.objects.values_list("key", flat=True), key=lambda k: int(k[1:]))
    assert keys == [f"M{n}" for n in range(1, 21)]


# --- View on site ----------------------------------------------------------------------------


def draft_with_source(model: type[PublicRecord]) -> PublicRecord:
    makers = {
        Milestone: lambda: make_milestone(status=Status.DRAFT),
        Commitment: lambda: make_commitment(status=Status.DRAFT),
        Platform: lambda: make_platform(),
        Indicator: make_indicator,
        Observation: make_observation,
    }
    if model in makers:
        record = makers[model]()
    elif model is Organisation:
        record = Organisation.objects.create(name="NSPCC")
    elif model is Measure:
        record = Measure.objects.create(title="Default settings", summary="Hide children.")
    else:
        record = model.objects.create(title="Online Safety Act 2023", kind="act", stage="final")
    record.sources.add(make_source())
    return record


@pytest.mark.django_db
@pytest.mark.parametrize("model", public_models(), ids=lambda model: model.__name__)
def test_every_public_type_has_view_on_site_once_published(model):
    # Figures have no page of their own: they live at their anchors on the statistics page.
    record = draft_with_source(model)
    model_admin = admin.site._registry[model]
    assert model_admin.get_view_on_site_url(record) is None  # a draft has no public page

    record.publish()

    url = model_admin.get_view_on_site_url(record)
    assert url is not None
    client = Client()
    client.force_login(User.objects.create_superuser("root", "r@example.org", password=None))
    page = client.get(
        reverse(f"admin:regulation_{model._meta.model_name}_change", args=[record.pk])
    )
    assert url in page.content.decode()


@pytest.mark.django_db
def test_the_public_page_address_uses_the_slug():
    milestone = make_milestone(date=dt.date(2026, 7, 1))

    assert milestone.get_absolute_url() == reverse("regulation:milestone", args=[milestone.slug])
