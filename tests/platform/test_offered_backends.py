"""Only what a worker can run is offered: without the diffusion weights the new-video
form leaves "Diffusion (GPU)" out and says why, the API refuses a diffusion job by name
before storing anything, and `runworker --queues offered` (what `make serve` runs) takes
intake, generation and detection, plus gpu once the weights are there."""
from pathlib import Path

import pytest

from audit.models import AuditEvent
from jobs.backends import offered_queues
from jobs.models import Job
from tests.platform.conftest import as_user as api
from tests.platform.conftest import stored_job_files


@pytest.mark.django_db
def test_without_weights_diffusion_is_not_offered_and_is_refused_by_name(client, creator, consenting_subject,
                                                                        portrait, short_speech, settings):
    settings.VERITALK_DIFFUSION_WEIGHTS = ""
    client.force_login(creator)
    page = client.get("/jobs/new/").content.decode()
    assert 'value="warp"' in page and 'value="diffusion"' not in page
    assert "no GPU worker with the diffusion weights" in page
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        r = api(creator).post("/api/jobs/", {"subject": consenting_subject.pk, "photo": p, "audio": a,
                                             "purpose": "test", "backend": "diffusion"}, format="multipart")
    assert r.status_code == 400 and "no GPU worker" in str(r.json()), r.content
    assert not Job.objects.exists() and stored_job_files() == []
    assert not AuditEvent.objects.filter(action="job.created").exists()
    assert offered_queues() == ["intake", "generation", "detection"]


@pytest.mark.django_db
def test_with_weights_diffusion_is_offered_and_its_queue_served(client, creator, settings, tmp_path):
    settings.VERITALK_DIFFUSION_WEIGHTS = str(tmp_path)
    client.force_login(creator)
    assert 'value="diffusion"' in client.get("/jobs/new/").content.decode()
    assert offered_queues() == ["intake", "generation", "detection", "gpu"]
    settings.VERITALK_DIFFUSION_WEIGHTS = str(tmp_path / "missing")
    assert "gpu" not in offered_queues()


def test_make_serve_runs_a_worker_on_every_offered_queue():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    serve = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "runworker --queues offered" in serve and "runserver" in serve
