"""Start `celery` with the process's clock set to PINNED_CLOCK (an ISO 8601 moment with its
offset), ticking on from there: `python -m tests.tracker.pinned_worker -A tracker worker ...`.

The real-stack tests use it to put a real worker at a chosen moment (a DST change day, hours
after a due moment). time-machine moves the process's wall clock (time.time, datetime.now and
what Django's timezone.now() reads), and the pool processes forked from it keep the same clock;
the monotonic clock Celery times its work with is left alone.
"""

import datetime as dt
import os
import sys

import time_machine


def main() -> None:
    moment = dt.datetime.fromisoformat(os.environ["PINNED_CLOCK"])
    if moment.tzinfo is None:
        raise SystemExit("PINNED_CLOCK needs an offset, e.g. 2026-03-29T08:58:00+01:00")
    with time_machine.travel(moment, tick=True):
        from celery.__main__ import main as celery

        sys.argv = ["celery", *sys.argv[1:]]
        celery()


if __name__ == "__main__":
    main()
