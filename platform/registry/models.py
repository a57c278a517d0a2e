"""One registry entry per output: its id is the watermark payload, so a file
found anywhere can be traced back to its job and consent."""
from django.db import models


class RegistryEntry(models.Model):
    class State(models.TextChoices):
        RESERVED = "reserved", "Reserved (generation under way)"
        ISSUED = "issued", "Issued"
        VOID = "void", "Void (generation did not complete)"

    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="registry_entry")
    state = models.CharField(max_length=16, choices=State.choices, default=State.RESERVED)
    watermark_payload = models.CharField(max_length=64, blank=True)
    watermark_codec = models.CharField(max_length=64, blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    manifest = models.JSONField(null=True, blank=True)
    # The manifest store as signed (application/c2pa), served by /api/c2pa/manifests/{id}
    # so that a stripped copy's provenance can be recovered whole.
    manifest_id = models.CharField(max_length=128, blank=True, db_index=True)
    manifest_store = models.BinaryField(null=True, blank=True)
    fingerprint = models.JSONField(null=True, blank=True)  # provenance.fingerprint thumbnails
    poster = models.CharField(max_length=255, blank=True)  # media name of the signed poster PNG
    poster_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    revoked = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "registry entries"

    def __str__(self):
        return f"registry #{self.pk} ({self.state})"
