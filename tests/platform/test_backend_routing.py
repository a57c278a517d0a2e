"""Choosing the backend and the motion: the flags and API fields are validated and
stored with the job, diffusion jobs go to the GPU workers' queue, and a diffusion
job (tiny random weights) passes the same gate, watermark and signing as any other."""
import json

import pytest

from jobs.dispatch import queue_for
from jobs.models import Job
from jobs.services import submit_job
from tests.conftest import corpus_file
from tests.platform.conftest import empty_broker, queued_messages, run_command  # noqa: F401


def _queues_of_waiting_messages() -> list[str]:
    return [json.loads(p.read_text())["properties"]["delivery_info"]["routing_key"] for p in queued_messages()]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend,queue", [("diffusion", "gpu"), ("warp", "generation")])
def test_jobs_are_routed_by_backend(consenting_subject, creator, portrait, short_speech, backend, queue,
                                    empty_broker):
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=creator, subject=consenting_subject, photo=p, audio=a, purpose="test",
                         controls={"backend": backend, "motion": "learned"})
    assert job.status == Job.Status.QUEUED
    assert job.controls["backend"] == backend and job.controls["motion"] == "learned"
    assert queue_for(job) == queue
    assert _queues_of_waiting_messages() == [queue]


@pytest.mark.django_db
@pytest.mark.parametrize("flag,value,field", [("--motion", "telepathic", "motion"), ("--backend", "gan", "backend")])
def test_bad_backend_or_motion_flag_is_refused_by_name(consenting_subject, portrait, short_speech, flag, value,
                                                       field, empty_broker):
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(portrait),
                               "--audio", str(short_speech), flag, value, "--purpose", "test", "--json")
    result = json.loads(out)
    assert rc == 2 and result["error"]["field"] == field and f"{field} must be one of" in result["error"]["message"]
    assert Job.objects.count() == 0 and queued_messages() == []


@pytest.mark.django_db
def test_api_stores_backend_and_motion_and_names_a_bad_one(creator, consenting_subject, portrait, short_speech,
                                                           settings, tmp_path):
    settings.VERITALK_DIFFUSION_WEIGHTS = str(tmp_path)  # a GPU worker with weights: diffusion is offered
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=creator).key}")
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = api.post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a, "purpose": "test",
                                    "motion": "sideways"}, format="multipart")
    assert r.status_code == 400 and "motion must be one of" in r.json()["motion"][0]
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = api.post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a, "purpose": "test",
                                    "motion": "learned", "backend": "diffusion"}, format="multipart")
    assert r.status_code == 202 and r.json()["status"] == "checking", r.content
    assert r.json()["controls"]["motion"] == "learned" and r.json()["controls"]["backend"] == "diffusion"


@pytest.mark.django_db(transaction=True)
def test_diffusion_job_through_the_gate_on_the_gpu_queue(consenting_subject, portrait, settings, tmp_path,
                                                         empty_broker):
    """End to end on the CPU with tiny random weights: the embedded worker listens on
    the GPU queue; the output is watermarked, signed, and its manifest names the backend."""
    from generation.backends.emo.weights import write_tiny_checkpoint
    from registry.models import RegistryEntry
    settings.VERITALK_DIFFUSION_WEIGHTS = str(write_tiny_checkpoint(tmp_path / "weights"))
    rc, out, err = run_command("generate", "--creator", "ana", "--subject", "Bea", "--photo", str(portrait),
                               "--audio", str(corpus_file("audio/sr_english_en.wav")), "--size", "256",
                               "--backend", "diffusion", "--purpose", "test", "--json")
    result = json.loads(out)
    assert rc == 0, (err, result)
    job = Job.objects.get(pk=result["job"])
    assert job.controls["backend"] == "diffusion" and job.engine.startswith("veritalk-diffusion")
    assert job.verification["verdict"] == "authentic"
    assert job.verification["watermark"]["payload"] == RegistryEntry.objects.get(job=job).watermark_payload
    actions = next(a for a in RegistryEntry.objects.get(job=job).manifest["assertions"]
                   if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert actions[0]["softwareAgent"]["backend"].startswith("diffusion")
