"""The vtss-3 embedder as first released (2026-11-21), frozen for tests only: the
faster embedder in provenance.videomark must give exactly these frames. Self-contained
on purpose (its own high-pass, fold, chip sums, ISS gains and soft tile), so a change to
the shared helpers cannot change the reference along with the code under test."""
from __future__ import annotations

import cv2
import numpy as np

from provenance.payload import encode_payload
from provenance.spread import payload_signs
from provenance.videomark import (
    CHIP,
    CHIPS,
    CODED_BITS,
    HP_SIGMA,
    LAYOUT,
    N_SLOTS,
    NORM_FLOOR,
    NORM_SIGMA,
    PATTERN_SIGMA,
    SYNC_FRACTION,
    WORK_CHIP,
    WORK_TILE,
)


def _highpass(gray):
    g = gray.astype(np.float32, copy=False)
    return g - cv2.GaussianBlur(g, (0, 0), HP_SIGMA)


def _norm_weight(hp):
    loc = cv2.sqrt(cv2.GaussianBlur(hp * hp, (0, 0), NORM_SIGMA))
    return 1.0 / (loc + (NORM_FLOOR * float(np.median(loc[::4, ::4])) + 1e-6))


def _fold(img):
    h, w = img.shape
    ph, pw = -(-h // WORK_TILE) * WORK_TILE, -(-w // WORK_TILE) * WORK_TILE
    if (ph, pw) != (h, w):
        pad = np.zeros((ph, pw), np.float32)
        pad[:h, :w] = img
        img = pad
    return img.reshape(ph // WORK_TILE, WORK_TILE, pw // WORK_TILE, WORK_TILE).sum(axis=(0, 2))


def _chip_sums(tile):
    return tile.reshape(CHIPS, WORK_CHIP, CHIPS, WORK_CHIP).sum(axis=(1, 3))


SLOT_FLAT = LAYOUT.slot.ravel()
SLOT_WEIGHT = (np.bincount(SLOT_FLAT, minlength=N_SLOTS).astype(np.float64)
               / (CHIPS * CHIPS * (1 - SYNC_FRACTION) / CODED_BITS))


def reference_iss_gains(host, unit, energy, *, budget, cap, steps=24):
    def gains(t):
        return np.clip((t * SLOT_WEIGHT - host) / unit, 0.0, cap)

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


def _chip_gain():
    big = np.tile(np.kron(LAYOUT.sign, np.ones((CHIP, CHIP), np.float32)), (3, 3))
    big = cv2.GaussianBlur(big, (0, 0), PATTERN_SIGMA)
    small = cv2.resize(big, (big.shape[1] // 2, big.shape[0] // 2), interpolation=cv2.INTER_AREA)
    hp = _highpass(small)[WORK_TILE:2 * WORK_TILE, WORK_TILE:2 * WORK_TILE]
    return float(np.mean(_chip_sums(hp) * LAYOUT.sign) / (WORK_CHIP * WORK_CHIP))


CHIP_GAIN = _chip_gain()


def _soft_tile(chips, chip):
    sigma = PATTERN_SIGMA * chip / CHIP
    size = CHIPS * chip
    pad = 4 * int(np.ceil(sigma))
    hard = cv2.copyMakeBorder(np.kron(chips, np.ones((chip, chip), np.float32)), pad, pad, pad, pad,
                              cv2.BORDER_WRAP)
    return cv2.GaussianBlur(hard, (0, 0), sigma)[pad:pad + size, pad:pad + size]


class ReferenceVtss3Writer:
    floor, strength, ceiling, max_boost, max_mse = 0.2, 0.5, 4.5, 3.5, 6.3

    def __init__(self, registry_id: int):
        self._slot_sign, self._chip_sign = payload_signs(encode_payload(registry_id), LAYOUT)

    def _analyse(self, rgb, chip):
        h, w = rgb.shape[:2]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        f = chip // WORK_CHIP
        small = (cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1
                 else gray).astype(np.float32)
        mean = cv2.blur(small, (5, 5))
        var = cv2.blur(small * small, (5, 5)) - mean * mean
        mask = np.clip(self.floor + self.strength * cv2.sqrt(np.maximum(var, 0)), self.floor, self.ceiling)
        return small, mask

    def mark(self, rgb):
        h, w = rgb.shape[:2]
        chip = CHIP if min(h, w) >= 384 else CHIP // 2
        small, mask = self._analyse(rgb, chip)
        hp = _highpass(small)
        weight = _norm_weight(hp)
        host = np.bincount(SLOT_FLAT, weights=_chip_sums(_fold(hp * weight)).ravel() * LAYOUT.sign.ravel(),
                           minlength=N_SLOTS) * self._slot_sign
        mchips = _chip_sums(_fold(mask * weight))
        mchips2 = _chip_sums(_fold(mask * mask))
        unit = np.bincount(SLOT_FLAT, weights=mchips.ravel(), minlength=N_SLOTS) * CHIP_GAIN + 1e-3
        energy = np.bincount(SLOT_FLAT, weights=mchips2.ravel(), minlength=N_SLOTS) * (chip // WORK_CHIP) ** 2 * 0.55
        gains = reference_iss_gains(host, unit, energy, budget=self.max_mse * h * w, cap=self.max_boost)
        tile = _soft_tile((gains[LAYOUT.slot] * self._chip_sign).astype(np.float32), chip)
        pattern = np.tile(tile, (-(-h // tile.shape[0]), -(-w // tile.shape[1])))[:h, :w]
        delta = cv2.multiply(cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR), pattern)
        mse = cv2.norm(delta, cv2.NORM_L2SQR) / (h * w)
        if mse > self.max_mse:
            delta *= np.float32(np.sqrt(self.max_mse / mse))
        np.rint(delta, out=delta)
        up = cv2.convertScaleAbs(cv2.max(delta, 0.0))
        down = cv2.convertScaleAbs(cv2.min(delta, 0.0))
        out = cv2.add(rgb, cv2.cvtColor(up, cv2.COLOR_GRAY2RGB))
        return cv2.subtract(out, cv2.cvtColor(down, cv2.COLOR_GRAY2RGB), dst=out)
