"""A spread-spectrum video watermark in the luma, pooled over frames.

Embedding: the 120 coded payload bits are spread over a 128x128-pixel tile of
4x4-pixel chips (each bit owns chips scattered over the tile, every chip of the
tile carries a bit or a fixed synchronisation sign); the tile repeats over the
frame. Each frame gets the same pattern, scaled by a perceptual mask (stronger
in texture, faint in flat areas) and added equally to R, G and B so only the
luma changes.

Decoding: high-pass each frame, sum over frames (the pattern is static, the
content and the compression noise are not), estimate the scale from the
pattern's periodicity, fold the sum into one tile, find the crop offset by
correlating with the synchronisation chips, then read each bit's chips and
correct errors with BCH. Resizing, cropping, excerpts, frame-rate changes and
re-encoding change how much evidence there is, not where it sits.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import av
import cv2
import numpy as np

from .payload import CODED_BITS, decode_payload, encode_payload, payload_hex

CODEC_NAME = "vtss-1"
TILE = 128
CHIP = 4
CHIPS = TILE // CHIP                  # 32 x 32 chips per tile
SYNC_FRACTION = 0.25
_SEED = 0x5EED_7A1C


@dataclass(frozen=True)
class Layout:
    sync: np.ndarray      # (CHIPS, CHIPS) float32: +-1 on sync chips, 0 elsewhere
    bit_of: np.ndarray    # (CHIPS, CHIPS) int16: coded bit index per data chip, -1 on sync chips
    sign: np.ndarray      # (CHIPS, CHIPS) float32: +-1 spreading sign per chip


def _layout() -> Layout:
    rng = np.random.default_rng(_SEED)
    n = CHIPS * CHIPS
    order = rng.permutation(n)
    n_sync = int(n * SYNC_FRACTION)
    sign = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    bit_of = np.full(n, -1, np.int16)
    data = order[n_sync:]
    bit_of[data] = np.arange(len(data)) % CODED_BITS
    sync = np.zeros(n, np.float32)
    sync[order[:n_sync]] = sign[order[:n_sync]]
    return Layout(sync.reshape(CHIPS, CHIPS), bit_of.reshape(CHIPS, CHIPS), sign.reshape(CHIPS, CHIPS))


LAYOUT = _layout()


def chip_pattern(bits: np.ndarray) -> np.ndarray:
    """The +-1 tile (TILE x TILE) for `bits`, before smoothing and masking."""
    chips = LAYOUT.sync.copy()
    data = LAYOUT.bit_of >= 0
    b = (2.0 * bits.astype(np.float32) - 1.0)
    chips[data] = LAYOUT.sign[data] * b[LAYOUT.bit_of[data]]
    return np.kron(chips, np.ones((CHIP, CHIP), np.float32))


class VideoWatermarker:
    """Marks RGB frames with a registry id (generation's FrameMarker protocol)."""

    strength = 2.2      # luma levels at average texture
    floor = 0.6         # minimum amplitude in flat areas
    ceiling = 4.0

    def __init__(self, registry_id: int):
        self.registry_id = registry_id
        self.payload = payload_hex(registry_id)
        tile = chip_pattern(encode_payload(registry_id))
        # Soften chip edges: less visible and less fragile under compression.
        padded = np.pad(tile, 8, mode="wrap")
        self._tile = cv2.GaussianBlur(padded, (0, 0), 0.9)[8:-8, 8:-8].copy()
        self._pattern: dict[tuple[int, int], np.ndarray] = {}

    def _full(self, h: int, w: int) -> np.ndarray:
        key = (h, w)
        if key not in self._pattern:
            reps = (-(-h // TILE), -(-w // TILE))
            self._pattern[key] = np.tile(self._tile, reps)[:h, :w].copy()
        return self._pattern[key]

    def mask(self, gray: np.ndarray) -> np.ndarray:
        g = gray.astype(np.float32)
        mean = cv2.blur(g, (7, 7))
        var = cv2.blur(g * g, (7, 7)) - mean * mean
        act = cv2.sqrt(np.maximum(var, 0))
        return np.clip(self.floor + self.strength * act / 8.0, self.floor, self.ceiling)

    def mark(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        delta = self.mask(gray) * self._full(h, w)
        out = rgb.astype(np.int16) + np.rint(delta).astype(np.int16)[..., None]
        return np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- decoding ----

def highpass(gray: np.ndarray) -> np.ndarray:
    g = gray.astype(np.float32)
    return g - cv2.GaussianBlur(g, (0, 0), 3.0)


@dataclass(frozen=True)
class WatermarkReading:
    found: bool
    registry_id: int | None
    payload: str | None
    confidence: float       # 0..1 from the synchronisation peak's strength
    frames: int
    scale: float | None = None
    offset: tuple[int, int] | None = None
    sync_z: float = 0.0
    bit_errors: int = -1
    codec: str = CODEC_NAME

    def as_dict(self) -> dict:
        return asdict(self)


def _estimate_scale(acc: np.ndarray) -> list[float]:
    """Candidate scales from the autocorrelation peaks of the periodic tile, and 1."""
    f = np.fft.rfft2(acc - acc.mean())
    ac = np.fft.irfft2(np.abs(f) ** 2, s=acc.shape)
    n = min(acc.shape) // 2
    prof = (ac[0, :n] + ac[:n, 0]) / (ac[0, 0] + 1e-9)
    peaks = sorted(((prof[lag], lag) for lag in range(24, n - 1)
                    if prof[lag] > prof[lag - 1] and prof[lag] >= prof[lag + 1]), reverse=True)
    out: list[float] = [1.0]
    for _, lag in peaks[:3]:
        for s in (lag / TILE, lag / (2 * TILE)):
            if 0.2 <= s <= 2.5 and all(abs(s - o) > 0.01 for o in out):
                out.append(s)
    return out


def _fold(acc: np.ndarray) -> np.ndarray:
    h, w = acc.shape
    ph, pw = -(-h // TILE) * TILE, -(-w // TILE) * TILE
    pad = np.zeros((ph, pw), np.float32)
    pad[:h, :w] = acc
    return pad.reshape(ph // TILE, TILE, pw // TILE, TILE).sum(axis=(0, 2))


_SYNC_TILE = np.kron(LAYOUT.sync, np.ones((CHIP, CHIP), np.float32))
_SYNC_F = np.conj(np.fft.fft2(_SYNC_TILE))


def _sync(folded: np.ndarray) -> tuple[float, tuple[int, int]]:
    corr = np.real(np.fft.ifft2(np.fft.fft2(folded) * _SYNC_F))
    idx = np.unravel_index(np.argmax(corr), corr.shape)
    z = (corr[idx] - corr.mean()) / (corr.std() + 1e-9)
    return float(z), (int(idx[0]), int(idx[1]))


def _soft_bits(folded: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
    tile = np.roll(folded, (-offset[0], -offset[1]), axis=(0, 1))
    chips = tile.reshape(CHIPS, CHIP, CHIPS, CHIP).sum(axis=(1, 3))
    data = LAYOUT.bit_of >= 0
    soft = np.zeros(CODED_BITS, np.float64)
    np.add.at(soft, LAYOUT.bit_of[data], (chips * LAYOUT.sign)[data])
    return soft


SYNC_Z_MIN = 7.0


def decode_accumulated(acc: np.ndarray, frames: int) -> WatermarkReading:
    """Decode from the sum of high-passed luma frames (any size and scale)."""
    best = None
    for scale in _estimate_scale(acc):
        img = acc if abs(scale - 1.0) < 1e-3 else cv2.resize(
            acc, (max(8, round(acc.shape[1] / scale)), max(8, round(acc.shape[0] / scale))),
            interpolation=cv2.INTER_LINEAR)
        folded = _fold(img)
        z, offset = _sync(folded)
        if best is None or z > best[0]:
            best = (z, offset, scale, folded)
    z, offset, scale, folded = best
    confidence = float(np.clip((z - SYNC_Z_MIN) / 10.0 + 0.5, 0.0, 1.0)) if z > SYNC_Z_MIN else 0.0
    if z < SYNC_Z_MIN:
        return WatermarkReading(False, None, None, round(confidence, 3), frames, scale, offset, round(z, 2))
    soft = _soft_bits(folded, offset)
    registry_id, nerr = decode_payload((soft > 0).astype(np.uint8))
    if registry_id is None:
        return WatermarkReading(False, None, None, round(confidence, 3), frames, scale, offset, round(z, 2))
    return WatermarkReading(True, registry_id, payload_hex(registry_id), round(confidence, 3), frames,
                            round(scale, 3), offset, round(z, 2), nerr)


def read_frames_watermark(frames_rgb) -> WatermarkReading:
    acc, n = None, 0
    for f in frames_rgb:
        hp = highpass(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f)
        acc = hp if acc is None else acc + hp
        n += 1
    if acc is None:
        return WatermarkReading(False, None, None, 0.0, 0)
    return decode_accumulated(acc, n)


def read_video_watermark(path, *, max_frames: int = 250) -> WatermarkReading:
    """Pool up to `max_frames` frames spread over the video's first video stream."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError):
        return WatermarkReading(False, None, None, 0.0, 0)
    acc, n = None, 0
    with container:
        if not container.streams.video:
            return WatermarkReading(False, None, None, 0.0, 0)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or 0
        step = max(1, -(-total // max_frames)) if total else 1
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i % step:
                    continue
                y = frame.to_ndarray(format="gray")
                hp = highpass(y)
                acc = hp if acc is None else acc + hp
                n += 1
                if n >= max_frames:
                    break
        except av.error.FFmpegError:
            pass  # damaged stream: decode with what we have
    if acc is None:
        return WatermarkReading(False, None, None, 0.0, 0)
    return decode_accumulated(acc, n)
