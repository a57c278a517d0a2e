"""Building, signing and reading C2PA manifests with c2pa-python."""
from __future__ import annotations

import base64
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import c2pa

from .signing import SigningMaterial

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PROVENANCE_LABEL = "com.veritalk.provenance"
SOFT_BINDING_LABEL = "c2pa.soft-binding"
CLAIM_GENERATOR = "Veritalk"
CLAIM_GENERATOR_VERSION = "0.1.0"


def build_manifest(*, title: str, engine: str, engine_version: str, registry_id: int, watermark_payload: str,
                   watermark_codec: str, job_id: str, consent_id: int | None, policy_version: str,
                   decision_sha256: str, duration_ms: int, backend: str | None = None) -> dict:
    """The manifest definition for one generated video; `backend` names the rendering
    backend (e.g. "diffusion 0.1.0") in the creating action's software agent."""
    agent = {"name": engine, "version": engine_version}
    if backend:
        agent["backend"] = backend
    return {
        "claim_generator_info": [{"name": CLAIM_GENERATOR, "version": CLAIM_GENERATOR_VERSION}],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                 "softwareAgent": agent},
                {"action": "c2pa.watermarked",
                 "parameters": {"description": f"invisible per-frame watermark ({watermark_codec})"}},
            ]}},
            {"label": SOFT_BINDING_LABEL, "data": {
                "alg": f"com.veritalk.{watermark_codec}", "pad": [],
                "blocks": [{"scope": {"timespan": {"start": 0, "end": duration_ms}},
                            "value": base64.b64encode(bytes.fromhex(watermark_payload)).decode()}]}},
            {"label": PROVENANCE_LABEL, "data": {
                "registry_id": registry_id, "job": job_id, "watermark": watermark_payload,
                "watermark_codec": watermark_codec, "consent_id": consent_id,
                "policy_version": policy_version, "decision_sha256": decision_sha256}},
        ],
    }


def sign_file(source: str | os.PathLike, dest: str | os.PathLike, manifest: dict, material: SigningMaterial,
              mime: str = "video/mp4") -> bytes:
    """Embed a signed manifest: read `source`, write the signed asset to `dest`."""
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(material.algorithm, material.chain_pem,
                                                       material.key_pem, None))
    with c2pa.Builder(manifest) as builder, open(source, "rb") as src, open(dest, "w+b") as dst:
        return builder.sign(signer, mime, src, dst)


@dataclass
class C2paReading:
    state: str                      # Trusted | Valid | Invalid | Absent
    issuer: str | None = None
    actions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    manifest: dict | None = None    # the active manifest, as c2pa-rs reports it
    provenance: dict | None = None  # our com.veritalk.provenance assertion, if present

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("manifest")
        return d


def _context(trust_anchor_pem: bytes | None) -> c2pa.Context:
    settings = {"verify": {"verify_trust": bool(trust_anchor_pem)}}
    if trust_anchor_pem:
        settings["trust"] = {"trust_anchors": trust_anchor_pem.decode()}
    return c2pa.Context(settings=c2pa.Settings.from_dict(settings))


def read_manifest(path: str | os.PathLike, *, trust_anchor_pem: bytes | None, mime: str | None = None) -> C2paReading:
    """Read and validate the embedded manifest; `state` is Absent when there is none."""
    data = Path(path).read_bytes()
    try:
        with c2pa.Reader(mime or _mime_for(path), io.BytesIO(data), None, _context(trust_anchor_pem)) as reader:
            store = json.loads(reader.json())
            state = reader.get_validation_state() or "Invalid"
            results = reader.get_validation_results() or {}
    except c2pa.C2paError as exc:
        name = type(exc).__name__
        if "ManifestNotFound" in name or "JumbfNotFound" in str(exc) or "ManifestNotFound" in str(exc):
            return C2paReading(state="Absent")
        if "NotSupported" in name:
            return C2paReading(state="Absent", errors=[f"unsupported file type: {exc}"])
        return C2paReading(state="Invalid", errors=[f"{name}: {exc}"])
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    failures = (results.get("activeManifest") or {}).get("failure", [])
    errors = [f"{f.get('code')}: {f.get('explanation', '')}".strip() for f in failures]
    actions, provenance = [], None
    for assertion in active.get("assertions", []):
        label = assertion.get("label", "")
        if label.startswith("c2pa.actions"):
            actions += [a.get("action") for a in assertion.get("data", {}).get("actions", [])]
        elif label == PROVENANCE_LABEL:
            provenance = assertion.get("data")
    issuer = (active.get("signature_info") or {}).get("issuer")
    return C2paReading(state=state, issuer=issuer, actions=actions, errors=errors, manifest=active,
                       provenance=provenance)


def _mime_for(path) -> str:
    ext = Path(path).suffix.lower()
    return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png",
            ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}.get(ext, "video/mp4")
