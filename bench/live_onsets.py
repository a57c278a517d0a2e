"""The live mouth's onset latency over every corpus voice, without a server.

    python -m bench.live_onsets [--seconds 60] [--seed K] [--delivery-ms 32] --json

bench.live measures a whole session (server, encoder, WebSocket, client decode) on one
voice; this runs only the streaming mouth (generation.live.mouth) on bench.live's voice
programme for each voice in the corpus (languages, singing, noisy recordings), with its
onsets and its "open" threshold, and prices the rest by `--delivery-ms` after the frame's
window has arrived (render, mark, encode, deliver: 32 ms is what the quiet 10-minute runs
show, 76-77 ms of frame delay less the 45 ms the window needs). Each voice gets its own
programme seed drawn from `--seed` (printed); the report gives every voice and the worst."""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from scipy.signal import resample_poly

from bench.live import CORPUS, RATE, programme
from generation.live.mouth import ANALYSIS_RATE, StreamingMouth


def onset_latencies(pcm: np.ndarray, onsets: list[int], delivery_s: float) -> list[float]:
    """Milliseconds from each valid onset to the first frame showing the mouth open."""
    x = resample_poly(pcm.astype(np.float32) / 32768, 1, RATE // ANALYSIS_RATE).astype(np.float32)
    mouth, frames = StreamingMouth(25), []
    for k in range(0, len(x), 320):                      # 20 ms chunks, as the client sends them
        mouth.feed(x[k:k + 320])
        frames += mouth.frames()
    jaw = np.array([f.jaw for f in frames])
    base, top = float(np.median(jaw[:15])), float(np.percentile(jaw, 95))
    threshold = base + 0.3 * (top - base)                 # bench.live's rule, on the jaw
    shown = np.array([mouth.needed_samples(i) / ANALYSIS_RATE for i in range(len(jaw))]) + delivery_s
    out = []
    for onset in onsets:
        t = onset / RATE
        after, before = np.flatnonzero((shown >= t) & (shown < t + 1.0)), np.flatnonzero(shown < t)
        if len(after) == 0 or len(before) == 0 or jaw[before[-1]] > threshold:
            continue                                      # the mouth was not closed at the onset
        opened = after[jaw[after] > threshold]
        if len(opened):
            out.append(float((shown[opened[0]] - t) * 1000))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--delivery-ms", type=float, default=32.0)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    voices = sorted((CORPUS / "audio").glob("*")) if (CORPUS / "audio").is_dir() else []
    if not voices:
        print("no voice file found (the corpus is absent?)", file=sys.stderr)
        return 2
    seed = a.seed if a.seed is not None else int(np.random.SeedSequence().entropy % (1 << 24))
    print(f"bench.live_onsets: seed {seed}", file=sys.stderr)
    rng = np.random.default_rng(seed)
    per_voice, every = {}, []
    for path in voices:
        pcm, onsets = programme(path, a.seconds, int(rng.integers(1 << 30)))
        lat = onset_latencies(pcm, onsets, a.delivery_ms / 1000)
        every += lat
        per_voice[path.name] = {"onsets": len(lat), "p50_ms": round(float(np.median(lat)), 1) if lat else None,
                                "p95_ms": round(float(np.percentile(lat, 95)), 1) if lat else None}
    measured = {k: v for k, v in per_voice.items() if v["p95_ms"] is not None}
    worst = max(measured, key=lambda k: measured[k]["p95_ms"])
    out = {"seed": seed, "seconds": a.seconds, "delivery_ms": a.delivery_ms, "onsets": len(every),
           "p50_ms": round(float(np.median(every)), 1), "p95_ms": round(float(np.percentile(every, 95)), 1),
           "worst_voice": worst, "worst_voice_p95_ms": measured[worst]["p95_ms"], "voices": per_voice}
    print(json.dumps(out) if a.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
