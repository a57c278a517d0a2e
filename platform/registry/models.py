"""One registry entry per output: its id is the watermark payload, so a file
found anywhere can be traced back to its job and consent. An entry is reserved
when a job starts (the id is needed for the watermark), issued when its output is
released, void when it never is, and marked revoked with its consent."""
from django.db import models
from django.utils import timezone


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

    @classmethod
    def reserve(cls, job) -> "RegistryEntry":
        """The job's entry, (again) reserved for an attempt that is starting."""
        entry, _ = cls.objects.get_or_create(job=job)
        if entry.state != cls.State.RESERVED:
            entry.state = cls.State.RESERVED
            entry.save(update_fields=["state"])
        return entry

    IDENTITY_FIELDS = ("watermark_payload", "watermark_codec", "output_sha256", "manifest", "manifest_id",
                       "manifest_store", "fingerprint", "poster", "poster_sha256")

    def identify(self, *, watermark_payload: str, watermark_codec: str, output_sha256: str, manifest: dict,
                 manifest_id: str, manifest_store: bytes, fingerprint, poster: str, poster_sha256: str) -> None:
        """What identifies the output (watermark, hashes, manifest, fingerprint), set in memory:
        the worker's self-check reads the entry so before the release saves it."""
        self.watermark_payload, self.watermark_codec = watermark_payload, watermark_codec
        self.output_sha256, self.manifest, self.manifest_id = output_sha256, manifest, manifest_id
        self.manifest_store, self.fingerprint = manifest_store, fingerprint
        self.poster, self.poster_sha256 = poster, poster_sha256

    def issue(self, **identity) -> None:
        """The output is released: its identity (given here or by `identify`) is recorded."""
        if identity:
            self.identify(**identity)
        self.state, self.issued_at = self.State.ISSUED, timezone.now()
        self.save(update_fields=["state", "issued_at", *self.IDENTITY_FIELDS])

    def void(self) -> None:
        """The attempt ended without an output."""
        self.state = self.State.VOID
        self.save(update_fields=["state"])

    def revoke(self, at=None) -> None:
        """The subject revoked the consent this output was made under."""
        self.revoked, self.revoked_at = True, at or timezone.now()
        self.save(update_fields=["revoked", "revoked_at"])
