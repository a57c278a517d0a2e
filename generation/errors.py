"""Errors for inputs a user supplied. Each names the problem with a stable `code`
so the portal, the API and the CLI can show it and clients can branch on it.

Messages are English templates with named parameters, marked with `gettext_noop`
so `make messages` collects them; the library never imports Django. `message` is
rendered when it is read, through the translator the platform installs
(`set_translator`, the active language's gettext): a French page shows the French
text, and an untranslated or broken template falls back to the English one."""
from __future__ import annotations

from typing import Callable


def gettext_noop(text: str) -> str:
    """Marks a message template for translation; returns it unchanged."""
    return text


_translate: Callable[[str], str] = gettext_noop


def set_translator(translate: Callable[[str], str]) -> None:
    global _translate
    _translate = translate


class InputError(ValueError):
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, params: dict | None = None):
        self.template, self.params, self.field = message, dict(params or {}), field
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


class UnsupportedFormat(InputError):
    code = "unsupported_format"


class CorruptFile(InputError):
    code = "corrupt_file"


class FileTooLarge(InputError):
    code = "file_too_large"


class ImageTooLarge(InputError):
    code = "image_too_large"


class NoFaceFound(InputError):
    code = "no_face"


class MultipleFaces(InputError):
    code = "multiple_faces"


class AudioTooLong(InputError):
    code = "audio_too_long"


class AudioEmpty(InputError):
    code = "audio_empty"


class InvalidControl(InputError):
    code = "invalid_control"

    @classmethod
    def not_one_of(cls, name: str, choices) -> "InvalidControl":
        return cls(gettext_noop("%(name)s must be one of %(choices)s"), field=name,
                   params={"name": name, "choices": ", ".join(map(str, choices))})
