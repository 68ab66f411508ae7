"""Helpers for the reminder tests: subscribers, subscriptions and a real SMTP server."""

import datetime as dt
import email
import email.policy
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from itertools import count
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from regulation.models import Milestone, Verification
from tests.factories import make_milestone
from tracker.models import DEFAULT_LEAD_DAYS, Subscriber, Subscription

LONDON = ZoneInfo("Europe/London")
CONFIRMED_AT = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
_numbers = count(1)


def london(*args: int) -> dt.datetime:
    """A moment given in local time in London (BST or GMT, whichever applies then)."""
    return dt.datetime(*args, tzinfo=LONDON)


def make_day_exact_milestone(**fields) -> Milestone:
    """A published milestone a cited source confirms to the day: day-exact reminders apply."""
    return make_milestone(**{"verification": Verification.CONFIRMED, **fields})


def make_subscriber(*, confirmed: bool = True, email_address: str = "") -> Subscriber:
    return Subscriber.objects.create(
        email=email_address or f"reader{next(_numbers)}@example.org",
        confirmed_at=CONFIRMED_AT if confirmed else None,
    )


def subscribe(
    subscriber: Subscriber | None = None, lead_days: Iterable[int] = DEFAULT_LEAD_DAYS, **target
) -> Subscription:
    """A subscription to `target` (milestone=, platform=, ...; nothing for everything),
    confirmed when its subscriber is."""
    subscriber = subscriber or make_subscriber()
    subscription = Subscription.objects.create(
        subscriber=subscriber, confirmed_at=subscriber.confirmed_at, **target
    )
    subscription.set_lead_days(list(lead_days))
    return subscription


@dataclass
class Received:
    envelope_to: list[str]
    message: Message
    peer: tuple


@dataclass
class SinkHandler:
    """Keeps every message the server accepts. `refuse` maps an address to the SMTP answer
    given at RCPT TO (e.g. "550 5.1.1 No such user")."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), message, session.peer))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [r.message for r in self.received if address in r.envelope_to]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd in a thread on a port of its own; stop() and start() simulate an outage."""

    def __init__(self, handler: SinkHandler | None = None) -> None:
        self.handler = handler or SinkHandler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def settings(self) -> dict[str, object]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_TIMEOUT": 5,
        }
