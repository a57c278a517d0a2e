"""Legacy codec vtss-1 (outputs of the earlier releases): kept so their stripped copies stay
readable. New outputs use provenance.videomark (vtss-3).

A spread-spectrum video watermark in the luma, pooled over frames.

Embedding: the 120 coded payload bits are spread over a square tile of
`chip`-pixel chips; each bit owns chips scattered over the tile and the rest
carry fixed synchronisation signs. The tile repeats over the frame and is added
equally to R, G and B (only the luma changes), scaled by a perceptual mask:
stronger in texture, faint in flat areas. Every frame carries the same pattern,
and each bit's amplitude is adapted per frame against the picture itself
(improved spread spectrum): raised where the content's own response opposes the
bit, lowered where it already agrees, within a PSNR budget.

Decoding: high-pass each frame and sum over frames; estimate the scale from the
pattern's periodicity (and a few common resizes); fold the sum into one tile;
find the crop offset by whitened correlation with the synchronisation chips;
read each bit's chips and correct errors with BCH. Resizing, cropping,
excerpts, frame-rate changes and re-encoding change how much evidence there is,
not where it sits.
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
CHIPS = TILE // CHIP
SYNC_FRACTION = 0.25
HP_SIGMA = 2.0           # the detector's high-pass: frame minus a Gaussian blur
WHITEN = 1.0             # spectral whitening before the sync correlation (phase correlation)
WHITEN_BITS = 0.5        # partial whitening before reading bits
SYNC_Z_MIN = 6.0         # below this the sync peak is noise: report "not found"
COMMON_SCALES = (1.0, 0.5, 0.75, 2 / 3, 0.9, 1 / 0.9, 1.5, 2.0)
_SEED = 0x5EED_7A1C
SYNC_SLOT = CODED_BITS   # the sync chips behave as a 121st bit that is always 1


@dataclass(frozen=True)
class Layout:
    slot: np.ndarray      # (CHIPS, CHIPS) int: coded bit per chip, SYNC_SLOT on sync chips
    sign: np.ndarray      # (CHIPS, CHIPS) float32: +-1 spreading sign per chip


def _layout() -> Layout:
    rng = np.random.default_rng(_SEED)
    n = CHIPS * CHIPS
    order = rng.permutation(n)
    n_sync = int(round(n * SYNC_FRACTION))
    slot = np.full(n, SYNC_SLOT, np.int64)
    slot[order[n_sync:]] = np.arange(n - n_sync) % CODED_BITS
    sign = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    return Layout(slot.reshape(CHIPS, CHIPS), sign.reshape(CHIPS, CHIPS))


LAYOUT = _layout()
_SLOT_FLAT = LAYOUT.slot.ravel()
# Margins are asked per chip: the sync slot, with many more chips, gets a larger one.
_SLOT_WEIGHT = np.bincount(_SLOT_FLAT, minlength=CODED_BITS + 1) / (CHIPS * CHIPS * (1 - SYNC_FRACTION) / CODED_BITS)
_SYNC_CHIPS = np.where(LAYOUT.slot == SYNC_SLOT, LAYOUT.sign, 0.0).astype(np.float32)
_SYNC_TILE = np.kron(_SYNC_CHIPS, np.ones((CHIP, CHIP), np.float32))
_SYNC_F = np.conj(np.fft.fft2(_SYNC_TILE))


def _expand(chips: np.ndarray, h: int, w: int) -> np.ndarray:
    """Per-chip values -> a full frame of pixels (chip blocks, tile repeated)."""
    tile = np.repeat(np.repeat(chips, CHIP, axis=0), CHIP, axis=1)
    return np.tile(tile, (-(-h // TILE), -(-w // TILE)))[:h, :w]


def _fold(img: np.ndarray) -> np.ndarray:
    """Sum an image's tiles into one TILE x TILE tile (zero-padding a partial edge)."""
    h, w = img.shape
    ph, pw = -(-h // TILE) * TILE, -(-w // TILE) * TILE
    if (ph, pw) != (h, w):
        pad = np.zeros((ph, pw), np.float32)
        pad[:h, :w] = img
        img = pad
    return img.reshape(ph // TILE, TILE, pw // TILE, TILE).sum(axis=(0, 2))


def _chip_sums(tile: np.ndarray) -> np.ndarray:
    return tile.reshape(CHIPS, CHIP, CHIPS, CHIP).sum(axis=(1, 3))


def _slot_responses(chips: np.ndarray) -> np.ndarray:
    """Correlation of chip sums with each slot's signs: (CODED_BITS + 1,)."""
    return np.bincount(_SLOT_FLAT, weights=(chips * LAYOUT.sign).ravel(), minlength=CODED_BITS + 1)


def highpass(gray: np.ndarray) -> np.ndarray:
    g = gray.astype(np.float32)
    return g - cv2.GaussianBlur(g, (0, 0), HP_SIGMA)


PATTERN_BLUR = 1.2


def _smooth(pattern: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(pattern, (0, 0), PATTERN_BLUR)


def _chip_response() -> float:
    """What the detector's high-pass keeps of one chip of unit amplitude (its mean
    response over the chip), so per-frame responses need no second filtering."""
    tile = np.kron(LAYOUT.sign, np.ones((CHIP, CHIP), np.float32))
    hp = highpass(_smooth(np.tile(tile, (3, 3))))[TILE:2 * TILE, TILE:2 * TILE]
    return float(np.mean(_chip_sums(hp) * LAYOUT.sign) / (CHIP * CHIP))


_CHIP_GAIN = _chip_response()


class VideoWatermarker:
    """Marks RGB frames with a registry id (generation's FrameMarker protocol)."""

    strength = 2.4      # luma levels per 8 levels of local contrast
    floor = 0.8         # amplitude in flat areas
    ceiling = 4.5
    max_boost = 4.0     # no slot's amplitude exceeds 4x the masked base
    max_mse = 5.0       # PSNR >= 41.1 dB

    def __init__(self, registry_id: int):
        self.registry_id = registry_id
        self.payload = payload_hex(registry_id)
        bits = encode_payload(registry_id)
        self._slot_sign = np.append(2.0 * bits - 1.0, 1.0).astype(np.float32)
        self._chip_sign = (LAYOUT.sign * self._slot_sign[LAYOUT.slot]).astype(np.float32)
        self._patterns: dict[tuple[int, int], np.ndarray] = {}

    def _pattern(self, h: int, w: int) -> np.ndarray:
        if (h, w) not in self._patterns:
            p = _expand(self._chip_sign, h, w).astype(np.float32)
            self._patterns[(h, w)] = _smooth(p)  # soft chip edges
        return self._patterns[(h, w)]

    def mask(self, gray: np.ndarray) -> np.ndarray:
        mean = cv2.blur(gray, (7, 7))
        var = cv2.blur(gray * gray, (7, 7)) - mean * mean
        return np.clip(self.floor + self.strength * cv2.sqrt(np.maximum(var, 0)) / 8.0, self.floor, self.ceiling)

    def mark(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
        mask = self.mask(gray)
        pattern = self._pattern(h, w)
        base = mask * pattern
        # Per slot: the detector's response to the picture itself (host, > 0 where it
        # agrees with the bit), to the unadapted mark (unit), and the mark's energy.
        host = _slot_responses(_chip_sums(_fold(highpass(gray)))) * self._slot_sign
        unit = np.abs(_slot_responses(_chip_sums(_fold(mask)) * LAYOUT.sign)) * _CHIP_GAIN + 1e-3
        energy = np.bincount(_SLOT_FLAT, weights=_chip_sums(_fold(base * base)).ravel(), minlength=CODED_BITS + 1)
        gains = _iss_gains(host, unit, energy, budget=self.max_mse * h * w, cap=self.max_boost)
        delta = base * _expand(gains[LAYOUT.slot].astype(np.float32), h, w)
        # Neighbouring chips leak into each other through the filters: measure the
        # real response once and correct each slot towards the common margin.
        real = _slot_responses(_chip_sums(_fold(highpass(delta)))) * self._slot_sign
        margin = np.median((host + real) / _SLOT_WEIGHT) * _SLOT_WEIGHT
        gains = np.clip(gains + (margin - host - real) / unit, 0.0, self.max_boost)
        delta = base * _expand(gains[LAYOUT.slot].astype(np.float32), h, w)
        d = np.rint(delta).astype(np.int16)
        up = cv2.merge([np.clip(d, 0, 255).astype(np.uint8)] * 3)
        down = cv2.merge([np.clip(-d, 0, 255).astype(np.uint8)] * 3)
        return cv2.subtract(cv2.add(rgb, up), down)


def _iss_gains(host: np.ndarray, unit: np.ndarray, energy: np.ndarray, *, budget: float, cap: float) -> np.ndarray:
    """Per-slot amplitude gains giving every slot the same response margin T over
    the host's own response (gain = (T - host) / unit, at least 0, at most `cap`),
    with T as large as the energy budget allows."""
    def gains(t):
        return np.clip((t * _SLOT_WEIGHT - host) / unit, 0.0, cap)

    lo, hi = 0.0, float(np.max(unit) * cap + np.max(np.abs(host)))
    if np.sum(gains(hi) ** 2 * energy) <= budget:
        return gains(hi)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if np.sum(gains(mid) ** 2 * energy) <= budget:
            lo = mid
        else:
            hi = mid
    return gains(lo)


# ---------------------------------------------------------------- decoding ----

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


def _candidate_scales(acc: np.ndarray) -> list[float]:
    """Scales from the autocorrelation peaks of the periodic tile, then common resizes."""
    f = np.fft.rfft2(acc - acc.mean())
    ac = np.fft.irfft2(np.abs(f) ** 2, s=acc.shape)
    n = min(acc.shape) // 2
    prof = (ac[0, :n] + ac[:n, 0]) / (ac[0, 0] + 1e-9)
    peaks = sorted(((prof[lag], lag) for lag in range(24, n - 1)
                    if prof[lag] > prof[lag - 1] and prof[lag] >= prof[lag + 1]), reverse=True)
    out: list[float] = []
    for s in [lag / TILE for _, lag in peaks[:3]] + list(COMMON_SCALES):
        if 0.25 <= s <= 2.5 and all(abs(s - o) > 0.01 for o in out):
            out.append(s)
    return out


def _sync(folded: np.ndarray) -> tuple[float, tuple[int, int]]:
    """Offset of the tile by whitened correlation with the sync chips, and the
    peak's z-score over all offsets."""
    f = np.fft.fft2(folded)
    corr = np.real(np.fft.ifft2(f / (np.abs(f) ** WHITEN + 1e-9) * _SYNC_F))
    idx = np.unravel_index(np.argmax(corr), corr.shape)
    z = (corr[idx] - corr.mean()) / (corr.std() + 1e-12)
    return float(z), (int(idx[0]), int(idx[1]))


def _soft_bits(folded: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
    f = np.fft.fft2(folded)
    white = np.real(np.fft.ifft2(f / (np.abs(f) ** WHITEN_BITS + 1e-9)))
    tile = np.roll(white, (-offset[0], -offset[1]), axis=(0, 1))
    return _slot_responses(_chip_sums(tile))[:CODED_BITS]


MAX_ATTEMPTS = 3  # BCH decodings per video; each accepts noise with probability <= 2**-32


def decode_accumulated(acc: np.ndarray, frames: int) -> WatermarkReading:
    """Decode from the sum of high-passed luma frames (any size and scale).

    Hypotheses, best first: the two best-synchronised (scale, offset) pairs, then
    the untouched geometry (scale 1, offset 0) of a file straight from us. At most
    MAX_ATTEMPTS decodings, so noise passes the check with probability at most
    MAX_ATTEMPTS * 2**-32 < 1e-9 per video."""
    ranked = []
    folded_at = {}
    for scale in _candidate_scales(acc):
        img = acc if abs(scale - 1.0) < 1e-3 else cv2.resize(
            acc, (max(16, round(acc.shape[1] / scale)), max(16, round(acc.shape[0] / scale))),
            interpolation=cv2.INTER_LINEAR)
        folded = folded_at[scale] = _fold(img)
        z, offset = _sync(folded)
        ranked.append((z, scale, offset))
    ranked.sort(reverse=True)
    hypotheses = [(z, s, o) for z, s, o in ranked[:2] if z >= SYNC_Z_MIN]
    if not any(s == 1.0 and o == (0, 0) for _, s, o in hypotheses):
        if 1.0 not in folded_at:        # the scale search may not have tried the untouched size
            folded_at[1.0] = _fold(acc)
        hypotheses.append((_sync_z_at(folded_at[1.0], (0, 0)), 1.0, (0, 0)))
    best_z, best_scale, best_offset = ranked[0]
    for z, scale, offset in hypotheses[:MAX_ATTEMPTS]:
        registry_id, nerr = decode_payload((_soft_bits(folded_at[scale], offset) > 0).astype(np.uint8))
        if registry_id is not None:
            confidence = float(np.clip(0.5 + (z - SYNC_Z_MIN) / 8.0, 0.5, 1.0) - nerr / 40.0)
            return WatermarkReading(True, registry_id, payload_hex(registry_id), round(confidence, 3), frames,
                                    round(scale, 3), offset, round(z, 2), nerr)
    return WatermarkReading(False, None, None, 0.0, frames, round(best_scale, 3), best_offset, round(best_z, 2))


def _sync_z_at(folded: np.ndarray, offset: tuple[int, int]) -> float:
    f = np.fft.fft2(folded)
    corr = np.real(np.fft.ifft2(f / (np.abs(f) ** WHITEN + 1e-9) * _SYNC_F))
    return float((corr[offset] - corr.mean()) / (corr.std() + 1e-12))


def read_frames_watermark(frames) -> WatermarkReading:
    acc, n = None, 0
    for f in frames:
        hp = highpass(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f)
        acc = hp if acc is None else acc + hp
        n += 1
    return WatermarkReading(False, None, None, 0.0, 0) if acc is None else decode_accumulated(acc, n)


def read_video_watermark(path, *, max_frames: int = 250) -> WatermarkReading:
    """Pool up to `max_frames` frames spread over the first video stream."""
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
                hp = highpass(frame.to_ndarray(format="gray"))
                acc = hp if acc is None else acc + hp
                n += 1
                if n >= max_frames:
                    break
        except av.error.FFmpegError:
            pass  # a damaged stream: decode what was read
    return WatermarkReading(False, None, None, 0.0, 0) if acc is None else decode_accumulated(acc, n)
