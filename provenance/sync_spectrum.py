"""A cheap first look at tens of thousands of geometries, from one FFT of the picture.

Folding a picture resized, turned and mirrored by a geometry and correlating the fold with
the sync template (what `videomark` does per geometry, ~0.5 ms each) reads the picture's
spectrum at the points of the tile's reciprocal lattice that the geometry moves there.
Sampling those points from one zero-padded FFT of the picture, for the lowest 32 x 32
lattice frequencies only (COARSE), gives a correlation surface for ~20 us a geometry; the
best 1,500 are ranked again with 64 x 64 (FINE, ~70 us). Those surfaces keep a sixteenth
and a quarter of the coefficients the full fold has, so their z is lower and only a ranking:
the best few geometries are then scored the full way (docs/watermark.md)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

COARSE, FINE = 16, 32   # lattice frequencies |k| < K on each axis (half plane: the picture is real)
BATCH = 512


@lru_cache(maxsize=None)
def _lattice(K: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kx, ky in irfft2's layout (2K, K + 1), and each coefficient's weight in the
    surface's energy (the half plane stands for both halves, the kx = 0 column for itself)."""
    ky, kx = np.meshgrid(np.r_[0:K, -K:0], np.arange(K + 1), indexing="ij")
    weight = np.where(kx == 0, 1.0, 2.0).astype(np.float32).ravel()
    return kx.ravel().astype(np.float32), ky.ravel().astype(np.float32), weight


def lattice_templates(conj_full: np.ndarray, mirrored_conj_full: np.ndarray, K: int) -> np.ndarray:
    """The template spectra (conjugated, full fft2 of the working tile) at the lattice
    frequencies |k| < K: (2, 2K (K + 1)), plain then mirrored."""
    kx, ky, _ = _lattice(K)
    n = conj_full.shape[0]
    idx = (ky.astype(int) % n, kx.astype(int) % n)
    return np.stack([conj_full[idx], mirrored_conj_full[idx]]).astype(np.complex64)


class SyncSpectrum:
    """One picture (already high-passed and normalised), ready to score geometries: its
    spectrum, zero-padded to at least twice its size (a nearest sample is then at most a
    quarter of a bin off) and whitened once, as the fold's coefficients are (a sample of the
    whitened spectrum is the whitened sample)."""

    def __init__(self, prepared: np.ndarray, *, tile: int, whiten: float):
        h, w = prepared.shape
        self.h2, self.w2 = 1 << int(np.ceil(np.log2(2 * h))), 1 << int(np.ceil(np.log2(2 * w)))
        self.shift = int(np.log2(self.w2))
        centred = prepared.astype(np.float32) - np.float32(prepared.mean())
        f = scipy.fft.fft2(centred, s=(self.h2, self.w2)).astype(np.complex64)
        f *= (f.real * f.real + f.imag * f.imag + np.float32(1e-18)) ** np.float32(-whiten / 2)
        self.spectrum = f.ravel()
        self.power = (f.real * f.real + f.imag * f.imag).ravel()
        self.tile = tile

    def zscores(self, maps: np.ndarray, templates: np.ndarray, K: int) -> np.ndarray:
        """maps: (B, 2, 2) linear maps from picture pixels (x, y) to working-tile pixels;
        templates from `lattice_templates` with the same K. Returns (B, 2): the sync
        surface's z (max over 2K x 2K offsets) plain and mirrored."""
        out = np.empty((len(maps), 2), np.float32)
        for i in range(0, len(maps), BATCH):
            out[i:i + BATCH] = self._batch(maps[i:i + BATCH], templates, K)
        return out

    def _batch(self, maps: np.ndarray, templates: np.ndarray, K: int) -> np.ndarray:
        kx, ky, weight = _lattice(K)
        # the fold's coefficient k is the picture's spectrum at M^T k / tile (cycles per pixel);
        # the sizes are powers of two, so the wrap to non-negative bins is a mask
        fx = (maps[:, 0, 0, None] * kx + maps[:, 1, 0, None] * ky) * np.float32(self.w2 / self.tile)
        fy = (maps[:, 0, 1, None] * kx + maps[:, 1, 1, None] * ky) * np.float32(self.h2 / self.tile)
        index = ((np.rint(fy).astype(np.int32) & (self.h2 - 1)) << self.shift) | (np.rint(fx).astype(np.int32)
                                                                                  & (self.w2 - 1))
        c = self.spectrum[index]
        prod = c[:, None, :] * templates[None]
        b = len(maps)
        surface = scipy.fft.irfft2(prod.reshape(b, 2, 2 * K, K + 1), s=(2 * K, 2 * K), axes=(2, 3)).reshape(b, 2, -1)
        n2 = 4 * K * K
        # Parseval: the surface's mean and spread from its coefficients (|prod|^2 = |c|^2 |t|^2)
        mean = prod[:, :, 0].real / n2
        # (a sum, not a matrix product: BLAS threads cost more than they save at this size)
        power = (self.power[index][:, None, :] * (np.abs(templates) ** 2 * weight)[None]).sum(axis=2)
        var = power / (n2 * n2) - mean ** 2
        return (surface.max(axis=2) - mean) / np.sqrt(np.maximum(var, 1e-30))
