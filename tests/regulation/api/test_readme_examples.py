"""The README's API examples work on the seed data as written."""

import datetime as dt

import pytest
import time_machine

from regulation.models import Commitment, Source

pytestmark = pytest.mark.django_db


def test_the_readme_reads_answer_on_the_seed(seeded, api):
    with time_machine.travel(dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC), tick=False):
        deadlines = api.get("/api/v1/milestones/?kind=compliance_deadline&upcoming=true")
    assert deadlines.status_code == 200
    assert {m["kind"] for m in deadlines.json()["results"]} <= {"compliance_deadline"}
    poll = api.get("/api/v1/milestones/?updated_since=2026-11-01T00:00&ordering=updated_at")
    assert poll.status_code == 200
    instagram = api.get("/api/v1/commitments/?platform=instagram&as_of=2025-03-17")
    assert instagram.status_code == 200
    assert instagram.json()["results"], "Instagram had commitments on 17 March 2025"
    etag = api.get("/api/v1/milestones/")["ETag"]
    assert api.get("/api/v1/milestones/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_readme_write_records_a_status_update(seeded, staff_api):
    commitment = Commitment.objects.get(key="PC04")
    assert Source.objects.filter(key="S12").exists()
    on = max(commitment.made_on, dt.date(2026, 11, 20))
    response = staff_api.post(
        "/api/v1/commitments/PC04/updates/",
        {"on": on.isoformat(), "delivery_status": "delivered", "evidence": "S12"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["delivery_status"] == "delivered"
