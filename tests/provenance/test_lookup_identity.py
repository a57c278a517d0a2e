"""The registry look-up knows who is in the picture: a grey crop descriptor can score
another person's portrait above a grey, squeezed, mirrored copy of our own output (two
copies of the seed-15 sweep were lost that way), so outputs whose identity embedding
shows another person rank after every output that may show this one. The embedding is
taken on the face brought to a canonical shape, so attacked copies keep it."""
import numpy as np
import pytest

from bench import attacks
from bench.watermark import write_video
from provenance import fingerprint as fp
from provenance.fingerprint_index import FingerprintIndex
from tests.provenance.corpus_frames import corpus_frames

OURS = 5150


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("identity")
    ours = write_video(corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 2.0), folder / "ours.mp4", crf=20)
    other = write_video(corpus_frames("videos/hdtf_aoc.mp4", 2.0), folder / "other.mp4", crf=20)
    copy = attacks.geometric(ours, folder / "copy.mp4", flip=True, scale=(0.56, 0.9), rotate=-6.0,
                             crop=(0.1, 0.12, 0.9, 0.86), pad_aspect=16 / 9, crf=29)
    grey = attacks.colour(copy, folder / "grey.mp4", saturation=0.0, gamma=1.3, brightness=0.75)
    return fp.video_face(ours), fp.video_face(other), fp.video_face(grey)


def test_an_attacked_copy_keeps_its_identity_and_another_person_does_not(faces):
    ours, other, copy = faces
    assert ours.identity is not None and other.identity is not None and copy.identity is not None
    assert not fp.other_person(copy.identity, ours.identity), np.linalg.norm(copy.identity - ours.identity)
    assert fp.other_person(copy.identity, other.identity), np.linalg.norm(copy.identity - other.identity)
    assert not fp.other_person(None, other.identity)        # unknown identity: no verdict either way


def test_other_people_rank_after_this_person_however_alike_their_crops(faces):
    ours, other, copy = faces
    index = FingerprintIndex()
    # Another person's output whose descriptor is the copy's own: the crop alone ranks it first.
    index.add([(OURS, ours.descriptor, ours.identity), (1, copy.descriptor, other.identity)])
    assert index.search(copy.descriptor, k=2)[0][0] == 1
    hits = index.search(copy.descriptor, k=2, identity=copy.identity)
    assert [h[0] for h in hits] == [OURS, 1]
    # Entries without an identity (fingerprinted before it was kept) rank by their crop as before.
    legacy = FingerprintIndex()
    legacy.add([(OURS, ours.descriptor), (1, copy.descriptor)])
    assert legacy.search(copy.descriptor, k=2, identity=copy.identity)[0][0] == 1


def test_the_registry_keeps_the_identity(faces, tmp_path):
    ours, _, _ = faces
    stored = {"descriptor": fp.pack_descriptor(ours.descriptor), "identity": fp.pack_descriptor(ours.identity)}
    assert np.allclose(fp.identity_of(stored), ours.identity, atol=1e-3)
    assert fp.identity_of({"descriptor": stored["descriptor"]}) is None
    assert fp.identity_of({"identity": "not base64!"}) is None
    assert fp.identity_of({"identity": stored["descriptor"]}) is None    # a 256-number field is not an identity


def test_a_face_only_the_cnn_finds_is_followed_not_detected_again(monkeypatch):
    """dlib's CNN costs about a second a call on a CPU: a video whose face HOG misses
    (thick glasses) had it run on every sampled frame (11 s a copy)."""
    from generation import face as gface
    frames = [np.ascontiguousarray(f) for f in corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 3.0)[::12]]
    detected = [got for got in fp.frame_faces(frames)]
    real, calls = gface.detect_faces, []

    def cnn_only(rgb, *, detectors=("hog", "cnn")):
        calls.append(detectors)
        return [] if detectors == ("hog",) else real(rgb, detectors=detectors)

    monkeypatch.setattr(gface, "detect_faces", cnn_only)
    tracked = list(fp.frame_faces(frames))
    assert len(frames) >= 6 and calls.count(("cnn",)) == 1, calls
    for (d0, e0), (d1, e1) in zip(detected, tracked):
        assert fp.similarity(d1, d0) > 0.95 and not fp.other_person(e0, e1)
