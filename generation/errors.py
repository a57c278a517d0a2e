"""Errors for inputs a user supplied. Each names the problem with a stable `code`
so the portal, the API and the CLI can show it and clients can branch on it; their
messages are translated templates (common.errors.UserError)."""
from __future__ import annotations

from common.errors import UserError
from common.errors import gettext_noop as gettext_noop  # re-exported: the engine modules mark their messages with it


class InputError(UserError):
    """An input file or value the engine cannot use."""
    code = "invalid_input"


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
