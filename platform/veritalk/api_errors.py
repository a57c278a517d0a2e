"""The API's error handler: DRF's, plus the project's input and consent errors as
400 (or 403) with the message naming the problem, so that no bad input is a 500."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_handler

from generation.errors import InputError


def exception_handler(exc, context):
    if isinstance(exc, InputError):
        exc = exceptions.ValidationError({exc.field or "non_field_errors": [exc.message], "code": exc.code})
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError({"non_field_errors": exc.messages, "code": "invalid"})
    else:
        try:
            from consent.services import ConsentError
        except ImportError:  # pragma: no cover - the app is always installed
            ConsentError = ()
        if ConsentError and isinstance(exc, ConsentError):
            if exc.code in ("forbidden", "not_subject"):
                exc = exceptions.PermissionDenied({"detail": exc.message, "code": exc.code})
            else:
                exc = exceptions.ValidationError({exc.field or "non_field_errors": [exc.message], "code": exc.code})
    return drf_handler(exc, context)
