"""The bulk export: the whole published dataset, built once per version of the data."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regulation.models import Status
from tests.factories import make_milestone

pytestmark = pytest.mark.django_db


def test_the_root_links_the_exports(api):
    body = api.get("/api/v1/").json()
    assert body["export"] == "http://testserver/api/v1/export/"
    assert body["export_csv"]["milestones"] == "http://testserver/api/v1/export/milestones.csv"


def test_the_json_export_holds_every_published_record_and_its_generation_time(api):
    shown = make_milestone(title="Codes in force")
    make_milestone(title="Draft", status=Status.DRAFT)
    response = api.get("/api/v1/export/")
    assert response.status_code == 200
    document = response.json()
    assert [m["slug"] for m in document["milestones"]] == [shown.slug]
    assert document["milestones"][0] == api.get(f"/api/v1/milestones/{shown.slug}/").json()
    assert dt.datetime.fromisoformat(document["generated_at"])
    assert response["ETag"]


def test_a_csv_export_has_a_row_per_published_record(api):
    shown = make_milestone(title="Codes in force", key="M77")
    response = api.get("/api/v1/export/milestones.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["key"], r["title"], r["date"]) for r in rows] == [
        ("M77", "Codes in force", shown.date_iso)
    ]
    assert rows[0]["sources"]  # cited by key, or by id for a source without one


def test_the_export_is_built_once_per_version_of_the_data(api):
    milestone = make_milestone()
    first = api.get("/api/v1/export/milestones.csv")
    with CaptureQueriesContext(connection) as captured:
        again = api.get("/api/v1/export/milestones.csv")
    assert len(captured) == 1  # the data's version: the body comes from the cache
    assert again["Export-Generated-At"] == first["Export-Generated-At"]
    assert again.content == first.content

    milestone.move_to(dt.date(2027, 1, 1), reason="Delayed")
    rebuilt = api.get("/api/v1/export/milestones.csv")
    assert rebuilt["ETag"] != first["ETag"]
    assert rebuilt["Export-Generated-At"] != first["Export-Generated-At"]
    assert "2027-01-01" in rebuilt.content.decode()


def test_a_current_copy_of_the_export_gets_304(api):
    make_milestone()
    first = api.get("/api/v1/export/")
    assert api.get("/api/v1/export/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_an_unknown_export_is_404(api):
    assert api.get("/api/v1/export/secrets.csv").status_code == 404
