"""Vetting: a creator generates nothing until an admin or moderator vets the
account with a note; vetting and unvetting are audited."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_noop

from audit.chain import atomic as audit_atomic
from audit.chain import record
from common.errors import UserError

from .permissions import can_moderate, is_creator


class VettingError(UserError):
    """A vetting decision refused (who may vet whom, and with a note)."""


@audit_atomic()
def set_vetted(user, *, by, vetted: bool, note: str):
    if not can_moderate(by):
        raise VettingError(gettext_noop("only an admin or moderator can vet creators"), code="forbidden")
    if not is_creator(user):
        raise VettingError(gettext_noop("'%(name)s' is not a creator account"), code="not_creator",
                           params={"name": user.username})
    note = (note or "").strip()
    if not note:
        raise VettingError(gettext_noop("a vetting decision needs a note saying why"), code="note_required",
                           field="note")
    if user.pk == by.pk:
        raise VettingError(gettext_noop("nobody vets their own account"), code="self_vetting")
    user.vetted, user.vetting_note = vetted, note
    user.vetted_at, user.vetted_by = (timezone.now(), by) if vetted else (None, by)
    user.save(update_fields=["vetted", "vetted_at", "vetted_by", "vetting_note"])
    record("account.vetted" if vetted else "account.unvetted", actor=by, target=user,
           data={"username": user.username, "note": note})
    return user
