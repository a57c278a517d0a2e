"""Who may do what, by role (accounts.models.Role): the one home of the checks that the
API, the portal, the services and the commands make. A superuser counts as an admin,
and an admin may do what creators and moderators do."""
from __future__ import annotations

from typing import Callable

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_noop
from rest_framework.permissions import BasePermission

from .models import Role

# Roles whose accounts make videos (and may be vetted, invited to, consented to).
CREATOR_ROLES = (Role.CREATOR, Role.ADMIN)


def role_of(user) -> str | None:
    """The signed-in user's role; None for an anonymous visitor."""
    return getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN or bool(role_of(user) and getattr(user, "is_superuser", False))


def is_creator(user) -> bool:
    return role_of(user) == Role.CREATOR or is_admin(user)


def is_subject(user) -> bool:
    return role_of(user) == Role.SUBJECT


def can_moderate(user) -> bool:
    return role_of(user) == Role.MODERATOR or is_admin(user)


def can_see_every_job(user) -> bool:
    """Staff roles read any job's page (auditors verify, moderators review)."""
    return role_of(user) in (Role.AUDITOR, Role.MODERATOR) or is_admin(user) or getattr(user, "is_staff", False)


def require(user, check: Callable[[object], bool], message: str) -> None:
    """For portal pages: a 403 naming who the page is for, unless `check(user)` (the portal's
    403 page translates `message` where it is a catalogue string: mark it with gettext_noop)."""
    if not check(user):
        raise PermissionDenied(message)


class _RolePermission(BasePermission):
    check = staticmethod(lambda user: False)

    def has_permission(self, request, view):
        return self.check(request.user)


class CreatorsOnly(_RolePermission):
    message = gettext_noop("This needs a creator account.")
    check = staticmethod(is_creator)


class SubjectsOnly(_RolePermission):
    message = gettext_noop("This needs a subject account (the person shown in the videos).")
    check = staticmethod(is_subject)


MODERATORS_ONLY = gettext_noop("This needs an admin or moderator account.")


class ModeratorsOnly(_RolePermission):
    message = MODERATORS_ONLY
    check = staticmethod(can_moderate)
