"""API personas: an anonymous client, and clients holding tokens of users with and without
the permissions a write needs."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def generous_throttles(settings):
    """Tests make many requests from one address: throttling has its own tests."""
    settings.API_THROTTLE_RATES = {"anonymous": "100000/minute", "token": "100000/minute"}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def token_client(user: User, expiry: dt.timedelta | None = dt.timedelta(days=1)) -> APIClient:
    _, token = AuthToken.objects.create(user, expiry=expiry)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.token = token
    return client


@pytest.fixture
def staff_api(editor) -> APIClient:
    """An editor's token: staff, with every permission on the knowledge."""
    return token_client(editor)


@pytest.fixture
def visitor(db) -> User:
    """A signed-up user with no permissions."""
    return User.objects.create_user("visitor", "visitor@example.org", "a-long-test-password")


@pytest.fixture
def visitor_api(visitor) -> APIClient:
    return token_client(visitor)


def grant(user: User, *codenames: str) -> User:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per object
