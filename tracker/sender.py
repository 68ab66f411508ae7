"""The sender: claims a batch's due reminders, sends each subscriber's as one e-mail, records it.

Per batch: one conditional update moves the batch's claimable rows from pending to sending under
a claim of this run's own (two senders given the same subscribers: only one moves any row).
Then per subscriber: one e-mail goes out over the batch's one SMTP connection, and as soon as the
server has accepted it that subscriber's rows are marked sent. The e-mails are handed to a
postman thread (tracker/postman.py) so that the server's first round trips for the next e-mail
overlap that mark; its DATA waits until the mark is done. A crash between the server
accepting a message and that mark leaves those rows in sending until the lease runs out; they
are then sent again (see README, "What is guaranteed"). The rows of subscribers not reached yet
go back to pending when the batch stops early (a lost connection, an error), or after the
lease if the worker itself dies.
"""

import contextlib
import datetime as dt
import email.policy
import hashlib
import logging
import random
import re
import smtplib
import uuid
from dataclasses import dataclass
from email.utils import formatdate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import connection as db
from django.db.models import F, Prefetch, QuerySet
from django.template.loader import get_template
from django.utils.html import escape

from regulation.dates import Certainty, format_fuzzy
from regulation.models import (
    CommitmentUpdate,
    DateChange,
    DeliveryStatus,
    Platform,
    Source,
    local_day,
)
from tracker.ics import calendar
from tracker.links import absolute, manage_url, unsubscribe_url
from tracker.models import Reminder, ReminderKind, ReminderState, Subscriber
from tracker.postman import Parcel, Postman

logger = logging.getLogger(__name__)
LONGEST_WAIT = dt.timedelta(hours=6)


@dataclass
class BatchResult:
    sent: int = 0  # e-mails
    reminders: int = 0
    retrying: int = 0
    failed: int = 0

    def count(self, state: str, reminders: int) -> None:
        """One e-mail's outcome: its reminders' state."""
        if state == ReminderState.SENT:
            self.sent += 1
            self.reminders += reminders
        elif state == ReminderState.PENDING:
            self.retrying += reminders
        elif state == ReminderState.FAILED:
            self.failed += reminders


class ConnectionLost(Exception):
    """The SMTP connection is unusable: the rest of the batch waits for the next planner run."""


def is_permanent(error: Exception) -> bool:
    """A 5xx answer: sending the same message again would be refused again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff with jitter, so many failed rows do not all come back at once."""
    base = settings.REMINDER_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return min(dt.timedelta(seconds=base * random.uniform(0.5, 1.5)), LONGEST_WAIT)


def _with_what_they_show(rows) -> dict[int, list[Reminder]]:
    """These reminders with what their e-mails show, read in one go (a few queries for the
    whole batch, not per subscriber), by subscriber, each subscriber's in the e-mail's order.
    A milestone or commitment many reminders share is read, and made an object, once."""
    sources = Prefetch("milestone__sources", queryset=Source.objects.order_by("title"))
    platforms = Prefetch("commitment__platforms", queryset=Platform.objects.order_by("name"))
    rows = (
        rows.select_related(
            "subscription__subscriber",
            "date_change__source",
            "commitment_update__evidence",
        )
        .prefetch_related("milestone", sources, "commitment", platforms)
        .order_by(
            "milestone__date",
            "milestone_id",
            "-lead_days",
            "date_change__created_at",
            "commitment_id",
            "commitment_update__created_at",
        )
    )
    by_subscriber: dict[int, list[Reminder]] = {}
    for reminder in rows:
        by_subscriber.setdefault(reminder.subscription.subscriber_id, []).append(reminder)
    return by_subscriber


def due_reminders(subscriber_ids: list[int], *, at: dt.datetime) -> dict[int, list[Reminder]]:
    """The batch's claimable reminders with what their e-mails show, by subscriber. Reading
    claims nothing."""
    return _with_what_they_show(
        Reminder.objects.claimable(at=at).filter(subscription__subscriber_id__in=subscriber_ids)
    )


@contextlib.contextmanager
def quick_commits():
    """For the batch, commits that do not wait for PostgreSQL to flush its log to disk: each
    claim and mark is at once committed and seen by everyone, and survives a crash of this
    worker; only a crash of the database server itself within a fraction of a second of a
    commit could undo it (see README, "What is guaranteed"). Other databases commit as usual."""
    if db.vendor != "postgresql":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        # Back to the default for whatever this connection runs next (a connection already
        # broken has nothing left to reset).
        with contextlib.suppress(Exception), db.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def claim(subscriber_ids: list[int], *, at: dt.datetime) -> tuple[uuid.UUID, list[int]]:
    """Move these subscribers' claimable rows from pending to sending under a new claim, in one
    conditional update: each row only if it is still pending and still claimable (another
    sender, an unsubscribe or a moved date may have taken some since planning). Returns the
    claim and the ids of the rows it moved (none: another sender has them, or they are sent)."""
    token = uuid.uuid4()
    # First the ids of the subscribers' rows, whatever their state: the update then goes by
    # primary key, so the database plans it for a batch's few hundred rows however many other
    # rows are pending (statistics taken before the planner's last run can say almost none).
    ids = list(
        Reminder.objects.filter(subscription__subscriber_id__in=subscriber_ids)
        .order_by()
        .values_list("pk", flat=True)
    )
    if not ids:
        return token, []
    field = Reminder._meta.get_field
    table = db.ops.quote_name(Reminder._meta.db_table)
    subquery, subquery_params = (
        Reminder.objects.claimable(at=at).filter(pk__in=ids).order_by().values("pk").query
    ).sql_with_params()
    # The state is tested on the row being updated too: a row another sender moved while this
    # statement waited for it is checked again as it is now, and left alone.
    sql = (
        f"UPDATE {table} SET state = %s, claim = %s, claimed_at = %s, updated_at = %s "
        f"WHERE state = %s AND id IN ({subquery}) RETURNING id"
    )
    params = [
        ReminderState.SENDING,
        field("claim").get_db_prep_value(token, db),
        field("claimed_at").get_db_prep_value(at, db),
        field("updated_at").get_db_prep_value(at, db),
        ReminderState.PENDING,
        *subquery_params,
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return token, [row[0] for row in cursor.fetchall()]


def _change_text(change: DateChange) -> str:
    old = format_fuzzy(change.old_date, change.old_precision)
    new = format_fuzzy(change.new_date, change.new_precision)
    if old == new and change.new_certainty == Certainty.CONFIRMED:
        return f"Date confirmed: {new}"
    expected = " (expected)" if change.new_certainty == Certainty.EXPECTED else ""
    return f"Date changed: {old} → {new}{expected}"


def _status_text(update: CommitmentUpdate) -> str:
    old = DeliveryStatus(update.previous_status).label
    return f"Status changed: {old} → {update.get_delivery_status_display()}"


def _commitment_items(reminders: list[Reminder]) -> list[dict]:
    """One entry per commitment: the changes of its status it has not been told of."""
    items: dict[int, dict] = {}
    for reminder in reminders:
        if reminder.commitment_id is None:
            continue
        commitment = reminder.commitment
        item = items.setdefault(
            commitment.pk,
            {
                "commitment": commitment,
                "url": absolute(commitment.get_absolute_url()),
                "platforms": list(commitment.platforms.all()),
                "updates": [],
            },
        )
        update = reminder.commitment_update
        item["updates"].append({"update": update, "text": _status_text(update)})
    return list(items.values())


def _items(reminders: list[Reminder], *, at: dt.datetime) -> list[dict]:
    """One entry per milestone: its reminders due now (two lead times due together make one
    line, not two) and the changes to its date it has not been told of."""
    today = local_day(at)
    items: dict[int, dict] = {}
    for reminder in reminders:
        milestone = reminder.milestone
        if milestone is None:
            continue  # a commitment's status notice: _commitment_items()
        item = items.setdefault(
            milestone.pk,
            {
                "milestone": milestone,
                "url": absolute(milestone.get_absolute_url()),
                "sources": list(milestone.sources.all()),
                "reminded": False,
                "period_notice": False,
                "days_left": (milestone.date - today).days,
                "changes": [],
            },
        )
        if reminder.kind == ReminderKind.DATE_CHANGED:
            change = reminder.date_change
            item["changes"].append({"change": change, "text": _change_text(change)})
        else:
            item["reminded"] = True
            item["period_notice"] = reminder.kind == ReminderKind.PERIOD_START
    return list(items.values())


def _subject(items: list[dict], commitments: list[dict]) -> str:
    if items and commitments:
        count = len(items) + len(commitments)
        return f"{count} updates on what you watch on the Online Safety Act tracker"
    if len(commitments) > 1:
        return f"{len(commitments)} commitments you watch on the Online Safety Act tracker"
    if commitments:
        commitment = commitments[0]["commitment"]
        update = commitments[0]["updates"][-1]["update"]
        summary = " ".join(commitment.summary.split())  # a subject is one line
        summary = summary if len(summary) <= 60 else summary[:59] + "…"
        return f"Status changed to {update.get_delivery_status_display()}: {summary}"
    if len(items) > 1:
        return f"{len(items)} dates you watch on the Online Safety Act tracker"
    item = items[0]
    milestone = item["milestone"]
    if not item["reminded"]:
        what = (
            "Date confirmed"
            if item["changes"][-1]["text"].startswith("Date confirmed")
            else "Date changed"
        )
        return f"{what}: {milestone.title}"
    if item["period_notice"]:
        return f"Now: {milestone.date_text} – {milestone.title}"
    if item["days_left"] < 0:  # sent late (a planner down across the due moment): not "today"
        return f"On {milestone.date_text}: {milestone.title}"
    if item["days_left"] == 0:
        return f"Today: {milestone.title}"
    days = "1 day" if item["days_left"] == 1 else f"{item['days_left']} days"
    return f"In {days}: {milestone.title}"


# Stand-ins for what differs between subscribers told the same things: their links in a body
# rendered once for them all, and in the flattened e-mail their address and Message-ID too. No
# template output can contain them by chance (they are new for each process); the links and the
# address are longer than any real one they stand for (see _plain()).
_STANDIN_LENGTH = 400
_MANAGE = f"manage-link-{uuid.uuid4().hex}".ljust(_STANDIN_LENGTH, "m")
_UNSUBSCRIBE = f"unsubscribe-link-{uuid.uuid4().hex}".ljust(_STANDIN_LENGTH, "u")
_ADDRESS = f"address-{uuid.uuid4().hex}".ljust(200, "a") + "@example.invalid"
_DIGEST = uuid.uuid4().hex  # 32 hex digits, as a real Message-ID's digest


@dataclass
class Rendered:
    """What an e-mail says, rendered once for every subscriber told the same things."""

    subject: str
    text: str  # with _MANAGE and _UNSUBSCRIBE for the subscriber's links
    html: str  # likewise
    ics: str | None
    # The whole e-mail flattened to bytes with the stand-ins, and the Date line it was made with;
    # made on first use (see message_bytes()).
    raw: bytes | None = None
    date: bytes = b""


def _content_key(reminders: list[Reminder]) -> tuple:
    """What decides an e-mail's content apart from its subscriber's links: the rows it tells of.
    Within one batch (one read of the database, one moment) the same key gives the same text."""
    return tuple(
        (
            r.kind,
            r.milestone_id,
            r.date_change_id,
            r.commitment_id,
            r.commitment_update_id,
        )
        for r in reminders
    )


def _render(reminders: list[Reminder], *, at: dt.datetime) -> Rendered:
    items = _items(reminders, at=at)
    commitments = _commitment_items(reminders)
    context = {
        "items": items,
        "commitments": commitments,
        "unsubscribe_url": _UNSUBSCRIBE,
        "manage_url": _MANAGE,
        "site_url": settings.SITE_URL,
    }
    return Rendered(
        # A header is one line: a line break in a title must not stop the e-mail.
        subject=" ".join(_subject(items, commitments).split()),
        text=get_template("tracker/email/reminders.txt").render(context),
        html=get_template("tracker/email/reminders.html").render(context),
        # A calendar of the dates told of; a status notice has none.
        ics=calendar([item["milestone"] for item in items], at=at) if items else None,
    )


def _content(reminders: list[Reminder], *, at: dt.datetime, rendered: dict | None) -> Rendered:
    """The rendering of these reminders, from the batch's `rendered` if it has it already."""
    key = _content_key(reminders)
    content = rendered.get(key) if rendered is not None else None
    if content is None:
        content = _render(reminders, at=at)
        if rendered is not None:
            rendered[key] = content
    return content


def _message_id(reminders: list[Reminder]) -> str:
    """The same reminders always give the same Message-ID: should a crash make the sender send
    a message again, mail software can recognise the copy."""
    ids = ",".join(str(r.pk) for r in sorted(reminders, key=lambda r: r.pk))
    return hashlib.sha256(ids.encode()).hexdigest()[:32]


def _assemble(
    content: Rendered, *, address: str, manage: str, unsubscribe: str, digest: str, connection
) -> EmailMultiAlternatives:
    host = settings.SITE_URL.split("//", 1)[-1].split("/")[0].split(":")[0]
    message = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text.replace(_MANAGE, manage).replace(_UNSUBSCRIBE, unsubscribe),
        to=[address],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<reminders-{digest}@{host}>",
            "Auto-Submitted": "auto-generated",
        },
    )
    html = content.html.replace(_MANAGE, escape(manage)).replace(_UNSUBSCRIBE, escape(unsubscribe))
    message.attach_alternative(html, "text/html")
    if content.ics is not None:
        message.attach("online-safety-act-dates.ics", content.ics, "text/calendar")
    return message


def build_message(
    subscriber: Subscriber,
    reminders: list[Reminder],
    *,
    at: dt.datetime,
    connection=None,
    rendered: dict | None = None,
) -> EmailMultiAlternatives:
    """One e-mail for all of a subscriber's due reminders: text, HTML and an .ics file.

    `rendered`, a dict kept for one batch, holds each distinct content rendered once, so that
    subscribers told the same things share one rendering; only their links differ."""
    return _assemble(
        _content(reminders, at=at, rendered=rendered),
        address=subscriber.email,
        manage=manage_url(subscriber),
        unsubscribe=unsubscribe_url(subscriber),
        digest=_message_id(reminders),
        connection=connection,
    )


# What a link may hold to take a stand-in's place in the flattened bytes unchanged: printable
# ASCII that HTML escaping leaves alone and that gives a header no place to fold. An address:
# a plain one (dot-atoms of letters, digits, "_", "+" and "-"), which Django sends as it is.
_PLAIN = re.compile(r"[A-Za-z0-9._~:/?#@!$+=%-]+")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _plain(value: str, standin: str, pattern: re.Pattern = _PLAIN) -> bool:
    return len(value) <= len(standin) and pattern.fullmatch(value) is not None


_HEADERS = email.policy.compat32.clone(linesep="\r\n")  # how Django's e-mails are flattened


# A value of these characters only has nowhere to fold (no space, ";" or ","): flattening puts
# it on the header's line if it fits in 78 characters, else alone on the next line.
_UNFOLDABLE = re.compile(r"[A-Za-z0-9._~:/?#@!$+=%<>-]+")


def _header(name: str, value: str) -> bytes:
    """The header as flattening writes it (tests/tracker/test_sender.py compares the bytes)."""
    if _UNFOLDABLE.fullmatch(value) is None:
        return _HEADERS.fold_binary(name, value)
    if len(name) + 2 + len(value) <= 78:
        return f"{name}: {value}\r\n".encode()
    return f"{name}: \r\n {value}\r\n".encode()


_TO_STANDIN = _header("To", _ADDRESS)
_UNSUBSCRIBE_STANDIN = _header("List-Unsubscribe", f"<{_UNSUBSCRIBE}>")


def message_bytes(
    subscriber: Subscriber,
    reminders: list[Reminder],
    *,
    at: dt.datetime,
    rendered: dict | None = None,
) -> tuple[bytes, str]:
    """build_message(), flattened to the bytes sent over SMTP, and the envelope's recipient.

    The e-mail is flattened once per distinct content with stand-ins, then each subscriber's
    address, links, Message-ID and date take their places: the same bytes Django's e-mail
    classes give (tests/tracker/test_sender.py compares them), without flattening the MIME tree
    for every subscriber. An address or link that could change how the e-mail is encoded (not
    plain ASCII, or longer than its stand-in) takes the long way, as does a content whose lines
    are long enough to be encoded."""
    content = _content(reminders, at=at, rendered=rendered)
    manage, unsubscribe = manage_url(subscriber), unsubscribe_url(subscriber)
    address = subscriber.email
    fits = (
        _plain(manage, _MANAGE)
        and _plain(unsubscribe, _UNSUBSCRIBE)
        and _plain(address, _ADDRESS, _PLAIN_ADDRESS)
    )
    if fits and content.raw is None:
        message = _assemble(
            content,
            address=_ADDRESS,
            manage=_MANAGE,
            unsubscribe=_UNSUBSCRIBE,
            digest=_DIGEST,
            connection=None,
        ).message()
        raw = message.as_bytes(linesep="\r\n")
        # Lines over SMTP's limit would be encoded (quoted-printable), and a real value would
        # change where: those contents are always built the long way.
        content.raw = b"" if b"quoted-printable" in raw.lower() else raw
        content.date = f"\r\nDate: {message['Date']}\r\n".encode()
    if not fits or not content.raw:
        message = _assemble(
            content,
            address=address,
            manage=manage,
            unsubscribe=unsubscribe,
            digest=_message_id(reminders),
            connection=None,
        )
        raw = message.message().as_bytes(linesep="\r\n")
        return raw, sanitize_address(address, settings.DEFAULT_CHARSET)
    date = f"\r\nDate: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n".encode()
    # A header is folded by its length (a long value moves to a line of its own): those with
    # a stand-in are folded again with the real value, as flattening would fold them.
    raw = (
        content.raw.replace(content.date, date, 1)
        .replace(_TO_STANDIN, _header("To", address), 1)
        .replace(_UNSUBSCRIBE_STANDIN, _header("List-Unsubscribe", f"<{unsubscribe}>"), 1)
        .replace(_MANAGE.encode(), manage.encode())
        .replace(_UNSUBSCRIBE.encode(), unsubscribe.encode())
        .replace(_DIGEST.encode(), _message_id(reminders).encode())
    )
    return raw, address  # a plain address is its own envelope address


def _claimed(token: uuid.UUID, reminders: list[Reminder]):
    """These rows, while this claim still holds them."""
    return _held(token, [r.pk for r in reminders])


def _held(token: uuid.UUID, ids) -> "QuerySet[Reminder]":
    return Reminder.objects.filter(pk__in=ids, claim=token, state=ReminderState.SENDING)


def mark_sent(token: uuid.UUID, reminders: list[Reminder], *, at: dt.datetime) -> int:
    """Mark these rows sent, while this claim still holds them: one plain statement by primary
    key (written here rather than through the ORM, as it runs once per e-mail)."""
    field = Reminder._meta.get_field
    ids = [r.pk for r in reminders]
    sql = (
        f"UPDATE {db.ops.quote_name(Reminder._meta.db_table)} SET state = %s, sent_at = %s, "
        "attempts = attempts + 1, last_error = '', claim = NULL, updated_at = %s "
        f"WHERE id IN ({', '.join(['%s'] * len(ids))}) AND claim = %s AND state = %s"
    )
    params = [
        ReminderState.SENT,
        field("sent_at").get_db_prep_value(at, db),
        field("updated_at").get_db_prep_value(at, db),
        *ids,
        field("claim").get_db_prep_value(token, db),
        ReminderState.SENDING,
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def mark_failed_attempt(
    token: uuid.UUID, reminders: list[Reminder], error: Exception, *, at: dt.datetime
) -> str:
    """Record the error; back to pending after a backoff, or failed for good. Returns the state."""
    rows = _claimed(token, reminders)
    attempts = 1 + max((r.attempts for r in rows.only("attempts")), default=0)
    give_up = is_permanent(error) or attempts >= settings.REMINDER_MAX_ATTEMPTS
    state = ReminderState.FAILED if give_up else ReminderState.PENDING
    rows.update(
        state=state,
        attempts=F("attempts") + 1,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        not_before=None if give_up else at + retry_delay(attempts),
        claim=None,
        claimed_at=None,
        updated_at=at,
    )
    return state


def release(token: uuid.UUID, ids, *, at: dt.datetime) -> int:
    """Back to pending, no attempt counted: rows claimed whose e-mail was never started."""
    return _held(token, ids).update(
        state=ReminderState.PENDING, claim=None, claimed_at=None, updated_at=at
    )


def _hand(
    postman: Postman | None, connection, reminders: list[Reminder], *, at, rendered: dict
) -> Parcel:
    """One subscriber's e-mail, handed over: to the postman as bytes over SMTP, or as an
    e-mail object to another backend (a file, memory). Nothing is sent before let_through()."""
    subscriber = reminders[0].subscription.subscriber
    if postman is not None:
        raw, recipient = message_bytes(subscriber, reminders, at=at, rendered=rendered)
        return postman.hand(_sender(), recipient, raw)
    message = build_message(subscriber, reminders, at=at, connection=connection, rendered=rendered)
    return Parcel.inline(message.send)


def _record(parcel: Parcel, reminders: list[Reminder], token: uuid.UUID, *, at) -> str:
    """Wait for the e-mail's outcome and record it: its rows marked sent as soon as the server
    has taken it, else the error (retried later, or failed for good). Returns the rows' state;
    raises ConnectionLost when the connection is gone."""
    error = parcel.outcome()
    if error is None:
        mark_sent(token, reminders, at=at)
        return ReminderState.SENT
    state = _failed(token, reminders, error, at=at)
    lost = isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)
    if lost or isinstance(error, smtplib.SMTPServerDisconnected):
        raise ConnectionLost from error
    return state


def _failed(token: uuid.UUID, reminders: list[Reminder], error: Exception, *, at) -> str:
    """One e-mail not sent, whatever stopped it (the server, the connection, or an e-mail that
    could not be made): its rows retried after a backoff, or failed for good; the batch goes on
    to the next subscriber."""
    state = mark_failed_attempt(token, reminders, error, at=at)
    subscriber_id = reminders[0].subscription.subscriber_id
    if isinstance(error, OSError):
        logger.warning("Reminder e-mail to subscriber %s not sent: %s", subscriber_id, error)
    else:  # not the server's doing: the e-mail itself, which the error's trace explains
        logger.error(
            "Reminder e-mail to subscriber %s could not be sent", subscriber_id, exc_info=error
        )
    return state


def _sender() -> str:
    """The envelope sender, as the SMTP backend gives it."""
    key = (settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
    if key not in _SENDERS:
        _SENDERS[key] = sanitize_address(*key)
    return _SENDERS[key]


_SENDERS: dict[tuple[str, str], str] = {}


def send_batch(subscriber_ids: list[int], *, at: dt.datetime) -> BatchResult:
    """Send each subscriber's due reminders over one SMTP connection for the whole batch.

    Each e-mail is handed to the postman (tracker/postman.py) before the one before it is
    recorded, so that the server's first round trips for it overlap that record; its DATA is
    let through only once the e-mail before is marked sent."""
    result = BatchResult()
    connection = get_connection(fail_silently=False)
    try:
        # Opened here, or each send() would open and close a connection of its own.
        connection.open()
    except OSError as error:
        # Nothing was claimed: every row stays pending and the next planner run queues it again.
        logger.warning("Sender: the mail server cannot be reached, nothing sent: %s", error)
        return result
    postman = None
    try:
        with quick_commits():
            token, ids = claim(subscriber_ids, at=at)
            unstarted = set(ids)  # claimed rows whose e-mail was not let through to the server
            handed = None  # (parcel, reminders): handed over, not let through yet
            sending = None  # (parcel, reminders): let through, its outcome not recorded yet
            try:
                due = _with_what_they_show(Reminder.objects.filter(pk__in=ids)) if ids else {}
                smtp = getattr(connection, "connection", None)
                if due and isinstance(connection, SMTPBackend) and smtp is not None:
                    postman = Postman(smtp)
                rendered: dict = {}  # this batch's distinct contents, at most one per subscriber
                for subscriber_id in subscriber_ids:
                    reminders = due.get(subscriber_id)
                    if reminders is None:
                        continue
                    try:
                        parcel = _hand(postman, connection, reminders, at=at, rendered=rendered)
                    except Exception as error:  # this e-mail cannot be made; the rest go on
                        result.count(_failed(token, reminders, error, at=at), len(reminders))
                        unstarted.difference_update(r.pk for r in reminders)
                        continue
                    handed = (parcel, reminders)
                    if sending is not None:
                        done, sending = sending, None
                        result.count(_record(*done, token, at=at), len(done[1]))
                    handed[0].let_through()
                    unstarted.difference_update(r.pk for r in reminders)
                    sending, handed = handed, None
                if sending is not None:
                    done, sending = sending, None
                    result.count(_record(*done, token, at=at), len(done[1]))
            finally:
                if handed is not None:  # never let through: not sent, back to pending below
                    handed[0].hold_back()
                if sending is not None:  # let through before an error here: record it still
                    try:
                        _record(*sending, token, at=at)
                    except Exception:  # the error that stopped the batch is raised below
                        logger.exception("Sender: the last e-mail's outcome was not recorded")
                if postman is not None:
                    postman.stop()
                # Stopped early (a lost connection, an error): the rows of the subscribers not
                # reached go back to pending for the next planner run, not after the lease.
                if unstarted:
                    release(token, list(unstarted), at=at)
    except ConnectionLost:
        pass  # the rest went back to pending, queued again by the next planner run
    finally:
        # A connection already broken has nothing left to close.
        with contextlib.suppress(OSError):
            connection.close()
    logger.info(
        "Sender: %d e-mails sent (%d reminders), %d reminders to retry, %d failed",
        result.sent,
        result.reminders,
        result.retrying,
        result.failed,
    )
    return result
