"""An auditor verifies files in the browser: a Veritalk output (authentic: verdict,
signer, actions, manifest tree, watermark, registry match, not revoked) and a copy
whose provenance was stripped by remuxing without metadata (identified by its
watermark alone). Then reads the verdict page in French."""
import base64
from pathlib import Path

import av
import pytest

from jobs.runner import run_job
from jobs.services import submit_job
from tests.browser.conftest import log_in
from tests.conftest import corpus_file
from tests.platform.conftest import consenting_subject, creator, subject  # noqa: F401


def strip_provenance(src, dst) -> None:
    """Copy the streams into a new MP4 without any metadata: the C2PA manifest is gone,
    the pixels (and so the watermark) are untouched."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="mp4") as out:
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*[inp.streams[i] for i in mapping]):
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            out.mux(packet)


@pytest.fixture
def output(consenting_subject, creator, tmp_path):
    with open(corpus_file("photos/elizabeth_olsen.jpg"), "rb") as p, \
            open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        job = submit_job(creator=creator, subject=consenting_subject, photo=p, audio=a, controls={"size": 256},
                         purpose="test")
    run_job(str(job.pk))  # what the worker runs
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    stripped = tmp_path / "stripped.mp4"
    strip_provenance(job.output.path, stripped)
    return job, stripped


def drop_file(page, path) -> None:
    """Drop `path` on the page's drop zone, as a file dragged from the desktop would be."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    page.evaluate("""([name, b64]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, {type: "video/mp4"}));
        const zone = document.getElementById("drop-zone");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
    }""", [Path(path).name, data])


def verify_in_browser(page, path):
    page.goto("/verify/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Verify").click()
    page.locator("#verdict").wait_for(timeout=60_000)
    return page.locator("#verdict").get_attribute("data-verdict")


@pytest.mark.django_db(transaction=True)
def test_auditor_verifies_an_output_and_a_stripped_copy(new_page, make_user, output):
    job, stripped = output
    auditor = make_user("audrey", role="auditor", vetted=False)
    page = new_page("auditor")
    log_in(page, auditor)
    assert page.get_by_role("link", name="New video").count() == 0  # auditors verify, they do not generate

    assert verify_in_browser(page, job.output.path) == "authentic"
    assert page.inner_text("#verdict") == "Verified"   # words, not the code
    assert "Veritalk" in page.inner_text("#signer")
    actions = page.inner_text("#actions")
    assert "c2pa.created" in actions and "c2pa.watermarked" in actions
    assert page.inner_text("#c2pa-state").startswith("Trusted ")
    assert page.inner_text("#watermark").startswith("found, payload ")
    assert str(job.pk) in page.inner_text("#registry")
    assert page.inner_text("#revocation") == "not revoked"
    tree = page.locator("#manifest-tree")
    assert "signature_info" in tree.inner_text() and "com.veritalk.provenance" not in tree.inner_text()
    # The tree is browsable with the keyboard: focus the assertions' summary and open it.
    tree.locator("summary", has_text="assertions").first.focus()
    page.keyboard.press("Enter")
    assert "c2pa.actions" in tree.inner_text() and "com.veritalk.provenance" in tree.inner_text()
    page.shot("authentic")

    # The stripped copy is dropped on the page rather than chosen.
    page.goto("/verify/")
    drop_file(page, stripped)
    page.locator("#verdict").wait_for(timeout=60_000)
    assert page.inner_text("#verdict") == "Provenance removed"
    assert page.inner_text("#c2pa-state").startswith("Absent ")
    assert "no C2PA manifest" in page.inner_text("#manifest-tree")
    assert page.inner_text("#watermark").startswith("found, payload ")
    registry = page.inner_text("#registry")
    assert str(job.pk) in registry and "watermark" in registry
    page.shot("stripped")

    # The same page in French, through the language switcher.
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", name="Vérifier un fichier").is_visible()
    page.get_by_label("Fichier").set_input_files(str(stripped))
    page.get_by_role("button", name="Vérifier").click()
    page.locator("#verdict").wait_for(timeout=60_000)
    assert "Filigrane" in page.inner_text("#verification") and "charge" in page.inner_text("#watermark")
    page.shot("stripped-fr")
    assert page.js_errors == []
