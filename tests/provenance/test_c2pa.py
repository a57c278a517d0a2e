"""Real C2PA signing with the platform chain: trusted with our CA, merely valid
with another anchor, invalid once the video bytes change, absent on other files."""
import os
import stat

import pytest

from provenance.manifest import build_manifest, read_manifest, sign_file
from provenance.signing import SigningError, load_signing_material, mint_platform_chain
from tests.conftest import corpus_file


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return mint_platform_chain(tmp_path_factory.mktemp("keys") / "signing")


@pytest.fixture(scope="module")
def signed(chain, tmp_path_factory):
    src = corpus_file("videos/voxceleb2_00373.mp4")
    dst = tmp_path_factory.mktemp("signed") / "signed.mp4"
    manifest = build_manifest(title="t", engine="veritalk-warp", engine_version="0.1.0", registry_id=7,
                              watermark_payload="00000007aabbccdd", watermark_codec="vtss-1", job_id="j",
                              consent_id=3, policy_version="p1", decision_sha256="0" * 64, duration_ms=5000)
    sign_file(src, dst, manifest, load_signing_material(chain))
    return dst


def test_keys_are_private(chain):
    assert stat.S_IMODE(os.stat(chain).st_mode) == 0o700
    for name in ("signer.key", "ca.key"):
        assert stat.S_IMODE(os.stat(chain / name).st_mode) == 0o600


def test_group_readable_key_is_refused(tmp_path):
    d = mint_platform_chain(tmp_path / "k")
    os.chmod(d / "signer.key", 0o640)
    with pytest.raises(SigningError, match="readable by others"):
        load_signing_material(d)


def test_minting_twice_needs_overwrite(chain):
    with pytest.raises(SigningError, match="already exists"):
        mint_platform_chain(chain)


def test_trusted_with_platform_ca(chain, signed):
    reading = read_manifest(signed, trust_anchor_pem=(chain / "ca.pem").read_bytes())
    assert reading.state == "Trusted", reading.errors
    assert reading.issuer == "Veritalk"
    assert reading.actions == ["c2pa.created", "c2pa.watermarked"]
    assert reading.provenance["registry_id"] == 7 and reading.provenance["consent_id"] == 3


def test_only_valid_under_another_ca(signed, tmp_path):
    other = mint_platform_chain(tmp_path / "other", organization="Someone Else")
    assert read_manifest(signed, trust_anchor_pem=(other / "ca.pem").read_bytes()).state == "Valid"


def test_flipped_video_bytes_are_invalid(chain, signed, tmp_path):
    data = bytearray(signed.read_bytes())
    mdat = data.find(b"mdat")
    for k in range(8):
        data[mdat + 4000 + 97 * k] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    reading = read_manifest(tampered, trust_anchor_pem=(chain / "ca.pem").read_bytes())
    assert reading.state == "Invalid" and reading.errors


def test_unsigned_file_has_no_manifest(chain):
    reading = read_manifest(corpus_file("videos/voxceleb2_00015.mp4"), trust_anchor_pem=(chain / "ca.pem").read_bytes())
    assert reading.state == "Absent"
