"""Enrolling subjects and granting, elevating or revoking consent, each audited.

Two ways in: `enrol_subject` / `grant_consent` are the low-level operations (the
demo seed and the admin use them); `enrol_selfies` / `give_consent` are what a
subject does through the portal and the API, with every check a subject-facing
path needs (their own account, an invitation from that creator, an enrolled face,
a scope the policy knows)."""
from __future__ import annotations

import hashlib
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.permissions import CREATOR_ROLES, can_moderate, is_subject
from audit.chain import atomic as audit_atomic
from audit.chain import record
from common.errors import UserError
from detection.photo_check import NotAPhotograph
from generation.errors import InputError

from .identity import centroid, distance, embed_photo, max_pairwise_distance
from .models import Consent, Subject
from .policy import current_policy
from .signals import consent_revoked

MAX_SELFIES = 5


class ConsentError(UserError):
    """A consent operation refused for a reason the user can act on."""


def identity_threshold() -> float:
    return float(current_policy().param("identity_match", "max_distance"))


@audit_atomic()
def enrol_subject(*, creator, display_name: str, photo_bytes: bytes, account=None) -> Subject:
    """Create a subject from one portrait: the face embedding is kept, the photo is not."""
    embedding = embed_photo(photo_bytes, photograph=True)
    subject = Subject.objects.create(display_name=display_name, created_by=creator, account=account,
                                     face_embedding=embedding, enrolment_embeddings=[embedding],
                                     enrolment_sha256=hashlib.sha256(photo_bytes).hexdigest(),
                                     enrolled_at=timezone.now())
    record("subject.enrolled", actor=creator, target=subject, data={"display_name": display_name, "selfies": 1})
    return subject


def enrol_selfies(*, account, selfies: list[bytes]) -> Subject:
    """A subject enrols (or re-enrols) their face from 1-5 selfies. Embeddings are
    kept, the pixels never touch the disk. Refused when the selfies disagree, or
    when the face is already enrolled by another account (one face, one account)."""
    subject = getattr(account, "subject_profile", None)
    if not is_subject(account) or subject is None:
        raise ConsentError(gettext_noop("only a subject account that accepted an invitation can enrol a face"),
                           code="not_subject")
    if not 1 <= len(selfies) <= MAX_SELFIES:
        raise ConsentError(gettext_noop("send between 1 and %(max)d selfies (got %(got)d)"), code="selfie_count",
                           field="selfies", params={"max": MAX_SELFIES, "got": len(selfies)})
    try:
        embeddings = [embed_photo(data, field="selfies", photograph=True) for data in selfies]
    except NotAPhotograph:
        record("subject.enrolment_refused", actor=account, target=subject,
               data={"reason": "not a photograph of a person (photo check)"})
        raise
    threshold = identity_threshold()
    if max_pairwise_distance(embeddings) >= threshold:
        raise InputError(gettext_noop("the selfies do not all show the same person; send selfies of yourself only"),
                         field="selfies")
    mean = centroid(embeddings)
    for other in Subject.objects.exclude(pk=subject.pk).filter(account__isnull=False, face_embedding__isnull=False):
        if distance(other.face_embedding, mean) < threshold:
            record("subject.enrolment_refused", actor=account, target=subject,
                   data={"reason": "face already enrolled by another account", "other_subject": other.pk})
            raise ConsentError(gettext_noop("this face is already enrolled by another account; contact support if "
                                            "it is yours"), code="face_taken", field="selfies")
    digest = hashlib.sha256(b"".join(hashlib.sha256(s).digest() for s in selfies)).hexdigest()
    with audit_atomic():
        subject.face_embedding, subject.enrolment_embeddings = mean, embeddings
        subject.enrolment_sha256, subject.enrolled_at = digest, timezone.now()
        subject.save(update_fields=["face_embedding", "enrolment_embeddings", "enrolment_sha256", "enrolled_at"])
        record("subject.enrolled", actor=account, target=subject,
               data={"selfies": len(selfies), "selfie_sha256": [hashlib.sha256(s).hexdigest() for s in selfies]})
    return subject


@audit_atomic()
def grant_consent(*, subject: Subject, creator, actor=None, purposes=(), statement: str = "",
                  expires_at=None, starts_at=None, channels=(), max_videos: int | None = None) -> Consent:
    consent = Consent.objects.create(subject=subject, creator=creator, purposes=list(purposes), statement=statement,
                                     expires_at=expires_at, starts_at=starts_at, channels=list(channels),
                                     max_videos=max_videos)
    record("consent.granted", actor=actor or subject.account or creator, target=consent,
           data={"subject": subject.pk, "creator": creator.username, "purposes": list(purposes),
                 "channels": list(channels), "max_videos": max_videos, "starts_at": starts_at,
                 "expires_at": expires_at, "statement_sha256": hashlib.sha256(statement.encode()).hexdigest()})
    return consent


def subjects_for(creator):
    """The subjects a creator may submit jobs for: those they registered and those
    who accepted their invitation. Anything else is refused as "not one of yours"."""
    return Subject.objects.filter(Q(created_by=creator) | Q(invitations__creator=creator,
                                                          invitations__accepted_at__isnull=False)).distinct()


def subjects_to_offer(creator):
    """The subjects a creator's forms offer: `subjects_for`, less those who revoked their
    consent to this creator and have not granted a new one since."""
    revoked = Consent.objects.filter(creator=creator, revoked_at__isnull=False).values("subject_id")
    standing = Consent.objects.filter(creator=creator, revoked_at__isnull=True).values("subject_id")
    return subjects_for(creator).exclude(Q(pk__in=revoked) & ~Q(pk__in=standing))


def creators_of(subject: Subject) -> list:
    """Creators this subject may consent to: the one who registered them and every
    creator whose invitation they accepted."""
    ids = set(subject.invitations.filter(accepted_at__isnull=False).values_list("creator_id", flat=True))
    ids.add(subject.created_by_id)
    return list(get_user_model().objects.filter(pk__in=ids, role__in=CREATOR_ROLES).order_by("username"))


def give_consent(*, account, creator, purposes, channels=(), expires_at: datetime | None = None,
                 starts_at: datetime | None = None, max_videos: int | None = None, statement: str = "",
                 agreed: bool = False) -> Consent:
    """A subject grants a scoped consent to a creator who invited them."""
    subject = getattr(account, "subject_profile", None)
    if not is_subject(account) or subject is None:
        raise ConsentError(gettext_noop("only a subject account can grant consent"), code="not_subject")
    if creator not in creators_of(subject):
        raise ConsentError(gettext_noop("'%(creator)s' has not invited you; you can consent only to creators who did"),
                           code="not_invited", field="creator", params={"creator": creator.username})
    if not subject.enrolled:
        raise ConsentError(gettext_noop("enrol your face with selfies before granting consent"), code="not_enrolled")
    policy = current_policy()
    allowed_purposes = policy.param("allowed_purpose", "purposes", [])
    known_channels = policy.param("consent_in_scope", "channels", [])
    purposes, channels = list(dict.fromkeys(purposes or [])), list(dict.fromkeys(channels or []))
    if not purposes:
        raise ConsentError(gettext_noop("choose at least one purpose"), code="no_purpose", field="purposes")
    bad = [p for p in purposes if p not in allowed_purposes]
    if bad:
        raise ConsentError(gettext_noop("unknown purpose(s) %(bad)s; choose from %(allowed)s"), field="purposes",
                           params={"bad": ", ".join(bad), "allowed": ", ".join(allowed_purposes)})
    bad = [c for c in channels if c not in known_channels]
    if bad:
        raise ConsentError(gettext_noop("unknown channel(s) %(bad)s; choose from %(allowed)s"), field="channels",
                           params={"bad": ", ".join(bad), "allowed": ", ".join(known_channels)})
    now = timezone.now()
    if expires_at is not None and expires_at <= max(now, starts_at or now):
        raise ConsentError(gettext_noop("the expiry must be in the future and after the start"), field="expires_at")
    if max_videos is not None and max_videos < 1:
        raise ConsentError(gettext_noop("the number of videos must be at least 1 (leave it empty for no limit)"),
                           field="max_videos")
    if not agreed:
        raise ConsentError(gettext_noop("tick the box to confirm that you agree"), code="not_agreed", field="agree")
    statement = statement or (f"I, {subject.display_name}, agree that {creator.username} may make videos of my face "
                              f"with Veritalk for: {', '.join(purposes)}.")
    return grant_consent(subject=subject, creator=creator, actor=account, purposes=purposes, channels=channels,
                         expires_at=expires_at, starts_at=starts_at, max_videos=max_videos, statement=statement)


def revoke_consent(consent: Consent, *, actor=None, reason: str = "") -> Consent:
    """Revocation is immediate: queued jobs under this consent are cancelled, a
    running one stops at its next policy check (and never releases), and past
    outputs are marked revoked in the registry; the first and the last are done by
    jobs and the registry, on `consent_revoked`, in this same transaction."""
    with audit_atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.revoked_at is None:
            consent.revoked_at = timezone.now()
            consent.revoked_reason = reason
            consent.save(update_fields=["revoked_at", "revoked_reason"])
            record("consent.revoked", actor=actor, target=consent, data={"reason": reason})
        consent_revoked.send(sender=Consent, consent=consent, actor=actor)
    return consent


@audit_atomic()
def elevate_consent(consent: Consent, *, by, note: str) -> Consent:
    """An admin or moderator marks a consent as verified outside the platform (for
    example the office of a public official confirmed it): faces on the protected
    list are then allowed under it."""
    if not can_moderate(by):
        raise ConsentError(gettext_noop("only an admin or moderator can verify an elevated consent"), code="forbidden")
    if not note.strip():
        raise ConsentError(gettext_noop("say how the consent was verified"), field="note")
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if not consent.is_active():
        raise ConsentError(gettext_noop("consent #%(id)s is not active"), code="inactive", params={"id": consent.pk})
    consent.elevated_at, consent.elevated_by, consent.elevation_note = timezone.now(), by, note.strip()
    consent.save(update_fields=["elevated_at", "elevated_by", "elevation_note"])
    record("consent.elevated", actor=by, target=consent, data={"note": note.strip()})
    return consent

