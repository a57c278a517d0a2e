"""Robustness, quality and speed of the video watermark (vtss-3).

Clips: talking portraits rendered by generation.pipeline.generate_video at 512x512
from corpus photos and voice excerpts. The engine's raw frames are kept losslessly
in a cache (var/bench/watermark, gitignored), so the sweep marks them with
VideoWatermarker exactly as the watermark stage does, encodes them at the
pipeline's settings (H.264 CRF 18), then applies each attack of bench.attacks
and decodes. The engine's own CRF-18 file of the unmarked frames is kept too: it
is an "unwatermarked render" for the false-positive test, with the real corpus
videos.

    python -m bench.watermark --json [--clips 10] [--seconds 6] [--fp-windows 500]

Prints one JSON object: per attack `bit_accuracy` (mean over clips) and `decoded`
(fraction of clips whose payload came back exactly), plus `psnr_db`,
`embed_fps`, `decode_10s_seconds` and the false-positive count.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from bench import attacks
from bench.media import CORPUS, ROOT
from generation.audio import decode_audio, write_wav
from generation.controls import Controls
from generation.pipeline import generate_video
from provenance.payload import encode_payload
from provenance.videomark import CODEC_NAME, VideoWatermarker, decode_sum, read_video_watermark

CACHE = ROOT / "var" / "bench" / "watermark"
PHOTOS = ["obama_1.jpg", "elizabeth_olsen.jpg", "biden_2.jpg", "angelina_jolie.jpg", "jeff_bezos.jpg"]
VOICES = [("vctk_p240_en.mp3", 0.0), ("sr_english_en.wav", 0.0), ("librispeech_1034_en.flac", 2.0),
          ("hdtf_radio31_en.wav", 10.0)]
ATTACKS = {
    "none": lambda src, dst, tmp: Path(src),
    "crf23": lambda src, dst, tmp: attacks.reencode(src, dst, 23),
    "crf28": lambda src, dst, tmp: attacks.reencode(src, dst, 28),
    "crf35": lambda src, dst, tmp: attacks.reencode(src, dst, 35),
    "downscale50": lambda src, dst, tmp: attacks.downscale(src, dst, 0.5),
    "crop10": lambda src, dst, tmp: attacks.crop(src, dst, 0.1, seed=zlib.crc32(dst.name.encode())),
    "brightness+20": lambda src, dst, tmp: attacks.brightness(src, dst, 1.2),
    "brightness-20": lambda src, dst, tmp: attacks.brightness(src, dst, 0.8),
    "excerpt2s": lambda src, dst, tmp: attacks.excerpt(src, dst, 2.0),
    "fps15": lambda src, dst, tmp: attacks.frame_rate(src, dst, 15),
    "chain_crf28_down50_crop10": lambda src, dst, tmp: attacks.chain(src, dst, tmp),
}


def _voice_excerpt(name: str, start: float, seconds: float) -> Path:
    """A mono 16 kHz WAV excerpt of a corpus voice (generation takes whole files)."""
    out = CACHE / f"voice_{Path(name).stem}_{start:g}_{seconds:g}.wav"
    if not out.exists():
        audio = decode_audio(CORPUS / "audio" / name, sample_rate=16_000)
        write_wav(out, audio.mono[int(start * 16_000):int((start + seconds) * 16_000)], 16_000)
    return out


class _Recorder:
    """A pass-through marker that keeps the engine's raw frames (bench source only)."""

    def __init__(self):
        self.frames: list[np.ndarray] = []

    def mark(self, rgb):
        self.frames.append(rgb.copy())
        return rgb


def write_video(frames, path: Path, *, fps: int = 25, crf: int = 18, lossless: bool = False) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        opts = {"qp": "0", "preset": "ultrafast"} if lossless else {"crf": str(crf), "preset": "veryfast",
                                                                     "tune": "film"}
        s = out.add_stream("libx264", rate=fps, options=opts)
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = "yuv444p" if lossless else "yuv420p"
        s.time_base = Fraction(1, fps)
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def read_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def source_clips(n: int, seconds: float) -> list[dict]:
    """(Cached) raw engine frames of n clips: photo i % 5, voice i // 5."""
    CACHE.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(n):
        photo = PHOTOS[i % len(PHOTOS)]
        voice, start = VOICES[(i // len(PHOTOS)) % len(VOICES)]
        stem = f"clip{i:02d}_{Path(photo).stem}_{Path(voice).stem}_{seconds:g}s"
        raw, render = CACHE / f"{stem}.raw.mp4", CACHE / f"{stem}.unmarked.mp4"
        if not raw.exists() or not render.exists():
            rec = _Recorder()
            generate_video(CORPUS / "photos" / photo, _voice_excerpt(voice, start, seconds), render, marker=rec,
                           controls=Controls(size=512, seed=i, head_motion=1.0))
            write_video(rec.frames, raw, lossless=True)
        clips.append({"name": stem, "raw": raw, "unmarked": render, "registry_id": 1000 + 7919 * i})
    return clips


def bit_accuracy(reading, registry_id: int) -> float:
    if reading.soft_bits is None:
        return 0.5
    expected = encode_payload(registry_id).astype(bool)
    return float(np.mean((np.asarray(reading.soft_bits) > 0) == expected))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255 ** 2 / max(mse, 1e-12))


def _gray_windows(path: Path, window_s: float, stride_s: float, decode_scale_limit: int = 360):
    """Windows of luma frames decoded once per file, as the reader would see them."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        w, h = s.codec_context.width, s.codec_context.height
        rate = float(s.average_rate or 25)
        ds = 0.5 if min(w, h) >= decode_scale_limit else 1.0
        grays = [f.reformat(width=max(2, round(w * ds)), height=max(2, round(h * ds)), format="gray",
                            interpolation="AREA").to_ndarray() for f in c.decode(s)]
    n, stride = max(1, int(window_s * rate)), max(1, int(stride_s * rate))
    for start in range(0, max(1, len(grays) - n + 1), stride):
        yield grays[start:start + n], ds


def false_positives(unmarked: list[Path], windows: int) -> dict:
    """Decode windows of 2, 4 and 8 s from unwatermarked videos until `windows` were tried."""
    found, tried, best_z, per_source = 0, 0, 0.0, {}
    plan = [(2.0, 0.5), (4.0, 1.0), (8.0, 2.0), (1.0, 0.25)]
    while tried < windows:
        before = tried
        for window_s, stride_s in plan:
            for path in unmarked:
                for grays, ds in _gray_windows(path, window_s, stride_s):
                    if tried >= windows:
                        break
                    r = decode_sum(np.sum(np.asarray(grays, np.float32), axis=0), len(grays), ds)
                    tried += 1
                    found += int(r.found)
                    best_z = max(best_z, r.sync_z)
                    per_source[path.name] = per_source.get(path.name, 0) + 1
        plan = [(w / 2, s / 2) for w, s in plan]
        if tried == before:
            break
    return {"windows": tried, "payloads_decoded": found, "max_sync_z": round(best_z, 2),
            "sources": len(per_source)}


def run(n_clips: int, seconds: float, fp_windows: int, attack_names: list[str], log=print) -> dict:
    work = CACHE / "work"
    work.mkdir(parents=True, exist_ok=True)
    clips = source_clips(n_clips, seconds)
    results = {a: {"bit_accuracy": [], "decoded": []} for a in attack_names}
    psnrs, embed_s, embed_frames, decode_times = [], 0.0, 0, []
    for clip in clips:
        frames = read_rgb(clip["raw"])
        marker = VideoWatermarker(clip["registry_id"])
        t0 = time.perf_counter()
        marked = [marker.mark(f) for f in frames]
        embed_s += time.perf_counter() - t0
        embed_frames += len(frames)
        psnrs += [psnr(m, f) for m, f in zip(marked[::10], frames[::10])]
        src = write_video(marked, work / f"{clip['name']}.marked.mp4")
        for name in attack_names:
            dst = work / f"{clip['name']}.{name}.mp4"
            attacked = ATTACKS[name](src, dst, work)
            t0 = time.perf_counter()
            reading = read_video_watermark(attacked)
            if name == "none":
                decode_times.append((time.perf_counter() - t0) * 10.0 / (len(frames) / 25.0))
            ok = reading.found and reading.registry_id == clip["registry_id"]
            results[name]["bit_accuracy"].append(bit_accuracy(reading, clip["registry_id"]))
            results[name]["decoded"].append(ok)
            log(f"{clip['name']} {name}: decoded={ok} acc={results[name]['bit_accuracy'][-1]:.3f} "
                f"z={reading.sync_z} scale={reading.scale} nerr={reading.bit_errors}")
    attacks_out = {a: {"bit_accuracy": round(float(np.mean(v["bit_accuracy"])), 4),
                       "decoded": round(float(np.mean(v["decoded"])), 4),
                       "min_bit_accuracy": round(float(np.min(v["bit_accuracy"])), 4)} for a, v in results.items()}
    ten = _ten_second_decode(clips[0])
    unmarked = sorted((CORPUS / "videos").glob("*.mp4")) + [c["unmarked"] for c in clips]
    fp = false_positives(unmarked, fp_windows) if fp_windows else None
    return {
        "codec": CODEC_NAME, "clips": len(clips), "clip_seconds": seconds, "size": 512,
        "source": "generation.pipeline.generate_video renders of 5 corpus photos",
        "attacks": attacks_out,
        "psnr_db": {"min": round(min(psnrs), 2), "mean": round(float(np.mean(psnrs)), 2)},
        "embed_fps": round(embed_frames / embed_s, 1),
        "decode_10s_seconds": ten,
        "decode_seconds_per_10s_scaled": round(float(np.mean(decode_times)), 3) if decode_times else None,
        "false_positives": fp,
    }


def _ten_second_decode(clip) -> float:
    """Wall time of read_video_watermark on a 10 s, 512x512 marked clip (frames looped)."""
    frames = read_rgb(clip["raw"])
    frames = (frames * (250 // len(frames) + 1))[:250]
    marker = VideoWatermarker(clip["registry_id"])
    path = write_video([marker.mark(f) for f in frames], CACHE / "work" / "ten_seconds.mp4")
    t0 = time.perf_counter()
    reading = read_video_watermark(path)
    took = time.perf_counter() - t0
    assert reading.registry_id == clip["registry_id"], reading
    return round(took, 3)


def difference_image(path: Path) -> dict:
    """A x10 difference image of one marked frame (grey = unchanged) and the mark's
    amplitude on flat and on textured areas."""
    frame = read_rgb(source_clips(1, 6.0)[0]["raw"])[30]
    marked = VideoWatermarker(123456).mark(frame)
    delta = marked.astype(np.int16)[..., 1] - frame[..., 1]
    Image.fromarray(np.clip(128 + 10 * delta, 0, 255).astype(np.uint8)).save(path)
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    local = cv2.sqrt(np.maximum(cv2.blur(gray * gray, (9, 9)) - cv2.blur(gray, (9, 9)) ** 2, 0))
    flat, textured = local < 2.0, local > 8.0
    return {"path": str(path), "psnr_db": round(psnr(marked, frame), 2),
            "flat_fraction": round(float(flat.mean()), 3),
            "mean_abs_delta_flat": round(float(np.abs(delta[flat]).mean()), 3) if flat.any() else None,
            "max_abs_delta_flat": int(np.abs(delta[flat]).max()) if flat.any() else None,
            "mean_abs_delta_textured": round(float(np.abs(delta[textured]).mean()), 3) if textured.any() else None}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=10)
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--fp-windows", type=int, default=500)
    p.add_argument("--attacks", default=",".join(ATTACKS))
    p.add_argument("--json", action="store_true")
    p.add_argument("--diff-image", type=Path, help="write a x10 difference image of a marked frame here and stop")
    args = p.parse_args(argv)
    if not (CORPUS / "photos").is_dir():
        print(f"the corpus is absent ({CORPUS}); nothing to measure", file=sys.stderr)
        return 2
    if args.diff_image:
        print(json.dumps(difference_image(args.diff_image)))
        return 0
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    out = run(args.clips, args.seconds, args.fp_windows, args.attacks.split(","), log=log)
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
