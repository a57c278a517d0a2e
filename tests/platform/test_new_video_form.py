"""The new-video form helps: every problem reported at once, the files that passed kept
across a failed submit (and served back only to their owner), sliders showing their
value, a gaze picker, only subjects with an active consent and only the purposes and
channels it covers offered, and the photo preview checked against the chosen subject
by the gate's own identity rules before anything is submitted."""
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from consent.models import Subject
from consent.services import grant_consent, revoke_consent
from jobs.models import Job
from tests.conftest import corpus_file
from tests.platform.conftest import stored_job_files


def post(client, data: dict, **files):
    opened = {k: open(v, "rb") for k, v in files.items()}
    try:
        return client.post(reverse("portal:new_job"), {**data, **opened})
    finally:
        for f in opened.values():
            f.close()


def token_of(page: str) -> str:
    return re.search(r'name="upload_token" value="([^"]+)"', page).group(1)


def stash_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "stash"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.django_db
def test_every_problem_is_reported_at_once(client, creator, consenting_subject, text_file, corrupt_audio):
    client.force_login(creator)
    r = post(client, {"subject": consenting_subject.pk, "expression_scale": "5", "gaze": "3,0", "blink_rate": "15"},
             photo=text_file, audio=corrupt_audio)
    assert r.status_code == 400
    page = r.content.decode()
    for expected in ("not an image", "damaged", "Choose what the video is for.",
                     "Ensure this value is less than or equal to 2.0", "must be two numbers"):
        assert expected in page, expected
    summary = page.split('id="form-errors"')[1].split("</div>")[0]
    assert summary.count("<li>") == 5
    assert Job.objects.count() == 0 and stored_job_files() == [] and stash_files() == []  # bad files are not kept


@pytest.mark.django_db
def test_files_that_passed_are_kept_across_a_failed_submit(client, make_user, creator, consenting_subject,
                                                           portrait, short_speech, django_capture_on_commit_callbacks):
    client.force_login(creator)
    r = post(client, {"subject": consenting_subject.pk, "purpose": ""}, photo=portrait, audio=short_speech)
    assert r.status_code == 400
    page = r.content.decode()
    assert f"{portrait.name} kept – choose another to replace it." in page
    assert f"{short_speech.name} kept – choose another to replace it." in page
    token = token_of(page)
    kept_url = reverse("portal:kept_photo", args=[token])
    assert kept_url in page
    shown = client.get(kept_url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert shown.content == portrait.read_bytes()
    # Another creator cannot read it, nor can a forged token reach outside the stash.
    other = make_user("eve")
    client.force_login(other)
    assert client.get(kept_url).status_code == 404
    assert client.get(reverse("portal:kept_photo", args=["..%2F..%2Fetc"])).status_code == 404
    client.force_login(creator)
    # Resubmitted without choosing the files again: the kept ones are used, then removed.
    with django_capture_on_commit_callbacks(execute=False):
        r = post(client, {"subject": consenting_subject.pk, "purpose": "test", "upload_token": token, "size": 256})
    assert r.status_code == 302, r.content.decode()[:3000]
    job = Job.objects.get()
    assert job.status == "checking" and job.photo_sha256 and stash_files() == []
    with job.photo.open("rb") as fh:
        assert fh.read() == portrait.read_bytes()


@pytest.mark.django_db
def test_a_new_choice_replaces_the_kept_file(client, creator, consenting_subject, portrait, short_speech, text_file):
    client.force_login(creator)
    r = post(client, {"subject": consenting_subject.pk}, photo=portrait, audio=short_speech)
    token = token_of(r.content.decode())
    r = post(client, {"subject": consenting_subject.pk, "upload_token": token}, photo=text_file)
    page = r.content.decode()
    assert "not an image" in page and "photo-kept" not in page and "audio-kept" in page


@pytest.mark.django_db
def test_sliders_show_their_value_and_gaze_is_picked(client, creator, consenting_subject, settings):
    client.force_login(creator)
    page = client.get(reverse("portal:new_job")).content.decode()
    scale = page.split('name="expression_scale"')[0].rsplit("<input", 1)[1] + page.split('name="expression_scale"')[1]
    assert 'type="range"' in scale and 'min="0.0"' in scale and 'max="2.0"' in page
    assert 'id="id_expression_scale-value"' in page
    assert 'name="gaze_0"' in page and 'name="gaze_1"' in page and "gaze-pad" in page
    assert 'name="gaze"' not in page          # no more typing "X,Y"
    assert 'type="number"' in page.split('name="seed"')[0].rsplit("<input", 1)[1]   # a stepper
    french = client.get(reverse("portal:new_job"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<output for="id_expression_scale" id="id_expression_scale-value" aria-hidden="true">1,0</output>' in french
    assert "Procédural" in french and "Automatique" in french   # planner and lip-sync options have labels


@pytest.mark.django_db
def test_gaze_from_the_picker_reaches_the_job(client, creator, consenting_subject, portrait, short_speech,
                                              django_capture_on_commit_callbacks):
    client.force_login(creator)
    with django_capture_on_commit_callbacks(execute=False):
        r = post(client, {"subject": consenting_subject.pk, "purpose": "test", "gaze_0": "0.25", "gaze_1": "-0.5",
                          "size": 256}, photo=portrait, audio=short_speech)
    assert r.status_code == 302
    assert Job.objects.get().controls["gaze"] == [0.25, -0.5]


@pytest.mark.django_db
def test_only_consenting_subjects_and_their_scope_are_offered(client, creator, consenting_subject, faces):
    revoked = Subject.objects.create(display_name="Cy", created_by=creator, face_embedding=faces("obama_1"))
    consent = grant_consent(subject=revoked, creator=creator, purposes=["marketing"], statement="yes")
    revoke_consent(consent)
    wide = Subject.objects.create(display_name="Dee", created_by=creator, face_embedding=faces("biden_2"))
    grant_consent(subject=wide, creator=creator, purposes=["education", "demo"], channels=["web"], statement="yes")
    client.force_login(creator)
    page = client.get(reverse("portal:new_job")).content.decode()
    assert re.search(rf'<option value="{revoked.pk}" disabled>Cy \(no active consent\)</option>', page)
    assert re.search(rf'<option value="{consenting_subject.pk}">Bea</option>', page)
    scopes = json.loads(re.search(r'<script id="consent-scopes" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))
    assert scopes == {str(consenting_subject.pk): {"name": "Bea", "enrolled": True, "purposes": ["test"],
                                                   "channels": []},
                      str(wide.pk): {"name": "Dee", "enrolled": True, "purposes": ["demo", "education"],
                                     "channels": ["web"]}}
    assert "Demonstration" in page and "Social media" in page   # purposes and channels by name, not code


@pytest.mark.django_db
@pytest.mark.parametrize("photo,matches,message", [
    ("photos/elizabeth_olsen.jpg", True, "Matches Bea."),
    ("photos/obama_2.jpg", False, "Does not match Bea&#x27;s enrolled face."),
])
def test_photo_preview_checks_the_face_against_the_chosen_subject(client, creator, consenting_subject,
                                                                  photo, matches, message):
    client.force_login(creator)
    with open(corpus_file(photo), "rb") as f:
        r = client.post(reverse("api-faces"), {"photo": f, "subject": consenting_subject.pk})
    assert r.status_code == 200, r.content
    identity = r.json()["identity"]
    assert identity["matches"] is matches and identity["subject"] == consenting_subject.pk
    assert identity["message"] == message.replace("&#x27;", "'")
    assert identity["rules"] == ([] if matches else ["identity-match"])
    with open(corpus_file(photo), "rb") as f:
        french = client.post(reverse("api-faces"), {"photo": f, "subject": consenting_subject.pk},
                             HTTP_ACCEPT_LANGUAGE="fr").json()["identity"]["message"]
    assert "Bea" in french and french != identity["message"]


@pytest.mark.django_db
def test_photo_preview_compares_only_with_a_consenting_subject(client, creator, subject, portrait):
    client.force_login(creator)   # Bea is ana's subject but has not consented: no comparison
    with open(portrait, "rb") as f:
        r = client.post(reverse("api-faces"), {"photo": f, "subject": subject.pk})
    assert r.status_code == 200 and r.json()["ok"] and r.json()["identity"] is None


@pytest.mark.django_db
def test_photo_preview_refuses_a_subject_that_is_not_yours(client, creator, make_user, portrait):
    other = make_user("eve")
    theirs = Subject.objects.create(display_name="Zed", created_by=other)
    client.force_login(creator)
    with open(portrait, "rb") as f:
        r = client.post(reverse("api-faces"), {"photo": f, "subject": theirs.pk})
    assert r.status_code == 400 and "not one of your subjects" in r.content.decode()
