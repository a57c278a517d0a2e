"""An auditor's check of any file: C2PA manifest, watermark, perceptual
fingerprint and the registry, combined into one verdict with its evidence. The
registry is reached through a callable so this module stays free of Django.

The four cases an auditor needs told apart:
- our output with a trusted manifest (`authentic`, or `revoked` when the subject
  withdrew consent);
- our output whose manifest was stripped (re-encoded, remuxed, metadata removed):
  the watermark names the registry entry, whose manifest is returned, and the
  fingerprint confirms the content (`provenance_stripped`, or `revoked`);
- tampered: a manifest that no longer matches the file, or our watermark on
  content whose fingerprint is not that output's (a copied watermark);
- not from this platform: no manifest of ours, no watermark (`no_provenance`).
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import cv2

from common.errors import gettext_noop
from common.files import sha256_file

from . import fingerprint as fp
from .manifest import C2paReading, read_manifest
from .payload import payload_hex
from .stillmark import CODEC_NAME, read_still
from .videomark import NOT_FOUND, WatermarkReading, read_video_watermark

AUTHENTIC = "authentic"                   # signed by us, watermark and registry agree
REVOKED = "revoked"                       # ours and intact, but the subject revoked consent
TAMPERED = "tampered"                     # a manifest is present but the file changed, or a copied watermark
PROVENANCE_STRIPPED = "provenance_stripped"  # no manifest, but our watermark identifies the output
UNTRUSTED_SIGNER = "untrusted_signer"     # a valid manifest from a signer we do not trust
NO_PROVENANCE = "no_provenance"           # no manifest and no watermark: not known to be ours

# English, marked for the catalogue: the portal shows them translated ({% translate result.summary %}).
VERDICT_TEXT = {
    AUTHENTIC: gettext_noop("Made by Veritalk, unaltered since signing."),
    REVOKED: gettext_noop("Made by Veritalk, but the subject has revoked consent for it."),
    TAMPERED: gettext_noop("Provenance data is present but does not match the file: it was altered after signing, "
                           "or a Veritalk watermark was copied onto other content."),
    PROVENANCE_STRIPPED: gettext_noop("A Veritalk output whose C2PA manifest was removed; identified by its "
                                      "watermark, manifest recovered from the registry."),
    UNTRUSTED_SIGNER: gettext_noop("Signed, but not by a signer this platform trusts."),
    NO_PROVENANCE: gettext_noop("No Veritalk watermark and no C2PA manifest: not known to be a Veritalk output."),
}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


@dataclass(frozen=True)
class RegistryMatch:
    registry_id: int
    job: str
    consent: int | None
    revoked: bool
    output_sha256: str
    matched_by: str                       # "hash" | "watermark"
    fingerprint: list[str] | None = None  # of the output, for content checks
    manifest_id: str | None = None        # the output's manifest label (urn:c2pa:...)
    manifest: dict | None = field(default=None, repr=False)  # as read back at release
    poster_sha256: str | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("fingerprint")
        d.pop("manifest")
        return d


Lookup = Callable[[int | None, str], "RegistryMatch | None"]


def read_watermark(path: str | os.PathLike, *, legacy: bool = False) -> WatermarkReading:
    """The watermark of a video (vtss-3, then vtss-1 when `legacy`: the registry holds
    outputs of that codec) or of a still."""
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        return _read_still(path)
    reading = read_video_watermark(path)
    if not reading.found and legacy:
        from .videomark_v1 import read_video_watermark as read_v1  # noqa: PLC0415 - the retired codec's reader: only for registries that issued it
        old = read_v1(path)
        if old.found:
            return WatermarkReading(True, old.registry_id, old.payload, old.confidence, old.frames,
                                    old.scale, old.offset, old.sync_z, old.bit_errors, codec=old.codec)
    return reading


def _read_still(path) -> WatermarkReading:

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return NOT_FOUND
    registry_id = read_still(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if registry_id is None:
        return WatermarkReading(False, None, None, 0.0, 1, codec=CODEC_NAME)
    return WatermarkReading(True, registry_id, payload_hex(registry_id), 0.9, 1, codec=CODEC_NAME)


def content_distance(path, match: RegistryMatch | None) -> float | None:
    """Fingerprint distance between the file and the output its watermark names."""
    if match is None or match.matched_by != "watermark" or not fp.readable(match.fingerprint):
        return None  # nothing to compare with (an output registered before fingerprints)
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        return None  # posters are checked by their own hash and watermark
    try:
        return fp.distance(fp.video_fingerprint(path), match.fingerprint)
    except Exception:  # noqa: BLE001 - an unreadable file has no matching content
        return 2.0


def decide(c2pa: C2paReading, wm: WatermarkReading, match: RegistryMatch | None, sha256: str,
           content: float | None = None) -> str:
    if c2pa.state == "Invalid":
        return TAMPERED
    if c2pa.state == "Trusted":
        ours = (match is not None and match.matched_by == "hash"
                and sha256 in (match.output_sha256, match.poster_sha256)
                and (c2pa.provenance or {}).get("registry_id") == match.registry_id
                and (not wm.found or wm.registry_id == match.registry_id))
        if not ours:
            return TAMPERED
        return REVOKED if match.revoked else AUTHENTIC
    if c2pa.state == "Valid":
        return UNTRUSTED_SIGNER
    if wm.found and match is not None:
        if content is not None and content > fp.MATCH_DISTANCE:
            return TAMPERED  # our watermark on pictures that are not that output's
        return REVOKED if match.revoked else PROVENANCE_STRIPPED
    return NO_PROVENANCE


def _evidence(c2pa: C2paReading, wm: WatermarkReading, match: RegistryMatch | None, content: float | None,
              sha256: str) -> list[str]:
    out = [f"C2PA manifest: {c2pa.state}" + (f" (issuer {c2pa.issuer})" if c2pa.issuer else "")]
    out += [f"C2PA error: {e}" for e in c2pa.errors]
    out.append(f"watermark {wm.codec}: " + (f"payload {wm.payload} (registry #{wm.registry_id}, {wm.frames} frames, "
                                            f"{max(wm.bit_errors, 0)} bit errors corrected)" if wm.found
                                            else "none found"))
    if match is None:
        out.append("registry: no issued output matches")
    else:
        out.append(f"registry: output #{match.registry_id} (job {match.job}) matched by {match.matched_by}")
        if match.matched_by == "hash":
            out.append("file: byte-identical to the released output")
        if content is not None:
            same = content <= fp.MATCH_DISTANCE
            out.append(f"fingerprint: distance {content:.3f} to the output's (same content <= {fp.MATCH_DISTANCE}) "
                       f"({'same content' if same else 'different content: watermark copied'})")
        if match.revoked:
            out.append("consent: revoked by the subject")
    return out


def verify_file(path: str | os.PathLike, *, trust_anchor_pem: bytes | None, lookup: Lookup,
                legacy_watermarks: bool = False) -> dict:
    """The verification summary of DESIGN.md's `verify --json`."""
    sha = sha256_file(path)
    c2pa = read_manifest(path, trust_anchor_pem=trust_anchor_pem)
    wm = read_watermark(path, legacy=legacy_watermarks)
    match = lookup(wm.registry_id if wm.found else None, sha)
    content = content_distance(path, match) if c2pa.state == "Absent" else None
    verdict = decide(c2pa, wm, match, sha, content)
    recovered = None
    if match is not None and c2pa.state != "Trusted":
        recovered = {"id": match.manifest_id, "title": (match.manifest or {}).get("title"),
                     "actions": _actions(match.manifest)}
    return {
        "verdict": verdict,
        "summary": VERDICT_TEXT[verdict],
        "sha256": sha,
        "c2pa": {**c2pa.as_dict(), "recovered": recovered},
        "watermark": {"found": wm.found, "payload": wm.payload, "confidence": wm.confidence,
                      "registry_id": wm.registry_id, "frames": wm.frames, "codec": wm.codec},
        "registry": {"match": match is not None, "job": match.job if match else None,
                     "consent": match.consent if match else None, "revoked": match.revoked if match else False,
                     "registry_id": match.registry_id if match else None,
                     "matched_by": match.matched_by if match else None,
                     "manifest_id": match.manifest_id if match else None,
                     "fingerprint_distance": content,
                     "content_match": None if content is None else bool(content <= fp.MATCH_DISTANCE)},
        "evidence": _evidence(c2pa, wm, match, content, sha),
    }


def _actions(manifest: dict | None) -> list[str]:
    out = []
    for a in (manifest or {}).get("assertions", []):
        if a.get("label", "").startswith("c2pa.actions"):
            out += [x.get("action") for x in a.get("data", {}).get("actions", [])]
    return out


__all__ = ["AUTHENTIC", "REVOKED", "TAMPERED", "PROVENANCE_STRIPPED", "UNTRUSTED_SIGNER", "NO_PROVENANCE",
           "RegistryMatch", "verify_file", "decide", "read_watermark", "sha256_file"]
