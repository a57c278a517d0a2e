"""Loading rule files and evaluating them into a decision."""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .checks import CHECKS

DEFAULT_POLICY = Path(__file__).with_name("rules") / "default.toml"


class PolicyError(RuntimeError):
    """A rule file that cannot be used (unknown check, missing reason, bad syntax)."""


@dataclass(frozen=True)
class Rule:
    id: str
    check: str
    reasons: dict[str, str]


@dataclass(frozen=True)
class Policy:
    version: str
    rules: tuple[Rule, ...]
    source_sha256: str


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[str]
    policy_version: str
    rules: list[str] = field(default_factory=list)  # ids of the rules that decided

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def sha256(self) -> str:
        """A stable digest of the decision, recorded in the C2PA manifest."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=8)
def load_policy(path: str | Path = DEFAULT_POLICY) -> Policy:
    raw = Path(path).read_bytes()
    try:
        data = tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    rules = []
    for item in data.get("rule", []):
        if item.get("check") not in CHECKS:
            raise PolicyError(f"{path}: rule {item.get('id')!r} names an unknown check {item.get('check')!r}")
        rules.append(Rule(id=item["id"], check=item["check"], reasons=dict(item.get("reasons", {}))))
    if not rules or "version" not in data:
        raise PolicyError(f"{path}: a policy needs a version and at least one rule")
    return Policy(version=str(data["version"]), rules=tuple(rules), source_sha256=hashlib.sha256(raw).hexdigest())


def evaluate(facts: dict, policy: Policy | None = None) -> Decision:
    """Run every rule; the decision lists every failing rule's reason, not just the first."""
    policy = policy or load_policy()
    reasons, failed = [], []
    for rule in policy.rules:
        outcome = CHECKS[rule.check](facts)
        if outcome is None:
            continue
        template = rule.reasons.get(outcome)
        if template is None:
            raise PolicyError(f"rule {rule.id!r} has no reason text for outcome {outcome!r}")
        try:
            reasons.append(template.format(**facts))
        except (KeyError, IndexError, TypeError):
            reasons.append(template)
        failed.append(rule.id)
    if failed:
        return Decision(False, reasons, policy.version, failed)
    return Decision(True, [], policy.version, [r.id for r in policy.rules])
