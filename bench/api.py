"""`make bench`, part three: the API's milestone and commitment lists under load, beside a floor.

A throw-away PostgreSQL database beside the one DATABASE_URL names gets the seed and
`manage.py generate_bench_data --times BENCH_TIMES` (100 by default), then VACUUM ANALYZE (what
autovacuum would have done after such a load: planner statistics, a visibility map). gunicorn
then serves the site with BENCH_API_WORKERS sync workers (2 by default, one request at a time
each), with the bench-only settings bench/api_settings.py: the site as `make run` serves it,
plus the floor views of bench/api_urls.py (the same page of rows as JSON straight from
`.values()`).

For each list, BENCH_API_CLIENTS client threads (4 by default, so both workers always have a
request waiting) send BENCH_API_REQUESTS requests to the API and as many to its floor, in
BENCH_API_ROUNDS alternating rounds so a change in the shared machine's load falls on both
sides alike, after a warm-up. Every request is a fresh anonymous GET with
`Accept: application/json` and no If-None-Match or If-Modified-Since: no answer is a 304.
Printed: requests per second, p50 and p99 milliseconds, and queries per request (counted in
the server by bench/api_urls.py's middleware on one extra request per address).

The whole measurement runs twice, each time with a gunicorn of its own: as deployed, where the
answer to an anonymous GET is kept under its ETag while the data stays the same
(API_ANSWER_SECONDS, regulation/api/caching.py), so a repeated request costs the data's
version and the kept bytes; and with API_ANSWER_SECONDS=0, where every answer is built from
the database (what the first request after any change to the data costs).
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from load import BASE_DIR, BIN, base_env, free_port, manage, postgres_database, wait_until_up

TIMES = int(os.environ.get("BENCH_TIMES", "100"))
WORKERS = int(os.environ.get("BENCH_API_WORKERS", "2"))
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", "4"))
REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "300"))
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "3"))
WARM_UP = int(os.environ.get("BENCH_API_WARM_UP", "20"))
HEADERS = {"Accept": "application/json"}
# (label, API address, floor address)
LISTS = [
    ("milestones", "/api/v1/milestones/", "/bench/floor/milestones/"),
    ("commitments", "/api/v1/commitments/", "/bench/floor/commitments/"),
]


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={**HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@dataclass
class Side:
    """One address's measured requests, over every round."""

    timings: list[float] = field(default_factory=list)
    seconds: float = 0.0  # wall time of its rounds
    failures: int = 0
    queries: int = 0

    @property
    def rate(self) -> float:
        return len(self.timings) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.timings)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def hammer(port: int, path: str, count: int, side: Side | None) -> None:
    """count requests from CLIENTS threads at once; their timings go to side (if any)."""
    lock = threading.Lock()
    remaining = [count]

    def client() -> None:
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                status, _, _ = get(port, path)
            except (OSError, http.client.HTTPException):
                status = None
            elapsed = (time.perf_counter() - start) * 1000
            if side is not None:
                with lock:
                    side.timings.append(elapsed)
                    side.failures += status != 200

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if side is not None:
        side.seconds += time.perf_counter() - start


def check_same_rows(port: int, api: str, floor: str) -> int:
    """The floor answers the API's page: the same records in the same order."""
    _, _, api_body = get(port, api)
    _, _, floor_body = get(port, floor)
    api_keys = [row["key"] for row in json.loads(api_body)["results"]]
    floor_keys = [row["key"] for row in json.loads(floor_body)["results"]]
    if api_keys != floor_keys:
        raise RuntimeError(f"{floor} does not answer the rows of {api}")
    return len(api_keys)


def queries(port: int, path: str) -> int:
    status, headers, _ = get(port, path, {"X-Bench-Queries": "1"})
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return int(headers["X-Bench-Queries"])


def measure(port: int) -> list[tuple[str, int, Side, Side]]:
    results = []
    for label, api, floor in LISTS:
        rows = check_same_rows(port, api, floor)
        for path in (api, floor):
            hammer(port, path, WARM_UP, None)
        api_side, floor_side = Side(queries=queries(port, api)), Side(queries=queries(port, floor))
        per_round = max(1, REQUESTS // ROUNDS)
        for _ in range(ROUNDS):
            hammer(port, floor, per_round, floor_side)
            hammer(port, api, per_round, api_side)
        results.append((label, rows, api_side, floor_side))
    return results


def serve_and_measure(env: dict, var_dir: Path) -> list[tuple[str, int, Side, Side]]:
    port = free_port()
    log_path = var_dir / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "tracker.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--worker-class",
                "sync",
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(port, server)
            return measure(port)
        finally:
            server.terminate()
            server.wait(timeout=60)


# (label, what the API's answers are in that run, extra environment)
RUNS = [
    ("as deployed", "answers kept while the data stays the same", {}),
    ("each answer built", "API_ANSWER_SECONDS=0", {"API_ANSWER_SECONDS": "0"}),
]


def report(results: list[tuple[str, int, Side, Side]], records: str, run: str, how: str) -> None:
    print(
        f"\nAPI lists, {run} ({how}), through gunicorn ({WORKERS} sync workers), {TIMES}x the "
        f"seed ({records}); {CLIENTS} concurrent clients, {REQUESTS} requests per address in "
        f"{ROUNDS} alternating rounds, after a warm-up"
    )
    header = ("list (default page)", "rows", "req/s", "p50/p99", "queries", "failed")
    rows = [header]
    for label, count, api, floor in results:
        for name, side in ((f"API {label}", api), (f"floor {label}", floor)):
            rows.append(
                (
                    name,
                    str(count),
                    f"{side.rate:.1f}",
                    f"{statistics.median(side.timings):.0f}/{side.percentile(0.99):.0f} ms",
                    str(side.queries),
                    str(side.failures),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for label, _, api, floor in results:
        print(
            f"API {label}: {api.rate / floor.rate:.0%} of the floor's throughput "
            "(goal: at least 50%)"
        )


def analyze(url: str) -> None:
    """What autovacuum does soon after any large load: planner statistics (without them
    PostgreSQL guesses that a few dozen records are published and may join a page's links
    against the whole table) and a visibility map. A PostgreSQL with autovacuum off, as on
    some test machines, would otherwise never have them."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("DATABASE_URL is not PostgreSQL: the API benchmark is skipped.")
        return
    parsed = urllib.parse.urlparse(url)
    name = f"{parsed.path.lstrip('/')}_api"
    postgres_database(url, name, "create")
    try:
        with tempfile.TemporaryDirectory(prefix="osa-api-bench-") as tmp:
            env = {
                **base_env(Path(tmp)),
                "DATABASE_URL": parsed._replace(path=f"/{name}").geturl(),
                # Throttling runs as ever, at a rate one client address cannot reach here.
                "API_ANONYMOUS_RATE": "1000000/minute",
            }
            manage(env, "migrate", "--noinput", "--verbosity", "0")
            manage(env, "load_seed")
            manage(env, "generate_bench_data", "--times", str(TIMES))
            analyze(env["DATABASE_URL"])
            manage(env, "collectstatic", "--noinput", "--verbosity", "0")
            records = manage(
                env,
                "shell",
                "--no-imports",
                "-c",
                "from regulation.models import Commitment, Milestone\n"
                "print(f'{Milestone.objects.published().count():,} milestones, '"
                "f'{Commitment.objects.published().count():,} commitments')",
            ).strip()
            runs = [
                (
                    run,
                    how,
                    serve_and_measure(
                        {**env, "DJANGO_SETTINGS_MODULE": "bench.api_settings", **extra},
                        Path(tmp),
                    ),
                )
                for run, how, extra in RUNS
            ]
    finally:
        postgres_database(url, name, "drop")
    for run, how, results in runs:
        report(results, records, run, how)


if __name__ == "__main__":
    sys.exit(main())
