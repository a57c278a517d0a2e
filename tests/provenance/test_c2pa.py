"""Real C2PA signing with the platform chain: trusted with our CA, merely valid
with another anchor, invalid once the video bytes change, absent on other files;
the manifest's contents; a deployment's own certificate and an HSM/KMS-style
callback signer."""
import os
import stat

import pytest

from provenance.manifest import Ingredient, build_manifest, read_manifest, sign_file
from provenance.signing import SignerConfig, SigningError, load_signing_material, mint_platform_chain
from tests.conftest import corpus_file


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return mint_platform_chain(tmp_path_factory.mktemp("keys") / "signing")


@pytest.fixture(scope="module")
def signed(chain, tmp_path_factory):
    src = corpus_file("videos/voxceleb2_00373.mp4")
    dst = tmp_path_factory.mktemp("signed") / "signed.mp4"
    sign_file(src, dst, _manifest(), load_signing_material(chain))
    return dst


def _manifest():
    return build_manifest(title="t", engine="veritalk-warp", engine_version="0.1.0", registry_id=7,
                          watermark_payload="00000007aabbccdd", watermark_codec="vtss-2", job_id="j",
                          consent_id=3, policy_version="p1", decision_sha256="d" * 64, duration_ms=5000,
                          backend="cpu", ingredients=[Ingredient("portrait.jpg", "image/jpeg", "a" * 64, "photo"),
                                                      Ingredient("voice.wav", "audio/wav", "b" * 64, "audio")])


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


def test_manifest_contents(chain, signed):
    reading = read_manifest(signed, trust_anchor_pem=(chain / "ca.pem").read_bytes())
    m = reading.manifest
    assert m["claim_generator_info"][0]["name"] == "Veritalk" and m["title"] == "t"
    assert reading.label and reading.label.startswith("urn:c2pa:")
    by_label = {a["label"]: a["data"] for a in m["assertions"]}
    created, watermarked = by_label["c2pa.actions.v2"]["actions"]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert created["softwareAgent"] == {"name": "veritalk-warp", "version": "0.1.0", "backend": "cpu"}
    assert watermarked["action"] == "c2pa.watermarked"
    binding = by_label["c2pa.soft-binding"]
    assert binding["alg"] == "com.veritalk.vtss-2" and binding["blocks"][0]["value"] == "AAAAB6q7zN0="
    assert by_label["com.veritalk.consent"] == {"consent_id": 3, "policy_version": "p1", "decision_sha256": "d" * 64}
    uses = {v["use"] for v in by_label["cawg.training-mining"]["entries"].values()}
    assert uses == {"notAllowed"}
    # The inputs by hash only: no thumbnail, no data of the person.
    ingredients = m["ingredients"]
    assert [i["instance_id"] for i in ingredients] == ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
    assert all("thumbnail" not in i and "data" not in i for i in ingredients)
    assert all(i["relationship"] == "inputTo" for i in ingredients)


def test_deployment_certificate_and_callback_signers(tmp_path, monkeypatch):
    """A production chain of its own: its key in a file, or only reachable through a
    signing function (as an HSM or a cloud KMS would be)."""
    prod = mint_platform_chain(tmp_path / "prod", organization="Prod Signer")
    src = corpus_file("videos/voxceleb2_00373.mp4")
    anchor = (prod / "ca.pem").read_bytes()
    own = SignerConfig(kind="certificate", chain_path=str(prod / "signer.pem"), key_path=str(prod / "signer.key"))
    sign_file(src, tmp_path / "own.mp4", _manifest(), own)
    assert read_manifest(tmp_path / "own.mp4", trust_anchor_pem=anchor).state == "Trusted"

    monkeypatch.setenv("TEST_KMS_KEY", str(prod / "signer.key"))
    kms = SignerConfig(kind="callback", chain_path=str(prod / "signer.pem"),
                       callback="tests.provenance.kms_stub:sign")
    sign_file(src, tmp_path / "kms.mp4", _manifest(), kms)
    reading = read_manifest(tmp_path / "kms.mp4", trust_anchor_pem=anchor)
    assert reading.state == "Trusted" and reading.issuer == "Prod Signer"

    with pytest.raises(SigningError, match="cannot be imported"):
        sign_file(src, tmp_path / "x.mp4", _manifest(),
                  SignerConfig(kind="callback", chain_path=str(prod / "signer.pem"), callback="no.such.module:sign"))
