"""What the browser tests check on a page: accessibility (axe-core), width, screenshots."""

from dataclasses import dataclass
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

# axe-core as the axe-playwright-python package ships it (axe.min.js inside the wheel), so no
# npm step is needed. The package evaluates it with page.evaluate, through the DevTools
# protocol, which the page's Content-Security-Policy does not govern (a <script> tag added with
# add_script_tag would be refused by `script-src 'self'`). So the browser context needs no
# bypass_csp, and the pages are checked under the CSP they really send.
_AXE = Axe()
# The public site: every rule axe-core runs by default, WCAG 2.0, 2.1 and 2.2 at A and AA and
# its best practices (one main landmark, a level-one heading, ...), which a reader notices.
ALL_RULES = {"resultTypes": ["violations"]}
# Pages the project does not write itself (Django's admin): the WCAG 2.2 A and AA rules only.
WCAG_22_AA = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
}


@dataclass(frozen=True)
class Violation:
    """One axe-core rule a page breaks, with the elements that break it."""

    rule: str
    impact: str
    help: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        elements = "\n".join(f"    {node}" for node in self.nodes)
        return f"{self.rule} ({self.impact}): {self.help}\n{elements}"


def axe_violations(page: Page, rules: dict = ALL_RULES) -> list[Violation]:
    """Run axe-core on the page as it is now; an accessible page gives []."""
    results = _AXE.run(page, options=rules).response
    return [
        Violation(
            rule=violation["id"],
            impact=violation["impact"] or "unknown",
            help=violation["help"],
            nodes=tuple(
                f"{' '.join(node['target'])}: {node['html']}" for node in violation["nodes"]
            ),
        )
        for violation in results["violations"]
    ]


def describe(violations: list[Violation]) -> str:
    """A readable assertion message: each broken rule and the elements that break it."""
    return f"{len(violations)} axe-core violation(s):\n" + "\n".join(map(str, violations))


def sideways_overflow(page: Page) -> int:
    """How far the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def save_screenshot(page: Page, folder: Path, name: str) -> Path:
    """Save the whole page as folder/name.png and return the file."""
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def log_in(page: Page, username: str, password: str) -> None:
    """Sign in to the admin through its own login form, as a member of staff does."""
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
