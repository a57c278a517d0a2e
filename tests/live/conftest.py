"""Live-session fixtures: a creator whose subject consented to `live`, and a client
that streams a voice into the real WebSocket consumer in real time."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from consent.services import grant_consent
from generation.audio import decode_audio
from tests.conftest import corpus_file
from tests.platform.conftest import creator, faces, isolated_media, make_user, signing_material, subject, verify_json  # noqa: F401

RATE = 48_000
CHUNK = 960       # 20 ms


@pytest.fixture
def live_subject(subject, creator):
    """Bea (enrolled from elizabeth_olsen) consented to live sessions and tests."""
    subject.live_consent = grant_consent(subject=subject, creator=creator, purposes=["live", "test"],
                                         statement="yes to live")
    return subject


def voice(seconds: float, path: str = "audio/sr_english_en.wav", lead: float = 0.5) -> np.ndarray:
    """`lead` s of silence then `seconds` of a corpus voice at 48 kHz, int16."""
    x = decode_audio(corpus_file(path), sample_rate=RATE).mono
    x = np.tile(x, int(np.ceil(seconds * RATE / len(x))))[: int(seconds * RATE)]
    x = np.concatenate([np.zeros(int(lead * RATE), np.float32), x])
    return (np.clip(x, -1, 1) * 32767).astype("<i2")


@dataclass
class Streamed:
    ready: dict | None = None
    ended: dict | None = None
    statuses: list = field(default_factory=list)
    media: list = field(default_factory=list)        # (arrival, kind, index, bytes)
    ended_at: float | None = None
    errors: list = field(default_factory=list)
    close_code: int | None = None
    during_at: float | None = None
    stopping: dict | None = None
    stopping_at: float | None = None


@pytest.fixture
def asgi_server():
    """The project's ASGI application (portal, API and live WebSocket) served by uvicorn
    on a free loopback port, in this process (so it sees the test database)."""
    import socket
    import threading

    import uvicorn

    from veritalk.asgi import application
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(application, log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    host, port = sock.getsockname()
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token
    return Token.objects.get_or_create(user=user)[0].key


async def stream_session(server: str, session_id, user, pcm: np.ndarray, *, stop_after: bool = True, during=None,
                         during_at: float | None = None, timeout: float = 60.0, extra_wait: float = 0.5) -> Streamed:
    """Connect to the live WebSocket as `user` (API token), send `pcm` paced to the
    clock, then stop; collect everything the server sends. `during` (a sync callable)
    runs in a thread `during_at` seconds into the voice (a revocation, a take-down)."""
    import websockets
    from asgiref.sync import sync_to_async

    from live.protocol import parse_media

    key = await sync_to_async(token_for)(user)
    out = Streamed()
    async with websockets.connect(f"ws://{server}/live/{session_id}/ws/", max_size=None, open_timeout=30,
                                  additional_headers={"Authorization": f"Token {key}"}) as ws:
        async def receive_all():
            try:
                async for msg in ws:
                    if isinstance(msg, bytes):
                        kind, index, data = parse_media(msg)
                        out.media.append((time.monotonic(), kind, index, data))
                        continue
                    m = json.loads(msg)
                    if m["type"] == "ready":
                        out.ready = m
                    elif m["type"] == "ended":
                        out.ended, out.ended_at = m, time.monotonic()
                    elif m["type"] == "stopping":
                        out.stopping, out.stopping_at = m, time.monotonic()
                    elif m["type"] == "status":
                        out.statuses.append(m)
                    else:
                        out.errors.append(m)
            except websockets.ConnectionClosed:
                pass
            out.close_code = ws.close_code

        reader = asyncio.create_task(receive_all())
        await ws.send(json.dumps({"type": "start", "sample_rate": RATE}))
        for _ in range(300):
            if out.ready or out.ended:
                break
            await asyncio.sleep(0.1)
        if out.ready:
            t0 = time.monotonic()
            fired = None
            for i in range(0, len(pcm), CHUNK):
                if out.ended:
                    break
                await asyncio.sleep(max(0.0, t0 + (i + CHUNK) / RATE - time.monotonic()))
                try:
                    await ws.send(pcm[i:i + CHUNK].tobytes())
                except websockets.ConnectionClosed:
                    break
                if during is not None and fired is None and time.monotonic() - t0 >= during_at:
                    fired = out.during_at = time.monotonic()
                    await asyncio.to_thread(during)
            await asyncio.sleep(extra_wait)
            if stop_after and not out.ended:
                try:
                    await ws.send(json.dumps({"type": "stop"}))
                except websockets.ConnectionClosed:
                    pass
        await asyncio.wait_for(reader, timeout=timeout)
    return out
