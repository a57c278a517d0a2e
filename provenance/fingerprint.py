"""A perceptual fingerprint of a video: small grey thumbnails of frames sampled
once a second. The registry keeps one per output, so a watermark lifted off one
output and pasted onto other content is caught: the payload then points to an
output whose pictures do not match.

Matching is robust to re-encoding, resizing and brightness (zero-mean normalised
correlation of 24x24 thumbnails), to crops (each reference frame is also compared
under 27 crops of 5-15%), to excerpts and frame-rate changes (each query frame is
matched to its nearest reference frame). Two outputs made from the same photo look
alike to it, by design: it tells content apart, not takes."""
from __future__ import annotations

import base64
from dataclasses import dataclass

import av
import cv2
import numpy as np

SAMPLES_PER_SECOND = 1.0
MAX_SAMPLES = 120
STORED = 48              # stored thumbnail side (pixels)
COMPARED = 24            # compared thumbnail side
MATCH_DISTANCE = 0.15    # 1 - median best correlation accepted as the same content
_CROPS = [(0.0, 0.0, 1.0, 1.0)] + [(fy * c, fx * c, fy * c + 1 - c, fx * c + 1 - c)
                                   for c in (0.05, 0.10, 0.15) for fy in (0, 0.5, 1) for fx in (0, 0.5, 1)]


def _thumb(gray: np.ndarray, side: int) -> np.ndarray:
    g = gray.astype(np.float32)
    g = cv2.GaussianBlur(g, (0, 0), max(0.5, g.shape[1] / side / 2))
    return cv2.resize(g, (side, side), interpolation=cv2.INTER_AREA)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.reshape(len(rows), -1).astype(np.float32)
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / (np.linalg.norm(rows, axis=1, keepdims=True) + 1e-6)


def video_fingerprint(path) -> list[str]:
    """Base64 48x48 grey thumbnails of up to MAX_SAMPLES frames, one a second."""
    with av.open(str(path)) as c:
        if not c.streams.video:
            return []
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 25)
        every = max(1, int(round(rate / SAMPLES_PER_SECOND)))
        w, h = stream.codec_context.width, stream.codec_context.height
        scale = min(1.0, 192 / max(w, h))
        out = []
        for i, frame in enumerate(c.decode(stream)):
            if i % every == 0:
                g = frame.reformat(width=max(16, round(w * scale)), height=max(16, round(h * scale)),
                                   format="gray").to_ndarray()
                out.append(base64.b64encode(np.clip(_thumb(g, STORED) + 0.5, 0, 255).astype(np.uint8)
                                            .tobytes()).decode())
                if len(out) >= MAX_SAMPLES:
                    break
    return out


def _decode(items: list[str]) -> np.ndarray:
    return np.stack([np.frombuffer(base64.b64decode(s), np.uint8).reshape(STORED, STORED) for s in items])


def readable(reference) -> bool:
    """Whether a stored fingerprint is of this format: anything else is skipped rather
    than read as a mismatch."""
    try:
        return bool(reference) and len(_decode(reference[:1])) == 1
    except (ValueError, TypeError):
        return False


def distance(query: list[str], reference: list[str]) -> float:
    """1 - the median, over query frames, of the best correlation with any reference
    frame under any of the crops (0 = the same pictures; unrelated pictures score
    about 0.5 and more)."""
    if not query or not readable(reference):
        return 2.0
    try:
        q, r = _decode(query), _decode(reference)
    except (ValueError, TypeError):
        return 2.0
    qv = _unit(np.stack([cv2.resize(t.astype(np.float32), (COMPARED, COMPARED), interpolation=cv2.INTER_AREA)
                         for t in q]))
    variants = []
    for t in r.astype(np.float32):
        for y0, x0, y1, x1 in _CROPS:
            crop = t[int(round(y0 * STORED)):int(round(y1 * STORED)), int(round(x0 * STORED)):int(round(x1 * STORED))]
            variants.append(cv2.resize(crop, (COMPARED, COMPARED), interpolation=cv2.INTER_AREA))
    best = (qv @ _unit(np.stack(variants)).T).max(axis=1)
    return float(1.0 - np.median(best))


def matches(query: list[str], reference: list[str]) -> bool:
    return distance(query, reference) <= MATCH_DISTANCE


# ------------------------------------------------------------------ version 2 ----
# A face-normalised descriptor for the registry's nearest-neighbour index. The
# thumbnails above compare whole frames, so a letterboxed, stretched, rotated or
# mirrored copy (or a crop beyond 15%) no longer looks like its output. Here each
# sampled frame is first mapped by an affine fitted to the eyes and the mouth onto a
# canonical face crop: scale, aspect, rotation, crop and padding are undone by the
# face itself; a mirrored copy gives the mirrored crop (queried as well); zero-mean,
# unit-norm grey values ignore brightness, contrast and colour.

DESCRIPTOR_SIDE = 16                 # the descriptor is a 16x16 grey crop: 256 numbers
DESCRIPTOR_DIM = DESCRIPTOR_SIDE ** 2
_CANON = 64                          # canonical crop side before the final resize
# Where the two eye centres and the mouth centre land in the canonical crop: the face
# fills its middle, with hair, ears and some background around it.
_CANON_POINTS = np.float32([[24, 26], [40, 26], [32, 44]])
DESCRIPTOR_FRAMES = 6                # frames sampled per video for the descriptor
# Frames are looked at no larger than this (long side): the canonical crop needs 64 pixels of
# face, and HOG's cost grows with the frame (an upscaled or HD copy took 12 s at full size).
DESCRIPTOR_FRAME_SIDE = 640


def _anchor_points(landmarks68: np.ndarray) -> np.ndarray:
    return np.float32([landmarks68[36:42].mean(axis=0), landmarks68[42:48].mean(axis=0),
                       landmarks68[48:68].mean(axis=0)])


_STRETCHES = (1.0, 1.7, 1 / 1.7, 2.4, 1 / 2.4)   # width factors a face is looked for at
CLEAR_FACE = 1.5     # HOG score of an unsqueezed face (squeezed ones scored 0.9, restretched 1.8)
# The ways a face is looked for, in order: HOG on the frame as it is and restretched, then
# (only when HOG found nothing at any stretch) dlib's CNN, as it is and restretched (some
# faces HOG never finds, e.g. behind thick glasses: a stretched copy of one needs the CNN
# on the restretched frame).
_ATTEMPTS = tuple(("hog", f) for f in _STRETCHES) + tuple(("cnn", f) for f in _STRETCHES)


def frame_descriptor(rgb: np.ndarray) -> np.ndarray | None:
    """The 256-number face descriptor of one RGB frame, or None without a face."""
    found = _frame_face(rgb, _ATTEMPTS)
    return None if found is None else found[0]


def _frame_face(rgb: np.ndarray, attempts, *, accept_first: bool = False, identity: bool = False, track=None):
    """The face of one frame, described. The face is looked for in the frame as it is and
    restretched (a squeezed or stretched copy fools the landmarks): the most face-like detection wins, and the
    affine onto the canonical crop undoes whatever stretch remains. HOG first at every
    stretch, until a face as clear as an unsqueezed one; the CNN (slow) only when HOG saw
    nothing. With `accept_first`, a face found by the first attempt is taken as it is (a
    video's later frames: the attempt that won on an earlier frame comes first). With
    `track` ((attempt, box, box centre minus landmarks' centre) of the face in the frame of
    the same video where it was detected) the box is followed instead of detected again
    (_tracked). With `identity`, dlib's identity embedding of the face too (identity_at).
    Returns (descriptor, attempt, identity or None, box, box centre minus landmarks' centre)
    or None."""
    from generation.face import detect_faces, landmarks  # noqa: PLC0415 - heavy (dlib): only when fingerprinting
    best = _tracked(rgb, *track) if track is not None else None
    for k, (detector, factor) in enumerate(() if best is not None else attempts):
        if best is not None and (best[0] >= CLEAR_FACE or detector == "cnn" or (accept_first and k == 1)):
            break  # a clear face, or one found already (the CNN is only a fallback)
        img = _stretched(rgb, factor)
        boxes = detect_faces(img, detectors=(detector,))
        if boxes and (best is None or boxes[0].score > best[0]):
            best = (boxes[0].score, img, boxes[0], (detector, factor), None)
    if best is None:
        return None
    points = best[4] if best[4] is not None else landmarks(best[1], best[2])
    d = _descriptor_at(best[1], points)
    if d is None:
        return None
    offset = _centre(best[2]) - points.mean(axis=0)
    return d, best[3], identity_at(best[1], points) if identity else None, best[2], offset


def _stretched(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb if factor == 1.0 else cv2.resize(rgb, (max(16, round(w * factor)), h), interpolation=cv2.INTER_LINEAR)


def _tracked(rgb: np.ndarray, attempt, box, offset):
    """The face of an earlier frame followed into this one without the detector: the
    landmarks are fitted in the earlier box and the box is re-centred where the detector put
    it relative to the landmarks (`offset`: box centre minus the landmarks' centre, from the
    frame where the face was detected), until it stays put. For faces only dlib's CNN finds
    (about a second a call on a CPU; behind thick glasses, for instance), which a talking
    head keeps near where it was. None when the fitted face does not fill the box as a face
    does (the detector then runs)."""
    from generation.face import FaceBox, landmarks  # noqa: PLC0415 - heavy (dlib): only when fingerprinting
    img = _stretched(rgb, attempt[1])
    points = landmarks(img, box)
    for _ in range(TRACK_STEPS):
        dx, dy = points.mean(axis=0) + offset - _centre(box)
        if max(abs(dx), abs(dy)) < 0.01 * box.width:
            break
        box = FaceBox(box.left + dx, box.top + dy, box.right + dx, box.bottom + dy, box.score)
        points = landmarks(img, box)
    span = points.max(axis=0) - points.min(axis=0)
    if not (0.5 * box.width <= span[0] <= 1.5 * box.width and 0.5 * box.height <= span[1] <= 1.5 * box.height):
        return None
    return box.score, img, box, attempt, points


def _centre(box) -> np.ndarray:
    return np.float32([(box.left + box.right) / 2, (box.top + box.bottom) / 2])


TRACK_STEPS = 4      # box moves per tracked frame (landmarks fitted once more after each)

# Identity: dlib's 128-d face embedding, taken on the face brought to a canonical shape
# first (eyes and mouth centre onto fixed points), so a squeezed, stretched or rotated copy
# is compared as its output was. 40 attacked copies measured at most 0.20 from their output,
# other people 0.62 and more: the look-up ranks other people's outputs last.
_IDENTITY_SIDE = 200
_IDENTITY_POINTS = _CANON_POINTS * np.float32(3.5) - np.float32([12, 14])   # eyes 56 px apart
SAME_PERSON = 0.6        # dlib's own threshold: embeddings nearer than this show one person


def identity_at(rgb: np.ndarray, landmarks68: np.ndarray) -> np.ndarray:
    """The identity embedding of the face with these landmarks, on its canonical shape."""
    from generation.face import embedding_at  # noqa: PLC0415 - heavy (dlib)
    affine = cv2.getAffineTransform(_anchor_points(landmarks68), _IDENTITY_POINTS)
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    img = cv2.GaussianBlur(rgb, (0, 0), 0.5 / scale) if scale < 0.5 else rgb
    face = cv2.warpAffine(img, affine, (_IDENTITY_SIDE, _IDENTITY_SIDE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    points = np.c_[landmarks68, np.ones(len(landmarks68))] @ affine.T
    return embedding_at(face, points)


BAR_LEVEL = 12                       # grey level under which a dark area touching the frame's edge is a bar
MIN_SEEN = 0.4                       # share of the descriptor that must show picture


def picture_mask(gray: np.ndarray, level: float = BAR_LEVEL, erode: int = 5) -> np.ndarray:
    """1.0 where a frame (or a pooled frame) shows picture, 0.0 on black bars and rotation
    corners (areas darker than `level` connected to the frame's edge; dark picture inside
    stays), eroded by `erode` pixels so that blurring does not mix them in."""
    dark = (gray < level).astype(np.uint8)
    if not dark.any():
        return np.ones(gray.shape, np.float32)
    _, labels = cv2.connectedComponents(dark, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    bars = np.isin(labels, edge) if edge.size else np.zeros(gray.shape, bool)
    return cv2.erode((~bars).astype(np.uint8), np.ones((erode, erode), np.uint8)).astype(np.float32)


def _descriptor_at(rgb: np.ndarray, landmarks68: np.ndarray) -> np.ndarray | None:
    """The canonical crop's grey values, zero-mean and unit-norm over the part that shows
    picture: what a letterboxed, pillarboxed, rotated or cropped copy lacks (bars, black
    corners, the outside of the frame) is left out (0) rather than compared as black."""
    pts = _anchor_points(landmarks68)
    affine = cv2.getAffineTransform(pts, _CANON_POINTS)
    gray8 = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    gray, picture = gray8.astype(np.float32), picture_mask(gray8)
    # The crop samples the frame at about a quarter of the face's size per pixel: blur first.
    scale = float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))
    if scale < 0.5:
        gray = cv2.GaussianBlur(gray, (0, 0), 0.5 / scale)
    crop = cv2.warpAffine(gray, affine, (_CANON, _CANON), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    seen = cv2.warpAffine(picture, affine, (_CANON, _CANON), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    small = cv2.resize(crop, (DESCRIPTOR_SIDE, DESCRIPTOR_SIDE), interpolation=cv2.INTER_AREA).ravel()
    valid = cv2.resize(seen, (DESCRIPTOR_SIDE, DESCRIPTOR_SIDE), interpolation=cv2.INTER_AREA).ravel() > 0.95
    if valid.mean() < MIN_SEEN:
        return None
    small = np.where(valid, small - small[valid].mean(), 0.0).astype(np.float32)
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 1e-6 else None


def similarity(query: np.ndarray, stored: np.ndarray) -> float:
    """Correlation of a query descriptor with a stored one over the part the query shows
    (its non-zero entries): a copy that lacks part of the crop (bars, corners, a crop) is
    compared on what it has, not penalised for what it lacks."""
    seen = query != 0
    if not seen.any():
        return 0.0
    part = stored[seen] - stored[seen].mean()
    norm = float(np.linalg.norm(part) * np.linalg.norm(query[seen]))
    return float(query[seen] @ part / norm) if norm > 1e-9 else 0.0


def mirrored(descriptor: np.ndarray) -> np.ndarray:
    """The descriptor of the mirrored picture (a horizontally flipped copy)."""
    return np.ascontiguousarray(descriptor.reshape(DESCRIPTOR_SIDE, DESCRIPTOR_SIDE)[:, ::-1]).ravel()


def video_descriptor(path, *, frames: int = DESCRIPTOR_FRAMES) -> np.ndarray | None:
    """Mean face descriptor of `frames` frames spread over the video (unit norm), or
    None when no sampled frame shows a face."""
    face = video_face(path, frames=frames, identity=False)
    return None if face is None else face.descriptor


@dataclass(frozen=True)
class VideoFace:
    """What the registry's look-up knows of a video's face: the appearance descriptor (the
    index's key) and the person's identity embedding (None where it was not computed)."""
    descriptor: np.ndarray
    identity: np.ndarray | None = None


def video_face(path, *, frames: int = DESCRIPTOR_FRAMES, identity: bool = True) -> VideoFace | None:
    """The mean descriptor (unit norm) and mean identity embedding of `frames` frames
    spread over the video, or None when no sampled frame shows a face."""
    with av.open(str(path)) as c:
        if not c.streams.video:
            return None
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames or 0
        every = max(1, total // frames) if total else 25
        picked = []
        for i, frame in enumerate(c.decode(stream)):
            if i % every == every // 2:
                picked.append(shrunk_rgb(frame))
                if len(picked) >= frames:
                    break
    found = []
    for k, got in enumerate(frame_faces(picked, identity=identity)):
        if got is not None:
            found.append(got)
        elif k >= 1 and not found:
            return None  # two frames without a face: a faceless video, not worth the detector's time
    if not found:
        return None
    mean = np.mean([d for d, _ in found], axis=0)
    ids = [e for _, e in found if e is not None]
    return VideoFace((mean / (np.linalg.norm(mean) + 1e-9)).astype(np.float32),
                     np.mean(ids, axis=0).astype(np.float32) if ids else None)


def shrunk_rgb(frame) -> np.ndarray:
    """A decoded frame as RGB, no larger than DESCRIPTOR_FRAME_SIDE on its long side."""
    k = min(1.0, DESCRIPTOR_FRAME_SIDE / max(frame.width, frame.height))
    return frame.to_ndarray(format="rgb24", width=max(16, round(frame.width * k)),
                            height=max(16, round(frame.height * k)), interpolation="AREA")


def frame_faces(frames, *, identity: bool = True):
    """Each frame's (descriptor, identity embedding or None), or None without a face, in
    order. A video's geometry is the same in every frame: what found the face in one frame
    is tried first in the next, and a face only the CNN found is followed from frame to
    frame rather than detected again (_tracked)."""
    attempts, winner, track = _ATTEMPTS, None, None
    for f in frames:
        got = _frame_face(f, attempts, accept_first=winner is not None, identity=identity, track=track)
        if got is not None:
            winner = got[1]
            attempts = (winner,) + tuple(a for a in _ATTEMPTS if a != winner)
            if winner[0] != "cnn":
                track = None
            elif track is None:
                track = (winner, got[3], got[4])             # the offset of the detected face, kept
            else:
                track = (winner, got[3], track[2])
        yield None if got is None else (got[0], got[2])


def pack_descriptor(descriptor: np.ndarray | None) -> str | None:
    return None if descriptor is None else base64.b64encode(descriptor.astype(np.float16).tobytes()).decode()


def unpack_descriptor(text: str | None, size: int = DESCRIPTOR_DIM) -> np.ndarray | None:
    try:
        d = np.frombuffer(base64.b64decode(text), np.float16).astype(np.float32)
    except (ValueError, TypeError):
        return None
    return d if d.size == size and np.isfinite(d).all() else None


IDENTITY_DIM = 128


def stored_fingerprint(path) -> dict:
    """What the registry keeps per output: the thumbnails (content checks of older
    entries), the face descriptor (the nearest-neighbour index) and the identity
    embedding (the look-up ranks other people last)."""
    face = video_face(path)
    return {"version": 2, "thumbnails": video_fingerprint(path),
            "descriptor": pack_descriptor(face.descriptor if face else None),
            "identity": pack_descriptor(face.identity if face else None)}


def thumbnails_of(stored) -> list[str] | None:
    """The thumbnails of a stored fingerprint of either format (a list is version 1)."""
    if isinstance(stored, dict):
        return stored.get("thumbnails")
    return stored


def descriptor_of(stored) -> np.ndarray | None:
    return unpack_descriptor(stored.get("descriptor")) if isinstance(stored, dict) else None


def identity_of(stored) -> np.ndarray | None:
    """The stored identity embedding (outputs fingerprinted before it was kept have none)."""
    return unpack_descriptor(stored.get("identity"), IDENTITY_DIM) if isinstance(stored, dict) else None


def other_person(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Whether two identity embeddings show different people (False when either is unknown)."""
    return a is not None and b is not None and float(np.linalg.norm(a - b)) >= SAME_PERSON
