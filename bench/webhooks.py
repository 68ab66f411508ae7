"""`make bench`: webhook deliveries per second through the real delivery code (claim, sign,
post through the SSRF-safe transport, record the attempt) to a local receiver, beside a plain
urllib loop posting the same bodies to the same receiver in the same run.

Runs on a throw-away test database beside the one DATABASE_URL names. One process, one
delivery at a time: the figure is per worker process; workers add up.
"""

import datetime as dt
import logging
import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ["WEBHOOK_ALLOW_LOOPBACK"] = "true"  # the receiver is on this machine

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)
from django.utils import timezone  # noqa: E402

DELIVERIES = int(os.environ.get("BENCH_WEBHOOKS", "500"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one connection per request, as each delivery opens its own

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    from regulation.models import Milestone
    from tests.factories import make_milestone, make_source
    from tracker.webhooks import delivery as delivering
    from tracker.webhooks.models import Delivery, Endpoint, EventType

    # One line per event and per delivery would drown the figures.
    logging.getLogger("tracker.webhooks").setLevel(logging.WARNING)
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        owner = User.objects.create_user("bench-client")
        endpoint = Endpoint.objects.create(
            owner=owner, url=url, events=[EventType.MILESTONE_DATE_CHANGED]
        )
        source = make_source()
        milestones = [
            make_milestone(date=dt.date(2027, 1, 1), date_precision="day", sources=[source])
            for _ in range(DELIVERIES)
        ]
        for milestone in milestones:
            milestone.move_to(dt.date(2027, 2, 1), reason="Bench move", source=source)
        ids = list(Delivery.objects.filter(endpoint=endpoint).values_list("pk", flat=True))
        deliveries = Delivery.objects.select_related("event", "endpoint").filter(pk__in=ids)
        prepared = [
            (
                d.event.body(),
                delivering.signature_headers(
                    endpoint, str(d.event_id), d.event.body(), at=timezone.now()
                ),
            )
            for d in deliveries
        ]

        started = time.perf_counter()
        for body, headers in prepared:
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"content-type": "application/json", **headers},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        plain = time.perf_counter() - started

        started = time.perf_counter()
        states = [delivering.deliver(pk) for pk in ids]
        real = time.perf_counter() - started

        delivered = states.count("delivered")
        assert delivered == len(ids), f"only {delivered} of {len(ids)} delivered"
        assert Milestone.objects.count() >= DELIVERIES
        print(f"Webhook deliveries to a local receiver, {len(ids)} each way, one process:")
        print(f"  plain urllib loop (same bodies and headers): {len(ids) / plain:8.1f} per second")
        print(
            f"  real delivery (claim, sign, post, record):   {len(ids) / real:8.1f} per second"
            f"  ({plain / real:.0%} of the plain loop)"
        )
    finally:
        server.shutdown()
        server.server_close()
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
