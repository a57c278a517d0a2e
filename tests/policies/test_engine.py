"""The first rule set: every rule can deny, reasons are readable, the version is reported."""
from datetime import datetime, timedelta, timezone

import pytest

from policies import PolicyError, evaluate, load_policy

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def facts(**over):
    base = {"now": NOW.isoformat(), "purpose": "",
            "creator": {"username": "ana", "role": "creator", "vetted": True},
            "subject": {"id": 1, "name": "Bea"},
            "consent": {"id": 9, "purposes": [], "revoked_at": None, "expires_at": None, "starts_at": None},
            "photo": {"face_count": 1}}
    base.update(over)
    return base


def test_allowed_lists_the_rules_that_passed():
    d = evaluate(facts())
    assert d.allowed and d.reasons == []
    assert d.policy_version == load_policy().version
    assert d.rules == ["creator-vetted", "consent-active", "one-face"]


@pytest.mark.parametrize("change,rule,text", [
    ({"creator": {"username": "ana", "role": "creator", "vetted": False}}, "creator-vetted", "not been vetted"),
    ({"creator": {"username": "sam", "role": "subject", "vetted": True}}, "creator-vetted", "not a creator"),
    ({"consent": None}, "consent-active", "No consent from subject 'Bea'"),
    ({"consent": {"id": 9, "revoked_at": "2026-11-20T10:00:00+00:00", "expires_at": None}}, "consent-active", "revoked"),
    ({"consent": {"id": 9, "revoked_at": None, "expires_at": (NOW - timedelta(days=1)).isoformat()}},
     "consent-active", "expired"),
    ({"photo": {"face_count": 0}}, "one-face", "No face"),
    ({"photo": {"face_count": 3}}, "one-face", "3 faces"),
])
def test_each_rule_denies_with_a_reason(change, rule, text):
    d = evaluate(facts(**change))
    assert not d.allowed and d.rules == [rule]
    assert text in d.reasons[0]


def test_every_failing_rule_is_reported():
    d = evaluate(facts(consent=None, photo={"face_count": 2}))
    assert d.rules == ["consent-active", "one-face"] and len(d.reasons) == 2


def test_decision_digest_is_stable():
    assert evaluate(facts()).sha256 == evaluate(facts()).sha256


def test_unknown_check_is_a_policy_error(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text('version = "x"\n[[rule]]\nid = "r"\ncheck = "nope"\n')
    with pytest.raises(PolicyError, match="unknown check"):
        load_policy(bad)
