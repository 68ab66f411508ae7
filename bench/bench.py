"""`make bench`: timings of the hot paths, each printed beside a baseline measured in the same run.

Runs against the database named by DATABASE_URL (a throw-away test database is created beside
it and dropped afterwards). Figures are for comparison within one run, not absolute targets.
"""

import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))


class QueryCounter:
    """Counts queries across requests (the test client's request signals reset the query log)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(action: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    """Median and 95th-percentile milliseconds, and queries per call."""
    action()  # warm caches and connections
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        action()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], counter.count


def once(action: Callable[[], object]) -> tuple[float, int]:
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        action()
        elapsed = (time.perf_counter() - start) * 1000
    return elapsed, len(queries)


def get(client: Client, url: str) -> Callable[[], object]:
    def action():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return action


def main() -> None:
    from regulation.models import Milestone
    from regulation.seed import load_seed

    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        client = Client()
        rows = []
        empty_home = measure(get(client, "/"), REQUESTS)

        first_ms, first_q = once(load_seed)
        again_ms, again_q = once(load_seed)
        rows.append(
            (
                "seed load (first run)",
                f"{first_ms:.0f} ms",
                f"{first_q} q",
                "seed load (second run, no-op)",
                f"{again_ms:.0f} ms",
                f"{again_q} q",
            )
        )

        home = measure(get(client, "/"), REQUESTS)
        rows.append(
            (
                "home page, seeded (median/p95)",
                f"{home[0]:.2f}/{home[1]:.2f} ms",
                f"{home[2]} q",
                "home page, empty database",
                f"{empty_home[0]:.2f}/{empty_home[1]:.2f} ms",
                f"{empty_home[2]} q",
            )
        )

        detail_url = Milestone.objects.get(key="M21").get_absolute_url()
        detail = measure(get(client, detail_url), REQUESTS)
        rows.append(
            (
                "milestone page M21 (median/p95)",
                f"{detail[0]:.2f}/{detail[1]:.2f} ms",
                f"{detail[2]} q",
                "home page, seeded",
                f"{home[0]:.2f}/{home[1]:.2f} ms",
                f"{home[2]} q",
            )
        )

        widths = [max(len(str(row[i])) for row in rows) for i in range(6)]
        print(f"Benchmarks ({REQUESTS} requests each, {connection.vendor})")
        print(
            "  ".join(
                h.ljust(w)
                for h, w in zip(
                    ("measured", "time", "queries", "baseline", "time", "queries"),
                    widths,
                    strict=True,
                )
            )
        )
        for row in rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
