"""Vetting: creators start unvetted; only an admin or moderator vets (or withdraws
vetting), always with a note, never their own account; each decision is audited
and the gate follows it at once."""
import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from tests.platform.conftest import as_user as api


@pytest.mark.django_db
def test_new_creators_are_unvetted_until_a_moderator_vets_them_with_a_note(make_user):
    newbie = get_user_model().objects.create_user("newbie", password="x-long-password-1")
    assert newbie.role == "creator" and not newbie.vetted
    mod = make_user("mod", role="moderator", vetted=False)
    r = api(mod).post("/api/vetting/", {"username": "newbie", "note": ""})
    assert r.status_code == 400 and "note" in str(r.json())
    r = api(mod).post("/api/vetting/", {"username": "newbie", "note": "ID checked, portfolio reviewed"})
    assert r.status_code == 201 and r.json()["vetted"]
    newbie.refresh_from_db()
    assert newbie.vetted and newbie.vetted_by == mod and newbie.vetting_note == "ID checked, portfolio reviewed"
    event = AuditEvent.objects.get(action="account.vetted")
    assert event.actor == "mod" and event.data == {"username": "newbie", "note": "ID checked, portfolio reviewed"}


@pytest.mark.django_db
def test_creators_cannot_vet(creator, make_user):
    newbie = make_user("newbie", vetted=False)
    assert api(creator).post("/api/vetting/", {"username": "newbie", "note": "trust me"}).status_code == 403
    assert api(creator).get("/api/vetting/").status_code == 403
    admin = make_user("root", role="admin", vetted=False)
    r = api(admin).post("/api/vetting/", {"username": "root", "note": "me"})
    assert r.status_code == 400 and r.json()["code"] == "self_vetting"
    newbie.refresh_from_db()
    assert not newbie.vetted and not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_withdrawn_vetting_denies_at_once_through_the_portal(client, consenting_subject, creator, make_user,
                                                             portrait, short_speech):
    mod = make_user("mod", role="moderator")
    client.force_login(mod)
    page = client.get("/moderation/vetting/").content.decode()
    assert "ana" in page and "Withdraw vetting" in page
    r = client.post("/moderation/vetting/", {"username": "ana", "vetted": "0", "note": "complaint under review"})
    assert r.status_code == 302
    creator.refresh_from_db()
    assert not creator.vetted and AuditEvent.objects.filter(action="account.unvetted").exists()
    from jobs.services import submit_job
    with open(portrait, "rb") as p, open(short_speech, "rb") as a:
        job = submit_job(creator=creator, subject=consenting_subject, photo=p, audio=a, purpose="test")
    assert job.status == "denied" and job.decision["rules"] == ["creator-vetted"]
    client.force_login(creator)
    assert client.get("/moderation/vetting/").status_code == 403
