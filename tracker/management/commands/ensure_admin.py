"""Make sure a person can log in to the admin of a freshly set-up tracker.

Creates a superuser when no user with the name exists; never changes an existing user's password.
The password comes from ADMIN_PASSWORD or, if that is unset, is generated once and kept in
var/admin-password.txt (readable only by its owner), so `make run` can be repeated safely.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

PASSWORD_FILE_NAME = "admin-password.txt"


def read_or_create_secret(path: Path, nbytes: int = 18) -> str:
    """The secret stored at path, or a new random one (nbytes of randomness) written there with
    mode 0600. Also used for the secret key (ensure_secret_key)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


class Command(BaseCommand):
    help = (
        "Create an admin superuser (ADMIN_USERNAME, default 'admin') if none exists, and say "
        "how to log in. The password is ADMIN_PASSWORD or a random one kept in "
        f"var/{PASSWORD_FILE_NAME}."
    )

    def handle(self, *args, **options) -> None:
        username = os.environ.get("ADMIN_USERNAME") or "admin"
        env_password = os.environ.get("ADMIN_PASSWORD") or ""
        password_file = Path(settings.VAR_DIR) / PASSWORD_FILE_NAME
        url = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}/admin/"

        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user {username!r} already exists; its password is unchanged.")
            if env_password:
                where = "the password you set for it (ADMIN_PASSWORD is not applied again)"
            elif password_file.exists():
                where = f"the password in {password_file} (unless changed since)"
            else:
                where = "the password you set for it"
        else:
            if env_password:
                password, where = env_password, "the password in ADMIN_PASSWORD"
            else:
                password = read_or_create_secret(password_file)
                where = f"the password in {password_file}"
            User.objects.create_superuser(username=username, email="", password=password)
            self.stdout.write(self.style.SUCCESS(f"Created admin user {username!r}."))

        self.stdout.write(f"Log in at {url}\n  username: {username}\n  password: {where}")
