"""Each public page type in a real browser: it loads, reads well to assistive technology (axe-core
finds nothing), fits a 320 px screen, and is saved as a screenshot.

A new page type is one line in PAGE_TYPES (tests/regulation/site/pages.py): its name and how to
find its address on the seed.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.browser import axe_violations, describe, save_screenshot, sideways_overflow
from tests.regulation.site.pages import PAGE_TYPES

page_types = pytest.mark.parametrize("page_type", PAGE_TYPES)


def visit(page: Page, query, page_type: str) -> None:
    address = query(PAGE_TYPES[page_type])
    response = page.goto(address)
    assert response is not None and response.status == 200, f"{address} answered {response}"


@page_types
def test_each_page_type_loads_with_one_h1_and_no_axe_violations(
    page: Page, query, page_type: str, browser_errors: list[str], artefacts_dir: Path
):
    visit(page, query, page_type)
    assert page.locator("h1").count() == 1
    violations = axe_violations(page)
    assert violations == [], describe(violations)
    assert browser_errors == []
    screenshot = save_screenshot(page, artefacts_dir, page_type)
    assert screenshot.read_bytes().startswith(b"\x89PNG")


@page_types
def test_each_page_type_fits_a_320px_screen_without_sideways_scrolling(
    page: Page, query, page_type: str
):
    page.set_viewport_size({"width": 320, "height": 640})
    visit(page, query, page_type)
    assert sideways_overflow(page) == 0


def test_a_reader_follows_a_date_on_the_home_page_to_its_milestone(page: Page):
    page.goto("/")
    link = page.locator("main a[href^='/milestones/']").first
    title = link.inner_text().strip()
    link.click()
    page.wait_for_url("**/milestones/*/")
    # The page's heading is the title without a closing full stop.
    assert page.locator("h1").inner_text().strip() == title.rstrip(".")


def test_pages_are_checked_under_the_sites_own_csp_and_a_refusal_is_reported(
    page: Page, browser_errors: list[str]
):
    """axe-core runs through the DevTools protocol, which the page's CSP does not govern, so
    the browser keeps the CSP and every page test would see an inline style or script refused."""
    page.goto("/")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                      "'<p style=\"color: red\">inline style</p>')")  # fmt: skip
    assert any("inline style" in error and "Content Security Policy" in error
               for error in browser_errors)  # fmt: skip


def test_the_timeline_prints_its_dates_without_the_navigation_or_the_filters(page: Page):
    page.goto("/timeline/")
    page.emulate_media(media="print")
    for hidden in (".site-header nav", ".site-search", ".filters", ".skip-link"):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.locator("h1").is_visible()
    assert page.locator(".milestones li").first.is_visible()
    page.emulate_media(media="screen")
    assert page.locator(".filters").is_visible()
