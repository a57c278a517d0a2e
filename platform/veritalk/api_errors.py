"""The API's error handler: DRF's, plus every user-facing error (common.errors.UserError:
the libraries' input errors, the apps' refusals) as 400 naming the field, 403 for who may
do this, 409 for a spent invitation; so that no bad input is a 500."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_handler

from common.errors import UserError

# Refusal codes that are not about the input: who may do this, or a state that forbids it.
STATUS_BY_CODE = {"forbidden": status.HTTP_403_FORBIDDEN, "not_subject": status.HTTP_403_FORBIDDEN,
                  "used": status.HTTP_409_CONFLICT}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def as_api_exception(exc: UserError) -> exceptions.APIException:
    code = STATUS_BY_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST)
    if code == status.HTTP_403_FORBIDDEN:
        return exceptions.PermissionDenied({"detail": exc.message, "code": exc.code})
    if code == status.HTTP_409_CONFLICT:
        return Conflict({"detail": exc.message, "code": exc.code})
    return exceptions.ValidationError({exc.field or "non_field_errors": [exc.message], "code": exc.code})


def exception_handler(exc, context):
    if isinstance(exc, UserError):
        exc = as_api_exception(exc)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError({"non_field_errors": exc.messages, "code": "invalid"})
    return drf_handler(exc, context)
