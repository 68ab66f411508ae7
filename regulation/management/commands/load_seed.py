from django.core.management.base import BaseCommand, CommandError

from regulation.seed import SeedError, load_seed


class Command(BaseCommand):
    help = (
        "Load the seed data (fixtures/osa-facts.json and fixtures/curation.json). Creates only "
        "what is missing: running it again changes nothing, and records staff have edited keep "
        "their edits."
    )

    def handle(self, *args, **options) -> None:
        try:
            report = load_seed()
        except SeedError as error:
            raise CommandError(f"Seed data not loaded (nothing was changed): {error}") from error
        for line in report.lines():
            self.stdout.write(line)
        if report.total_created:
            self.stdout.write(self.style.SUCCESS(f"Seed loaded: {report.total_created} created."))
        else:
            self.stdout.write(self.style.SUCCESS("Seed already loaded: nothing to create."))
