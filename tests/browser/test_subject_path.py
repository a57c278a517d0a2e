"""A subject's whole path in the browser: opens the creator's invitation link, creates
an account, enrols a selfie, grants a scoped consent; the creator makes a video of her
(and cancels another from its page);
she revokes with the keyboard, and the creator sees it everywhere: the dashboard rows,
the video's page (never "Succeeded"), the MP4 link (the portal's 410 page), and a
new-video form that no longer offers her."""
import pytest

from audit.models import AuditEvent
from consent.models import Consent
from jobs.models import Job
from jobs.runner import run_job
from jobs.services import submit_job
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
def test_subject_revokes_and_the_creator_sees_it_everywhere(new_page, creator):
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

    # The creator makes a video under this consent (what the generation worker runs).
    with open(corpus_file(PORTRAIT), "rb") as p, open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        made = submit_job(creator=creator, subject=consent.subject, photo=p, audio=a, purpose="test",
                          controls={"size": 256})
    made = run_job(str(made.pk))
    assert made.status == "succeeded", made.error
    maker.goto(f"/jobs/{made.pk}/")
    assert "Succeeded" in maker.inner_text("#job-status") and maker.locator("#player").count() == 1
    # Another one, cancelled from its page before a worker took it (the creator's Cancel button).
    maker.get_by_role("link", name="New video").first.click()
    maker.get_by_label("Subject").select_option(label="Élise Martin")
    maker.get_by_label("Photo").set_input_files(str(corpus_file(PORTRAIT)))
    maker.get_by_label("Audio").set_input_files(str(corpus_file("audio/sr_english_en.wav")))
    maker.get_by_label("Purpose").select_option("test")
    maker.get_by_role("button", name="Generate").click()
    maker.wait_for_url("**/jobs/*/")
    maker.get_by_role("button", name="Cancel this video").click()
    maker.get_by_text("nothing was released").wait_for()
    assert "Cancelled" in maker.inner_text("#job-status")
    assert maker.get_by_role("button", name="Cancel this video").count() == 0
    cancelled = Job.objects.exclude(pk=made.pk).get(subject=consent.subject)
    assert cancelled.status == "cancelled" and not cancelled.photo and not cancelled.audio
    maker.shot("cancelled")

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

    page.get_by_role("link", name="Videos of me").click()
    assert page.locator("tr", has_text="Revoked by the subject").count() == 1
    assert "Succeeded" not in page.inner_text("main")

    # The creator sees it everywhere: the subject's row, the video's row and page, the MP4
    # link (the portal's 410 page), and the new-video form no longer offers her.
    maker.goto("/")
    assert "revoked" in maker.locator("tr", has_text="Élise Martin").first.inner_text()
    row = maker.locator("tr", has=maker.locator(f'a[href="/jobs/{made.pk}/"]'))
    assert "Revoked by the subject" in row.inner_text() and "Succeeded" not in row.inner_text()
    maker.shot("dashboard-revoked")
    row.get_by_role("link", name="Open").click()
    maker.wait_for_url(f"**/jobs/{made.pk}/")
    assert "Revoked by the subject" in maker.inner_text("#job-status")
    assert "Succeeded" not in maker.inner_text("main") and maker.locator("#player").count() == 0
    assert "revoked their consent" in maker.inner_text("main")
    maker.shot("job-revoked")
    response = maker.goto(f"/jobs/{made.pk}/output.mp4")
    assert response.status == 410
    assert maker.get_by_role("heading", name="This video is no longer available").is_visible()
    assert maker.locator("header .brand").is_visible()  # inside the portal's layout
    maker.shot("mp4-410")
    maker.get_by_role("link", name="New video").first.click()
    # Listed, but not selectable, and saying why
    option = maker.locator("#id_subject option", has_text="Élise Martin")
    assert option.is_disabled() and "no active consent" in option.inner_text()
    assert Job.objects.filter(subject=consent.subject).count() == 2  # nothing new was submitted
    assert page.js_errors == [] and maker.js_errors == []
