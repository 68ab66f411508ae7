"""A source only drafts cite is not public: its title, address and quote would show what the
drafts are about. The pages, search, the API and the exports all ask Source.objects.public()."""

import csv
import io

import pytest

from regulation.models import Source, Status
from tests.factories import make_milestone, make_source

pytestmark = pytest.mark.django_db

SECRET = "Unannounced enforcement programme"


@pytest.fixture
def draft_only() -> Source:
    source = make_source(key="S901", title=SECRET, quote=f"{SECRET}, quoted")
    make_milestone(title="Not yet public", status=Status.DRAFT, sources=[source])
    make_milestone(title="Public", sources=[make_source(key="S902", title="Ofcom statement")])
    return source


def test_a_source_only_drafts_cite_is_public_nowhere(client, api, draft_only):
    assert client.get("/sources/S901/").status_code == 404
    assert "Unannounced" not in client.get("/search/", {"q": "enforcement"}).content.decode()
    assert api.get("/api/v1/sources/S901/").status_code == 404
    listed = api.get("/api/v1/sources/", {"search": "enforcement"}).json()
    assert listed["results"] == []
    export = api.get("/api/v1/export/").json()
    assert [source["key"] for source in export["sources"]] == ["S902"]
    rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/export/sources.csv").content.decode())))
    assert [row["key"] for row in rows] == ["S902"]


def test_staff_with_a_token_see_it(staff_api, draft_only):
    assert staff_api.get("/api/v1/sources/S901/").json()["title"] == SECRET
