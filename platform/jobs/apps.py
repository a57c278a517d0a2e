from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Generation jobs"

    def ready(self):
        from . import services  # noqa: F401 - connects its consent_revoked receiver (needs the apps loaded)
