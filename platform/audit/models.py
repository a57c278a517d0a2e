"""An append-only, hash-chained audit log: each row's hash covers its content
and the previous row's hash, so an edited, deleted or reordered row breaks the
chain (see audit.chain.verify_chain)."""
from django.db import models


class EventContent(models.Model):
    """What an event says, as recorded and as chained (the fields its hash covers besides
    its position)."""
    created_at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        abstract = True


class AuditEvent(EventContent):
    seq = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"


class AuditAnchor(models.Model):
    """The head of the chain (last seq and hash), kept with a keyed MAC: deleting
    the newest rows leaves a valid-looking chain, but not one that reaches the
    anchor, and the anchor cannot be rewritten without the platform's key."""
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)


class PendingAuditEvent(EventContent):
    """The outbox: an event committed with the change it records, not yet linked into
    the chain. Writing here needs no lock, so a request never waits for the chain;
    audit.chain.link_pending moves these rows into AuditEvent, oldest first, and
    usually within the same request (after its commit)."""

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"pending {self.action} {self.target_type}:{self.target_id}"
