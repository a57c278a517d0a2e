"""Generation jobs: inputs, controls, the policy decision, state and output."""
import uuid

from django.conf import settings
from django.db import models


def _job_file(instance, filename):
    # Never built from user input: the name is fixed by the service, the folder is the job id.
    return f"jobs/{instance.pk}/{filename}"


class Job(models.Model):
    class Status(models.TextChoices):
        DENIED = "denied", "Denied by policy"
        CHECKING = "checking", "Checking"   # accepted; the intake checks the face and decides
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL = {Status.DENIED, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    subject = models.ForeignKey("consent.Subject", on_delete=models.PROTECT, related_name="jobs")
    consent = models.ForeignKey("consent.Consent", null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    purpose = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=32, blank=True, help_text="Where the video will be shown.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    controls = models.JSONField(default=dict)
    photo = models.FileField(upload_to=_job_file, blank=True)
    audio = models.FileField(upload_to=_job_file, blank=True)
    photo_sha256 = models.CharField(max_length=64)
    audio_sha256 = models.CharField(max_length=64)
    audio_seconds = models.FloatField(default=0)
    face_count = models.PositiveSmallIntegerField(default=0)
    face_box = models.JSONField(null=True, blank=True)
    face_embedding = models.JSONField(null=True, blank=True, help_text="The photo's face, for the identity checks.")
    photo_bytes = models.PositiveIntegerField(default=0)
    audio_bytes = models.PositiveIntegerField(default=0)
    decision = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    output = models.FileField(upload_to=_job_file, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True)
    verification = models.JSONField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    engine = models.CharField(max_length=64, blank=True)
    # Execution bookkeeping: the database, not the broker, is the source of truth.
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"job {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def revoked_at(self):
        """When the subject revoked the consent this job was made (or accepted) under; None if not."""
        entry = getattr(self, "registry_entry", None)
        if entry is not None and entry.revoked:
            return entry.revoked_at
        return self.consent.revoked_at if self.consent_id and self.consent else None

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
