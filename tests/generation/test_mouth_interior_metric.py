"""The sweep's mouth-interior figure: colour and texture statistics of open mouths
(generation.metrics.figures.mouth_interior_stats) and their distance to real open
mouths. Real open mouths from the corpus videos sit near each other; a mouth filled
with a flat light band over a black cavity (the first engine's look) sits far away."""
import av
import cv2
import numpy as np

from generation.face import analyse_face
from generation.metrics.figures import (
    INTERIOR_FEATURES,
    interior_distance,
    interior_energy_distance,
    mouth_interior_stats,
)
from tests.conftest import corpus_file

OPEN_FRAMES = {"expressive_lp_d10.mp4": (100, 96, 104), "expressive_lp_d12.mp4": (120, 24, 116),
               "expressive_lp_d18.mp4": (144, 116, 140), "child_greenscreen_speech.mp4": (166, 150, 162)}


def _frames(video: str, wanted) -> list[np.ndarray]:
    out = []
    with av.open(str(corpus_file(f"videos/{video}"))) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i in wanted:
                rgb = frame.to_ndarray(format="rgb24")
                s = 512 / min(rgb.shape[:2])
                out.append(cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)),
                                      interpolation=cv2.INTER_AREA))
            if i >= max(wanted):
                return out
    return out


def _flat_band(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The mouth's inside painted as one light-grey band over a near-black cavity."""
    out = rgb.copy()
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(lm[60:68]).astype(np.int32)], 1)
    out[inside > 0] = (24, 8, 10)
    top = lm[[61, 62, 63], 1].mean()
    band = (inside > 0) & (np.arange(rgb.shape[0])[:, None] < top + 0.2 * (lm[66, 1] - lm[62, 1]))
    out[band] = (222, 216, 204)
    return out


def test_real_open_mouths_are_near_each_other_and_a_flat_band_is_not():
    mouths, faces = [], []
    for video, wanted in OPEN_FRAMES.items():
        for rgb in _frames(video, wanted):
            lm = analyse_face(rgb).landmarks
            stats = mouth_interior_stats(rgb, lm)
            assert stats is not None and stats.shape == (len(INTERIOR_FEATURES),)
            mouths.append(stats)
            faces.append((rgb, lm))
    held_out, reference = mouths[::4], [m for i, m in enumerate(mouths) if i % 4]
    painted = [mouth_interior_stats(_flat_band(rgb, lm), lm) for rgb, lm in faces[::4]]
    real_d, band_d = interior_distance(held_out, reference), interior_distance(painted, reference)
    assert band_d > 1.5 * real_d, (real_d, band_d)
    real_e, band_e = interior_energy_distance(held_out, reference), interior_energy_distance(painted, reference)
    assert band_e > 1.0 > real_e, (real_e, band_e)
    # a closed mouth has no interior to measure
    rgb = cv2.cvtColor(cv2.imread(str(corpus_file("photos/elizabeth_olsen.jpg"))), cv2.COLOR_BGR2RGB)
    assert mouth_interior_stats(rgb, analyse_face(rgb).landmarks) is None


def test_the_energy_distance_compares_distributions():
    """Samples of one population score about 0 whatever their sizes; the population's
    average repeated (each mouth the same, "the real mouths' mean") scores far from it,
    where the nearest-neighbour distance would call it closer than a real sample."""
    rng = np.random.default_rng(5)
    real = list(rng.normal(size=(75, len(INTERIOR_FEATURES))))
    same = [interior_energy_distance(list(rng.normal(size=(n, len(INTERIOR_FEATURES)))), real) for n in (20, 80, 300)]
    assert all(abs(d) < 0.12 for d in same), same
    average = [np.zeros(len(INTERIOR_FEATURES))] * 80
    sample = list(rng.normal(size=(80, len(INTERIOR_FEATURES))))
    assert interior_distance(average, real) < interior_distance(sample, real)
    assert interior_energy_distance(average, real) > 1.0
    assert interior_energy_distance([np.zeros(7)], real) is None
