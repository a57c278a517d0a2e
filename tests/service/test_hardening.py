"""Hostile inputs against the portal and the API: each refused with a clear error
and nothing stored; production settings pass Django's deployment checks."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from jobs.models import Job
from tests.platform.conftest import stored_job_files

ROOT = Path(__file__).resolve().parents[2]


def form(subject, photo, audio, photo_name="photo.jpg", audio_name="voice.wav"):
    return {"subject": subject.pk, "emotion": "neutral", "expression_scale": 1, "head_motion": 1, "gaze": "0,0",
            "blink_rate": 15, "seed": 0, "size": 256, "purpose": "test",
            "photo": _named(photo, photo_name), "audio": _named(audio, audio_name)}


def _named(data: bytes, name: str):
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.fixture
def logged_in(client, creator):
    client.login(username=creator.username, password=creator.raw_password)
    return client


def refused(response, message):
    assert response.status_code == 400, response.status_code   # the form, re-shown with the error
    assert message in response.content.decode()
    assert Job.objects.count() == 0 and stored_job_files() == []


@pytest.mark.django_db
def test_decompression_bomb(logged_in, consenting_subject, short_speech):
    buf = io.BytesIO()
    Image.new("L", (20000, 20000)).save(buf, format="PNG", optimize=True)  # ~400 MP in a few hundred KB
    assert len(buf.getvalue()) < 2_000_000
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, buf.getvalue(), short_speech.read_bytes(),
                                                       "bomb.png"))
    refused(r, "too many pixels")


@pytest.mark.django_db
def test_wrong_extensions_are_judged_by_content(logged_in, consenting_subject, portrait, short_speech):
    # An image posing as audio, and audio posing as an image: refused for what they are.
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, portrait.read_bytes(),
                                                       portrait.read_bytes(), audio_name="voice.mp3"))
    refused(r, "not a supported audio format")
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, short_speech.read_bytes(),
                                                       short_speech.read_bytes(), photo_name="face.jpg"))
    refused(r, "not an image in a supported format")


@pytest.mark.django_db
def test_real_content_under_a_misleading_name_is_stored_under_its_true_type(logged_in, consenting_subject, portrait,
                                                                            short_speech):
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, portrait.read_bytes(),
                                                       short_speech.read_bytes(), photo_name="run-me.exe",
                                                       audio_name="song.mp3"))
    assert r.status_code == 302
    assert {p.name for p in stored_job_files()} == {"photo.jpg", "audio.wav"}


@pytest.mark.django_db
def test_traversal_names_cannot_choose_where_files_go(logged_in, consenting_subject, portrait, short_speech,
                                                      isolated_media):
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, portrait.read_bytes(),
                                                       short_speech.read_bytes(),
                                                       photo_name="../../../../../tmp/evil.jpg",
                                                       audio_name="..\\..\\evil.wav"))
    assert r.status_code == 302
    job = Job.objects.get()
    stored = stored_job_files()
    assert {p.parent.name for p in stored} == {str(job.pk)}
    assert all(Path(isolated_media) in p.parents and ".." not in p.parts for p in stored)
    assert not Path("/tmp/evil.jpg").exists()


@pytest.mark.django_db
def test_oversize_uploads(logged_in, consenting_subject, portrait, short_speech, settings):
    settings.VERITALK_MAX_PHOTO_BYTES = 50_000
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, portrait.read_bytes(),
                                                       short_speech.read_bytes()))
    refused(r, "the limit is 0.048 MB")
    settings.VERITALK_MAX_REQUEST_BYTES = 100_000                      # the whole request, before parsing
    r = logged_in.post(reverse("portal:new_job"), form(consenting_subject, portrait.read_bytes(),
                                                       short_speech.read_bytes()))
    assert r.status_code == 413 and r.json()["code"] == "file_too_large"
    assert Job.objects.count() == 0 and stored_job_files() == []


@pytest.mark.django_db
def test_missing_csrf_token(creator, consenting_subject, portrait, short_speech):
    client = Client(enforce_csrf_checks=True)
    client.login(username=creator.username, password=creator.raw_password)
    r = client.post(reverse("portal:new_job"), form(consenting_subject, portrait.read_bytes(),
                                                    short_speech.read_bytes()))
    assert r.status_code == 403 and b"CSRF" in r.content
    r = client.post("/api/jobs/", form(consenting_subject, portrait.read_bytes(), short_speech.read_bytes()))
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert Job.objects.count() == 0 and stored_job_files() == []


def _production_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VERITALK_"))}
    env.update({"VERITALK_ENV": "production", "DJANGO_ALLOWED_HOSTS": "veritalk.example",
                "DJANGO_SECRET_KEY": "x" * 20 + os.urandom(32).hex(), "DJANGO_SETTINGS_MODULE": "veritalk.settings",
                "VERITALK_VAR_DIR": os.environ.get("VERITALK_VAR_DIR", "/tmp"), **extra})
    return env


def test_deployment_checks_pass_under_production_settings():
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                         env=_production_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_production_refuses_to_start_without_a_secret_from_the_environment():
    env = _production_env()
    env.pop("DJANGO_SECRET_KEY")
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "DJANGO_SECRET_KEY" in out.stderr
