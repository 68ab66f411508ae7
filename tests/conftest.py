"""Shared fixtures: named personas, the seed, and the suite's clock (--clock-start)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import caches
from django.db import transaction
from time_machine import TimeMachineFixture

from regulation.seed import SeedReport, load_seed
from tests.clocked import start_suite_clock

SUITE_CLOCK = pytest.StashKey()
# The moment `clock` pins: a Sunday noon in London, after the seed's latest fact (29 November).
PINNED_NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("Europe/London"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-start",
        metavar="DATE",
        help="run every test as if this day (YYYY-MM-DD, noon UTC) or moment had come; "
        "`make test-future` uses it to find tests that pass only near the day they were written",
    )


def pytest_configure(config: pytest.Config) -> None:
    start = config.getoption("--clock-start")
    if start:
        config.stash[SUITE_CLOCK] = start_suite_clock(start)


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(SUITE_CLOCK, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    start = config.getoption("--clock-start")
    return f"suite clock: moved to {start}" if start else None


@pytest.fixture(autouse=True)
def no_kept_api_answers():
    """No test is answered from an API answer kept by another: two tests' data can have the
    same version (the same clock, the same number of changes) and still differ."""
    caches["api"].clear()


@pytest.fixture
def clock(time_machine: TimeMachineFixture) -> TimeMachineFixture:
    """ "Now" pinned at PINNED_NOW and standing still until the test moves it
    (`clock.move_to(moment)`, `clock.shift(timedelta)`). Ask for it first, before any fixture
    that makes records, wherever a test makes records for an assertion about time: everything
    the test makes is then made inside its pinned time, so the assertion holds on any real day
    (and under `make test-future`), not only near the day the test was written."""
    time_machine.move_to(PINNED_NOW, tick=False)
    return time_machine


@pytest.fixture
def editor(db) -> User:
    """Advocacy staff who may add, change and publish knowledge records in the admin."""
    user = User.objects.create_user(
        "editor", "editor@example.org", "a-long-test-password", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="regulation"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> SeedReport:
    """The real seed data, loaded once per test module; each test runs inside it and the whole
    module's changes are rolled back at its end. For tests that only read the seed."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_seed()
        transaction.set_rollback(True)
