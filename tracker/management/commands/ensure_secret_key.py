"""Make sure the embedded run (`make run`, DEBUG off) has a secret key of its own.

Generates a long random key once into var/secret-key.txt (readable only by its owner) and keeps
it, so sessions survive a restart. `make run` points SECRET_KEY_FILE at it; a production
deployment sets SECRET_KEY (or SECRET_KEY_FILE) itself and never needs this command.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from tracker.management.commands.ensure_admin import read_or_create_secret

SECRET_KEY_FILE_NAME = "secret-key.txt"


class Command(BaseCommand):
    help = f"Generate a secret key once into var/{SECRET_KEY_FILE_NAME} unless it exists."

    def handle(self, *args, **options) -> None:
        path = Path(settings.VAR_DIR) / SECRET_KEY_FILE_NAME
        existed = path.exists()
        read_or_create_secret(path, nbytes=48)  # 64 characters: check --deploy wants 50+
        self.stdout.write(f"Secret key {'kept' if existed else 'generated'} in {path}")
