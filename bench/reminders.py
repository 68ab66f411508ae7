"""`make bench` (reminders): many confirmed subscribers watching one milestone that falls due.

For each number of subscribers, in a fresh child process (so each memory high-water mark is its
own), side by side in the same run:

- plan: the real planner, `plan(at=...)` at a pinned moment (seven days before the date, after
  the send hour): seconds, reminders planned, queries, send batches queued on the broker;
- delivery: every e-mail through the real sender (`send_batch` over the planner's batches,
  in-process, as one worker runs them) to a local SMTP sink, in e-mails per second, beside a
  baseline that sends a message built the same way (the same size) to every subscriber with
  plain smtplib over one connection;
- memory: the process's resident set high-water mark (Linux VmHWM, reset before each phase
  through /proc/self/clear_refs) during the plan and during the delivery.

The sink is aiosmtpd in a subprocess of its own that only counts messages and bytes (it answers
NOOP with its counts), so it does not compete with the sender for the interpreter. Setting up the
rows (set-based INSERT ... SELECT generate_series) is timed separately and is not in the figures.

Needs PostgreSQL (DATABASE_URL) and the broker (CELERY_BROKER_URL, where plan() queues its
batches; the bench purges them afterwards). A throw-away test database is created beside
DATABASE_URL and dropped afterwards.

Environment:
  BENCH_SUBSCRIBERS     comma-separated subscriber counts, one child run each ("10000,100000")
  BENCH_DELIVER_LIMIT   deliver only the first batches, up to this many e-mails (0: all, default)
  REMINDER_BATCH_SIZE   subscribers per send batch, as in production (200)
  BENCH_PROFILE         a path: write a cProfile of each delivery to PATH-<subscribers>
"""

import asyncio
import contextlib
import cProfile
import datetime as dt
import json
import os
import resource
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

SUBSCRIBERS = [int(n) for n in os.environ.get("BENCH_SUBSCRIBERS", "10000,100000").split(",")]
# Stop delivering after the batch that reaches this many e-mails (0: every e-mail). The id
# stream still covers every subscriber; the baseline sends as many messages as were delivered.
DELIVER_LIMIT = int(os.environ.get("BENCH_DELIVER_LIMIT", "0"))
# Where to write a cProfile of each delivery (PATH-<subscribers>), to find what it spends time on.
PROFILE = os.environ.get("BENCH_PROFILE", "")
LONDON = ZoneInfo("Europe/London")
DEADLINE = dt.date(2027, 3, 17)
AT = dt.datetime(2027, 3, 10, 9, 5, tzinfo=LONDON)  # seven days before, after the send hour
CONFIRMED_AT = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
LEAD_DAYS = [30, 7, 1, 0]  # the default lead times: one of them (7) is due at AT


# --- the sink (a subprocess: `reminders.py --sink`) ----------------------------------------


class CountingHandler:
    """Accepts every message and only counts; NOOP answers with the counts so far."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages += 1
        self.bytes += len(envelope.content)
        return "250 OK"

    async def handle_NOOP(self, server, session, envelope, arg) -> str:
        return f"250 {self.messages} {self.bytes}"


def run_sink() -> None:
    from aiosmtpd.smtp import SMTP

    handler = CountingHandler()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(serve())


def sink_counts(port: int) -> tuple[int, int]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        code, answer = client.noop()
    assert code == 250, (code, answer)
    messages, size = answer.split()
    return int(messages), int(size)


# --- memory ----------------------------------------------------------------------------------


def reset_high_water() -> bool:
    """Reset the resident set high-water mark to the current resident set (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def high_water_mib() -> float:
    """The resident set high-water mark since the last reset (VmHWM), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # never reset


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- one run (a child process: `reminders.py --child N PORT`) ---------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def create_rows(subscribers: int) -> int:
    """One published, day-exact milestone (through the model layer) and `subscribers` confirmed
    subscribers, each with a confirmed subscription to it and the default lead times (set-based).
    Returns the milestone's id."""
    from django.db import connection

    from regulation.models import Milestone, Source, Verification
    from tracker.models import LeadTime, PlannerRun, Reminder, Subscriber, Subscription

    # A fresh start: the rows of an earlier run (reminders and lead times go with them).
    tables = [connection.ops.quote_name(m._meta.db_table) for m in (Subscriber, PlannerRun)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    milestone = Milestone.objects.filter(date=DEADLINE).first()
    if milestone is None:
        source = Source.objects.create(
            title="Ofcom statement on illegal harms",
            url="https://www.ofcom.org.uk/bench-statement",
            publisher_name="Ofcom",
            origin=Source.Origin.PRIMARY,
        )
        milestone = Milestone.objects.create(
            title="Illegal content duties in force",
            date=DEADLINE,
            verification=Verification.CONFIRMED,
        )
        milestone.sources.set([source])
        milestone.publish()
    subscriber, subscription, lead_time = (
        connection.ops.quote_name(m._meta.db_table) for m in (Subscriber, Subscription, LeadTime)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {subscriber} (email, created_at, confirmed_at) "
            "SELECT 'reader' || i || '@example.org', %s, %s FROM generate_series(1, %s) i",
            [CONFIRMED_AT, CONFIRMED_AT, subscribers],
        )
        cursor.execute(
            f"INSERT INTO {subscription} (subscriber_id, milestone_id, created_at, confirmed_at) "
            f"SELECT id, %s, %s, %s FROM {subscriber}",
            [milestone.pk, CONFIRMED_AT, CONFIRMED_AT],
        )
        cursor.execute(
            f"INSERT INTO {lead_time} (subscription_id, days) "
            f"SELECT s.id, d FROM {subscription} s CROSS JOIN unnest(%s::int[]) d",
            [LEAD_DAYS],
        )
        for table in (
            subscriber,
            subscription,
            lead_time,
            connection.ops.quote_name(Reminder._meta.db_table),
        ):
            cursor.execute(f"ANALYZE {table}")
    return milestone.pk


def child(subscribers: int, port: int) -> dict:
    import django

    django.setup()

    from django.conf import settings
    from django.db import connection

    from tracker.celery import app
    from tracker.models import Reminder, ReminderState, Subscriber
    from tracker.planner import batches, plan, subscribers_to_send
    from tracker.sender import build_message, message_bytes, send_batch

    result: dict = {"subscribers": subscribers, "batch_size": settings.REMINDER_BATCH_SIZE}
    start = time.perf_counter()
    create_rows(subscribers)
    result["setup_s"] = time.perf_counter() - start

    # Plan.
    result["rss_before_plan"] = resident_mib()
    result["hwm_reset"] = reset_high_water()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        run = plan(at=AT)
        result["plan_s"] = time.perf_counter() - start
    result["plan_hwm"] = high_water_mib()
    result["planned"], result["batches"], result["plan_queries"] = (
        run.planned,
        run.batches,
        counter.count,
    )
    # The batches plan() queued are for workers; none runs here, so they go (this broker
    # database is the bench's own).
    app.control.purge()

    # Delivery: the real sender over the planner's batches, one SMTP connection each.
    result["rss_before_delivery"] = resident_mib()
    reset_high_water()
    before, before_bytes = sink_counts(port)
    counter = QueryCounter()
    sent = reminders_sent = 0
    profile = cProfile.Profile() if PROFILE else contextlib.nullcontext()
    with connection.execute_wrapper(counter), profile:
        start = time.perf_counter()
        for batch in batches(subscribers_to_send(at=AT), settings.REMINDER_BATCH_SIZE):
            outcome = send_batch(batch, at=AT)
            sent += outcome.sent
            reminders_sent += outcome.reminders
            if DELIVER_LIMIT and sent >= DELIVER_LIMIT:
                break
        result["delivery_s"] = time.perf_counter() - start
    if PROFILE:
        profile.dump_stats(f"{PROFILE}-{subscribers}")
    result["delivery_hwm"] = high_water_mib()
    after, after_bytes = sink_counts(port)
    result["delivered"] = after - before
    result["delivery_bytes"] = (after_bytes - before_bytes) / max(after - before, 1)
    result["delivery_queries"] = counter.count
    result["sent"], result["reminders_sent"] = sent, reminders_sent
    result["rows_sent"] = Reminder.objects.filter(state=ReminderState.SENT).count()

    # The baseline: a message built the same way (the first subscriber's), sent with plain smtplib
    # over one connection to as many addresses as the sender delivered to.
    first = Subscriber.objects.order_by("pk").first()
    reminders = list(
        Reminder.objects.filter(subscription__subscriber=first)
        .select_related("milestone", "subscription__subscriber", "date_change__source")
        .prefetch_related("milestone__sources")
    )
    message = build_message(first, reminders, at=AT).message()
    raw = message.as_bytes(linesep="\r\n")
    sender = settings.DEFAULT_FROM_EMAIL
    before, before_bytes = sink_counts(port)
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for number in range(1, result["delivered"] + 1):
            client.sendmail(sender, [f"reader{number}@example.org"], raw)
    result["baseline_s"] = time.perf_counter() - start
    after, after_bytes = sink_counts(port)
    result["baseline_sent"] = after - before
    result["baseline_bytes"] = (after_bytes - before_bytes) / max(after - before, 1)

    # Building alone (no database, no SMTP): the same subscriber's bytes as the sender makes
    # them (message_bytes, its renderings kept for a batch's worth of e-mails).
    builds = min(result["delivered"], 500)
    start = time.perf_counter()
    for number in range(builds):
        if number % settings.REMINDER_BATCH_SIZE == 0:
            rendered: dict = {}
        message_bytes(first, reminders, at=AT, rendered=rendered)
    result["build_rate"] = builds / (time.perf_counter() - start)
    return result


# --- the parent: database, sink, children, table ---------------------------------------------


def table(results: list[dict]) -> str:
    rows = [("measured", "figure", "baseline (same run)", "figure")]
    for r in results:
        n = f"{r['subscribers']:,}"
        plan_rate = r["planned"] / r["plan_s"] if r["plan_s"] else 0
        delivery_rate = r["delivered"] / r["delivery_s"]
        baseline_rate = r["baseline_sent"] / r["baseline_s"]
        rows += [
            (f"[{n}] setup (not a figure)", f"{r['setup_s']:.1f} s", "", ""),
            (
                f"[{n}] plan()",
                f"{r['plan_s']:.2f} s, {r['planned']:,} planned, {r['plan_queries']} queries, "
                f"{r['batches']} batches ({plan_rate:,.0f} rows/s)",
                "",
                "",
            ),
            (
                f"[{n}] delivery, send_batch in-process",
                f"{delivery_rate:,.0f} e-mails/s ({r['delivered']:,} of {r['planned']:,} in "
                f"{r['delivery_s']:.1f} s,"
                f" {r['delivery_bytes']:,.0f} B each, "
                f"{r['delivery_queries'] / max(r['delivered'], 1):.1f} queries/e-mail)",
                "plain smtplib, one connection",
                f"{baseline_rate:,.0f} e-mails/s ({r['baseline_sent']:,} in "
                f"{r['baseline_s']:.1f} s, {r['baseline_bytes']:,.0f} B each)",
            ),
            (
                f"[{n}] building alone (message_bytes, as the sender)",
                f"{r['build_rate']:,.0f} e-mails/s",
                "",
                "",
            ),
            (
                f"[{n}] delivery / baseline",
                f"{delivery_rate / baseline_rate:.0%} (goal: at least 50%)",
                "",
                "",
            ),
            (
                f"[{n}] RSS high-water, plan",
                f"{r['plan_hwm']:.0f} MiB (+{r['plan_hwm'] - r['rss_before_plan']:.0f} MiB)",
                "resident before the plan",
                f"{r['rss_before_plan']:.0f} MiB",
            ),
            (
                f"[{n}] RSS high-water, delivery",
                f"{r['delivery_hwm']:.0f} MiB "
                f"(+{r['delivery_hwm'] - r['rss_before_delivery']:.0f} MiB)",
                "resident before the delivery",
                f"{r['rss_before_delivery']:.0f} MiB",
            ),
        ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def main() -> None:
    import django

    django.setup()

    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    if connection.vendor != "postgresql":
        sys.exit("bench/reminders.py needs PostgreSQL: set DATABASE_URL to a postgres:// URL")
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline())
        database_url = urlsplit(os.environ["DATABASE_URL"])._replace(
            path="/" + connection.settings_dict["NAME"]
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url.geturl(),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "EMAIL_USE_TLS": "false",
        }
        connection.close()
        results = []
        for subscribers in SUBSCRIBERS:
            child_run = subprocess.run(
                [sys.executable, __file__, "--child", str(subscribers), str(port)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            result = json.loads(child_run.stdout.strip().splitlines()[-1])
            expected = {"planned": subscribers, "delivered": result["sent"]}
            expected.update(baseline_sent=result["sent"], rows_sent=result["sent"])
            if not DELIVER_LIMIT:
                expected["sent"] = subscribers
            for key, value in expected.items():
                if result[key] != value:
                    raise SystemExit(
                        f"{subscribers:,} subscribers: {key} {result[key]:,}, not {value:,}"
                    )
            results.append(result)
        memory = (
            "RSS high-water = the process's VmHWM, reset before each phase"
            if results[0]["hwm_reset"]
            else "RSS high-water = ru_maxrss (not reset between phases)"
        )
        print(
            f"Reminders ({connection.vendor}, batches of {results[0]['batch_size']}, "
            f"one milestone due, {memory})"
        )
        print(table(results))
    finally:
        sink.terminate()
        sink.wait()
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sink"]:
        run_sink()
    elif sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
