"""An auditor's check of any file: C2PA manifest, watermark, and the registry,
combined into one verdict. The registry is reached through a callable so this
module stays free of Django."""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from typing import Callable

from .manifest import C2paReading, read_manifest
from .videomark import WatermarkReading, read_video_watermark

AUTHENTIC = "authentic"                   # signed by us, watermark and registry agree
REVOKED = "revoked"                       # ours and intact, but the subject revoked consent
TAMPERED = "tampered"                     # a manifest is present but the file or manifest changed
PROVENANCE_STRIPPED = "provenance_stripped"  # no manifest, but our watermark identifies the output
UNTRUSTED_SIGNER = "untrusted_signer"     # a valid manifest from a signer we do not trust
NO_PROVENANCE = "no_provenance"           # no manifest and no watermark: not known to be ours

VERDICT_TEXT = {
    AUTHENTIC: "Made by Veritalk, unaltered since signing.",
    REVOKED: "Made by Veritalk, but the subject has revoked consent for it.",
    TAMPERED: "Provenance data is present but does not match the file: it was altered after signing.",
    PROVENANCE_STRIPPED: "A Veritalk output whose C2PA manifest was removed; identified by its watermark.",
    UNTRUSTED_SIGNER: "Signed, but not by a signer this platform trusts.",
    NO_PROVENANCE: "No Veritalk watermark and no C2PA manifest: not known to be a Veritalk output.",
}


@dataclass(frozen=True)
class RegistryMatch:
    registry_id: int
    job: str
    consent: int | None
    revoked: bool
    output_sha256: str
    matched_by: str  # "hash" | "watermark"

    def as_dict(self) -> dict:
        return asdict(self)


Lookup = Callable[[int | None, str], "RegistryMatch | None"]


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decide(c2pa: C2paReading, wm: WatermarkReading, match: RegistryMatch | None, sha256: str) -> str:
    if c2pa.state == "Invalid":
        return TAMPERED
    if c2pa.state == "Trusted":
        ours = (match is not None and match.matched_by == "hash" and match.output_sha256 == sha256
                and (c2pa.provenance or {}).get("registry_id") == match.registry_id
                and (not wm.found or wm.registry_id == match.registry_id))
        if not ours:
            return TAMPERED
        return REVOKED if match.revoked else AUTHENTIC
    if c2pa.state == "Valid":
        return UNTRUSTED_SIGNER
    if wm.found and match is not None:
        return REVOKED if match.revoked else PROVENANCE_STRIPPED
    return NO_PROVENANCE


def verify_file(path: str | os.PathLike, *, trust_anchor_pem: bytes | None, lookup: Lookup) -> dict:
    """The verification summary of DESIGN.md's `verify --json`."""
    sha = sha256_file(path)
    c2pa = read_manifest(path, trust_anchor_pem=trust_anchor_pem)
    wm = read_video_watermark(path)
    match = lookup(wm.registry_id if wm.found else None, sha)
    verdict = decide(c2pa, wm, match, sha)
    return {
        "verdict": verdict,
        "summary": VERDICT_TEXT[verdict],
        "sha256": sha,
        "c2pa": c2pa.as_dict(),
        "watermark": {"found": wm.found, "payload": wm.payload, "confidence": wm.confidence,
                      "registry_id": wm.registry_id, "frames": wm.frames, "codec": wm.codec},
        "registry": {"match": match is not None, "job": match.job if match else None,
                     "consent": match.consent if match else None, "revoked": match.revoked if match else False,
                     "registry_id": match.registry_id if match else None,
                     "matched_by": match.matched_by if match else None},
    }
