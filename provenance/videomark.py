"""vtss-3: a spread-spectrum video watermark in the luma, pooled over frames.

Embedding: the 120 coded payload bits are spread over a 256-pixel square tile of
8x8-pixel soft-edged chips (32x32 chips); each bit owns 6-7 chips scattered over
the tile and a quarter of the chips carry fixed synchronisation signs. The tile
repeats over the frame and is added equally to R, G and B (only the luma
changes), scaled by a perceptual mask: stronger in texture, faint on flat areas.
Every frame carries the same pattern: re-encoders copy static areas from their
key frames (P-skip), so a pattern that changed over time would be lost there.
vtss-3 is the development codec vtss-2 (never released) with chips twice as large,
which H.264 at CRF 35 keeps far better, and a decoder that rejects the picture (below).

The picture is the main noise for a constant pattern (a talking portrait is
mostly static, so pooling frames does not average it away), so each bit's
amplitude is adapted per frame against the picture (improved spread spectrum):
raised where the picture's own response opposes the bit, lowered where it
already agrees, with the same margin for every bit within a PSNR budget. The
analysis runs at half resolution on 32x32 chip sums and the pattern is built
at tile size, so a 512x512 frame costs a few milliseconds.

Decoding: sum the luma of (a subsample of) the frames at half resolution, and
apart the key frames among them (a re-encoder coarsens the predicted frames most).
For each pool and each candidate geometry (common resizes, the tile's autocorrelation
period, and the best few of a dense grid of sizes, one-axis stretches and angles,
as they are or mirrored, scored by the sync chips alone) high-pass the sum,
divide it by its local RMS (host rejection: edges and texture of the picture stop
dominating the correlation), fold it into one tile and
correlate it, in the Fourier domain, with every slot's chips: the offset that
maximises the sync correlation plus the payload energy (sum of absolute bit
correlations) gives the geometry, and the bit correlations there are the soft
bits. At most MAX_ATTEMPTS geometries are Chase-decoded (payload.decode_soft).
Resizing, cropping, excerpts, frame-rate changes and re-encoding change how much
evidence there is, not where it sits.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import scipy.fft

from . import sync_spectrum
from .payload import CODED_BITS, decode_soft, encode_payload, payload_hex
from .pooling import pool_with_key_frames
from .spread import (
    WatermarkReading,
    chip_layout,
    chip_sums,
    fold,
    iss_gains,
    payload_signs,
    slot_responses,
    standard,
    tile_period_peaks,
)

CODEC_NAME = "vtss-3"
CHIPS = 32                 # chips per tile side
CHIP = 8                   # pixels per chip side at embedding
TILE = CHIPS * CHIP        # 256 pixels
WORK_CHIP = CHIP // 2      # the decoder (and the embedder's analysis) work at half scale
WORK_TILE = CHIPS * WORK_CHIP
SYNC_FRACTION = 0.25
SYNC = CODED_BITS          # the sync chips behave as a 121st bit that is always 1
N_SLOTS = CODED_BITS + 1
SMALL_FRAME = 384          # frames smaller than this get 4-pixel chips
PATTERN_SIGMA = 1.0        # soft chip edges (embedding pixels)
HP_SIGMA = 1.5            # high-pass at working scale: frame minus a Gaussian blur
NORM_SIGMA = 3.0           # local energy normalisation (working pixels): host rejection
NORM_FLOOR = 0.3           # ... relative to the median local energy, so flat areas are not blown up
WHITEN_SYNC = 0.75         # partial spectral whitening before the sync correlation
WHITEN_BITS = 0.5          # partial spectral whitening before reading bits
SYNC_Z_MIN = 6.5           # detection score (sum of two z-scores) below which the peak is noise
COMMON_SCALES = (1.0, 0.5, 0.75, 2 / 3, 0.9, 1 / 0.9, 1.5, 2.0)
MAX_ATTEMPTS = 3           # geometries Chase-decoded per video (enters the false-positive bound)
CHASE_FLIPS = (14, 11, 11)  # Chase positions per geometry, best first: 2**14 + 2 * 2**11 = 20 480 attempts
_SEED = 0x7755_2026


LAYOUT = chip_layout(_SEED, CHIPS, SYNC_FRACTION, CODED_BITS)   # SYNC == CODED_BITS
_SLOT_FLAT = LAYOUT.slot.ravel()
_SIGN_FLAT = LAYOUT.sign.ravel()
_SLOT_CHIPS = np.bincount(_SLOT_FLAT, minlength=N_SLOTS).astype(np.float64)
# Margins are asked per chip: the sync slot, with many more chips, gets a larger one.
_SLOT_WEIGHT = _SLOT_CHIPS / (CHIPS * CHIPS * (1 - SYNC_FRACTION) / CODED_BITS)


def highpass(gray: np.ndarray, sigma: float = HP_SIGMA) -> np.ndarray:
    g = gray.astype(np.float32, copy=False)
    return g - cv2.GaussianBlur(g, (0, 0), sigma)


def normalise(hp: np.ndarray, sigma: float = NORM_SIGMA) -> np.ndarray:
    """Divide a high-passed image by its local RMS (plus a floor): the picture's
    residual, not the mark, dominates textured areas and edges, so each area then
    weighs by its mark-to-picture ratio instead of by its picture energy."""
    return hp * _norm_weight(hp, sigma)


def _norm_weight(hp: np.ndarray, sigma: float = NORM_SIGMA) -> np.ndarray:
    loc = cv2.sqrt(cv2.GaussianBlur(hp * hp, (0, 0), sigma))
    return 1.0 / (loc + (NORM_FLOOR * float(np.median(loc[::4, ::4])) + 1e-6))


def _fold(img: np.ndarray) -> np.ndarray:
    return fold(img, WORK_TILE)


def _chip_sums(tile: np.ndarray) -> np.ndarray:
    return chip_sums(tile, CHIPS, WORK_CHIP)


def _slot_responses(chips: np.ndarray) -> np.ndarray:
    """Correlation of chip sums with each slot's signs: (N_SLOTS,)."""
    return slot_responses(chips, _SLOT_FLAT, _SIGN_FLAT, N_SLOTS)


def _chip_gain() -> float:
    """What the working-scale high-pass keeps of one soft chip of unit amplitude
    (mean response over the chip, in working pixels)."""
    big = np.tile(np.kron(LAYOUT.sign, np.ones((CHIP, CHIP), np.float32)), (3, 3))
    big = cv2.GaussianBlur(big, (0, 0), PATTERN_SIGMA)
    small = cv2.resize(big, (big.shape[1] // 2, big.shape[0] // 2), interpolation=cv2.INTER_AREA)
    hp = highpass(small)[WORK_TILE:2 * WORK_TILE, WORK_TILE:2 * WORK_TILE]
    return float(np.mean(_chip_sums(hp) * LAYOUT.sign) / (WORK_CHIP * WORK_CHIP))


_CHIP_GAIN = _chip_gain()


@lru_cache(maxsize=None)
def _slot_templates(hp_sigma: float = HP_SIGMA) -> np.ndarray:
    """Each slot's chips as the decoder sees them (soft chips, half scale,
    high-passed at `hp_sigma`), as conjugate spectra: (N_SLOTS, WORK_TILE, WORK_TILE)."""
    out = np.empty((N_SLOTS, WORK_TILE, WORK_TILE), np.complex64)
    for k in range(N_SLOTS):
        chips = np.where(LAYOUT.slot == k, LAYOUT.sign, 0.0).astype(np.float32)
        big = cv2.GaussianBlur(np.tile(np.kron(chips, np.ones((CHIP, CHIP), np.float32)), (3, 3)), (0, 0),
                               PATTERN_SIGMA)
        small = cv2.resize(big, (big.shape[1] // 2, big.shape[0] // 2), interpolation=cv2.INTER_AREA)
        out[k] = np.conj(np.fft.fft2(highpass(small, hp_sigma)[WORK_TILE:2 * WORK_TILE, WORK_TILE:2 * WORK_TILE]))
    return out


@lru_cache(maxsize=None)
def _half_templates(hp_sigma: float = HP_SIGMA) -> np.ndarray:
    """The slot templates' non-negative horizontal frequencies, for real FFTs (the fold and
    the templates are real, so the other half is their mirror)."""
    return np.ascontiguousarray(_slot_templates(hp_sigma)[..., :WORK_TILE // 2 + 1])


_HALF_F = _half_templates(HP_SIGMA)   # keyed as soft_bits_at asks: built once, at import


@lru_cache(maxsize=None)
def _sync_pair() -> np.ndarray:
    """The sync template's half spectrum and its mirror image's (the tile reversed along x):
    a fold correlates with the mirrored template as the fold of the mirrored picture does
    with the template (folding a mirrored picture reverses the fold, up to a cyclic shift the
    correlation absorbs), so one fold scores a geometry and its mirror image."""
    plain = _half_templates(HP_SIGMA)[SYNC]
    tile = np.fft.irfft2(np.conj(plain), s=(WORK_TILE, WORK_TILE))
    mirrored = np.conj(np.fft.rfft2(np.roll(tile[:, ::-1], 1, axis=1)))
    return np.stack([plain, mirrored.astype(np.complex64)])


def _correlations(folded: np.ndarray, hp_sigma: float = HP_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """The sync correlation and the 120 bit correlations of a folded tile at every cyclic
    offset, each after its partial spectral whitening: (tile,), (CODED_BITS, tile). Real
    FFTs in single precision: half the work and a quarter of the memory of complex ones.
    (The search's payload-blind score is `_sync_peaks`.)"""
    templates = _half_templates(hp_sigma)
    f = np.fft.rfft2(folded.astype(np.float32, copy=False))
    mag = np.abs(f) + 1e-9
    shape = folded.shape
    sync = np.fft.irfft2(f / mag ** WHITEN_SYNC * templates[SYNC], s=shape)
    return sync, np.fft.irfft2((f / mag ** WHITEN_BITS)[None] * templates[:CODED_BITS], s=shape, axes=(1, 2))


# --------------------------------------------------------------- embedding ----

class VideoWatermarker:
    """Marks RGB frames with a registry id (generation's FrameMarker protocol)."""

    codec = CODEC_NAME
    floor = 0.2         # amplitude (luma levels) on flat areas: next to nothing
    strength = 0.5      # extra amplitude per level of local standard deviation
    ceiling = 4.5
    max_boost = 3.5     # no slot's amplitude exceeds 3.5x the masked base
    max_mse = 6.3       # PSNR >= 40.1 dB (plus rounding)

    def __init__(self, registry_id: int):
        self.registry_id = registry_id
        self.payload = payload_hex(registry_id)
        bits = encode_payload(registry_id)
        self._slot_sign, self._chip_sign = payload_signs(bits, LAYOUT)
        self.frames = 0
        self._host: np.ndarray | None = None      # sum of the unmarked luma (mark_residual)

    def host_mean(self) -> np.ndarray | None:
        """Mean luma of the frames before marking, None when none (or frames of several
        sizes) were marked. Kept in memory only: what is stored is the mark it implies
        (provenance.mark_residual), never an unmarked picture."""
        return None if self._host is None or not self.frames else self._host / self.frames

    @staticmethod
    def embed_scale(h: int, w: int) -> int:
        """Chip size in pixels: 8, or 4 on frames under SMALL_FRAME pixels, which then
        look like a 50% downscale of a large frame (found by the decoder's scale
        search) and keep as many tiles, hence as much evidence per frame."""
        return CHIP if min(h, w) >= SMALL_FRAME else CHIP // 2

    def _analyse(self, rgb: np.ndarray, chip: int):
        """Luma at the decoder's working scale (chips of WORK_CHIP pixels) and its
        perceptual mask."""
        h, w = rgb.shape[:2]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        self._pool_host(gray)
        f = chip // WORK_CHIP
        small = (cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1
                 else gray).astype(np.float32)
        mean = cv2.blur(small, (5, 5))
        var = cv2.subtract(cv2.blur(cv2.multiply(small, small), (5, 5)), cv2.multiply(mean, mean))
        mask = cv2.sqrt(cv2.max(var, 0.0))
        # floor + strength x std, at most the ceiling (never under the floor: std >= 0)
        np.multiply(mask, np.float32(self.strength), out=mask)
        np.add(mask, np.float32(self.floor), out=mask)
        return small, np.minimum(mask, np.float32(self.ceiling), out=mask)

    def _pool_host(self, gray: np.ndarray) -> None:
        if self._host is None and self.frames == 1:
            self._host = gray.astype(np.float32)
        elif self._host is not None and self._host.shape == gray.shape:
            cv2.accumulate(gray, self._host)
        else:
            self._host = None           # the frame size changed: no single host

    def mark(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        self.frames += 1
        chip = self.embed_scale(h, w)
        small, mask = self._analyse(rgb, chip)
        # Per slot: the detector's response to the picture (host, > 0 where it agrees
        # with the bit), to the mark at unit gain, and the mark's energy.
        hp = highpass(small)
        weight = _norm_weight(hp)
        host = _slot_responses(_chip_sums(_fold(hp * weight))) * self._slot_sign
        mchips = _chip_sums(_fold(mask * weight))
        mchips2 = _chip_sums(_fold(mask * mask))
        unit = np.bincount(_SLOT_FLAT, weights=mchips.ravel(), minlength=N_SLOTS) * _CHIP_GAIN + 1e-3
        energy = np.bincount(_SLOT_FLAT, weights=mchips2.ravel(), minlength=N_SLOTS) * (chip // WORK_CHIP) ** 2 * 0.55
        gains = _iss_gains(host, unit, energy, budget=self.max_mse * h * w, cap=self.max_boost)
        tile = _soft_tile((gains[LAYOUT.slot] * self._chip_sign).astype(np.float32), chip)
        delta = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        _multiply_tiled(delta, tile)
        mse = cv2.norm(delta, cv2.NORM_L2SQR) / (h * w)
        if mse > self.max_mse:
            delta *= np.float32(np.sqrt(self.max_mse / mse))
        # The same whole-level delta added to R, G and B (only the luma changes), saturating:
        # its positive and negative parts as 8-bit planes (the same result as adding the
        # float delta, at a quarter of the memory traffic: this runs on every HD frame).
        # Rounding to whole levels happens there (half to even, as np.rint).
        return add_luma_delta(rgb, delta)


def _multiply_tiled(img: np.ndarray, tile: np.ndarray) -> None:
    """img *= the tile repeated over it, in place (no frame-sized pattern is built)."""
    h, w = img.shape
    th, tw = tile.shape
    if h % th == 0 and w % tw == 0:
        img.reshape(h // th, th, w // tw, tw)[...] *= tile[:, None, :]
        return
    for y in range(0, h, th):
        for x in range(0, w, tw):
            block = img[y:y + th, x:x + tw]
            block *= tile[:block.shape[0], :block.shape[1]]


def add_luma_delta(rgb: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """`rgb` plus the float `delta` rounded to whole levels (half to even) on each of R, G
    and B, saturating at 0 and 255 (as cv2.add of the rounded delta merged to three channels)."""
    up = cv2.convertScaleAbs(cv2.max(delta, 0.0))
    down = cv2.convertScaleAbs(cv2.min(delta, 0.0))
    out = cv2.add(rgb, cv2.cvtColor(up, cv2.COLOR_GRAY2RGB))
    return cv2.subtract(out, cv2.cvtColor(down, cv2.COLOR_GRAY2RGB), dst=out)


def _soft_tile(chips: np.ndarray, chip: int = CHIP) -> np.ndarray:
    """Per-chip amplitudes -> one tile of soft-edged chips of `chip` pixels (the
    blur wraps around, as the tile repeats)."""
    sigma = PATTERN_SIGMA * chip / CHIP
    size = CHIPS * chip
    pad = 4 * int(np.ceil(sigma))
    hard = cv2.copyMakeBorder(chips.repeat(chip, axis=0).repeat(chip, axis=1), pad, pad, pad, pad,
                              cv2.BORDER_WRAP)
    return cv2.GaussianBlur(hard, (0, 0), sigma)[pad:pad + size, pad:pad + size]


def _iss_gains(host: np.ndarray, unit: np.ndarray, energy: np.ndarray, *, budget: float, cap: float) -> np.ndarray:
    return iss_gains(host, unit, energy, slot_weight=_SLOT_WEIGHT, budget=budget, cap=cap)


# ---------------------------------------------------------------- decoding ----

NOT_FOUND = WatermarkReading(False, None, None, 0.0, 0, codec=CODEC_NAME)


_standard = standard


def _surfaces(folded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every cyclic offset of the tile: the detection score (z of the sync
    correlation plus z of the payload energy, the sum over bits of the absolute
    correlation with each bit's chips) and the 120 soft bits."""
    sync, bits = _correlations(folded)
    return _standard(sync) + _standard(np.abs(bits).sum(axis=0)), bits


def _candidate_scales(acc: np.ndarray, decode_scale: float) -> list[float]:
    """Scales (file pixels per embedding pixel): common resizes, then the
    periodic tile's autocorrelation peaks."""
    out: list[float] = []
    for s in list(COMMON_SCALES) + [lag / (TILE * decode_scale) for lag in tile_period_peaks(acc, 2)]:
        if 0.3 <= s <= 2.5 and all(abs(s - o) > 0.015 for o in out):
            out.append(s)
    return out


def _to_work(img: np.ndarray, fx: float, fy: float | None = None) -> np.ndarray:
    """Resize by (fx, fy) (fy = fx when not given): area averaging when shrinking."""
    fy = fx if fy is None else fy
    h, w = img.shape
    nw, nh = max(8, round(w * fx)), max(8, round(h * fy))
    if (nw, nh) == (w, h):
        return img
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if fx * fy < 1 else cv2.INTER_LINEAR)


# The geometry search. The sync correlation of the folded picture peaks sharply at the
# copy's true geometry (z 12-18 after CRF 18 on the bench clips) and falls by a third
# 1.2 % away in size or 1 degree away in angle, so a grid at those steps over the whole
# range finds any size, stretch or angle in it, not only listed ones. Each grid point
# costs one resize, one normalisation, one fold and one FFT (under a millisecond):
# every point is scored by the sync correlation alone (payload-blind), and only the
# SEARCH_KEEP best are scored in full and compete with the common scales.
GEOMETRY_STEP = 0.012


def _log_steps(lo: float, hi: float, *, one: bool) -> tuple[float, ...]:
    """exp(k * GEOMETRY_STEP) from below `lo` to above `hi`: a grid through 1 (kept if `one`)."""
    ks = range(int(np.floor(np.log(lo) / GEOMETRY_STEP)), int(np.ceil(np.log(hi) / GEOMETRY_STEP)) + 1)
    return tuple(float(np.exp(k * GEOMETRY_STEP)) for k in ks if one or k)


SEARCH_SCALES = _log_steps(0.3, 2.05, one=True)
SEARCH_STRETCHES = _log_steps(0.5, 2.0, one=False)   # a stretch of 1 is a uniform size
SEARCH_ANGLES = tuple(float(a) for a in np.arange(-10.0, 10.01, 0.5) if a)
SEARCH_KEEP = 4
SEARCH_BAND = 0.25      # log-width of the bands of sizes that share one filtering (_prepared)


@dataclass(frozen=True)
class Geometry:
    """How a copy's pixels relate to the output's: horizontal and vertical size (file
    pixels per output pixel) applied after a rotation by `angle` degrees about the
    centre (counter-clockwise, as the picture is shown); `mirrored` flips the output
    horizontally first. Offsets are found by the fold, not searched."""
    sx: float
    sy: float
    angle: float = 0.0
    mirrored: bool = False


@lru_cache(maxsize=1)
def geometry_grid() -> tuple[Geometry, ...]:
    """Uniform sizes 30-205 %, one-axis stretches 0.5-2 and rotations within 10 degrees."""
    grid = [Geometry(s, s) for s in SEARCH_SCALES]
    grid += [Geometry(a, 1.0) for a in SEARCH_STRETCHES] + [Geometry(1.0, a) for a in SEARCH_STRETCHES]
    grid += [Geometry(1.0, 1.0, a) for a in SEARCH_ANGLES]
    return tuple(grid)


def _work_factors(g: Geometry, decode_scale: float) -> tuple[float, float]:
    """Horizontal and vertical resize factors from the pooled picture to the working grid."""
    return _resize_factors(g.sx, g.sy, decode_scale)


def _resize_factors(sx, sy, decode_scale: float):
    """`_work_factors` for sizes given apart (numbers or arrays)."""
    return WORK_TILE / (TILE * sx * decode_scale), WORK_TILE / (TILE * sy * decode_scale)


def _to_work_geometry(picture: np.ndarray, g: Geometry, decode_scale: float) -> np.ndarray:
    """Undo a geometry: the pooled picture brought back to the working grid (4-pixel chips).
    The size and the angle are undone first, the mirror last: a copy of the output mirrored,
    then turned by `angle`, then resized comes back as the output."""
    img = _to_work(picture, *_work_factors(g, decode_scale))
    if g.angle:
        nh, nw = img.shape
        m = cv2.getRotationMatrix2D((nw / 2, nh / 2), -g.angle, 1.0)
        c, s = abs(m[0, 0]), abs(m[0, 1])
        bw, bh = int(nh * s + nw * c) + 1, int(nh * c + nw * s) + 1
        m[0, 2] += (bw - nw) / 2
        m[1, 2] += (bh - nh) / 2
        img = cv2.warpAffine(img, m, (bw, bh), flags=cv2.INTER_LINEAR)
    return np.ascontiguousarray(img[:, ::-1]) if g.mirrored else img


def _sync_peaks(folded: np.ndarray) -> tuple[float, float]:
    """The largest sync z over all offsets of a folded tile, and of its mirror image
    (payload-blind)."""
    f = scipy.fft.rfft2(folded.astype(np.float32, copy=False))    # 2.4x numpy's on a 128 x 128 tile
    f *= (np.abs(f) + np.float32(1e-9)) ** np.float32(-WHITEN_SYNC)
    both = scipy.fft.irfft2(f[None] * _sync_pair(), s=folded.shape, axes=(1, 2)).reshape(2, -1)
    z = (both.max(axis=1) - both.mean(axis=1)) / (both.std(axis=1) + 1e-12)   # max of _standard
    return float(z[0]), float(z[1])


def _prepared(picture: np.ndarray, factor: float, bands: dict) -> np.ndarray:
    """The picture high-passed and normalised at its own size, with the filter widths the
    working grid has when it is resized by about `factor` (one of SEARCH_BAND-wide bands of
    factors, each prepared once per search): the search then only resizes, turns and folds,
    three times faster than filtering each of its geometries on the working grid, for the
    same geometries found (docs/watermark.md)."""
    k = int(np.floor(np.log(factor) / SEARCH_BAND))
    if k not in bands:
        f = float(np.exp((k + 0.5) * SEARCH_BAND))
        bands[k] = normalise(highpass(picture, HP_SIGMA / f), NORM_SIGMA / f)
    return bands[k]


def _sync_z(picture: np.ndarray, g: Geometry, decode_scale: float, bands: dict) -> tuple[float, float]:
    """Payload-blind sync z of a geometry unmirrored and mirrored (g.mirrored is ignored)."""
    fx, fy = _work_factors(g, decode_scale)
    band = _prepared(picture, float(np.sqrt(fx * fy)), bands)
    return _sync_peaks(_fold(_to_work_geometry(band, Geometry(g.sx, g.sy, g.angle), decode_scale)))


# Two of size, stretch and angle at once (a copy resized and turned, squeezed and turned,
# resized unequally): the planes through the grid's lines, ranked by sync_spectrum's cheap
# look (~36 000 geometries, ~0.5 s; the best SLICE_RERANK looked at again more closely), the
# best SLICE_CHECK of those scored the full way.
SLICE_ANGLES = tuple(float(a) for a in np.arange(-10.0, 10.01, 0.5))
SLICE_BELOW = 8.0        # the grid's best sync z under which the planes are searched too
SLICE_RERANK = 1500
SLICE_CHECK = 60
REFINE_STEPS = (0.006, 0.006, 0.25)    # half the grid's steps: log sx, log sy, degrees


@lru_cache(maxsize=1)
def slice_geometries() -> tuple[Geometry, ...]:
    """Size x angle, one-axis stretch x angle (either axis), and horizontal x vertical size
    (each 0.25-3.0, their ratio 0.5-2), at the grid's steps: ~36 000 geometries."""
    out = [Geometry(s, s, a) for s in SEARCH_SCALES for a in SLICE_ANGLES if a]
    out += [Geometry(x, 1.0, a) for x in SEARCH_STRETCHES for a in SLICE_ANGLES if a]
    out += [Geometry(1.0, y, a) for y in SEARCH_STRETCHES for a in SLICE_ANGLES if a]
    sizes = tuple(float(np.exp(k * GEOMETRY_STEP)) for k in range(-116, 93))   # 0.25-3.0
    out += [Geometry(x, y) for x in sizes for y in sizes if 0.5 <= y / x <= 2.0 and abs(np.log(y / x)) > 0.01]
    return tuple(out)


@lru_cache(maxsize=None)
def _lattice_templates(K: int) -> np.ndarray:
    full = _slot_templates(HP_SIGMA)[SYNC]
    tile = np.fft.ifft2(np.conj(full)).real
    mirrored = np.conj(np.fft.fft2(np.roll(tile[:, ::-1], 1, axis=1)))
    return sync_spectrum.lattice_templates(full, mirrored, K)


def _maps_of(sx: np.ndarray, sy: np.ndarray, angle: np.ndarray, decode_scale: float) -> np.ndarray:
    """Each geometry's map from the pooled picture's pixels to the working grid's (before the
    mirror), as `_to_work_geometry` applies it: resize, then turn; vectorised over the planes'
    ~36 000 geometries."""
    fx, fy = _resize_factors(sx, sy, decode_scale)
    c, s = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
    return np.stack([np.stack([c * fx, -s * fy], -1), np.stack([s * fx, c * fy], -1)], 1).astype(np.float32)


@lru_cache(maxsize=1)
def _slice_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sx, sy and angle of every plane geometry, built once (the maps depend on the decode
    scale only through a factor)."""
    g = slice_geometries()
    return tuple(np.array([getattr(x, k) for x in g], np.float64) for k in ("sx", "sy", "angle"))


def _slice_candidates(picture: np.ndarray, decode_scale: float, bands: dict | None = None) -> list[Geometry]:
    """The SLICE_CHECK geometries of `slice_geometries` (as they are or mirrored) that the
    spectral look ranks first. `bands`: the search's filtered pictures (`_prepared`), shared."""
    bands = {} if bands is None else bands
    geometries = slice_geometries()
    maps = _maps_of(*_slice_arrays(), decode_scale)
    factors = np.sqrt(np.abs(np.linalg.det(maps)))
    band_of = np.floor(np.log(factors) / SEARCH_BAND).astype(int)
    z = np.empty((len(geometries), 2), np.float32)
    spectra = {}
    for k in np.unique(band_of):
        band = _prepared(picture, float(np.exp((k + 0.5) * SEARCH_BAND)), bands)   # the grid's, not again
        spectra[k] = sync_spectrum.SyncSpectrum(band, tile=WORK_TILE, whiten=WHITEN_SYNC)
        sel = np.nonzero(band_of == k)[0]
        z[sel] = spectra[k].zscores(maps[sel], _lattice_templates(sync_spectrum.COARSE), sync_spectrum.COARSE)
    first = np.argsort(-z.ravel())[:SLICE_RERANK]
    fine = np.empty(len(first), np.float32)
    for k in np.unique(band_of[first // 2]):
        sel = np.nonzero(band_of[first // 2] == k)[0]
        zk = spectra[k].zscores(maps[first[sel] // 2], _lattice_templates(sync_spectrum.FINE), sync_spectrum.FINE)
        fine[sel] = zk[np.arange(len(sel)), first[sel] % 2]
    best = first[np.argsort(-fine)[:SLICE_CHECK]]
    return [Geometry(geometries[i // 2].sx, geometries[i // 2].sy, geometries[i // 2].angle, bool(i % 2))
            for i in best]


def _refined(picture: np.ndarray, z: float, g: Geometry, decode_scale: float, bands: dict,
             rounds: int = 2) -> tuple[float, Geometry]:
    """Coordinate steps of half the grid's in log sx, log sy and angle, while the sync z rises:
    a geometry between the grid's points scores what it would on them."""
    for _ in range(rounds):
        moved = False
        for axis, step in enumerate(REFINE_STEPS):
            for sign in (-1, 1):
                p = [np.log(g.sx), np.log(g.sy), g.angle]
                p[axis] += sign * step
                cand = Geometry(float(np.exp(p[0])), float(np.exp(p[1])), float(p[2]), g.mirrored)
                cz = _sync_z(picture, cand, decode_scale, bands)[int(g.mirrored)]
                if cz > z:
                    z, g, moved = cz, cand, True
        if not moved:
            break
    return z, g


def search_geometries(picture: np.ndarray, decode_scale: float) -> list[tuple[float, Geometry]]:
    """The SEARCH_KEEP grid geometries, as they are or mirrored, whose folded picture
    correlates best with the sync chips; when no grid point reaches
    SLICE_BELOW (a copy the grid reads is not slowed down), also the SEARCH_KEEP best of the
    planes through the grid's lines (`slice_geometries`, ranked by their spectrum first),
    each refined. The grid's own are kept whatever the planes find: a weak copy the grid
    reads is not pushed out by the planes' noise."""
    scored, bands = [], {}
    for g in geometry_grid():
        plain, mirrored = _sync_z(picture, g, decode_scale, bands)
        scored += [(plain, g), (mirrored, Geometry(g.sx, g.sy, g.angle, True))]
    scored.sort(key=lambda r: r[0], reverse=True)
    grid = scored[:SEARCH_KEEP]
    if grid[0][0] >= SLICE_BELOW:
        return grid
    planes = sorted(((_sync_z(picture, g, decode_scale, bands)[int(g.mirrored)], g)
                     for g in _slice_candidates(picture, decode_scale, bands)), key=lambda r: r[0], reverse=True)
    refined = sorted((_refined(picture, z, g, decode_scale, bands) for z, g in planes[:SEARCH_KEEP]),
                     key=lambda r: r[0], reverse=True)
    kept = grid[:]
    for r in refined:
        if not any(_same_place(r[1], o[1]) for o in kept):
            kept.append(r)
    return kept


def _same_place(a: Geometry, b: Geometry) -> bool:
    """Within a grid step of each other (two refinements that met)."""
    return (a.mirrored == b.mirrored and abs(a.angle - b.angle) <= 0.5
            and abs(np.log(a.sx / b.sx)) <= GEOMETRY_STEP and abs(np.log(a.sy / b.sy)) <= GEOMETRY_STEP)


def decode_sum(total: np.ndarray, frames: int, decode_scale: float = 1.0, *,
               key: np.ndarray | None = None, key_frames: int = 0) -> WatermarkReading:
    """Decode from the sum of `frames` luma frames, shrunk by `decode_scale` from the
    file's size. Every candidate scale, of the picture as it is and of its mirror image (a
    flipped repost), gives its best offset; so do the SEARCH_KEEP geometries of the dense
    search (`search_geometries`: any size, stretch or angle in the issue's ranges, as it is
    or mirrored, and two of them at once where the grid finds nothing).
    `key` is the sum of the `key_frames` intra-coded frames among them, when
    the file has predicted frames too: a re-encoder coarsens the predicted frames most, so
    the key frames alone can hold the mark better than the whole pool (H.265 at CRF 32, two
    generations); they are searched and scored the same way, as a second pool. The
    MAX_ATTEMPTS - 1 best hypotheses of either pool whose score passes SYNC_Z_MIN, and the
    untouched geometry (scale 1, offset 0) of a file straight from us, are decoded, each by
    Chase decoding (payload.decode_soft) and accepted only when its 32-bit check holds. The
    best geometry gets the most Chase positions (CHASE_FLIPS): at most sum(2**CHASE_FLIPS)
    attempts per video, however many hypotheses and pools were scored."""
    if frames == 0:
        return NOT_FOUND
    pools = [(total.astype(np.float32, copy=False), frames)]
    if key is not None and 0 < key_frames < frames:
        pools.append((key.astype(np.float32, copy=False), key_frames))
    ranked = []
    common = [Geometry(s, s, 0.0, mirror) for mirror in (False, True)
              for s in _candidate_scales(highpass(pools[0][0]), decode_scale)]   # 1.0 always first
    def score(picture: np.ndarray, n: int, g: Geometry):
        s, bits = _surfaces(_fold(normalise(highpass(_to_work_geometry(picture, g, decode_scale)))))
        idx = np.unravel_index(np.argmax(s), s.shape)
        ranked.append((float(s[idx]), g, (int(idx[0]), int(idx[1])), bits[:, idx[0], idx[1]], n))
        return s, bits

    for i, (picture, n) in enumerate(pools):
        for g in common if i == 0 else ():   # the search's grid holds them too: the key frames skip them
            s, bits = score(picture, n, g)
            if g == Geometry(1.0, 1.0):
                untouched = (float(s[0, 0]), g, (0, 0), bits[:, 0, 0], n)
        for _, g in search_geometries(picture, decode_scale):
            if not any(g.angle == c.angle and g.mirrored == c.mirrored and abs(g.sx / c.sx - 1) < 0.004
                       and abs(g.sy / c.sy - 1) < 0.004 for c in common):
                score(picture, n, g)
    ranked.sort(key=lambda r: r[0], reverse=True)
    hypotheses = [r for r in ranked if r[0] >= SYNC_Z_MIN][:MAX_ATTEMPTS - 1]
    if not any(h[1] == Geometry(1.0, 1.0) and h[2] == (0, 0) for h in hypotheses):
        hypotheses.append(untouched)  # a file straight from us, remuxed or re-encoded in place
    first = None
    for (z, g, offset, soft, n), flips in zip(hypotheses, CHASE_FLIPS):
        reading = _reading(soft, n, z, g, offset, flips=flips)
        if reading.found:
            return reading
        first = first or reading
    return first


def soft_bits_at(total: np.ndarray, *, chip_scale: float = 1.0, valid: np.ndarray | None = None,
                 search: int = 1, hp_sigmas: tuple[float, ...] = (HP_SIGMA,)) -> tuple[np.ndarray, float]:
    """The 120 soft bits of a pooled luma sum already in the output's own pixel grid (the
    registry path aligns a copy to its output first), at the tile offset within `search`
    working pixels of the origin that maximises the sync correlation (payload-blind, so
    the choice does not favour any payload). `chip_scale` is the output's chip size over
    CHIP (0.5 for frames under SMALL_FRAME). `valid` (same shape, 0..1) masks out what the
    copy does not cover. With several `hp_sigmas` (high-pass widths, working pixels), the
    one whose sync correlation is strongest is read: payload-blind too (the sync chips are
    the same in every output). Returns (soft bits, sync z)."""
    factor = WORK_TILE / (TILE * chip_scale)
    work = _to_work(total.astype(np.float32, copy=False), factor)
    keep = None
    if valid is not None:
        keep = cv2.erode(_to_work(valid.astype(np.float32), factor), np.ones((5, 5), np.uint8)) > 0.99
    span = range(-search, search + 1)
    offsets = [(dy % WORK_TILE, dx % WORK_TILE) for dy in span for dx in span]
    best = None
    for sigma in hp_sigmas:
        g = normalise(highpass(work, sigma))
        if keep is not None:
            g = g * keep
        sync, bits = _correlations(_fold(g), sigma)
        sync = _standard(sync)
        at = max(offsets, key=lambda o: sync[o])
        if best is None or sync[at] > best[1]:
            best = (bits[:, at[0], at[1]], float(sync[at]))
    return best


def _reading(soft: np.ndarray, frames: int, z: float, g: Geometry, offset, *, flips: int) -> WatermarkReading:
    registry_id, nerr, _ = decode_soft(soft, flips=flips)
    common = dict(frames=frames, scale=round(g.sx, 3), offset=offset, sync_z=round(z, 2), mirrored=g.mirrored,
                  aspect=round(g.sy / g.sx, 3), rotation=round(g.angle, 2),
                  soft_bits=tuple(np.round(soft / (np.abs(soft).mean() + 1e-12), 3).tolist()))
    if registry_id is None:
        return WatermarkReading(False, None, None, 0.0, codec=CODEC_NAME, **common)
    confidence = float(np.clip(0.6 + 0.05 * min(z - SYNC_Z_MIN, 8) - nerr / 40, 0.5, 1.0))
    return WatermarkReading(True, registry_id, payload_hex(registry_id), round(confidence, 3), bit_errors=nerr,
                            codec=CODEC_NAME, **common)


def read_frames_watermark(frames) -> WatermarkReading:
    """Decode frames already in memory (a still is a one-frame video: the geometry search
    finds it resized to any size)."""
    total, n = None, 0
    for f in frames:
        g = (cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f).astype(np.float32)
        total = g if total is None else total + g
        n += 1
    return NOT_FOUND if total is None else decode_sum(total, n)


def read_video_watermark(path, *, max_frames: int = 250) -> WatermarkReading:
    """Pool up to `max_frames` luma frames spread over the first video stream,
    shrunk to half size when the video is large (the decoder works at half the
    embedding scale anyway)."""
    scale = [1.0]

    def reader_for(stream):
        w, h = stream.codec_context.width, stream.codec_context.height
        scale[0] = 0.5 if min(w, h) >= 360 else 1.0
        dw, dh = max(2, round(w * scale[0])), max(2, round(h * scale[0]))
        return lambda f: f.reformat(width=dw, height=dh, format="gray",
                                    interpolation="AREA").to_ndarray().astype(np.float32)

    pool = pool_with_key_frames(path, max_frames, reader_for)
    if pool.total is None:
        return NOT_FOUND
    return decode_sum(pool.total, pool.frames, scale[0], key=pool.key, key_frames=pool.key_frames)


