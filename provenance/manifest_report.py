"""The signed manifest of a file as an auditor reads it: who signed, what was done
(actions), from what (ingredients), and the whole manifest as a tree to browse."""
from __future__ import annotations

import os

from .manifest import read_manifest

MAX_TEXT = 300  # long values (hashes, base64 blobs) are cut in the tree


def _prune(value, depth: int = 0):
    if depth > 8:
        return "…"
    if isinstance(value, dict):
        return {str(k): _prune(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_prune(v, depth + 1) for v in value[:50]]
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    return value


def _actions(manifest: dict) -> list[dict]:
    found = []
    for assertion in manifest.get("assertions", []):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for a in (assertion.get("data") or {}).get("actions", []):
                agent = a.get("softwareAgent")
                found.append({"action": a.get("action"), "when": a.get("when"),
                              "software_agent": agent.get("name") if isinstance(agent, dict) else agent,
                              "digital_source_type": a.get("digitalSourceType"),
                              "description": (a.get("parameters") or {}).get("description")})
    return found


def _ingredients(manifest: dict) -> list[dict]:
    return [{"title": i.get("title"), "format": i.get("format"), "relationship": i.get("relationship"),
             "instance_id": i.get("instance_id") or i.get("instanceID"),
             "hash": (i.get("data") or {}).get("hash") if isinstance(i.get("data"), dict) else None}
            for i in manifest.get("ingredients", []) or []]


def manifest_report(path: str | os.PathLike, *, trust_anchor_pem: bytes | None) -> dict | None:
    """None when the file carries no manifest; otherwise signer, actions, ingredients and the tree."""
    reading = read_manifest(path, trust_anchor_pem=trust_anchor_pem)
    manifest = reading.manifest
    if not manifest:
        return None
    sig = manifest.get("signature_info") or {}
    generators = manifest.get("claim_generator_info") or []
    return {
        "label": manifest.get("label"),
        "title": manifest.get("title"),
        "state": reading.state,
        "claim_generator": [" ".join(str(g.get(k)) for k in ("name", "version") if g.get(k)) for g in generators
                            if isinstance(g, dict)] or ([manifest["claim_generator"]] if manifest.get("claim_generator")
                                                        else []),
        "signer": {"issuer": sig.get("issuer"), "common_name": sig.get("common_name"), "alg": sig.get("alg"),
                   "time": sig.get("time"), "cert_serial_number": sig.get("cert_serial_number")},
        "actions": _actions(manifest),
        "ingredients": _ingredients(manifest),
        "assertions": [a.get("label") for a in manifest.get("assertions", [])],
        "tree": _prune(manifest),
    }
