"""Enrolling subjects and granting or revoking consent, each audited."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from audit.chain import record
from generation.face import analyse_face, face_embedding
from generation.images import load_image

from .models import Consent, Subject


@transaction.atomic
def enrol_subject(*, creator, display_name: str, photo_bytes: bytes, account=None) -> Subject:
    """Create a subject from one portrait: the face embedding is kept, the photo is not."""
    rgb = load_image(photo_bytes)
    face = analyse_face(rgb)
    embedding = face_embedding(rgb, face)
    subject = Subject.objects.create(display_name=display_name, created_by=creator, account=account,
                                     face_embedding=[round(float(v), 6) for v in embedding],
                                     enrolment_sha256=hashlib.sha256(photo_bytes).hexdigest(),
                                     enrolled_at=timezone.now())
    record("subject.enrolled", actor=creator, target=subject, data={"display_name": display_name})
    return subject


@transaction.atomic
def grant_consent(*, subject: Subject, creator, actor=None, purposes=(), statement: str = "",
                  expires_at=None, starts_at=None) -> Consent:
    consent = Consent.objects.create(subject=subject, creator=creator, purposes=list(purposes), statement=statement,
                                     expires_at=expires_at, starts_at=starts_at)
    record("consent.granted", actor=actor or subject.account or creator, target=consent,
           data={"subject": subject.pk, "creator": creator.username, "purposes": list(purposes),
                 "expires_at": expires_at})
    return consent


@transaction.atomic
def revoke_consent(consent: Consent, *, actor=None, reason: str = "") -> Consent:
    if consent.revoked_at is None:
        consent.revoked_at = timezone.now()
        consent.revoked_reason = reason
        consent.save(update_fields=["revoked_at", "revoked_reason"])
        record("consent.revoked", actor=actor, target=consent, data={"reason": reason})
    return consent
