"""A stranger's way in: the landing page at `/` says what Veritalk is and links to
sign-up, log-in and password reset; a visitor opens a creator account (unvetted), asks
to be vetted, an admin approves or refuses it on the vetting page and the applicant is
told by e-mail; a password is reset by e-mail with Django's own views; createsuperuser
makes a vetted admin, never an unvetted creator."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import VettingRequest
from audit.models import AuditEvent


@pytest.mark.django_db
def test_a_stranger_at_the_root_gets_the_landing_page_with_the_ways_in(client):
    r = client.get("/")
    page = r.content.decode()
    assert r.status_code == 200
    assert "only with the consent of the person shown" in page
    for url in ("/signup/", "/login/", "/password-reset/"):
        assert f'href="{url}"' in page, url
    fr = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "avec le consentement de la personne montrée" in fr and "Forgot your password" not in fr


@pytest.mark.django_db
def test_a_visitor_signs_up_asks_to_be_vetted_and_is_told_the_decision_by_email(client, make_user, mailoutbox,
                                                                               django_capture_on_commit_callbacks):
    r = client.post("/signup/", {"username": "newcomer", "email": "new@example.org",
                                 "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42"})
    assert r.status_code == 302 and r["Location"] == "/account/vetting/"
    user = get_user_model().objects.get(username="newcomer")
    assert user.role == "creator" and not user.vetted
    assert "Ask to be vetted" in client.get("/").content.decode()  # the dashboard's unvetted notice links here
    r = client.post("/account/vetting/", {"message": ""})
    assert r.status_code == 400 and "This field is required" in r.content.decode()
    r = client.post("/account/vetting/", {"message": "Short films for my theatre company, actors consenting."})
    assert r.status_code == 302
    assert "waiting for an admin" in client.get("/account/vetting/").content.decode()
    req = VettingRequest.objects.get(user=user)
    assert req.decision == "pending" and AuditEvent.objects.filter(action="vetting.requested").exists()
    r = client.post("/account/vetting/", {"message": "again"})
    assert r.status_code == 400 and "already waiting" in r.content.decode()
    assert VettingRequest.objects.count() == 1

    admin = make_user("root", role="admin")
    client.force_login(admin)
    queue = client.get("/moderation/vetting/").content.decode()
    assert "Requests waiting for a decision: 1" in queue and "theatre company" in queue and "Refuse" in queue
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes once the decision is committed
        r = client.post("/moderation/vetting/", {"username": "newcomer", "vetted": "1", "note": "Company checked."})
    assert r.status_code == 302
    user.refresh_from_db()
    req.refresh_from_db()
    assert user.vetted and req.decision == "approved" and req.decided_by == admin
    assert [m.to for m in mailoutbox] == [["new@example.org"]]
    assert "approved" in mailoutbox[0].body and "Company checked." in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="vetting.decided", data__decision="approved").exists()


@pytest.mark.django_db
def test_a_refused_request_is_told_and_the_applicant_may_ask_again(client, make_user, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    applicant = make_user("hopeful", vetted=False)
    applicant.email = "hope@example.org"
    applicant.save()
    client.force_login(applicant)
    client.post("/account/vetting/", {"message": "Deepfakes of celebrities"})
    client.force_login(make_user("mod", role="moderator"))
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/moderation/vetting/", {"username": "hopeful", "vetted": "0",
                                                 "note": "Celebrities did not consent."})
    assert r.status_code == 302
    applicant.refresh_from_db()
    assert not applicant.vetted
    assert VettingRequest.objects.get(user=applicant).decision == "refused"
    assert len(mailoutbox) == 1 and "refused" in mailoutbox[0].subject
    client.force_login(applicant)
    page = client.get("/account/vetting/").content.decode()
    assert "Refused" in page and "Celebrities did not consent." in page and "Send the request" in page


@pytest.mark.django_db
def test_password_reset_by_email(client, make_user, mailoutbox):
    user = make_user("forgetful")
    user.email = "forget@example.org"
    user.save()
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()
    r = client.post("/password-reset/", {"email": "forget@example.org"})
    assert r.status_code == 302 and r["Location"] == "/password-reset/sent/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["forget@example.org"]
    link = re.search(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)", mailoutbox[0].body).group(1)
    r = client.get(link, follow=True)
    assert r.status_code == 200 and "Choose a new password" in r.content.decode()
    r = client.post(r.redirect_chain[-1][0], {"new_password1": "another-long-phrase-7",
                                              "new_password2": "another-long-phrase-7"})
    assert r.status_code == 302 and r["Location"] == "/password-reset/done/"
    assert client.login(username="forgetful", password="another-long-phrase-7")
    assert client.post("/password-reset/", {"email": "nobody@example.org"}).status_code == 302
    assert len(mailoutbox) == 1  # no mail for an unknown address, and the page does not say so


@pytest.mark.django_db
def test_createsuperuser_makes_a_vetted_admin(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-pass-phrase-42")
    call_command("createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.org")
    boss = get_user_model().objects.get(username="boss")
    assert boss.role == "admin" and boss.vetted and boss.is_superuser
    client.force_login(boss)
    page = client.get("/").content.decode()
    assert "boss (Admin)" in page and "(Creator)" not in page and "has not been vetted" not in page


@pytest.mark.django_db
def test_the_vetting_request_through_the_api(make_user, django_capture_on_commit_callbacks, mailoutbox):
    from tests.platform.conftest import as_user as api
    newbie = make_user("newbie", vetted=False)
    newbie.email = "newbie@example.org"
    newbie.save()
    r = api(newbie).post("/api/me/vetting-request/", {"message": ""}, format="json")
    assert r.status_code == 400 and "message" in r.json()
    r = api(newbie).post("/api/me/vetting-request/", {"message": "Training videos, staff consenting."}, format="json")
    assert r.status_code == 201 and r.json()["decision"] == "pending"
    r = api(newbie).post("/api/me/vetting-request/", {"message": "again"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "already_requested"
    auditor = make_user("audrey", role="auditor", vetted=False)
    assert api(auditor).post("/api/me/vetting-request/", {"message": "me too"}, format="json").status_code == 403
    mod = make_user("mod", role="moderator")
    listed = {row["username"]: row for row in api(mod).get("/api/vetting/").json()["results"]}
    assert listed["newbie"]["request"] == "Training videos, staff consenting." and listed["newbie"]["requested_at"]
    with django_capture_on_commit_callbacks(execute=True):
        r = api(mod).post("/api/vetting/", {"username": "newbie", "vetted": True, "note": "Checked."}, format="json")
    assert r.status_code == 201
    newbie.refresh_from_db()
    state = api(newbie).get("/api/me/vetting-request/").json()
    assert state["vetted"] and state["requests"][0]["decision"] == "approved"
    assert len(mailoutbox) == 1 and "approved" in mailoutbox[0].body
