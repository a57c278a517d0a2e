from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Generation jobs"

    def ready(self):
        # The generation library's input errors are English templates; their message is
        # rendered in the language active where it is read (a French page, an API client's
        # Accept-Language).
        from django.utils.translation import gettext

        from generation import errors
        errors.set_translator(gettext)
