"""Can English phones drive a live mouth? How long after a phone starts pocketsphinx's
phone loop settles on it, fed 20 ms at a time as a live voice arrives.

    python -m bench.live_phones [--audio A ...] --json

For each phone of the final segmentation (fillers aside), the settle time is how long
after the phone's start every later partial segmentation holds exactly that phone
(label and boundaries). A live frame may look 80 ms ahead at most, so phones can only
shape the mouth if they settle within that of their start."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from generation.audio import decode_audio
from generation.phonemes import FILLERS, new_decoder

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "audio"
DEFAULT = ["hdtf_radio31_en.wav", "sr_english_en.wav", "librispeech_1034_en.flac", "vctk_p240_en.mp3"]


def settle_times(path: Path, seconds: float = 12.0) -> tuple[list[float], float]:
    x = decode_audio(path).mono[: int(16000 * seconds)]
    pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)
    decoder = new_decoder()
    decoder.start_utt()
    partials = []
    started = time.perf_counter()
    for k in range(0, len(pcm), 320):
        decoder.process_raw(pcm[k:k + 320].tobytes(), False, False)
        partials.append(((k + 320) / 16000, {(s.word, s.start_frame, s.end_frame) for s in decoder.seg() or []}))
    cost = time.perf_counter() - started
    decoder.end_utt()
    out = []
    for s in decoder.seg():
        if s.word in FILLERS:
            continue
        phone, settled = (s.word, s.start_frame, s.end_frame), None
        for fed, segs in partials:
            settled = (settled if settled is not None else fed) if phone in segs else None
        if settled is not None:
            out.append(settled - s.start_frame / 100)
    return out, cost / (len(pcm) / 16000)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--audio", type=Path, nargs="*", default=[CORPUS / n for n in DEFAULT])
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    files = [f for f in a.audio if f.is_file()]
    if not files:
        print("no voice file found (the corpus is absent?)", file=sys.stderr)
        return 2
    delays, rtfs = [], []
    for f in files:
        d, rtf = settle_times(f)
        delays += d
        rtfs.append(rtf)
    d = np.array(delays) * 1000
    out = {"phones": int(len(d)), "settle_p10_ms": round(float(np.percentile(d, 10)), 1),
           "settle_p50_ms": round(float(np.percentile(d, 50)), 1),
           "settle_p90_ms": round(float(np.percentile(d, 90)), 1),
           "within_80_ms": round(float(np.mean(d <= 80)), 3), "rtf": round(float(np.mean(rtfs)), 3),
           "files": [f.name for f in files]}
    print(json.dumps(out) if a.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
