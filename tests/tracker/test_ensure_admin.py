"""`manage.py ensure_admin`: a login exists after `make run`, and existing passwords stay put."""

import stat

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command


@pytest.fixture
def var_dir(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    return tmp_path


def test_creates_a_superuser_with_a_generated_password_kept_private(var_dir, db, capsys):
    call_command("ensure_admin")

    password_file = var_dir / "admin-password.txt"
    password = password_file.read_text().strip()
    assert len(password) >= 20
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    user = User.objects.get(username="admin")
    assert user.is_superuser and user.is_staff
    assert user.check_password(password)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/admin/" in out
    assert "username: admin" in out
    assert str(password_file) in out
    assert password not in out


def test_runs_again_without_touching_the_password(var_dir, db, capsys):
    call_command("ensure_admin")
    password = (var_dir / "admin-password.txt").read_text().strip()
    user = User.objects.get(username="admin")
    user.set_password("changed-by-the-admin-since")
    user.save()

    call_command("ensure_admin")

    assert User.objects.filter(username="admin").count() == 1
    user.refresh_from_db()
    assert user.check_password("changed-by-the-admin-since")
    assert (var_dir / "admin-password.txt").read_text().strip() == password
    assert "already exists" in capsys.readouterr().out


def test_takes_name_and_password_from_the_environment(var_dir, db, monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_USERNAME", "curator")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-password-from-the-environment")
    monkeypatch.setenv("PORT", "8123")

    call_command("ensure_admin")

    assert User.objects.get(username="curator").check_password("a-password-from-the-environment")
    assert not (var_dir / "admin-password.txt").exists()
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/admin/" in out
    assert "ADMIN_PASSWORD" in out
    assert "a-password-from-the-environment" not in out


def test_never_changes_an_existing_users_password(var_dir, db, monkeypatch):
    User.objects.create_user("admin", password="the-original-password")
    monkeypatch.setenv("ADMIN_PASSWORD", "something-else-entirely")

    call_command("ensure_admin")

    assert User.objects.get(username="admin").check_password("the-original-password")
