"""The video watermark (vtss-3): invisible (PSNR), read back exactly from our own
MP4 and after a crop, a 50% downscale and a mirror image (blind, no registry), never read
from unmarked video."""
import av
import cv2
import numpy as np
import pytest

from bench import attacks
from bench.watermark import psnr, write_video
from generation.controls import Controls
from generation.pipeline import generate_video
from provenance.videomark import CODEC_NAME, VideoWatermarker, add_luma_delta, read_video_watermark
from tests.conftest import corpus_file
from tests.provenance.corpus_frames import corpus_frames

REGISTRY_ID = 424242


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    """3 s of a real 512x512 talking-head video, marked frame by frame, encoded as
    the pipeline does (H.264 CRF 18)."""
    folder = tmp_path_factory.mktemp("wm")
    frames = corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 3.0)
    marker = VideoWatermarker(REGISTRY_ID)
    out = [marker.mark(f) for f in frames]
    return write_video(out, folder / "marked.mp4"), [psnr(m, f) for m, f in zip(out, frames)], folder


def test_marked_clip_decodes_exactly_and_is_invisible(marked):
    path, psnrs, _ = marked
    reading = read_video_watermark(path)
    assert reading.found and reading.registry_id == REGISTRY_ID and reading.codec == CODEC_NAME
    assert reading.payload.startswith("00067932") and reading.bit_errors == 0
    assert min(psnrs) >= 40


@pytest.mark.parametrize("attack", ["crop10", "downscale50", "mirrored", "mirrored_cropped_grey"])
def test_survives_crop_downscale_and_mirror(marked, attack):
    path, _, folder = marked
    dst = folder / f"{attack}.mp4"
    if attack == "crop10":
        attacks.crop(path, dst, 0.1, seed=3)
    elif attack == "downscale50":
        attacks.downscale(path, dst, 0.5)
    elif attack == "mirrored":
        attacks.geometric(path, dst, flip=True, crf=26)
    else:
        mirrored = attacks.geometric(path, folder / "m.mp4", flip=True, crop=(0.17, 0.05, 0.93, 0.88), crf=18)
        attacks.colour(mirrored, dst, saturation=0.0, gamma=0.8, crf=24)
    reading = read_video_watermark(dst)
    assert reading.found and reading.registry_id == REGISTRY_ID, reading
    assert reading.mirrored == attack.startswith("mirrored")


@pytest.mark.parametrize("geometry", [
    {"scale": (0.37, 0.37)},                                      # far below every common scale
    {"scale": (1.83, 1.83), "crop": (0.2, 0.1, 0.9, 0.85)},        # enlarged, then cut off-centre
    {"scale": (0.62, 1.0), "pad_aspect": 16 / 9},                  # squeezed, boxed on a 16:9 canvas
    {"scale": (1.0, 1.71)},                                        # stretched tall
    {"rotate": 6.3},
    {"rotate": -9.2, "crop": (0.12, 0.12, 0.88, 0.88)},            # turned and cut to hide the corners
    {"flip": True, "rotate": 4.7, "pad_aspect": 0.75},              # mirrored, turned, boxed (one pass)
    {"flip": True, "scale": (1.42, 1.42), "crop": (0.1, 0.2, 0.8, 0.95)},   # mirrored, enlarged, cut
    {"flip": True, "scale": (1.0, 0.58)},                          # mirrored and squeezed flat
    # two of size, stretch and angle at once: the planes through the grid's lines
    {"scale": (0.81, 0.81), "rotate": 5.2},                        # resized and turned
    {"flip": True, "scale": (1.0, 0.72), "rotate": -6.4, "crop": (0.05, 0.1, 0.95, 0.9)},  # squeezed, turned
    {"scale": (1.3, 0.85), "pad_aspect": 9 / 16},                  # resized unequally, boxed on 9:16
])
def test_blind_search_finds_any_size_stretch_and_angle(marked, geometry):
    """Sizes, stretches and angles that no list holds, of the copy as it is or mirrored, and
    two of them at once, are found by the geometry search, and the reading says which
    geometry it was."""
    path, _, folder = marked
    dst = attacks.geometric(path, folder / "geometry.mp4", crf=23, **geometry)
    reading = read_video_watermark(dst)
    assert reading.found and reading.registry_id == REGISTRY_ID, reading
    sx, sy = geometry.get("scale", (1.0, 1.0))
    assert reading.scale == pytest.approx(sx, rel=0.02)
    assert reading.aspect == pytest.approx(sy / sx, rel=0.03)
    two_axes = len({*geometry} & {"scale", "rotate"}) == 2 or (sx != sy and sx != 1.0 and sy != 1.0)
    # half a grid step; a degree where two lines move at once (a squeeze trades against a turn)
    assert reading.rotation == pytest.approx(geometry.get("rotate", 0.0), abs=1.0 if two_axes else 0.6)
    assert reading.mirrored == geometry.get("flip", False)


def test_spectral_look_ranks_the_true_geometry_among_those_it_keeps(marked):
    """The spectrum's cheap look at ~36 000 geometries keeps one within a grid step and a
    half of a copy's true size and a degree of its angle (resized to 0.74 and turned -3.3 degrees,
    mirrored); the full fold's refinement brings it within half a step, where the fold reads
    the mark mirrored and only mirrored: the look only ranks."""
    from provenance import videomark as vm
    path, _, folder = marked
    dst = attacks.geometric(path, folder / "sliced.mp4", crf=23, flip=True, scale=(0.74, 0.74), rotate=-3.3)
    with av.open(str(dst)) as c:
        frames = [f.to_ndarray(format="gray").astype(np.float32) for f in c.decode(video=0)]
    picture = np.sum(frames, axis=0)
    kept = vm._slice_candidates(picture, 1.0)
    step = 1.5 * vm.GEOMETRY_STEP
    near = [g for g in kept if g.mirrored and abs(np.log(g.sx / 0.74)) <= step
            and abs(np.log(g.sy / 0.74)) <= step and abs(g.angle + 3.3) <= 1.0]
    assert near, kept[:5]
    z, g = vm._refined(picture, vm._sync_z(picture, near[0], 1.0, {})[1], near[0], 1.0, {})
    assert z > 8 and abs(g.angle + 3.3) <= 0.5      # refined to within half a grid step
    assert vm._sync_z(picture, g, 1.0, {})[0] < 6   # the unmirrored reading is not the mark


def test_geometry_grid_steps_stay_within_the_sync_peak():
    """Every size 30-200 %, stretch 0.5-2 and angle within 10 degrees has a grid point
    within half a step (1.2 % in size, 0.5 degree in angle): the peak's half-width."""
    from provenance.videomark import GEOMETRY_STEP, geometry_grid
    grid = geometry_grid()
    uniform = np.log([g.sx for g in grid if g.sx == g.sy and not g.angle])
    for s in np.log(np.linspace(0.3, 2.0, 500)):
        assert np.min(np.abs(uniform - s)) <= GEOMETRY_STEP / 2 + 1e-9
    tall = np.log([g.sy for g in grid if g.sx == 1.0 and not g.angle])   # 1 itself: a uniform size
    for a in np.log(np.linspace(0.5, 2.0, 500)):
        assert np.min(np.abs(tall - a)) <= GEOMETRY_STEP / 2 + 1e-9
    angles = np.array([g.angle for g in grid if g.sx == g.sy == 1.0] + [0.0])
    assert all(np.min(np.abs(angles - a)) <= 0.25 + 1e-9 for a in np.linspace(-10, 10, 400))


def test_marking_changes_only_the_luma_and_keeps_the_frame():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (256, 320, 3), dtype=np.uint8)
    out = VideoWatermarker(5).mark(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    diff = out.astype(int) - frame
    unclipped = (frame >= 20).all(axis=2) & (frame <= 235).all(axis=2)
    assert (diff[..., 0] == diff[..., 1])[unclipped].all() and (diff[..., 1] == diff[..., 2])[unclipped].all()


@pytest.mark.parametrize("name", ["videos/voxceleb2_00015.mp4", "videos/hdtf_aoc.mp4",
                                  "videos/thb_real_plkvq0nbjus_4.mp4", "videos/latentsync_demo1.mp4"])
def test_real_videos_carry_no_payload(name):
    reading = read_video_watermark(corpus_file(name))
    assert not reading.found and reading.registry_id is None


def test_unreadable_file_is_not_found(tmp_path):
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"not a video")
    assert not read_video_watermark(bad).found


def test_unmarked_render_carries_no_payload(tmp_path):
    class Identity:
        def mark(self, rgb):
            return rgb
    path = tmp_path / "plain.mp4"
    generate_video(corpus_file("photos/elizabeth_olsen.jpg"), corpus_file("audio/sr_english_en.wav"), path,
                   marker=Identity(), controls=Controls(size=256))
    with av.open(str(path)) as c:
        assert c.streams.video[0].frames > 0
    assert not read_video_watermark(path).found


def test_vtss1_outputs_of_earlier_releases_stay_readable(tmp_path):
    """verify falls back to the vtss-1 reader when the registry holds such outputs."""
    from provenance.verify import read_watermark
    from tests.provenance.legacy_writers import Vtss1Writer
    marker = Vtss1Writer(REGISTRY_ID)
    path = write_video([marker.mark(f) for f in corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 2.0)],
                       tmp_path / "v1.mp4")
    reading = read_watermark(path, legacy=True)
    assert reading.registry_id == REGISTRY_ID and reading.codec == "vtss-1" and reading.method == "blind"


def test_luma_delta_is_added_to_every_channel_with_saturation():
    """The 8-bit two-plane addition gives exactly what adding the float delta merged
    to three channels gives, clipping at 0 and 255 included."""
    rng = np.random.default_rng(11)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb[:4] = 255
    rgb[-4:] = 0
    delta = np.rint(rng.normal(0, 6, (37, 53))).astype(np.float32)
    delta[0, :5] = 300.0
    delta[-1, :5] = -300.0
    expected = cv2.add(rgb, cv2.merge([delta, delta, delta]), dtype=cv2.CV_8U)
    assert np.array_equal(add_luma_delta(rgb, delta), expected)


@pytest.mark.parametrize("size", [(512, 512), (1280, 720), (700, 410), (320, 240)])
def test_faster_embedder_gives_the_released_frames_bit_for_bit(size):
    """The per-frame embedder was sped up (issue 15); the frames it writes are exactly
    those of the vtss-3 embedder as released (frozen in vtss3_reference_writer), at tile
    multiples, partial tiles and the small-frame chip size. Should this fail after a numpy
    or OpenCV upgrade by one level on a few pixels, a summation order changed there."""
    from tests.provenance.vtss3_reference_writer import ReferenceVtss3Writer
    frames = corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 0.4)[::3]
    for registry_id in (REGISTRY_ID, 7):
        new, old = VideoWatermarker(registry_id), ReferenceVtss3Writer(registry_id)
        for f in frames:
            f = np.ascontiguousarray(cv2.resize(f, size, interpolation=cv2.INTER_AREA))
            assert np.array_equal(new.mark(f), old.mark(f))


def test_iss_gains_match_the_plain_bisection():
    """iss_gains walks the bisection against a solved threshold: the same gains, to the bit."""
    from provenance.spread import iss_gains
    from tests.provenance.vtss3_reference_writer import SLOT_WEIGHT, reference_iss_gains
    rng = np.random.default_rng(3)
    for _ in range(300):
        host = rng.normal(size=121) * 10 ** rng.uniform(-1, 3)
        unit = np.abs(rng.normal(size=121)) * 10 ** rng.uniform(-1, 3) + 1e-3
        energy = np.abs(rng.normal(size=121)) * 10 ** rng.uniform(1, 4)
        budget = 10 ** rng.uniform(2, 7)
        assert np.array_equal(iss_gains(host, unit, energy, slot_weight=SLOT_WEIGHT, budget=budget, cap=3.5),
                              reference_iss_gains(host, unit, energy, budget=budget, cap=3.5))


def test_key_frames_are_pooled_apart_even_off_the_spread(tmp_path):
    """The reader sums its evenly spread frames and, apart, every key frame it meets (up to
    MAX_KEY_FRAMES), whether or not the spread falls on it."""
    from provenance.pooling import pool_with_key_frames
    rng = np.random.default_rng(4)
    base = rng.integers(30, 220, (64, 96, 3), dtype=np.uint8)
    path = tmp_path / "gop7.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25, options={"crf": "20", "x264-params": "keyint=7:min-keyint=7:scenecut=0"})
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        for i in range(40):
            frame = np.clip(base.astype(int) + i, 0, 255).astype(np.uint8)
            for packet in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in s.encode():
            out.mux(packet)
    pool = pool_with_key_frames(path, 5, lambda _s: lambda f: f.to_ndarray(format="gray").astype(np.float32))
    # spread: frames 0, 8, ..., 32 (reading stops there); key frames met: 0, 7, 14, 21, 28
    assert pool.frames == 5 and pool.key_frames == 5
    assert pool.total.shape == pool.key.shape == (64, 96)
    assert pool_with_key_frames(path, 5, lambda _s: lambda f: f.to_ndarray(format="gray").astype(np.float32),
                                max_key_frames=2).key_frames == 2


def test_key_frames_alone_are_read_when_the_pool_has_lost_the_mark():
    """A re-encoder keeps the mark in its key frames and coarsens the predicted ones: the
    key-frame pool is searched and decoded beside the whole pool, chosen by its sync score."""
    from provenance.videomark import decode_sum
    frames = corpus_frames("videos/thb_real_sak2kobsimy_5.mp4", 3.0)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
    key = cv2.cvtColor(VideoWatermarker(REGISTRY_ID).mark(frames[0]), cv2.COLOR_RGB2GRAY).astype(np.float32)
    total = key + np.sum(gray[1:], axis=0)       # the predicted frames carry no mark at all
    assert not decode_sum(total, len(frames)).found
    reading = decode_sum(total, len(frames), key=key, key_frames=1)
    assert reading.found and reading.registry_id == REGISTRY_ID and reading.frames == 1
