"""`manage.py generate`: denied without consent before anything reaches Celery;
bad inputs refused with a clear error and no job or file; a consenting subject
gets a signed, watermarked, registered video."""
import json

import pytest

from jobs.models import Job
from registry.models import RegistryEntry
from tests.conftest import corpus_file
from tests.platform.conftest import empty_broker, queued_messages, run_command, stored_job_files  # noqa: F401


@pytest.mark.django_db
def test_no_consent_is_denied_and_nothing_reaches_celery(creator, subject, portrait, short_speech, empty_broker):
    code, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(portrait),
                                 "--audio", str(short_speech), "--json")
    result = json.loads(out)
    assert code == 3
    assert result["status"] == "denied"
    assert result["decision"]["allowed"] is False
    assert any("No consent from subject 'Bea'" in r for r in result["decision"]["reasons"])
    assert result["decision"]["policy_version"]
    assert queued_messages() == []              # no task was published to the broker
    assert stored_job_files() == []             # no inputs were stored
    job = Job.objects.get(pk=result["job"])
    assert job.status == "denied" and not job.photo and not RegistryEntry.objects.exists()


@pytest.mark.django_db
def test_unvetted_creator_is_denied(make_user, portrait, short_speech, empty_broker):
    from consent.models import Subject
    from consent.services import grant_consent
    newbie = make_user("newbie", vetted=False)
    s = Subject.objects.create(display_name="Cy", created_by=newbie)
    grant_consent(subject=s, creator=newbie)
    code, out, _ = run_command("generate", "--creator", "newbie", "--subject", "Cy", "--photo", str(portrait),
                               "--audio", str(short_speech), "--json")
    assert code == 3 and "not been vetted" in json.loads(out)["decision"]["reasons"][0]
    assert queued_messages() == []


BAD_INPUTS = [
    ("text_file", "short_speech", "unsupported_format", "photo"),
    ("no_face_png", "short_speech", "no_face", "photo"),
    ("two_faces_png", "short_speech", "multiple_faces", "photo"),
    ("portrait", "corrupt_audio", "corrupt_file", "audio"),
    ("portrait", "long_audio", "audio_too_long", "audio"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("photo,audio,code,field", BAD_INPUTS)
def test_bad_inputs_create_no_job_and_no_file(request, consenting_subject, photo, audio, code, field, empty_broker):
    photo_path, audio_path = request.getfixturevalue(photo), request.getfixturevalue(audio)
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(photo_path),
                               "--audio", str(audio_path), "--json")
    result = json.loads(out)
    assert rc == 2 and result["status"] == "rejected"
    assert result["error"]["code"] == code and result["error"]["field"] == field
    assert result["error"]["message"] in err
    assert Job.objects.count() == 0 and stored_job_files() == [] and queued_messages() == []


@pytest.mark.django_db(transaction=True)
def test_consenting_subject_gets_a_registered_video(consenting_subject, portrait, tmp_path, empty_broker):
    out_file = tmp_path / "out.mp4"
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", str(consenting_subject.pk),
                               "--photo", str(portrait), "--audio", str(corpus_file("audio/sr_english_en.wav")),
                               "--out", str(out_file), "--size", "256", "--emotion", "happy", "--purpose", "test",
                               "--json")
    result = json.loads(out)
    assert rc == 0, err
    assert result["status"] == "succeeded" and result["decision"]["allowed"]
    assert result["output"] == str(out_file.resolve()) and out_file.stat().st_size > 10_000
    job = Job.objects.get(pk=result["job"])
    entry = RegistryEntry.objects.get(job=job)
    assert entry.state == "issued" and entry.output_sha256 == job.output_sha256
    assert job.verification["verdict"] == "authentic"
    assert job.verification["watermark"]["payload"] == entry.watermark_payload
    assert job.controls["emotion"] == "happy" and job.progress_percent == 100
    assert queued_messages() == []  # the message was acknowledged
    files = {p.name for p in stored_job_files()}
    # no partial files left behind; the mark residual beside the output (the registry path's informed test)
    assert files == {"photo.jpg", "audio.wav", "output.mp4", "output.mark.npz", "poster.png"}
