"""Loading rule files and evaluating them into a decision."""
from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .checks import CHECKS

RULES_DIR = Path(__file__).with_name("rules")
DEFAULT_POLICY = RULES_DIR / "default.toml"


class PolicyError(RuntimeError):
    """A rule file that cannot be used (unknown check, missing reason or parameter, bad syntax)."""


@dataclass(frozen=True)
class Rule:
    id: str
    check: str
    reasons: dict[str, str]
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    version: str
    rules: tuple[Rule, ...]
    source_sha256: str
    description: str = ""

    def param(self, check: str, name: str, default=None):
        """A parameter of the first rule using `check` (e.g. the purposes a form offers)."""
        for rule in self.rules:
            if rule.check == check and name in rule.params:
                return rule.params[name]
        return default

    def params_of(self, check: str) -> list[dict]:
        return [rule.params for rule in self.rules if rule.check == check]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: list[str]
    policy_version: str
    rules: list[str] = field(default_factory=list)  # ids of the rules that decided
    policy_sha256: str = ""                          # the exact rule file that decided

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def sha256(self) -> str:
        """A stable digest of the decision, recorded in the C2PA manifest."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()


def _param(path, rule_id: str, name: str, kind: type, value):
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is list and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PolicyError(f"{path}: rule {rule_id!r} parameter {name!r} must be {kind.__name__}, not {value!r}")


def parse_policy(raw: bytes, path: str | Path = "<policy>") -> Policy:
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    rules, seen = [], set()
    for item in data.get("rule", []):
        rule_id, name = item.get("id"), item.get("check")
        if not rule_id or rule_id in seen:
            raise PolicyError(f"{path}: every rule needs a unique id ({rule_id!r})")
        seen.add(rule_id)
        check = CHECKS.get(name)
        if check is None:
            raise PolicyError(f"{path}: rule {rule_id!r} names an unknown check {name!r}")
        given = dict(item.get("params", {}))
        unknown, missing = set(given) - set(check.params), set(check.params) - set(given)
        if unknown or missing:
            raise PolicyError(f"{path}: rule {rule_id!r} ({name}) takes parameters {sorted(check.params)}; "
                              f"unknown {sorted(unknown)}, missing {sorted(missing)}")
        params = {k: _param(path, rule_id, k, kind, given[k]) for k, kind in check.params.items()}
        reasons = dict(item.get("reasons", {}))
        if set(reasons) != set(check.outcomes):
            raise PolicyError(f"{path}: rule {rule_id!r} ({name}) needs a reason text for each of "
                              f"{list(check.outcomes)}; it has {sorted(reasons)}")
        rules.append(Rule(id=rule_id, check=name, reasons=reasons, params=params))
    if not rules or "version" not in data:
        raise PolicyError(f"{path}: a policy needs a version and at least one rule")
    return Policy(version=str(data["version"]), rules=tuple(rules), source_sha256=hashlib.sha256(raw).hexdigest(),
                  description=str(data.get("description", "")))


@lru_cache(maxsize=8)
def load_policy(path: str | Path = DEFAULT_POLICY) -> Policy:
    return parse_policy(Path(path).read_bytes(), path)


def _reason(template: str, facts: dict, params: dict, extra: dict) -> str:
    try:
        return template.format(**{**facts, **extra, "params": params})
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return template


def evaluate(facts: dict, policy: Policy | None = None) -> Decision:
    """Run every rule; the decision lists every failing rule's reason, not just the first."""
    policy = policy or load_policy()
    reasons, failed = [], []
    for rule in policy.rules:
        outcome = CHECKS[rule.check].fn(facts, rule.params)
        if outcome is None:
            continue
        key, extra = outcome if isinstance(outcome, tuple) else (outcome, {})
        template = rule.reasons.get(key)
        if template is None:
            raise PolicyError(f"rule {rule.id!r} has no reason text for outcome {key!r}")
        reasons.append(_reason(template, facts, rule.params, extra))
        failed.append(rule.id)
    if failed:
        return Decision(False, reasons, policy.version, failed, policy.source_sha256)
    return Decision(True, [], policy.version, [r.id for r in policy.rules], policy.source_sha256)
