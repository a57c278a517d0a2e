"""A moderator's path in the browser: opens one of our outputs from the queue, watches
the detector and the provenance check run on a real Celery worker (the detection
queue), reads the per-second score plot, flags the case, then takes the output down,
after which the portal no longer serves it; and vets a new creator with a note."""
import pytest
from celery.contrib.testing.worker import start_worker

from audit.models import AuditEvent
from jobs.runner import run_job
from jobs.services import submit_job
from moderation.models import Case, Takedown
from tests.browser.conftest import log_in
from tests.conftest import corpus_file
from tests.platform.conftest import consenting_subject, creator, queued_messages, subject, tiny_detector  # noqa: F401
from veritalk.celery import app as celery_app


@pytest.fixture
def detection_worker(settings, tiny_detector):
    settings.VERITALK_DETECTOR_MODEL = str(tiny_detector)
    for message in queued_messages():
        message.unlink()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=[settings.VERITALK_DETECTION_QUEUE]):
        yield


@pytest.fixture
def output(consenting_subject, creator):
    with open(corpus_file("photos/elizabeth_olsen.jpg"), "rb") as p, \
            open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        job = submit_job(creator=creator, subject=consenting_subject, photo=p, audio=a, controls={"size": 256},
                         purpose="test")
    run_job(str(job.pk))
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


@pytest.mark.django_db(transaction=True)
def test_moderator_flags_and_takes_down(new_page, make_user, creator, output, detection_worker):
    moderator = make_user("mo", role="moderator", vetted=False)
    page = new_page("moderator")
    log_in(page, moderator)
    page.get_by_role("link", name="Moderation").click()
    page.get_by_label("Registry id").fill(str(output.registry_entry.pk))
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_url("**/moderation/cases/*/")
    # The page polls the analysis and reloads when it is done.
    page.get_by_role("heading", name="Detector", exact=False).wait_for(timeout=120_000)
    case = Case.objects.get()
    assert case.status == "done", case.error
    plot = page.get_by_role("img", name="Detector score per second")
    assert plot.is_visible() and page.locator("svg polyline").count() == 1
    assert page.locator("svg circle").count() == len(case.detection["timeline"]) >= 2
    assert page.inner_text("#verdict") == "Verified"
    page.shot("case")

    page.get_by_label("Action").select_option("flag")
    page.get_by_label("Note").fill("Looks like one of ours shared without context.")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert "Flagged" in page.inner_text("main")
    page.get_by_label("Action").select_option("take_down")
    page.get_by_label("Note").fill("The subject's agent asked for removal; consent scope exceeded.")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert "output taken down" in page.inner_text("main")
    page.shot("taken-down")
    assert Takedown.objects.filter(entry=output.registry_entry).exists()
    logged = set(AuditEvent.objects.filter(actor="mo").values_list("action", flat=True))
    assert {"moderation.case_opened"} <= logged and len(logged) >= 3

    # The creator's page now says so, and the file is no longer served.
    maker = new_page("creator")
    log_in(maker, creator)
    maker.goto(f"/jobs/{output.pk}/")
    assert "taken down" in maker.inner_text("main") and maker.locator("video").count() == 0
    assert maker.request.get(f"/jobs/{output.pk}/output.mp4").status == 451
    assert maker.request.get(f"/api/jobs/{output.pk}/output/").status == 451
    maker.shot("creator-sees-takedown")
    assert page.js_errors == [] and maker.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_moderator_vets_a_creator_with_a_note(new_page, make_user):
    moderator = make_user("mo", role="moderator", vetted=False)
    newbie = make_user("newbie", role="creator", vetted=False)
    page = new_page("moderator")
    log_in(page, moderator)
    page.goto("/moderation/vetting/")
    row = page.locator("tr", has_text="newbie")
    assert "not vetted" in row.inner_text()
    row.get_by_label("Note").fill("Identity checked against a passport on a video call.")
    page.shot("vetting")
    row.get_by_role("button", name="Vet").click()
    page.wait_for_load_state()
    assert "newbie is now vetted" in page.inner_text("main")
    newbie.refresh_from_db()
    assert newbie.vetted and newbie.vetted_by_id == moderator.pk
    assert AuditEvent.objects.filter(action="account.vetted", actor="mo").exists()
    assert page.js_errors == []
