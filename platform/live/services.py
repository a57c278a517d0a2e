"""Starting, checking and ending live sessions, each step audited.

The same gate as jobs (jobs.gate), with the purpose `live`: before a session is
created, again when its stream starts, every VERITALK_LIVE_RECHECK_SECONDS while it
streams, and before its recording is released. A revoked or expired consent, a
policy refusal, a moderator's take-down or the creator's stop ends the stream at the
next check; only a session that ended without a refusal releases its recording."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from audit.chain import atomic as audit_atomic
from audit.chain import record
from consent.services import subjects_for
from generation.controls import Controls
from generation.errors import InvalidControl, gettext_noop
from generation.face import analyse_face, face_embedding
from generation.images import load_image, sniff_image
from jobs.gate import decide_job, decide_request
from jobs.inputs import read_upload
from jobs.models import Job
from registry.models import RegistryEntry

from . import roles
from .ending import fail, job_dir, refusal_code, stop_for
from .models import LiveSession
from .recording import release  # imported here, not at the end of a session: its first import takes seconds

PURPOSE = "live"
LIVE_SIZES = (256, 384, 512)
NORMAL_ENDS = ("stopped", "disconnected", "max_length", "voice_too_fast")
HEARTBEAT_SECONDS = 5.0


class LiveError(Exception):
    """A live-session request refused for a reason the user can act on."""

    def __init__(self, message: str, *, code: str = "invalid", field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.code, self.field, self.status = message, code, field, status

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


def live_controls(data: dict | None) -> Controls:
    """The generation controls a live session takes (the warp engine, acoustic mouth)."""
    data = {k: v for k, v in (data or {}).items() if v not in (None, "")}
    controls = Controls.from_mapping(data)
    if controls.backend != "warp" or controls.motion != "procedural":
        raise InvalidControl(gettext_noop("live sessions use the warp engine with procedural motion"),
                             field="backend")
    if controls.width != controls.height or controls.width not in LIVE_SIZES:
        raise InvalidControl(gettext_noop("live sessions are %(choices)s pixels"), field="size",
                             params={"choices": ", ".join(map(str, LIVE_SIZES))})
    return controls


# -- creating ----------------------------------------------------------------------------------
def expire_stale(now=None) -> int:
    """Sessions nobody connected to in time, and live ones whose process stopped
    beating (it died): failed, their reservation voided, their files removed."""
    now = now or timezone.now()
    connect_by = now - timedelta(seconds=settings.VERITALK_LIVE_CONNECT_SECONDS)
    stale = list(LiveSession.objects.filter(status=LiveSession.Status.READY, created_at__lt=connect_by))
    stale += list(LiveSession.objects.filter(status=LiveSession.Status.LIVE,
                                             heartbeat_at__lt=now - timedelta(seconds=6 * HEARTBEAT_SECONDS)))
    for session in stale:
        reason = "not_connected" if session.status == LiveSession.Status.READY else "worker_lost"
        fail(session, reason, "the session was not streamed in time" if reason == "not_connected"
             else "the process streaming the session stopped")
    return len(stale)


def validate_photo(photo) -> dict:
    data = read_upload(photo, limit=settings.VERITALK_MAX_PHOTO_BYTES, field="photo")
    ext = sniff_image(data, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)
    rgb = load_image(data, max_pixels=settings.VERITALK_MAX_PHOTO_PIXELS)
    face = analyse_face(rgb)
    embedding = [round(float(v), 6) for v in face_embedding(rgb, face)]
    return {"bytes": data, "ext": ext, "sha256": hashlib.sha256(data).hexdigest(), "box": face.box.as_list(),
            "embedding": embedding}


def start_session(*, creator, subject, photo, controls: dict | None = None, channel: str = "") -> LiveSession:
    """A session waiting for its stream, or one denied with the policy's reasons.
    Bad input raises InputError (nothing stored); limits raise LiveError."""
    if not roles.can_start(creator):
        raise LiveError("only creator accounts start live sessions", code="forbidden", status=403)
    if not subjects_for(creator).filter(pk=subject.pk).exists():
        raise LiveError(f"subject {subject.pk} is not one of your subjects", code="not_your_subject",
                        field="subject")
    expire_stale()
    active = LiveSession.objects.filter(creator=creator, status__in=LiveSession.ACTIVE).count()
    if active >= settings.VERITALK_LIVE_MAX_PER_CREATOR:
        raise LiveError(f"you already have {active} live session(s) open; the limit is "
                        f"{settings.VERITALK_LIVE_MAX_PER_CREATOR}: end one first", code="too_many_sessions",
                        status=429)
    chosen = live_controls(controls)
    inputs = validate_photo(photo)
    gate = decide_request(creator=creator, subject=subject, face_count=1, purpose=PURPOSE, channel=channel,
                          face_embedding=inputs["embedding"], photo_bytes=len(inputs["bytes"]), audio_bytes=0,
                          audio_seconds=0.0)
    allowed = gate.decision.allowed
    job = Job(creator=creator, subject=subject, consent=gate.consent if allowed else None, purpose=PURPOSE,
              channel=channel, controls=chosen.as_dict(), photo_sha256=inputs["sha256"], audio_sha256="",
              face_count=1, face_box=inputs["box"], face_embedding=inputs["embedding"],
              photo_bytes=len(inputs["bytes"]), decision=gate.record_dict("live start"),
              status=Job.Status.RUNNING if allowed else Job.Status.DENIED,
              started_at=timezone.now() if allowed else None, finished_at=None if allowed else timezone.now(),
              engine="veritalk-live", lease_owner="", lease_expires_at=None)
    try:
        with audit_atomic():
            if allowed:
                job.photo.save(f"photo.{inputs['ext']}", ContentFile(inputs["bytes"]), save=False)
            job.save()
            session = LiveSession.objects.create(
                creator=creator, subject=subject, job=job, controls=chosen.as_dict(),
                status=LiveSession.Status.READY if allowed else LiveSession.Status.DENIED,
                end_reason="" if allowed else "denied", end_message=" ".join(gate.decision.reasons),
                ended_at=None if allowed else timezone.now())
            record("job.created", actor=creator, target=job,
                   data={"subject": subject.pk, "controls": job.controls, "purpose": PURPOSE, "channel": channel,
                         "photo_sha256": inputs["sha256"], "live_session": str(session.pk)})
            record("policy.decision", actor=creator, target=job,
                   data={**gate.record_dict("live start"), "facts": gate.facts})
            if allowed:
                entry = RegistryEntry.objects.create(job=job)
                record("live.created", actor=creator, target=session,
                       data={"job": str(job.pk), "registry_id": entry.pk, "subject": subject.pk})
            else:
                record("live.denied", actor=creator, target=session,
                       data={"job": str(job.pk), "reasons": gate.decision.reasons})
    except BaseException:
        if job.photo:
            job.photo.storage.delete(job.photo.name)
        raise
    return session


# -- streaming ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    """What the streaming process needs to run a session."""
    session_id: str
    job_id: str
    registry_id: int
    photo_path: str
    recording_path: str
    controls: Controls
    max_seconds: float


def claim(session_id, user, worker: str) -> Claimed:
    """The stream connects: its owner, a session waiting for it, the gate again."""
    session = LiveSession.objects.select_related("job").filter(pk=session_id).first()
    if session is None or not roles.can_watch(user, session) or session.creator_id != getattr(user, "pk", None):
        raise LiveError("no such live session of yours", code="not_found", status=404)
    if session.status != LiveSession.Status.READY:
        raise LiveError(f"this live session is {session.get_status_display().lower()}; start a new one",
                        code="not_ready", status=409)
    gate = decide_job(session.job)
    if not gate.decision.allowed:
        stop_for(session, gate, "before stream")
        raise LiveError(" ".join(gate.decision.reasons), code=refusal_code(gate), status=403)
    token = f"{os.getpid()}-{timezone.now().strftime('%H%M%S%f')}"
    with audit_atomic():
        now = timezone.now()
        updated = LiveSession.objects.filter(pk=session.pk, status=LiveSession.Status.READY).update(
            status=LiveSession.Status.LIVE, worker=worker, started_at=now, heartbeat_at=now)
        if not updated:
            raise LiveError("this live session was claimed by another connection", code="not_ready", status=409)
        job = session.job
        job.decision = gate.record_dict("before stream")
        job.save(update_fields=["decision"])
        record("policy.decision", target=job, data={**gate.record_dict("before stream"), "facts": gate.facts})
        record("live.started", actor=user, target=session, data={"worker": worker, "job": str(job.pk)})
    folder = job_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    return Claimed(session_id=str(session.pk), job_id=str(job.pk), registry_id=job.registry_entry.pk,
                   photo_path=job.photo.path, recording_path=str(folder / f"live.{token}.partial.mp4"),
                   controls=Controls.from_mapping(session.controls), max_seconds=settings.VERITALK_LIVE_MAX_SECONDS)


def recheck(session_id) -> tuple[str, str] | None:
    """None while the session may go on, else (reason code, message). Called every
    VERITALK_LIVE_RECHECK_SECONDS by the streaming process; beats its heart too."""
    session = LiveSession.objects.select_related("job").get(pk=session_id)
    if session.taken_down_at is not None:
        return "taken_down", session.takedown_note
    entry = RegistryEntry.objects.filter(job_id=session.job_id).first()
    if entry is not None and hasattr(entry, "takedown"):
        return "taken_down", entry.takedown.note
    if session.stop_requested_at is not None:
        return "stopped", ""
    gate = decide_job(session.job)
    if not gate.decision.allowed:
        return refusal_code(gate), " ".join(gate.decision.reasons)
    now = timezone.now()
    if session.heartbeat_at is None or (now - session.heartbeat_at).total_seconds() >= HEARTBEAT_SECONDS:
        LiveSession.objects.filter(pk=session.pk).update(heartbeat_at=now)
    return None


def notify(session) -> None:
    """Tell the process streaming `session` to check it now (the channel layer); the
    database is the source of truth, so a lost message costs one check interval."""
    layer = get_channel_layer()
    if layer is not None:
        try:
            async_to_sync(layer.group_send)(f"live-{session.pk}", {"type": "live.stop"})
        except Exception:  # noqa: BLE001 - best effort: the periodic check catches it
            pass


def request_stop(session: LiveSession, *, by) -> LiveSession:
    """The creator ends the session (from another page or the API): the streaming
    process sees it at its next check and releases the recording."""
    if not session.is_active:
        raise LiveError(f"this live session is {session.get_status_display().lower()}", code="not_active",
                        status=409)
    with audit_atomic():
        LiveSession.objects.filter(pk=session.pk, stop_requested_at=None).update(stop_requested_at=timezone.now())
        record("live.stop_requested", actor=by, target=session, data={})
    notify(session)
    if session.status == LiveSession.Status.READY:
        fail(LiveSession.objects.get(pk=session.pk), "stopped", "ended before it was streamed")
    return LiveSession.objects.get(pk=session.pk)


def take_down(session: LiveSession, *, by, note: str) -> LiveSession:
    """A moderator stops a session and withholds its recording."""
    if not roles.can_moderate(by):
        raise LiveError("only a moderator or an admin can take a live session down", code="forbidden", status=403)
    note = (note or "").strip()
    if not note:
        raise LiveError("a take-down needs a note saying why", code="note_required", field="note")
    if not session.is_active:
        raise LiveError(f"this live session is {session.get_status_display().lower()}", code="not_active",
                        status=409)
    with audit_atomic():
        LiveSession.objects.filter(pk=session.pk).update(taken_down_at=timezone.now(), taken_down_by=by,
                                                         takedown_note=note)
        record("live.taken_down", actor=by, target=session, data={"note": note, "job": str(session.job_id)})
    session.refresh_from_db()
    notify(session)
    if session.status == LiveSession.Status.READY:
        stop_for(session, None, "taken down", reason="taken_down", message=note)
    return session


# -- ending ------------------------------------------------------------------------------------
def finish(session_id, result, *, reason: str, message: str = "", voice_sha256: str = "",
           error: BaseException | None = None) -> LiveSession:
    """The stream ended. A refusal (or a take-down) releases nothing; an engine error
    fails the session; otherwise the recording is signed and registered."""
    session = LiveSession.objects.select_related("job").get(pk=session_id)
    LiveSession.objects.filter(pk=session.pk).update(frames=result.frames, dropped_frames=result.dropped)
    path = str(result.path)
    if reason not in NORMAL_ENDS and reason not in ("engine_error",):
        return stop_for(session, None, "during live session", reason=reason, message=message, recording=path)
    if error is not None or reason == "engine_error":
        return fail(session, "engine_error", f"the live engine failed: {error or message}", recording=path)
    if result.frames == 0 or not Path(path).is_file():
        return fail(session, "no_frames", "the session ended before any frame was streamed", recording=path)
    return release(session, result, reason=reason, voice_sha256=voice_sha256)
