"""The protected-person list: admins add faces (only embeddings are kept), and
only an admin or moderator can verify the elevated consent such a face needs."""
import json

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from consent.models import ProtectedPerson
from tests.conftest import corpus_file
from tests.platform.conftest import run_command


@pytest.mark.django_db
def test_admins_add_faces_from_the_command_line(make_user, settings):
    make_user("root", role="admin")
    make_user("ana")
    photo = str(corpus_file("photos/biden_1.jpg"))
    rc, _, err = run_command("protect", "--name", "Joe Biden", "--photo", photo, "--by", "ana")
    assert rc == 1 and "only an admin" in err and not ProtectedPerson.objects.exists()
    rc, out, err = run_command("protect", "--name", "Joe Biden", "--photo", photo, "--photo",
                               str(corpus_file("photos/biden_2.jpg")), "--by", "root", "--note", "head of state",
                               "--json")
    assert rc == 0, err
    person = ProtectedPerson.objects.get()
    assert json.loads(out) == {"id": person.pk, "name": "Joe Biden", "photos": 2}
    assert len(person.embeddings) == 2 and len(person.embeddings[0]) == 128
    assert not (settings.MEDIA_ROOT.exists() and any(settings.MEDIA_ROOT.rglob("*")))  # no photo kept
    assert AuditEvent.objects.get(action="protected.added").data["note"] == "head of state"
    rc, out, _ = run_command("protect", "--list", "--json")
    assert json.loads(out)[0]["name"] == "Joe Biden"


@pytest.mark.django_db
def test_elevated_consent_needs_a_moderator_and_a_note(client, consenting_subject, creator, make_user):
    consent = consenting_subject.consents.get()
    as_creator, as_mod = APIClient(), APIClient()
    as_creator.force_authenticate(creator)
    mod = make_user("mod", role="moderator")
    as_mod.force_authenticate(mod)
    assert as_creator.post(f"/api/grants/{consent.pk}/elevate/", {"note": "it's me"}).status_code == 403
    assert as_mod.post(f"/api/grants/{consent.pk}/elevate/", {"note": ""}).status_code == 400
    r = as_mod.post(f"/api/grants/{consent.pk}/elevate/", {"note": "confirmed by phone with her agent"})
    assert r.status_code == 200 and r.json()["elevated"]
    consent.refresh_from_db()
    assert consent.elevated_by == mod and AuditEvent.objects.filter(action="consent.elevated").exists()
    client.force_login(mod)
    assert "confirmed by phone" in client.get("/moderation/elevation/").content.decode()
