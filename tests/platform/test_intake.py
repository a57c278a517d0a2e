"""The intake queue: a submission is answered 202 with a `checking` job after the cheap
checks; the intake (check_job, what the intake worker runs) detects the face, matches it
and decides with every rule, so that the job becomes `queued` or `denied` with the reasons
the synchronous path gives. Nothing is rendered before that, and each job is decided once."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEvent
from consent.services import revoke_consent
from jobs.gate import COUNTED
from jobs.intake import check_job, reap_checking
from jobs.models import Job
from jobs.runner import run_job
from registry.models import RegistryEntry
from tests.conftest import corpus_file
from tests.platform.conftest import empty_broker, queued_messages, stored_job_files  # noqa: F401


@pytest.fixture
def api(creator):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=creator).key}")
    return client


def submit(api, subject, photo, audio, **fields):
    with open(photo, "rb") as p, open(audio, "rb") as a:
        return api.post("/api/jobs/", {"subject": subject.pk, "photo": p, "audio": a, "purpose": "test",
                                       "size": 256, **fields}, format="multipart")


def waiting_queues() -> list[str]:
    return sorted(json.loads(p.read_text())["properties"]["delivery_info"]["routing_key"] for p in queued_messages())


def actions(job) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(job.pk)).order_by("seq").values_list("action", flat=True))


@pytest.mark.django_db(transaction=True)
def test_submission_is_accepted_as_checking_and_only_the_intake_is_woken(api, consenting_subject, portrait,
                                                                         short_speech, empty_broker):
    r = submit(api, consenting_subject, portrait, short_speech)
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "checking" and body["decision"] is None and body["progress"] == 0
    assert r["Location"] == f"/api/jobs/{body['id']}/"
    job = Job.objects.get(pk=body["id"])
    assert job.face_embedding is None and job.consent is not None and len(stored_job_files()) == 2
    assert waiting_queues() == ["intake"]                        # no generation task before the face is checked
    partial = AuditEvent.objects.get(action="policy.decision", target_id=str(job.pk))
    assert partial.data["stage"] == "request" and partial.data["allowed"]
    assert not {"one-face", "identity-match", "protected-person"} & set(partial.data["rules"])  # no face rules yet
    assert "checking" in COUNTED                                  # it counts against quotas while checked

    job = check_job(job.pk)
    assert job.status == "queued" and job.face_count == 1 and len(job.face_embedding) == 128
    assert job.decision["stage"] == "submission" and job.decision["allowed"]
    assert {"identity-match", "protected-person", "one-face"} <= set(job.decision["rules"])
    assert waiting_queues() == ["generation", "intake"]          # the generation wake-up, after the commit
    assert api.get(f"/api/jobs/{job.pk}/").json()["status"] == "queued"


@pytest.mark.django_db
def test_nothing_is_rendered_before_the_intake_decides(consenting_subject, api, portrait, short_speech):
    job_id = submit(api, consenting_subject, portrait, short_speech).json()["id"]
    job = run_job(job_id)                                         # a generation message that arrived too early
    assert job.status == "checking" and not job.output and job.attempts == 0
    assert not RegistryEntry.objects.filter(job_id=job_id).exists()
    assert "job.started" not in actions(job)
    assert run_job(check_job(job_id).pk).status == "succeeded"    # once queued, it renders


@pytest.mark.django_db
@pytest.mark.parametrize("photo,code,reason,error", [
    ("no_face_png", "no_face", "No face was found in the photo.",
     "no face was found in the photo; use a clear, front-facing portrait"),
    ("two_faces_png", "multiple_faces", "The photo shows 2 faces; it must show exactly one person.",
     "the photo shows 2 faces; it must show exactly one person"),
])
def test_a_photo_without_one_face_is_denied_with_the_reason(request, api, consenting_subject, short_speech,
                                                            photo, code, reason, error):
    r = submit(api, consenting_subject, request.getfixturevalue(photo), short_speech)
    assert r.status_code == 202 and r.json()["status"] == "checking"
    job = check_job(r.json()["id"])
    assert job.status == "denied" and job.finished_at is not None
    assert job.decision["stage"] == "submission" and "one-face" in job.decision["rules"]
    assert job.decision["reasons"] == [reason]                    # not a false "not enrolled" for the missing face
    assert job.error == {"code": code, "field": "photo", "message": error}   # what the 400 used to say
    assert stored_job_files() == [] and not job.photo and not job.audio
    shown = api.get(f"/api/jobs/{job.pk}/").json()
    assert shown["status"] == "denied" and shown["error"]["code"] == code
    assert actions(job)[-1] == "job.denied"


@pytest.mark.django_db
def test_a_drawing_is_denied_as_not_a_photograph(api, consenting_subject, short_speech):
    """Issue 21: the job photo passes the same photo check as enrolment."""
    r = submit(api, consenting_subject, corpus_file("generated/cartoon_3d_boy.jpg"), short_speech)
    job = check_job(r.json()["id"])
    assert job.status == "denied" and job.face_count == 1 and job.decision["rules"] == []
    assert job.decision["reasons"] == ["This looks like a drawing or a render, not a photograph of a person"]
    assert job.error["code"] == "not_a_photograph" and job.error["field"] == "photo"
    assert stored_job_files() == [] and actions(job)[-1] == "job.denied"


@pytest.mark.django_db
def test_a_photo_of_someone_else_is_denied_by_the_identity_match(api, consenting_subject, short_speech):
    r = submit(api, consenting_subject, corpus_file("photos/obama_1.jpg"), short_speech)
    job = check_job(r.json()["id"])
    assert job.status == "denied" and job.decision["rules"] == ["identity-match"] and job.error is None
    assert "The photo does not show subject 'Bea'" in job.decision["reasons"][0]
    assert stored_job_files() == []


@pytest.mark.django_db
def test_a_consent_that_lapsed_while_checking_is_denied(api, consenting_subject, portrait, short_speech):
    job_id = submit(api, consenting_subject, portrait, short_speech).json()["id"]
    consent = Job.objects.get(pk=job_id).consent
    consent.expires_at = timezone.now() - timedelta(seconds=1)
    consent.save(update_fields=["expires_at"])
    job = check_job(job_id)
    assert job.status == "denied" and job.decision["rules"] == ["consent-active"]
    assert "expired on" in job.decision["reasons"][0] and stored_job_files() == []


@pytest.mark.django_db
def test_a_revocation_while_checking_cancels_the_job_and_the_intake_leaves_it(api, consenting_subject, portrait,
                                                                              short_speech):
    job_id = submit(api, consenting_subject, portrait, short_speech).json()["id"]
    revoke_consent(Job.objects.get(pk=job_id).consent, actor=None, reason="changed my mind")
    job = Job.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.error["code"] == "consent_revoked"
    assert job.decision["stage"] == "revocation" and job.decision["rules"] == ["consent-active"]
    assert check_job(job_id).status == "cancelled"                # the intake message finds nothing to do
    assert "job.checked" not in actions(job)


@pytest.mark.django_db
def test_a_rule_that_needs_no_face_refuses_in_the_request(api, subject, portrait, short_speech):
    r = submit(api, subject, portrait, short_speech)                # Bea never consented
    assert r.status_code == 201 and r.json()["status"] == "denied"
    assert r.json()["decision"]["rules"] == ["consent-active"] and r.json()["decision"]["stage"] == "submission"
    assert stored_job_files() == []


@pytest.mark.django_db
def test_each_job_is_decided_once_whatever_the_duplicates(api, consenting_subject, portrait, short_speech,
                                                          django_capture_on_commit_callbacks):
    job_id = submit(api, consenting_subject, portrait, short_speech).json()["id"]
    with django_capture_on_commit_callbacks(execute=False) as first:
        check_job(job_id)
    with django_capture_on_commit_callbacks(execute=False) as second:
        again = check_job(job_id)                                 # a redelivered intake message
    assert again.status == "queued" and len(first) == 1 and second == []   # one generation wake-up in all
    job = Job.objects.get(pk=job_id)
    events = actions(job)
    assert events.count("job.checked") == 1 and events.count("job.created") == 1
    assert AuditEvent.objects.filter(action="policy.decision", target_id=job_id,
                                     data__stage="submission").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_reaper_sends_a_lost_intake_message_again(api, consenting_subject, portrait, short_speech, settings,
                                                      empty_broker):
    job_id = submit(api, consenting_subject, portrait, short_speech).json()["id"]
    for message in queued_messages():
        message.unlink()                                          # the broker lost it
    assert reap_checking()["checking_lost"] == 0                  # not yet overdue
    Job.objects.filter(pk=job_id).update(dispatched_at=timezone.now() - timedelta(
        seconds=settings.VERITALK_REDISPATCH_SECONDS + 1))
    assert reap_checking()["checking_lost"] == 1 and waiting_queues() == ["intake"]
    assert check_job(job_id).status == "queued"
    assert reap_checking()["checking_lost"] == 0                  # a decided job is not sent again


@pytest.mark.django_db
def test_photos_found_unusable_do_not_count_as_refused_requests(api, consenting_subject, no_face_png, short_speech):
    """Before the intake such a photo was a 400 and no job: it must not bring the creator
    closer to the limit on refused requests (the identity-probing guard)."""
    from jobs.gate import decide_job
    for _ in range(3):
        check_job(submit(api, consenting_subject, no_face_png, short_speech).json()["id"])
    job = Job.objects.filter(status="denied").first()
    assert Job.objects.filter(status="denied").count() == 3
    facts = decide_job(job).facts
    assert facts["creator"]["recent"]["24"]["denied"] == 0


@pytest.mark.django_db
def test_the_portal_shows_the_checking_state_in_english_and_french(client, creator, consenting_subject, portrait,
                                                                   short_speech):
    client.force_login(creator)
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = client.post("/jobs/new/", {"subject": consenting_subject.pk, "photo": p, "audio": a, "purpose": "test",
                                       "emotion": "neutral", "expression_scale": 1, "head_motion": 1, "gaze": "0,0",
                                       "blink_rate": 15, "seed": 0, "size": 256})
    job = Job.objects.get()
    assert r.status_code == 302 and job.status == "checking"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'status-checking' in page and ">Checking<" in page and "is being checked" in page
    dashboard = client.get("/").content.decode()
    assert ">Checking<" in dashboard
    french = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert ">Vérification<" in french and "est comparé" in french


@pytest.mark.django_db
def test_an_unusable_photo_is_denied_even_by_a_policy_without_the_one_face_rule(api, consenting_subject, no_face_png,
                                                                              short_speech, settings, tmp_path):
    from policies.engine import DEFAULT_POLICY
    text = DEFAULT_POLICY.read_text()
    start = text.index('[[rule]]\nid = "one-face"')
    lax = tmp_path / "lax.toml"
    lax.write_text(text[:start] + text[text.index("[[rule]]", start + 1):])
    settings.VERITALK_POLICY_FILE = str(lax)
    job = check_job(submit(api, consenting_subject, no_face_png, short_speech).json()["id"])
    assert job.status == "denied" and not job.decision["allowed"] and job.decision["rules"] == []
    assert job.decision["reasons"] == ["no face was found in the photo; use a clear, front-facing portrait"]
    assert job.error["code"] == "no_face" and stored_job_files() == []
