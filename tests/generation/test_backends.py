"""The backend protocol: the default engine is found by name, unknown names are refused
with a clear error, and a backend's frames still pass the watermark stage."""
import pytest

from bench.media import CountingMarker
from generation.backends import Backend, get_backend
from generation.backends.warp import WarpBackend
from generation.controls import Controls
from generation.errors import InvalidControl
from generation.pipeline import generate_video


def test_default_backend_is_the_warp_engine():
    backend = get_backend()
    assert isinstance(backend, WarpBackend) and isinstance(backend, Backend)


def test_unknown_backend_is_refused_by_name():
    with pytest.raises(InvalidControl, match="backend must be one of"):
        get_backend("nope")


def test_a_backend_object_renders_through_the_watermark_stage(tmp_path, portrait, short_speech):
    marker = CountingMarker()
    result = generate_video(portrait, short_speech, tmp_path / "b.mp4", marker=marker, backend=WarpBackend(),
                            controls=Controls(size=256), batch=4)
    assert result.backend == "warp" and result.frames == marker.frames > 0
