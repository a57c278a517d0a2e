"""Subjects (the people depicted), the consents they grant to creators, the
invitations that bring them in, and the protected-person list."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Subject(models.Model):
    display_name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subjects_created")
    account = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="subject_profile")
    # Identity enrolment: the dlib embeddings are kept, the pixels are not.
    face_embedding = models.JSONField(null=True, blank=True, help_text="Mean of the enrolled embeddings.")
    enrolment_embeddings = models.JSONField(default=list, blank=True, help_text="One 128-d embedding per selfie.")
    enrolment_sha256 = models.CharField(max_length=64, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["created_by", "display_name"],
                                               name="unique_subject_name_per_creator")]

    def __str__(self):
        return self.display_name

    @property
    def enrolled(self) -> bool:
        return bool(self.face_embedding)

    def active_consent(self, creator, now=None):
        """The consent that currently covers `creator`, else the most recent one
        (so a denial can say whether it was revoked or expired), else None."""
        now = now or timezone.now()
        consents = list(self.consents.filter(creator=creator).order_by("-granted_at"))
        for c in consents:
            if c.is_active(now):
                return c
        return consents[0] if consents else None

    def consent_for(self, creator, *, purpose: str = "", channel: str = "", now=None):
        """The active consent whose scope covers this purpose and channel, else
        `active_consent` (so the decision can say what is missing)."""
        now = now or timezone.now()
        for c in self.consents.filter(creator=creator).order_by("-granted_at"):
            if c.is_active(now) and purpose in (c.purposes or []) and (not c.channels or channel in c.channels):
                return c
        return self.active_consent(creator, now)


class Consent(models.Model):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="consents")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents_received")
    purposes = models.JSONField(default=list, blank=True, help_text="Purposes the subject agreed to.")
    channels = models.JSONField(default=list, blank=True, help_text="Where videos may be shown; empty = anywhere.")
    max_videos = models.PositiveIntegerField(null=True, blank=True, help_text="How many videos; empty = no limit.")
    statement = models.TextField(blank=True, help_text="The consent statement the subject agreed to.")
    granted_at = models.DateTimeField(default=timezone.now)
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    # Elevated consent: an admin or moderator verified, outside the platform, that the
    # subject is who they say; required for faces on the protected list.
    elevated_at = models.DateTimeField(null=True, blank=True)
    elevated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    elevation_note = models.TextField(blank=True)

    def __str__(self):
        return f"consent #{self.pk} {self.subject} -> {self.creator}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
                and (self.starts_at is None or self.starts_at <= now))

    def policy_facts(self) -> dict:
        iso = lambda t: t.isoformat() if t else None
        return {"id": self.pk, "purposes": self.purposes, "channels": self.channels or [],
                "max_videos": self.max_videos, "granted_at": iso(self.granted_at),
                "starts_at": iso(self.starts_at), "expires_at": iso(self.expires_at),
                "revoked_at": iso(self.revoked_at), "elevated": self.elevated_at is not None}


class Invitation(models.Model):
    """A creator's request to a person to become their subject: a one-time link,
    or addressed to an existing subject account. Accepting it grants nothing: the
    subject then enrols and grants a scoped consent."""
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations_sent")
    display_name = models.CharField(max_length=120, help_text="How the creator names the person.")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="invitations_received", help_text="Set when sent to a subject account.")
    token_sha256 = models.CharField(max_length=64, unique=True)  # the link's token itself is never stored
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    subject = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"invitation #{self.pk} from {self.creator} to {self.display_name}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        return "expired" if self.expires_at <= timezone.now() else "pending"


class ProtectedPerson(models.Model):
    """An admin-kept face (a public official, for example) that is refused unless an
    elevated, verified consent covers the job. Only embeddings are kept."""
    name = models.CharField(max_length=120)
    embeddings = models.JSONField(default=list)
    note = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "protected persons"

    def __str__(self):
        return self.name
