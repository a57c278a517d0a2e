"""Everything but the mouth, for a session of unknown length: blinks, gaze, the
head's drift, smile and brows, and nods on stressed syllables.

The slow parts come from the offline planner's own generators (generation.motion:
blinks, saccades, band-limited noise), drawn once for the session's maximum length
from the seed, so a silent stretch still breathes (idle animation: blinks, gaze,
a head that drifts at 60 % liveliness). Speech adds liveliness and nods as it is
heard: a nod starts on the frame whose prominence peaks, since the frames before it
have already been shown."""
from __future__ import annotations

import numpy as np

from ..controls import Controls
from ..motion import EMOTION_OFFSETS, _smooth_noise, blinks, saccades
from .mouth import MouthFrame

NOD_SECONDS = 0.4
NOD_GAP_SECONDS = 0.35


class LiveMotion:
    def __init__(self, controls: Controls, max_frames: int):
        n, fps = max(int(max_frames), 2), controls.fps
        self.n, self.fps, self.controls = n, fps, controls
        seeds = np.random.SeedSequence(controls.seed).spawn(6)
        r_blink, r_gaze, r_head, self._r_nod, r_face, _ = (np.random.default_rng(s) for s in seeds)
        scale = controls.expression_scale
        smile0, brow0, self.jaw0 = EMOTION_OFFSETS[controls.emotion]
        self.smile = np.clip(smile0 * scale + 0.06 * scale * _smooth_noise(n, r_face, 4.0 * fps), -1, 1)
        self.brow = brow0 * scale + 0.12 * scale * _smooth_noise(n, r_face, 2.5 * fps)
        self.blink = blinks(n, fps, controls.blink_rate, r_blink)
        sx, sy = saccades(n, fps, r_gaze)
        self.gaze_x = np.clip(controls.gaze[0] + sx, -1, 1)
        self.gaze_y = np.clip(controls.gaze[1] + sy, -1, 1)
        hm = controls.head_motion
        self.yaw = hm * 2.5 * _smooth_noise(n, r_head, 3.0 * fps)
        self.pitch = hm * 1.2 * _smooth_noise(n, r_head, 2.0 * fps)
        self.roll = hm * 1.0 * _smooth_noise(n, r_head, 4.0 * fps)
        self.tx = hm * 0.008 * _smooth_noise(n, r_head, 5.0 * fps)
        self.ty = hm * 0.005 * _smooth_noise(n, r_head, 4.0 * fps)
        self.scale = 1.0 + hm * 0.01 * _smooth_noise(n, r_head, 6.0 * fps)
        width = int(NOD_SECONDS * fps)
        self._nod_shape = np.sin(np.linspace(0, np.pi, width)) ** 2
        self._nod = np.zeros(width + 1)       # the nod still to play, from this frame on
        self._flash = np.zeros(width + 1)
        self._last_peak = -10**9
        self._prev_prom = (-9.0, -9.0)        # prominence of frames i-2, i-1
        self._speaking = 0.0

    def frame(self, i: int, mouth: MouthFrame, next_prominence: float | None = None) -> dict[str, float]:
        """Rig parameters for frame i (see rig.PARAMS) given its mouth."""
        j = i % self.n
        c = self.controls
        scale, hm = c.expression_scale, c.head_motion
        self._speaking += 0.08 * (float(mouth.voiced) - self._speaking)
        # A peak of prominence at the previous frame (known now that this one is in) starts a nod.
        p2, p1 = self._prev_prom
        if p1 >= p2 and p1 > mouth.prominence and p1 > 0.3 and i - 1 - self._last_peak >= NOD_GAP_SECONDS * self.fps:
            self._last_peak = i - 1
            amp = min(p1, 2.0) / 2.0 * self._r_nod.uniform(1.2, 2.2)
            w = len(self._nod_shape)
            self._nod[:w] += amp * self._nod_shape
            self._flash[:w] += 0.25 * amp / 2.2 * self._nod_shape
        self._prev_prom = (p1, mouth.prominence)
        nod, flash = float(self._nod[0]), float(self._flash[0])
        self._nod = np.append(self._nod[1:], 0.0)
        self._flash = np.append(self._flash[1:], 0.0)
        live = 0.6 + 0.4 * self._speaking
        return {
            "jaw": mouth.jaw, "spread": mouth.spread, "round": mouth.round, "closure": mouth.closure,
            "tuck": mouth.tuck,
            "smile": float(self.smile[j]), "brow": float(np.clip(self.brow[j] + scale * flash, -1, 1)),
            "blink": float(self.blink[j]), "gaze_x": float(self.gaze_x[j]), "gaze_y": float(self.gaze_y[j]),
            "yaw": float(self.yaw[j] * live), "pitch": float(self.pitch[j] * live + hm * nod),
            "roll": float(self.roll[j]), "tx": float(self.tx[j]), "ty": float(self.ty[j]),
            "scale": float(self.scale[j]),
        }
