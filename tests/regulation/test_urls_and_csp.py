"""Stored URLs are web addresses only, pages never link to another scheme, and every response
carries a Content-Security-Policy that forbids inline script."""

import copy
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from regulation.models import HTTP_URL, Instrument, Organisation, Platform, Source
from regulation.seed import SeedError, load_seed, read_fixture
from regulation.templatetags.regulation_urls import http_url
from tests.factories import make_milestone, make_source

pytestmark = pytest.mark.django_db

SCRIPT_URL = "javascript:alert(document.cookie)"

# Each URL field with a record to hold it; a second Source field is the archived copy.
URL_FIELDS = [
    (Source, "url", lambda **f: make_source(**f)),
    (Source, "archived_url", lambda **f: make_source(**f)),
    (Organisation, "website", lambda **f: Organisation.objects.create(name="Ofcom", **f)),
    (Platform, "website", lambda **f: Platform.objects.create(name="Snapchat", **f)),
    (
        Instrument,
        "official_url",
        lambda **f: Instrument.objects.create(title="Act", kind="act", stage="in_force", **f),
    ),
]
FIELD_IDS = [f"{model.__name__}.{field}" for model, field, _ in URL_FIELDS]


@pytest.mark.parametrize(("model", "field", "create"), URL_FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("url", [SCRIPT_URL, "JavaScript:alert(1)", "data:text/html,<b>x</b>"])
def test_the_database_refuses_a_url_that_is_not_http_on_create(model, field, create, url):
    with pytest.raises(IntegrityError), transaction.atomic():
        create(**{field: url})

    assert not model.objects.filter(**{field: url}).exists()


@pytest.mark.parametrize(("model", "field", "create"), URL_FIELDS, ids=FIELD_IDS)
def test_the_database_refuses_a_url_that_is_not_http_on_update(model, field, create):
    record = create()

    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=record.pk).update(**{field: SCRIPT_URL})

    record.refresh_from_db()
    assert getattr(record, field) != SCRIPT_URL


@pytest.mark.parametrize(("model", "field", "create"), URL_FIELDS, ids=FIELD_IDS)
def test_validation_refuses_a_url_that_is_not_http_and_says_why(model, field, create):
    record = create()
    setattr(record, field, SCRIPT_URL)

    with pytest.raises(ValidationError) as refused:
        record.full_clean()

    assert refused.value.message_dict[field] == [HTTP_URL]


@pytest.mark.parametrize(("model", "field", "create"), URL_FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("url", ["https://www.ofcom.org.uk/roadmap", "http://example.org/a"])
def test_web_addresses_are_accepted(model, field, create, url):
    record = create(**{field: url})

    record.full_clean()
    assert model.objects.filter(pk=record.pk, **{field: url}).exists()


def test_the_seed_cannot_store_a_script_url():
    facts = copy.deepcopy(read_fixture("osa-facts.json"))
    facts["sources"][0]["url"] = SCRIPT_URL

    # Refused where it is written (the database), or earlier if the seed validates first.
    with pytest.raises((IntegrityError, ValidationError, SeedError)):
        load_seed(facts=facts)

    assert not Source.objects.filter(url=SCRIPT_URL).exists()


# --- Pages never link to another scheme ---------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "href"),
    [
        ("https://www.ofcom.org.uk/roadmap", "https://www.ofcom.org.uk/roadmap"),
        ("HTTP://example.org/", "HTTP://example.org/"),
        (SCRIPT_URL, ""),
        (" javascript:alert(1)", ""),
        ("java\tscript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("//evil.example/", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_the_http_url_filter_lets_only_web_addresses_through(stored, href):
    assert http_url(stored) == href


@pytest.mark.skipif(connection.vendor != "postgresql", reason="drops a constraint in a transaction")
def test_a_script_url_that_reached_the_database_is_never_rendered_as_a_link(client):
    source = make_source(title="Roadmap")
    milestone = make_milestone(sources=[source])
    milestone.move_to(milestone.date.replace(year=2026), reason="Delayed", source=source)
    connection.check_constraints()  # fire pending deferred checks, or ALTER TABLE is refused
    with connection.cursor() as cursor:
        # As if the row predated the constraint: only the template is left to stop it.
        cursor.execute("ALTER TABLE regulation_source DROP CONSTRAINT source_url_is_http")
        cursor.execute("UPDATE regulation_source SET url = %s", [SCRIPT_URL])

    page = client.get(milestone.get_absolute_url()).content.decode()

    assert "Roadmap" in page
    assert "javascript:" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    # Site paths, web addresses and links within the page (the skip link's "#content").
    assert all(h == "" or h.startswith(("/", "#", "http://", "https://")) for h in hrefs), hrefs


# --- Content-Security-Policy --------------------------------------------------------------------


def assert_forbids_inline_script(response) -> None:
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode()


def test_the_public_pages_carry_the_policy_and_no_inline_style(client):
    milestone = make_milestone()

    for url in (reverse("regulation:home"), milestone.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200
        assert_forbids_inline_script(response)
        assert "<style" not in response.content.decode()
        assert "regulation/site." in response.content.decode()


def test_the_stylesheet_is_served_from_our_own_static_files(client):
    page = client.get(reverse("regulation:home")).content.decode()
    [stylesheet] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)

    response = client.get(stylesheet)

    assert response.status_code == 200
    assert b".milestones" in b"".join(response.streaming_content)


def test_the_admin_carries_the_policy_and_still_renders(editor_client):
    source = make_source()
    pages = [
        reverse("admin:index"),
        reverse("admin:regulation_source_changelist"),
        reverse("admin:regulation_source_change", args=[source.pk]),
        reverse("admin:regulation_milestone_add"),
    ]

    for url in pages:
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert_forbids_inline_script(response)


def test_the_admin_login_page_carries_the_policy(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert_forbids_inline_script(response)
