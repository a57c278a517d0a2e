"""A landmark-driven dense warp of a still portrait.

Smooth motions (smile, brows, blinks) each own a displacement field solved once
per portrait with Gaussian radial basis functions through the 68 landmarks and
fixed anchors, so a frame costs a weighted sum of fields and one remap. The jaw
is different: the face tears open along the lip line. Below that line the lower
lip, chin and jaw move down with their own field; the pixels the tear uncovers
form the mouth cavity, painted with teeth and a tongue. Head motion is a
similarity transform through a feathered head mask so the background stays still.
"""
from __future__ import annotations

import cv2
import numpy as np

BROWS = list(range(17, 27))
L_UPPER_LID, L_LOWER_LID = (37, 38), (41, 40)
R_UPPER_LID, R_LOWER_LID = (43, 44), (47, 46)
OUTER_UPPER_LIP = [49, 50, 51, 52, 53]
OUTER_LOWER_LIP = [55, 56, 57, 58, 59]
INNER_UPPER_LIP = [61, 62, 63]
INNER_LOWER_LIP = [65, 66, 67]
GRID_STEP = 4  # fields are solved on a coarse grid and upsampled
SMOOTH_FIELDS = ("smile", "brow", "blink")

CAVITY_DARK = np.array([30, 9, 11], np.float32)
CAVITY_EDGE = np.array([92, 38, 40], np.float32)
TEETH = np.array([226, 220, 208], np.float32)
TONGUE = np.array([168, 74, 78], np.float32)


class PortraitRig:
    def __init__(self, image: np.ndarray, landmarks: np.ndarray):
        self.image = image
        self.size = image.shape[0]
        self.lm = landmarks.astype(np.float64)
        lm = self.lm
        self.face_w = float(lm[16, 0] - lm[0, 0])
        self.face_h = float(lm[8, 1] - min(lm[19, 1], lm[24, 1]))
        self.mouth_w = float(np.linalg.norm(lm[54] - lm[48]))
        self.max_gap = 0.42 * self.mouth_w          # lip gap at full opening, pixels
        self.sigma = 0.16 * self.face_w
        ys, xs = np.mgrid[0:self.size, 0:self.size].astype(np.float32)
        self.grid_x, self.grid_y = xs, ys
        self._ring = self._ring_anchors()
        self.disp = {name: self._landmark_displacements(name) for name in SMOOTH_FIELDS}
        self.fields = {name: self._solve(self.lm, d, self._ring) for name, d in self.disp.items()}
        self.lip_line = self._lip_line()                    # y of the lip line for each x
        self.below = np.clip(ys - self.lip_line[None, :] + 0.5, 0.0, 1.0)
        self.jaw_field = self._jaw_field()                  # downward px per unit jaw
        self.mouth_box = self._mouth_box()
        self.head_mask = self._head_mask()
        self.pivot = np.array([lm[8, 0], lm[8, 1] + 0.35 * self.face_h])

    # -- set-up ---------------------------------------------------------------------
    def _landmark_displacements(self, name: str) -> np.ndarray:
        lm, d = self.lm, np.zeros_like(self.lm)
        mw = self.mouth_w
        if name == "smile":
            out, up = 0.09 * mw, 0.07 * mw
            d[48] = (-out, -up); d[54] = (out, -up)
            d[60] = (-out * 0.9, -up * 0.9); d[64] = (out * 0.9, -up * 0.9)
            for i, j, w in ((49, 53, 0.5), (59, 55, 0.45), (61, 63, 0.3), (67, 65, 0.3)):
                d[i] = (-out * w, -up * w); d[j] = (out * w, -up * w)
            for i, j in ((3, 13), (4, 12)):
                d[i] = (-0.2 * out, -0.3 * up); d[j] = (0.2 * out, -0.3 * up)
        elif name == "brow":
            lift = 0.07 * self.face_h
            for i, w in zip(BROWS, (0.6, 0.9, 1.0, 0.9, 0.7, 0.7, 0.9, 1.0, 0.9, 0.6)):
                d[i, 1] = -lift * w
            for i in L_UPPER_LID + R_UPPER_LID:
                d[i, 1] = -0.15 * lift
        elif name == "blink":
            for up, lo in zip(L_UPPER_LID + R_UPPER_LID, L_LOWER_LID + R_LOWER_LID):
                d[up] = (lm[lo] - lm[up]) * 0.85
                d[lo] = (lm[up] - lm[lo]) * 0.1
        return d

    def _ring_anchors(self) -> np.ndarray:
        """Fixed points holding the warp to zero away from the face."""
        lm = self.lm
        c = np.array([lm[:, 0].mean(), (lm[8, 1] + lm[19, 1]) / 2])
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        ring = np.stack([c[0] + 0.85 * self.face_w * np.cos(t), c[1] + 0.95 * self.face_h * np.sin(t)], 1)
        s = self.size - 1
        e = np.linspace(0, s, 6)
        border = np.concatenate([np.stack([e, np.zeros(6)], 1), np.stack([e, np.full(6, s)], 1),
                                 np.stack([np.zeros(6), e], 1), np.stack([np.full(6, s), e], 1)])
        return np.concatenate([ring, border])

    def _solve(self, pts: np.ndarray, vals: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """Gaussian-RBF interpolant through `vals` at `pts` and zero at `anchors`,
        evaluated over the image: (size, size, channels) float32."""
        ctrl = np.concatenate([pts, anchors])
        vals = vals.reshape(len(pts), -1)
        vals = np.concatenate([vals, np.zeros((len(anchors), vals.shape[1]))])
        s2 = 2 * self.sigma ** 2

        def kernel(a, b):
            return np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / s2)

        w = np.linalg.solve(kernel(ctrl, ctrl) + 1e-3 * np.eye(len(ctrl)), vals)
        n = self.size // GRID_STEP + 1
        g = np.linspace(0, self.size - 1, n)
        gx, gy = np.meshgrid(g, g)
        coarse = (kernel(np.stack([gx.ravel(), gy.ravel()], 1), ctrl) @ w).reshape(n, n, -1).astype(np.float32)
        field = cv2.resize(coarse, (self.size, self.size), interpolation=cv2.INTER_LINEAR)
        return field if field.ndim == 3 else field[..., None]

    def _lip_line(self) -> np.ndarray:
        """The line where the lips meet, extended flat beyond the corners."""
        lm = self.lm
        pts = [lm[48], (lm[60] + lm[48]) / 2]
        pts += [(lm[u] + lm[l]) / 2 for u, l in ((61, 67), (62, 66), (63, 65))]
        pts += [(lm[64] + lm[54]) / 2, lm[54]]
        pts = np.array(pts)
        xs = np.arange(self.size, dtype=np.float64)
        return np.interp(xs, pts[:, 0], pts[:, 1]).astype(np.float32)

    def _jaw_field(self) -> np.ndarray:
        """Vertical displacement below the lip line at full opening (pixels).

        Along the lip line it follows the lower lip's arc, zero at the corners and
        beyond them, so the face tears open only between the lips; lower down it
        blends into the chin and jaw, and fades out down the neck."""
        lm, h = self.lm, self.max_gap
        xs, ys = self.grid_x[0], self.grid_y[:, 0]
        xl, xr = lm[48, 0], lm[54, 0]
        u = np.clip((xs - xl) / max(xr - xl, 1.0), 0.0, 1.0)
        lip = h * np.sin(np.pi * u) ** 0.5
        jaw_x = lm[3:14, 0]
        jaw_y = lm[3:14, 1]
        cx, half = lm[8, 0], max((lm[13, 0] - lm[3, 0]) / 2, 1.0)
        v = np.clip(np.abs(xs - cx) / half, 0.0, 1.0)
        jaw = 0.9 * h * np.cos(0.5 * np.pi * v) ** 2
        contour = np.interp(xs, jaw_x, jaw_y)                       # jaw line y for each x
        lip_bottom = np.full_like(xs, lm[57, 1])
        b = np.clip((ys[:, None] - lip_bottom[None, :]) / np.maximum(contour - lip_bottom, 1.0)[None, :], 0, 1)
        b = b * b * (3 - 2 * b)                                     # smoothstep lip -> jaw
        field = (1 - b) * lip[None, :] + b * jaw[None, :]
        neck = np.clip((ys[:, None] - contour[None, :]) / (0.3 * self.face_h), 0.0, 1.0)
        field *= 1.0 - neck * neck * (3 - 2 * neck)
        return field.astype(np.float32)

    def _mouth_box(self) -> tuple[int, int, int, int]:
        lm = self.lm
        x0 = int(lm[48, 0] - 0.1 * self.mouth_w)
        x1 = int(np.ceil(lm[54, 0] + 0.1 * self.mouth_w))
        y0 = int(min(lm[50, 1], lm[52, 1]) - 0.1 * self.mouth_w)
        y1 = int(np.ceil(lm[57, 1] + self.max_gap * 1.3))
        clip = lambda v: int(min(max(v, 0), self.size))
        return clip(x0), clip(y0), clip(x1), clip(y1)

    def _head_mask(self) -> np.ndarray:
        lm = self.lm
        mask = np.zeros((self.size, self.size), np.float32)
        cx, cy = float(lm[:, 0].mean()), float(lm[27, 1])
        axes = (int(0.85 * self.face_w), int(1.25 * self.face_h))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, 0, 0, 360, 1.0, -1)
        neck_w = int(0.32 * self.face_w)
        cv2.rectangle(mask, (int(lm[8, 0]) - neck_w, int(lm[8, 1])), (int(lm[8, 0]) + neck_w, self.size), 0.6, -1)
        k = int(0.35 * self.face_w) | 1
        return cv2.GaussianBlur(mask, (k, k), 0)

    # -- per frame ------------------------------------------------------------------
    def _head_transform(self, yaw: float, pitch: float, roll: float) -> np.ndarray:
        """2x3 forward similarity for the head (a 2D stand-in for 3D pose)."""
        m = cv2.getRotationMatrix2D((float(self.pivot[0]), float(self.pivot[1])), -roll, 1.0)
        m[0, 2] += np.sin(np.radians(yaw)) * 0.55 * self.face_w
        m[1, 2] += np.sin(np.radians(pitch)) * 0.45 * self.face_h
        return m

    def render(self, p: dict[str, float]) -> np.ndarray:
        """One RGB frame for the motion parameters `p` (see motion.MotionTrack.frame)."""
        fx = np.zeros_like(self.grid_x)
        fy = p["jaw"] * self.below * self.jaw_field
        for name in SMOOTH_FIELDS:
            if p[name]:
                fx = fx + p[name] * self.fields[name][..., 0]
                fy = fy + p[name] * self.fields[name][..., 1]
        inv = cv2.invertAffineTransform(self._head_transform(p["yaw"], p["pitch"], p["roll"])).astype(np.float32)
        m = self.head_mask
        hx = inv[0, 0] * self.grid_x + inv[0, 1] * self.grid_y + inv[0, 2]
        hy = inv[1, 0] * self.grid_x + inv[1, 1] * self.grid_y + inv[1, 2]
        # Head-local coordinates of each output pixel (identity away from the head)...
        lx = m * hx + (1 - m) * self.grid_x
        ly = m * hy + (1 - m) * self.grid_y
        # ...then the expression displacement, looked up where that point sits on the face.
        frame = cv2.remap(self.image, lx - fx, ly - fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        if p["jaw"] > 0.02:
            self._paint_cavity(frame, lx, ly, p)
        return frame

    def _paint_cavity(self, frame: np.ndarray, lx: np.ndarray, ly: np.ndarray, p: dict[str, float]) -> None:
        """Fill the tear between the lips: below the upper lip, above the moved lower lip."""
        x0, y0, x1, y1 = self.mouth_box
        bx, by = lx[y0:y1, x0:x1], ly[y0:y1, x0:x1]
        # Sample the lip line and the jaw field at each pixel's head-local position.
        line = np.interp(bx, np.arange(self.size), self.lip_line)
        drop = p["jaw"] * cv2.remap(self.jaw_field, bx, by, cv2.INTER_LINEAR)
        below_top = by - line                  # > 0 under the upper lip
        above_bottom = line - (by - drop)      # > 0 above the moved lower lip
        alpha = np.clip(np.minimum(below_top, above_bottom) + 0.5, 0.0, 1.0) * np.clip(drop - 0.5, 0.0, 1.0)
        if not alpha.any():
            return
        gap = np.maximum(drop, 1e-3)
        t = np.clip(below_top / gap, 0.0, 1.0)          # 0 at the upper lip, 1 at the lower lip
        centre = np.clip(1.0 - np.abs(t - 0.5) * 2.0, 0.0, 1.0)
        cavity = CAVITY_EDGE + (CAVITY_DARK - CAVITY_EDGE) * centre[..., None]
        teeth_band = np.clip(0.12 * self.max_gap, 1.5, 6.0)
        teeth = np.clip((teeth_band - below_top) / 1.5, 0.0, 1.0) * np.clip(drop / 3.0, 0.0, 1.0)
        shade = 0.82 + 0.18 * np.clip(below_top / teeth_band, 0, 1)
        cavity = cavity * (1 - teeth[..., None]) + (TEETH * shade[..., None]) * teeth[..., None]
        tongue = np.clip((t - 0.65) / 0.2, 0.0, 1.0) * np.clip(gap / (0.4 * self.max_gap), 0.0, 0.8)
        cavity = cavity * (1 - tongue[..., None]) + TONGUE * tongue[..., None]
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        a = alpha[..., None]
        frame[y0:y1, x0:x1] = np.clip(roi * (1 - a) + cavity * a, 0, 255).astype(np.uint8)
