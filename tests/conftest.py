"""Shared fixtures: named personas and a pinned clock."""

import pytest
from django.contrib.auth.models import Permission, User


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
