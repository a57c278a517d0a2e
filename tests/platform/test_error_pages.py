"""403, 404 and 410 pages inside the portal's layout, in English and French: a page
someone may not open, one that does not exist (or is not theirs), and the MP4 link of a
video whose subject revoked their consent (the browser gets the portal's 410 page, the
API keeps its JSON)."""
import pytest

from consent.services import give_consent, revoke_consent
from jobs.runner import run_job
from jobs.services import submit_job
from tests.conftest import corpus_file
from tests.platform.conftest import as_user as api


def _in_layout(page: str) -> bool:
    return 'class="brand"' in page and 'id="content"' in page and "</main>" in page


@pytest.mark.django_db
@pytest.mark.parametrize("lang,words", [("en", "Page not found"), ("fr", "Page introuvable")])
def test_404_is_the_portals_page(client, creator, lang, words):
    client.force_login(creator)
    r = client.get("/jobs/00000000-0000-0000-0000-000000000000/", HTTP_ACCEPT_LANGUAGE=lang)
    page = r.content.decode()
    assert r.status_code == 404 and _in_layout(page) and words in page and f'lang="{lang}"' in page
    r = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 404 and words in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("lang,words", [("en", "Not allowed"), ("fr", "Accès refusé")])
def test_403_is_the_portals_page(client, creator, lang, words):
    client.force_login(creator)
    r = client.get("/moderation/vetting/", HTTP_ACCEPT_LANGUAGE=lang)
    page = r.content.decode()
    assert r.status_code == 403 and _in_layout(page) and words in page and creator.username in page
    why = {"en": "This needs an admin or moderator account.",
           "fr": "Il faut pour cela un compte d’administrateur ou de modérateur."}[lang]
    assert why in page.replace("&#x27;", "’").replace("&rsquo;", "’")


@pytest.mark.django_db
def test_the_mp4_of_a_revoked_video_gives_the_410_page(client, creator, bea_account, short_speech):
    subject = bea_account.subject_profile
    consent = give_consent(account=bea_account, creator=creator, purposes=["test"], agreed=True)
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=creator, subject=subject, photo=p, audio=a, purpose="test", controls={"size": 256})
    job = run_job(str(job.pk))
    assert job.status == "succeeded"
    revoke_consent(consent, actor=bea_account, reason="no more")
    client.force_login(creator)
    for lang, words in (("en", "revoked their consent"), ("fr", "a révoqué son consentement")):
        r = client.get(f"/jobs/{job.pk}/output.mp4", HTTP_ACCEPT_LANGUAGE=lang)
        page = r.content.decode()
        assert r.status_code == 410 and r["Content-Type"].startswith("text/html") and _in_layout(page)
        assert words in page and f'href="/jobs/{job.pk}/"' in page, lang
    r = api(creator).get(f"/api/jobs/{job.pk}/output/")
    assert r.status_code == 410 and r.json()["code"] == "consent_revoked"
