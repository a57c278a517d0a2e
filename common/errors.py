"""The one base class for errors a user can act on (bad input, a refusal): a stable
`code` clients can branch on, the `field` it concerns, and a `message` naming the problem.

Messages are English templates with named parameters, marked with `gettext_noop` so
`make messages` collects them from the libraries and the platform alike; nothing here
imports Django. `message` is rendered when it is read, through the translator the
platform installs (`set_translator`, the active language's gettext): a French page shows
the French text, and an untranslated or broken template falls back to the English one.
`str()` stays English, for logs."""
from __future__ import annotations

from typing import Callable


def gettext_noop(text: str) -> str:
    """Marks a message template for translation; returns it unchanged."""
    return text


_translate: Callable[[str], str] = gettext_noop


def set_translator(translate: Callable[[str], str]) -> Callable[[str], str]:
    """Install the platform's translator; returns the one it replaces."""
    global _translate
    previous, _translate = _translate, translate
    return previous


class UserError(ValueError):
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 params: dict | None = None):
        self.template, self.params, self.field = message, dict(params or {}), field
        if code is not None:
            self.code = code
        super().__init__(self._render(gettext_noop))

    def _render(self, translate: Callable[[str], str]) -> str:
        english = self.template % self.params if self.params else self.template
        try:
            text = translate(self.template)
            return text % self.params if self.params else text
        except (KeyError, ValueError, TypeError):
            return english

    @property
    def message(self) -> str:
        return self._render(_translate)

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}
