"""The mark residual kept beside a stored output: the marker pools the unmarked luma in
memory, the file holds only output minus unmarked (quantised, no pickle), and a missing,
damaged, foreign or mismatched file is ignored rather than trusted."""
import numpy as np

from provenance import mark_residual
from provenance.videomark import VideoWatermarker


def _frames(n=4, h=96, w=128):
    rng = np.random.default_rng(3)
    return [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_the_marker_pools_the_unmarked_luma():
    frames = _frames()
    marker = VideoWatermarker(77)
    assert marker.host_mean() is None
    marked = [marker.mark(f) for f in frames]
    gray = np.mean([0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2] for f in frames], axis=0)
    assert np.abs(marker.host_mean() - gray).max() < 1.0
    assert not np.array_equal(marked[0], frames[0])       # it still marks


def test_frames_of_two_sizes_give_no_host():
    marker = VideoWatermarker(77)
    marker.mark(_frames(1)[0])
    marker.mark(_frames(1, 64, 64)[0])
    marker.mark(_frames(1)[0])
    assert marker.host_mean() is None


def test_round_trip_and_host(tmp_path):
    out = tmp_path / "output.mp4"
    rng = np.random.default_rng(0)
    host = rng.uniform(0, 255, (32, 48)).astype(np.float32)
    output_mean = host + rng.normal(0, 2, host.shape).astype(np.float32)
    path = mark_residual.write_for(out, output_mean, host)
    assert path == tmp_path / "output.mark.npz" and path.is_file()
    back = mark_residual.host_of(out, output_mean)
    assert np.abs(back - host).max() <= mark_residual.STEP / 2 + 1e-4
    assert mark_residual.host_of(out, output_mean[:16]) is None                 # another size
    assert mark_residual.write_for(out, output_mean[:16], host) is None         # sizes differ: nothing kept


def test_a_damaged_or_foreign_file_is_ignored(tmp_path):
    out = tmp_path / "output.mp4"
    path = mark_residual.residual_path(out)
    assert mark_residual.host_of(out, np.zeros((8, 8), np.float32)) is None    # none kept
    path.write_bytes(b"PK\x03\x04 not a zip at all")
    assert mark_residual.load(path, (8, 8)) is None
    with open(path, "wb") as f:                                                # objects need a pickle
        np.savez(f, residual=np.array([{"a": 1}], dtype=object), step=np.float32(0.125))
    assert mark_residual.load(path, (1,)) is None
    with open(path, "wb") as f:                                                # wrong type
        np.savez(f, residual=np.zeros((8, 8), np.float64), step=np.float32(0.125))
    assert mark_residual.load(path, (8, 8)) is None
