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
    return verify_file(path, trust_anchor_pem=trust_anchor(), lookup=lookup)
