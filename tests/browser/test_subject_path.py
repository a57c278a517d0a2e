"""A subject's whole path in the browser: opens the creator's invitation link, creates
an account, enrols a selfie, grants a scoped consent, then revokes it with the
keyboard; the creator's next job is denied and says why."""
import pytest

from audit.models import AuditEvent
from consent.models import Consent
from jobs.models import Job
from portal.reasons import explain
from tests.browser.conftest import log_in
from tests.conftest import corpus_file
from tests.platform.conftest import creator  # noqa: F401

PORTRAIT = "photos/elizabeth_olsen.jpg"


def tab_to(page, text: str, limit: int = 60) -> None:
    """Move the focus with Tab until it is on an element whose text holds `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if text in (page.evaluate("() => document.activeElement.innerText || ''") or ""):
            return
    raise AssertionError(f"Tab never reached an element reading {text!r}")


@pytest.mark.django_db(transaction=True)
def test_subject_revokes_and_the_creators_next_job_is_denied(new_page, creator):
    maker = new_page("creator")
    log_in(maker, creator)
    maker.goto("/subjects/invite/")
    maker.get_by_label("Person's name").fill("Élise Martin")
    maker.get_by_label("Message").fill("Une courte vidéo de test.")
    maker.get_by_role("button", name="Invite").click()
    link = maker.get_by_label("Invitation link").input_value()
    assert "/consent/invitations/" in link

    page = new_page("subject", locale="fr-FR")
    page.goto(link)
    # The French browser gets the French page; the subject switches to English with the switcher.
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Élise Martin" in page.inner_text("main")
    page.shot("invitation")
    page.get_by_label("Username").fill("elise")
    page.get_by_label("Email address").fill("elise@example.org")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-42")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase-42")
    page.get_by_role("button", name="Create account and accept").click()

    page.wait_for_url("**/me/enrol/")
    page.get_by_label("Selfies").set_input_files(str(corpus_file(PORTRAIT)))
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url("**/me/consents/new/")
    page.get_by_label("Creator", exact=True).select_option(creator.username)
    page.get_by_label("Test", exact=True).check()
    page.get_by_label("I agree", exact=False).check()
    page.shot("grant")
    page.get_by_role("button", name="Grant consent").click()
    page.wait_for_url("**/me/")
    consent = Consent.objects.get(subject__account__username="elise")
    assert consent.is_active() and consent.purposes == ["test"]
    assert "active" in page.locator("tr", has_text=creator.username).inner_text()

    # Revoke with the keyboard only; the focused link shows a visible focus ring.
    tab_to(page, "Revoke")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.shot("revoke-focus")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/me/consents/{consent.pk}/revoke/")
    page.get_by_label("Reason").fill("I changed my mind.")
    page.get_by_role("button", name="Revoke this consent").click()
    page.wait_for_url("**/me/")
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert "revoked" in page.locator("tr", has_text=creator.username).inner_text()
    assert AuditEvent.objects.filter(action="consent.revoked", target_id=str(consent.pk)).exists()
    page.shot("revoked")

    # The creator's next job is denied, and the page says why.
    maker.goto("/")
    assert "revoked" in maker.locator("tr", has_text="Élise Martin").inner_text()
    maker.goto("/jobs/new/")
    # The form no longer offers her; a page from before the revocation (here: the option
    # enabled again) still gets a refusal from the gate.
    option = maker.locator("#id_subject option", has_text="Élise Martin")
    assert option.is_disabled() and "no active consent" in option.inner_text()
    maker.evaluate("() => document.querySelectorAll('#id_subject option').forEach(o => { o.disabled = false; })")
    maker.get_by_label("Subject").select_option(label=option.inner_text())
    maker.get_by_label("Photo").set_input_files(str(corpus_file(PORTRAIT)))
    maker.get_by_label("Audio").set_input_files(str(corpus_file("audio/sr_english_en.wav")))
    maker.get_by_label("Purpose").select_option("test")
    maker.get_by_label("Size").select_option("256")
    maker.get_by_role("button", name="Generate").click()
    maker.wait_for_url("**/jobs/*/")
    job = Job.objects.get(subject=consent.subject)
    assert job.status == "denied" and not job.output
    assert "Denied by policy" in maker.inner_text("#job-status")
    reasons = maker.inner_text("main")
    assert "refused" in reasons and all(r["sentence"] in reasons for r in explain(job.decision))
    assert "Élise Martin revoked their consent on" in reasons and f"#{consent.pk}" not in reasons
    maker.shot("denied")
    assert page.js_errors == [] and maker.js_errors == []
