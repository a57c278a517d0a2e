"""The rule set: every rule can deny with a readable reason, the decision names the
policy version, its file's sha256 and the rules that decided; rule files with a
wrong check, parameter or reason table are refused when loaded."""
from datetime import datetime, timedelta, timezone

import pytest

from policies import PolicyError, evaluate, load_policy
from policies.engine import DEFAULT_POLICY, parse_policy

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
ALL_RULES = ["creator-vetted", "consent-active", "allowed-purpose", "consent-scope", "identity-match",
             "protected-person", "one-face", "input-limits", "rate-limit"]


def facts(**over):
    base = {"now": NOW.isoformat(), "purpose": "education", "channel": "",
            "creator": {"username": "ana", "role": "creator", "vetted": True,
                        "recent": {"24": {"accepted": 0, "denied": 0}}},
            "subject": {"id": 1, "name": "Bea", "enrolled": True},
            "consent": {"id": 9, "purposes": ["education"], "channels": [], "max_videos": None, "videos_used": 0,
                        "revoked_at": None, "expires_at": None, "starts_at": None, "elevated": False},
            "photo": {"face_count": 1, "bytes": 100_000},
            "audio": {"seconds": 5.0, "bytes": 200_000},
            "identity": {"distance": 0.2},
            "protected": None}
    base.update(over)
    return base


def consent(**over):
    return {**facts()["consent"], **over}


def test_allowed_lists_every_rule_version_and_file():
    d = evaluate(facts())
    policy = load_policy()
    assert d.allowed and d.reasons == []
    assert d.policy_version == policy.version == "2026.12-1"
    assert d.policy_sha256 == policy.source_sha256 and len(d.policy_sha256) == 64
    assert d.rules == ALL_RULES


@pytest.mark.parametrize("change,rule,text", [
    ({"creator": {"username": "ana", "role": "creator", "vetted": False, "recent": {"24": {}}}},
     "creator-vetted", "not been vetted"),
    ({"creator": {"username": "sam", "role": "subject", "vetted": True, "recent": {"24": {}}}},
     "creator-vetted", "not a creator"),
    ({"consent": None}, "consent-active", "No consent from subject 'Bea'"),
    ({"consent": consent(revoked_at="2026-11-20T10:00:00+00:00")}, "consent-active", "revoked on 2026-11-20"),
    ({"consent": consent(expires_at=(NOW - timedelta(days=1)).isoformat())}, "consent-active", "expired"),
    ({"consent": consent(starts_at=(NOW + timedelta(days=1)).isoformat())}, "consent-active", "not valid before"),
    ({"purpose": ""}, "allowed-purpose", "does not say what the video is for"),
    ({"purpose": "political", "consent": consent(purposes=["political"])}, "allowed-purpose",
     "Purpose 'political' is not allowed"),
    ({"purpose": "marketing"}, "consent-scope", "did not consent to videos for 'marketing'"),
    ({"channel": "tv"}, "consent-scope", "Channel 'tv' is not known"),
    ({"channel": "broadcast", "consent": consent(channels=["web"])}, "consent-scope",
     "did not consent to videos shown on 'broadcast' (consent #9 covers: web)"),
    ({"consent": consent(channels=["web"])}, "consent-scope", "must say where the video will be shown"),
    ({"consent": consent(max_videos=2, videos_used=2)}, "consent-scope", "allows 2 video(s)"),
    ({"subject": {"id": 1, "name": "Bea", "enrolled": False}, "identity": {"distance": None}},
     "identity-match", "has not enrolled"),
    ({"identity": {"distance": 0.5}}, "identity-match", "does not show subject 'Bea'"),
    ({"protected": {"id": 3, "name": "P", "distance": 0.59}}, "protected-person", "protected list"),
    ({"photo": {"face_count": 0, "bytes": 1}}, "one-face", "No face"),
    ({"photo": {"face_count": 3, "bytes": 1}}, "one-face", "3 faces"),
    ({"photo": {"face_count": 1, "bytes": 16_000_000}}, "input-limits", "at most 15728640 bytes"),
    ({"audio": {"seconds": 5, "bytes": 50_000_000}}, "input-limits", "at most 41943040 bytes"),
    ({"audio": {"seconds": 121.5, "bytes": 1}}, "input-limits", "121.5 s long; the policy allows at most 120.0 s"),
    ({"creator": {"username": "ana", "role": "creator", "vetted": True, "recent": {"24": {"accepted": 50}}}},
     "rate-limit", "limit of 50 videos in 24 hours"),
    ({"creator": {"username": "ana", "role": "creator", "vetted": True, "recent": {"24": {"denied": 20}}}},
     "rate-limit", "20 refused requests in 24 hours"),
    ({"creator": {"username": "ana", "role": "creator", "vetted": True, "recent": {}}},
     "rate-limit", "could not be counted"),
])
def test_each_rule_denies_with_a_reason(change, rule, text):
    d = evaluate(facts(**change))
    assert not d.allowed and d.rules == [rule]
    assert text in d.reasons[0]
    assert "{" not in d.reasons[0]  # every placeholder was filled


def test_protected_person_passes_with_an_elevated_consent_or_a_distant_face():
    assert evaluate(facts(protected={"id": 3, "name": "P", "distance": 0.3},
                          consent=consent(elevated=True))).allowed
    assert evaluate(facts(protected={"id": 3, "name": "P", "distance": 0.6})).allowed


def test_identity_threshold_is_strict():
    policy = load_policy()
    limit = policy.param("identity_match", "max_distance")
    assert evaluate(facts(identity={"distance": limit - 1e-6})).allowed
    assert not evaluate(facts(identity={"distance": limit})).allowed


def test_every_failing_rule_is_reported():
    d = evaluate(facts(consent=None, photo={"face_count": 2, "bytes": 1}, identity={"distance": 0.9}))
    assert d.rules == ["consent-active", "identity-match", "one-face"] and len(d.reasons) == 3


def test_decision_digest_is_stable_and_covers_the_policy_file():
    assert evaluate(facts()).sha256 == evaluate(facts()).sha256
    other = parse_policy(DEFAULT_POLICY.read_bytes() + b"\n# a comment changes the file\n")
    assert evaluate(facts(), other).policy_sha256 != evaluate(facts()).policy_sha256


RULE = '[[rule]]\nid = "r"\ncheck = "{check}"\n{params}[rule.reasons]\n{reasons}\n'


@pytest.mark.parametrize("check,params,reasons,message", [
    ("nope", "", 'x = "y"', "unknown check"),
    ("identity_match", "", 'not_enrolled = "a"\nmismatch = "b"', "missing ['max_distance']"),
    ("identity_match", "[rule.params]\nmax_distance = 0.5\nslack = 1\n", 'not_enrolled = "a"\nmismatch = "b"',
     "unknown ['slack']"),
    ("identity_match", '[rule.params]\nmax_distance = "0.5"\n', 'not_enrolled = "a"\nmismatch = "b"',
     "must be float"),
    ("identity_match", "[rule.params]\nmax_distance = 0.5\n", 'not_enrolled = "a"', "needs a reason text"),
])
def test_bad_rule_files_are_refused_when_loaded(tmp_path, check, params, reasons, message):
    bad = tmp_path / "p.toml"
    bad.write_text('version = "x"\n' + RULE.format(check=check, params=params, reasons=reasons))
    with pytest.raises(PolicyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_policy(bad)


def test_duplicate_rule_ids_are_refused(tmp_path):
    rule = RULE.format(check="exactly_one_face", params="", reasons='no_face = "a"\nseveral_faces = "b"')
    bad = tmp_path / "p.toml"
    bad.write_text('version = "x"\n' + rule + rule)
    with pytest.raises(PolicyError, match="unique id"):
        load_policy(bad)
