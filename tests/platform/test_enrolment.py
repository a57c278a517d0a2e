"""Enrolment from selfies: only face embeddings are kept (no pixels written
anywhere), selfies of different people are refused, and a face enrolled by one
account cannot be enrolled again by another."""
import pytest

from audit.models import AuditEvent
from consent.identity import distance
from consent.invitations import accept_invitation, create_invitation
from consent.models import Subject
from tests.conftest import corpus_file
from tests.platform.conftest import as_user as api


@pytest.fixture
def bea(make_user, creator):
    account = make_user("bea", role="subject", vetted=False)
    accept_invitation(account=account, invitation=create_invitation(creator=creator, display_name="Bea")[0])
    return account


def files_under(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.django_db
def test_selfies_enrol_and_no_pixels_are_kept(bea, settings):
    from django.conf import settings as live
    before = set(files_under(live.VAR_DIR))
    with open(corpus_file("photos/obama_1.jpg"), "rb") as a, open(corpus_file("photos/obama_2.jpg"), "rb") as b:
        r = api(bea).post("/api/subjects/enrol/", {"selfies": [a, b]}, format="multipart")
    assert r.status_code == 200, r.content
    assert r.json()["enrolled"] and "embedding" not in r.content.decode()  # the face never leaves the server
    subject = Subject.objects.get(account=bea)
    assert len(subject.enrolment_embeddings) == 2 and len(subject.face_embedding) == 128
    assert distance(subject.face_embedding, subject.enrolment_embeddings[0]) < 0.25  # the mean of the two
    assert set(files_under(live.VAR_DIR)) == before and files_under(settings.MEDIA_ROOT) == []
    event = AuditEvent.objects.get(action="subject.enrolled")
    assert event.data["selfies"] == 2 and len(event.data["selfie_sha256"]) == 2


@pytest.mark.django_db
def test_selfies_of_two_people_are_refused(client, bea):
    client.force_login(bea)
    with open(corpus_file("photos/obama_1.jpg"), "rb") as a, open(corpus_file("photos/biden_1.jpg"), "rb") as b:
        r = client.post("/me/enrol/", {"selfies": [a, b]})
    assert r.status_code == 400 and "do not all show the same person" in r.content.decode()
    assert not Subject.objects.get(account=bea).enrolled


@pytest.mark.django_db
def test_a_selfie_without_a_face(bea, no_face_png):
    with open(no_face_png, "rb") as f:
        r = api(bea).post("/api/subjects/enrol/", {"selfies": [f]}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "no_face" and "no face" in r.json()["selfies"][0]


@pytest.mark.django_db
def test_one_face_one_account(bea, make_user, creator):
    with open(corpus_file("photos/biden_1.jpg"), "rb") as f:
        assert api(bea).post("/api/subjects/enrol/", {"selfies": [f]}, format="multipart").status_code == 200
    other = make_user("sam", role="subject")
    accept_invitation(account=other, invitation=create_invitation(creator=creator, display_name="Sam")[0])
    with open(corpus_file("photos/biden_2.jpg"), "rb") as f:
        r = api(other).post("/api/subjects/enrol/", {"selfies": [f]}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "face_taken"
    assert AuditEvent.objects.filter(action="subject.enrolment_refused", actor="sam").exists()


@pytest.mark.django_db
def test_only_a_subject_enrols(creator, portrait):
    with open(portrait, "rb") as f:
        assert api(creator).post("/api/subjects/enrol/", {"selfies": [f]}, format="multipart").status_code == 403


@pytest.mark.django_db
def test_a_cartoon_is_not_enrolled(bea):
    """Issue 21: a cartoon drawing was accepted as an enrolment selfie. Among real selfies
    too, it is refused with a reason, recorded, and nothing is enrolled."""
    with open(corpus_file("photos/obama_1.jpg"), "rb") as a, \
            open(corpus_file("generated/cartoon_3d_boy.jpg"), "rb") as b:
        r = api(bea).post("/api/subjects/enrol/", {"selfies": [a, b]}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "not_a_photograph", r.content
    assert r.json()["selfies"] == ["This looks like a drawing or a render, not a photograph of a person"]
    assert not Subject.objects.get(account=bea).enrolled
    event = AuditEvent.objects.get(action="subject.enrolment_refused", actor="bea")
    assert "not a photograph" in event.data["reason"]


@pytest.mark.django_db
def test_an_artwork_selfie_is_refused_in_french(client, bea):
    client.force_login(bea)
    with open(corpus_file("generated/anime_man_musetalk.jpeg"), "rb") as f:
        r = client.post("/me/enrol/", {"selfies": [f]}, HTTP_ACCEPT_LANGUAGE="fr")
    page = r.content.decode()
    assert r.status_code == 400 and "ressemble à un dessin ou à une image de synthèse" in page
    assert not Subject.objects.get(account=bea).enrolled
