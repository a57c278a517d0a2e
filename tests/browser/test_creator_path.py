"""A creator makes a video in the browser, from upload to playback: logs in, sees the
subject's consent on the dashboard, picks a photo (preview with the detected face
box), sets the controls, follows the live progress while a real Celery worker
renders, plays the result, sees the provenance badge and downloads the MP4."""
import hashlib

import pytest
from celery.contrib.testing.worker import start_worker

from jobs.models import Job
from tests.browser.conftest import log_in
from tests.conftest import corpus_file
from tests.platform.conftest import consenting_subject, creator, queued_messages, subject  # noqa: F401
from veritalk.celery import app as celery_app


@pytest.fixture
def worker():
    for message in queued_messages():  # leftovers of other tests' dispatches
        message.unlink()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=["intake", "generation"]):
        yield


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_creator_makes_a_video_from_upload_to_playback(new_page, creator, consenting_subject, worker, tmp_path):
    page = new_page("creator")
    log_in(page, creator)
    row = page.locator("tr", has_text=consenting_subject.display_name)
    assert "active" in row.inner_text()
    page.shot("dashboard")

    page.get_by_role("link", name="New video").first.click()
    page.get_by_label("Subject").select_option(label=consenting_subject.display_name)
    page.get_by_label("Photo").set_input_files(str(corpus_file("photos/elizabeth_olsen.jpg")))
    status = page.locator("#face-status")
    status.filter(has_text="One face found").wait_for()
    box = page.locator(".face-box")
    assert box.is_visible()
    preview, face = page.locator("#photo-preview img").bounding_box(), box.bounding_box()
    # the box lies inside the preview and is a real part of it
    assert preview["x"] <= face["x"] and face["x"] + face["width"] <= preview["x"] + preview["width"] + 1
    assert 0.05 < face["width"] / preview["width"] < 0.9
    page.shot("photo-preview")

    page.get_by_label("Audio").set_input_files(str(corpus_file("audio/sr_english_en.wav")))
    page.get_by_label("Purpose").select_option("test")
    page.get_by_label("Emotion").select_option("happy")
    page.get_by_label("Size").select_option("256x256")
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_url("**/jobs/*/")
    job = Job.objects.get()
    assert job.controls["emotion"] == "happy" and job.controls["size"] == "256x256" and job.controls["seed"] == 7
    page.shot("progress")

    # The page polls the job API and reloads itself when the job is final.
    player = page.locator("video#player")
    player.wait_for(timeout=180_000)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    badge = page.locator("#provenance-badge")
    assert "Verified" in badge.inner_text() and "Trusted" in badge.inner_text()
    played = page.evaluate("""async () => {
        const v = document.getElementById("player");
        v.muted = true;
        await v.play();
        await new Promise(r => setTimeout(r, 700));
        return {time: v.currentTime, width: v.videoWidth, height: v.videoHeight, error: v.error && v.error.code};
    }""")
    assert played["error"] is None and played["time"] > 0.1, played
    assert (played["width"], played["height"]) == (256, 256)
    page.shot("playback")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download MP4").click()
    saved = tmp_path / "downloaded.mp4"
    download.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == job.output_sha256
    assert page.js_errors == []
