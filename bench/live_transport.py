"""Which transport for live sessions: the latency each adds to a frame, on loopback.

    python -m bench.live_transport [--frames 250] [--size 512] --json

The same watermarked 512x512 portrait frames (the live engine's own rig, moving its
mouth) are offered at 25 fps, in one process, to:
- websocket-fmp4: H.264 (x264 zerolatency) in one fMP4 fragment per frame
  (generation.live.stream), over a WebSocket (the `websockets` library, as uvicorn
  serves it), decoded by the client with PyAV;
- webrtc-vp8 and webrtc-h264: an aiortc peer connection pair (RTP over UDP on
  loopback, aiortc's own encoders, jitter buffer and decoders).
Latency is the time from the frame being handed to the transport to the client
holding the decoded frame. Needs `aiortc` (pip install 'veritalk[webrtc-bench]')."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import websockets

from generation.encode import WatermarkStage
from generation.face import analyse_face
from generation.framing import frame_portrait
from generation.images import load_image_file
from generation.live.fmp4 import samples
from generation.live.stream import LiveEncoder
from generation.rig import PortraitRig
from provenance.videomark import VideoWatermarker

ROOT = Path(__file__).resolve().parents[1]
FPS = 25


def frames(n: int, size: int) -> list[np.ndarray]:
    rgb = load_image_file(ROOT.parent / "shared" / "corpus" / "photos" / "elizabeth_olsen.jpg")
    framed = frame_portrait(rgb, analyse_face(rgb), size)
    rig, marker = PortraitRig(framed.image, framed.landmarks), VideoWatermarker(1)
    return [marker.mark(rig.render({"jaw": 0.5 + 0.5 * np.sin(i / 3), "yaw": 2 * np.sin(i / 20)}))
            for i in range(min(n, 50))]


def summary(lat: list[float], sent: int) -> dict:
    a = np.array(lat) * 1000
    return {"frames_sent": sent, "frames_received": len(a), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p95_ms": round(float(np.percentile(a, 95)), 1), "max_ms": round(float(a.max()), 1)}


async def websocket_fmp4(images, n: int) -> dict:
    class Passing:
        def mark(self, rgb):
            return rgb
    size = images[0].shape[0]
    enc = LiveEncoder(ROOT / "var" / "transport-bench.mp4", size=size, fps=FPS)
    stage = WatermarkStage(Passing())
    sent_at: dict[int, float] = {}
    got: list[float] = []

    async def handler(ws):
        await ws.send(enc.video_init)
        t0 = time.monotonic()
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / FPS - time.monotonic()))
            sent_at[i] = time.monotonic()
            data = enc.video(stage(images[i % len(images)]), i)
            await ws.send(i.to_bytes(4, "big") + data)
        await ws.close()

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        decoder = None
        async with websockets.connect(f"ws://127.0.0.1:{port}", max_size=None) as ws:
            init = await ws.recv()
            i = init.find(b"avcC")
            decoder = av.CodecContext.create("h264", "r")
            decoder.extradata = init[i + 4: i - 4 + int.from_bytes(init[i - 4:i], "big")]
            try:
                async for msg in ws:
                    index = int.from_bytes(msg[:4], "big")
                    for _, sample in samples(msg[4:]):
                        for _frame in decoder.decode(av.Packet(sample)):
                            got.append(time.monotonic() - sent_at[index])
            except websockets.ConnectionClosed:
                pass
    enc.abort()
    return summary(got, n)


async def webrtc(images, n: int, codec: str) -> dict:
    from aiortc import RTCPeerConnection, VideoStreamTrack  # noqa: PLC0415 - optional (aiortc): the WebRTC side only
    from aiortc.rtcrtpsender import RTCRtpSender  # noqa: PLC0415 - optional (aiortc): the WebRTC side only

    sent_at: dict[int, float] = {}
    got: list[float] = []

    class Frames(VideoStreamTrack):
        def __init__(self):
            super().__init__()
            self.i, self.t0 = 0, None

        async def recv(self):
            if self.t0 is None:
                self.t0 = time.monotonic()
            i = self.i
            await asyncio.sleep(max(0.0, self.t0 + i / FPS - time.monotonic()))
            frame = av.VideoFrame.from_ndarray(images[i % len(images)], format="rgb24")
            frame.pts, frame.time_base = i * 3600, Fraction(1, 90_000)
            sent_at[i] = time.monotonic()
            self.i += 1
            return frame

    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    track = Frames()
    transceiver = sender.addTransceiver(track, direction="sendonly")
    prefs = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType.lower() == f"video/{codec}"]
    transceiver.setCodecPreferences(prefs)
    received = asyncio.get_running_loop().create_future()
    receiver.on("track", lambda t: received.set_result(t))
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    remote = await asyncio.wait_for(received, 30)
    first = None
    try:
        while len(got) < n - 10:
            frame = await asyncio.wait_for(remote.recv(), 5)
            now = time.monotonic()
            first = frame.pts if first is None else first
            index = round((frame.pts - first) / 3600)
            if index in sent_at:
                got.append(now - sent_at[index])
    except asyncio.TimeoutError:
        pass
    await sender.close()
    await receiver.close()
    return summary(got, n)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=250)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    (ROOT / "var").mkdir(exist_ok=True)
    images = frames(a.frames, a.size)
    out = {"size": a.size, "fps": FPS, "websocket-fmp4": asyncio.run(websocket_fmp4(images, a.frames))}
    try:
        import aiortc  # noqa: F401, PLC0415 - optional (aiortc): is the WebRTC side available?
    except ImportError:
        out["webrtc"] = "aiortc is not installed (pip install 'veritalk[webrtc-bench]')"
    else:
        for codec in ("vp8", "h264"):
            out[f"webrtc-{codec}"] = asyncio.run(webrtc(images, a.frames, codec))
    print(json.dumps(out) if a.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
