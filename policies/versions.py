"""Policy versions: every released rule file is kept byte for byte under
rules/archive/<version>.toml and listed with its sha256 in rules/versions.toml,
so a decision's `policy_version` and `policy_sha256` always lead back to the
exact rules that made it, and an edit without a new version is caught."""
from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

from .engine import DEFAULT_POLICY, RULES_DIR, PolicyError, parse_policy

LEDGER = RULES_DIR / "versions.toml"
ARCHIVE = RULES_DIR / "archive"


def ledger() -> dict[str, str]:
    entries = tomllib.loads(LEDGER.read_text()).get("version", [])
    out: dict[str, str] = {}
    for e in entries:
        if e["version"] in out:
            raise PolicyError(f"{LEDGER}: version {e['version']} is listed twice")
        out[e["version"]] = e["sha256"]
    return out


def problems(current: Path = DEFAULT_POLICY) -> list[str]:
    """Everything wrong with the versioning; empty when the current file is a released version."""
    found = []
    known = ledger()
    for path in sorted(ARCHIVE.glob("*.toml")):
        raw = path.read_bytes()
        try:
            policy = parse_policy(raw, path)
        except PolicyError as exc:
            found.append(str(exc))
            continue
        if path.stem != policy.version:
            found.append(f"{path.name} holds version {policy.version}")
        if known.get(policy.version) != hashlib.sha256(raw).hexdigest():
            found.append(f"{path.name}: its sha256 is not the one versions.toml lists for {policy.version} "
                         "(a released version was edited, or it was never listed)")
    for version in known:
        if not (ARCHIVE / f"{version}.toml").is_file():
            found.append(f"version {version} is listed but archive/{version}.toml is missing")
    raw = current.read_bytes()
    policy = parse_policy(raw, current)
    archived = ARCHIVE / f"{policy.version}.toml"
    if not archived.is_file() or archived.read_bytes() != raw:
        found.append(f"{current.name} (version {policy.version}) differs from archive/{policy.version}.toml: "
                     "give the changed rules a new version")
    return found


if __name__ == "__main__":
    issues = problems()
    for line in issues:
        print(line, file=sys.stderr)
    print("policy versions consistent" if not issues else f"{len(issues)} problem(s)")
    sys.exit(1 if issues else 0)
