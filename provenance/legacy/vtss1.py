"""Reader of the retired codec vtss-1 (outputs of the earlier releases), so that their
stripped copies stay traceable. New outputs use provenance.videomark (vtss-3); the
embedder survives only as a test fixture (tests/provenance/legacy_writers.py).

A spread-spectrum video watermark in the luma, pooled over frames.

Embedding (as it was): the 120 coded payload bits are spread over a square tile of
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

import cv2
import numpy as np

from ..payload import CODED_BITS, decode_payload, payload_hex
from ..pooling import pool_frames
from ..spread import WatermarkReading, chip_layout, chip_sums, fold, slot_responses, tile_period_peaks

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
NOT_FOUND = WatermarkReading(False, None, None, 0.0, 0, codec=CODEC_NAME)


LAYOUT = chip_layout(_SEED, CHIPS, SYNC_FRACTION, CODED_BITS)   # SYNC_SLOT == CODED_BITS
SLOT_FLAT = LAYOUT.slot.ravel()
# Margins are asked per chip: the sync slot, with many more chips, gets a larger one.
SLOT_WEIGHT = np.bincount(SLOT_FLAT, minlength=CODED_BITS + 1) / (CHIPS * CHIPS * (1 - SYNC_FRACTION) / CODED_BITS)
_SYNC_CHIPS = np.where(LAYOUT.slot == SYNC_SLOT, LAYOUT.sign, 0.0).astype(np.float32)
_SYNC_TILE = np.kron(_SYNC_CHIPS, np.ones((CHIP, CHIP), np.float32))
_SYNC_F = np.conj(np.fft.fft2(_SYNC_TILE))


def fold_tile(img: np.ndarray) -> np.ndarray:
    return fold(img, TILE)


def tile_chip_sums(tile: np.ndarray) -> np.ndarray:
    return chip_sums(tile, CHIPS, CHIP)


def tile_slot_responses(chips: np.ndarray) -> np.ndarray:
    """Correlation of chip sums with each slot's signs: (CODED_BITS + 1,)."""
    return slot_responses(chips, SLOT_FLAT, LAYOUT.sign.ravel(), CODED_BITS + 1)


def highpass(gray: np.ndarray) -> np.ndarray:
    g = gray.astype(np.float32)
    return g - cv2.GaussianBlur(g, (0, 0), HP_SIGMA)


# ---------------------------------------------------------------- decoding ----

def _candidate_scales(acc: np.ndarray) -> list[float]:
    """Scales from the autocorrelation peaks of the periodic tile, then common resizes."""
    out: list[float] = []
    for s in [lag / TILE for lag in tile_period_peaks(acc, 3)] + list(COMMON_SCALES):
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
    return tile_slot_responses(tile_chip_sums(tile))[:CODED_BITS]


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
        folded = folded_at[scale] = fold_tile(img)
        z, offset = _sync(folded)
        ranked.append((z, scale, offset))
    ranked.sort(reverse=True)
    hypotheses = [(z, s, o) for z, s, o in ranked[:2] if z >= SYNC_Z_MIN]
    if not any(s == 1.0 and o == (0, 0) for _, s, o in hypotheses):
        if 1.0 not in folded_at:        # the scale search may not have tried the untouched size
            folded_at[1.0] = fold_tile(acc)
        hypotheses.append((_sync_z_at(folded_at[1.0], (0, 0)), 1.0, (0, 0)))
    best_z, best_scale, best_offset = ranked[0]
    for z, scale, offset in hypotheses[:MAX_ATTEMPTS]:
        registry_id, nerr = decode_payload((_soft_bits(folded_at[scale], offset) > 0).astype(np.uint8))
        if registry_id is not None:
            confidence = float(np.clip(0.5 + (z - SYNC_Z_MIN) / 8.0, 0.5, 1.0) - nerr / 40.0)
            return WatermarkReading(True, registry_id, payload_hex(registry_id), round(confidence, 3), frames,
                                    round(scale, 3), offset, round(z, 2), nerr, codec=CODEC_NAME)
    return WatermarkReading(False, None, None, 0.0, frames, round(best_scale, 3), best_offset, round(best_z, 2),
                            codec=CODEC_NAME)


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
    return NOT_FOUND if acc is None else decode_accumulated(acc, n)


def read_video_watermark(path, *, max_frames: int = 250) -> WatermarkReading:
    """Pool up to `max_frames` frames spread over the first video stream."""
    acc, n = pool_frames(path, max_frames, lambda _stream: lambda f: highpass(f.to_ndarray(format="gray")))
    return NOT_FOUND if acc is None else decode_accumulated(acc, n)


