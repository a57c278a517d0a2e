"""Phones to mouth shapes, with coarticulation.

Each phone has a target mouth shape (opening, spread, rounding, closure, lower-lip
tuck) and a dominance: lips must really close for p/b/m, so those dominate their
neighbours; vowels are weaker. Per frame the shape is the dominance-weighted mean of
the nearby phones' targets (Cohen and Massaro's model), with dominance decaying
faster after a phone than before it, so the mouth anticipates the next sound and
lingers a little on the last one."""
from __future__ import annotations

import numpy as np

from .phonemes import FILLERS, Phone

SHAPES = ("open", "spread", "round", "closure", "tuck")
# phone: (open, spread, round, closure, tuck, dominance)
TARGETS = {
    "P": (0.0, 0.0, 0.0, 1.0, 0.0, 25.0), "B": (0.0, 0.0, 0.0, 1.0, 0.0, 25.0), "M": (0.0, 0.0, 0.0, 1.0, 0.0, 25.0),
    "F": (0.1, 0.1, 0.0, 0.0, 1.0, 8.0), "V": (0.1, 0.1, 0.0, 0.0, 1.0, 8.0),
    "UW": (0.25, 0.0, 1.0, 0.0, 0.0, 2.0), "W": (0.1, 0.0, 1.0, 0.0, 0.0, 3.0), "OW": (0.45, 0.0, 0.75, 0.0, 0.0, 2.0),
    "UH": (0.3, 0.0, 0.6, 0.0, 0.0, 1.5), "OY": (0.45, 0.0, 0.6, 0.0, 0.0, 1.5), "AO": (0.6, 0.0, 0.45, 0.0, 0.0, 1.5),
    "AW": (0.65, 0.0, 0.35, 0.0, 0.0, 1.5),
    "IY": (0.2, 1.0, 0.0, 0.0, 0.0, 2.0), "IH": (0.3, 0.7, 0.0, 0.0, 0.0, 1.5), "EH": (0.45, 0.6, 0.0, 0.0, 0.0, 1.5),
    "EY": (0.4, 0.7, 0.0, 0.0, 0.0, 1.5), "AE": (0.65, 0.6, 0.0, 0.0, 0.0, 1.5), "Y": (0.2, 0.8, 0.0, 0.0, 0.0, 1.5),
    "AA": (0.9, 0.0, 0.0, 0.0, 0.0, 1.5), "AH": (0.6, 0.0, 0.0, 0.0, 0.0, 1.0), "AY": (0.75, 0.2, 0.0, 0.0, 0.0, 1.5),
    "ER": (0.3, 0.0, 0.4, 0.0, 0.0, 1.0),
    "SH": (0.2, 0.0, 0.6, 0.0, 0.0, 2.0), "CH": (0.2, 0.0, 0.6, 0.0, 0.0, 2.0), "JH": (0.2, 0.0, 0.6, 0.0, 0.0, 2.0),
    "ZH": (0.2, 0.0, 0.6, 0.0, 0.0, 2.0), "R": (0.25, 0.0, 0.5, 0.0, 0.0, 1.0),
    "TH": (0.25, 0.2, 0.0, 0.0, 0.0, 1.0), "DH": (0.25, 0.2, 0.0, 0.0, 0.0, 1.0),
    "T": (0.2, 0.3, 0.0, 0.0, 0.0, 0.8), "D": (0.2, 0.3, 0.0, 0.0, 0.0, 0.8), "N": (0.2, 0.3, 0.0, 0.0, 0.0, 0.8),
    "L": (0.3, 0.2, 0.0, 0.0, 0.0, 0.8), "S": (0.15, 0.4, 0.0, 0.0, 0.0, 1.0), "Z": (0.15, 0.4, 0.0, 0.0, 0.0, 1.0),
    "K": (0.3, 0.1, 0.0, 0.0, 0.0, 0.6), "G": (0.3, 0.1, 0.0, 0.0, 0.0, 0.6), "NG": (0.3, 0.1, 0.0, 0.0, 0.0, 0.6),
    "HH": (0.35, 0.0, 0.0, 0.0, 0.0, 0.3),
}
REST = (0.0, 0.0, 0.0, 0.6, 0.0, 1.0)    # lips together, relaxed
ANTICIPATE_S = 0.08     # dominance decay before a phone (slower: the mouth gets ready)
LINGER_S = 0.06         # and after it


def viseme_curves(phones: list[Phone], n_frames: int, fps: int) -> np.ndarray:
    """(n_frames, 5) mouth shapes (see SHAPES) from timed phones."""
    t = (np.arange(n_frames) + 0.5) / fps
    num = np.zeros((n_frames, 5))
    den = np.full(n_frames, 1e-6)
    reach = 3 * max(ANTICIPATE_S, LINGER_S)
    for ph in phones:
        target = REST if ph.label in FILLERS else TARGETS.get(ph.label, (0.3, 0.1, 0.0, 0.0, 0.0, 0.8))
        centre, half = (ph.start + ph.end) / 2, (ph.end - ph.start) / 2
        i0, i1 = max(0, int((ph.start - reach) * fps)), min(n_frames, int(np.ceil((ph.end + reach) * fps)))
        if i1 <= i0:
            continue
        dt = t[i0:i1] - centre
        # flat inside the phone, a Gaussian tail outside it (reach ~ 2 tau)
        outside = np.maximum(np.abs(dt) - half, 0.0)
        tau = np.where(dt < 0, ANTICIPATE_S, LINGER_S)
        dom = target[5] * np.exp(-(outside / tau) ** 2)
        num[i0:i1] += dom[:, None] * np.array(target[:5])[None, :]
        den[i0:i1] += dom
    return (num / den[:, None]).astype(np.float32)
