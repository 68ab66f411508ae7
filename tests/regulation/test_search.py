"""Search: ranked and highlighted full-text search on PostgreSQL, a substring fallback for
SQLite, results grouped by kind and paginated, and never a draft."""

import re
from html import unescape

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.urls import reverse

from regulation.models import SEARCH_CONFIG, Milestone
from regulation.search import TYPES_BY_SLUG, highlight, simple
from regulation.views.search import PER_GROUP, PER_PAGE
from tests.factories import make_commitment, make_milestone, make_platform, make_source
from tests.regulation.records import (
    make_instrument,
    make_measure,
    make_organisation,
)

pytestmark = pytest.mark.django_db
URL = reverse("regulation:search")


def search(client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def group(html: str, slug: str) -> str:
    start = html.index(f'id="results-{slug}"')
    return html[start : html.index("</section>", start)]


def result_titles(html: str) -> list[str]:
    """The titles of the results listed, as read (without their dates)."""
    titles = re.findall(r'<p class="search-title">(.*?)</p>', html, re.S)
    titles = [re.sub(r'<span class="search-when">.*?</span>', "", t) for t in titles]
    return [unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in titles]


def test_a_title_match_ranks_above_a_body_match(client):
    make_milestone(title="Ofcom publishes its plan", description="Age assurance guidance follows.")
    make_milestone(title="Age assurance duties come into force", description="For services.")

    titles = result_titles(group(search(client, q="age assurance"), "milestones"))

    assert titles[0].startswith("Age assurance duties come into force")
    assert titles[1].startswith("Ofcom publishes its plan")


def test_results_are_grouped_by_kind_in_a_fixed_order(client):
    snapchat = make_platform("Snapchat", status="published")
    make_commitment(summary="Snapchat will warn teens about strangers.", platforms=[snapchat])
    # A source is public once a published record cites it.
    source = make_source(title="Snapchat adds protections for younger users")
    make_milestone(title="Snapchat named in Ofcom's enforcement programme", sources=[source])
    make_organisation(name="Snap Inc.", description="Owns Snapchat.")

    html = search(client, q="snapchat")

    headings = re.findall(r'<h2 id="results-([a-z]+)">([^<]+)</h2>', html)
    assert headings == [
        ("milestones", "Milestones (1)"),
        ("commitments", "Platform commitments (1)"),
        ("platforms", "Platforms (1)"),
        ("organisations", "Organisations (1)"),
        ("sources", "Sources (1)"),
    ]
    assert "5 results for “snapchat”" in html


def test_each_kind_is_shown_in_part_then_paginated_in_full(client):
    for n in range(PER_PAGE + 5):
        make_milestone(title=f"Grooming duty step {n}")

    overview = group(search(client, q="grooming"), "milestones")
    assert len(result_titles(overview)) == PER_GROUP
    assert "All 25 milestones matching “grooming”" in overview

    first = search(client, q="grooming", type="milestones")
    second = search(client, q="grooming", type="milestones", page=2)
    assert len(result_titles(first)) == PER_PAGE and "Page 1 of 2" in first
    assert len(result_titles(second)) == 5 and 'rel="prev"' in second
    assert not set(result_titles(first)) & set(result_titles(second))


def test_drafts_of_every_kind_never_appear(client):
    word = "Zanzibarian"
    platform = make_platform(f"{word} Chat")
    make_milestone(title=f"{word} milestone", status="draft")
    make_commitment(summary=f"{word} promise", status="draft", platforms=[platform])
    make_instrument(title=f"{word} code", status="draft")
    make_measure(title=f"{word} measure", status="draft")
    make_organisation(name=f"{word} Ltd", status="draft")
    published = make_milestone(title=f"{word} published milestone")

    html = search(client, q=word)

    assert result_titles(html) == [published.title]
    for slug in TYPES_BY_SLUG:
        assert result_titles(search(client, q=word, type=slug)) == (
            [published.title] if slug == "milestones" else []
        )


def test_highlights_escape_the_text_then_mark_the_words(client):
    make_milestone(
        title="<script>alert(1)</script> Grooming & risk",
        description="Measures <b>against</b> grooming of children.",
    )

    html = search(client, q="grooming")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Grooming</mark> &amp; risk" in html
    snippet = html[html.index('<p class="search-snippet">') :].split("</p>")[0]
    assert "<mark>grooming</mark>" in snippet and "<b>" not in snippet


def test_english_stemming_finds_other_forms_of_a_word(client):
    make_milestone(title="Ofcom enforces the children's codes")

    assert result_titles(search(client, q="enforcing")) == ["Ofcom enforces the children's codes"]
    assert result_titles(search(client, q="code")) == ["Ofcom enforces the children's codes"]
    assert result_titles(search(client, q="delays")) == []


def test_an_empty_query_searches_nothing(client):
    make_milestone(title="Anything")

    html = search(client, q="  ")

    assert result_titles(html) == [] and "results for" not in html


def test_the_query_uses_the_gin_index():
    """The search's expression is exactly the indexed one, so PostgreSQL can use the index
    (here the only way it may read the table)."""
    make_milestone(title="Grooming duty")
    words = SearchQuery("grooming", config=SEARCH_CONFIG)
    matching = Milestone.objects.annotate(v=Milestone.search_fields.vector()).filter(v=words)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = matching.explain()

    assert "Bitmap Index Scan on milestone_search" in plan
    assert matching.count() == 1


def test_the_fallback_requires_every_word_and_ranks_title_matches_first():
    body = make_milestone(title="Ofcom's plan", description="Guidance on age assurance.")
    title = make_milestone(title="Age assurance deadline", description="Services must comply.")
    make_milestone(title="Age checks", description="Nothing about the other word.")
    make_milestone(title="Age assurance draft", status="draft")

    found = list(simple(TYPES_BY_SLUG["milestones"], "AGE assurance"))

    assert found == [title, body]


def test_the_fallback_searches_sources_and_every_kind():
    source = make_source(title="Snapchat adds protections", publisher_name="Mobile Marketing")
    make_milestone(sources=[source])
    make_measure(title="Safer defaults", summary="Applies to Snapchat and others.")

    assert len(simple(TYPES_BY_SLUG["sources"], "snapchat")) == 1
    assert len(simple(TYPES_BY_SLUG["measures"], "snapchat")) == 1
    assert len(simple(TYPES_BY_SLUG["platforms"], "snapchat")) == 0


def test_the_fallback_highlight_escapes_then_marks_every_occurrence():
    marked = highlight("<i>Grooming</i> risk: grooming & more", "grooming")

    assert (
        marked == "&lt;i&gt;<mark>Grooming</mark>&lt;/i&gt; risk: <mark>grooming</mark> &amp; more"
    )


def test_the_fallback_highlight_cuts_long_text_around_the_first_match():
    text = "word " * 200 + "grooming " + "word " * 200

    marked = highlight(text, "grooming", limit=100)

    assert marked.startswith("…") and marked.endswith("…")
    assert "<mark>grooming</mark>" in marked and len(marked) < 140


def test_a_search_page_answers_304_when_nothing_changed(client, django_assert_max_num_queries):
    make_milestone(title="Grooming duty")
    first = client.get(URL, {"q": "grooming"})

    with django_assert_max_num_queries(2):
        again = client.get(URL, {"q": "grooming"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    other_query = client.get(URL, {"q": "duty"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert other_query.status_code == 200

    Milestone.objects.get().unpublish()
    assert client.get(URL, {"q": "grooming"}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
