"""Policy files are versioned: every released version is archived byte for byte
and listed with its sha256; the current file is one of them, so changing the
rules without a new version fails here."""
import hashlib
import tomllib

from policies.engine import DEFAULT_POLICY, load_policy
from policies.versions import ARCHIVE, LEDGER, ledger, problems


def test_current_policy_is_a_released_version():
    assert problems() == []
    policy = load_policy()
    assert (ARCHIVE / f"{policy.version}.toml").read_bytes() == DEFAULT_POLICY.read_bytes()
    assert ledger()[policy.version] == policy.source_sha256


def test_every_archived_version_still_loads_and_matches_the_ledger():
    versions = tomllib.loads(LEDGER.read_text())["version"]
    assert [v["version"] for v in versions] == sorted(v["version"] for v in versions)  # append-only, in order
    for entry in versions:
        path = ARCHIVE / f"{entry['version']}.toml"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert load_policy(path).version == entry["version"]


def test_an_edit_without_a_new_version_is_caught(tmp_path):
    edited = tmp_path / "default.toml"
    edited.write_bytes(DEFAULT_POLICY.read_bytes().replace(b"max_jobs = 50", b"max_jobs = 500"))
    found = problems(edited)
    assert len(found) == 1 and "give the changed rules a new version" in found[0]
