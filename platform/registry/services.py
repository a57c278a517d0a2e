"""Registry look-ups and file verification for auditors."""
from __future__ import annotations

from django.conf import settings

from provenance.signing import SigningError, load_trust_anchor
from provenance.verify import RegistryMatch, verify_file

from .models import RegistryEntry


def _match(entry: RegistryEntry, matched_by: str) -> RegistryMatch:
    return RegistryMatch(registry_id=entry.pk, job=str(entry.job_id), consent=entry.job.consent_id,
                         revoked=entry.revoked, output_sha256=entry.output_sha256, matched_by=matched_by)


def lookup(registry_id: int | None, sha256: str) -> RegistryMatch | None:
    """Find the issued output by exact file hash first, then by watermark id."""
    issued = RegistryEntry.objects.select_related("job").filter(state=RegistryEntry.State.ISSUED)
    entry = issued.filter(output_sha256=sha256).first()
    if entry is not None:
        return _match(entry, "hash")
    if registry_id is not None:
        entry = issued.filter(pk=registry_id).first()
        if entry is not None:
            return _match(entry, "watermark")
    return None


def trust_anchor() -> bytes | None:
    try:
        return load_trust_anchor(settings.VERITALK_SIGNING_DIR)
    except SigningError:
        return None


def verify_path(path) -> dict:
    result = verify_file(path, trust_anchor_pem=trust_anchor(), lookup=lookup)
    reg = result.get("registry") or {}
    if reg.get("match") and reg.get("job"):
        # A moderator's take-down (moderation.Takedown) is part of what the registry says.
        entry = RegistryEntry.objects.filter(job_id=reg["job"]).first()
        reg["taken_down"] = bool(entry is not None and hasattr(entry, "takedown"))
    return result


def revoke_outputs(consent, *, actor=None) -> list[RegistryEntry]:
    """Mark every output made under `consent` as revoked (verify then says so).
    Reserved entries are marked too: a job between its last check and its release
    is then registered as revoked, never as authentic."""
    from django.utils import timezone

    from audit.chain import record
    entries = list(RegistryEntry.objects.select_for_update().filter(
        job__consent=consent, revoked=False, state__in=(RegistryEntry.State.ISSUED, RegistryEntry.State.RESERVED)))
    now = timezone.now()
    for entry in entries:
        entry.revoked, entry.revoked_at = True, now
        entry.save(update_fields=["revoked", "revoked_at"])
        record("registry.revoked", actor=actor, target=entry, data={"job": str(entry.job_id), "consent": consent.pk,
                                                                    "state": entry.state})
    return entries
