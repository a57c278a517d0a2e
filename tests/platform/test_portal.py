"""The portal in Django's test client: a creator logs in, uploads, is refused
with a clear error for bad files, sees denials, follows the checking and queued
states and plays a verified result. (Photos without one face: test_intake.py.)"""
import pytest
from django.urls import reverse

from jobs.intake import check_job
from jobs.models import Job
from jobs.runner import run_job
from tests.conftest import corpus_file
from tests.platform.conftest import stored_job_files


@pytest.fixture
def client_as(client):
    def login(user):
        assert client.login(username=user.username, password=user.raw_password)
        return client
    return login


def upload(client, subject, photo, audio, **controls):
    data = {"subject": subject.pk, "emotion": "neutral", "expression_scale": 1, "head_motion": 1, "gaze": "0,0",
            "blink_rate": 15, "seed": 0, "size": 256, "purpose": "test", **controls}
    with open(photo, "rb") as p, open(audio, "rb") as a:
        data.update(photo=p, audio=a)
        return client.post(reverse("portal:new_job"), data)


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    r = client.get(reverse("portal:new_job"))  # the root is the public landing page (test_onboarding.py)
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_login_and_dashboard(client, creator, consenting_subject):
    r = client.post(reverse("login"), {"username": "ana", "password": creator.raw_password})
    assert r.status_code == 302
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Bea" in page and "active" in page


@pytest.mark.django_db
@pytest.mark.parametrize("photo,audio,message", [
    ("text_file", "short_speech", "not an image"),
    ("portrait", "corrupt_audio", "damaged"),
    ("portrait", "long_audio", "the limit is 30 s"),
])
def test_bad_uploads_show_a_clear_error_and_store_nothing(request, client_as, creator, consenting_subject,
                                                          photo, audio, message):
    client = client_as(creator)
    r = upload(client, consenting_subject, request.getfixturevalue(photo), request.getfixturevalue(audio))
    assert r.status_code == 400
    assert message in r.content.decode()
    assert Job.objects.count() == 0 and stored_job_files() == []


@pytest.mark.django_db
def test_denied_job_shows_the_reason(client_as, creator, subject, portrait, short_speech):
    client = client_as(creator)
    r = upload(client, subject, portrait, short_speech)
    job = Job.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("portal:job", args=[job.pk])
    page = client.get(r["Location"]).content.decode()
    assert "Denied by policy" in page and "<strong>Active consent:</strong> Bea has not granted you consent." in page
    assert "consent-active" not in page and "No consent from subject" not in page   # words, not the rule's id


@pytest.mark.django_db
def test_upload_to_playback_with_verification(client_as, make_user, creator, consenting_subject, portrait,
                                              short_speech, django_capture_on_commit_callbacks):
    client = client_as(creator)
    with django_capture_on_commit_callbacks(execute=False) as dispatched:
        r = upload(client, consenting_subject, portrait, short_speech, emotion="happy")
    assert r.status_code == 302 and len(dispatched) == 1   # one intake task dispatched after commit
    job = Job.objects.get()
    page = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    assert "Checking" in page and "<progress" in page and "job-checking" in page
    assert client.get(reverse("portal:job_status", args=[job.pk])).json()["status"] == "checking"
    check_job(job.pk)                                       # what the intake worker runs
    page = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    assert "Queued" in page and "<progress" in page
    run_job(str(job.pk))                                    # what the generation worker runs
    page = client.get(reverse("portal:job", args=[job.pk])).content.decode()
    assert "<video" in page and "authentic" in page and "Trusted" in page
    video = client.get(reverse("portal:job_output", args=[job.pk]))
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    assert b"ftyp" in b"".join(video.streaming_content)[:64]
    status = client.get(reverse("portal:job_status", args=[job.pk])).json()
    assert status == {"status": "succeeded", "progress": 100, "final": True}
    # Another creator can neither see the page nor fetch the file.
    other = make_user("eve")
    client.logout()
    client_as(other)
    assert client.get(reverse("portal:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("portal:job_output", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_verify_page_reports_a_real_video(client_as, creator):
    client = client_as(creator)
    with open(corpus_file("videos/voxceleb2_00373.mp4"), "rb") as f:
        r = client.post(reverse("portal:verify"), {"file": f})
    page = r.content.decode()
    assert r.status_code == 200 and 'data-verdict="no_provenance">No provenance</span>' in page
