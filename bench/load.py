"""`make bench`, part two: the site under load, served as `make run` serves it (gunicorn, threads).

Runs the same load twice in one go, on the embedded default (a SQLite file in a temporary
VAR_DIR) and on PostgreSQL (a throw-away database beside the one DATABASE_URL names): SAVERS
staff each logged in and saving milestone change forms in the admin, while READERS anonymous
readers fetch the public pages. Every loop is bounded; everything stays on 127.0.0.1.
Prints saves (each a GET of the change form and its POST) and reads done, answers 5xx, "database
is locked" errors in the server's log, failures (no answer, or a form answered with errors), and
p50/p99 milliseconds for saves and reads.
"""

import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAVERS = int(os.environ.get("BENCH_SAVERS", "4"))
SAVES_EACH = int(os.environ.get("BENCH_SAVES_EACH", "25"))
READERS = int(os.environ.get("BENCH_READERS", "100"))
READS_EACH = int(os.environ.get("BENCH_READS_EACH", "5"))
PASSWORD = secrets.token_urlsafe(18)
LOCKED = "OperationalError: database is locked"


class FormFields(HTMLParser):
    """The fields a browser would submit from the page's POST form, as rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._done = False
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        is_post = (a.get("method") or "").lower() == "post"
        # The admin's header holds a logout form; the page's own form is the next one.
        if tag == "form" and is_post and not self._done and a.get("id") != "logout-form":
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append(
                (name, a.get("value") or ("on" if a.get("type") == "checkbox" else ""))
            )
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # The HTML parser drops the newline a textarea's content starts with; browsers too.
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


@dataclass
class Tally:
    timings: dict[str, list[float]] = field(default_factory=lambda: {"save": [], "read": []})
    errors_5xx: int = 0
    failures: int = 0  # no answer, or an answer that is neither success nor 5xx
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, status: int | None, ok: bool) -> None:
        with self.lock:
            self.timings[kind].append(ms)
            if status is not None and status >= 500:
                self.errors_5xx += 1
            elif not ok:
                self.failures += 1


class Browser:
    """One person's cookies over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: dict | list | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return None, ""
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def login(self, username: str) -> None:
        _, page = self.request("GET", "/admin/login/")
        fields = dict(form_fields(page))
        fields.update(username=username, password=PASSWORD, next="/admin/")
        status, _ = self.request("POST", "/admin/login/", fields)
        if status != 302:
            raise RuntimeError(f"{username} could not log in (HTTP {status})")


def form_fields(page: str) -> list[tuple[str, str]]:
    parser = FormFields()
    parser.feed(page)
    return parser.fields


def timed(tally: Tally, kind: str, action) -> None:
    start = time.perf_counter()
    status, ok = action()
    tally.add(kind, (time.perf_counter() - start) * 1000, status, ok)


def saver(port: int, username: str, change_urls: list[str], tally: Tally) -> None:
    browser = Browser(port)
    browser.login(username)
    for n in range(SAVES_EACH):
        url = change_urls[n % len(change_urls)]

        def save(url=url):
            status, page = browser.request("GET", url)
            if status != 200:
                return status, False
            fields = [*form_fields(page), ("_save", "Save")]
            status, page = browser.request("POST", url, fields)
            return status, status == 302  # a form with errors answers 200

        timed(tally, "save", save)


def reader(port: int, paths: list[str], tally: Tally, offset: int) -> None:
    browser = Browser(port)
    for n in range(READS_EACH):
        path = paths[(offset + n) % len(paths)]

        def read(path=path):
            status, _ = browser.request("GET", path)
            return status, status == 200

        timed(tally, "read", read)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def prepare(env: dict) -> None:
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "load_seed")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User\n"
        f"for n in range({SAVERS}):\n"
        f"    User.objects.create_superuser(f'saver{{n}}', '', {PASSWORD!r})",
    )


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(120):  # at most a minute
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not start within a minute")


def run_load(label: str, env: dict, var_dir: Path) -> dict:
    prepare(env)
    port = free_port()
    log_path = var_dir / "gunicorn.log"
    with log_path.open("w") as log:
        # The same server and options as the Procfile's web process.
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "tracker.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "8",
                "--no-control-socket",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(port, server)
            probe = Browser(port)
            probe.login("saver0")
            _, changelist = probe.request("GET", "/admin/regulation/milestone/")
            change_urls = sorted(
                set(re.findall(r"/admin/regulation/milestone/\d+/change/", changelist))
            )
            _, home = probe.request("GET", "/")
            paths = ["/", *sorted(set(re.findall(r'href="(/milestones/[^"]+/)"', home)))]
            if not change_urls or len(paths) < 2:
                raise RuntimeError("no milestones to save or read: did the seed load?")

            tally = Tally()
            threads = [
                threading.Thread(target=saver, args=(port, f"saver{n}", change_urls[n:], tally))
                for n in range(SAVERS)
            ]
            threads += [
                threading.Thread(target=reader, args=(port, paths, tally, n))
                for n in range(READERS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            server.terminate()
            server.wait(timeout=60)
    locked = log_path.read_text().count(f"django.db.utils.{LOCKED}")
    return {"label": label, "tally": tally, "locked": locked}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def report(results: list[dict]) -> None:
    print(
        f"\nLoad through gunicorn (2 x 8 threads): {SAVERS} admin savers x {SAVES_EACH} saves, "
        f"{READERS} public readers x {READS_EACH} reads"
    )
    header = (
        "database",
        "saves",
        "reads",
        "5xx",
        "locked",
        "failed",
        "save p50/p99",
        "read p50/p99",
    )
    rows = []
    for result in results:
        tally: Tally = result["tally"]
        saves, reads = tally.timings["save"], tally.timings["read"]
        rows.append(
            (
                result["label"],
                str(len(saves)),
                str(len(reads)),
                str(tally.errors_5xx),
                str(result["locked"]),
                str(tally.failures),
                f"{statistics.median(saves):.0f}/{percentile(saves, 0.99):.0f} ms",
                f"{statistics.median(reads):.0f}/{percentile(reads, 0.99):.0f} ms",
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def base_env(var_dir: Path) -> dict:
    """make run's environment: DEBUG off, plain http on 127.0.0.1, a temporary var/."""
    keep = ("PATH", "HOME", "LANG")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_COOKIES": "false",
        "VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
    }


def postgres_database(url: str, name: str, action: str) -> None:
    import psycopg

    admin_url = urllib.parse.urlparse(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="osa-load-sqlite-") as tmp:
        results.append(run_load("SQLite (embedded)", base_env(Path(tmp)), Path(tmp)))

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        parsed = urllib.parse.urlparse(url)
        name = f"{parsed.path.lstrip('/')}_load"
        load_url = parsed._replace(path=f"/{name}").geturl()
        postgres_database(url, name, "create")
        try:
            with tempfile.TemporaryDirectory(prefix="osa-load-pg-") as tmp:
                env = {**base_env(Path(tmp)), "DATABASE_URL": load_url}
                results.append(run_load("PostgreSQL", env, Path(tmp)))
        finally:
            postgres_database(url, name, "drop")
    else:
        print("DATABASE_URL is not PostgreSQL: the PostgreSQL half of the load is skipped.")
    report(results)


if __name__ == "__main__":
    main()
