from django.apps import AppConfig


class RegulationConfig(AppConfig):
    name = "regulation"
    verbose_name = "Online Safety Act knowledge"

    def ready(self) -> None:
        from regulation import checks, receivers  # noqa: F401  (checks register on import)

        receivers.connect()
