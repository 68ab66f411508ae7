"""The suite's clock, and Python programs run under it.

`pytest --clock-start=2030-01-01` (`make test-future`) runs the whole suite as if that day had
come: the test process's wall clock is moved there when the run starts and ticks on, and its
offset from the real clock is handed to the programs the tests start (TEST_CLOCK_OFFSET), so a
worker or a web server started by a test reads the same "now" as the test. A test that passes
only near the day it was written (data made at the real time, a date written as "the future")
fails there.

`python -m tests.clocked MODULE ARGS...` runs `python -m MODULE ARGS...` with the process's
wall clock moved: to PINNED_CLOCK (an ISO 8601 moment with its offset) when it is set, else by
TEST_CLOCK_OFFSET seconds, ticking on from there. time-machine moves the wall clock (time.time,
datetime.now and what Django's timezone.now() reads), and processes forked from it keep it; the
monotonic clock that Celery and gunicorn time their work with is left alone.
"""

import datetime as dt
import os
import runpy
import sys
import time

import time_machine

OFFSET_VARIABLE = "TEST_CLOCK_OFFSET"


def offset() -> dt.timedelta:
    """How far the suite's clock is from the real one (zero unless --clock-start was given)."""
    return dt.timedelta(seconds=float(os.environ.get(OFFSET_VARIABLE) or 0))


def start_suite_clock(start: str) -> time_machine.travel:
    """Move this process's clock to `start` (a date: noon UTC that day; or an ISO moment with its
    offset), ticking, and publish the offset for the programs the tests start."""
    moment = dt.datetime.fromisoformat(start)
    if len(start) == len("2030-01-01"):
        moment = moment.replace(hour=12, tzinfo=dt.UTC)
    if moment.tzinfo is None:
        raise ValueError(f"--clock-start={start}: give a date or a moment with its offset")
    os.environ[OFFSET_VARIABLE] = str((moment - dt.datetime.now(dt.UTC)).total_seconds())
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    time.time()  # time-machine's clock ticks from its first reading: start it now
    return traveller


def python_module(module: str, *args: str) -> list[str]:
    """The command that runs `python -m MODULE ARGS...` under the suite's clock."""
    return [sys.executable, "-m", "tests.clocked", module, *args]


def main() -> None:
    module, *args = sys.argv[1:]
    pinned = os.environ.get("PINNED_CLOCK")
    if pinned:
        moment = dt.datetime.fromisoformat(pinned)
        if moment.tzinfo is None:
            raise SystemExit("PINNED_CLOCK needs an offset, e.g. 2026-03-29T08:58:00+01:00")
    elif offset():
        moment = dt.datetime.now(dt.UTC) + offset()
    else:
        moment = None
    sys.argv = [module, *args]
    if moment is None:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return
    with time_machine.travel(moment, tick=True):
        time.time()  # time-machine's clock ticks from its first reading, not from here
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
