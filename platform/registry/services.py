"""Registry look-ups, signing configuration and file verification for auditors."""
from __future__ import annotations

import base64
import binascii
from pathlib import Path

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone

from audit.chain import record
from consent.signals import consent_revoked
from provenance import fingerprint as fp
from provenance.manifest import SOFT_BINDING_PREFIX
from provenance.payload import payload_hex
from provenance.registry_recovery import MAX_CANDIDATES
from provenance.signing import SignerConfig, SigningError, load_trust_anchor
from provenance.verify import RegistryMatch, verify_file

from .fingerprint_index import nearest
from .models import RegistryEntry


def _match(entry: RegistryEntry, matched_by: str) -> RegistryMatch:
    return RegistryMatch(registry_id=entry.pk, job=str(entry.job_id), consent=entry.job.consent_id,
                         revoked=entry.revoked, output_sha256=entry.output_sha256, matched_by=matched_by,
                         fingerprint=entry.fingerprint, manifest_id=entry.manifest_id or None,
                         manifest=entry.manifest, poster_sha256=entry.poster_sha256 or None,
                         output_path=_output_path(entry))


def _output_path(entry: RegistryEntry) -> str | None:
    """The stored output file (the registry path aligns copies to it), when present."""
    output = entry.job.output
    if not output:
        return None
    try:
        path = Path(output.path)
    except (ValueError, NotImplementedError):
        return None
    return str(path) if path.is_file() else None


def issued():
    return RegistryEntry.objects.select_related("job").filter(state=RegistryEntry.State.ISSUED)


def lookup(registry_id: int | None, sha256: str) -> RegistryMatch | None:
    """Find the issued output by exact file hash (video or poster) first, then by watermark id."""
    entry = issued().filter(output_sha256=sha256).first() or issued().filter(poster_sha256=sha256).first()
    if entry is not None:
        return _match(entry, "hash")
    if registry_id is not None:
        entry = issued().filter(pk=registry_id).first()
        if entry is not None:
            return _match(entry, "watermark")
    return None


def by_binding(alg: str, value: str) -> list[RegistryEntry]:
    """Entries whose soft binding (algorithm + base64 payload) is `value`."""
    if not alg.startswith(SOFT_BINDING_PREFIX):
        return []
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return []
    if len(raw) != 8:
        return []
    registry_id = int.from_bytes(raw[:4], "big")
    try:
        if registry_id == 0 or payload_hex(registry_id) != raw.hex():
            return []
    except ValueError:
        return []
    codec = alg[len(SOFT_BINDING_PREFIX):]
    return list(issued().filter(pk=registry_id, watermark_codec=codec))


def candidates(face) -> list[RegistryMatch]:
    """The issued outputs a copy looks like (fingerprint.VideoFace), from the face-descriptor
    index, other people's outputs last (registry path)."""
    return [_match(entry, "registry") for entry, _ in nearest(face.descriptor, MAX_CANDIDATES, identity=face.identity)]


def by_content(path, *, limit: int = 10) -> list[tuple[RegistryEntry, float]]:
    """Entries whose perceptual fingerprint matches the file's, nearest first."""
    query = fp.video_fingerprint(path)
    if not query:
        return []
    found = []
    for entry in issued().exclude(fingerprint=None).only("pk", "fingerprint", "manifest_id", "job_id"):
        thumbs = fp.thumbnails_of(entry.fingerprint)
        if not fp.readable(thumbs):
            continue
        d = fp.distance(query, thumbs)
        if d <= fp.MATCH_DISTANCE:
            found.append((entry, d))
    found.sort(key=lambda x: x[1])
    return found[:limit]


def signer_config() -> SignerConfig:
    """The configured C2PA signer (settings VERITALK_C2PA_*)."""
    return SignerConfig(kind=settings.VERITALK_C2PA_SIGNER, directory=str(settings.VERITALK_SIGNING_DIR),
                        chain_path=settings.VERITALK_C2PA_CERT_CHAIN or None,
                        key_path=settings.VERITALK_C2PA_KEY or None,
                        callback=settings.VERITALK_C2PA_SIGN_CALLBACK or None,
                        algorithm=settings.VERITALK_C2PA_ALG, tsa_url=settings.VERITALK_C2PA_TSA_URL)


def trust_anchor() -> bytes | None:
    """The CAs verification trusts: the platform CA and any configured extra anchors."""
    anchors = []
    try:
        anchors.append(load_trust_anchor(settings.VERITALK_SIGNING_DIR))
    except SigningError:
        pass
    extra = getattr(settings, "VERITALK_C2PA_TRUST_ANCHORS", "")
    if extra and Path(extra).expanduser().is_file():
        anchors.append(Path(extra).expanduser().read_bytes())
    return b"\n".join(anchors) if anchors else None


def verify_path(path, *, similar: bool = False, releasing: RegistryEntry | None = None) -> dict:
    """verify_file against this registry. With `similar`, a file with no provenance is
    also searched by perceptual fingerprint (a scan of every issued output): a copy
    laundered past the watermark (three lossy re-encodes) is still found, and listed
    under registry.similar as a lead, not as proof; the verdict stays no_provenance,
    since look-alike content (another take of the same photo, a real video of the same
    scene) matches too. `releasing` is an entry about to be issued for this very file
    (the worker's self-check, taken before the release): it is found as if issued."""
    legacy = RegistryEntry.objects.filter(watermark_codec="vtss-1").exists()
    find = lookup
    if releasing is not None:
        def find(registry_id, sha256):
            if sha256 in (releasing.output_sha256, releasing.poster_sha256):
                return _match(releasing, "hash")
            return lookup(registry_id, sha256) or (_match(releasing, "watermark")
                                                   if registry_id == releasing.pk else None)
    result = verify_file(path, trust_anchor_pem=trust_anchor(), lookup=find, legacy_watermarks=legacy,
                         candidates=candidates)
    reg = result.get("registry") or {}
    if reg.get("match") and reg.get("job"):
        # A moderator's take-down (moderation.Takedown) is part of what the registry says.
        entry = RegistryEntry.objects.filter(job_id=reg["job"]).first()
        reg["taken_down"] = bool(entry is not None and hasattr(entry, "takedown"))
    if similar and result["verdict"] == "no_provenance":
        reg["similar"] = [{"job": str(e.job_id), "manifest_id": e.manifest_id or None, "distance": round(d, 3)}
                          for e, d in by_content(path)]
    return result


def revoke_outputs(consent, *, actor=None) -> list[RegistryEntry]:
    """Mark every output made under `consent` as revoked (verify then says so).
    Reserved entries are marked too: a job between its last check and its release
    is then registered as revoked, never as authentic."""
    entries = list(RegistryEntry.objects.select_for_update().filter(
        job__consent=consent, revoked=False, state__in=(RegistryEntry.State.ISSUED, RegistryEntry.State.RESERVED)))
    now = timezone.now()
    for entry in entries:
        entry.revoke(now)
        record("registry.revoked", actor=actor, target=entry, data={"job": str(entry.job_id), "consent": consent.pk,
                                                                    "state": entry.state})
    return entries


@receiver(consent_revoked, dispatch_uid="registry.revoke_outputs")
def _revoke_on_revocation(sender, *, consent, actor=None, **kwargs):
    revoke_outputs(consent, actor=actor)

