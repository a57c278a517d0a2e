"""Faces as identities: embeddings from photos (pixels are decoded in memory and
dropped), the distance between a photo and an enrolled subject, and the nearest
face on the protected list. Thresholds belong to the policy, not to this module."""
from __future__ import annotations

import numpy as np
from django.conf import settings

from detection.photo_check import require_photograph
from generation.errors import InputError
from generation.face import analyse_face, face_embedding
from generation.images import load_image

from .models import ProtectedPerson, Subject


def embed_photo(data: bytes, *, field: str = "photo", photograph: bool = False) -> list[float]:
    """The 128-d embedding of the single face in `data`; the decoded pixels go out of scope here.
    With `photograph`, the face must also pass the photo check (detection.photo_check):
    NotAPhotograph (an InputError) for a drawing, a cartoon, a render or a screen."""
    try:
        rgb = load_image(data, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)
        face = analyse_face(rgb, field=field)
        if photograph:
            require_photograph(rgb, face.landmarks, field=field)
    except InputError as exc:
        exc.field = field
        raise
    return [round(float(v), 6) for v in face_embedding(rgb, face)]


def as_array(embedding) -> np.ndarray:
    return np.asarray(embedding, dtype=np.float64)


def distance(a, b) -> float:
    return float(np.linalg.norm(as_array(a) - as_array(b)))


def centroid(embeddings: list[list[float]]) -> list[float]:
    return [round(float(v), 6) for v in np.mean(np.asarray(embeddings, dtype=np.float64), axis=0)]


def subject_reference(subject: Subject) -> list[float] | None:
    """What a photo is compared with: the mean of the subject's enrolled selfies."""
    return subject.face_embedding or None


def subject_distance(subject: Subject, embedding) -> float | None:
    ref = subject_reference(subject)
    if ref is None or embedding is None:
        return None
    return round(distance(ref, embedding), 4)


def nearest_protected(embedding) -> dict | None:
    """The closest active protected person to `embedding` (by their closest photo)."""
    if embedding is None:
        return None
    best = None
    for person in ProtectedPerson.objects.filter(active=True).only("id", "name", "embeddings"):
        if not person.embeddings:
            continue
        d = float(np.min(np.linalg.norm(np.asarray(person.embeddings, dtype=np.float64) - as_array(embedding), axis=1)))
        if best is None or d < best["distance"]:
            best = {"id": person.pk, "name": person.name, "distance": round(d, 4)}
    return best


def max_pairwise_distance(embeddings: list[list[float]]) -> float:
    arr = np.asarray(embeddings, dtype=np.float64)
    if len(arr) < 2:
        return 0.0
    diffs = arr[:, None, :] - arr[None, :, :]
    return float(np.linalg.norm(diffs, axis=2).max())
