"""What every vtss codec version shares: a tile of chips, each a slot (a coded bit or
the synchronisation slot) with a pseudo-random sign, repeated over the frame; folding
a picture into one tile, chip sums and slot responses; the improved-spread-spectrum
gains that give every slot the same margin over the picture's own response within an
energy budget; and the one reading type every reader (current and legacy) returns."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


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
