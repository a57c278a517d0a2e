"""Engine speed on this machine: `python -m bench.generation --photo P --audio A --json`.

Times the whole path (photo and voice analysis, motion, render, watermark, encode)
in a warm worker (dlib's models already loaded, as `generation.face.warm_up` does in
the worker; the load time is reported apart). Runs it twice: with the provenance
watermarker and with a pass-through marker, so the engine's own speed shows apart
from the watermark codec's. Writes a contact sheet (a PNG grid of frames) next to
the video for a person to look at.

`--long` measures peak memory for 30 s and for 10 min of audio (made by
concatenating corpus tracks), each in its own process. `--quality` runs the sweep of
bench/generation_quality.py.

The video it writes is watermarked like any other (with a bench payload id that the
registry never issues) and is kept for a person to look at."""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import generation_quality
from bench.media import BENCH_REGISTRY_ID, CORPUS, ROOT, CountingMarker, contact_sheet
from generation.audio import decode_audio, write_wav
from generation.controls import DEFAULT_SIZE, Controls, control
from generation.errors import InvalidControl
from generation.face import warm_up
from generation.pipeline import generate_video
from provenance.videomark import VideoWatermarker


def warm() -> float:
    t = time.perf_counter()
    warm_up(("hog", "shape"))   # what the warp engine uses
    return round(time.perf_counter() - t, 2)


def timed(photo: Path, audio: Path, out: Path, controls: Controls, marker, backend_options=None) -> dict:
    started = time.perf_counter()
    result = generate_video(photo, audio, out, marker=marker, controls=controls, backend_options=backend_options)
    wall = time.perf_counter() - started
    return {"fps": round(result.frames / wall, 2), "rtf": round(wall / result.audio_seconds, 3),
            "wall_seconds": round(wall, 2), "frames": result.frames, "width": result.width,
            "height": result.height, "audio_seconds": round(result.audio_seconds, 2),
            "engine": f"{result.engine} {result.engine_version}",
            "backend": f"{result.backend} {result.backend_version}"}


def run(photo: Path, audio: Path, out: Path, controls: Controls, *, watermark: bool = True,
        passthrough: bool = True, backend_options: dict | None = None) -> dict:
    result: dict = {"model_load_seconds": warm()}
    if passthrough:
        plain = timed(photo, audio, out.with_name(out.stem + "-nomark.mp4"), controls, CountingMarker(),
                      backend_options)
        result.update({f"{k}_no_watermark": v for k, v in plain.items() if k in ("fps", "rtf", "wall_seconds")})
        result.update({k: v for k, v in plain.items() if k not in ("fps", "rtf", "wall_seconds")})
    if watermark:
        marked = timed(photo, audio, out, controls, VideoWatermarker(BENCH_REGISTRY_ID), backend_options)
        result.update(marked)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    video = out if watermark else out.with_name(out.stem + "-nomark.mp4")
    result["output"] = str(video.resolve())
    result["contact_sheet"] = str(contact_sheet(video, video.with_suffix(".png")).resolve())
    return result


def long_audio(path: Path, seconds: float) -> Path:
    """A WAV of `seconds` made by concatenating the corpus's voice tracks (16-bit, 16 kHz mono)."""
    tracks = sorted((CORPUS / "audio").glob("*"))
    if not tracks:
        raise FileNotFoundError(f"no corpus audio in {CORPUS / 'audio'}")
    need, parts, i = int(seconds * 16000), [], 0
    while sum(map(len, parts)) < need:
        parts.append(decode_audio(tracks[i % len(tracks)]).mono)
        i += 1
    return write_wav(path, np.concatenate(parts)[:need], 16000)


def memory_profile(photo: Path, size: str, out_dir: Path, lengths=(30.0, 600.0)) -> dict:
    """Peak RSS of a whole generation for each audio length, each in a fresh process."""
    rows = {}
    for seconds in lengths:
        audio = long_audio(out_dir / f"long-{int(seconds)}s.wav", seconds)
        cmd = [sys.executable, "-m", "bench.generation", "--photo", str(photo), "--audio", str(audio),
               "--size", str(size), "--out", str(out_dir / f"long-{int(seconds)}s.mp4"), "--json", "--no-watermark"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout)
        rows[f"{int(seconds)}s"] = {k: r[k] for k in ("peak_rss_mb", "fps_no_watermark", "rtf_no_watermark", "frames")}
    a, b = (rows[f"{int(s)}s"]["peak_rss_mb"] for s in lengths)
    return {"runs": rows, "rss_ratio": round(b / a, 3)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "elizabeth_olsen.jpg")
    p.add_argument("--audio", type=Path, default=CORPUS / "audio" / "hdtf_radio31_en.wav")
    p.add_argument("--out", type=Path, help="the video (default var/bench/generation.mp4); with --quality, the folder")
    p.add_argument("--size", default=DEFAULT_SIZE,
                   help="frame size WxH, or N for a square: " + ", ".join(control("size").choices))
    p.add_argument("--no-watermark", action="store_true", help="only the pass-through run")
    p.add_argument("--long", action="store_true", help="peak memory for 30 s and 10 min of audio")
    p.add_argument("--quality", action="store_true", help="the photos x voice tracks quality sweep")
    p.add_argument("--backend", default="warp", help="warp (default) or diffusion")
    p.add_argument("--motion", help="procedural or learned (the warp backend's motion)")
    p.add_argument("--weights", type=Path, help="diffusion weights folder (default: VERITALK_DIFFUSION_WEIGHTS)")
    p.add_argument("--tiny", action="store_true",
                   help="diffusion with a tiny random-weight checkpoint written under var/bench (the CPU path)")
    p.add_argument("--json", action="store_true")
    args, rest = p.parse_known_args(argv)
    try:
        args.size = control("size").clean(args.size)
    except InvalidControl as exc:
        print(f"bench.generation: {exc}", file=sys.stderr)
        return 2
    options = None
    if args.backend == "diffusion":
        if args.tiny:
            from generation.backends.emo.weights import write_tiny_checkpoint  # noqa: PLC0415 - heavy (torch, diffusers): only with --tiny
            args.weights = write_tiny_checkpoint(ROOT / "var" / "bench" / "tiny_diffusion")
            args.size = "256x256" if args.size == DEFAULT_SIZE else args.size
        options = {"weights": args.weights} if args.weights else None
    if args.quality:
        return generation_quality.main(rest + (["--json"] if args.json else [])
                                       + (["--motion", args.motion] if args.motion else [])
                                       + (["--out", str(args.out)] if args.out else []))
    args.out = args.out or ROOT / "var" / "bench" / "generation.mp4"
    for f in (args.photo, args.audio):
        if not f.is_file():
            print(f"bench.generation: {f} not found (pass --photo/--audio; defaults come from ../shared/corpus)",
                  file=sys.stderr)
            return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.long:
        result = memory_profile(args.photo, args.size, args.out.parent)
    else:
        controls = Controls(size=args.size, backend=args.backend, **({"motion": args.motion} if args.motion else {}))
        try:
            result = run(args.photo, args.audio, args.out, controls, watermark=not args.no_watermark,
                         backend_options=options)
        except ValueError as exc:
            from generation.backends.emo.weights import CheckpointError  # noqa: PLC0415 - heavy (torch, diffusers): only to name the diffusion backend's error
            if not isinstance(exc, CheckpointError):
                raise
            print(f"bench.generation: {exc}", file=sys.stderr)   # a model folder or file the backend cannot use
            return 2
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
