"""The admin login: locked out after repeated failures, per user and per address (django-axes),
and its session and CSRF cookies travel over https only in production."""

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
LOGIN = reverse("admin:login")


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("staff", "staff@example.org", PASSWORD, is_staff=True)


def log_in(username: str, password: str, address: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return client


def logged_in(client: Client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


def fail(times: int, username: str = "staff", address: str = "203.0.113.7") -> None:
    for _ in range(times):
        log_in(username, "wrong-password", address)


def test_the_right_password_logs_in(staff):
    assert logged_in(log_in("staff", PASSWORD))


def test_a_user_is_locked_out_after_repeated_failures_from_any_address(staff):
    # Each attempt from a different address: the lockout follows the user name.
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(1, address=f"198.51.100.{n + 1}")

    client = Client(REMOTE_ADDR="192.0.2.200")
    response = client.post(LOGIN, {"username": "staff", "password": PASSWORD})

    assert response.status_code == 429
    assert not logged_in(client)


def test_an_address_is_locked_out_after_repeated_failures_for_any_user(staff):
    for n in range(settings.AXES_FAILURE_LIMIT):
        fail(1, username=f"guess{n}", address="203.0.113.9")

    assert not logged_in(log_in("staff", PASSWORD, address="203.0.113.9"))
    assert logged_in(log_in("staff", PASSWORD, address="203.0.113.10"))


def test_fewer_failures_than_the_limit_do_not_lock_out(staff):
    fail(settings.AXES_FAILURE_LIMIT - 1)

    assert logged_in(log_in("staff", PASSWORD))


def test_axes_reset_lifts_a_lockout(staff):
    fail(settings.AXES_FAILURE_LIMIT)
    assert not logged_in(log_in("staff", PASSWORD))

    call_command("axes_reset", verbosity=0)

    assert logged_in(log_in("staff", PASSWORD))


def test_authenticate_needs_the_request_under_axes(staff):
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="203.0.113.7")

    assert authenticate(request=request, username="staff", password=PASSWORD) == staff


def test_the_session_and_csrf_cookies_are_secure_in_production(staff):
    # The tests run with production settings (DEBUG off); only the https redirect is off.
    client = Client(enforce_csrf_checks=True)
    page = client.get(LOGIN)
    token = page.cookies["csrftoken"]
    assert token["secure"]

    response = client.post(
        LOGIN,
        {"username": "staff", "password": PASSWORD, "csrfmiddlewaretoken": token.value},
    )

    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"]
    assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"]
