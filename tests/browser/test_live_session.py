"""A creator streams a live session in Chromium with a fake microphone playing a
corpus voice: the portrait's mouth, measured on frames captured from the page's
<video>, moves with the voice; the creator stops and the recording verifies
`authentic`. A second session is ended by revoking the consent, and the page says
why within 2 seconds. Served by uvicorn (the live WebSocket needs ASGI)."""
from __future__ import annotations

import time
import wave

import av
import numpy as np
import pytest

from generation.audio import decode_audio
from jobs.models import Job
from live.models import LiveSession
from tests.browser.conftest import ARTIFACTS, TIMEOUT_MS, launched_chromium, log_in
from tests.conftest import corpus_file
from tests.live.conftest import asgi_server, live_subject  # noqa: F401
from tests.platform.conftest import creator, subject, verify_json  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
RATE = 48_000

# Captures frames from the page's <video> every 80 ms: media time and the share of dark
# (mouth cavity) pixels in the mouth box the server announced.
SAMPLE_MOUTH = """async (seconds) => {
  const v = document.getElementById("live-video");
  const box = window.veritalkLive.ready.mouth_box;
  const c = document.createElement("canvas");
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext("2d", {willReadFrequently: true});
  const out = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    g.drawImage(v, 0, 0);
    const d = g.getImageData(box[0], box[1], box[2] - box[0], box[3] - box[1]).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2] < 60) dark++;
    out.push([v.currentTime, dark / (d.length / 4)]);
    await new Promise(r => setTimeout(r, 80));
  }
  return out;
}"""


@pytest.fixture(scope="module")
def fake_microphone(tmp_path_factory):
    """What the fake microphone plays, looped: speech, a silence, speech, a silence."""
    speech = decode_audio(corpus_file("audio/sr_english_en.wav"), sample_rate=RATE).mono
    gap = np.zeros(int(1.5 * RATE), np.float32)
    x = np.concatenate([speech[: int(2.5 * RATE)], gap, speech[int(2.5 * RATE): int(5 * RATE)], gap])
    path = tmp_path_factory.mktemp("mic") / "voice.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def live_browser(django_db_setup, django_db_blocker, fake_microphone):
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_microphone}", "--autoplay-policy=no-user-gesture-required"]
    with launched_chromium(args) as b:
        yield b


@pytest.fixture
def live_page(live_browser, asgi_server, request):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = live_browser.new_context(base_url=f"http://{asgi_server}", locale="en-GB",
                                   viewport={"width": 1100, "height": 1000})
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.shot = lambda step: page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{step}.png"),
                                             full_page=True)
    yield page
    ctx.close()


def open_and_start(page, creator, subject):
    log_in(page, creator)
    page.get_by_role("link", name="Live", exact=True).click()
    page.get_by_label("Subject").select_option(label=subject.display_name)
    page.get_by_label("Photo").set_input_files(str(corpus_file("photos/elizabeth_olsen.jpg")))
    page.get_by_label("Size").select_option("256")
    page.get_by_role("button", name="Open the session").click()
    page.wait_for_url("**/live/*/")
    page.shot("ready")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function("window.veritalkLive && window.veritalkLive.ready !== null", timeout=60_000)
    page.wait_for_function("document.getElementById('live-video').currentTime > 0.5", timeout=30_000)
    return LiveSession.objects.get()


def loudness_at(path, times) -> np.ndarray:
    """dBFS of the recording's voice in the 80 ms around each media time."""
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].rate
        x = np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(audio=0)])
    half = int(0.04 * rate)
    return np.array([10 * np.log10(np.mean(x[max(0, int(t * rate) - half): int(t * rate) + half] ** 2) + 1e-10)
                     for t in times])


def test_creator_streams_a_live_session_whose_mouth_follows_the_voice(live_page, creator, live_subject):
    page = live_page
    session = open_and_start(page, creator, live_subject)
    assert "Live" in page.locator("#live-state").inner_text()
    samples = np.array(page.evaluate(SAMPLE_MOUTH, 8))
    page.shot("streaming")
    page.get_by_role("button", name="Stop").click()
    page.locator("#live-recording").wait_for(state="visible", timeout=60_000)
    assert "recording was signed and registered" in page.locator("#live-state").inner_text()
    page.shot("ended")

    session.refresh_from_db()
    job = Job.objects.get(pk=session.job_id)
    assert session.status == "ended" and job.status == "succeeded"
    assert verify_json(job.output.path)["verdict"] == "authentic"
    # The mouth moves with the voice: open when it is loud, closed in the silences.
    times, mouth = samples[:, 0], samples[:, 1]
    assert len(samples) > 40 and np.ptp(times) > 5
    level = loudness_at(job.output.path, times)
    voiced = level > level.max() - 25
    assert voiced.any() and (~voiced).any(), level
    assert mouth[voiced].mean() > mouth[~voiced].mean() + 0.01, (mouth[voiced].mean(), mouth[~voiced].mean())
    assert np.corrcoef(mouth, level)[0, 1] > 0.3
    assert page.js_errors == []


def test_revoking_consent_ends_the_session_and_the_page_says_why(live_page, creator, live_subject):
    from consent.services import revoke_consent
    page = live_page
    session = open_and_start(page, creator, live_subject)
    time.sleep(1.0)
    revoked_at = time.monotonic()
    revoke_consent(live_subject.live_consent, reason="changed my mind")
    alert = page.locator("#live-ended")
    alert.wait_for(state="visible", timeout=2_000)
    seen = time.monotonic() - revoked_at
    assert "revoked their consent" in alert.inner_text()
    page.shot("revoked")
    assert seen < 2.0, seen
    page.wait_for_function("window.veritalkLive.ended !== null", timeout=30_000)
    session.refresh_from_db()
    assert session.status == "stopped" and session.end_reason == "consent_revoked"
    assert Job.objects.get(pk=session.job_id).status == "denied"
