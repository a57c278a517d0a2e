"""Invitations: how a creator brings a person in. A link carries a random token
(only its sha256 is stored) and works once; an invitation to an existing subject
account needs no link. Accepting links the person's subject record to the
creator; it grants nothing by itself."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.permissions import is_creator, is_subject
from audit.chain import atomic as audit_atomic
from audit.chain import record

from .models import Invitation, Subject
from .services import ConsentError

LINK_DAYS = 14


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(*, creator, display_name: str, invitee=None, message: str = "",
                      days: int = LINK_DAYS) -> tuple[Invitation, str]:
    """Returns the invitation and its token (shown to the creator once, never stored)."""
    if not is_creator(creator):
        raise ConsentError(gettext_noop("only creators can invite subjects"), code="forbidden")
    display_name = display_name.strip()
    if not display_name:
        raise ConsentError(gettext_noop("give the person's name"), field="display_name")
    if invitee is not None and not is_subject(invitee):
        raise ConsentError(gettext_noop("'%(name)s' is not a subject account"), field="invitee",
                           params={"name": invitee.username})
    token = secrets.token_urlsafe(32)
    with audit_atomic():
        inv = Invitation.objects.create(creator=creator, display_name=display_name[:120], invitee=invitee,
                                        message=message, token_sha256=token_digest(token),
                                        expires_at=timezone.now() + timedelta(days=days))
        record("invitation.created", actor=creator, target=inv,
               data={"display_name": inv.display_name, "invitee": invitee.username if invitee else None,
                     "expires_at": inv.expires_at})
    return inv, token


def find_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("creator").filter(token_sha256=token_digest(token or "")).first()


def _refusal(account, inv: Invitation) -> tuple[str, str] | None:
    if not is_subject(account):
        return "not_subject", gettext_noop("invitations are accepted by subject accounts; log in as the person invited")
    if inv.accepted_at is not None:
        return "used", gettext_noop("this invitation has already been used; ask the creator for a new one")
    if inv.expires_at <= timezone.now():
        return "expired", gettext_noop("this invitation has expired; ask the creator for a new one")
    if inv.invitee_id is not None and inv.invitee_id != account.pk:
        return "not_for_you", gettext_noop("this invitation was sent to another account")
    return None


def accept_invitation(*, account, invitation: Invitation) -> Subject:
    """Link `account` (a subject account) to the inviting creator. A used, expired or
    someone else's invitation is refused, and the refusal is audited."""
    with audit_atomic():
        inv = Invitation.objects.select_for_update().select_related("creator").get(pk=invitation.pk)
        problem = _refusal(account, inv)
        if problem is None:
            subject = getattr(account, "subject_profile", None)
            if subject is None:
                name = inv.display_name
                if Subject.objects.filter(created_by=inv.creator, display_name=name).exists():
                    name = f"{name} ({account.username})"[:120]
                subject = Subject.objects.create(display_name=name, created_by=inv.creator, account=account)
                record("subject.created", actor=account, target=subject, data={"invitation": inv.pk})
            inv.accepted_at, inv.accepted_by, inv.subject = timezone.now(), account, subject
            inv.save(update_fields=["accepted_at", "accepted_by", "subject"])
            record("invitation.accepted", actor=account, target=inv,
                   data={"subject": subject.pk, "creator": inv.creator.username})
            return subject
    code, message = problem  # recorded outside the refused transaction, so the attempt stays in the log
    record("invitation.refused", actor=account, target=inv, data={"code": code})
    raise ConsentError(message, code=code)
