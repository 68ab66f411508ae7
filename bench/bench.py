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
# The site at this many times the seed data (manage.py generate_bench_data --times N).
TIMES = int(os.environ.get("BENCH_TIMES", "100"))
PAGE_REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "50"))

# The same rows as the timeline and a platform page, through the same middleware, rendered by
# the least template that shows them: the baseline the real pages are measured against.
MINIMAL_TIMELINE = """<!doctype html><title>t</title><ul>{% for m in rows %}<li><time>\
{{ m.date_display }}</time> <a href="/milestones/{{ m.slug }}/">{{ m.title }}</a></li>\
{% endfor %}</ul>"""
MINIMAL_PLATFORM = """<!doctype html><title>p</title><h1>{{ platform.name }}</h1><ul>\
{% for c in commitments %}<li><a href="/commitments/{{ c.slug }}/">{{ c.summary }}</a> \
{{ c.get_delivery_status_display }}</li>{% endfor %}</ul><table>{% for m in measures %}<tr>\
<th>{{ m.title }}</th><td>{% for c in m.platform_commitments %}{{ c.summary }} {% endfor %}\
</td></tr>{% endfor %}</table><ul>{% for o in observations %}<li>{{ o.value_text }} \
{{ o.metric }}</li>{% endfor %}</ul><ul>{% for m in milestones %}<li>{{ m.date_display }} \
<a href="/milestones/{{ m.slug }}/">{{ m.title }}</a></li>{% endfor %}</ul>"""


def minimal_timeline(request):
    from django.http import HttpResponse
    from django.template import engines

    from regulation.models import Milestone

    rows = Milestone.objects.published().chronological()
    template = engines["django"].from_string(MINIMAL_TIMELINE)
    return HttpResponse(template.render({"rows": rows}))


def minimal_platform(request, slug: str):
    from django.db.models import Prefetch
    from django.http import HttpResponse
    from django.template import engines

    from regulation.models import Commitment, Measure, Milestone, Observation, Platform

    platform = Platform.objects.published().get(slug=slug)
    commitments = Commitment.objects.published().for_platform(platform)
    context = {
        "platform": platform,
        "commitments": commitments,
        "measures": Measure.objects.published()
        .grooming_relevant()
        .prefetch_related(
            Prefetch("commitments", queryset=commitments, to_attr="platform_commitments")
        ),
        "observations": Observation.objects.published().filter(platforms=platform),
        "milestones": Milestone.objects.published().for_platform(platform),
    }
    template = engines["django"].from_string(MINIMAL_PLATFORM)
    return HttpResponse(template.render(context))


def bench_urls() -> list:
    """The site's URLs and the two minimal pages (this module is the URLconf during the run)."""
    from django.urls import path

    from tracker.urls import urlpatterns

    return [
        path("bench/minimal/timeline/", minimal_timeline),
        path("bench/minimal/platform/<slug:slug>/", minimal_platform),
        *urlpatterns,
    ]


def latency(action: Callable[[], object], repeat: int) -> tuple[float, float, int, float]:
    """p50 and p99 milliseconds, queries per call, and calls per second."""
    action()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        action()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return statistics.median(timings), p99, counter.count, 1000 * len(timings) / sum(timings)


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

        from django.core.management import call_command
        from django.test.utils import override_settings

        from regulation.models import Platform

        call_command("generate_bench_data", times=TIMES, stdout=open(os.devnull, "w"))  # noqa: SIM115
        platform = Platform.objects.get(slug="snapchat")
        ratios = []
        with override_settings(ROOT_URLCONF=__name__):
            for label, url, baseline in (
                ("timeline", "/timeline/", "/bench/minimal/timeline/"),
                (
                    "platform page (Snapchat)",
                    platform.get_absolute_url(),
                    f"/bench/minimal/platform/{platform.slug}/",
                ),
            ):
                page = latency(get(client, url), PAGE_REQUESTS)
                minimal = latency(get(client, baseline), PAGE_REQUESTS)
                rows.append(
                    (
                        f"{label}, {TIMES}x seed (p50/p99)",
                        f"{page[0]:.1f}/{page[1]:.1f} ms",
                        f"{page[2]} q",
                        "minimal template, same rows",
                        f"{minimal[0]:.1f}/{minimal[1]:.1f} ms",
                        f"{minimal[2]} q",
                    )
                )
                ratios.append((label, page[3], minimal[3]))

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
        for label, page_rate, minimal_rate in ratios:
            print(
                f"{label}: {page_rate:.1f} pages/s, minimal template {minimal_rate:.1f}/s: "
                f"{page_rate / minimal_rate:.0%} of its throughput (goal: at least 50%)"
            )
    finally:
        teardown_databases(databases, verbosity=0)


urlpatterns = bench_urls()

if __name__ == "__main__":
    main()
