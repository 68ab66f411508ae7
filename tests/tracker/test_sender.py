"""The sender, against a real SMTP server (aiosmtpd): one e-mail per subscriber per batch, with
its links, headers and calendar file; retries for a server that is away, failures for refusals."""

import datetime as dt
import re
import time

import pytest
import time_machine
from django.core.mail.message import sanitize_address
from django.db import connection
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_source
from tests.regulation.test_admin import milestone_form
from tests.tracker.reminders import (
    SinkHandler,
    SmtpServer,
    london,
    make_day_exact_milestone,
    make_subscriber,
    subscribe,
)
from tracker import sender
from tracker.links import (
    _link,
    absolute,
    read_manage_token,
    read_unsubscribe_token,
    unsubscribe_token,
    unsubscribe_url,
)
from tracker.models import Reminder, ReminderState, Subscriber
from tracker.planner import plan
from tracker.sender import build_message, due_reminders, message_bytes, send_batch

pytestmark = pytest.mark.django_db

DEADLINE = dt.date(2027, 3, 17)
DUE = london(2027, 3, 10, 9, 5)  # seven days before, after the send hour


def states() -> list[str]:
    return sorted(Reminder.objects.values_list("state", flat=True))


def body(message, content_type: str) -> str:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part.get_payload(decode=True).decode()
    raise AssertionError(f"no {content_type} part")


def test_the_email_names_the_date_links_the_milestone_and_its_sources_and_can_unsubscribe(
    smtp_server, settings
):
    settings.SITE_URL = "https://tracker.example.org"
    source = make_source(title="Ofcom statement on illegal harms", url="https://ofcom.example/s")
    milestone = make_day_exact_milestone(
        date=DEADLINE, title="Illegal content duties in force", sources=[source]
    )
    subscriber = make_subscriber(email_address="parent@example.org")
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=DUE)

    result = send_batch([subscriber.pk], at=DUE)

    assert (result.sent, result.reminders) == (1, 1)
    assert states() == [ReminderState.SENT]
    [message] = smtp_server.handler.to("parent@example.org")
    assert message["Subject"] == "In 7 days: Illegal content duties in force"
    milestone_url = f"https://tracker.example.org{milestone.get_absolute_url()}"
    unsubscribe = str(message["List-Unsubscribe"]).strip()  # unfolded
    assert unsubscribe.startswith("<https://tracker.example.org/reminders/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = body(message, "text/plain"), body(message, "text/html")
    for part in (text, html):
        assert "17 March 2027" in part
        assert milestone_url in part
        assert "https://ofcom.example/s" in part
        assert unsubscribe.strip("<>") in part
    ics = body(message, "text/calendar")
    assert "DTSTART;VALUE=DATE:20270317\r\n" in ics
    assert "SUMMARY:Illegal content duties in force\r\n" in ics


def test_a_subscribers_due_reminders_come_in_one_email_and_a_batch_uses_one_connection(
    smtp_server,
):
    first = make_day_exact_milestone(date=DEADLINE)
    second = make_day_exact_milestone(date=DEADLINE)
    readers = [make_subscriber() for _ in range(3)]
    for reader in readers:
        subscribe(reader, lead_days=[7])  # everything: both milestones
    plan(at=DUE)

    result = send_batch([r.pk for r in readers], at=DUE)

    assert (result.sent, result.reminders) == (3, 6)
    assert sorted(r.envelope_to[0] for r in smtp_server.received) == sorted(
        r.email for r in readers
    )
    assert len({r.peer for r in smtp_server.received}) == 1
    message = smtp_server.received[0].message
    assert message["Subject"] == "2 dates you watch on the Online Safety Act tracker"
    assert first.title in body(message, "text/plain")
    assert second.title in body(message, "text/plain")


def test_a_second_sender_given_the_same_subscriber_sends_nothing(smtp_server):
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscriber = make_subscriber()
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=DUE)

    send_batch([subscriber.pk], at=DUE)
    again = send_batch([subscriber.pk], at=DUE)

    assert again.sent == 0
    assert len(smtp_server.received) == 1


def test_while_the_mail_server_is_down_nothing_is_lost_and_it_goes_out_when_it_is_back(
    smtp_server,
):
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscriber = make_subscriber()
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    smtp_server.stop()

    down = send_batch([subscriber.pk], at=DUE)
    assert down.sent == 0
    assert states() == [ReminderState.PENDING]

    smtp_server.start()
    back = send_batch([subscriber.pk], at=DUE + dt.timedelta(minutes=5))
    assert back.sent == 1
    assert states() == [ReminderState.SENT]
    assert len(smtp_server.received) == 1


def test_a_temporary_refusal_is_retried_after_a_backoff(smtp_server, settings):
    settings.REMINDER_RETRY_SECONDS = 60
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscriber = make_subscriber(email_address="busy@example.org")
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    smtp_server.handler.refuse["busy@example.org"] = "451 4.3.2 Try again later"

    send_batch([subscriber.pk], at=DUE)
    row = Reminder.objects.get()
    assert (row.state, row.attempts) == (ReminderState.PENDING, 1)
    assert "451" in row.last_error
    # Jitter keeps the first wait between half and one and a half times the base.
    assert DUE + dt.timedelta(seconds=30) <= row.not_before <= DUE + dt.timedelta(seconds=90)

    del smtp_server.handler.refuse["busy@example.org"]
    assert send_batch([subscriber.pk], at=DUE + dt.timedelta(seconds=20)).sent == 0
    assert send_batch([subscriber.pk], at=DUE + dt.timedelta(seconds=91)).sent == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (ReminderState.SENT, 2, "")


def test_a_permanent_refusal_marks_the_reminder_failed_and_the_batch_goes_on(smtp_server):
    milestone = make_day_exact_milestone(date=DEADLINE)
    gone, fine = make_subscriber(email_address="gone@example.org"), make_subscriber()
    subscribe(gone, milestone=milestone, lead_days=[7])
    subscribe(fine, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    smtp_server.handler.refuse["gone@example.org"] = "550 5.1.1 No such user"

    result = send_batch([gone.pk, fine.pk], at=DUE)

    assert (result.sent, result.failed) == (1, 1)
    failed = Reminder.objects.get(subscription__subscriber=gone)
    assert failed.state == ReminderState.FAILED
    assert "550" in failed.last_error
    assert [r.envelope_to for r in smtp_server.received] == [[fine.email]]


def test_rows_left_in_sending_by_a_dead_sender_go_back_to_pending_after_the_lease(
    smtp_server, settings
):
    settings.REMINDER_LEASE_SECONDS = 600
    milestone = make_day_exact_milestone(date=DEADLINE)
    subscriber = make_subscriber()
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    Reminder.objects.update(state=ReminderState.SENDING, claimed_at=DUE)  # the sender died here

    assert plan(at=DUE + dt.timedelta(minutes=9)).released == 0
    assert states() == [ReminderState.SENDING]
    assert plan(at=DUE + dt.timedelta(minutes=11)).released == 1
    assert send_batch([subscriber.pk], at=DUE + dt.timedelta(minutes=11)).sent == 1


def test_the_unsubscribe_link_works_by_post_without_cookie_or_csrf_token_and_twice(client):
    from django.test import Client

    from tracker.links import unsubscribe_token

    milestone = make_day_exact_milestone(date=DEADLINE)
    subscriber = make_subscriber()
    subscribe(subscriber, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    url = reverse("reminders:unsubscribe", args=[unsubscribe_token(subscriber)])
    mail_client = Client(enforce_csrf_checks=True)

    form = mail_client.get(url)
    first = mail_client.post(url, {"List-Unsubscribe": "One-Click"})
    second = mail_client.post(url, {"List-Unsubscribe": "One-Click"})

    assert form.status_code == 200
    assert b'<form method="post"' in form.content
    assert (first.status_code, second.status_code) == (200, 200)
    assert b"Reminders stopped" in second.content
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is not None
    assert states() == [ReminderState.CANCELLED]


def test_a_forged_unsubscribe_link_changes_nothing(client):
    subscriber = make_subscriber()
    url = reverse("reminders:unsubscribe", args=[f"[{subscriber.pk}, 'x']:forged"])

    response = client.post(url)

    assert response.status_code == 404
    subscriber.refresh_from_db()
    assert subscriber.unsubscribed_at is None


def token_in(text: str, name: str) -> str:
    """The token of the link to `name` in an e-mail's text."""
    stand_in = "token-stand-in"
    before, after = absolute(reverse(name, args=[stand_in])).split(stand_in)
    match = re.search(re.escape(before) + r"([A-Za-z0-9_:-]+)" + re.escape(after), text)
    assert match, f"no link to {name}"
    return match.group(1)


def same_apart_from_date_and_boundary(raw: bytes) -> bytes:
    """A flattened e-mail without what differs each time it is flattened."""
    raw = re.sub(rb"\r\nDate: [^\r]+\r\n", b"\r\nDate: (date)\r\n", raw)
    return re.sub(rb"={15}\d+==", b"(boundary)", raw)


def test_the_bytes_sent_are_the_bytes_djangos_email_classes_give_for_every_subscriber(settings):
    settings.SITE_URL = "https://tracker.example.org"
    source = make_source(
        title="Ofcom statement, with a comma", url="https://ofcom.example/s?a=1&b=2"
    )
    first = make_day_exact_milestone(date=DEADLINE, title="Duties <in> force", sources=[source])
    second = make_day_exact_milestone(date=DEADLINE, title="Codes “in” force")
    readers = [
        make_subscriber(email_address="parent@example.org"),
        make_subscriber(email_address="a.much.longer+tag@sub.domain.example.org"),
        make_subscriber(email_address="élève@example.org"),  # not plain ASCII: the long way
    ]
    for reader in readers:
        subscribe(reader, milestone=first, lead_days=[7])
    subscribe(readers[0], milestone=second, lead_days=[7])  # another content for the first
    plan(at=DUE)
    due = due_reminders([r.pk for r in readers], at=DUE)

    rendered: dict = {}
    # The clock stands still: the signed links carry the second they were signed in.
    with time_machine.travel(DUE, tick=False):
        for reader in readers * 2:  # the second time round, from the batch's renderings
            reminders = due[reader.pk]
            fast, recipient = message_bytes(reader, reminders, at=DUE, rendered=rendered)
            assert recipient == sanitize_address(reader.email, "utf-8")
            built = build_message(reader, reminders, at=DUE).message().as_bytes(linesep="\r\n")
            assert same_apart_from_date_and_boundary(fast) == same_apart_from_date_and_boundary(
                built
            )
            assert reader.email.encode() in fast or b"=?utf-8?" in fast
            assert unsubscribe_url(reader).encode() in fast
            assert re.search(rb"\r\nDate: [^\r]+\r\n", fast)
    assert len(rendered) == 2  # two contents: two milestones, and the second alone
    token = unsubscribe_token(readers[0])  # the links as reverse() gives them
    for name in ("reminders:unsubscribe", "reminders:manage"):
        assert _link(name, token) == absolute(reverse(name, args=[token]))
    assert all(content.raw for content in rendered.values())  # flattened once, not the long way


def test_a_batch_renders_each_distinct_content_once(smtp_server):
    milestone = make_day_exact_milestone(date=DEADLINE)
    readers = [make_subscriber() for _ in range(4)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    renders = []
    template_rendered.connect(receiver := lambda sender, **kwargs: renders.append(sender.name))
    try:
        result = send_batch([r.pk for r in readers], at=DUE)
    finally:
        template_rendered.disconnect(receiver)

    assert result.sent == 4
    assert sorted(renders) == ["tracker/email/reminders.html", "tracker/email/reminders.txt"]
    links = set()
    for reader in readers:
        [message] = smtp_server.handler.to(reader.email)
        assert message["To"] == reader.email
        links.add(str(message["List-Unsubscribe"]).strip())
        # The links carry the second they were signed in: read them back rather than rebuild them.
        token = token_in(body(message, "text/plain"), "reminders:unsubscribe")
        assert read_unsubscribe_token(token) == (reader.pk, reader.email)
        token = token_in(body(message, "text/html"), "reminders:manage")
        assert read_manage_token(token) == (reader.pk, reader.email)
    assert len(links) == 4  # each subscriber's own link


class DropsConnection(SinkHandler):
    """Closes the connection, without an answer, when asked to take a message for `address`."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.address:
            server.transport.close()
            return "421 4.4.2 Closing"  # never reaches the client
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_a_connection_lost_mid_batch_puts_the_subscribers_not_reached_back_at_once(
    smtp_server, settings
):
    settings.REMINDER_LEASE_SECONDS = 600
    milestone = make_day_exact_milestone(date=DEADLINE)
    readers = [make_subscriber() for _ in range(4)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    smtp_server.handler = DropsConnection(readers[1].email)
    smtp_server.stop()
    smtp_server.start()

    result = send_batch([r.pk for r in readers], at=DUE)

    assert result.sent == 1
    by_reader = {
        row.subscription.subscriber_id: row
        for row in Reminder.objects.select_related("subscription")
    }
    assert by_reader[readers[0].pk].state == ReminderState.SENT
    cut = by_reader[readers[1].pk]  # its conversation was cut: an attempt, and a backoff
    assert (cut.state, cut.attempts, cut.claim) == (ReminderState.PENDING, 1, None)
    assert cut.not_before > DUE
    for reader in readers[2:]:  # never started: back to pending as they were, not left claimed
        row = by_reader[reader.pk]
        assert (row.state, row.attempts, row.claim, row.claimed_at, row.not_before) == (
            ReminderState.PENDING,
            0,
            None,
            None,
            None,
        )
    # So the next planner run, well within the lease, queues them again and they go out.
    smtp_server.handler = SinkHandler()
    smtp_server.stop()
    smtp_server.start()
    again = plan(at=DUE + dt.timedelta(minutes=1))
    assert (again.released, again.batches) == (0, 1)
    assert send_batch([r.pk for r in readers[2:]], at=DUE + dt.timedelta(minutes=1)).sent == 2
    assert sorted(r.envelope_to[0] for r in smtp_server.received) == sorted(
        r.email for r in readers[2:]
    )


def test_a_subscriber_who_left_after_planning_is_not_claimed_or_sent(smtp_server):
    milestone = make_day_exact_milestone(date=DEADLINE)
    staying, leaving = make_subscriber(), make_subscriber()
    subscribe(staying, milestone=milestone, lead_days=[7])
    subscribe(leaving, milestone=milestone, lead_days=[7])
    plan(at=DUE)
    # Gone between planning and sending, before any planner run could cancel the row.
    Subscriber.objects.filter(pk=leaving.pk).update(unsubscribed_at=DUE)

    result = send_batch([staying.pk, leaving.pk], at=DUE)

    assert result.sent == 1
    assert [r.envelope_to for r in smtp_server.received] == [[staying.email]]
    left = Reminder.objects.get(subscription__subscriber=leaving)
    assert (left.state, left.claim) == (ReminderState.PENDING, None)


def test_a_batch_takes_one_query_per_email_beyond_a_fixed_few(smtp_server):
    milestone = make_day_exact_milestone(date=DEADLINE)
    readers = [make_subscriber() for _ in range(9)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[7])
    plan(at=DUE)

    def queries(batch) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert send_batch([r.pk for r in batch], at=DUE).sent == len(batch)
        return len(captured)

    few, more = queries(readers[:3]), queries(readers[3:])
    assert more - few == 3  # six e-mails against three: one statement (the mark) each
    assert few - 3 <= 8  # the claim, the read and the settings for quick commits


def test_each_email_is_marked_sent_before_the_server_is_given_the_next(settings, monkeypatch):
    """The postman overlaps the next e-mail's envelope with the last one's mark, but never its
    DATA: a crash can leave at most one e-mail sent and not marked."""
    events: list[tuple[str, str]] = []

    class NotingHandler(SinkHandler):
        async def handle_DATA(self, server, session, envelope):
            events.append(("taken by the server", envelope.rcpt_tos[0]))
            return await super().handle_DATA(server, session, envelope)

    real_mark_sent = sender.mark_sent

    def noting_mark_sent(token, reminders, *, at):
        # A slow database: time enough for the next e-mail's DATA, were it not held back.
        time.sleep(0.2)
        marked = real_mark_sent(token, reminders, at=at)
        events.append(("marked sent", reminders[0].subscription.subscriber.email))
        return marked

    monkeypatch.setattr(sender, "mark_sent", noting_mark_sent)
    server = SmtpServer(NotingHandler())
    server.start()
    try:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        make_day_exact_milestone(date=DEADLINE)
        readers = [make_subscriber() for _ in range(4)]
        for reader in readers:
            subscribe(reader, lead_days=[7])
        plan(at=DUE)

        result = send_batch([r.pk for r in readers], at=DUE)
    finally:
        server.stop()

    assert result.sent == 4
    assert events == [
        (step, reader.email)
        for reader in readers
        for step in ("taken by the server", "marked sent")
    ]
    assert states() == [ReminderState.SENT] * 4


def test_a_title_typed_over_two_lines_in_the_admin_reaches_its_watchers_as_one_line(
    smtp_server, editor_client
):
    milestone = make_day_exact_milestone(date=DEADLINE, title="Ofcom deadline")
    url = reverse("admin:regulation_milestone_change", args=[milestone.pk])
    sources = [source.pk for source in milestone.sources.all()]
    typed = milestone_form(milestone, title="Ofcom deadline\r\nfor services", sources=sources)
    assert editor_client.post(url, typed).status_code == 302
    readers = [make_subscriber() for _ in range(3)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[7])
    plan(at=DUE)

    result = send_batch([reader.pk for reader in readers], at=DUE)

    assert result.sent == 3
    subjects = {r.message["Subject"] for r in smtp_server.received}
    assert subjects == {"In 7 days: Ofcom deadline for services"}


def test_an_email_that_cannot_be_made_delays_none_of_the_others_in_its_batch(smtp_server, settings):
    settings.REMINDER_RETRY_SECONDS = 60
    settings.REMINDER_MAX_ATTEMPTS = 2
    milestone = make_day_exact_milestone(date=DEADLINE)
    readers = [make_subscriber() for _ in range(50)]
    for reader in readers:
        subscribe(reader, milestone=milestone, lead_days=[7])
    poisoned = readers[10]
    # Written past every form's validation: an address no e-mail header can carry.
    Subscriber.objects.filter(pk=poisoned.pk).update(email="reader\r\nBcc: all@example.org")
    plan(at=DUE)

    result = send_batch([reader.pk for reader in readers], at=DUE)

    assert (result.sent, result.retrying) == (49, 1)
    others = sorted(reader.email for reader in readers if reader != poisoned)
    assert sorted(r.envelope_to[0] for r in smtp_server.received) == others
    row = Reminder.objects.get(subscription__subscriber=poisoned)
    assert (row.state, row.attempts) == (ReminderState.PENDING, 1)
    assert "newlines" in row.last_error
    assert DUE + dt.timedelta(seconds=30) <= row.not_before <= DUE + dt.timedelta(seconds=90)
    # Retried after its backoff, then failed for good: never queued again and again.
    assert send_batch([poisoned.pk], at=DUE + dt.timedelta(seconds=91)).failed == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == (ReminderState.FAILED, 2)
    assert Reminder.objects.claimable(at=DUE + dt.timedelta(days=1)).count() == 0
