"""A moderator's path in the browser: opens one of our outputs from the queue, watches
the detector and the provenance check run on a real Celery worker (the detection
queue, on the worker process `make serve` starts), reads the per-second score plot, flags the case,
then takes the output down, after which the portal no longer serves it; and a visitor's
way in: sign-up, vetting request, an admin vets them, a password reset by e-mail."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from audit.models import AuditEvent
from jobs.runner import run_job
from jobs.services import submit_job
from moderation.models import Case, Takedown
from tests.browser.conftest import log_in
from tests.conftest import corpus_file
from tests.platform.conftest import consenting_subject, creator, queued_messages, subject, tiny_detector  # noqa: F401


@pytest.fixture
def serve_worker(settings, tiny_detector, tmp_path):
    """The worker `make serve` starts (`manage.py runworker --queues offered`, a process of
    its own), on this test's database, broker, media folder and detector."""
    settings.VERITALK_DETECTOR_MODEL = str(tiny_detector)
    for message in queued_messages():
        message.unlink()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "veritalk.test_settings",
           "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
           "VERITALK_MEDIA_ROOT": str(settings.MEDIA_ROOT), "VERITALK_DETECTOR_MODEL": str(tiny_detector)}
    log = (tmp_path / "worker.log").open("w+")
    proc = subprocess.Popen([sys.executable, "manage.py", "runworker", "--queues", "offered", "--loglevel", "WARNING"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.seek(0)
        print("worker output:\n" + log.read()[-4000:])
        log.close()


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
def test_moderator_flags_and_takes_down(new_page, make_user, creator, output, serve_worker):
    moderator = make_user("mo", role="moderator", vetted=False)
    page = new_page("moderator")
    log_in(page, moderator)
    page.get_by_role("link", name="Moderation").click()
    page.get_by_label("Registry id").fill(str(output.registry_entry.pk))
    page.get_by_role("button", name="Open", exact=True).click()
    page.wait_for_url("**/moderation/cases/*/")
    # The page polls the analysis and reloads when it is done (the worker process may still be starting).
    page.get_by_role("heading", name="Detector", exact=False).wait_for(timeout=240_000)
    assert serve_worker.poll() is None, "the worker process stopped"
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
def test_a_visitor_signs_up_asks_to_be_vetted_and_an_admin_vets_them(new_page, django_user_model, mailoutbox):
    """From `/` as a stranger: the landing page, sign-up, the vetting request; an admin made
    by createsuperuser (an admin, not an unvetted creator) vets them from the queue, and the
    applicant is told by e-mail. Then the visitor resets a forgotten password by e-mail."""
    visitor = new_page("visitor")
    visitor.goto("/")
    assert "only with the consent of the person shown" in visitor.inner_text("main")
    visitor.shot("landing")
    visitor.get_by_role("link", name="Sign up as a creator").click()
    visitor.wait_for_url("**/signup/")
    visitor.get_by_label("Username").fill("newbie")
    visitor.get_by_label("Email address").fill("newbie@example.org")
    visitor.get_by_label("Password", exact=True).fill("a-long-pass-phrase-42")
    visitor.get_by_label("Password confirmation").fill("a-long-pass-phrase-42")
    visitor.get_by_role("button", name="Create account").click()
    visitor.wait_for_url("**/account/vetting/")
    visitor.get_by_label("What you plan to make").fill("Explainer videos of our own staff, who consent.")
    visitor.get_by_role("button", name="Send the request").click()
    visitor.wait_for_load_state()
    assert "waiting for an admin's review" in visitor.inner_text("main")
    visitor.shot("vetting-requested")
    newbie = django_user_model.objects.get(username="newbie")
    assert newbie.role == "creator" and not newbie.vetted

    admin = django_user_model.objects.create_superuser("root", "root@example.org", "root-pass-phrase-42")
    admin.raw_password = "root-pass-phrase-42"
    page = new_page("admin")
    log_in(page, admin)
    assert "root (Admin)" in page.inner_text("header") and "has not been vetted" not in page.inner_text("main")
    page.get_by_role("link", name="Vetting").click()
    assert "Requests waiting for a decision: 1" in page.inner_text("main")
    row = page.locator("tr", has_text="newbie")
    assert "asks to be vetted" in row.inner_text() and "Explainer videos" in row.inner_text()
    row.get_by_label("Note").fill("Company and staff consent forms checked.")
    page.shot("vetting")
    row.get_by_role("button", name="Vet").click()
    page.wait_for_load_state()
    assert "newbie is now vetted" in page.inner_text("main")
    newbie.refresh_from_db()
    assert newbie.vetted and newbie.vetted_by_id == admin.pk
    assert AuditEvent.objects.filter(action="account.vetted", actor="root").exists()
    assert [m.to for m in mailoutbox] == [["newbie@example.org"]] and "approved" in mailoutbox[0].body

    visitor.goto("/")
    assert "has not been vetted" not in visitor.inner_text("main")
    visitor.get_by_role("button", name="Log out").click()
    visitor.goto("/")
    visitor.get_by_role("link", name="Forgot your password?").click()
    visitor.get_by_label("Email").fill("newbie@example.org")
    visitor.get_by_role("button", name="Send the link").click()
    visitor.wait_for_url("**/password-reset/sent/")
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", mailoutbox[-1].body).group(1)
    visitor.goto(link)
    visitor.get_by_label("New password", exact=True).fill("a-new-pass-phrase-43")
    visitor.get_by_label("New password confirmation").fill("a-new-pass-phrase-43")
    visitor.get_by_role("button", name="Set the new password").click()
    visitor.wait_for_url("**/password-reset/done/")
    log_in(visitor, newbie, "a-new-pass-phrase-43")
    assert "newbie (Creator)" in visitor.inner_text("header")
    assert page.js_errors == [] and visitor.js_errors == []
