"""Red team, continued: the subject revokes while the job waits in the queue, and
while a real Celery worker renders it (at size 256, a 2.7 s clip). Revocation
must win every time: the queued job is cancelled and its uploads deleted, the
running job stops at its next policy check or before release, nothing is
released and the registry entry is void. The worker is held at a chosen frame
(by wrapping the engine call), so the race is decided by the test, not by timing."""
from __future__ import annotations

import threading

import pytest
from celery.contrib.testing.worker import start_worker

from audit.chain import verify_chain
from audit.models import AuditEvent
from common.polling import wait_until
from jobs import runner
from jobs.worker import wait_for_job
from registry.models import RegistryEntry
from tests.platform.conftest import empty_broker, queued_messages, stored_job_files  # noqa: F401
from tests.policies.conftest import photo
from veritalk.celery import app as celery_app


def revoke(world, via: str):
    """Bea revokes her consent through the given door."""
    consent = world.bea_consent
    if via == "api":
        r = world.api(world.bea_account).post("/api/revocations/", {"consent": consent.pk, "reason": "changed my mind"})
        assert r.status_code == 201, r.content
        return r.json()
    r = world.portal(world.bea_account).post(f"/me/consents/{consent.pk}/revoke/", {"reason": "changed my mind"})
    assert r.status_code == 302 and r["Location"] == "/me/"
    return None


def worker():
    """A real worker on the intake and generation queues (the intake message of a job the
    test already checked finds it decided and does nothing)."""
    return start_worker(celery_app, pool="solo", perform_ping_check=False, queues=["intake", "generation"])


@pytest.mark.django_db(transaction=True)
def test_30_revoked_while_queued(world, via, empty_broker):
    outcome = world.attempt(via, subject=world.bea, photo_path=photo("obama_2"))
    job = outcome.job
    # Two wake-ups wait: the intake's (already done by the test) and the generation's.
    assert job.status == "queued" and len(queued_messages()) == 2 and len(stored_job_files()) == 2
    answer = revoke(world, via)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.error["code"] == "consent_revoked"
    assert job.decision["stage"] == "revocation" and job.decision["rules"] == ["consent-active"]
    assert "was revoked on" in job.decision["reasons"][0]
    if answer is not None:
        assert answer["cancelled_jobs"] == [str(job.pk)]
    assert stored_job_files() == []                      # the uploads went with the cancellation
    with worker():                                       # the message is still delivered ...
        wait_until(lambda: not queued_messages(), timeout=120, what="the worker taking the message")
    job.refresh_from_db()
    assert job.status == "cancelled" and not job.output  # ... and does nothing
    assert not RegistryEntry.objects.filter(job=job).exists() and stored_job_files() == []
    actions = list(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True))
    assert actions[-2:] == ["policy.decision", "job.cancelled"] and "job.started" not in actions


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("moment", ["during generation", "before release"])
def test_31_revoked_while_running(world, via, moment, monkeypatch, empty_broker):
    reached, revoked = threading.Event(), threading.Event()
    render = runner.generate_video

    def held(*args, progress=None, **kwargs):
        """The real engine, held at frame 10 (or after its last frame) until the test has revoked."""
        def hold():
            reached.set()
            assert revoked.wait(120)
        if moment == "during generation":
            def progress_then_hold(done, total):
                progress(done, total)
                if done >= 10 and not reached.is_set():
                    hold()
            return render(*args, progress=progress_then_hold, **kwargs)
        result = render(*args, progress=progress, **kwargs)
        hold()
        return result

    monkeypatch.setattr(runner, "generate_video", held)
    with worker():
        job = world.attempt(via, subject=world.bea, photo_path=photo("obama_2")).job
        assert job is not None and job.status == "queued"
        assert reached.wait(120), "the worker never reached the chosen frame"
        job.refresh_from_db()
        assert job.status == "running" and job.progress_done >= 10
        revoke(world, via)
        revoked.set()
        job = wait_for_job(job.pk, timeout=120)
    assert job.status == "denied", job.error
    assert job.decision["stage"] == moment and job.decision["rules"] == ["consent-active"]
    assert "was revoked on" in job.decision["reasons"][0]
    if moment == "during generation":
        assert job.progress_done < job.progress_total   # it stopped part-way
    entry = RegistryEntry.objects.get(job=job)
    assert entry.state == "void" and entry.revoked and not entry.output_sha256
    assert stored_job_files() == [] and not job.output   # no output, no partial file, uploads deleted
    actions = list(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True))
    assert "job.started" in actions and actions[-1] == "job.denied" and "job.succeeded" not in actions
    assert verify_chain() == []
