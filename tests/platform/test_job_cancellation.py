"""A creator cancels their own job before it ends: a checking or queued job at once (its
uploads deleted, the worker later finds nothing to do), a running one at the worker's
next heartbeat (the render stops, its partial files are discarded, the registry entry is
voided: nothing is released). Through the API and the portal's button; audited; nobody
else can cancel it, and a finished job cannot be."""
from pathlib import Path

import pytest

from audit.models import AuditEvent
from jobs import runner
from jobs.intake import check_job
from jobs.models import Job
from jobs.runner import run_job
from jobs.services import cancel_job, submit_job
from registry.models import RegistryEntry
from tests.platform.conftest import as_user as api
from tests.platform.conftest import stored_job_files


def _submit(creator, subject, portrait, short_speech) -> Job:
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        return submit_job(creator=creator, subject=subject, photo=p, audio=a, purpose="test",
                          controls={"size": 256})


@pytest.mark.django_db
def test_a_queued_job_is_cancelled_through_the_api(creator, consenting_subject, portrait, short_speech, make_user,
                                                   django_capture_on_commit_callbacks):
    job = _submit(creator, consenting_subject, portrait, short_speech)
    assert job.status == "queued" and stored_job_files()
    assert api(make_user("other")).post(f"/api/jobs/{job.pk}/cancel/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        r = api(creator).post(f"/api/jobs/{job.pk}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.content
    assert r.json()["error"]["code"] == "cancelled_by_creator"
    assert stored_job_files() == []
    event = AuditEvent.objects.get(action="job.cancelled", target_id=str(job.pk))
    assert event.actor == creator.username and event.data["was"] == "queued"
    r = api(creator).post(f"/api/jobs/{job.pk}/cancel/")
    assert r.status_code == 409 and r.json()["code"] == "not_cancellable"
    assert run_job(str(job.pk)).status == "cancelled"  # the worker's message finds nothing to do
    assert not RegistryEntry.objects.filter(job=job).exists()


@pytest.mark.django_db
def test_a_checking_job_is_cancelled_with_the_portal_button(client, creator, consenting_subject, portrait,
                                                            short_speech, django_capture_on_commit_callbacks):
    client.force_login(creator)
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = client.post("/jobs/new/", {"subject": consenting_subject.pk, "photo": p, "audio": a, "purpose": "test"})
    job = Job.objects.get()
    assert r.status_code == 302 and job.status == "checking"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'action="/jobs/{job.pk}/cancel/"' in page and "Cancel this video" in page
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    page = r.content.decode()
    assert r.status_code == 200 and "Cancelled" in page and "nothing was released" in page
    assert "Cancel this video" not in page
    job.refresh_from_db()
    assert job.status == "cancelled" and not job.photo and stored_job_files() == []
    assert check_job(job.pk).status == "cancelled"  # the intake's message finds nothing to do


@pytest.mark.django_db(transaction=True)
def test_a_running_job_stops_at_the_next_heartbeat_and_releases_nothing(creator, consenting_subject, portrait,
                                                                        short_speech, monkeypatch):
    job = _submit(creator, consenting_subject, portrait, short_speech)
    beats = []
    original = runner._Heartbeat.__call__

    def beat(self, done, total):
        beats.append(done)
        if len(beats) == 2:  # mid-render, the creator presses Cancel
            assert Job.objects.get(pk=job.pk).status == "running"
            cancel_job(job.pk, by=creator)
        return original(self, done, total)
    monkeypatch.setattr(runner._Heartbeat, "__call__", beat)
    done = run_job(str(job.pk))
    assert done.status == "cancelled" and not done.output and not done.photo and not done.audio
    assert len(beats) == 2  # the render stopped at the heartbeat after the cancellation
    folder = Path(job.photo.path).parent
    assert not folder.exists() or list(folder.iterdir()) == []  # no partial output, no inputs left
    assert RegistryEntry.objects.get(job=job).state == "void"
    actions = list(AuditEvent.objects.filter(target_id=str(job.pk)).values_list("action", flat=True))
    assert actions[-2:] == ["job.cancelled", "job.stopped"] and "job.succeeded" not in actions


@pytest.mark.django_db
def test_a_finished_job_cannot_be_cancelled_nor_someone_elses(creator, consenting_subject, portrait, short_speech,
                                                              make_user):
    from jobs.services import CancelError
    job = _submit(creator, consenting_subject, portrait, short_speech)
    with pytest.raises(CancelError) as exc:
        cancel_job(job.pk, by=make_user("mallory"))
    assert exc.value.code == "forbidden"
    Job.objects.filter(pk=job.pk).update(status="failed")
    with pytest.raises(CancelError) as exc:
        cancel_job(job.pk, by=creator)
    assert exc.value.code == "not_cancellable" and "already ended" in exc.value.message
