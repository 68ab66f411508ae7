"""Fixtures of the real-browser tests: the site served by gunicorn as `make run` serves it, on the
test database with the seed committed, and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches the Chromium that `make browsers`
installs (CHROMIUM, /usr/bin/chromium by default). Without it the tests fail and say so: a
missing browser must not pass as a skipped suite.
"""

import importlib
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.test.utils import setup_databases, teardown_databases
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from regulation.seed import load_seed
from tests.clocked import python_module

T = TypeVar("T")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Flags for a headless browser in a container with no display, no GPU and a small /dev/shm,
# that must not reach the network for updates, sync or its first-run pages.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
SERVER_START_SECONDS = 30


@dataclass(frozen=True)
class Login:
    username: str
    password: str


# A member of staff who may add, change and publish knowledge records (see `staff`).
STAFF = Login("e2e-staff", "a-long-browser-test-password")
# Members of the groups the data migration creates (see `contributor` and `editor`).
CONTRIBUTOR = Login("e2e-contributor", "a-long-contributor-test-password")
EDITOR = Login("e2e-editor", "a-long-editor-test-password")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/e2e/ is marked e2e (`-m "not e2e"` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


# The folder this run saved artefacts in, named at the end of the run.
_artefacts_used: list[Path] = []


@pytest.fixture(scope="session")
def artefacts_dir() -> Path:
    """Where screenshots and the server's log go: E2E_ARTEFACTS, or var/test-artefacts."""
    folder = Path(os.environ.get("E2E_ARTEFACTS", settings.BASE_DIR / "var" / "test-artefacts"))
    folder.mkdir(parents=True, exist_ok=True)
    _artefacts_used.append(folder.resolve())
    return folder


def _database_url() -> str:
    """The test database as a URL another process can open (pytest-django renamed it)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if connection.is_in_memory_db():
            pytest.fail(
                "The browser tests serve the site from another process, which cannot see an "
                "in-memory SQLite test database: run them on PostgreSQL (TEST_DATABASE_URL)."
            )
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}; its log: {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; what it answers is for the tests to judge
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer at {url} within {SERVER_START_SECONDS} s; log: {log}")


# Every database call of the browser tests runs in this one thread (see off_the_event_loop).
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-tests-db")


def off_the_event_loop(function: Callable[[], T]) -> T:
    """Run a database function in the browser tests' database thread and return its result.

    Playwright's sync API runs an asyncio loop in the test's thread, where Django refuses
    database work (SynchronousOnlyOperation). One thread for all of it, because Django's
    connection (and what setup_databases returns) belongs to the thread that opened it.
    """
    return _database_thread.submit(function).result()


@dataclass(frozen=True)
class LiveSite:
    url: str


@pytest.fixture(scope="session")
def browser_database(
    django_db_setup, django_db_blocker, django_db_keepdb: bool, django_db_createdb: bool
) -> Iterator[str]:
    """The test database's URL. pytest-django creates it only when a collected test asks for
    `db`; browser tests use it from the server's process instead, so when they run alone they
    create it here (and drop it afterwards, as pytest-django would)."""
    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        created = off_the_event_loop(lambda: _create_test_database(keepdb))
        url = off_the_event_loop(_database_url)
    yield url
    with django_db_blocker.unblock():
        # The test database can only be dropped once no connection is open on it.
        off_the_event_loop(connections.close_all)
        if created is not None:
            off_the_event_loop(lambda: teardown_databases(created, verbosity=0, keepdb=keepdb))


def _create_test_database(keepdb: bool) -> list | None:
    """Set up the test database unless pytest-django has; what teardown_databases needs."""
    if _is_test_database():
        return None
    return setup_databases(
        verbosity=0, interactive=False, aliases={DEFAULT_DB_ALIAS}, keepdb=keepdb
    )


def _is_test_database() -> bool:
    test_name = connection.settings_dict["TEST"].get("NAME") or (
        TEST_DATABASE_PREFIX + connection.settings_dict["NAME"]
    )
    return connection.settings_dict["NAME"] == test_name


@pytest.fixture(scope="session")
def live_site(browser_database: str, django_db_blocker, artefacts_dir: Path) -> Iterator[LiveSite]:
    """The site on gunicorn in its own process, as `make run` serves it: DEBUG off, static files
    collected and served by whitenoise, the real CSP; plain http on 127.0.0.1, so without the
    https redirect and secure-only cookies, as in `make run`. It reads the test database, so it
    sees only committed data (see `site_data`)."""
    # Pages link static files by their manifest names: the server needs them collected.
    call_command("collectstatic", interactive=False, verbosity=0)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": browser_database,
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "browser-test-only-secret-key"),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_COOKIES": "false",
    }
    log = artefacts_dir / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [*python_module("gunicorn", "tracker.wsgi"), "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--access-logfile", "-", "--no-control-socket"],
            cwd=settings.BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url + "/", server, log)
        yield LiveSite(url=url)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def site_data(
    live_site: LiveSite, django_db_blocker, django_db_keepdb: bool, django_db_createdb: bool
) -> Iterator[None]:
    """The seed and a staff login, committed so the server's process sees them. Browser tests
    ask for no `db`, so pytest-django runs them after every database test, and the committed
    data is in no other test's way; the test database is dropped at the end of the run, or
    emptied when it is kept (--reuse-db). Tests that change data must leave the seed as they
    found it or make records of their own."""
    with django_db_blocker.unblock():
        off_the_event_loop(_load_seed_and_staff)
    yield
    if django_db_keepdb and not django_db_createdb:
        with django_db_blocker.unblock():
            off_the_event_loop(lambda: call_command("flush", interactive=False, verbosity=0))


def _load_seed_and_staff() -> None:
    load_seed(applied_by="browser tests")
    staff = User.objects.create_user(STAFF.username, password=STAFF.password, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="regulation"))
    contributor_group, editor_group = _roles()
    for login, group in ((CONTRIBUTOR, contributor_group), (EDITOR, editor_group)):
        user = User.objects.create_user(login.username, password=login.password, is_staff=True)
        user.groups.add(group)


def _roles() -> tuple[Group, Group]:
    """The Contributor and Editor groups as the data migration made them. A transactional test
    earlier in the run empties every table, groups included (the browser tests run last): then
    they are made again from the migration's own list of a contributor's permissions."""
    roles = importlib.import_module("regulation.migrations.0013_contributor_and_editor_groups")
    knowledge = Permission.objects.filter(content_type__app_label="regulation")
    contributor, created = Group.objects.get_or_create(name="Contributor")
    if created:
        contributor.permissions.set(knowledge.filter(codename__in=roles.CONTRIBUTOR))
    editor, created = Group.objects.get_or_create(name="Editor")
    if created:
        editor.permissions.set(knowledge)
    return contributor, editor


@pytest.fixture
def staff(site_data) -> Login:
    """The login of a member of staff with every permission on the knowledge records."""
    return STAFF


@pytest.fixture
def contributor_login(site_data) -> Login:
    """The login of a member of the Contributor group: drafts, sources, no publishing."""
    return CONTRIBUTOR


@pytest.fixture
def editor_login(site_data) -> Login:
    """The login of a member of the Editor group: publishes what contributors submit."""
    return EDITOR


@pytest.fixture
def query(django_db_blocker) -> Callable[[Callable[[], T]], T]:
    """Run a function against the database from a browser test, e.g. to find a page's address."""

    def run(function: Callable[[], T]) -> T:
        with django_db_blocker.unblock():
            return off_the_event_loop(function)

    return run


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: the browser tests need Debian's chromium. "
            "`make browsers` installs it (`make test` does this first); CHROMIUM names another."
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_errors() -> list[str]:
    """What the page wrote to the console as an error (a CSP refusal, a failed load, ...)."""
    return []


@pytest.fixture
def page(browser: Browser, live_site: LiveSite, site_data, browser_errors) -> Iterator[Page]:
    """A fresh page on the live site (its own cookies), at desktop size, CSP enforced."""
    context = browser.new_context(base_url=live_site.url, viewport=DESKTOP)
    page = context.new_page()
    page.on("console", lambda message: _keep_error(browser_errors, message))
    page.on("pageerror", lambda error: browser_errors.append(str(error)))
    yield page
    context.close()


# Chromium asks every site for /favicon.ico of its own accord; a page's own icon link is checked
# like any other resource.
_BROWSERS_OWN_REQUESTS = ("/favicon.ico",)


def _keep_error(errors: list[str], message) -> None:
    url = message.location.get("url", "")
    if message.type == "error" and not url.endswith(_BROWSERS_OWN_REQUESTS):
        errors.append(f"{message.text} ({url})")


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for folder in _artefacts_used:
        terminalreporter.write_line(f"Browser test screenshots and server log: {folder}")
