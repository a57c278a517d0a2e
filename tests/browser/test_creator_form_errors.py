"""A creator makes a video and meets every error path of the new-video form on the way,
on one form, in the browser: nothing chosen (every problem listed at once), files that
are not what they claim (both refused together, neither kept), a photo with two faces, a
photo of someone else ("does not match Bea's enrolled face") and the right one ("matches
Bea") checked before submitting, a subject whose consent was revoked offered but not
choosable, only the purposes her consent covers offered, the files kept across a failed
submit (and the kept photo checked again), then the video made by real workers."""
import hashlib

import pytest
from celery.contrib.testing.worker import start_worker

from consent.models import Subject
from consent.services import grant_consent, revoke_consent
from jobs.models import Job
from tests.browser.conftest import log_in
from tests.conftest import corpus_file
from tests.platform.conftest import creator, queued_messages, subject  # noqa: F401
from veritalk.celery import app as celery_app


def errors(page) -> list[str]:
    page.locator("#form-errors").wait_for()
    return [li.inner_text() for li in page.locator("#form-errors li").all()]


def generate(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Generate").click()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_creator_meets_every_error_path_on_one_form_then_makes_the_video(new_page, creator, subject, faces,
                                                                         text_file, corrupt_audio, two_faces_png):
    portrait, voice = corpus_file("photos/elizabeth_olsen.jpg"), corpus_file("audio/sr_english_en.wav")
    grant_consent(subject=subject, creator=creator, purposes=["test", "education"], statement="yes")
    gone = Subject.objects.create(display_name="Cy", created_by=creator, face_embedding=faces("obama_1"))
    revoke_consent(grant_consent(subject=gone, creator=creator, purposes=["test"], statement="yes"))
    page = new_page("creator-errors")
    log_in(page, creator)
    page.goto("/jobs/new/")

    # 1. Nothing chosen: every problem at once, the summary focused, each linked to its field.
    generate(page)
    listed = errors(page)
    assert listed == ["Subject: Choose the subject shown in the photo.", "Photo: Choose a photo.",
                      "Audio: Choose a voice track.", "Purpose: Choose what the video is for."], listed
    assert page.evaluate("() => document.activeElement.id") == "form-errors"
    page.shot("1-nothing-chosen")

    # 2. A revoked subject is listed but cannot be chosen; Bea's consent offers two purposes only.
    cy = page.locator("#id_subject option", has_text="Cy")
    assert cy.is_disabled() and "no active consent" in cy.inner_text()
    page.get_by_label("Subject").select_option(label="Bea")
    offered = page.evaluate("() => [...document.querySelectorAll('#id_purpose option')]"
                            ".filter(o => !o.hidden && o.value).map(o => o.value)")
    assert sorted(offered) == ["education", "test"]

    # 3. Files that are not what they claim: both refused together, neither kept.
    page.get_by_label("Photo").set_input_files(str(text_file))
    page.locator("#face-status.bad").wait_for()
    assert page.locator("#photo-preview img").count() == 0     # no broken-image placeholder
    page.get_by_label("Audio").set_input_files(str(corrupt_audio))
    page.get_by_label("Purpose").select_option("test")
    generate(page)
    listed = errors(page)
    assert len(listed) == 2 and "not an image" in listed[0] and "damaged" in listed[1], listed
    assert page.locator(".kept").count() == 0
    page.shot("2-bad-files")

    # 4. The photo is checked against the chosen subject before anything is submitted.
    page.get_by_label("Photo").set_input_files(str(two_faces_png))
    page.locator("#face-status.bad").wait_for()
    assert page.inner_text("#face-status") == "the photo shows 2 faces; it must show exactly one person"
    page.get_by_label("Photo").set_input_files(str(corpus_file("photos/obama_2.jpg")))
    page.locator("#face-identity.bad").wait_for()
    assert page.inner_text("#face-identity") == "Does not match Bea's enrolled face."
    assert "will be animated" not in page.inner_text("#face-status")
    assert not page.locator("#photo-error").is_visible()   # the last submit's error, cleared by the new choice
    page.shot("3-not-bea")
    page.get_by_label("Photo").set_input_files(str(portrait))
    page.locator("#face-identity.ok").wait_for()
    assert page.inner_text("#face-identity") == "Matches Bea."
    assert page.locator(".face-box").is_visible()
    page.shot("4-matches-bea")

    # 5. One field wrong: the good files are kept, the kept photo is previewed and checked again.
    page.get_by_label("Audio").set_input_files(str(voice))
    page.get_by_label("Purpose").select_option("")
    generate(page)
    assert errors(page) == ["Purpose: Choose what the video is for."]
    assert page.inner_text("#photo-kept") == f"{portrait.name} kept – choose another to replace it."
    assert page.inner_text("#audio-kept") == f"{voice.name} kept – choose another to replace it."
    page.locator("#face-identity.ok").wait_for()
    assert page.inner_text("#face-identity") == "Matches Bea." and page.locator("#photo-preview img").is_visible()
    assert Job.objects.count() == 0
    page.shot("5-files-kept")

    # 6. Fixed: the video is made from the kept files by the intake and generation workers.
    page.get_by_label("Purpose").select_option("test")
    page.get_by_label("Size").select_option("256x256")
    for message in queued_messages():
        message.unlink()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=["intake", "generation"]):
        generate(page)
        page.wait_for_url("**/jobs/*/")
        page.locator("video#player").wait_for(timeout=180_000)
    job = Job.objects.get()
    assert job.status == "succeeded" and job.subject == subject and job.purpose == "test"
    assert job.photo_sha256 == hashlib.sha256(portrait.read_bytes()).hexdigest()   # the kept photo
    assert "Verified" in page.inner_text("#provenance-badge")
    page.shot("6-made")
    assert page.js_errors == []
