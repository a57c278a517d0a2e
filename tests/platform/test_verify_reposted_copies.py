"""`verify` on copies of one real output as platforms make them: cropped off-centre,
letterboxed, mirrored, resized to an odd size, squeezed to 9:16, rotated, turned grey,
mirrored and turned on a 9:16 canvas, re-encoded twice with a resize between. Each is
`provenance_stripped` with the right job (by the blind watermark or by the registry path),
never `tampered`; the repost of a repost by the registry path with the output's unmarked
picture taken out first (the job keeps the mark residual beside its output). Our watermark
on another person's video still is `tampered`; a stranger's video has no provenance."""
import pytest

from bench import attacks
from consent.services import give_consent
from jobs.runner import run_job
from jobs.services import submit_job
from provenance import fingerprint as fp
from provenance import mark_residual
from registry.models import RegistryEntry
from tests.conftest import corpus_file
from tests.platform.conftest import verify_json
from tests.platform.test_provenance_recovery import copied_watermark


@pytest.fixture
def output(bea_account, creator):
    give_consent(account=bea_account, creator=creator, purposes=["education"], agreed=True)
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        job = submit_job(creator=creator, subject=bea_account.subject_profile, photo=p, audio=a,
                         controls={"size": 512}, purpose="education")
    job = run_job(str(job.pk))
    assert job.status == "succeeded", job.error
    return job, RegistryEntry.objects.get(job=job)


COPIES = {
    "crop25_off_centre": lambda s, d, t: attacks.geometric(s, d, crop=(0.25, 0.05, 1.0, 0.80)),
    "letterbox_16_9": lambda s, d, t: attacks.geometric(s, d, pad_aspect=16 / 9),
    "mirrored": lambda s, d, t: attacks.geometric(s, d, flip=True),
    "resized_300px": lambda s, d, t: attacks.geometric(s, d, scale=(300 / 512, 300 / 512)),
    "squeezed_9_16": lambda s, d, t: attacks.geometric(s, d, scale=(9 / 16, 1.0)),
    "rotated_3deg": lambda s, d, t: attacks.geometric(s, d, rotate=3.0),
    "grayscale": lambda s, d, t: attacks.colour(s, d, saturation=0.0),
    "mirrored_turned_boxed": lambda s, d, t: attacks.geometric(s, d, flip=True, rotate=-4.0, pad_aspect=9 / 16),
}

BLIND = {   # scale, aspect, rotation as the blind decoder reads them
    "resized_300px": (300 / 512, 1.0, 0.0), "squeezed_9_16": (9 / 16, 16 / 9, 0.0), "rotated_3deg": (1.0, 1.0, 3.0),
    "mirrored": (1.0, 1.0, 0.0), "grayscale": (1.0, 1.0, 0.0), "mirrored_turned_boxed": (1.0, 1.0, -4.0)}


@pytest.mark.django_db
def test_copies_of_our_output_are_stripped_never_tampered(output, tmp_path):
    job, entry = output
    entry.refresh_from_db()
    assert entry.fingerprint["version"] == 2 and entry.fingerprint["descriptor"]
    assert fp.identity_of(entry.fingerprint) is not None        # the look-up ranks other people last
    for name, make in COPIES.items():
        copy = make(job.output.path, tmp_path / f"{name}.mp4", tmp_path)
        r = verify_json(copy)
        assert r["verdict"] == "provenance_stripped", (name, r["evidence"])
        assert r["registry"]["job"] == str(job.pk) and r["registry"]["content_match"] is True, name
        assert r["watermark"]["found"] and r["watermark"]["registry_id"] == entry.pk, name
        assert r["watermark"]["method"] in ("blind", "registry"), name
        assert r["registry"]["alignment"]["correlation"] >= 0.8, name
        if name in BLIND:   # the blind decoder's geometry search finds these without the registry
            assert r["watermark"]["method"] == "blind", name
            geometry = r["watermark"]["geometry"]
            assert geometry["scale"] == pytest.approx(BLIND[name][0], rel=0.02), (name, geometry)
            assert geometry["aspect"] == pytest.approx(BLIND[name][1], rel=0.03), (name, geometry)
            assert geometry["rotation"] == pytest.approx(BLIND[name][2], abs=0.6), (name, geometry)
            assert geometry["mirrored"] == name.startswith("mirrored"), (name, geometry)


@pytest.mark.django_db
def test_pasted_watermark_is_tampered_and_strangers_have_none(output, tmp_path):
    job, entry = output
    pasted = copied_watermark(entry, tmp_path / "pasted.mp4")
    r = verify_json(pasted)
    assert r["watermark"]["found"] and r["watermark"]["method"] == "blind"
    assert r["verdict"] == "tampered" and r["registry"]["content_match"] is False
    theirs = verify_json(corpus_file("videos/voxceleb2_00473.mp4"))
    assert theirs["verdict"] == "no_provenance" and theirs["watermark"]["method"] is None


@pytest.mark.django_db
def test_a_repost_of_a_repost_is_recovered_by_the_registry_path(output, tmp_path):
    job, entry = output
    assert mark_residual.residual_path(job.output.path).is_file()       # kept beside the output
    # squeezed and turned at once first (the blind decoder reads a plain repost of a repost
    # itself since it reads the key frames apart, but not two of size, stretch and angle together)
    first = attacks.geometric(job.output.path, tmp_path / "squeezed_turned.mp4", scale=(0.8, 0.62), rotate=4.0,
                              crf=23)
    copy = attacks.two_generations(first, tmp_path / "two_generations.mp4")   # CRF 28, 70 %, CRF 28
    r = verify_json(copy)
    assert r["verdict"] == "provenance_stripped", r["evidence"]
    assert r["registry"]["job"] == str(job.pk) and r["watermark"]["registry_id"] == entry.pk
    assert r["watermark"]["method"] == "registry" and r["registry"]["content_match"] is True
    informed = r["registry"]["alignment"]["informed"]
    assert informed["host_removed"] and informed["statistic"] >= informed["threshold"], informed
