"""Once the subject revokes, every place that shows the job says so: the creator's
dashboard row and the job page never read "Succeeded" for a revoked video, the
subject's own list says it too, the API gives `revoked_at`, and the new-video and live
forms no longer offer the subject (until they grant a new consent; a crafted choice of
them still gets the gate's recorded refusal, tests/policies/test_red_team.py)."""
import pytest

from consent.services import give_consent, revoke_consent
from jobs.runner import run_job
from jobs.services import submit_job
from tests.conftest import corpus_file
from tests.platform.conftest import as_user as api


@pytest.mark.django_db
def test_a_revoked_subjects_video_is_shown_revoked_everywhere(client, creator, bea_account, short_speech):
    subject = bea_account.subject_profile
    consent = give_consent(account=bea_account, creator=creator, purposes=["test"], agreed=True)
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=creator, subject=subject, photo=p, audio=a, purpose="test", controls={"size": 256})
    job = run_job(str(job.pk))
    with open(corpus_file("photos/obama_2.jpg"), "rb") as p, open(short_speech, "rb") as a:
        waiting = submit_job(creator=creator, subject=subject, photo=p, audio=a, purpose="test")
    client.force_login(creator)
    assert job.status == "succeeded" and 'value="%d"' % subject.pk in client.get("/jobs/new/").content.decode()
    revoke_consent(consent, actor=bea_account, reason="no more")

    dashboard = client.get("/").content.decode()
    row = dashboard.split(f'/jobs/{job.pk}/')[0].rsplit("<tr>", 1)[1]
    assert "Revoked by the subject" in row and "Succeeded" not in row
    row = dashboard.split(f'/jobs/{waiting.pk}/')[0].rsplit("<tr>", 1)[1]
    assert "Cancelled" in row and "consent revoked" in row
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    status = page.split('id="job-status"')[1].split("</p>")[0]
    assert "Revoked by the subject" in status and "Succeeded" not in status
    assert "revoked their consent" in page and 'id="player"' not in page
    fr = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Révoquée par la personne" in fr
    assert api(creator).get(f"/api/jobs/{job.pk}/").json()["revoked_at"]
    assert api(creator).get(f"/api/jobs/{waiting.pk}/").json()["revoked_at"]

    # The live form leaves her out; the new-video form lists her, not selectable, saying why.
    assert 'value="%d"' % subject.pk not in client.get("/live/").content.decode()
    assert '<option value="%d" disabled>' % subject.pk in client.get("/jobs/new/").content.decode()
    client.force_login(bea_account)
    mine = client.get("/me/videos/").content.decode()
    assert "Revoked by the subject" in mine and "Succeeded" not in mine

    give_consent(account=bea_account, creator=creator, purposes=["test"], agreed=True)  # a new consent
    client.force_login(creator)
    assert 'value="%d"' % subject.pk in client.get("/jobs/new/").content.decode()
