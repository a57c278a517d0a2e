"""Registry-assisted recovery in the library: a copy aligned to its output (mirrored
and squeezed here, which the blind vtss-3 reader does not survive) carries the
output's payload; a repost of a repost passes once the output's unmarked picture is
taken out (mark residual), read with a wider high-pass where two generations left only low
frequencies; the same pictures without the watermark, and the payload of
another output, do not pass the informed test, with the picture taken out or not; the
face-descriptor index finds a mirrored copy's output among unrelated descriptors; the
false-positive bound holds."""
import math

import numpy as np
import pytest

from bench import attacks
from bench.watermark import write_video
from provenance import fingerprint as fp
from provenance import mark_residual
from provenance import registry_recovery as rr
from provenance.fingerprint_index import FingerprintIndex
from provenance.videomark import VideoWatermarker, read_video_watermark
from tests.provenance.corpus_frames import corpus_frames

REGISTRY_ID = 424242


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """3 s of a real 512x512 talking head, marked and unmarked, at the pipeline's quality."""
    folder = tmp_path_factory.mktemp("rr")
    frames = corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 3.0)
    marker = VideoWatermarker(REGISTRY_ID)
    marked = write_video([marker.mark(f) for f in frames], folder / "marked.mp4", crf=20)
    plain = write_video(frames, folder / "plain.mp4", crf=20)
    mark_residual.write_for(marked, rr.pooled_luma(marked).mean, marker.host_mean())
    return folder, marked, plain


def _host(marked):
    return mark_residual.host_of(marked, rr.pooled_luma(marked).mean)


def test_mirrored_squeezed_copy_carries_its_outputs_payload(clips):
    folder, marked, plain = clips
    copy = attacks.geometric(marked, folder / "copy.mp4", flip=True, scale=(0.6, 0.9), rotate=4.0, crf=26)
    assert not read_video_watermark(copy).found          # the blind reader loses it
    output, pooled = rr.pooled_luma(marked), rr.pooled_luma(copy)
    alignment = rr.align(pooled.mean, output.mean)
    assert alignment is not None and alignment.mirrored and alignment.correlation >= rr.SAME_CONTENT
    assert alignment.scale == pytest.approx((0.6, 0.9), abs=0.02)
    ours = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID)
    assert ours.found and ours.statistic >= rr.INFORMED_THRESHOLD, ours
    other = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID + 1)
    assert not other.found and other.statistic < rr.INFORMED_THRESHOLD


def test_same_pictures_without_the_watermark_do_not_pass(clips):
    folder, marked, plain = clips
    copy = attacks.geometric(plain, folder / "plain_copy.mp4", flip=True, crf=23)
    output, pooled = rr.pooled_luma(marked), rr.pooled_luma(copy)
    alignment = rr.align(pooled.mean, output.mean)
    assert alignment is not None and alignment.correlation >= rr.SAME_CONTENT   # same content...
    test = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID)
    assert not test.found and abs(test.statistic) < rr.INFORMED_THRESHOLD      # ...but no payload
    removed = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID, host=_host(marked))
    assert removed.host_removed and not removed.found and abs(removed.statistic) < 4, removed


@pytest.mark.parametrize("crf1,resize,crf2", [(28, 0.7, 28), (32, 0.5, 30), (30, 1.4, 32)])
def test_a_repost_of_a_repost_passes_once_the_picture_is_taken_out(clips, crf1, resize, crf2):
    folder, marked, _ = clips
    copy = attacks.two_generations(marked, folder / f"two_{crf1}_{resize}.mp4", crf1=crf1, resize=resize, crf2=crf2)
    output, pooled = rr.pooled_luma(marked), rr.pooled_luma(copy)
    alignment = rr.align(pooled.mean, output.mean)
    raw = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID)
    ours = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID, host=_host(marked))
    assert ours.host_removed and ours.found, ours
    assert ours.statistic > raw.statistic                   # the picture was the main noise
    for other in (REGISTRY_ID + 1, 7, 123457):
        test = rr.informed_reading(pooled, alignment, output.total.shape, other, host=_host(marked))
        assert not test.found, test


@pytest.mark.parametrize("crf1,resize,crf2", [(30, 0.52, 32), (32, 0.45, 30)])
def test_with_the_picture_out_a_wider_high_pass_reads_what_two_generations_leave(clips, crf1, resize, crf2,
                                                                                  monkeypatch):
    """Two generations at CRF 30-32 around a resize to half keep only the mark's low
    frequencies: the decoder's own high-pass (1.5 working pixels) throws them away."""
    folder, marked, _ = clips
    copy = attacks.two_generations(marked, folder / f"low_{crf1}_{resize}.mp4", crf1=crf1, resize=resize, crf2=crf2)
    output, pooled = rr.pooled_luma(marked), rr.pooled_luma(copy)
    alignment = rr.align(pooled.mean, output.mean)
    ours = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID, host=_host(marked))
    assert ours.found, ours
    for other in (REGISTRY_ID + 1, 7, 123457):
        assert not rr.informed_reading(pooled, alignment, output.total.shape, other, host=_host(marked)).found
    monkeypatch.setattr(rr, "INFORMED_HP_SIGMAS", (1.5,))
    narrow = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID, host=_host(marked))
    assert not narrow.found and narrow.statistic < ours.statistic - 1, (narrow, ours)


def test_other_content_does_not_align():
    from tests.conftest import corpus_file
    a = rr.pooled_luma(corpus_file("videos/voxceleb2_00015.mp4"))
    b = rr.pooled_luma(corpus_file("videos/hdtf_aoc.mp4"))
    alignment = rr.align(a.mean, b.mean)
    assert alignment is None or alignment.correlation < rr.SAME_CONTENT


def test_index_finds_a_mirrored_copy_among_strangers(clips):
    folder, marked, _ = clips
    ours = fp.video_descriptor(marked)
    rng = np.random.default_rng(7)
    strangers = rng.normal(size=(2000, fp.DESCRIPTOR_DIM)).astype(np.float32)
    strangers /= np.linalg.norm(strangers, axis=1, keepdims=True)
    index = FingerprintIndex()
    assert index.add([(REGISTRY_ID, ours)] + [(i + 1, d) for i, d in enumerate(strangers)]) == 2001
    mirrored = fp.video_descriptor(attacks.geometric(marked, folder / "mirror.mp4", flip=True, pad_aspect=16 / 9))
    hits = index.search(mirrored, k=3)
    assert hits and hits[0][0] == REGISTRY_ID and hits[0][2] is True and hits[0][1] > 0.8


@pytest.mark.parametrize("params", [
    dict(scale=(0.53, 0.93), rotate=-9.0, crop=(0.2, 0.16, 0.96, 0.9), pad_aspect=1.5, crf=27),
    dict(scale=(0.81, 0.81), crop=(0.12, 0.07, 0.83, 0.91), pad_aspect=1.6, crf=24),
])
def test_a_boxed_squeezed_cropped_copy_aligns_to_the_pixel(clips, params):
    """Bars must not steer the alignment, and a squeeze is judged by the picture's own
    proportions, not the canvas's (both lost copies of the seed-15 sweep)."""
    folder, marked, _ = clips
    copy = attacks.geometric(marked, folder / f"boxed_{params['crf']}.mp4", **params)
    output, pooled = rr.pooled_luma(marked), rr.pooled_luma(copy)
    alignment = rr.align(pooled.mean, output.mean)
    assert alignment is not None and alignment.correlation >= rr.SAME_CONTENT, alignment
    test = rr.informed_reading(pooled, alignment, output.total.shape, REGISTRY_ID, host=_host(marked))
    assert test.found, test


def test_bars_black_corners_and_crops_do_not_hide_the_output(clips):
    folder, marked, _ = clips
    ours = fp.video_descriptor(marked)
    copy = attacks.geometric(marked, folder / "boxed.mp4", rotate=-7.0, scale=(0.8, 0.8),
                             crop=(0.2, 0.2, 0.95, 0.95), pad_aspect=2.0, crf=28)
    d = fp.video_descriptor(copy)
    assert d is not None and (d == 0).mean() > 0.2                    # the bars are left out...
    assert fp.similarity(d, ours) > 0.75, fp.similarity(d, ours)      # ...and what is left matches
    rng = np.random.default_rng(8)
    strangers = rng.normal(size=(2000, fp.DESCRIPTOR_DIM)).astype(np.float32)
    index = FingerprintIndex()
    index.add([(REGISTRY_ID, ours)] + [(i + 1, x / np.linalg.norm(x)) for i, x in enumerate(strangers)])
    hits = index.search(d, k=3)
    assert hits and hits[0][0] == REGISTRY_ID and hits[0][1] >= 0.75


def test_false_positive_bound_per_copy():
    assert rr.p_false_payload() <= 1e-9
    assert rr.INFORMED_THRESHOLD >= math.sqrt(2 * math.log(rr.MAX_CANDIDATES / 1e-9))
