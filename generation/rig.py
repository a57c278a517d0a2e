"""A landmark-driven dense warp of a still portrait, built for speed on a CPU.

Everything smooth is solved once per portrait and evaluated per frame on a coarse
grid (one point every GRID_STEP pixels) over the face's region only: the head's
pose (a similarity transform plus a depth parallax from a generic 3D face, so the
nose turns more than the cheeks) through a feathered head mask, and the smooth
expression fields (smile, brows, lip spread, rounding, closure, lower-lip tuck),
each a Gaussian-RBF interpolant through the 68 landmarks. The coarse lookup map
is upsampled over the face's box and the background outside it is copied as is.

What must be sharp is done at full resolution in small boxes: the jaw (the face
tears open along the lip line; the lower lip, chin and jaw move down and the
uncovered pixels become a painted cavity with teeth and a tongue), the eyelids
(the upper lid slides down over the eye, occluding it) and the irises (gaze).
"""
from __future__ import annotations

import cv2
import numpy as np

from .expression import (
    CLOSED,
    TEETH_SMILE,
    WIDE_OPEN,
    PhotoExpression,
    occlusal_fraction,
    opening_edges,
    read_expression,
    teeth_mask,
)

BROWS = list(range(17, 27))
L_UPPER_LID, L_LOWER_LID = (37, 38), (41, 40)
R_UPPER_LID, R_LOWER_LID = (43, 44), (47, 46)
GRID_STEP = 4
# An INTER_LINEAR resize by GRID_STEP reads output pixel i at grid position (i + 0.5) / GRID_STEP - 0.5,
# i.e. GRID_STEP / 2 - 0.5 pixels early: coarse source positions carry this shift.
UPSAMPLE_SHIFT = GRID_STEP / 2 - 0.5
BLINK_LEVELS = 9
# A shut eye: the upper lid comes 85 % of the way down and the lower lid rises to meet it
# (dlib, like a person, reads the meeting line near the eye's middle as a closed eye; a
# line on the lower lid reads as a narrow open eye), where both lids' lashes make a thick
# dark line (4.5 times the open lash line's width, 0.4 of its colour).
LID_MEET = 0.85
SHUT_LASH_WIDTH, SHUT_LASH_SHADE = 3.5, 0.4
SHUT_GAIN, SHUT_UP_SHARE, SHUT_CHIN = 1.4, 0.3, 1.0
SHUT_FLAT, SHUT_NECK = 0.4, 0.3   # the chin's lift: whole out to this share of the half face; fade down the neck
SHUT_LAYER = True     # the shut as a full-resolution layer (identity 0.29 against 0.45 as a smooth field)
SMOOTH_FIELDS = ("smile", "brow", "spread", "round", "closure", "tuck", "shut")
# Every parameter a frame may carry, and its neutral value.
PARAMS = {"jaw": 0.0, "smile": 0.0, "brow": 0.0, "spread": 0.0, "round": 0.0, "closure": 0.0, "tuck": 0.0,
          "blink": 0.0, "gaze_x": 0.0, "gaze_y": 0.0, "yaw": 0.0, "pitch": 0.0, "roll": 0.0,
          "tx": 0.0, "ty": 0.0, "scale": 1.0}

TEETH = np.array([222, 216, 204], np.float32)

# Generic depth (towards the camera, in face widths) of the 68 landmarks above the
# plane of the cheeks: the nose turns most with the head, the jaw's edge least.
_DEPTH = np.zeros(68)
_DEPTH[0:17] = 0.22 * np.sin(np.linspace(0, np.pi, 17)) ** 1.5
_DEPTH[17:27] = 0.20
_DEPTH[27:31] = (0.24, 0.30, 0.36, 0.45)
_DEPTH[31:36] = (0.30, 0.34, 0.38, 0.34, 0.30)
_DEPTH[36:48] = 0.17
_DEPTH[[36, 45]] = 0.12
_DEPTH[48:60] = (0.24, 0.29, 0.32, 0.33, 0.32, 0.29, 0.24, 0.29, 0.31, 0.32, 0.31, 0.29)
_DEPTH[60:68] = 0.29


def _box(x0, y0, x1, y1, dims, step=1):
    """Integer box clipped to an image of `dims` (width, height), on a `step` grid."""
    width, height = dims
    x0 = max(0, int(np.floor(x0 / step)) * step)
    y0 = max(0, int(np.floor(y0 / step)) * step)
    x1 = min(width, int(np.ceil(x1 / step)) * step)
    y1 = min(height, int(np.ceil(y1 / step)) * step)
    return x0, y0, x1, y1


class PortraitRig:
    """The warp of one portrait `image` (of any aspect) with its 68 `landmarks`."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray, expression: PhotoExpression | None = None):
        self.image = np.ascontiguousarray(image)
        self.h, self.w = image.shape[:2]
        # The photo's own expression: what its mouth at rest must be (see generation.expression).
        self.expression = expression or read_expression(self.image, landmarks)
        self.kind = self.expression.kind
        self.dims = (self.w, self.h)
        self.lm = landmarks.astype(np.float64)
        lm = self.lm
        self.face_w = float(lm[16, 0] - lm[0, 0])
        self.face_h = float(lm[8, 1] - min(lm[19, 1], lm[24, 1]))
        self.mouth_w = float(np.linalg.norm(lm[54] - lm[48]))
        # lip gap at full opening (pixels); from the face too, so a pursed mouth still opens
        self.max_gap = max(0.38 * self.mouth_w, 0.155 * self.face_w)
        self.sigma = 0.1 * self.face_w
        self.pivot = np.array([lm[8, 0], lm[8, 1] + 0.35 * self.face_h])
        # Region of the frame that can ever change (head mask support), on the coarse grid.
        self.head_mask_full = self._head_mask()
        # (where the mask is under 1 % the head's motion moves pixels by well under a pixel)
        ys, xs = np.nonzero(self.head_mask_full > 1e-2)
        self.roi = _box(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, self.dims, GRID_STEP)
        x0, y0, x1, y1 = self.roi
        # The coarse grid (output coords) reaches one step beyond the ROI on every side, so
        # upsampling it never clamps at the ROI's edges (see render).
        gx = np.arange(x0 - GRID_STEP, x1 + 2 * GRID_STEP, GRID_STEP, dtype=np.float32)
        gy = np.arange(y0 - GRID_STEP, y1 + 2 * GRID_STEP, GRID_STEP, dtype=np.float32)
        self.cgx, self.cgy = np.meshgrid(gx, gy)
        self.cmask = self.head_mask_full[np.clip(self.cgy.astype(int), 0, self.h - 1),
                                         np.clip(self.cgx.astype(int), 0, self.w - 1)]
        ring = self._ring_anchors()
        # Smooth fields live in source coordinates on the whole-image coarse grid,
        # solved together: one kernel matrix for every field and the depth.
        self.n_img = (self.h // GRID_STEP + 1, self.w // GRID_STEP + 1)     # (rows, columns)
        k = len(SMOOTH_FIELDS)
        vals = np.concatenate([self._landmark_displacements(n) for n in SMOOTH_FIELDS]
                              + [(_DEPTH * self.face_w)[:, None]], axis=1)      # (68, 2k + 1)
        solved = self._solve(self.lm, vals, ring)                              # (n, n, 2k + 1)
        self.fields = np.ascontiguousarray(solved[..., :2 * k].reshape(*self.n_img, k, 2)
                                           .transpose(2, 0, 1, 3))             # (k, n, n, 2)
        self.depth = np.ascontiguousarray(solved[..., 2 * k])
        # Pressing the lips together suits a closed photo mouth only: an open one is shut by
        # the "shut" field (below), and a teeth-showing one rests as the photo shows it.
        self.field_gain = np.array([0.0 if n == "closure" and self.kind != CLOSED else 1.0 for n in SMOOTH_FIELDS],
                                   np.float32)
        # The jaw and the cavity.
        # where the photo's upper teeth end (a teeth smile): 1.0 when only the upper row shows
        self.occlusal = occlusal_fraction(self.image, lm) if self.kind == TEETH_SMILE else 0.5
        self.lip_line = self._lip_line()
        self.jaw_box = _box(lm[3, 0], lm[48:55, 1].min() - 0.1 * self.mouth_w, lm[13, 0] + 1,
                            lm[8, 1] + 0.45 * self.face_h, self.dims)
        self.jaw_layer = self._jaw_layer()                               # px down per unit jaw, in jaw_box
        # An open photo mouth is closed at rest by the shut layer (SHUT_LAYER; the lips meet,
        # the lower lip, chin and jaw lifted with their own texture; the older smooth "shut"
        # field bent the chin and raised the identity distance); the jaw opens it from
        # there, by easing the shut off, and tears the face open only past the photo's own
        # opening.
        self.photo_gap = float(np.mean(lm[[67, 66, 65], 1] - lm[[61, 62, 63], 1])) if self.kind == WIDE_OPEN else 0.0
        self.shut_box, self.shut_layer = self._shut_layer() if SHUT_LAYER and self.photo_gap > 0 else (None, None)
        if self.shut_layer is not None:
            self.field_gain[SMOOTH_FIELDS.index("shut")] = 0.0
        self.mouth_box = self._mouth_box()
        self._lip_row = np.ascontiguousarray(self.lip_line[None, :])
        self._corners = (np.float32(lm[48, 0]), np.float32(max(lm[54, 0] - lm[48, 0], 1.0)))
        self._dark, self._edge, self._teeth, self._tongue = self._mouth_palette()
        self.eyes = [self._eye_layers(range(36, 42)), self._eye_layers(range(42, 48))]
        self._identity_frame = self.image.copy()

    # -- set-up ---------------------------------------------------------------------
    def _landmark_displacements(self, name: str) -> np.ndarray:
        """Where the landmarks move (pixels) at a unit amount of `name`."""
        lm, d = self.lm, np.zeros_like(self.lm)
        mw = self.mouth_w
        inner_up, inner_lo = (61, 62, 63), (67, 66, 65)
        outer_up, outer_lo = (49, 50, 51, 52, 53), (59, 58, 57, 56, 55)
        if name == "smile":
            out, up = 0.09 * mw, 0.10 * mw
            d[48] = (-out, -up); d[54] = (out, -up)
            d[60] = (-out * 0.9, -up * 0.9); d[64] = (out * 0.9, -up * 0.9)
            for i, j, w in ((49, 53, 0.5), (59, 55, 0.45), (61, 63, 0.3), (67, 65, 0.3)):
                d[i] = (-out * w, -up * w); d[j] = (out * w, -up * w)
            for i, j in ((3, 13), (4, 12)):
                d[i] = (-0.2 * out, -0.3 * up); d[j] = (0.2 * out, -0.3 * up)
            for i in (41, 40, 47, 46):
                d[i, 1] = -0.15 * up       # cheeks push the lower lids up
        elif name == "brow":
            lift = 0.07 * self.face_h
            for i, w in zip(BROWS, (0.6, 0.9, 1.0, 0.9, 0.7, 0.7, 0.9, 1.0, 0.9, 0.6)):
                d[i, 1] = -lift * w
            for i in L_UPPER_LID + R_UPPER_LID:
                d[i, 1] = -0.15 * lift
        elif name == "spread":           # lips pulled wide and thin (i, e)
            out = 0.08 * mw
            d[48, 0], d[60, 0], d[54, 0], d[64, 0] = -out, -0.9 * out, out, 0.9 * out
            for i, j, w in ((49, 53, 0.6), (59, 55, 0.6), (61, 63, 0.4), (67, 65, 0.4)):
                d[i, 0], d[j, 0] = -out * w, out * w
            for i in outer_up:
                d[i, 1] += 0.02 * mw
            for i in outer_lo:
                d[i, 1] -= 0.02 * mw
        elif name == "round":            # corners in, lips pushed out (o, u, w)
            inw = 0.12 * mw
            d[48, 0], d[60, 0], d[54, 0], d[64, 0] = inw, 0.9 * inw, -inw, -0.9 * inw
            for i, j, w in ((49, 53, 0.5), (59, 55, 0.5), (61, 63, 0.4), (67, 65, 0.4)):
                d[i, 0], d[j, 0] = inw * w, -inw * w
            for i in outer_up:
                d[i, 1] -= 0.03 * mw
            for i in outer_lo:
                d[i, 1] += 0.03 * mw
        elif name == "closure":          # lips pressed together (p, b, m; rest)
            for u, l in zip(inner_up, inner_lo):
                gap = lm[l, 1] - lm[u, 1]
                d[u, 1] = 0.5 * gap
                d[l, 1] = -0.5 * gap
            for i in outer_up:
                d[i, 1] += 0.02 * mw
            for i in outer_lo:
                d[i, 1] -= 0.03 * mw
        elif name == "shut":             # an open photo mouth closed: the lips meet, the jaw comes up
            if self.kind != WIDE_OPEN:
                return d
            gaps = [max(lm[l, 1] - lm[u, 1], 0.0) for u, l in zip(inner_up, inner_lo)]
            # the smooth field delivers about half of a displacement this steep (the fit's
            # regularisation and the approximate inverse): asked for 1.4 times the gap (more
            # folds the lips over each other, which dlib reads as an open mouth)
            gaps = [SHUT_GAIN * g for g in gaps]
            g = float(np.mean(gaps))
            up_share = SHUT_UP_SHARE
            for u, l, gk in zip(inner_up, inner_lo, gaps):
                d[u, 1] = up_share * gk
                d[l, 1] = -(1 - up_share) * gk
            for i, w in zip(outer_up, (0.5, 0.8, 1.0, 0.8, 0.5)):
                d[i, 1] = up_share * g * w
            for i, w in zip(outer_lo, (0.6, 0.9, 1.0, 0.9, 0.6)):
                d[i, 1] = -(1 - up_share) * g * w
            for i, w in zip(range(4, 13), (0.2, 0.4, 0.6, 0.75, 0.8, 0.75, 0.6, 0.4, 0.2)):
                d[i, 1] = -(1 - up_share) * g * w * SHUT_CHIN
        elif name == "tuck":             # lower lip up under the upper teeth (f, v)
            for i in (67, 66, 65):
                d[i, 1] = -0.06 * mw
            for i in outer_lo:
                d[i, 1] = -0.08 * mw
            d[57, 1] = -0.09 * mw
        return d

    def _ring_anchors(self) -> np.ndarray:
        """Fixed points holding the warp to zero away from the face."""
        lm = self.lm
        c = np.array([lm[:, 0].mean(), (lm[8, 1] + lm[19, 1]) / 2])
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        ring = np.stack([c[0] + 0.85 * self.face_w * np.cos(t), c[1] + 0.95 * self.face_h * np.sin(t)], 1)
        sx, sy = self.w - 1, self.h - 1
        ex, ey = np.linspace(0, sx, 6), np.linspace(0, sy, 6)
        border = np.concatenate([np.stack([ex, np.zeros(6)], 1), np.stack([ex, np.full(6, sy)], 1),
                                 np.stack([np.zeros(6), ey], 1), np.stack([np.full(6, sx), ey], 1)])
        return np.concatenate([ring, border])

    def _solve(self, pts: np.ndarray, vals: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        """Gaussian-RBF interpolant through `vals` at `pts` and zero at `anchors`,
        evaluated on the whole image's coarse grid: (n, n, channels) float32."""
        ctrl = np.concatenate([pts, anchors])
        vals = vals.reshape(len(pts), -1)
        vals = np.concatenate([vals, np.zeros((len(anchors), vals.shape[1]))])
        s2 = 2 * self.sigma ** 2

        def kernel(a, b):
            d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
            return np.exp(-np.maximum(d2, 0.0) / s2)

        w = np.linalg.solve(kernel(ctrl, ctrl) + 0.05 * np.eye(len(ctrl)), vals)
        ny, nx = self.n_img
        gx, gy = np.meshgrid(np.arange(nx, dtype=np.float64) * GRID_STEP, np.arange(ny, dtype=np.float64) * GRID_STEP)
        return (kernel(np.stack([gx.ravel(), gy.ravel()], 1), ctrl) @ w).reshape(ny, nx, -1).astype(np.float32)

    def _lip_line(self) -> np.ndarray:
        """The line where the face tears open, extended flat beyond the corners: where the
        lips meet, or, in a photo that shows its teeth, between the upper and lower teeth."""
        lm = self.lm
        pts = [lm[48], (lm[60] + lm[48]) / 2]
        if self.kind == TEETH_SMILE:    # between the upper and the lower teeth (see occlusal_fraction)
            f = self.occlusal
            pts += [lm[u] + f * (lm[l] - lm[u]) for u, l in ((61, 67), (62, 66), (63, 65))]
        else:
            pts += [(lm[u] + lm[l]) / 2 for u, l in ((61, 67), (62, 66), (63, 65))]
        pts += [(lm[64] + lm[54]) / 2, lm[54]]
        pts = np.array(pts)
        xs = np.arange(self.w, dtype=np.float64)
        return np.interp(xs, pts[:, 0], pts[:, 1]).astype(np.float32)

    def _jaw_layer(self) -> np.ndarray:
        """Downward displacement at full opening (pixels) over `jaw_box`, zero above
        the lip line. Along the lip line it follows the lower lip's arc, zero at the
        corners, so the face tears open only between the lips; lower down it blends
        into the chin and jaw, and fades out down the neck."""
        lm, h = self.lm, self.max_gap
        x0, y0, x1, y1 = self.jaw_box
        xs = np.arange(x0, x1, dtype=np.float64)
        ys = np.arange(y0, y1, dtype=np.float64)
        xl, xr = lm[48, 0], lm[54, 0]
        u = np.clip((xs - xl) / max(xr - xl, 1.0), 0.0, 1.0)
        lip = h * np.sin(np.pi * u) ** 0.5
        cx, half = lm[8, 0], max((lm[13, 0] - lm[3, 0]) / 2, 1.0)
        v = np.clip(np.abs(xs - cx) / half, 0.0, 1.0)
        jaw = 0.9 * h * np.cos(0.5 * np.pi * v) ** 2
        contour = np.interp(xs, lm[3:14, 0], lm[3:14, 1])
        lip_bottom = lm[57, 1]
        b = np.clip((ys[:, None] - lip_bottom) / np.maximum(contour - lip_bottom, 1.0)[None, :], 0, 1)
        b = b * b * (3 - 2 * b)
        field = (1 - b) * lip[None, :] + b * jaw[None, :]
        neck = np.clip((ys[:, None] - contour[None, :]) / (0.3 * self.face_h), 0.0, 1.0)
        field *= 1.0 - neck * neck * (3 - 2 * neck)
        below = np.clip(ys[:, None] - self.lip_line[x0:x1][None, :] + 0.5, 0.0, 1.0)
        field = field * below
        # fade to zero at the box's sides so sampling outside it is seamless
        side = np.clip(np.minimum(xs - x0, x1 - 1 - xs) / 4.0, 0, 1)
        return (field * side[None, :]).astype(np.float32)

    def _shut_layer(self):
        """The open photo mouth shut, as a lookup offset (source - output, pixels down) over
        a box from the nose to below the chin: the inner lips meet on a line SHUT_UP_SHARE
        of the way down the opening; above it the upper lip is drawn down (the skin up to
        the nose stretching evenly), below it the lower lip comes up whole, and lower down
        the lift blends into SHUT_CHIN of it at the chin's contour and fades out down the
        neck. The interior between the lips is never looked up."""
        lm = self.lm
        x0, y0, x1, y1 = box = _box(lm[3, 0], lm[33, 1], lm[13, 0] + 1, lm[8, 1] + 0.45 * self.face_h, self.dims)
        xs = np.arange(x0, x1, dtype=np.float64)
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        up, lo = opening_edges(self.image, lm, xs)        # the inner lips, past any teeth touching them
        # dlib's eight inner-lip points make a hexagon, but a wide-open mouth is rounder (often
        # nearly square at the sides): the opening is at least the ellipse through the middle
        # gap and the mouth's corners, or its sides stay open when the middle has shut
        u = np.clip((xs - (lm[48, 0] + lm[54, 0]) / 2) / max((lm[54, 0] - lm[48, 0]) / 2, 1.0), -1.0, 1.0)
        middle = (up + lo) / 2
        half_gap = 0.5 * float(np.mean(lm[[67, 66, 65], 1] - lm[[61, 62, 63], 1])) * np.sqrt(1.0 - u * u)
        up, lo = np.minimum(up, middle - half_gap), np.maximum(lo, middle + half_gap)
        gap = np.maximum(lo - up, 0.0)
        s = SHUT_UP_SHARE
        meet = up + s * gap
        nose = lm[33, 1]
        # Away from the lips the gap's profile is blurred across: the lips need their exact
        # gap to meet, but its steep ends at the mouth's corners, carried up to the nose and
        # down to the chin, sheared the skin there into a visible seam.
        k = int(0.25 * self.mouth_w) | 1
        soft = cv2.GaussianBlur(gap.reshape(1, -1).astype(np.float32), (k, 1), 0).ravel().astype(np.float64)
        t_up = np.clip((ys - nose) / np.maximum(meet - nose, 1.0), 0.0, 1.0)
        above = -s * (t_up * gap + (1 - t_up) * soft) * t_up
        cx, half = lm[8, 0], max((lm[13, 0] - lm[3, 0]) / 2, 1.0)
        v = np.clip(np.abs(xs - cx) / half, 0.0, 1.0)
        # the chin lifts whole (like the mandible it is), the lift easing off only towards the
        # jaw's angles: a lift that peaked at the middle bent the chin's contour into a W
        flat = np.clip((v - SHUT_FLAT) / (1.0 - SHUT_FLAT), 0.0, 1.0)
        jaw = SHUT_CHIN * (1 - s) * self.photo_gap * np.cos(0.5 * np.pi * flat) ** 2
        contour = np.interp(xs, lm[3:14, 0], lm[3:14, 1])
        # from the lower lip's outer edge down (per column: beside the corners that is skin at
        # the lips' height, which must not be sheared against the lip it borders)
        lip_bottom = np.maximum(np.interp(xs, lm[[48, 59, 58, 57, 56, 55, 54], 0], lm[[48, 59, 58, 57, 56, 55, 54], 1]),
                                meet + 1.0)
        b = np.clip((ys - lip_bottom) / np.maximum(contour - lip_bottom, 1.0), 0, 1)
        b = b * b * (3 - 2 * b)
        below = (1 - b) * (1 - s) * ((1 - b) * gap + b * soft) + b * jaw
        neck = np.clip((ys - contour) / (SHUT_NECK * self.face_h), 0.0, 1.0)
        below *= 1.0 - neck * neck * (3 - 2 * neck)
        layer = np.where(ys < meet, above, below)
        side = np.clip(np.minimum(xs - x0, x1 - 1 - xs) / 4.0, 0, 1)
        return box, (layer * side).astype(np.float32)

    def _apply_shut(self, mx, my, amount: float) -> None:
        sub = self._sub(self.shut_box, mx, my, 4)
        if sub is None:
            return
        bx0, by0 = self.shut_box[:2]
        off = cv2.remap(self.shut_layer, mx[sub] - bx0, my[sub] - by0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        my[sub] += np.float32(amount) * off

    def _mouth_palette(self):
        """Cavity, teeth and tongue colours from the photo: the cavity and the tongue are its
        lips' own colour in shadow (grey lips give a grey mouth in a black-and-white photo),
        the teeth are lit like the face so they do not glow in a dim photo."""
        lm = self.lm
        x0, x1 = int(lm[31, 0]), int(lm[35, 0]) + 1
        y0, y1 = int(lm[29, 1]), int(lm[33, 1]) + 1
        skin = self.image[max(y0, 0):max(y1, y0 + 1), max(x0, 0):max(x1, x0 + 1)].reshape(-1, 3).astype(np.float32)
        mean = skin.mean(axis=0) if len(skin) else np.array([170, 130, 110], np.float32)
        light = float(np.clip(mean.mean() / 160.0, 0.55, 1.15))
        lips = self._lip_colour()
        sample = self.image[::7, ::7]
        gray = float(np.abs(sample.astype(np.int16) - sample.mean(axis=2, keepdims=True)).mean()) < 2.5
        if lips is None:
            lips = np.array([150, 80, 80], np.float32) * light
        # the lips' hue, a little redder inside (mucosa), in ever deeper shadow
        inner = lips * np.float32([1.1, 0.78, 0.8])
        # (real open mouths, measured: about as light as two thirds of the face, and red)
        teeth = self._photo_teeth()
        if teeth is None:   # white a little warmed by the face's light, lit like the face
            teeth = (0.85 * TEETH + 0.15 * mean * (TEETH.mean() / max(float(mean.mean()), 1.0))) * min(light, 1.08)
        colours = [inner * 0.12 + np.float32([3, 0, 1]), inner * 0.42, teeth,
                   inner * 1.0 + np.float32([22, 6, 10])]
        if gray:
            colours = [np.full(3, c.mean(), np.float32) for c in colours]
        return [np.clip(np.asarray(c, np.float32), 0, 255) for c in colours]

    def _photo_teeth(self) -> np.ndarray | None:
        """The colour of the person's own teeth where the photo shows them (the lighter
        half of its teeth pixels: the shaded ones are painted darker anyway), or None."""
        if self.kind != TEETH_SMILE:
            return None
        teeth, (x0, y0, x1, y1) = teeth_mask(self.image, self.lm)
        px = self.image[y0:y1, x0:x1][teeth].astype(np.float32)
        if len(px) < 20:
            return None
        luma = px @ np.float32([0.299, 0.587, 0.114])
        return np.median(px[luma >= np.median(luma)], axis=0)

    def _lip_colour(self) -> np.ndarray | None:
        """Median colour of the lips (between their outer and inner edges), or None."""
        lm = self.lm
        x0, y0 = int(max(lm[48:60, 0].min(), 0)), int(max(lm[48:60, 1].min(), 0))
        x1, y1 = int(min(lm[48:60, 0].max() + 1, self.w)), int(min(lm[48:60, 1].max() + 1, self.h))
        if x1 - x0 < 3 or y1 - y0 < 3:
            return None
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round(lm[48:60] - [x0, y0]).astype(np.int32)], 1)
        cv2.fillPoly(mask, [np.round(lm[60:68] - [x0, y0]).astype(np.int32)], 0)
        px = self.image[y0:y1, x0:x1][mask > 0].astype(np.float32)
        return np.median(px, axis=0) if len(px) >= 10 else None

    def _mouth_box(self) -> tuple[int, int, int, int]:
        lm = self.lm
        return _box(lm[48, 0] - 0.1 * self.mouth_w, min(lm[50, 1], lm[52, 1]) - 0.1 * self.mouth_w,
                    lm[54, 0] + 0.1 * self.mouth_w, lm[57, 1] + self.max_gap * 1.3, self.dims)

    def _head_mask(self) -> np.ndarray:
        lm = self.lm
        mask = np.zeros((self.h, self.w), np.float32)
        cx, cy = float(lm[:, 0].mean()), float(lm[27, 1])
        axes = (int(0.85 * self.face_w), int(1.25 * self.face_h))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, 0, 0, 360, 1.0, -1)
        neck_w = int(0.32 * self.face_w)
        neck_end = min(self.h, int(lm[8, 1] + self.face_h))     # the neck, down to a face's height below the chin
        cv2.rectangle(mask, (int(lm[8, 0]) - neck_w, int(lm[8, 1])), (int(lm[8, 0]) + neck_w, neck_end), 0.6, -1)
        k = int(0.35 * self.face_w) | 1
        return cv2.GaussianBlur(mask, (k, k), 0)

    def _eye_layers(self, idx) -> dict:
        """Per eye, over a box around it: lookup offsets (dy) for BLINK_LEVELS lid
        closures, and unit iris shifts for gaze x and y (inside the eye opening only)."""
        pts = self.lm[list(idx)]
        ew = float(pts[3, 0] - pts[0, 0])
        eh = max(float(((pts[5, 1] + pts[4, 1]) - (pts[1, 1] + pts[2, 1])) / 2), 1.0)
        x0, y0, x1, y1 = _box(pts[0, 0] - 0.25 * ew, pts[:, 1].min() - 1.6 * ew / 2.2,
                              pts[3, 0] + 0.25 * ew, pts[:, 1].max() + 0.35 * ew, self.dims)
        xs = np.arange(x0, x1, dtype=np.float64)
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        up = np.interp(xs, pts[[0, 1, 2, 3], 0], pts[[0, 1, 2, 3], 1])[None, :]
        lo = np.interp(xs, pts[[0, 5, 4, 3], 0], pts[[0, 5, 4, 3], 1])[None, :]
        u = np.clip((xs - pts[0, 0]) / max(ew, 1.0), 0, 1)[None, :]
        along = np.clip(1.4 * np.sin(np.pi * u) ** 0.5, 0, 1)   # full closure across, none at the corners
        top = up - 0.9 * eh - 0.3 * ew                   # lid skin above the eye that stretches down
        lash = max(2.0, 0.25 * eh)                       # the lash line moves intact
        side = np.clip(np.minimum(xs - x0, x1 - 1 - xs)[None, :] / 3.0, 0, 1)
        levels = []
        for c in np.linspace(0, 1, BLINK_LEVELS):
            new_up = up + c * along * (lo - up) * LID_MEET
            src = ys.copy()
            band = (ys >= new_up - lash) & (ys < new_up)
            src = np.where(band, ys - new_up + up, src)
            skin = (ys >= top) & (ys < new_up - lash)
            scale = (up - lash - top) / np.maximum(new_up - lash - top, 1e-3)
            src = np.where(skin, top + (ys - top) * scale, src)
            levels.append(((src - ys) * side).astype(np.float32))
        # colours for painting the lid: the lighter half (a closed lid catches the light; the
        # crease shadow and stray lashes are darker) of the skin between the lashes and the
        # brow and of the skin under the eye, half and half, smoothed along the eye and drawn
        # towards the eye's mean so it reads as one lid
        img = self.image.astype(np.float32)
        cols = np.clip(xs.astype(int), 0, self.w - 1)
        span = np.linspace(0.0, 1.0, 10)[:, None]
        rows = np.clip((up[0] - lash - 0.15 * eh - span * (0.6 * eh + 0.25 * ew)).astype(int), 0, self.h - 1)
        skin = np.stack([img[r, cols] for r in rows])                                    # (10, w, 3)
        luma = skin @ np.float32([0.299, 0.587, 0.114])
        keep = luma >= np.median(luma, axis=0, keepdims=True)
        lid_rgb = (skin * keep[..., None]).sum(0) / np.maximum(keep.sum(0), 1)[:, None]    # (w, 3)
        rows = np.clip((lo[0] + 0.25 * eh + span * (0.25 * ew)).astype(int), 0, self.h - 1)
        under = np.stack([img[r, cols] for r in rows])
        luma = under @ np.float32([0.299, 0.587, 0.114])
        keep = luma >= np.median(luma, axis=0, keepdims=True)
        lid_rgb = 0.5 * lid_rgb + 0.5 * (under * keep[..., None]).sum(0) / np.maximum(keep.sum(0), 1)[:, None]
        lid_rgb = cv2.GaussianBlur(lid_rgb[:, None, :], (1, 21), 0)[:, 0, :]
        lid_rgb = 0.5 * lid_rgb + 0.5 * lid_rgb[len(lid_rgb) // 4: -len(lid_rgb) // 4 or None].mean(0)
        lash_rgb = np.percentile(np.concatenate([img[np.clip((up[0] - k).astype(int), 0, self.h - 1), cols]
                                                 for k in range(0, 3)]), 5, axis=0)
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(inside, [np.round(pts - [x0, y0]).astype(np.int32)], 1)
        inside = cv2.GaussianBlur(inside.astype(np.float32), (3, 3), 0)
        return {"box": (x0, y0, x1, y1), "blink": np.stack(levels), "up": up[0].astype(np.float32),
                "lo": lo[0].astype(np.float32),
                "along": along[0].astype(np.float32), "lash": np.float32(lash), "thin": np.float32(max(1.2, 0.12 * eh)),
                "top": top[0].astype(np.float32),
                "skin_gap": np.float32(lash + 0.15 * eh),
                "lid_rgb": lid_rgb.astype(np.float32), "lash_rgb": lash_rgb.astype(np.float32),
                "gx": (-0.3 * ew * inside).astype(np.float32), "gy": (0.30 * eh * inside).astype(np.float32)}

    # -- per frame ------------------------------------------------------------------
    def _coarse_lookup(self, p: dict[str, float]) -> np.ndarray:
        """Source positions on the coarse grid, plus UPSAMPLE_SHIFT: (ny, nx, 2)."""
        gx, gy = self.cgx, self.cgy
        head = any(p[k] for k in ("yaw", "pitch", "roll", "tx", "ty")) or p["scale"] != 1.0
        if head:
            m = cv2.getRotationMatrix2D((float(self.pivot[0]), float(self.pivot[1])), -p["roll"], p["scale"])
            yaw, pitch = np.radians(p["yaw"]), np.radians(p["pitch"])
            m[0, 2] += np.sin(yaw) * 0.25 * self.face_w + p["tx"] * self.face_w
            m[1, 2] += np.sin(pitch) * 0.2 * self.face_h + p["ty"] * self.face_w
            inv = cv2.invertAffineTransform(m).astype(np.float32)
            hx = inv[0, 0] * gx + inv[0, 1] * gy + inv[0, 2]
            hy = inv[1, 0] * gx + inv[1, 1] * gy + inv[1, 2]
            d = cv2.remap(self.depth, hx / GRID_STEP, hy / GRID_STEP, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            hx -= d * np.float32(np.sin(yaw))
            hy -= d * np.float32(np.sin(pitch))
            qx = self.cmask * hx + (1 - self.cmask) * gx
            qy = self.cmask * hy + (1 - self.cmask) * gy
        else:
            qx, qy = gx, gy
        w = np.array([p.get(k, 0.0) for k in SMOOTH_FIELDS], np.float32) * self.field_gain
        if self.photo_gap > 0:      # the photo's open mouth shut at rest, eased open by the jaw
            w[-1] = self._shut_amount(p["jaw"]) * self.field_gain[-1]
        if w.any():
            used = np.flatnonzero(w)
            f = np.tensordot(w[used], self.fields[used], axes=1)          # (n, n, 2)
            f = cv2.remap(f, qx / GRID_STEP, qy / GRID_STEP, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            qx, qy = qx - f[..., 0], qy - f[..., 1]
        return np.dstack([qx + UPSAMPLE_SHIFT, qy + UPSAMPLE_SHIFT])

    def render(self, p: dict[str, float], out: np.ndarray | None = None) -> np.ndarray:
        """One RGB frame for the motion parameters `p` (see motion.MotionTrack.frame);
        missing parameters take their neutral values. With `out` (an array, or a view
        into a larger frame, that already holds this rig's image) only the changing
        region is written into it."""
        p = {**PARAMS, **p}
        x0, y0, x1, y1 = self.roi
        # The source position of every ROI pixel, upsampled from the coarse grid as is: the
        # grid starts a step before the ROI, and the shift undoes resize's half-pixel centres.
        coarse = self._coarse_lookup(p)
        up = cv2.resize(coarse, (coarse.shape[1] * GRID_STEP, coarse.shape[0] * GRID_STEP),
                        interpolation=cv2.INTER_LINEAR)[GRID_STEP: GRID_STEP + y1 - y0, GRID_STEP: GRID_STEP + x1 - x0]
        mx, my = up[..., 0], up[..., 1]
        lids = [self._sub(eye["box"], mx, my, self._margin(p)) for eye in self.eyes] if p["blink"] > 0.02 else []
        lids = [(eye, sub, mx[sub].copy(), my[sub].copy()) for eye, sub in zip(self.eyes, lids) if sub is not None]
        for eye in self.eyes:
            self._apply_eye(eye, mx, my, p)
        if self.shut_layer is not None:
            shut = self._shut_amount(p["jaw"])
            if shut > 0:
                self._apply_shut(mx, my, shut)
        hx, hy = None, None
        jaw = p["jaw"] if self.photo_gap <= 0 else max(0.0, p["jaw"] - self.photo_gap / self.max_gap)
        if jaw > 0.02:
            hx, hy = self._apply_jaw(mx, my, jaw)
        if out is None:
            out = self.image.copy()
        # (fixed-point maps: the conversion and the remap take a quarter less than a remap
        # with float maps, which converts them block by block itself)
        fixed, frac = cv2.convertMaps(up, None, cv2.CV_16SC2)
        roi = cv2.remap(self.image, fixed, frac, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        if hx is not None:
            self._paint_cavity(roi, hx, hy, {**p, "jaw": jaw})
        for eye, sub, sx, sy in lids:
            self._paint_lid(roi, eye, sub, sx, sy, float(np.clip(p["blink"], 0, 1)))
        out[y0:y1, x0:x1] = roi
        return out

    def _shut_amount(self, jaw: float) -> float:
        """How far an open photo mouth is shut: fully at rest, eased off by the jaw one and a
        half times as fast as the gap it shuts (the smooth field delivers its shut in a
        steep part, and the mouth must open as far as others)."""
        return float(np.clip(1.0 - 1.5 * jaw * self.max_gap / self.photo_gap, 0.0, 1.0))

    def _sub(self, box, mx, my, margin):
        """The part of the ROI maps whose lookups may fall in `box` (source coords)."""
        x0, y0, x1, y1 = self.roi
        bx0, by0, bx1, by1 = box
        sx0, sy0 = max(bx0 - margin - x0, 0), max(by0 - margin - y0, 0)
        sx1, sy1 = min(bx1 + margin - x0, x1 - x0), min(by1 + margin - y0, y1 - y0)
        if sx1 <= sx0 or sy1 <= sy0:
            return None
        return slice(sy0, sy1), slice(sx0, sx1)

    def _margin(self, p) -> int:
        return int(4 + self.face_w * (0.05 * (abs(p["yaw"]) + abs(p["pitch"]) + abs(p["roll"])) / 3
                                      + abs(p["tx"]) + abs(p["ty"]) + abs(p["scale"] - 1) * 2))

    def _apply_eye(self, eye, mx, my, p) -> None:
        blink, gx, gy = p["blink"], p["gaze_x"], p["gaze_y"]
        if blink <= 1e-3 and not gx and not gy:
            return
        sub = self._sub(eye["box"], mx, my, self._margin(p))
        if sub is None:
            return
        bx0, by0, _, _ = eye["box"]
        k = float(np.clip(blink, 0, 1)) * (BLINK_LEVELS - 1)
        i = min(int(k), BLINK_LEVELS - 2)
        t = k - i
        dy = (1 - t) * eye["blink"][i] + t * eye["blink"][i + 1] + gy * eye["gy"]
        layer = np.dstack([gx * eye["gx"], dy])
        sx, sy = mx[sub] - bx0, my[sub] - by0
        off = cv2.remap(layer, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        mx[sub] += off[..., 0]
        my[sub] += off[..., 1]

    def _paint_lid(self, roi, eye, sub, sx, sy, c) -> None:
        """The upper lid coming down over the eye: lid-coloured skin from the lash line
        to the lid's new edge, then the lashes as a dark line along that edge; late in the
        blink the lower lid rises to meet it (painted with the same lid skin). A shut
        lid is stretched smooth: the paint fades in from the top of the lid skin, so the
        crease and any hooding flatten out (dlib, like a person, then reads one closed
        line instead of a crease and a lash line framing an eye). Painted where each
        output pixel looks up, so it follows the head."""
        bx0 = eye["box"][0]
        w = len(eye["up"])
        col = np.clip(np.rint(sx - bx0).astype(np.int32), 0, w - 1)
        up, lo, along = eye["up"][col], eye["lo"][col], eye["along"][col]
        shut = np.float32(c) * along
        new_up = up + shut * (lo - up) * np.float32(LID_MEET)
        # opaque once the lid is well down: at the peak of a blink nothing of the eye shows
        cover = np.clip(shut * 1.6, 0, 1)
        # the lower lid rising late in the blink, to meet the upper one
        rise = np.float32(1 - LID_MEET) * (lo - up) * shut ** 2
        lower = np.clip(sy - (lo - rise) + 0.5, 0, 1) * np.clip(lo + 1.0 - sy, 0, 1) * cover * (rise > 0.3)
        # fading in from the top of the lid skin: a shut lid is smooth, its crease flattens out
        top = eye["top"][col]
        fade = np.clip((sy - top) / np.maximum(up - eye["lash"] - top, 1.0), 0, 1)
        alpha = np.maximum(fade * np.clip(new_up - 0.5 * eye["thin"] - sy + 0.5, 0, 1) * cover, lower)
        if not alpha.any():
            return
        depth = np.clip((sy - up) / np.maximum(new_up - up, 1.0), 0, 1)[..., None]
        scale = (up - eye["lash"] - top) / np.maximum(new_up - eye["lash"] - top, 1e-3)
        src_y = np.minimum(top + (sy - top) * scale, up - eye["skin_gap"])
        tex = cv2.remap(self.image, sx, src_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        # the lid: its smooth colour with the fine texture (pores, not the crease's shading) of
        # the photo's upper-lid skin stretched down over the eye, as the warp above does
        tex = tex.astype(np.float32)
        lid = (eye["lid_rgb"][col] + 0.6 * (tex - cv2.GaussianBlur(tex, (0, 0), 2.0))) * (1.0 - 0.05 * depth)
        region = roi[sub].astype(np.float32)
        a = alpha[..., None]
        region = region * (1 - a) + lid * a
        thin = eye["thin"] * (1.0 + SHUT_LASH_WIDTH * np.clip(shut, 0, 1))      # both lids' lashes together
        line = np.clip(1.0 - np.abs(sy - (new_up - 0.5 * thin)) / thin, 0, 1) * np.clip(shut * 2.0 - 0.2, 0, 0.95)
        region = region * (1 - line[..., None]) + eye["lash_rgb"] * SHUT_LASH_SHADE * line[..., None]
        roi[sub] = np.clip(region, 0, 255).astype(np.uint8)

    def _apply_jaw(self, mx, my, jaw):
        sub = self._sub(self.jaw_box, mx, my, 4)
        bx0, by0, _, _ = self.jaw_box
        hx, hy = mx[sub].copy(), my[sub].copy()       # head-local position before the jaw moves
        drop = cv2.remap(self.jaw_layer, hx - bx0, hy - by0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        my[sub] -= np.float32(jaw) * drop
        return (sub, hx), hy

    def _paint_cavity(self, roi: np.ndarray, hsub, hy_all, p: dict[str, float]) -> None:
        """Fill the tear between the lips (below the upper lip, above the moved lower lip)
        with a mouth's interior, in head-local coordinates so it moves with the head and
        holds still from frame to frame: upper teeth as separate incisors, laterals,
        canines and premolars, shaded darker towards the corners and under the lip, the
        tips of the lower teeth showing above the lower lip, a tongue that rises for
        spread vowels and drops as the jaw opens, and the shadow deepening into the
        throat; coloured from the photo's lips and lit like its face. A photo that shows
        its own teeth keeps them: the tear then opens between them, and only what lies
        behind the teeth (the cavity, the tongue) is painted."""
        sub, hx_all = hsub
        x0, y0, x1, y1 = self.roi
        mx0, my0, mx1, my1 = self.mouth_box
        # the mouth box in ROI coordinates, widened for head motion, clipped to the jaw sub-box
        m = self._margin(p)
        ry0, ry1 = max(my0 - m - y0, sub[0].start), min(my1 + m - y0, sub[0].stop)
        rx0, rx1 = max(mx0 - m - x0, sub[1].start), min(mx1 + m - x0, sub[1].stop)
        if ry1 <= ry0 or rx1 <= rx0:
            return
        iy = slice(ry0 - sub[0].start, ry1 - sub[0].start)
        ix = slice(rx0 - sub[1].start, rx1 - sub[1].start)
        bx, by = hx_all[iy, ix], hy_all[iy, ix]
        jx0, jy0 = self.jaw_box[:2]
        zeros = np.zeros_like(bx)
        line = cv2.remap(self._lip_row, bx, zeros, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # the drop just under the tear, sampled where both rows of the bilinear lookup are
        # wholly below the line: a row cut by the line would make the drop (and the tear's
        # lower edge and every shade measured down from the lip) jump from column to column
        drop = cv2.remap(self.jaw_layer, bx - jx0, line + (1.5 - jy0), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)
        drop *= np.float32(p["jaw"])
        below_top = by - line
        above_bottom = line - (by - drop)
        alpha = np.clip(np.minimum(below_top, above_bottom) + 0.5, 0.0, 1.0) * np.clip(drop - 0.5, 0.0, 1.0)
        rows = np.flatnonzero(alpha.max(axis=1) > 0)
        cols = np.flatnonzero(alpha.max(axis=0) > 0)
        if not len(rows):
            return
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        alpha, below_top, drop = alpha[r0:r1, c0:c1], below_top[r0:r1, c0:c1], drop[r0:r1, c0:c1]
        ry0, ry1, rx0, rx1 = ry0 + r0, ry0 + r1, rx0 + c0, rx0 + c1
        bxs = bx[r0:r1, c0:c1]
        cavity = self._interior(bxs, below_top, np.maximum(drop, 1e-3), p)
        region = roi[ry0:ry1, rx0:rx1].astype(np.float32)
        a = alpha[..., None]
        roi[ry0:ry1, rx0:rx1] = np.clip(region * (1 - a) + cavity * a, 0, 255).astype(np.uint8)

    def _interior(self, bx: np.ndarray, below_top: np.ndarray, gap: np.ndarray, p: dict[str, float]) -> np.ndarray:
        """RGB of the mouth's interior at head-local x `bx`, `below_top` pixels under the
        upper lip, in a tear `gap` pixels tall."""
        mw = self._corners[1]
        u = (bx - self._corners[0]) / mw                      # 0 and 1 at the mouth's corners
        c = np.abs(u - 0.5)                                   # 0 at the middle
        t = np.clip(below_top / gap, 0.0, 1.0)                # 0 at the upper lip, 1 at the lower lip
        # the cavity: the lips' colour in shadow, deepening into the throat (centre, upper middle)
        throat = np.exp(-((c / 0.28) ** 2 + ((t - 0.42) / 0.45) ** 2))
        cavity = self._edge + (self._dark - self._edge) * throat[..., None]
        # the tongue: a dome whose top rises for spread vowels and drops as the jaw opens
        top = (0.42 - 0.2 * p["spread"] + 0.12 * p["round"] + 0.1 * p["jaw"]) + 0.5 * (2 * c) ** 2
        tongue = np.clip((t - top) * gap / 2.0, 0.0, 1.0) * np.clip(gap / (0.15 * self.max_gap) - 0.5, 0, 1)
        tongue *= np.clip((0.47 - c) / 0.05, 0.0, 1.0)
        lit = np.clip(1.0 - (t - top) * 1.4, 0.55, 1.0) * (1.0 - 0.8 * c)      # lit on top, darker to the sides
        cavity = cavity * (1 - tongue[..., None]) + (self._tongue * lit[..., None]) * tongue[..., None]
        if self.kind == TEETH_SMILE and self.occlusal < 0.95:   # its own lower teeth go down with the jaw
            return cavity
        k = np.searchsorted(_TOOTH_EDGES, c).clip(1, len(_TOOTH_EDGES) - 1)
        lo, hi = _TOOTH_EDGES[k - 1], _TOOTH_EDGES[k]
        f = (c - lo) / (hi - lo)                              # 0..1 across one tooth
        width_px = (hi - lo) * mw
        seam = np.clip(np.minimum(f, 1 - f) * width_px / 1.1, 0.0, 1.0)       # the dark line between two teeth
        across = np.clip(1.0 - 0.65 * (2 * c) ** 1.6, 0.0, 1.0)        # darker towards the corners, deeper in
        if self.kind != TEETH_SMILE:     # a teeth smile keeps its own upper teeth
            cavity = self._upper_teeth(cavity, c, f, k, seam, across, below_top, gap, mw)
        # lower teeth (a teeth smile that shows only its upper row has them behind the lower lip
        # too): the incisors' and canines' tips over the lower lip, shorter towards the sides
        # where the lip covers them, in shadow, once the mouth is open
        side = np.clip(1.0 - (c / 0.3) ** 2, 0.0, 1.0)
        low_len = np.minimum(np.float32(0.065) * mw, 0.25 * gap) * side ** 0.5 * (1.0 - 0.15 * np.abs(2 * f - 1) ** 2)
        lower = (np.clip((below_top - (gap - low_len)) / 1.2, 0.0, 1.0) * np.clip(low_len - 0.8, 0.0, 1.0)
                 * np.clip(gap / (0.3 * self.max_gap) - 0.3, 0.0, 1.0))
        tip = np.clip((below_top - (gap - low_len)) / np.maximum(low_len, 1.0), 0.0, 1.0)  # 0 at the tip
        low_tooth = self._teeth * ((0.68 + 0.17 * (1 - tip)) * (0.8 + 0.2 * seam) * across)[..., None]
        return cavity * (1 - lower[..., None]) + low_tooth * lower[..., None]

    def _upper_teeth(self, cavity, c, f, k, seam, across, below_top, gap, mw):
        """The painted upper teeth over `cavity`: each its own width and length, rounded
        corners, seams, the lip's shadow at the top."""
        # upper teeth: incisors, laterals, canines, premolars, each its own width and length
        show = np.minimum(np.float32(0.11) * mw, 0.55 * gap)  # how much of the upper teeth the lip uncovers
        length = show * _TOOTH_LENGTH[k - 1] * (1.0 - 0.35 * np.abs(2 * f - 1) ** 4)   # rounded corners
        upper = (np.clip((length - below_top) / 1.2 + 0.5, 0.0, 1.0) * np.clip(gap / 2.5 - 0.4, 0.0, 1.0)
                 * np.clip((0.45 - c) / 0.04, 0.0, 1.0))        # the mouth's dark corners (buccal corridors)
        down = 0.86 + 0.14 * np.clip(below_top / np.maximum(length, 1.0), 0.0, 1.0)  # the lip's shadow at the top
        tooth = self._teeth * ((0.8 + 0.2 * seam) * across * down)[..., None]
        return cavity * (1 - upper[..., None]) + tooth * upper[..., None]


# Edges of the upper teeth from the middle of the mouth (fractions of the mouth's width) and
# their relative lengths: central incisors, laterals, canines, two premolars, a molar.
_TOOTH_EDGES = np.array([0.0, 0.105, 0.19, 0.265, 0.33, 0.39, 0.45, 0.6], np.float32)
_TOOTH_LENGTH = np.array([1.0, 0.86, 0.95, 0.8, 0.75, 0.7, 0.6], np.float32)


class FramedRig:
    """A rig for a frame of any aspect. A square frame is animated whole, as always; in
    any other the warp runs only on a crop around the head (the support of the head's
    mask, where anything can move), and each frame is that animated crop composited
    onto the static frame, so the per-frame cost grows with the face, not with the
    frame. Exposes `render(p)` like PortraitRig."""

    MARGIN = 8   # pixels of static frame kept around the head's mask inside the crop

    def __init__(self, image: np.ndarray, landmarks: np.ndarray):
        self.image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        lm = np.asarray(landmarks, np.float64)
        if h == w:
            self.box = (0, 0, w, h)
        else:
            face_w = float(lm[16, 0] - lm[0, 0])
            face_h = float(lm[8, 1] - min(lm[19, 1], lm[24, 1]))
            blur = 0.5 * (int(0.35 * face_w) | 1) + self.MARGIN      # see PortraitRig._head_mask
            cx, cy = float(lm[:, 0].mean()), float(lm[27, 1])
            self.box = _box(cx - 0.85 * face_w - blur, cy - 1.25 * face_h - blur, cx + 0.85 * face_w + blur,
                            max(cy + 1.25 * face_h, lm[8, 1] + face_h) + blur, (w, h))
        x0, y0, x1, y1 = self.box
        self.rig = PortraitRig(self.image[y0:y1, x0:x1], (lm - [x0, y0]).astype(np.float32))
        self.whole = self.box == (0, 0, w, h)

    @property
    def mouth_box(self) -> tuple[int, int, int, int]:
        x0, y0 = self.box[:2]
        a, b, c, d = self.rig.mouth_box
        return a + x0, b + y0, c + x0, d + y0

    def render(self, p: dict[str, float]) -> np.ndarray:
        if self.whole:
            return self.rig.render(p)
        out = self.image.copy()
        x0, y0, x1, y1 = self.box
        self.rig.render(p, out=out[y0:y1, x0:x1])
        return out
