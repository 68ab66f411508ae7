import getpass

from django.core.management.base import BaseCommand, CommandError

from regulation.seed import SeedError, load_seed


class Command(BaseCommand):
    help = (
        "Apply the fact releases listed in fixtures/releases.json that are not applied yet, in "
        "order, in one transaction. Running it again changes nothing; records staff deleted stay "
        "deleted and fields staff edited keep their edits (conflicts are listed in the admin)."
    )

    def handle(self, *args, **options) -> None:
        try:
            report = load_seed(applied_by=f"manage.py load_seed ({_login()})")
        except SeedError as error:
            # One line per problem, never a traceback: the data is at fault, not the code.
            raise CommandError(
                "Seed data not loaded (nothing was changed):\n" + "\n".join(error.lines)
            ) from error
        if not report.applied:
            self.stdout.write(self.style.SUCCESS("Seed up to date: no release left to apply."))
            return
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"Applied {', '.join(report.applied)}: {report.total_created} created."
            )
        )


def _login() -> str:
    """Who ran the command, as the operating system knows them (for the release record)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "unknown user"
