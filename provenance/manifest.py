"""Building, signing and reading C2PA manifests with c2pa-python."""
from __future__ import annotations

import base64
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import c2pa

from .signing import SignerConfig, SigningMaterial, make_signer

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PROVENANCE_LABEL = "com.veritalk.provenance"
CONSENT_LABEL = "com.veritalk.consent"
SOFT_BINDING_LABEL = "c2pa.soft-binding"
TRAINING_MINING_LABEL = "cawg.training-mining"
CLAIM_GENERATOR = "Veritalk"
CLAIM_GENERATOR_VERSION = "0.2.0"
SOFT_BINDING_PREFIX = "com.veritalk."
# CAWG training-and-data-mining: every use refused.
_NOT_ALLOWED = {k: {"use": "notAllowed"} for k in ("cawg.ai_generative_training", "cawg.ai_training",
                                                   "cawg.ai_inference", "cawg.data_mining")}


@dataclass(frozen=True)
class Ingredient:
    """An input of the generation, recorded by hash only: no thumbnail, no bytes."""
    title: str
    format: str
    sha256: str
    role: str           # "photo" | "audio"

    def definition(self) -> dict:
        return {"title": self.title, "format": self.format, "relationship": "inputTo",
                "instance_id": f"sha256:{self.sha256}",
                "description": f"{self.role} input, identified by its SHA-256 only"}


def soft_binding_alg(codec: str) -> str:
    return f"{SOFT_BINDING_PREFIX}{codec}"


def soft_binding_value(watermark_payload: str) -> str:
    """The soft-binding value: the 64 payload bits (registry id + check), base64."""
    return base64.b64encode(bytes.fromhex(watermark_payload)).decode()


def build_manifest(*, title: str, engine: str, engine_version: str, registry_id: int, watermark_payload: str,
                   watermark_codec: str, job_id: str, consent_id: int | None, policy_version: str,
                   decision_sha256: str, duration_ms: int | None = None, backend: str = "cpu",
                   ingredients: list[Ingredient] = (), fmt: str = "video/mp4") -> dict:
    """The manifest definition for one generated video (or its poster frame)."""
    scope = {"timespan": {"start": 0, "end": duration_ms}} if duration_ms else {}
    return {
        "claim_generator_info": [{"name": CLAIM_GENERATOR, "version": CLAIM_GENERATOR_VERSION}],
        "title": title,
        "format": fmt,
        "ingredients": [i.definition() for i in ingredients],
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                 "softwareAgent": {"name": engine, "version": engine_version, "backend": backend},
                 "parameters": {"backend": backend}},
                {"action": "c2pa.watermarked", "softwareAgent": {"name": CLAIM_GENERATOR,
                                                                 "version": CLAIM_GENERATOR_VERSION},
                 "parameters": {"description": f"invisible watermark ({watermark_codec})",
                                "alg": soft_binding_alg(watermark_codec)}},
            ]}},
            {"label": SOFT_BINDING_LABEL, "data": {
                "alg": soft_binding_alg(watermark_codec), "pad": [],
                "blocks": [{"scope": scope, "value": soft_binding_value(watermark_payload)}]}},
            {"label": CONSENT_LABEL, "data": {
                "consent_id": consent_id, "policy_version": policy_version, "decision_sha256": decision_sha256}},
            {"label": TRAINING_MINING_LABEL, "data": {"entries": _NOT_ALLOWED}},
            {"label": PROVENANCE_LABEL, "data": {
                "registry_id": registry_id, "job": job_id, "watermark": watermark_payload,
                "watermark_codec": watermark_codec, "consent_id": consent_id,
                "policy_version": policy_version, "decision_sha256": decision_sha256}},
        ],
    }


def sign_file(source: str | os.PathLike, dest: str | os.PathLike, manifest: dict, signer,
              mime: str = "video/mp4") -> bytes:
    """Embed a signed manifest: read `source`, write the signed asset to `dest`;
    returns the manifest store (application/c2pa bytes). `signer` is SigningMaterial
    (the platform chain) or a SignerConfig (any configured production signer)."""
    if isinstance(signer, SigningMaterial):
        c2pa_signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(signer.algorithm, signer.chain_pem,
                                                                signer.key_pem, None))
    elif isinstance(signer, SignerConfig):
        c2pa_signer = make_signer(signer)
    else:
        raise TypeError("signer must be SigningMaterial or SignerConfig")
    with c2pa.Builder(manifest) as builder, open(source, "rb") as src, open(dest, "w+b") as dst:
        return builder.sign(c2pa_signer, mime, src, dst)


@dataclass
class C2paReading:
    state: str                      # Trusted | Valid | Invalid | Absent
    issuer: str | None = None
    actions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    manifest: dict | None = None    # the active manifest, as c2pa-rs reports it
    provenance: dict | None = None  # our com.veritalk.provenance assertion, if present
    label: str | None = None        # the active manifest's id (urn:c2pa:...)

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
                       provenance=provenance, label=store.get("active_manifest"))


def _mime_for(path) -> str:
    ext = Path(path).suffix.lower()
    return {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png",
            ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}.get(ext, "video/mp4")
