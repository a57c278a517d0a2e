"""Quality sweep: every corpus photo and the portraits taken from the first
`--portrait-videos` (12) corpus videos' open-mouth and smiling frames
(bench.expression_photos) x three voice tracks
(English speech, another language, singing), `python -m bench.generation_quality --json`
(or `python -m bench.generation --quality`). `--per-category N --seed S` samples N
photos of each photo category (closed, teeth smile, wide open; the seed is printed) to
keep the run short on busy cores; `--baseline REF` renders the same clips with the
engine of git revision REF too (in a subprocess, from `git archive`), for the
mouth-interior distance of both engines in one run.

Per photo category: the mouth at rest in silent stretches by the category's rule
(closed photos closed: inner-lip gap at most REST_CLOSED of the eye distance; teeth
smiles at most the photo's own opening + REST_MARGIN; wide-open photos at most
REST_WIDE), the audio-mouth lag and the loudness correlation against the real
videos' range. The mouth-interior distance: colour and texture statistics of each
clip's three most open mouths against the real videos' three most open mouths
(generation.metrics.figures.interior_distance); a contact sheet of those mouths
(mouths.png) is written next to the videos.

Each clip is the first `--seconds` of the track rendered at 512 px with default
controls; the metrics of `generation.metrics` are taken on every 2nd frame, the eyes
(blinks, `generation.metrics.figures.blinks_in`) on every frame. The same
metrics are taken on the real videos of ../shared/corpus/videos, and the landmark
jitter limit is the real videos' 99th percentile. Prints one JSON object: per clip
figures, the real videos' figures, and a summary against the issue's targets. Writes
a contact sheet of the sweep (one frame per clip) and a sheet of the English clips' eyes
at their least open frame (blinks.png) next to the videos."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from bench import expression_photos
from bench.media import BENCH_REGISTRY_ID, CORPUS, ROOT, CountingMarker, contact_sheet_of_clips, write_grid
from generation.audio import AudioStream, decode_audio, write_wav
from generation.controls import Controls
from generation.errors import InputError
from generation.expression import CLOSED, KINDS, TEETH_SMILE, WIDE_OPEN, read_expression
from generation.face import analyse_face, face_embedding
from generation.images import load_image_file
from generation.metrics import identity_distance, summarise_video, track_faces
from generation.metrics.figures import (
    interior_distance,
    interior_energy_distance,
    landmark_jitter,
    mouth_interior_stats,
    mouth_opening,
    voice_per_sample,
)
from generation.pipeline import generate_video
from generation.voice import silent_stretches
from provenance.videomark import VideoWatermarker

TRACKS = {"english": "hdtf_radio31_en.wav", "other_language": "speech_de_unsure.wav",
          "singing": "singing_song_example.mp3"}
TARGETS = {"identity_max": 0.35, "lag_ms": 40.0, "rest_share": 0.9, "blinks_per_min": (8.0, 30.0),
           "sync_share": 0.95}
REST_CLOSED, REST_MARGIN, REST_WIDE = 0.05, 0.03, 0.15
OPEN_MOUTHS = 3


def clip(src: Path, dst: Path, seconds: float) -> Path:
    return write_wav(dst, decode_audio(src).mono[: int(seconds * 16000)], 16000)


def open_mouths(video: Path, track, n: int = OPEN_MOUTHS, size: int | None = None) -> list[tuple]:
    """The `n` most open mouths of a measured video (at least 3 measured frames apart):
    (a crop of the mouth for the contact sheet, its interior statistics)."""
    opening = mouth_opening(track)
    order = [i for i in np.argsort(-np.nan_to_num(opening, nan=-9.0)) if np.isfinite(opening[i])]
    picked: list[int] = []
    for i in order:
        if all(abs(i - j) >= 3 for j in picked):
            picked.append(int(i))
        if len(picked) == n:
            break
    frames = {int(round(track.times[i] * track.fps)): i for i in picked}
    out = []
    with av.open(str(video)) as c:
        for k, frame in enumerate(c.decode(video=0)):
            if k in frames:
                rgb = frame.to_ndarray(format="rgb24")
                if size is not None and min(rgb.shape[:2]) != size:
                    sc = size / min(rgb.shape[:2])
                    rgb = cv2.resize(rgb, (round(rgb.shape[1] * sc), round(rgb.shape[0] * sc)),
                                     interpolation=cv2.INTER_AREA)
                lm = track.landmarks[frames[k]]
                stats = mouth_interior_stats(rgb, lm)
                c0 = lm[48:68].mean(axis=0)
                half = int(0.75 * np.linalg.norm(lm[54] - lm[48])) + 2
                x0, y0 = int(max(c0[0] - half, 0)), int(max(c0[1] - 0.75 * half, 0))
                crop = cv2.resize(rgb[y0:int(c0[1] + 0.75 * half), x0:int(c0[0] + half)], (128, 96),
                                  interpolation=cv2.INTER_AREA)
                out.append((crop, stats))
            if k >= max(frames, default=-1):
                break
    return out


def real_videos(seconds: float) -> tuple[list[dict], np.ndarray, list[np.ndarray]]:
    rows, jitter, mouths = [], [], []
    for video in sorted((CORPUS / "videos").glob("*.mp4")):
        with av.open(str(video)) as c:
            fps = float(c.streams.video[0].average_rate or 25)
        step = max(1, int(round(fps / 12.5)))          # the generated clips are measured at 12.5 Hz
        track = track_faces(video, step=step, max_seconds=seconds, size=512, keep_samples=0, eyes_every_frame=True)
        try:
            voice = voice_per_sample(AudioStream(video).blocks(), 16000, track)
        except Exception:                                # a video without a usable audio track
            voice = None
        row = {"video": video.name, "fps": round(fps, 2), "step": step, **summarise_video(track, voice)}
        jitter.append(landmark_jitter(track))
        row["_mouths"] = [m for _, m in open_mouths(video, track, size=512) if m is not None]
        mouths += row["_mouths"]
        rows.append(row)
    return rows, np.concatenate(jitter) if jitter else np.zeros(0), mouths


def same_person_identity(portrait: Path, info: dict, seconds: float = 10.0, every: int = 5) -> dict | None:
    """For a portrait taken from a corpus video (`bench.expression_photos` names it
    VIDEO-MOMENT-fFRAME.png): the identity distance of that video's own frames (every
    `every`-th of the first `seconds`, the portrait's neighbours left out) to the
    portrait. What the same real person scores against this photo: a shout or a laugh
    is a different face to dlib's embedding, so a render that rests with a closed mouth
    is compared with that, not with 0. None for other photos."""
    parts = portrait.stem.rsplit("-", 2)
    if len(parts) != 3 or not parts[2][:1] == "f" or not parts[2][1:].isdigit():
        return None
    stem, at = parts[0], int(parts[2][1:])
    video = CORPUS / "videos" / f"{stem}.mp4"
    if not video.is_file():
        return None
    ref = face_embedding(info["rgb"], info["face"])
    d = []
    with av.open(str(video)) as c:
        fps = float(c.streams.video[0].average_rate or 25)
        for i, fr in enumerate(c.decode(video=0)):
            if i / fps >= seconds:
                break
            if i % every or abs(i - at) < 3:
                continue
            rgb = fr.to_ndarray(format="rgb24")
            k = 512 / min(rgb.shape[:2])
            rgb = cv2.resize(rgb, (round(rgb.shape[1] * k), round(rgb.shape[0] * k)), interpolation=cv2.INTER_AREA)
            try:
                face = analyse_face(rgb)
            except InputError:        # a frame with no face, or two: not this person's
                continue
            d.append(float(np.linalg.norm(face_embedding(rgb, face) - ref)))
    if not d:
        return None
    return {"frames": len(d), "median": round(float(np.median(d)), 3),
            "p90": round(float(np.percentile(d, 90)), 3), "max": round(float(np.max(d)), 3)}


def rest_by_rule(track, voiced: np.ndarray, kind: str, photo_opening: float, edge_s: float = 0.08) -> dict:
    """Silent stretches (> 200 ms) whose median inner-lip gap (away from the edges) keeps
    the category's rule: closed, at most the photo's own opening, or at most REST_WIDE."""
    limit = {CLOSED: REST_CLOSED, TEETH_SMILE: photo_opening + REST_MARGIN, WIDE_OPEN: REST_WIDE}[kind]
    m = mouth_opening(track)
    edge = int(np.ceil(edge_s * track.sample_fps))
    stretches = silent_stretches(voiced, track.sample_fps, 0.2)
    medians = []
    for s, e in stretches:
        inner = m[s + edge:max(e - edge, s + edge + 1)]
        inner = inner[np.isfinite(inner)]
        if len(inner):
            medians.append(float(np.median(inner)))
    ok = sum(v <= limit for v in medians)
    return {"rule_limit": round(limit, 3), "silent_stretches": len(medians), "at_rest": ok,
            "median_openings": [round(v, 3) for v in medians]}


def photos_by_category(photos: list[Path]) -> dict[Path, dict]:
    out = {}
    for photo in photos:
        rgb = load_image_file(photo)
        try:
            face = analyse_face(rgb)
        except Exception as exc:   # a portrait the engine refuses is reported, not swept
            print(f"skipping {photo.name}: {exc}", file=sys.stderr)
            continue
        out[photo] = {"rgb": rgb, "face": face, "expression": read_expression(rgb, face.landmarks)}
    return out


def sweep(photos: dict[Path, dict], tracks: dict[str, Path], out_dir: Path, marker,
          controls: dict | None = None) -> list[dict]:
    rows = []
    for photo, info in photos.items():
        for kind, audio in tracks.items():
            out = out_dir / f"{photo.stem}-{kind}.mp4"
            t = time.perf_counter()
            result = generate_video(photo, audio, out, marker=marker, controls=Controls(size=512, **(controls or {})))
            render_s = time.perf_counter() - t
            rows.append({"render_seconds": round(render_s, 2), "frames": result.frames,
                         **measure(out, photo, info, kind, audio)})
            print(json.dumps(public(rows[-1], "mouth_stats")), file=sys.stderr)
    return rows


def public(row: dict, *drop: str) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_") and k not in drop}


def measure(out: Path, photo: Path, info: dict, kind: str, audio: Path, full: bool = True) -> dict:
    ex = info["expression"]
    track = track_faces(out, step=2, every_frame_face=full, eyes_every_frame=full, keep_samples=6 if full else 0)
    voice = voice_per_sample(AudioStream(audio).blocks(), 16000, track)
    f, idx = voice
    mouths = open_mouths(out, track)
    row = {"photo": photo.name, "track": kind, "category": ex.kind, "photo_opening": round(ex.opening, 3),
           "video": str(out), **summarise_video(track, voice),
           "rest_rule": rest_by_rule(track, f.voiced[idx], ex.kind, ex.opening),
           "mouth_stats": [m.tolist() for _, m in mouths if m is not None], "_crops": [c for c, _ in mouths]}
    if full:
        ear = track.eyes          # every frame's
        if "same_person" not in info:
            info["same_person"] = same_person_identity(photo, info)
        row.update({"identity": identity_distance(info["rgb"], info["face"], track),
                    "identity_same_person_real": info["same_person"],
                    "eyes_least_open_frame": int(np.nanargmin(ear)) if np.isfinite(ear).any() else 0,
                    "frames_with_face": track.frames_with_face, "frames_total": track.frames_total})
    return row


BASELINE_SCRIPT = """
import json, sys
from bench.media import CountingMarker
from generation.controls import Controls
from generation.pipeline import generate_video
for photo, audio, out in json.loads(sys.argv[1]):
    generate_video(photo, audio, out, marker=CountingMarker(), controls=Controls(size=512))
"""


def baseline(ref: str, jobs: list[tuple[Path, Path, Path]], work: Path) -> None:
    """Render `jobs` (photo, audio, out) with the engine of git revision `ref`."""
    src = work / f"baseline-{ref}"
    if not (src / "generation").is_dir():
        src.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    payload = json.dumps([[str(Path(x).resolve()) for x in job] for job in jobs])
    subprocess.run([sys.executable, "-c", BASELINE_SCRIPT, payload], cwd=src, check=True, stdout=sys.stderr)


def mouth_sheet(rows: list[dict], out: Path, base_rows: list[dict] | None = None) -> Path:
    """Each clip's three most open mouths in a row (the baseline engine's beside them)."""
    blank = np.zeros((96, 128, 3), np.uint8)
    base = {(r["photo"], r["track"]): r for r in base_rows or []}
    tiles = []
    for r in rows:
        strip = (list(r["_crops"]) + [blank] * OPEN_MOUTHS)[:OPEN_MOUTHS]
        if base_rows is not None:
            b = base.get((r["photo"], r["track"]))
            strip += [np.full((96, 8, 3), 255, np.uint8)] + (list(b["_crops"] if b else []) + [blank] * OPEN_MOUTHS
                                                             )[:OPEN_MOUTHS]
        row = np.hstack(strip)
        label = f"{Path(r['photo']).stem[:28]} {r['track'][:7]} {r['category']}"
        cv2.putText(row, label, (3, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 0), 1, cv2.LINE_AA)
        tiles.append(row)
    return write_grid(tiles, 1, out)


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


def summary(rows: list[dict], real_jitter: np.ndarray, real_rows: list[dict] | None = None,
            real_mouths: list | None = None, base_rows: list[dict] | None = None) -> dict:
    limit = float(np.percentile(real_jitter, 99)) if len(real_jitter) else None
    ids = [r["identity"]["max"] for r in rows if r["identity"]["max"] is not None]
    lags = [abs(r["sync"]["lag_ms"]) for r in rows]
    rates = [r["blinks"]["per_minute"] for r in rows]
    jit = [r["jitter_p99"] for r in rows if r["jitter_p99"] is not None]
    minutes = sum(r["frames_measured"] for r in rows) / 12.5 / 60
    lo, hi = TARGETS["blinks_per_min"]
    real_corr = [r["sync"]["correlation"] for r in real_rows or [] if r.get("sync") and r["sync"]["correlation"] > -1]
    c_lo, c_hi = (min(real_corr), max(real_corr)) if real_corr else (None, None)
    in_range = lambda r: (abs(r["sync"]["lag_ms"]) <= TARGETS["lag_ms"]
                          and (c_lo is None or c_lo <= r["sync"]["correlation"] <= c_hi))
    out = {
        "clips": len(rows),
        "face_in_every_frame": all(r["frames_with_face"] == r["frames_total"] for r in rows),
        "frames_without_face": sum(r["frames_total"] - r["frames_with_face"] for r in rows),
        "face_found_min_share": min(r["face_found_share"] for r in rows),
        "identity_max": max(ids) if ids else None, "identity_mean": round(float(np.mean(ids)), 3) if ids else None,
        "identity_clips_over": sum(i > TARGETS["identity_max"] for i in ids),
        # of those, the clips whose photo is a frame of a real video in which the same person's
        # own frames reach as far from that photo (their 90th percentile): expression, not identity
        "identity_over_within_same_person": sum(
            1 for r in rows if r["identity"]["max"] is not None and r["identity"]["max"] > TARGETS["identity_max"]
            and (r.get("identity_same_person_real") or {}).get("p90", -1) >= r["identity"]["max"]),
        "lag_ms_max_abs": max(lags), "lag_clips_over": sum(lag > TARGETS["lag_ms"] for lag in lags),
        "sync_correlation_median": round(float(np.median([r["sync"]["correlation"] for r in rows])), 3),
        "real_correlation_range": [c_lo, c_hi],
        "blinks_per_min_overall": round(sum(r["blinks"]["blinks"] for r in rows) / minutes, 1) if minutes else None,
        "blinks_per_min_clip_median": float(np.median(rates)),
        "blink_clips_outside": sum(1 for x in rates if not lo <= x <= hi),
        "blink_clips_outside_6s_plus": sum(1 for r in rows if r["frames_measured"] / 12.5 >= 5.9
                                           and not lo <= r["blinks"]["per_minute"] <= hi),
        "jitter_p99_max": max(jit) if jit else None, "real_jitter_p99": round(limit, 5) if limit else None,
        "jitter_clips_over": sum(1 for j in jit if limit is not None and j > limit),
    }
    for kind in KINDS:
        sub_rows = [r for r in rows if r["category"] == kind]
        if not sub_rows:
            continue
        stretches = sum(r["rest_rule"]["silent_stretches"] for r in sub_rows)
        at_rest = sum(r["rest_rule"]["at_rest"] for r in sub_rows)
        out[kind] = {"clips": len(sub_rows), "photos": len({r["photo"] for r in sub_rows}),
                     "rest_share": round(at_rest / stretches, 3) if stretches else None,
                     "silent_stretches": stretches,
                     "sync_in_range_share": round(sum(map(in_range, sub_rows)) / len(sub_rows), 3),
                     "lag_ms_max_abs": max(abs(r["sync"]["lag_ms"]) for r in sub_rows),
                     "correlation_min": min(r["sync"]["correlation"] for r in sub_rows),
                     "correlation_median": round(float(np.median([r["sync"]["correlation"] for r in sub_rows])), 3)}
    for kind in TRACKS:
        sub_rows = [r for r in rows if r["track"] == kind]
        if sub_rows:
            out[f"{kind}_lag_ms_max_abs"] = max(abs(r["sync"]["lag_ms"]) for r in sub_rows)
            out[f"{kind}_correlation_median"] = round(float(np.median([r["sync"]["correlation"] for r in sub_rows])),
                                                      3)
    if real_mouths:
        gen = [np.array(m) for r in rows for m in r["mouth_stats"]]
        out["interior_distance"] = interior_distance(gen, real_mouths)
        # the same figure for each real video against the other real videos: what a real
        # mouth scores on this measure (a render that copied the real mouths' mean would score
        # lower, so a distance under this floor is no better mouth)
        held_out = [interior_distance(r["_mouths"], [m for o in real_rows or [] if o is not r for m in o["_mouths"]])
                    for r in real_rows or [] if r.get("_mouths")]
        if held_out:
            out["interior_distance_real_held_out"] = {"mean": round(float(np.mean(held_out)), 3),
                                                      "min": min(held_out), "max": max(held_out)}
        # the two sets as distributions (0: like real mouths, whatever the sample sizes); what
        # real mouths score on it: the real videos split in two halves (a person's mouths all on
        # one side), one half against the other, over 200 seeded splits
        out["interior_energy"] = interior_energy_distance(gen, real_mouths)
        per_video = [r["_mouths"] for r in real_rows or [] if r.get("_mouths")]
        if len(per_video) >= 4:
            rng = np.random.default_rng(0)
            halves = []
            for _ in range(200):
                order = rng.permutation(len(per_video))
                a, b = order[:len(order) // 2], order[len(order) // 2:]
                halves.append(interior_energy_distance([m for i in a for m in per_video[i]],
                                                       [m for i in b for m in per_video[i]]))
            out["interior_energy_real_split_half"] = {"mean": round(float(np.mean(halves)), 4),
                                                      "p10": round(float(np.percentile(halves, 10)), 4),
                                                      "p90": round(float(np.percentile(halves, 90)), 4)}
        out["real_open_mouths"] = len(real_mouths)
        out["generated_open_mouths"] = len(gen)
        if base_rows is not None:
            base_mouths = [np.array(m) for r in base_rows for m in r["mouth_stats"]]
            out["interior_distance_baseline"] = interior_distance(base_mouths, real_mouths)
            out["interior_energy_baseline"] = interior_energy_distance(base_mouths, real_mouths)
            stretches = sum(r["rest_rule"]["silent_stretches"] for r in base_rows)
            out["baseline_rest_share"] = round(sum(r["rest_rule"]["at_rest"] for r in base_rows) / stretches, 3
                                               ) if stretches else None
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--photos", nargs="*", type=Path, default=None)
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "quality")
    p.add_argument("--watermark", action="store_true", help="use the provenance watermarker (slower)")
    p.add_argument("--motion", help="procedural or learned (default: the engine's default motion)")
    p.add_argument("--seed", type=int, default=0, help="the controls' seed and the sampling's")
    p.add_argument("--per-category", type=int, default=0, help="sample this many photos of each category (0: all)")
    p.add_argument("--tracks", nargs="*", default=list(TRACKS), choices=list(TRACKS))
    p.add_argument("--no-video-portraits", action="store_true", help="only the corpus photos")
    p.add_argument("--portrait-videos", type=int, default=12,
                   help="portraits (an open-mouth and a smiling frame) from the first N corpus videos, by name")
    p.add_argument("--baseline", help="git revision whose engine renders the same clips (interior distance)")
    p.add_argument("--sheet", type=Path, help="where the mouths contact sheet goes (default: next to the videos)")
    p.add_argument("--real-seconds", type=float, default=10.0, help="seconds of each real video measured")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    photos = args.photos or sorted((CORPUS / "photos").glob("*"))
    if not photos:
        print(f"bench.generation_quality: no photos in {CORPUS / 'photos'}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.photos and not args.no_video_portraits:
        # one cache per choice of videos: the sweep's photo set does not depend on what an
        # earlier run left behind
        cached = args.out / f"video_portraits_{args.portrait_videos}"
        found = sorted(cached.glob("*.png"))
        videos = sorted((CORPUS / "videos").glob("*.mp4"))[:args.portrait_videos]
        photos += found or [Path(r["photo"]) for r in expression_photos.extract(cached, videos=videos)]
    marker = CountingMarker()
    if args.watermark:
        marker = VideoWatermarker(BENCH_REGISTRY_ID)
    infos = photos_by_category(photos)
    if args.per_category:
        rng = np.random.default_rng(args.seed)
        chosen = {}
        for kind in KINDS:
            of_kind = [p for p, i in infos.items() if i["expression"].kind == kind]
            for j in rng.permutation(len(of_kind))[:args.per_category]:
                chosen[of_kind[j]] = infos[of_kind[j]]
        infos = chosen
    print(json.dumps({"seed": args.seed, "photos": {p.name: i["expression"].as_dict() for p, i in infos.items()}}),
          file=sys.stderr)
    real_rows, real_jitter, real_mouths = real_videos(args.real_seconds)
    overrides = {k: v for k, v in (("motion", args.motion), ("seed", args.seed)) if v is not None}
    tracks = {k: clip(CORPUS / "audio" / TRACKS[k], args.out / "tracks" / f"{k}.wav", args.seconds)
              for k in args.tracks}
    rows = sweep(infos, tracks, args.out, marker, overrides)
    base_rows = None
    if args.baseline:
        base_dir = args.out / "baseline"
        base_dir.mkdir(exist_ok=True)
        jobs = [(photo, audio, base_dir / f"{photo.stem}-{kind}.mp4") for photo in infos for kind, audio in
                tracks.items()]
        baseline(args.baseline, jobs, args.out)
        base_rows = [measure(out, photo, infos[photo], kind, audio, full=False)
                     for (photo, audio, out), kind in zip(jobs, [k for _ in infos for k in tracks])]
    sheet = contact_sheet_of_clips([Path(r["video"]) for r in rows if r["track"] == args.tracks[0]],
                                   args.out / "sweep.png")
    eyes = blink_sheet([(Path(r["video"]), r["eyes_least_open_frame"]) for r in rows
                        if r["track"] == args.tracks[0]], args.out / "blinks.png")
    mouths = mouth_sheet(rows, args.sheet or args.out / "mouths.png", base_rows)
    result = {"summary": summary(rows, real_jitter, real_rows, real_mouths, base_rows), "seed": args.seed,
              "real_videos": [public(r) for r in real_rows], "clips": [public(r, "mouth_stats") for r in rows],
              "baseline_clips": [public(r, "mouth_stats") for r in base_rows or []],
              "contact_sheet": str(sheet.resolve()), "blink_sheet": str(eyes.resolve()),
              "mouth_sheet": str(mouths.resolve()), "seconds": round(time.perf_counter() - started, 1)}
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
