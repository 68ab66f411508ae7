"""Child-process script for test_sqlite_under_load: writers and readers share one SQLite file.

Run with the project's own settings and no DATABASE_URL, so the database is the embedded default
under VAR_DIR. Each writer runs transactions that read and then write, as an admin save does
(the form reads the record, then saves it and its history). Prints one JSON line of counts.
"""

import functools
import json
import os
import sys
import threading

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import OperationalError, connection, transaction  # noqa: E402

WRITERS = int(sys.argv[1])
READERS = int(sys.argv[2])
ROUNDS = int(sys.argv[3])

counts: dict[str, int | str] = {"saved": 0, "read": 0, "locked": 0, "other_errors": 0}
counts_lock = threading.Lock()


def tally(key: str) -> None:
    with counts_lock:
        counts[key] += 1


def attempt(action) -> None:
    try:
        action()
    except OperationalError as error:
        tally("locked" if "database is locked" in str(error) else "other_errors")
    finally:
        connection.close()


def write(writer: int, round_: int) -> None:
    with transaction.atomic():
        Group.objects.filter(name__startswith=f"w{writer}-").count()  # read first, then write
        Group.objects.create(name=f"w{writer}-{round_}")
    tally("saved")


def read() -> None:
    list(Group.objects.all()[:50])
    tally("read")


def writer_loop(writer: int) -> None:
    for round_ in range(ROUNDS):
        attempt(functools.partial(write, writer, round_))


def reader_loop() -> None:
    for _ in range(ROUNDS):
        attempt(read)


call_command("migrate", "auth", verbosity=0)
threads = [threading.Thread(target=writer_loop, args=(n,)) for n in range(WRITERS)]
threads += [threading.Thread(target=reader_loop) for _ in range(READERS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
counts["rows"] = Group.objects.count()
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    counts["journal_mode"] = cursor.fetchone()[0]
    cursor.execute("PRAGMA busy_timeout")
    counts["busy_timeout_ms"] = cursor.fetchone()[0]
print(json.dumps(counts))
