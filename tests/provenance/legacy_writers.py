"""Writers of retired codecs, for tests only: they prove that outputs of earlier
releases (marked by these exact embedders) still decode. No product code embeds with a
retired codec."""
from __future__ import annotations

import cv2
import numpy as np

from provenance.legacy.vtss1 import (
    CHIP,
    CODED_BITS,
    LAYOUT,
    SLOT_FLAT,
    SLOT_WEIGHT,
    TILE,
    fold_tile,
    highpass,
    tile_chip_sums,
    tile_slot_responses,
)
from provenance.payload import encode_payload, payload_hex
from provenance.spread import iss_gains, payload_signs


def _expand(chips: np.ndarray, h: int, w: int) -> np.ndarray:
    """Per-chip values -> a full frame of pixels (chip blocks, tile repeated)."""
    tile = np.repeat(np.repeat(chips, CHIP, axis=0), CHIP, axis=1)
    return np.tile(tile, (-(-h // TILE), -(-w // TILE)))[:h, :w]


PATTERN_BLUR = 1.2


def _smooth(pattern: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(pattern, (0, 0), PATTERN_BLUR)


def _chip_response() -> float:
    """What the detector's high-pass keeps of one chip of unit amplitude (its mean
    response over the chip), so per-frame responses need no second filtering."""
    tile = np.kron(LAYOUT.sign, np.ones((CHIP, CHIP), np.float32))
    hp = highpass(_smooth(np.tile(tile, (3, 3))))[TILE:2 * TILE, TILE:2 * TILE]
    return float(np.mean(tile_chip_sums(hp) * LAYOUT.sign) / (CHIP * CHIP))


_CHIP_GAIN = _chip_response()


class Vtss1Writer:
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
        self._slot_sign, self._chip_sign = payload_signs(bits, LAYOUT)
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
        host = tile_slot_responses(tile_chip_sums(fold_tile(highpass(gray)))) * self._slot_sign
        unit = np.abs(tile_slot_responses(tile_chip_sums(fold_tile(mask)) * LAYOUT.sign)) * _CHIP_GAIN + 1e-3
        chip_energy = tile_chip_sums(fold_tile(base * base)).ravel()
        energy = np.bincount(SLOT_FLAT, weights=chip_energy, minlength=CODED_BITS + 1)
        gains = _iss_gains(host, unit, energy, budget=self.max_mse * h * w, cap=self.max_boost)
        delta = base * _expand(gains[LAYOUT.slot].astype(np.float32), h, w)
        # Neighbouring chips leak into each other through the filters: measure the
        # real response once and correct each slot towards the common margin.
        real = tile_slot_responses(tile_chip_sums(fold_tile(highpass(delta)))) * self._slot_sign
        margin = np.median((host + real) / SLOT_WEIGHT) * SLOT_WEIGHT
        gains = np.clip(gains + (margin - host - real) / unit, 0.0, self.max_boost)
        delta = base * _expand(gains[LAYOUT.slot].astype(np.float32), h, w)
        d = np.rint(delta).astype(np.int16)
        up = cv2.merge([np.clip(d, 0, 255).astype(np.uint8)] * 3)
        down = cv2.merge([np.clip(-d, 0, 255).astype(np.uint8)] * 3)
        return cv2.subtract(cv2.add(rgb, up), down)


def _iss_gains(host: np.ndarray, unit: np.ndarray, energy: np.ndarray, *, budget: float, cap: float) -> np.ndarray:
    return iss_gains(host, unit, energy, slot_weight=SLOT_WEIGHT, budget=budget, cap=cap, steps=30)

