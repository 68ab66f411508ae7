"""The staff workflow in a real browser, as the people who do it would: a contributor logs in,
adds a commitment and the source it rests on, and submits it for review; an editor finds it
among the drafts waiting for review and publishes it; a visitor then reads it on the site.

Each step is checked on the page the person sees, not only in the database.
"""

import re

from playwright.sync_api import Page, expect

from regulation.models import Commitment, Platform
from tests.e2e.browser import log_in
from tests.e2e.conftest import DESKTOP, LiveSite, Login

SUMMARY = "Teen accounts get a new default: direct messages only from approved contacts"
SOURCE_TITLE = "Browser test: a platform's announcement of its new messaging defaults"
SOURCE_URL = "https://example.org/newsroom/new-messaging-defaults"


def choose_in_autocomplete(page: Page, field: str, text: str) -> None:
    """Pick an option of an admin autocomplete (select2) by typing, as a person does."""
    page.locator(f"#{field} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def log_out(page: Page) -> None:
    page.locator("#logout-form button").click()
    expect(page.get_by_role("heading", name="Logged out")).to_be_visible()


def test_a_contributors_commitment_reaches_the_public_once_an_editor_publishes_it(
    page: Page, contributor_login: Login, editor_login: Login, query, live_site: LiveSite
):
    platform_name, platform_url = query(
        lambda: next(
            (platform.name, platform.get_absolute_url())
            for platform in Platform.objects.published().order_by("name")
        )
    )

    # The contributor adds the commitment, creating its source from the form's "+" link.
    log_in(page, contributor_login.username, contributor_login.password)
    expect(page.get_by_role("heading", level=1)).to_have_text("Knowledge base and tracking")
    page.goto("/admin/regulation/commitment/add/")
    page.get_by_label("Summary").fill(SUMMARY)
    choose_in_autocomplete(page, "id_platforms", platform_name)
    page.locator("#id_made_on").fill("20/11/2026")
    # A contributor cannot publish: the status is shown, not offered.
    expect(page.locator("select#id_status")).to_have_count(0)
    with page.expect_popup() as popup_opened:
        page.locator("#add_id_sources").click()
    popup = popup_opened.value
    popup.get_by_label("Title").fill(SOURCE_TITLE)
    popup.get_by_label("Url:", exact=True).fill(SOURCE_URL)
    popup.get_by_label("Publisher name").fill("Example newsroom")
    popup.get_by_label("Origin").select_option("primary")
    popup.locator("#id_published_on").fill("19/11/2026")
    popup.get_by_role("button", name="Save", exact=True).click()
    popup.wait_for_event("close")
    # The new source is chosen in the commitment's sources box.
    expect(page.locator("#id_sources + .select2")).to_contain_text(SOURCE_TITLE)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    # ... and submits it for review from the list.
    row = page.locator("#result_list tbody tr", has_text=SUMMARY)
    expect(row).to_contain_text("Draft")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("submit_for_review")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist .success")).to_have_text("Submitted 1 record for review.")
    log_out(page)

    # The editor finds it on the dashboard, among the drafts waiting for review.
    log_in(page, editor_login.username, editor_login.password)
    waiting = page.locator("#follow-up tr", has_text="Drafts waiting for review")
    waiting.get_by_role("link", name=re.compile(r"^\d+ commitments$")).click()
    expect(page).to_have_url(re.compile(r"/admin/regulation/commitment/\?publishing=waiting$"))
    row = page.locator("#result_list tbody tr", has_text=SUMMARY)
    expect(row).to_have_count(1)
    # The record shows who submitted what it cites.
    row.locator("th a").click()
    expect(page.locator(".fieldBox.field-review_state")).to_contain_text("Waiting for review")
    expect(page.locator("#id_sources + .select2")).to_contain_text(SOURCE_TITLE)
    page.go_back()
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("publish_selected")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist .success")).to_have_text("Published 1 record.")
    # No longer waiting: the filtered list no longer holds it.
    page.goto("/admin/regulation/commitment/?publishing=waiting")
    expect(page.locator("#result_list tbody tr", has_text=SUMMARY)).to_have_count(0)
    # Who published it and when is on the record, with its link to the public page.
    page.goto("/admin/regulation/commitment/?q=" + "new default")
    page.locator("#result_list tbody tr", has_text=SUMMARY).locator("th a").click()
    expect(page.locator(".fieldBox.field-published_by")).to_contain_text(editor_login.username)
    public_url = query(lambda: Commitment.objects.get(summary=SUMMARY).get_absolute_url())
    page.get_by_role("link", name="View on site").click()
    expect(page).to_have_url(re.compile(re.escape(public_url) + "$"))

    # A visitor, who never logged in, reads it on its own page and on its platform's page.
    visitor = page.context.browser.new_context(base_url=live_site.url, viewport=DESKTOP)
    try:
        public = visitor.new_page()
        public.goto(public_url)
        expect(public.get_by_role("heading", level=1)).to_contain_text(SUMMARY)
        expect(public.locator("main")).to_contain_text(SOURCE_TITLE)
        public.goto(platform_url)
        expect(public.locator("main")).to_contain_text(SUMMARY)
    finally:
        visitor.close()

    # The seed is left as it was found: the test's own records go.
    query(_remove_test_records)


def _remove_test_records() -> None:
    commitment = Commitment.objects.get(summary=SUMMARY)
    sources = list(commitment.sources.all())
    commitment.unpublish()
    commitment.delete()
    for source in sources:
        source.delete()
