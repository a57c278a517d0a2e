"""Subjects (the people depicted) and the consents they grant to creators."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Subject(models.Model):
    display_name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subjects_created")
    account = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="subject_profile")
    # Identity enrolment: the dlib embedding is kept, the pixels are not.
    face_embedding = models.JSONField(null=True, blank=True)
    enrolment_sha256 = models.CharField(max_length=64, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["created_by", "display_name"], name="unique_subject_name_per_creator")]

    def __str__(self):
        return self.display_name

    def active_consent(self, creator, now=None):
        """The consent that currently covers `creator`, else the most recent one
        (so a denial can say whether it was revoked or expired), else None."""
        now = now or timezone.now()
        consents = list(self.consents.filter(creator=creator).order_by("-granted_at"))
        for c in consents:
            if c.is_active(now):
                return c
        return consents[0] if consents else None


class Consent(models.Model):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="consents")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents_received")
    purposes = models.JSONField(default=list, blank=True, help_text="Purposes the subject agreed to; empty = any.")
    statement = models.TextField(blank=True, help_text="The consent statement the subject agreed to.")
    granted_at = models.DateTimeField(default=timezone.now)
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    def __str__(self):
        return f"consent #{self.pk} {self.subject} -> {self.creator}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return (self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
                and (self.starts_at is None or self.starts_at <= now))

    def policy_facts(self) -> dict:
        iso = lambda t: t.isoformat() if t else None
        return {"id": self.pk, "purposes": self.purposes, "granted_at": iso(self.granted_at),
                "starts_at": iso(self.starts_at), "expires_at": iso(self.expires_at),
                "revoked_at": iso(self.revoked_at)}
