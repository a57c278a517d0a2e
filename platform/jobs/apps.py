from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Generation jobs"

    def ready(self):
        from . import services  # noqa: F401, PLC0415 - connects its consent_revoked receiver once the apps are loaded
