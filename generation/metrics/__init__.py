"""Quality figures for talking-portrait videos, computed with dlib's shipped models
only (HOG detector, 68-point shape predictor, face embedding): no other trained
network. The same code measures generated videos and real ones, so the two can
be compared side by side (see bench/generation_quality.py)."""
from .figures import (
                      audio_mouth_sync,
                      blink_rate,
                      eye_openness,
                      head_motion_range,
                      identity_distance,
                      landmark_jitter,
                      mouth_at_rest,
                      mouth_opening,
                      summarise_video,
)
from .tracking import FaceTrack, landmarks_of, track_faces

__all__ = ["FaceTrack", "landmarks_of", "track_faces", "audio_mouth_sync", "blink_rate", "head_motion_range",
           "identity_distance", "landmark_jitter", "mouth_at_rest", "mouth_opening", "eye_openness",
           "summarise_video"]
