from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tracking and reminders"

    def ready(self) -> None:
        from tracker.webhooks import events

        events.connect()
