from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Output registry"

    def ready(self):
        from . import services  # noqa: F401, PLC0415 - connects its consent_revoked receiver once the apps are loaded
