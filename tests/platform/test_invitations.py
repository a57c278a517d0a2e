"""Invitations: a creator's one-time link or an invitation to an existing subject
account; accepting links the person to the creator (and grants nothing). Used,
expired and someone else's invitations are refused and the refusals audited."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import AuditEvent
from consent.models import Consent, Invitation, Subject
from consent.services import creators_of, subjects_for
from tests.platform.conftest import as_user as api


@pytest.fixture
def bea_account(make_user):
    return make_user("bea", role="subject", vetted=False)


def invite(creator, **data):
    r = api(creator).post("/api/invitations/", {"display_name": "Bea", **data}, format="json")
    assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_a_link_is_accepted_once(creator, bea_account, make_user):
    sent = invite(creator, message="a course video")
    assert sent["link"].endswith(f"/consent/invitations/{sent['token']}/") and sent["state"] == "pending"
    stored = Invitation.objects.get(pk=sent["id"])
    assert sent["token"] not in stored.token_sha256 and len(stored.token_sha256) == 64  # only its hash is kept

    r = api(bea_account).post("/api/invitations/accept/", {"token": sent["token"]}, format="json")
    assert r.status_code == 200 and r.json()["creator"] == "ana"
    subject = Subject.objects.get(account=bea_account)
    assert subject.created_by == creator and subject.display_name == "Bea" and not subject.enrolled
    assert not Consent.objects.exists()  # accepting is not consenting

    again = api(make_user("mallory", role="subject")).post("/api/invitations/accept/", {"token": sent["token"]})
    assert again.status_code == 409 and "already been used" in again.json()["detail"]
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["invitation.created", "subject.created", "invitation.accepted", "invitation.refused"]


@pytest.mark.django_db
def test_an_invitation_to_an_account_through_the_portal(client, creator, bea_account, make_user):
    client.force_login(creator)
    r = client.post("/subjects/invite/", {"display_name": "Bea", "invitee": "bea", "message": ""})
    assert r.status_code == 200 and "Invitation created" in r.content.decode()
    inv = Invitation.objects.get()
    assert inv.invitee == bea_account

    sam = make_user("sam", role="subject")
    client.force_login(sam)
    assert client.post(f"/me/invitations/{inv.pk}/accept/").status_code == 404  # not addressed to sam
    client.force_login(bea_account)
    page = client.get("/me/").content.decode()
    assert "ana invites you" in page
    r = client.post(f"/me/invitations/{inv.pk}/accept/")
    assert r.status_code == 302 and Subject.objects.get(account=bea_account).created_by == creator


@pytest.mark.django_db
def test_expired_and_misaddressed_invitations_are_refused(creator, bea_account, make_user):
    sent = invite(creator)
    Invitation.objects.filter(pk=sent["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    r = api(bea_account).post("/api/invitations/accept/", {"token": sent["token"]})
    assert r.status_code == 400 and r.json()["code"] == "expired"

    make_user("sam", role="subject")
    addressed = invite(creator, invitee="sam")
    r = api(bea_account).post("/api/invitations/accept/", {"token": addressed["token"]})
    assert r.status_code == 400 and "sent to another account" in r.json()["non_field_errors"][0]
    r = api(bea_account).post("/api/invitations/accept/", {"token": "not-a-token"})
    assert r.status_code == 404
    assert not Subject.objects.filter(account=bea_account).exists()


@pytest.mark.django_db
def test_signing_up_from_a_link(client, creator):
    sent = invite(creator)
    link = f"/consent/invitations/{sent['token']}/"
    page = client.get(link).content.decode()
    assert "ana" in page and "Create your subject account" in page
    form = {"signup": "1", "username": "bea", "email": "", "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1"}
    r = client.post(link, form)
    assert r.status_code == 302 and r["Location"] == "/me/enrol/"
    bea = get_user_model().objects.get(username="bea")
    assert bea.role == "subject" and Subject.objects.get(account=bea).created_by == creator
    assert client.get("/me/enrol/").status_code == 200  # logged in as the new account

    client.logout()
    r = client.post(link, {**form, "username": "bea2"})
    assert r.status_code == 409 and "already been used" in r.content.decode()
    assert not get_user_model().objects.filter(username="bea2").exists()  # no account for a dead link


@pytest.mark.django_db
def test_only_creators_invite(bea_account):
    assert api(bea_account).post("/api/invitations/", {"display_name": "X"}).status_code == 403
    assert api().post("/api/invitations/", {"display_name": "X"}).status_code == 401
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_one_person_two_creators(creator, bea_account, make_user):
    eve = make_user("eve")
    for who in (creator, eve):
        api(bea_account).post("/api/invitations/accept/", {"token": invite(who)["token"]})
    subject = Subject.objects.get(account=bea_account)
    assert creators_of(subject) == [creator, eve]
    assert list(subjects_for(eve)) == [subject] and list(subjects_for(creator)) == [subject]
    listing = api(eve).get("/api/subjects/").json()
    assert [s["display_name"] for s in listing["results"]] == ["Bea"]
