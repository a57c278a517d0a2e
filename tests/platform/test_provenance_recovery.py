"""`verify` tells the four cases apart on one real output and its copies: trusted
manifest (the video and its poster); manifest stripped by a plain remux, by
`-map_metadata -1`, by re-encoding and by a crop (recovered through the watermark, content
confirmed by the fingerprint); tampered (changed bytes, or our watermark copied
onto other content); not ours. A revoked consent then shows on every verdict."""

import json

import av
import pytest

from bench import attacks
from bench.watermark import write_video
from consent.services import give_consent, revoke_consent
from jobs.runner import run_job
from jobs.services import submit_job
from provenance.videomark import VideoWatermarker
from registry.models import RegistryEntry
from tests.conftest import corpus_file
from tests.platform.conftest import run_command, verify_json


@pytest.fixture
def output(bea_account, creator, settings):
    account = bea_account
    subject = account.subject_profile
    consent = give_consent(account=account, creator=creator, purposes=["education"], agreed=True)
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        job = submit_job(creator=creator, subject=subject, photo=p, audio=a, controls={"size": 256},
                         purpose="education")
    job = run_job(str(job.pk))
    assert job.status == "succeeded", job.error
    return job, RegistryEntry.objects.get(job=job), consent


verify = verify_json


def copied_watermark(entry, dst):
    """Another person's real video carrying this output's watermark (a perfect copy attack)."""
    marker = VideoWatermarker(entry.pk)
    with av.open(str(corpus_file("videos/voxceleb2_00015.mp4"))) as c:
        frames = [marker.mark(f.to_ndarray(format="rgb24")) for f in c.decode(c.streams.video[0])]
    return write_video(frames, dst)


@pytest.mark.django_db
def test_four_cases_and_revocation(output, tmp_path, settings):
    job, entry, consent = output
    src = job.output.path
    assert entry.manifest_id.startswith("urn:c2pa:") and entry.manifest_store and len(entry.fingerprint) >= 2
    assert entry.watermark_codec == "vtss-3" and entry.poster_sha256
    actions = next(a for a in entry.manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    created = actions["data"]["actions"][0]
    assert created["softwareAgent"]["name"] == job.engine.split()[0] and created["softwareAgent"]["backend"]

    ours = verify(src)
    assert ours["verdict"] == "authentic" and ours["c2pa"]["state"] == "Trusted"
    assert ours["watermark"]["found"] and ours["registry"]["matched_by"] == "hash"
    poster = verify(settings.MEDIA_ROOT / entry.poster)
    assert poster["verdict"] == "authentic" and poster["watermark"]["codec"] == "iwm-dwtDctSvd"
    assert poster["watermark"]["registry_id"] == entry.pk

    stripped = {"remux": attacks.remux(src, tmp_path / "remux.mp4"),
                "map_metadata": attacks.strip_metadata(src, tmp_path / "nometa.mp4"),
                "crf23": attacks.reencode(src, tmp_path / "crf23.mp4", 23),
                "crop10": attacks.crop(src, tmp_path / "crop10.mp4", 0.1, seed=1)}
    for how, path in stripped.items():
        r = verify(path)
        assert r["verdict"] == "provenance_stripped", (how, r["evidence"])
        assert r["c2pa"]["state"] == "Absent" and r["registry"]["job"] == str(job.pk)
        assert r["registry"]["matched_by"] == "watermark" and r["registry"]["content_match"] is True
        assert r["c2pa"]["recovered"]["id"] == entry.manifest_id
        assert r["c2pa"]["recovered"]["actions"] == ["c2pa.created", "c2pa.watermarked"]

    data = bytearray(open(src, "rb").read())
    mdat = data.find(b"mdat")
    for k in range(6):
        data[mdat + 3000 + 131 * k] ^= 0x5A
    (tmp_path / "flipped.mp4").write_bytes(bytes(data))
    flipped = verify(tmp_path / "flipped.mp4")
    assert flipped["verdict"] == "tampered" and flipped["c2pa"]["state"] == "Invalid"

    copy = verify(copied_watermark(entry, tmp_path / "copied.mp4"))
    assert copy["watermark"]["found"] and copy["watermark"]["registry_id"] == entry.pk
    assert copy["verdict"] == "tampered" and copy["registry"]["content_match"] is False

    theirs = verify(corpus_file("videos/voxceleb2_00473.mp4"))
    assert theirs["verdict"] == "no_provenance" and not theirs["watermark"]["found"]
    assert not theirs["registry"]["match"]

    revoke_consent(consent, reason="test")
    for path in (src, stripped["remux"], stripped["crf23"], tmp_path / "flipped.mp4", tmp_path / "copied.mp4"):
        r = verify(path)
        assert r["registry"]["revoked"] is True, path
    assert verify(src)["verdict"] == "revoked" and verify(stripped["map_metadata"])["verdict"] == "revoked"


def laundered_past_the_watermark(src, dst):
    """A copy whose watermark is gone (blurred, then squeezed to a third and back) but
    whose pictures are the same to a person: what three lossy re-encodes do to the mark."""
    import cv2
    with av.open(str(src)) as c:
        frames = []
        for f in c.decode(c.streams.video[0]):
            rgb = cv2.GaussianBlur(f.to_ndarray(format="rgb24"), (0, 0), 3.0)
            h, w = rgb.shape[:2]
            small = cv2.resize(rgb, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
            frames.append(cv2.resize(small, (w // 3 * 2 // 2 * 2, h // 3 * 2 // 2 * 2)))
    return write_video(frames, dst, crf=30)


@pytest.mark.django_db
def test_verify_similar_finds_a_copy_laundered_past_the_watermark(output, tmp_path):
    job, entry, _ = output
    copy = laundered_past_the_watermark(job.output.path, tmp_path / "laundered.mp4")
    plain = verify(copy)
    assert plain["verdict"] == "no_provenance" and not plain["watermark"]["found"]
    assert "similar" not in plain["registry"]                      # the scan is opt-in
    rc, out, err = run_command("verify", str(copy), "--json", "--similar")
    found = json.loads(out)
    assert rc == 0 and found["verdict"] == "no_provenance"         # a lead, not proof
    assert [m["job"] for m in found["registry"]["similar"]] == [str(job.pk)]
    assert found["registry"]["similar"][0]["manifest_id"] == entry.manifest_id
    rc, out, err = run_command("verify", str(corpus_file("videos/voxceleb2_00015.mp4")), "--similar")
    assert rc == 0 and "no issued output looks like this file" in out
