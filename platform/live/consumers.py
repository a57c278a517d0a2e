"""The live session's WebSocket: voice in, fragmented MP4 out.

One LiveEngine thread per session in this process (at most
VERITALK_LIVE_MAX_PER_PROCESS); the event loop only moves bytes. A check task asks
the gate again every VERITALK_LIVE_RECHECK_SECONDS and stops the engine when the
consent was revoked or expired, a moderator took the session down or the creator
asked to stop; the page is told why in the `ended` message."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import socket
from pathlib import Path

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from generation.images import load_image_file
from generation.live.session import LiveEngine, LiveResult
from provenance.videomark import VideoWatermarker

from . import protocol, services

log = logging.getLogger(__name__)
WORKER = f"{socket.gethostname()}:{os.getpid()}"
RUNNING: set[str] = set()          # sessions streaming in this process


def group_name(session_id) -> str:
    return f"live-{session_id}"


class LiveConsumer(AsyncWebsocketConsumer):
    engine = None
    claimed = None

    async def connect(self):
        self.session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        await self.accept()
        user = self.scope.get("user")
        if not getattr(user, "is_authenticated", False):
            return await self._refuse("not_found", "log in (or send an API token) to stream a live session", 4404)
        if len(RUNNING) >= settings.VERITALK_LIVE_MAX_PER_PROCESS:
            return await self._refuse("busy", "this live worker is full; try again in a moment", 4429)
        RUNNING.add(self.session_id)
        try:
            self.claimed = await database_sync_to_async(services.claim)(self.session_id, user, WORKER)
        except services.LiveError as exc:
            RUNNING.discard(self.session_id)
            return await self._refuse(exc.code, exc.message, protocol.CLOSE.get(
                {404: "not_found", 409: "not_ready"}.get(exc.status, "refused"), 4403))
        self.voice = hashlib.sha256()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.stopping: tuple[str, str] | None = None
        self.finished = asyncio.Event()
        await self.channel_layer.group_add(group_name(self.session_id), self.channel_name)

    async def _refuse(self, code: str, message: str, close_code: int):
        await self.send(text_data=json.dumps({"type": "ended", "reason": code, "message": message}))
        await self.close(code=close_code)

    # -- from the client ----------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.claimed is None:
            return
        if bytes_data is not None:
            if self.engine is not None and self.stopping is None:
                self.voice.update(bytes_data)
                try:
                    self.engine.feed(bytes_data)
                except ValueError as exc:
                    await self.send(text_data=json.dumps({"type": "error", "message": str(exc)}))
            return
        try:
            message = json.loads(text_data or "{}")
        except ValueError:
            message = {}
        kind = message.get("type")
        if kind == "start" and self.engine is None:
            await self._start(message.get("sample_rate", 48_000))
        elif kind == "stop":
            self._stop("stopped", "")
        else:
            await self.send(text_data=json.dumps({"type": "error", "message": f"unknown message {kind!r}"}))

    async def _start(self, rate):
        c = self.claimed
        loop = asyncio.get_running_loop()

        def output(kind, index, data):
            loop.call_soon_threadsafe(self.outbox.put_nowait, (kind, index, data))

        def build():
            return LiveEngine(load_image_file(c.photo_path), marker=VideoWatermarker(c.registry_id),
                              recording=c.recording_path, on_output=output, controls=c.controls,
                              input_rate=int(rate), max_seconds=c.max_seconds)
        try:
            if int(rate) not in protocol.SAMPLE_RATES:
                raise ValueError(f"sample_rate must be one of {', '.join(map(str, protocol.SAMPLE_RATES))}")
            self.engine = await asyncio.to_thread(build)
        except Exception as exc:  # noqa: BLE001 - the session ends, saying why
            log.warning("live session %s could not start: %s", self.session_id, exc)
            self.stopping = ("engine_error", str(getattr(exc, "message", exc)))
            await self._end(None)
            return
        e = self.engine
        await self.send(text_data=json.dumps({
            "type": "ready", "session": self.session_id, "job": c.job_id, "size": e.size, "fps": e.fps,
            "video_mime": f'video/mp4; codecs="{e.encoder.video_codec}"',
            "audio_mime": f'audio/mp4; codecs="{e.encoder.audio_codec}"',
            "sample_rate": e.input_rate, "max_seconds": c.max_seconds,
            "lookahead_ms": round(e.lookahead * 1000), "mouth_box": e.mouth_box}))
        await self.send(bytes_data=protocol.media("video_init", 0, e.encoder.video_init))
        await self.send(bytes_data=protocol.media("audio_init", 0, e.encoder.audio_init))
        e.start()
        self.sender = asyncio.create_task(self._send_loop())
        self.checker = asyncio.create_task(self._check_loop())

    def _stop(self, reason: str, message: str) -> None:
        if self.stopping is None:
            self.stopping = (reason, message)
            # Said at once; `ended` follows when the recording is released or discarded.
            asyncio.ensure_future(self._say({"type": "stopping", "reason": reason, "message": message}))
        if self.engine is not None:
            self.engine.stop(self.stopping[0])

    async def _say(self, message: dict) -> None:
        try:
            await self.send(text_data=json.dumps(message))
        except Exception:  # noqa: BLE001 - the client is gone
            pass

    # -- to the client ----------------------------------------------------------------
    async def _send_loop(self):
        last_status = 0
        while True:
            kind, index, data = await self.outbox.get()
            if kind == "end":
                break
            try:
                await self.send(bytes_data=protocol.media(kind, index, data))
                if kind == "video" and index - last_status >= self.engine.fps:
                    last_status = index
                    await self.send(text_data=json.dumps({"type": "status", "frames": self.engine.frames,
                                                          "dropped": self.engine.dropped}))
            except Exception:  # noqa: BLE001 - the client went away; the session still ends properly
                pass
        await self._end(self.engine)

    async def _check_loop(self):
        every = settings.VERITALK_LIVE_RECHECK_SECONDS
        while self.engine is not None and self.engine.running:
            await asyncio.sleep(every)
            try:
                verdict = await database_sync_to_async(services.recheck)(self.session_id)
            except Exception:  # noqa: BLE001 - a database hiccup: check again next time
                log.exception("live session %s: consent check failed", self.session_id)
                continue
            if verdict is not None:
                self._stop(*verdict)
                return

    async def _end(self, engine):
        if self.finished.is_set():
            return
        reason, message = self.stopping or (engine.reason if engine else "engine_error", "")
        if engine is not None:
            await asyncio.to_thread(engine.join)
            result = engine.result()
        else:
            result = LiveResult(path=Path(self.claimed.recording_path), frames=0, dropped=0, width=0, height=0,
                                fps=25, audio_seconds=0, seconds=0, poster=None, reason=reason)
        try:
            session = await database_sync_to_async(services.finish)(
                self.session_id, result, reason=reason, message=message, voice_sha256=self.voice.hexdigest(),
                error=getattr(engine, "error", None))
        finally:
            RUNNING.discard(self.session_id)
            self.finished.set()
        job = await database_sync_to_async(lambda: session.job)()
        out = {"type": "ended", "reason": session.end_reason, "message": session.end_message or message,
               "status": session.status, "frames": result.frames, "dropped": result.dropped,
               "busy_ms_per_frame": result.busy_ms_per_frame, "job": str(job.pk),
               "recording": f"/api/jobs/{job.pk}/output/" if job.status == "succeeded" else None,
               "verdict": (job.verification or {}).get("verdict")}
        try:
            await self.send(text_data=json.dumps(out))
            await self.close(code=protocol.CLOSE["ended"] if session.status == "ended" else protocol.CLOSE["refused"])
        except Exception:  # noqa: BLE001 - already gone
            pass

    # -- from other processes (channel layer) ------------------------------------------
    async def live_stop(self, event):
        """A stop or take-down made elsewhere: check now rather than at the next tick."""
        verdict = await database_sync_to_async(services.recheck)(self.session_id)
        if verdict is not None:
            self._stop(*verdict)

    async def disconnect(self, code):
        if self.claimed is None:
            return
        await self.channel_layer.group_discard(group_name(self.session_id), self.channel_name)
        if self.engine is not None:
            self._stop("disconnected", "")
            await self.finished.wait()
        elif not self.finished.is_set():
            self.stopping = self.stopping or ("disconnected", "")
            await self._end(None)
