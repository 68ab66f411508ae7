"""Missing and failed pages in the site's layout; addresses that keep working."""

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.urls import path

from regulation.models import Milestone, SlugRedirect, Source, slug_at_word_boundary
from regulation.templatetags.regulation_site import link_sources, title_text
from tests.factories import make_milestone, make_platform
from tracker.urls import handler404, handler500
from tracker.urls import urlpatterns as site_urls

pytestmark = pytest.mark.django_db


def broken_view(request: HttpRequest):
    raise RuntimeError("a failure inside a view")


# The site's own URLs and handlers, plus a view that fails.
urlpatterns = [*site_urls, path("broken/", broken_view)]
__all__ = ["handler404", "handler500", "urlpatterns"]


def test_a_missing_page_is_a_404_in_the_sites_layout(client, settings):
    assert settings.DEBUG is False
    response = client.get("/no-such-page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert '<nav aria-label="Sections">' in html
    assert "Page not found – Online Safety Act tracker" in html


@pytest.mark.urls(__name__)
def test_a_failure_is_a_500_in_the_sites_layout_without_the_database(settings):
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert '<nav aria-label="Sections">' in html
    assert "Data last updated" not in html  # the one part that needs the database


def test_the_500_page_renders_with_the_database_unreachable(settings):
    from regulation.views.errors import server_error

    with connection.execute_wrapper(refuse_queries):
        response = server_error(HttpRequest())

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def refuse_queries(execute, sql, params, many, context):
    raise AssertionError(f"the 500 page ran a query: {sql}")


def test_a_record_whose_slug_changed_answers_its_old_address_with_a_permanent_redirect(client):
    milestone = make_milestone(title="Register published")
    old_url = milestone.get_absolute_url()
    milestone = Milestone.objects.get(pk=milestone.pk)

    milestone.slug = "register-of-categorised-services-published"
    milestone.save()
    response = client.get(old_url)

    assert response.status_code == 301
    assert response["Location"] == "/milestones/register-of-categorised-services-published/"
    assert SlugRedirect.objects.filter(model="regulation.milestone").count() == 1


def test_an_old_address_keeps_pointing_at_the_latest_slug(client):
    platform = make_platform(name="Twitter", status="published")
    first = platform.get_absolute_url()
    platform = type(platform).objects.get(pk=platform.pk)
    platform.slug = "x"
    platform.save()
    platform.slug = "x-formerly-twitter"
    platform.save()

    assert client.get(first)["Location"] == "/platforms/x-formerly-twitter/"
    assert client.get("/platforms/x/")["Location"] == "/platforms/x-formerly-twitter/"


def test_an_old_address_of_a_record_now_a_draft_is_a_404(client):
    milestone = Milestone.objects.get(pk=make_milestone(title="Withdrawn date").pk)
    old_url = milestone.get_absolute_url()
    milestone.slug = "withdrawn-date-renamed"
    milestone.save()
    milestone.unpublish()

    assert client.get(old_url).status_code == 404


def test_saving_without_the_slug_does_not_record_a_redirect():
    milestone = Milestone.objects.get(pk=make_milestone(title="Stays put").pk)

    milestone.save(update_fields=["title", "updated_at"])

    assert not SlugRedirect.objects.exists()


def test_a_slug_is_cut_at_a_word_boundary():
    long_title = "Ofcom publishes its statement on the additional safety measures for children"
    milestone = make_milestone(title=long_title, key="M99")

    assert len(milestone.slug) <= 70
    assert long_title.lower().replace(" ", "-").startswith(milestone.slug.removeprefix("m99-"))
    assert slug_at_word_boundary("illegal-harms-duties", 16) == "illegal-harms"
    assert slug_at_word_boundary("supercalifragilistic", 5) == "super"


def test_a_note_naming_a_source_key_links_to_it_after_escaping():
    linked = link_sources("See S02 and <b>S13</b>; not XS02 or S2.")

    assert '<a href="/sources/S02/">S02</a>' in linked
    assert '&lt;b&gt;<a href="/sources/S13/">S13</a>&lt;/b&gt;' in linked
    assert "XS02" in linked and "S2." in linked
    assert "<b>" not in linked


def test_a_page_title_loses_a_records_closing_full_stop():
    assert title_text("Illegal harms duties in force.") == "Illegal harms duties in force"
    assert title_text("Codes in force") == "Codes in force"


def test_a_source_without_a_key_is_found_by_its_number(client):
    source = Source.objects.create(
        title="A report",
        url="https://example.org/report",
        publisher_name="Ofcom",
        origin=Source.Origin.PRIMARY,
    )
    # New sources get the next key of the series; one whose key was taken away has none.
    Source.objects.filter(pk=source.pk).update(key=None)
    source.refresh_from_db()
    make_milestone(sources=[source])

    response = client.get(source.get_absolute_url())

    assert source.get_absolute_url() == f"/sources/{source.pk}/"
    assert response.status_code == 200
    assert "A report" in response.content.decode()
