"""Vetting: a creator generates nothing until an admin or moderator vets the
account with a note; vetting and unvetting are audited."""
from __future__ import annotations

from django.utils import timezone

from audit.chain import atomic as audit_atomic, record


class VettingError(ValueError):
    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message, self.code = message, code


def can_moderate(user) -> bool:
    return bool(user and user.is_authenticated
                and (getattr(user, "role", None) in ("admin", "moderator") or user.is_superuser))


@audit_atomic()
def set_vetted(user, *, by, vetted: bool, note: str):
    if not can_moderate(by):
        raise VettingError("only an admin or moderator can vet creators", code="forbidden")
    if user.role not in ("creator", "admin"):
        raise VettingError(f"'{user.username}' is not a creator account", code="not_creator")
    note = (note or "").strip()
    if not note:
        raise VettingError("a vetting decision needs a note saying why", code="note_required")
    if user.pk == by.pk:
        raise VettingError("nobody vets their own account", code="self_vetting")
    user.vetted, user.vetting_note = vetted, note
    user.vetted_at, user.vetted_by = (timezone.now(), by) if vetted else (None, by)
    user.save(update_fields=["vetted", "vetted_at", "vetted_by", "vetting_note"])
    record("account.vetted" if vetted else "account.unvetted", actor=by, target=user,
           data={"username": user.username, "note": note})
    return user
