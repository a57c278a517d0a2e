"""Live sessions: a creator's real-time talking portrait of a consenting subject.

Each session owns a job (purpose `live`) that holds its gate decisions, its photo and,
once the session ends, its signed recording: the recording is registered, revoked,
taken down and verified like any other output. The job is never queued for Celery
(it is RUNNING with no lease while the session streams, which the reaper ignores)."""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LiveSession(models.Model):
    class Status(models.TextChoices):
        READY = "ready", _("Ready (waiting for the stream)")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended (recording registered)")
        STOPPED = "stopped", _("Stopped by the consent check")
        DENIED = "denied", _("Denied by policy")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.READY, Status.LIVE)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="live_sessions")
    subject = models.ForeignKey("consent.Subject", on_delete=models.PROTECT, related_name="live_sessions")
    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="live_session")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY, db_index=True)
    controls = models.JSONField(default=dict)
    worker = models.CharField(max_length=200, blank=True, help_text="The process streaming it.")
    end_reason = models.CharField(max_length=32, blank=True)
    end_message = models.TextField(blank=True)
    frames = models.PositiveIntegerField(default=0)
    dropped_frames = models.PositiveIntegerField(default=0)
    stop_requested_at = models.DateTimeField(null=True, blank=True)
    taken_down_at = models.DateTimeField(null=True, blank=True)
    taken_down_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    takedown_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"live session {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None
