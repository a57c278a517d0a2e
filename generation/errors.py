"""Errors for inputs a user supplied. Each names the problem with a stable `code`
so the portal, the API and the CLI can show it and clients can branch on it."""


class InputError(ValueError):
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

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
