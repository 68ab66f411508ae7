from django.apps import AppConfig


class RegulationConfig(AppConfig):
    name = "regulation"
    verbose_name = "Online Safety Act knowledge"
