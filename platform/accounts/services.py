"""Vetting: a creator generates nothing until an admin or moderator vets the
account with a note; vetting and unvetting are audited. A creator who signed up in
the portal asks to be vetted (a VettingRequest); the decision closes the request and
the applicant is told by email."""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.chain import atomic as audit_atomic
from audit.chain import record
from common.errors import UserError

from .models import VettingRequest
from .permissions import can_moderate, is_creator

log = logging.getLogger(__name__)


class VettingError(UserError):
    """A vetting decision refused (who may vet whom, and with a note)."""


@audit_atomic()
def request_vetting(user, *, message: str) -> VettingRequest:
    """A creator asks to be vetted, saying what they plan to make; one open request at a time."""
    if not is_creator(user):
        raise VettingError(gettext_noop("only a creator account can ask to be vetted"), code="not_creator")
    if user.vetted:
        raise VettingError(gettext_noop("this account is already vetted"), code="already_vetted")
    message = (message or "").strip()
    if not message:
        raise VettingError(gettext_noop("say what you plan to make and for whom"), code="message_required",
                           field="message")
    if user.pending_vetting_request():
        raise VettingError(gettext_noop("your request is already waiting for review"), code="already_requested")
    req = VettingRequest.objects.create(user=user, message=message[:4000])
    record("vetting.requested", actor=user, target=user, data={"username": user.username, "request": req.pk})
    return req


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
    pending = user.pending_vetting_request()
    if pending is not None:
        pending.decision = VettingRequest.Decision.APPROVED if vetted else VettingRequest.Decision.REFUSED
        pending.decided_at, pending.decided_by, pending.note = timezone.now(), by, note
        pending.save(update_fields=["decision", "decided_at", "decided_by", "note"])
        record("vetting.decided", actor=by, target=user,
               data={"username": user.username, "request": pending.pk, "decision": pending.decision})
        transaction.on_commit(lambda: tell_applicant(pending))
    return user


def tell_applicant(req: VettingRequest) -> bool:
    """The e-mail that tells an applicant the decision on their request (False when the
    account has no address, or the mail could not be sent: the decision stands)."""
    user = req.user
    if not user.email:
        return False
    if req.decision == VettingRequest.Decision.APPROVED:
        subject = _("Veritalk: your creator account is vetted")
        body = _("Hello %(name)s,\n\nYour request was approved: you can now make videos of the people who "
                 "consented to it.\n\nNote from the reviewer: %(note)s\n") % {"name": user.username, "note": req.note}
    else:
        subject = _("Veritalk: your vetting request was refused")
        body = _("Hello %(name)s,\n\nYour request to be vetted as a creator was refused.\n\nNote from the "
                 "reviewer: %(note)s\n\nYou may ask again from your dashboard.\n") % {"name": user.username,
                                                                                      "note": req.note}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError as exc:
        log.warning("vetting decision e-mail to %s not sent: %s", user.username, exc)
        return False
    return True
