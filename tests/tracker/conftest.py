from collections.abc import Iterator

import pytest

from tests.tracker.reminders import SmtpServer


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) the project's e-mail settings point at."""
    server = SmtpServer()
    server.start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.stop()
