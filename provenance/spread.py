"""What every vtss codec version shares: a tile of chips, each a slot (a coded bit or
the synchronisation slot) with a pseudo-random sign, repeated over the frame; folding
a picture into one tile, chip sums and slot responses; the improved-spread-spectrum
gains that give every slot the same margin over the picture's own response within an
energy budget; and the one reading type every reader (current and legacy) returns."""
from __future__ import annotations

import math
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
    """Sum an image's tiles into one `tile` x `tile` square (zero-padding a partial edge).
    Whole tiles are added one by one in row-major order: the sums of a reshape-sum over
    (0, 2), without the cost of numpy's strided multi-axis reduction."""
    h, w = img.shape
    ph, pw = -(-h // tile) * tile, -(-w // tile) * tile
    if (ph, pw) != (h, w):
        pad = np.zeros((ph, pw), np.float32)
        pad[:h, :w] = img
        img = pad
    out = None
    for y in range(0, ph, tile):
        for x in range(0, pw, tile):
            block = img[y:y + tile, x:x + tile]
            if out is None:
                out = block.copy()
            else:
                out += block
    return out


def chip_sums(tile: np.ndarray, chips: int, chip: int) -> np.ndarray:
    """Per-chip sums of one folded tile: (chips, chips). Each chip's rows are summed
    first, then the rows in turn (a reshape-sum's order, at a tenth of its cost on the
    embedder's per-frame path)."""
    v = tile.reshape(chips, chip, chips, chip)
    rows = v[:, :, :, 0].copy()
    for b in range(1, chip):
        rows += v[:, :, :, b]
    out = rows[:, 0].copy()
    for a in range(1, chip):
        out += rows[:, a]
    return out


def slot_responses(chip_values: np.ndarray, slot_flat: np.ndarray, sign_flat: np.ndarray, n_slots: int) -> np.ndarray:
    """Correlation of chip values with each slot's signs: (n_slots,)."""
    return np.bincount(slot_flat, weights=chip_values.ravel() * sign_flat, minlength=n_slots)


def iss_gains(host: np.ndarray, unit: np.ndarray, energy: np.ndarray, *, slot_weight: np.ndarray, budget: float,
              cap: float, steps: int = 24) -> np.ndarray:
    """Per-slot amplitude gains giving every slot the same response margin T (times its
    weight) over the host's own response (gain = (T - host) / unit, from 0 to `cap`),
    with T as large as the energy budget allows (bisection of `steps` steps).

    This runs on every frame, and the bisection's steps were most of its cost. The energy
    spent is monotone in T (in floating point too: every operation is), so the bisection
    only needs to know on which side of the threshold each midpoint falls: the threshold
    is solved for (the energy is piecewise quadratic in T), the midpoints are walked
    against it, and the end bracket is checked with the exact test. Every midpoint the
    walk kept as a lower end lies below the checked lower end, every upper end above the
    checked upper end, so the walk took the bisection's own decisions: the same T, to
    the bit. Should the check fail (a threshold within rounding of a midpoint), the plain
    bisection runs."""
    def gains(t):
        return np.clip((t * slot_weight - host) / unit, 0.0, cap)

    def fits(t):
        return np.sum(gains(t) ** 2 * energy) <= budget

    lo, hi = 0.0, float(np.max(unit) * cap + np.max(np.abs(host)))
    if fits(hi):
        return gains(hi)
    threshold = _energy_threshold(host, unit, energy, slot_weight, budget, cap)
    if threshold is not None:
        a, b, moved = lo, hi, [False, False]
        for _ in range(steps):
            mid = 0.5 * (a + b)
            if mid <= threshold:
                a, moved[0] = mid, True
            else:
                b, moved[1] = mid, True
        if (not moved[0] or fits(a)) and (not moved[1] or not fits(b)):
            return gains(a)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return gains(lo)


def _energy_threshold(host, unit, energy, slot_weight, budget, cap) -> float | None:
    """The T at which sum(energy x clip((T w - host) / unit, 0, cap)^2) reaches the budget.
    Slot k's term is c_k (T - a_k)^2 between a_k = host / w and b_k = (cap unit + host) / w
    (c_k = energy (w / unit)^2), 0 before and cap^2 energy after: a quadratic per segment
    between sorted breakpoints."""
    w = np.broadcast_to(slot_weight, host.shape).astype(np.float64)
    a = host / w
    b = (cap * unit + host) / w
    c = energy * (w / unit) ** 2
    pos = np.concatenate([a, b])
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    # Coefficients of A T^2 + B T + C added at each breakpoint.
    d_a = np.concatenate([c, -c])[order]
    d_b = np.concatenate([-2 * c * a, 2 * c * a])[order]
    d_c = np.concatenate([c * a * a, -c * a * a + cap * cap * energy])[order]
    qa, qb, qc = np.cumsum(d_a), np.cumsum(d_b), np.cumsum(d_c)
    at = np.empty_like(pos)      # energy at each breakpoint (coefficients of the segment before it)
    at[0] = 0.0
    at[1:] = qa[:-1] * pos[1:] ** 2 + qb[:-1] * pos[1:] + qc[:-1]
    j = int(np.searchsorted(at > budget, True))
    if j == 0 or j >= len(pos):
        return None
    # Inside [pos[j-1], pos[j]]: the active slots' quadratic, recomputed from them (the
    # running sums above may have lost precision), solved for the budget.
    left = pos[j - 1]
    active = (a <= left) & (b > left)
    ca, aa = c[active], a[active]
    qa = float(ca.sum())
    if qa <= 0:
        return None
    u = aa - left                                   # solve in s = T - left, around the segment
    qb = -2.0 * float(ca @ u)
    qc = float(ca @ (u * u)) + float(cap * cap * energy[b <= left].sum()) - budget
    disc = qb * qb - 4 * qa * qc
    if disc < 0:
        return None
    return float(left) + (2 * -qc) / (qb + math.sqrt(disc)) if qb + math.sqrt(disc) > 0 else None


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
    mirrored: bool = False  # the copy is a horizontally flipped picture (read from its mirror image)
    aspect: float = 1.0     # the copy's vertical size over its horizontal size, relative to the output's
    rotation: float = 0.0   # degrees the copy is turned (counter-clockwise), as the blind search found it
    method: str = "blind"   # "blind" (read from the file alone) or "registry" (informed, after alignment)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("soft_bits")
        return d
