from django.apps import AppConfig
from django.utils.translation import gettext

from common.errors import set_translator


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Every user-facing error (common.errors.UserError: the libraries' input errors,
        # the apps' refusals) is an English template; its message is rendered in the language
        # active where it is read (a French page, an API client's Accept-Language).
        set_translator(gettext)
