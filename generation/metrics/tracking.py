"""Landmarks per video frame: decode with PyAV, detect with dlib's HOG on a small copy
(the CNN when HOG sees nothing, as the product does), fit the 68 landmarks at full size."""
from __future__ import annotations

from dataclasses import dataclass, field

import av
import cv2
import dlib
import numpy as np

from ..face import CNN_MIN_CONFIDENCE, FaceAnalysis, FaceBox, _lock, _model

DETECT_SIDE = 320


@dataclass
class FaceTrack:
    fps: float
    step: int                                   # every `step`-th frame was measured
    times: np.ndarray                           # seconds of each measured frame
    landmarks: np.ndarray                       # (n, 68, 2), NaN where no face was found
    found: np.ndarray                           # bool per measured frame
    frames_total: int
    samples: list = field(default_factory=list)  # a few (rgb, FaceAnalysis) for identity checks
    frames_with_face: int | None = None         # of all frames, when every frame was searched
    eyes: np.ndarray | None = None              # eye aspect ratio on every frame, when asked (NaN: no face)

    @property
    def sample_fps(self) -> float:
        return self.fps / self.step


def _detect(rgb: np.ndarray):
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    with _lock:
        rects, scores, _ = _model("hog").run(np.ascontiguousarray(small), 0, -0.2)
        if not len(rects):
            rects, scores, _ = _model("hog").run(np.ascontiguousarray(small), 1, -0.2)
    if not len(rects):
        # the product's own fallback (see generation.face.detect_faces): the CNN
        with _lock:
            dets = _model("cnn")(np.ascontiguousarray(small), 0)
        rects = [d.rect for d in dets if d.confidence >= CNN_MIN_CONFIDENCE]
        scores = [d.confidence for d in dets if d.confidence >= CNN_MIN_CONFIDENCE]
        if not rects:
            return None
    i = int(np.argmax([r.width() * r.height() for r in rects]))
    r = rects[i]
    return FaceBox(r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale, float(scores[i]))


def _shape(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    rect = dlib.rectangle(int(box.left), int(box.top), int(box.right), int(box.bottom))
    with _lock:
        shape = _model("shape")(np.ascontiguousarray(rgb), rect)
    return np.array([[p.x, p.y] for p in shape.parts()], np.float32)


def track_faces(path, *, step: int = 2, max_seconds: float | None = None, keep_samples: int = 6,
                size: int | None = None, every_frame_face: bool = False,
                eyes_every_frame: bool = False) -> FaceTrack:
    """Landmarks on every `step`-th frame of the video at `path` (optionally scaled so
    its shorter side is `size`, to compare videos of different resolutions). With
    `every_frame_face`, the frames in between are searched for a face too (counted in
    `frames_with_face`), so that "a face in every frame" is measured, not sampled.
    With `eyes_every_frame`, the eyes are measured on every frame (`eyes`): a blink
    lasts 100-400 ms, two to five samples at 12.5 Hz, too few to tell from the
    landmarks' trembling."""
    times, lms, found, samples, eyes = [], [], [], [], []
    with_face = 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        fps = float(stream.average_rate or 25)
        total = 0
        for i, frame in enumerate(c.decode(stream)):
            t = float(frame.time) if frame.time is not None else i / fps
            if max_seconds is not None and t >= max_seconds:
                break
            total += 1
            if i % step and not (every_frame_face or eyes_every_frame):
                continue
            rgb = frame.to_ndarray(format="rgb24")
            if size is not None and min(rgb.shape[:2]) != size:
                s = size / min(rgb.shape[:2])
                rgb = cv2.resize(rgb, (round(rgb.shape[1] * s), round(rgb.shape[0] * s)), interpolation=cv2.INTER_AREA)
            box = _detect(rgb)
            with_face += box is not None
            if i % step:
                if eyes_every_frame:
                    eyes.append(eye_aspect_ratio(_shape(rgb, box)) if box is not None else np.nan)
                continue
            times.append(t)
            if box is None:
                lms.append(np.full((68, 2), np.nan, np.float32))
                found.append(False)
                if eyes_every_frame:
                    eyes.append(np.nan)
                continue
            lm = _shape(rgb, box)
            if eyes_every_frame:
                eyes.append(eye_aspect_ratio(lm))
            lms.append(lm)
            found.append(True)
            if (len(times) - 1) % max(1, int(round(fps / step))) == 0:     # about one a second
                samples.append((rgb, FaceAnalysis(box=box, landmarks=lm)))
    if keep_samples and samples:
        idx = np.linspace(0, len(samples) - 1, min(keep_samples, len(samples))).round().astype(int)
        samples = [samples[j] for j in sorted(set(idx))]
    else:
        samples = []
    return FaceTrack(fps=fps, step=step, times=np.array(times), landmarks=np.array(lms).reshape(-1, 68, 2),
                     found=np.array(found, bool), frames_total=total, samples=samples,
                     frames_with_face=with_face if every_frame_face else None,
                     eyes=np.array(eyes, np.float64) if eyes_every_frame else None)


def eye_aspect_ratio(lm: np.ndarray) -> np.ndarray:
    """Lid gap over eye width, both eyes averaged, for landmarks of shape (..., 68, 2)."""
    def ear(a):
        p = lm[..., a, :]
        v = np.linalg.norm(p[..., 1, :] - p[..., 5, :], axis=-1) + np.linalg.norm(p[..., 2, :] - p[..., 4, :], axis=-1)
        return v / (2 * np.linalg.norm(p[..., 0, :] - p[..., 3, :], axis=-1))
    return (ear(list(range(36, 42))) + ear(list(range(42, 48)))) / 2


def landmarks_of(rgb: np.ndarray) -> np.ndarray | None:
    """The 68 landmarks of the largest face in one RGB frame, or None."""
    box = _detect(rgb)
    return None if box is None else _shape(rgb, box)
