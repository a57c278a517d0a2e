"""Moderation cases: a file (uploaded, or one of our outputs) scored by the detector and
checked for provenance, then cleared, flagged, taken down or escalated by a moderator."""
import uuid

from django.conf import settings
from django.db import models


def _case_file(instance, filename):
    # Never built from user input: the folder is the case id, the name is fixed.
    return f"moderation/{instance.pk}/upload.mp4"


class Case(models.Model):
    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        OUTPUT = "output", "One of our outputs"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Analysing"
        DONE = "done", "Analysed"
        FAILED = "failed", "Analysis failed"

    class Decision(models.TextChoices):
        OPEN = "open", "Open"
        CLEARED = "cleared", "Cleared"
        FLAGGED = "flagged", "Flagged"
        TAKEN_DOWN = "taken_down", "Taken down"
        ESCALATED = "escalated", "Escalated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    entry = models.ForeignKey("registry.RegistryEntry", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="moderation_cases",
                              help_text="The output this case concerns (opened from it, or matched by provenance).")
    file = models.FileField(upload_to=_case_file, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=32, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    detection = models.JSONField(null=True, blank=True)
    provenance = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, default=Decision.OPEN, db_index=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took the analysis.")
    analysed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"case {self.pk} ({self.decision})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class CaseAction(models.Model):
    """A moderator's decision on a case (the audit log holds the same, chained)."""
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class Takedown(models.Model):
    """An output the platform no longer serves: the portal answers 451 for it and the
    registry look-up reports it taken down."""
    entry = models.OneToOneField("registry.RegistryEntry", on_delete=models.PROTECT, related_name="takedown")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="takedowns")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
