"""Live sessions measured on the client: a voice played into N sessions in real time.

    python -m bench.live --photo P --audio A [--sessions N] [--seconds S] [--size 512] [--seed K] --json

A server process is started (`--serve`: the project's ASGI app under uvicorn on a free
loopback port, a fresh SQLite database and signing chain in a temporary folder, a
vetted creator with a subject enrolled from the photo who consented to `live`). The
client opens each session through the REST API, then streams a voice programme over
the session's WebSocket paced to the clock in 20 ms chunks: utterances cut from
`--audio` (lengths drawn from 1.2-3.0 s) separated by silences (0.5-1.2 s), drawn
from `--seed` (printed). It decodes every video fragment it receives (H.264 in
fragmented MP4, as a browser's Media Source Extensions would) and measures:

- latency: from a voice onset (the moment the first voiced sample after a silence
  happened, in real time) to the arrival of the first frame whose mouth is open: the
  share of dark (cavity) pixels in the mouth box exceeds the silent baseline by 30 %
  of the way to the session's 95th percentile;
- fps (pictures delivered per second), dropped_frames (frame slots whose picture the
  server skipped because it was late: the previous picture covers them), arrival jitter;
- the server process's peak RSS and its RSS over the first and the last minute (flat
  memory means these agree).
Speed figures: take them on a quiet machine."""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import av
import cv2
import django
import numpy as np
import uvicorn
import websockets
from django.core.management import call_command
from PIL import Image, ImageDraw

from generation.audio import decode_audio
from generation.controls import Controls
from generation.face import warm_up
from generation.images import load_image_file
from generation.live.fmp4 import media_timescale
from generation.live.fmp4 import samples as fragment_samples
from generation.live.session import LiveEngine
from provenance.videomark import VideoWatermarker

RATE = 48_000
CHUNK = 960
ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


# -- the voice programme -----------------------------------------------------------------------
def programme(audio: Path, seconds: float, seed: int) -> tuple[np.ndarray, list[int]]:
    """(int16 samples at 48 kHz, onset sample indices): utterances separated by silences."""
    voice = decode_audio(audio, sample_rate=RATE).mono
    rng = np.random.default_rng(seed)
    hop = RATE // 100
    level = 10 * np.log10(np.array([np.mean(voice[i:i + hop] ** 2) for i in range(0, len(voice) - hop, hop)]) + 1e-10)
    parts, onsets, total = [np.zeros(int(0.8 * RATE), np.float32)], [], int(0.8 * RATE)
    while total < seconds * RATE:
        length = rng.uniform(1.2, 3.0)
        start = int(rng.uniform(0, max(1.0, len(voice) / RATE - length)) * RATE)
        # start and end at the quietest 10 ms within 0.3 s, so words are not cut in half
        def quiet(at):
            a, b = max(0, at // hop - 30), min(len(level), at // hop + 30)
            return (a + int(np.argmin(level[a:b]))) * hop if b > a else at
        s, e = quiet(start), quiet(start + int(length * RATE))
        piece = voice[s:e]
        if len(piece) < RATE // 2:
            continue
        frames = np.array([np.mean(piece[i:i + hop] ** 2) for i in range(0, len(piece) - hop, hop)])
        db = 10 * np.log10(frames + 1e-10)
        # the voice's onset, not the room's: an excerpt may open on 0.1-0.3 s of its recording's
        # background noise (about -38 dBFS in hdtf_radio31), which is above -40 dBFS but no voice
        loud = np.flatnonzero(db > max(-40.0, db.max() - 30.0, float(np.percentile(db, 10)) + 12.0))
        if len(loud) == 0:
            continue
        onsets.append(total + int(loud[0]) * hop)
        gap = np.zeros(int(rng.uniform(0.5, 1.2) * RATE), np.float32)
        parts += [piece, gap]
        total += len(piece) + len(gap)
    pcm = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype("<i2")
    return pcm[: int(seconds * RATE)], [o for o in onsets if o < seconds * RATE - RATE]


# -- reading fragmented MP4 ------------------------------------------------------------------
def avcc_and_timescale(init: bytes) -> tuple[bytes, int]:
    i = init.find(b"avcC")
    size = struct.unpack_from(">I", init, i - 4)[0]
    return init[i + 4: i - 4 + size], media_timescale(init)


# -- one client session ------------------------------------------------------------------------
class Client:
    def __init__(self, base: str, token: str, subject: int, photo: Path, size: int):
        self.base, self.token, self.subject, self.photo, self.size = base, token, subject, photo, size
        self.frames: list[tuple[float, int, float]] = []      # (arrival, media index, mouth openness)
        self.ready = self.ended = None
        self.t0 = None

    def open(self) -> str:
        boundary = uuid.uuid4().hex
        body = io.BytesIO()
        for name, value in (("subject", str(self.subject)), ("size", str(self.size))):
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{self.photo.name}"\r\n'
                   f'Content-Type: application/octet-stream\r\n\r\n'.encode() + self.photo.read_bytes() + b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        req = urllib.request.Request(f"http://{self.base}/api/live/sessions/", data=body.getvalue(), method="POST",
                                     headers={"Authorization": f"Token {self.token}",
                                              "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(req, timeout=120) as r:
            session = json.loads(r.read())
        if session["status"] != "ready":
            raise SystemExit(f"the live session was not opened: {session}")
        return session["id"]

    async def run(self, pcm: np.ndarray) -> None:
        session = await asyncio.to_thread(self.open)
        decoder = None
        timescale = 1
        async with websockets.connect(f"ws://{self.base}/live/{session}/ws/", max_size=None, open_timeout=60,
                                      additional_headers={"Authorization": f"Token {self.token}"}) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": RATE}))

            async def receive():
                nonlocal decoder, timescale
                try:
                    await consume()
                except websockets.ConnectionClosed:
                    pass

            async def consume():
                nonlocal decoder, timescale
                async for msg in ws:
                    now = time.monotonic()
                    if isinstance(msg, str):
                        m = json.loads(msg)
                        if m["type"] == "ready":
                            self.ready = m
                        elif m["type"] == "ended":
                            self.ended = m
                        continue
                    kind = msg[0]
                    if kind == 1:
                        avcc, timescale = avcc_and_timescale(msg[5:])
                        decoder = av.CodecContext.create("h264", "r")
                        decoder.extradata = avcc
                    elif kind == 2 and decoder is not None:
                        for t, data in fragment_samples(msg[5:]):
                            for frame in decoder.decode(av.Packet(data)):
                                x0, y0, x1, y1 = self.ready["mouth_box"]
                                gray = cv2.cvtColor(frame.to_ndarray(format="rgb24")[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
                                fps = self.ready["fps"]
                                self.frames.append((now, int(round(t * fps / timescale)), float((gray < 60).mean())))

            reader = asyncio.create_task(receive())
            while self.ready is None:
                await asyncio.sleep(0.01)
            self.t0 = t0 = time.monotonic()
            try:
                for i in range(0, len(pcm), CHUNK):
                    await asyncio.sleep(max(0.0, t0 + (i + CHUNK) / RATE - time.monotonic()))
                    await ws.send(pcm[i:i + CHUNK].tobytes())
                    if self.ended:
                        break
                await asyncio.sleep(0.5)
                await ws.send(json.dumps({"type": "stop"}))
            except websockets.ConnectionClosed:
                pass                      # the server ended the session (its `ended` says why)
            await asyncio.wait_for(reader, timeout=300)

    def measure(self, onsets: list[int]) -> dict:
        arr = np.array(self.frames)
        arrival, index, mouth = arr[:, 0], arr[:, 1].astype(int), arr[:, 2]
        silent = mouth[: max(5, int(0.6 * self.ready["fps"]))]
        base, top = float(np.median(silent)), float(np.percentile(mouth, 95))
        threshold = base + 0.3 * (top - base)
        latencies, missed, when = [], 0, []
        for onset in onsets:
            t = self.t0 + onset / RATE
            after = np.flatnonzero((arrival >= t) & (arrival < t + 1.0))
            before = np.flatnonzero(arrival < t)
            # the picture on screen at the onset must show the mouth closed (the silence before
            # it); the first frame to arrive after the onset may already open for it
            if len(after) == 0 or len(before) == 0 or mouth[before[-1]] > threshold:
                missed += 1            # no frame, or the mouth had not closed in the silence before
                continue
            opened = after[mouth[after] > threshold]
            if len(opened) == 0:
                missed += 1
                continue
            latencies.append((arrival[opened[0]] - t) * 1000)
            when.append(onset / RATE)
        span = arrival[-1] - arrival[0]
        gaps = int(np.sum(np.diff(index) - 1)) if len(index) > 1 else 0
        ideal = arrival[0] + (index - index[0]) / self.ready["fps"]
        jitter = (arrival - ideal) - np.median(arrival - ideal)
        # Drift: each minute's median onset latency, and how late frame i arrives after its own
        # media time (t0 + i / fps), so a delay that grows over the session shows.
        minute = (arrival - self.t0) // 60
        delay = (arrival - self.t0 - index / self.ready["fps"]) * 1000
        by_minute = {
            "latency_p50_ms": [round(float(np.median([lat for lat, w in zip(latencies, when) if w // 60 == m])), 1)
                               if any(w // 60 == m for w in when) else None for m in range(int(minute.max()) + 1)],
            "frame_delay_p50_ms": [round(float(np.median(delay[minute == m])), 1) if np.any(minute == m) else None
                                   for m in range(int(minute.max()) + 1)]}
        return {"latencies": latencies, "missed_onsets": missed, "frames": len(index), "by_minute": by_minute,
                "fps": (len(index) - 1) / span if span > 0 else 0.0,
                # pictures the server skipped (their slots are covered by the previous fragment, so
                # the stream has no gaps); gaps in the decode times only if the server did not say
                "dropped": int(self.ended.get("dropped", 0)) if self.ended else max(gaps, 0),
                "jitter_p99_ms": float(np.percentile(np.abs(jitter), 99) * 1000), "seconds": float(span),
                "verdict": (self.ended or {}).get("verdict"), "ended": (self.ended or {}).get("reason"),
                "server_busy_ms_per_frame": (self.ended or {}).get("busy_ms_per_frame"),
                "mouth_threshold": round(threshold, 4)}


# -- the server --------------------------------------------------------------------------------
def serve(photo: Path, sessions: int, seconds: float, port_file: Path) -> None:
    """Child process: fresh database and signing chain, seeded users, uvicorn."""
    var = Path(tempfile.mkdtemp(prefix="veritalk-live-bench-"))
    os.environ.update({"VERITALK_VAR_DIR": str(var), "VERITALK_SIGNING_DIR": str(var / "signing"),
                       "DJANGO_SETTINGS_MODULE": "veritalk.settings", "VERITALK_ENV": "development",
                       "VERITALK_LIVE_MAX_PER_CREATOR": str(sessions), "VERITALK_LIVE_MAX_PER_PROCESS": str(sessions),
                       "VERITALK_LIVE_MAX_SECONDS": str(seconds + 120)})
    os.environ.pop("DATABASE_URL", None)
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    django.setup()
    from rest_framework.authtoken.models import Token  # noqa: PLC0415 - after django.setup()

    from accounts.models import User  # noqa: PLC0415 - after django.setup()
    from consent.services import enrol_subject, grant_consent  # noqa: PLC0415 - after django.setup()
    call_command("migrate", verbosity=0)
    call_command("init_signing", verbosity=0)
    creator = User.objects.create_user("bench-creator", role="creator", vetted=True)
    subject = enrol_subject(creator=creator, display_name="Bench subject", photo_bytes=photo.read_bytes())
    grant_consent(subject=subject, creator=creator, purposes=["live"], statement="bench")
    token = Token.objects.create(user=creator).key
    from veritalk.asgi import application  # noqa: PLC0415 - after django.setup()
    warm_up()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port_file.write_text(json.dumps({"port": sock.getsockname()[1], "token": token, "subject": subject.pk,
                                     "var": str(var)}))
    try:
        uvicorn.Server(uvicorn.Config(application, log_level="warning", lifespan="off",
                                      ws="websockets-sansio")).run(sockets=[sock])
    finally:
        shutil.rmtree(var, ignore_errors=True)


def _rss(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of `pid` in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def _watch(pid: int, samples: list, stop: asyncio.Event):
    while not stop.is_set():
        samples.append((time.monotonic(), _rss(pid)[0]))
        try:
            await asyncio.wait_for(stop.wait(), timeout=2.0)
        except asyncio.TimeoutError:
            pass


def run(photo: Path, audio: Path, sessions: int, seconds: float, size: int, seed: int) -> dict:
    port_file = Path(tempfile.mkstemp(prefix="veritalk-live-port-")[1])
    port_file.write_text("")
    server = subprocess.Popen([sys.executable, "-m", "bench.live", "--serve", "--photo", str(photo), "--sessions",
                               str(sessions), "--seconds", str(seconds), "--port-file", str(port_file)], cwd=ROOT)
    try:
        for _ in range(1200):
            if port_file.read_text().strip() or server.poll() is not None:
                break
            time.sleep(0.1)
        info = json.loads(port_file.read_text())
        pcm, onsets = programme(audio, seconds, seed)
        clients = [Client(f"127.0.0.1:{info['port']}", info["token"], info["subject"], photo, size)
                   for _ in range(sessions)]

        async def all_sessions():
            memory, stop = [], asyncio.Event()
            watcher = asyncio.create_task(_watch(server.pid, memory, stop))
            await asyncio.gather(*(c.run(pcm) for c in clients))
            stop.set()
            await watcher
            return memory

        started = time.monotonic()
        memory = asyncio.run(all_sessions())
        wall = time.monotonic() - started
        peak = _rss(server.pid)[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        port_file.unlink(missing_ok=True)
    results = [c.measure(onsets) for c in clients]
    lat = np.array([x for r in results for x in r["latencies"]])
    t = np.array([m[0] for m in memory]) - (memory[0][0] if memory else 0)
    rss = np.array([m[1] for m in memory])
    first = rss[t <= 60] if len(rss) else rss
    last = rss[t >= t[-1] - 60] if len(rss) else rss
    return {
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
        "latency_p95_ms": round(float(np.percentile(lat, 95)), 1) if len(lat) else None,
        "latency_max_ms": round(float(lat.max()), 1) if len(lat) else None,
        "onsets_measured": int(len(lat)), "onsets_missed": int(sum(r["missed_onsets"] for r in results)),
        "fps": round(min(r["fps"] for r in results), 2),
        "dropped_frames": int(sum(r["dropped"] for r in results)),
        "arrival_jitter_p99_ms": round(max(r["jitter_p99_ms"] for r in results), 1),
        "peak_rss_mb": round(peak, 1),
        "rss_first_minute_mb": round(float(np.median(first)), 1) if len(first) else None,
        "rss_last_minute_mb": round(float(np.median(last)), 1) if len(last) else None,
        # each minute's median: memory that settles (allocator, the recording's sample tables)
        # shows as steps that stop; a leak as a slope that does not
        "rss_by_minute_mb": [round(float(np.median(rss[(t // 60) == m])), 1) for m in range(int(t[-1] // 60) + 1)
                             if np.any((t // 60) == m)] if len(rss) else [],
        "seconds": round(wall, 1), "sessions": sessions, "size": size, "seed": seed,
        "per_session": [{k: v for k, v in r.items() if k != "latencies"} for r in results],
    }


# -- what it looks like ------------------------------------------------------------------------
def contact_sheet(photo: Path, audio: Path, out: Path, size: int = 512) -> dict:
    """Runs the engine in this process (no server) on silence, speech, silence, speech,
    paced in real time, and draws from its recording: `live-frames.png` (twelve frames
    with the mouth measure) and `live-mouth.png` (the mouth measured on every frame
    against the voice's level)."""
    import matplotlib  # noqa: PLC0415 - matplotlib: only with --sheet
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib: only with --sheet
    voice = decode_audio(audio, sample_rate=RATE).mono
    z = lambda s: np.zeros(int(s * RATE), np.float32)  # noqa: E731
    prog = np.concatenate([z(1.5), voice[:3 * RATE], z(1.2), voice[3 * RATE:int(5.5 * RATE)], z(1.0)])
    done = threading.Event()
    recording = Path(tempfile.mkdtemp(prefix="veritalk-live-sheet-")) / "live.mp4"
    engine = LiveEngine(load_image_file(photo), marker=VideoWatermarker(42), recording=recording,
                        on_output=lambda kind, i, d: done.set() if kind == "end" else None,
                        controls=Controls(size=size), input_rate=RATE, max_seconds=60)
    engine.start()
    t0 = time.monotonic()
    for j in range(0, len(prog), CHUNK):
        time.sleep(max(0.0, t0 + (j + CHUNK) / RATE - time.monotonic()))
        engine.feed((np.clip(prog[j:j + CHUNK], -1, 1) * 32767).astype("<i2").tobytes())
    time.sleep(0.3)
    engine.stop("stopped")
    done.wait(60)
    x0, y0, x1, y1 = engine.mouth_box
    with av.open(str(recording)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    with av.open(str(recording)) as c:
        sound = np.concatenate([f.to_ndarray().mean(0) for f in c.decode(audio=0)])
    shutil.rmtree(recording.parent, ignore_errors=True)
    mouth = np.array([(cv2.cvtColor(f[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY) < 60).mean() for f in frames])
    hop = RATE // 25
    level = np.array([10 * np.log10(np.mean(sound[i * hop:(i + 1) * hop] ** 2) + 1e-10) for i in range(len(frames))])
    t = np.arange(len(frames)) / 25
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax2 = ax.twinx()
    ax.plot(t, level, color="#888", lw=1, label="voice level (dBFS, recording)")
    ax.set_ylim(-80, -5)
    ax.set_ylabel("dBFS")
    ax.set_xlabel("media time (s)")
    ax2.plot(t, mouth, color="#b3261e", lw=1.5, label="mouth: dark share of the mouth box (frames)")
    ax2.set_ylabel("mouth openness")
    fig.legend(loc="lower center", ncol=2, fontsize=8)
    ax.set_title(f"Live session, {size}x{size}: mouth from the streamed frames against the voice")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "live-mouth.png", dpi=100)
    tiles = []
    for s in (0.6, 1.0, 1.6, 1.8, 2.2, 2.8, 3.4, 4.2, 4.8, 5.4, 6.2, 7.0):
        i = min(int(s * 25), len(frames) - 1)
        im = Image.fromarray(frames[i]).resize((256, 256))
        d = ImageDraw.Draw(im)
        d.rectangle([0, 0, 255, 16], fill=(0, 0, 0))
        d.text((4, 3), f"t={i / 25:.2f}s  mouth={mouth[i]:.3f}", fill=(255, 255, 255))
        tiles.append(im)
    sheet = Image.new("RGB", (256 * 6, 256 * 2))
    for k, im in enumerate(tiles):
        sheet.paste(im, ((k % 6) * 256, (k // 6) * 256))
    sheet.save(out / "live-frames.png")
    return {"frames": engine.frames, "dropped": engine.dropped, "mouth_level_correlation":
            round(float(np.corrcoef(mouth, level)[0, 1]), 3), "images": [str(out / "live-frames.png"),
                                                                         str(out / "live-mouth.png")]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photo", type=Path, default=CORPUS / "photos" / "elizabeth_olsen.jpg")
    p.add_argument("--audio", type=Path, default=CORPUS / "audio" / "hdtf_radio31_en.wav")
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each session's voice programme")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--sheet", type=Path, help="write live-frames.png and live-mouth.png to this folder instead")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.serve:
        serve(a.photo, a.sessions, a.seconds, a.port_file)
        return 0
    for f in (a.photo, a.audio):
        if not f.is_file():
            print(f"{f} not found (the corpus is absent?)", file=sys.stderr)
            return 2
    if a.sheet:
        print(json.dumps(contact_sheet(a.photo, a.audio, a.sheet, a.size)))
        return 0
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(3), "big")
    print(f"bench.live: seed {seed}", file=sys.stderr)
    result = run(a.photo, a.audio, a.sessions, a.seconds, a.size, seed)
    print(json.dumps(result) if a.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
