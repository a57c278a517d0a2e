"""What every vtss codec version shares: a tile of chips, each a slot (a coded bit or
the synchronisation slot) with a pseudo-random sign, repeated over the frame; folding
a picture into one tile, chip sums and slot responses; the improved-spread-spectrum
gains that give every slot the same margin over the picture's own response within an
energy budget; and the one reading type every reader (current and legacy) returns."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    slot: np.ndarray      # (chips, chips) int: coded bit per chip, the sync slot on sync chips
    sign: np.ndarray      # (chips, chips) float32: +-1 spreading sign per chip


def chip_layout(seed: int, chips: int, sync_fraction: float, coded_bits: int) -> Layout:
    """A codec's tile: a random `sync_fraction` of the chips carry the sync slot
    (numbered `coded_bits`), the rest the coded bits in turn, each chip a random sign."""
    rng = np.random.default_rng(seed)
    n = chips * chips
    order = rng.permutation(n)
    n_sync = int(round(n * sync_fraction))
    slot = np.full(n, coded_bits, np.int64)
    slot[order[n_sync:]] = np.arange(n - n_sync) % coded_bits
    sign = rng.choice(np.array([-1.0, 1.0], np.float32), n)
    return Layout(slot.reshape(chips, chips), sign.reshape(chips, chips))


def payload_signs(bits: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Per-slot signs of a coded payload (+-1, the sync slot always +1) and the per-chip
    signs they give the tile (slot sign times the chip's spreading sign)."""
    slot_sign = np.append(2.0 * bits - 1.0, 1.0).astype(np.float32)
    return slot_sign, (layout.sign * slot_sign[layout.slot]).astype(np.float32)


def tile_period_peaks(acc: np.ndarray, count: int) -> list[int]:
    """Lags (pixels, strongest first) of the `count` highest local peaks of the picture's
    autocorrelation along its axes: the period of a repeated tile, whatever its scale."""
    f = np.fft.rfft2(acc - acc.mean())
    ac = np.fft.irfft2(np.abs(f) ** 2, s=acc.shape)
    n = min(acc.shape) // 2
    prof = (ac[0, :n] + ac[:n, 0]) / (ac[0, 0] + 1e-9)
    peaks = sorted(((prof[lag], lag) for lag in range(24, n - 1)
                    if prof[lag] > prof[lag - 1] and prof[lag] >= prof[lag + 1]), reverse=True)
    return [lag for _, lag in peaks[:count]]


def fold(img: np.ndarray, tile: int) -> np.ndarray:
    """Sum an image's tiles into one `tile` x `tile` square (zero-padding a partial edge)."""
    h, w = img.shape
    ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
    if (ph, pw) != (h, w):
        pad = np.zeros((ph, pw), np.float32)
        pad[:h, :w] = img
        img = pad
    return img.reshape(ph // tile, tile, pw // tile, tile).sum(axis=(0, 2))


def chip_sums(tile: np.ndarray, chips: int, chip: int) -> np.ndarray:
    """Per-chip sums of one folded tile: (chips, chips)."""
    return tile.reshape(chips, chip, chips, chip).sum(axis=(1, 3))


def slot_responses(chip_values: np.ndarray, slot_flat: np.ndarray, sign_flat: np.ndarray, n_slots: int) -> np.ndarray:
    """Correlation of chip values with each slot's signs: (n_slots,)."""
    return np.bincount(slot_flat, weights=chip_values.ravel() * sign_flat, minlength=n_slots)


def iss_gains(host: np.ndarray, unit: np.ndarray, energy: np.ndarray, *, slot_weight: np.ndarray, budget: float,
              cap: float, steps: int = 24) -> np.ndarray:
    """Per-slot amplitude gains giving every slot the same response margin T (times its
    weight) over the host's own response (gain = (T - host) / unit, from 0 to `cap`),
    with T as large as the energy budget allows (bisection)."""
    def gains(t):
        return np.clip((t * slot_weight - host) / unit, 0.0, cap)

    lo, hi = 0.0, float(np.max(unit) * cap + np.max(np.abs(host)))
    if np.sum(gains(hi) ** 2 * energy) <= budget:
        return gains(hi)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if np.sum(gains(mid) ** 2 * energy) <= budget:
            lo = mid
        else:
            hi = mid
    return gains(lo)


def standard(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-12)


@dataclass(frozen=True)
class WatermarkReading:
    """What a watermark reader found, whichever codec version and path read it."""
    found: bool
    registry_id: int | None
    payload: str | None
    confidence: float       # 0..1
    frames: int
    scale: float | None = None
    offset: tuple[int, int] | None = None
    sync_z: float = 0.0
    bit_errors: int = -1
    soft_bits: tuple[float, ...] | None = None
    codec: str = ""
    method: str = "blind"   # "blind" (read from the file alone) or "registry" (informed, after alignment)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("soft_bits")
        return d
