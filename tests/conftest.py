"""Shared fixtures: named personas and a pinned clock."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import caches
from django.db import transaction

from regulation.seed import SeedReport, load_seed


@pytest.fixture(autouse=True)
def no_kept_api_answers():
    """No test is answered from an API answer kept by another: two tests' data can have the
    same version (the same clock, the same number of changes) and still differ."""
    caches["api"].clear()


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
