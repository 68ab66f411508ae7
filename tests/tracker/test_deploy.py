"""Production settings pass Django's deployment checks; the local run has a key of its own."""

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parents[2]


def _run(tmp_path, args: list[str], **env) -> subprocess.CompletedProcess:
    """manage.py ARGS in a fresh interpreter with only the given environment (no DEBUG)."""
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_with_production_settings_finds_nothing(tmp_path):
    result = _run(
        tmp_path,
        ["check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="tracker.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_production_defaults_redirect_to_https_and_send_hsts(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = _run(
        tmp_path, ["shell", "--no-imports", "-c", code], SECRET_KEY=secrets.token_urlsafe(48)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"] * 5


def test_the_plain_http_local_run_can_switch_https_off(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE)"
    )
    result = _run(
        tmp_path,
        ["shell", "--no-imports", "-c", code],
        SECRET_KEY=secrets.token_urlsafe(48),
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        SECURE_COOKIES="false",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "0", "False"]


def test_a_proxy_ssl_header_needs_a_header_and_a_value(tmp_path):
    result = _run(
        tmp_path, ["check"], SECRET_KEY=secrets.token_urlsafe(48), SECURE_PROXY_SSL_HEADER="x"
    )

    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be 'HEADER,value'" in result.stderr


def test_ensure_secret_key_generates_a_private_key_once_and_settings_read_it(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("ensure_secret_key")
    key_file = tmp_path / "secret-key.txt"
    key = key_file.read_text().strip()
    call_command("ensure_secret_key")

    assert key_file.read_text().strip() == key
    assert len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    code = "from django.conf import settings as s; print(s.SECRET_KEY)"
    result = _run(tmp_path, ["shell", "--no-imports", "-c", code], SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == key


def test_a_missing_secret_key_file_stops_start_up(tmp_path):
    result = _run(tmp_path, ["check"], SECRET_KEY_FILE=str(tmp_path / "absent.txt"))

    assert result.returncode != 0
    assert "SECRET_KEY_FILE cannot be read" in result.stderr
