"""Live sessions end to end through the real WebSocket consumer, engine, watermark,
signing and registry: a session streams, stops, and its recording verifies
`authentic`; a revocation, a take-down or the maximum length ends it; limits hold."""
from __future__ import annotations

import asyncio

import av
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from jobs.models import Job
from live.models import LiveSession
from live.services import start_session
from provenance import mark_residual
from registry.models import RegistryEntry
from tests.conftest import corpus_file
from tests.live.conftest import stream_session, verify_json, voice
from tests.platform.conftest import stored_job_files

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def photo():
    return SimpleUploadedFile("portrait.jpg", corpus_file("photos/elizabeth_olsen.jpg").read_bytes())


def open_session(creator, subject, **controls):
    return start_session(creator=creator, subject=subject, photo=photo(), controls={"size": 256, **controls})


def test_a_session_streams_watermarked_frames_and_its_recording_verifies_authentic(asgi_server, creator, live_subject):
    session = open_session(creator, live_subject)
    assert session.status == "ready" and session.job.purpose == "live" and session.job.decision["allowed"]
    out = asyncio.run(stream_session(asgi_server, session.pk, creator, voice(3.0)))
    assert out.ready["video_mime"].startswith('video/mp4; codecs="avc1.') and out.ready["size"] == 256
    assert out.ended["status"] == "ended" and out.ended["reason"] == "stopped", out.ended
    kinds = [m[1] for m in out.media]
    assert kinds[:2] == ["video_init", "audio_init"] and kinds.count("video") >= 80
    session.refresh_from_db()
    job = Job.objects.get(pk=session.job_id)
    assert session.status == "ended" and job.status == "succeeded" and session.frames >= 85
    result = verify_json(job.output.path)
    assert result["verdict"] == "authentic", result
    assert result["watermark"]["found"] and result["registry"]["job"] == str(job.pk)
    assert mark_residual.residual_path(job.output.path).is_file()     # the registry path's informed test
    entry = RegistryEntry.objects.get(job=job)
    assert entry.state == "issued" and entry.manifest["title"] == f"Veritalk live session {session.pk}"
    provenance = next(a for a in entry.manifest["assertions"] if a["label"] == "com.veritalk.provenance")
    assert provenance["data"]["live_session"] == str(session.pk)
    # the recording holds the frames the viewer got, with the voice
    with av.open(job.output.path) as c:
        assert c.streams.video[0].frames == session.frames and c.streams.audio
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"live.created", "live.started", "live.ended", "registry.issued", "policy.decision"} <= actions


def test_revoking_consent_mid_session_ends_it_within_two_seconds(asgi_server, creator, live_subject):
    from consent.services import revoke_consent
    session = open_session(creator, live_subject)
    out = asyncio.run(stream_session(asgi_server, session.pk, creator, voice(6.0), stop_after=False, during_at=2.0,
                                     during=lambda: revoke_consent(live_subject.live_consent, reason="no more")))
    assert out.ended["reason"] == "consent_revoked" and "revoked" in out.ended["message"], out.ended
    # the stream stops and the client is told why within 2 s of the revocation
    assert out.stopping["reason"] == "consent_revoked" and out.stopping_at - out.during_at < 2.0
    last_frame = max(m[0] for m in out.media if m[1] == "video")
    assert last_frame - out.during_at < 2.0
    session.refresh_from_db()
    job = Job.objects.get(pk=session.job_id)
    assert session.status == "stopped" and job.status == "denied" and not job.output and not job.photo
    assert RegistryEntry.objects.get(job=job).state == "void"
    assert stored_job_files() == []       # the photo and the partial recording are gone


def test_a_moderator_take_down_ends_the_session(asgi_server, creator, live_subject, make_user):
    from live.services import take_down
    moderator = make_user("mo", role="moderator", vetted=False)
    session = open_session(creator, live_subject)
    out = asyncio.run(stream_session(asgi_server, session.pk, creator, voice(5.0), stop_after=False, during_at=1.5,
                                     during=lambda: take_down(LiveSession.objects.get(pk=session.pk),
                                                              by=moderator, note="impersonation report")))
    assert out.ended["reason"] == "taken_down" and out.ended["message"] == "impersonation report"
    assert out.stopping["reason"] == "taken_down" and out.stopping_at - out.during_at < 2.0
    assert max(m[0] for m in out.media if m[1] == "video") - out.during_at < 2.0
    session.refresh_from_db()
    assert session.status == "stopped" and Job.objects.get(pk=session.job_id).status == "denied"


def test_sessions_end_at_their_maximum_length(asgi_server, creator, live_subject, settings):
    settings.VERITALK_LIVE_MAX_SECONDS = 2.0
    session = open_session(creator, live_subject)
    out = asyncio.run(stream_session(asgi_server, session.pk, creator, voice(4.0), stop_after=False))
    assert out.ended["reason"] == "max_length" and out.ended["status"] == "ended"
    assert 48 <= out.ended["frames"] <= 50


def test_per_creator_cap_and_one_stream_per_session(asgi_server, creator, live_subject, settings, make_user):
    from live.services import LiveError
    settings.VERITALK_LIVE_MAX_PER_CREATOR = 1
    first = open_session(creator, live_subject)
    with pytest.raises(LiveError, match="limit is 1") as caught:
        open_session(creator, live_subject)
    assert caught.value.status == 429
    other = make_user("eve")
    out = asyncio.run(stream_session(asgi_server, first.pk, other, voice(0.2)))
    assert out.ended["reason"] == "not_found" and out.close_code == 4404


def test_a_consent_that_expires_mid_session_ends_it(asgi_server, creator, live_subject):
    from datetime import timedelta

    from django.utils import timezone

    from consent.models import Consent
    session = open_session(creator, live_subject)
    expires = timezone.now() + timedelta(seconds=4)
    Consent.objects.filter(pk=live_subject.live_consent.pk).update(expires_at=expires)
    out = asyncio.run(stream_session(asgi_server, session.pk, creator, voice(8.0), stop_after=False))
    assert out.stopping["reason"] == "consent_expired" and "expired" in out.ended["message"], out.ended
    stopped_after = timezone.now() - timedelta(seconds=__import__("time").monotonic() - out.stopping_at)
    assert (stopped_after - expires).total_seconds() < 2.0
    assert Job.objects.get(pk=session.job_id).status == "denied"
