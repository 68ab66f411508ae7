"""Staff in a real browser: signing in through the admin's own form reaches the admin index."""

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page

from regulation.models import Milestone
from tests.e2e.browser import (
    WCAG_22_AA,
    axe_violations,
    describe,
    log_in,
    save_screenshot,
    sideways_overflow,
)
from tests.e2e.conftest import Login


def test_a_staff_member_logs_in_through_the_form_and_reaches_the_admin_index(
    page: Page, staff: Login, artefacts_dir: Path
):
    log_in(page, staff.username, staff.password)
    assert page.url.endswith("/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Knowledge base and tracking"
    assert page.locator(".app-regulation").get_by_role("link", name="Milestones").count() == 1
    # The follow-up dashboard and the worker's health lead the index.
    assert page.locator("#follow-up").is_visible()
    assert page.locator("#worker-health").is_visible()
    save_screenshot(page, artefacts_dir, "admin-dashboard")


def test_a_wrong_password_keeps_the_login_form_with_an_error(page: Page, staff: Login):
    log_in(page, staff.username, "not-the-password")
    assert "/admin/login/" in page.url
    assert page.locator(".errornote").is_visible()


# Admin pages that must meet WCAG 2.2 AA, by path, each with the axe-core rules it is known to
# break; a new page is one line. WCAG rules only: Django's own login page has no level-one
# heading, a best practice rather than a WCAG rule.
ADMIN_PAGES: dict[str, set[str]] = {
    "/admin/login/": set(),
    "/admin/": set(),
    # Django's filter links in the side bar are smaller than 24 px with too little space between
    # them (WCAG 2.2 2.5.8). Known, to be fixed with the admin's own styles (issue 8); this
    # fails once it is fixed, so the entry is removed then.
    "/admin/regulation/milestone/": {"target-size"},
}


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_break_no_wcag_rule_beyond_those_known(
    page: Page, staff: Login, path: str, browser_errors: list[str]
):
    if path != "/admin/login/":
        log_in(page, staff.username, staff.password)
    page.goto(path)
    violations = axe_violations(page, WCAG_22_AA)
    assert {violation.rule for violation in violations} == ADMIN_PAGES[path], describe(violations)
    assert browser_errors == []


def test_the_admin_login_fits_a_320px_screen(page: Page):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/admin/login/")
    assert sideways_overflow(page) == 0


# The columns an editor decides by, which must be on screen without scrolling sideways.
DECIDING_COLUMNS = ("status", "verification", "source_count")


@pytest.mark.parametrize("path", ["/admin/regulation/commitment/", "/admin/regulation/milestone/"])
def test_the_lists_fit_1280px_with_status_verification_and_sources_in_view(
    page: Page, staff: Login, path: str
):
    log_in(page, staff.username, staff.password)
    page.goto(path)
    assert sideways_overflow(page) == 0
    width = page.viewport_size["width"]
    for column in DECIDING_COLUMNS:
        header = page.locator(f"#result_list thead th.column-{column}")
        box = header.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, column
    # The table itself does not scroll inside its box either.
    assert page.locator("#changelist .results").evaluate("e => e.scrollWidth <= e.clientWidth")


LONG_TITLE = (
    "Ofcom publishes its statement on the additional safety measures for user-to-user "
    "services, including livestreaming protections for children, proactive technology to "
    "detect grooming and terrorism content, and crisis response protocols for services "
    "whose features are used to spread illegal content quickly during a major incident"
)


def test_a_long_title_does_not_run_under_the_page_s_buttons(page: Page, staff: Login, query):
    milestone = query(lambda: Milestone.objects.create(title=LONG_TITLE, date=dt.date(2026, 12, 1)))
    try:
        log_in(page, staff.username, staff.password)
        page.goto(f"/admin/regulation/milestone/{milestone.pk}/change/")
        overlaps = page.evaluate(
            """() => {
                const tools = [...document.querySelectorAll('.object-tools a')]
                    .map(a => a.getBoundingClientRect());
                const range = document.createRange();
                const hits = [];
                for (const heading of document.querySelectorAll('#content h1, #content h2')) {
                    range.selectNodeContents(heading);
                    for (const line of range.getClientRects()) {
                        for (const tool of tools) {
                            if (line.left < tool.right && tool.left < line.right &&
                                line.top < tool.bottom && tool.top < line.bottom) {
                                hits.push(heading.textContent.slice(0, 40));
                            }
                        }
                    }
                }
                return hits;
            }"""
        )
        assert page.locator(".object-tools a").count() >= 1
        assert overlaps == []
        assert sideways_overflow(page) == 0
        # The title field shows the whole title on several lines.
        assert page.locator("textarea#id_title").input_value() == LONG_TITLE
    finally:
        query(lambda: Milestone.objects.filter(pk=milestone.pk).delete())
