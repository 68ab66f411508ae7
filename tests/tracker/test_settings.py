"""Settings come from the environment and refuse values they cannot read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tracker.env import env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "expected"), [("true", True), (" Yes ", True), ("0", False)])
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("TRACKER_TEST_FLAG", raw)
    assert env_bool("TRACKER_TEST_FLAG") is expected


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("TRACKER_TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"TRACKER_TEST_FLAG.*'maybe'"):
        env_bool("TRACKER_TEST_FLAG")


def test_env_int_rejects_words(monkeypatch):
    monkeypatch.setenv("TRACKER_TEST_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="TRACKER_TEST_NUMBER must be a whole number"):
        env_int("TRACKER_TEST_NUMBER", 10)


def test_env_int_rejects_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("TRACKER_TEST_NUMBER", "4")
    with pytest.raises(ImproperlyConfigured, match="TRACKER_TEST_NUMBER must be at least 5"):
        env_int("TRACKER_TEST_NUMBER", 60, minimum=5)


def test_env_int_and_list_defaults(monkeypatch):
    monkeypatch.delenv("TRACKER_TEST_NUMBER", raising=False)
    monkeypatch.setenv("TRACKER_TEST_LIST", " a.example, ,b.example ")
    assert env_int("TRACKER_TEST_NUMBER", 60, minimum=5) == 60
    assert env_list("TRACKER_TEST_LIST", []) == ["a.example", "b.example"]


def _import_settings(tmp_path, **env):
    """Load the settings in a fresh interpreter with only the given environment."""
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SECRET_KEY)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = _import_settings(tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_starts_with_a_development_key(tmp_path):
    result = _import_settings(tmp_path, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("insecure-development-key")


def test_a_bad_debug_value_stops_start_up(tmp_path):
    result = _import_settings(tmp_path, DJANGO_DEBUG="maybe", SECRET_KEY="x")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_every_task_beat_schedules_is_one_the_worker_knows():
    from django.conf import settings

    from tracker.celery import app

    app.loader.import_default_modules()  # the worker's autodiscovery
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


def test_a_reminder_lease_within_the_task_time_limit_stops_start_up(tmp_path):
    # A sender still running when its lease ran out would have its rows sent by another sender
    # too: the lease must outlast the time limit that stops a task for good.
    result = _import_settings(
        tmp_path, SECRET_KEY="x", CELERY_TASK_TIME_LIMIT="300", REMINDER_LEASE_SECONDS="300"
    )
    assert result.returncode != 0
    assert "REMINDER_LEASE_SECONDS must be longer than CELERY_TASK_TIME_LIMIT" in result.stderr

    result = _import_settings(
        tmp_path, SECRET_KEY="x", CELERY_TASK_TIME_LIMIT="300", REMINDER_LEASE_SECONDS="301"
    )
    assert result.returncode == 0, result.stderr
