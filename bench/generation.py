"""Engine speed on this machine: `python -m bench.generation --photo P --audio A --json`.

The video it writes is watermarked like any other (with a bench payload id that
the registry never issues) and is kept for a person to look at."""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from generation.audio import decode_audio
from generation.controls import Controls
from generation.pipeline import generate_video
from provenance.videomark import VideoWatermarker

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
BENCH_REGISTRY_ID = 2**32 - 1  # reserved: never issued by the registry


def run(photo: Path, audio: Path, out: Path, controls: Controls, backend_options: dict | None = None) -> dict:
    seconds = decode_audio(audio).duration
    started = time.perf_counter()
    result = generate_video(photo, audio, out, marker=VideoWatermarker(BENCH_REGISTRY_ID), controls=controls,
                            backend_options=backend_options)
    wall = time.perf_counter() - started
    return {
        "fps": round(result.frames / wall, 2),
        "rtf": round(wall / seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "frames": result.frames,
        "width": result.width,
        "height": result.height,
        "audio_seconds": round(seconds, 2),
        "wall_seconds": round(wall, 2),
        "engine": f"{result.engine} {result.engine_version}",
        "backend": f"{result.backend} {result.backend_version}",
        "output": str(out.resolve()),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "elizabeth_olsen.jpg")
    p.add_argument("--audio", type=Path, default=CORPUS / "audio" / "hdtf_radio31_en.wav")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "generation.mp4")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--backend", default="warp", help="warp (default) or diffusion")
    p.add_argument("--motion", default=None, help="procedural or learned (warp backend)")
    p.add_argument("--weights", type=Path, help="diffusion weights folder (default: VERITALK_DIFFUSION_WEIGHTS)")
    p.add_argument("--tiny", action="store_true",
                   help="diffusion with a tiny random-weight checkpoint written under var/bench (the CPU path)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    options = None
    if args.backend == "diffusion":
        if args.tiny:
            from generation.backends.emo.weights import write_tiny_checkpoint
            args.weights = write_tiny_checkpoint(ROOT / "var" / "bench" / "tiny_diffusion")
            args.size = 256 if args.size == 512 else args.size
        options = {"weights": args.weights} if args.weights else None
    for f in (args.photo, args.audio):
        if not f.is_file():
            print(f"bench.generation: {f} not found (pass --photo/--audio; defaults come from ../shared/corpus)",
                  file=sys.stderr)
            return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    controls = Controls(size=args.size, backend=args.backend, **({"motion": args.motion} if args.motion else {}))
    result = run(args.photo, args.audio, args.out, controls, options)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
