"""Quality sweep: every corpus photo x three voice tracks (English speech, another
language, singing), `python -m bench.generation_quality --json` (or
`python -m bench.generation --quality`).

Each clip is the first `--seconds` of the track rendered at 512 px with default
controls; the metrics of `generation.metrics` are taken on every 2nd frame. The same
metrics are taken on the real videos of ../shared/corpus/videos, and the landmark
jitter limit is the real videos' 99th percentile. Prints one JSON object: per clip
figures, the real videos' figures, and a summary against the issue's targets. Writes
a contact sheet of the sweep (one frame per clip) and a sheet of the English clips' eyes
at their least open measured frame (blinks.png) next to the videos."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from bench.media import BENCH_REGISTRY_ID, CORPUS, ROOT, CountingMarker, contact_sheet_of_clips, write_grid
from generation.audio import AudioStream, decode_audio, write_wav
from generation.controls import Controls
from generation.face import analyse_face
from generation.images import load_image_file
from generation.metrics import identity_distance, summarise_video, track_faces
from generation.metrics.figures import eye_openness, landmark_jitter, voice_per_sample
from generation.pipeline import generate_video
from provenance.videomark import VideoWatermarker

TRACKS = {"english": "hdtf_radio31_en.wav", "other_language": "speech_de_unsure.wav",
          "singing": "singing_song_example.mp3"}
TARGETS = {"identity_max": 0.35, "lag_ms": 40.0, "rest_share": 0.9, "blinks_per_min": (8.0, 30.0)}


def clip(src: Path, dst: Path, seconds: float) -> Path:
    return write_wav(dst, decode_audio(src).mono[: int(seconds * 16000)], 16000)


def real_videos(seconds: float) -> tuple[list[dict], np.ndarray]:
    rows, jitter = [], []
    for video in sorted((CORPUS / "videos").glob("*.mp4")):
        with av.open(str(video)) as c:
            fps = float(c.streams.video[0].average_rate or 25)
        step = max(1, int(round(fps / 12.5)))          # the generated clips are measured at 12.5 Hz
        track = track_faces(video, step=step, max_seconds=seconds, size=512, keep_samples=0)
        try:
            voice = voice_per_sample(AudioStream(video).blocks(), 16000, track)
        except Exception:                                # a video without a usable audio track
            voice = None
        row = {"video": video.name, "fps": round(fps, 2), "step": step, **summarise_video(track, voice)}
        rows.append(row)
        jitter.append(landmark_jitter(track))
    return rows, np.concatenate(jitter) if jitter else np.zeros(0)


def sweep(photos: list[Path], seconds: float, out_dir: Path, marker, controls: dict | None = None) -> list[dict]:
    rows = []
    tracks = {k: clip(CORPUS / "audio" / v, out_dir / "tracks" / f"{k}.wav", seconds) for k, v in TRACKS.items()}
    for photo in photos:
        rgb = load_image_file(photo)
        face = analyse_face(rgb)
        for kind, audio in tracks.items():
            out = out_dir / f"{photo.stem}-{kind}.mp4"
            t = time.perf_counter()
            result = generate_video(photo, audio, out, marker=marker, controls=Controls(size=512, **(controls or {})))
            render_s = time.perf_counter() - t
            track = track_faces(out, step=2, every_frame_face=True)
            voice = voice_per_sample(AudioStream(audio).blocks(), 16000, track)
            ear = eye_openness(track)
            peak = int(np.nanargmin(ear)) * track.step if np.isfinite(ear).any() else 0
            row = {"photo": photo.name, "track": kind, "frames": result.frames, "render_seconds": round(render_s, 2),
                   **summarise_video(track, voice), "identity": identity_distance(rgb, face, track),
                   "eyes_least_open_frame": peak, "frames_with_face": track.frames_with_face,
                   "frames_total": track.frames_total}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    return rows


def blink_sheet(clips: list[tuple[Path, int]], out: Path, *, cols: int = 4) -> Path:
    """The eyes of each clip at its least open measured frame (a blink's peak, as dlib
    saw it) beside its first frame, so a person can see what was counted."""
    tiles = []
    for video, peak in clips:
        shots = {}
        with av.open(str(video)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i in (0, peak):
                    rgb = frame.to_ndarray(format="rgb24")
                    h, w = rgb.shape[:2]
                    shots[i] = cv2.resize(rgb[int(0.22 * h):int(0.52 * h), int(0.18 * w):int(0.82 * w)], (256, 120),
                                          interpolation=cv2.INTER_AREA)
                if i >= peak and 0 in shots:
                    break
        tiles.append(np.hstack([shots.get(0, np.zeros((120, 256, 3), np.uint8)),
                                shots.get(peak, np.zeros((120, 256, 3), np.uint8))]))
    return write_grid(tiles, cols, out)


def summary(rows: list[dict], real_jitter: np.ndarray) -> dict:
    limit = float(np.percentile(real_jitter, 99)) if len(real_jitter) else None
    ids = [r["identity"]["max"] for r in rows if r["identity"]["max"] is not None]
    lags = [abs(r["sync"]["lag_ms"]) for r in rows]
    stretches = sum(r["rest"]["silent_stretches"] for r in rows)
    at_rest = sum(r["rest"]["at_rest"] for r in rows)
    minutes = sum(r["frames_measured"] for r in rows) / 12.5 / 60
    blinks = sum(r["blinks"]["blinks"] for r in rows)
    rates = [r["blinks"]["per_minute"] for r in rows]
    jit = [r["jitter_p99"] for r in rows if r["jitter_p99"] is not None]
    lo, hi = TARGETS["blinks_per_min"]
    out = {
        "clips": len(rows),
        "face_in_every_frame": all(r["frames_with_face"] == r["frames_total"] for r in rows),
        "frames_without_face": sum(r["frames_total"] - r["frames_with_face"] for r in rows),
        "face_found_min_share": min(r["face_found_share"] for r in rows),
        "identity_max": max(ids), "identity_mean": round(float(np.mean(ids)), 3),
        "identity_clips_over": sum(i > TARGETS["identity_max"] for i in ids),
        "lag_ms_max_abs": max(lags), "lag_clips_over": sum(lag > TARGETS["lag_ms"] for lag in lags),
        "sync_correlation_median": round(float(np.median([r["sync"]["correlation"] for r in rows])), 3),
        "rest_share": round(at_rest / stretches, 3) if stretches else None, "silent_stretches": stretches,
        "rest_clips_under": sum(1 for r in rows
                                if r["rest"]["share"] is not None and r["rest"]["share"] < TARGETS["rest_share"]),
        "blinks_per_min_overall": round(blinks / minutes, 1) if minutes else None,
        "blinks_per_min_clip_median": float(np.median(rates)),
        "blink_clips_outside": sum(1 for x in rates if not lo <= x <= hi),
        "jitter_p99_max": max(jit) if jit else None, "real_jitter_p99": round(limit, 5) if limit else None,
        "jitter_clips_over": sum(1 for j in jit if limit is not None and j > limit),
    }
    for kind in TRACKS:
        sub = [r for r in rows if r["track"] == kind]
        if sub:
            out[f"{kind}_lag_ms_max_abs"] = max(abs(r["sync"]["lag_ms"]) for r in sub)
            out[f"{kind}_correlation_median"] = round(float(np.median([r["sync"]["correlation"] for r in sub])), 3)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--photos", nargs="*", type=Path, default=None)
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "quality")
    p.add_argument("--watermark", action="store_true", help="use the provenance watermarker (slower)")
    p.add_argument("--motion", help="procedural or learned (default: the engine's default motion)")
    p.add_argument("--seed", type=int, help="the controls' seed (default: the engine's default)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    photos = args.photos or sorted((CORPUS / "photos").glob("*"))
    if not photos:
        print(f"bench.generation_quality: no photos in {CORPUS / 'photos'}", file=sys.stderr)
        return 2
    marker = CountingMarker()
    if args.watermark:
        marker = VideoWatermarker(BENCH_REGISTRY_ID)
    started = time.perf_counter()
    real_rows, real_jitter = real_videos(10.0)
    overrides = {k: v for k, v in (("motion", args.motion), ("seed", args.seed)) if v is not None}
    rows = sweep(photos, args.seconds, args.out, marker, overrides)
    sheet = contact_sheet_of_clips([args.out / f"{Path(r['photo']).stem}-{r['track']}.mp4" for r in rows
                                    if r["track"] == "english"], args.out / "sweep.png")
    eyes = blink_sheet([(args.out / f"{Path(r['photo']).stem}-{r['track']}.mp4", r["eyes_least_open_frame"])
                        for r in rows if r["track"] == "english"], args.out / "blinks.png")
    result = {"summary": summary(rows, real_jitter), "real_videos": real_rows, "clips": rows,
              "contact_sheet": str(sheet.resolve()), "blink_sheet": str(eyes.resolve()),
              "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
