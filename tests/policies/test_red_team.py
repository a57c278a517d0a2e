"""The red team: ways around the consent gate, each tried through the REST API and
through the portal. Every one must be refused with the reason that applies, and
leave no file behind (no stored upload, no output, nothing queued for Celery).
A few positive controls show that the same doors do let a legitimate job through.

The revocations that race a queued or a running job are in test_revocation_races.py."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from consent.models import Consent, Subject
from consent.protected import protect_person
from consent.services import elevate_consent, revoke_consent
from jobs.models import Job
from portal.reasons import explain
from tests.conftest import corpus_file
from tests.platform.conftest import stored_job_files
from tests.policies.conftest import assert_nothing_written, consent_to, enrol, join, photo

# The rules that need the photo's face: decided by the intake, after the 202.
FACE_RULES = {"one-face", "identity-match", "protected-person"}


def denied(outcome, rule: str, text: str, version: str = "2026.12-1"):
    """A job row that records the refusal: status, the rule that decided, the reason shown.
    A rule that needs no face refuses in the request (201, a denied job); one that needs the
    face refuses at the intake (202 and a checking job, then denied)."""
    job = outcome.job
    assert job is not None and job.status == "denied", (outcome.http, outcome.text[:500])
    assert rule in job.decision["rules"], job.decision
    assert text in outcome.reasons, outcome.reasons
    assert job.decision["policy_version"] == version and job.decision["stage"] == "submission"
    assert outcome.checked == (rule in FACE_RULES), (rule, outcome.checked)
    if outcome.via == "api":
        answered = "checking" if outcome.checked else "denied"
        assert outcome.http == (202 if outcome.checked else 201)
        assert outcome.text.count(f'"status":"{answered}"') == 1
    else:
        assert outcome.http == 302 and "Denied by policy" in outcome.text
        # The creator is shown why, in words: the rule's name and the portal's sentence for the
        # policy's outcome (portal.reasons reads it back from the stored text; none is left raw).
        shown = explain(job.decision)
        assert shown and all(r["matched"] for r in shown), shown
        for r in shown:
            assert f"{escape(r['label'])}:</strong> {escape(r['sentence'])}" in outcome.text, (r, outcome.text[-3000:])
    assert_nothing_written(outcome)


def refused(outcome, text: str, status: int = 400):
    """Refused before any job exists (bad upload, a subject that is not the creator's)."""
    assert outcome.http == status, (outcome.http, outcome.text[:500])
    assert outcome.job is None and Job.objects.count() == 0
    assert text in outcome.text.replace("&#x27;", "'"), outcome.text[:2000]
    assert_nothing_written()


# --- consent ---------------------------------------------------------------------------------

def test_01_no_consent(world, via):
    denied(world.attempt(via, subject=world.dan, photo_path=photo("jeff_bezos")),
           "consent-active", "No consent from subject 'Dan' to creator 'ana'")


def test_02_revoked_consent(world, via):
    r = world.api(world.bea_account).post("/api/revocations/", {"consent": world.bea_consent.pk, "reason": "no"})
    assert r.status_code == 201
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")),
           "consent-active", f"Consent #{world.bea_consent.pk} from subject 'Bea' was revoked on")


def test_03_expired_consent(world, via):
    Consent.objects.filter(pk=world.bea_consent.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")), "consent-active", "expired on")


def test_04_consent_not_yet_valid(world, via):
    Consent.objects.filter(pk=world.bea_consent.pk).update(starts_at=timezone.now() + timedelta(days=2))
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")), "consent-active",
           "is not valid before")


def test_05_purpose_out_of_scope(world, via):
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2"), purpose="marketing"),
           "consent-scope", "Subject 'Bea' did not consent to videos for 'marketing'")


def test_06_purpose_the_platform_does_not_allow(world, via):
    Consent.objects.filter(pk=world.bea_consent.pk).update(purposes=["education", "political"])  # even then
    outcome = world.attempt(via, subject=world.bea, photo_path=photo("obama_2"), purpose="political")
    if via == "api":
        denied(outcome, "allowed-purpose", "Purpose 'political' is not allowed on Veritalk")
    else:  # the portal offers only the allowed purposes
        refused(outcome, "Select a valid choice. political is not one of the available choices.")


def test_07_channel_out_of_scope(world, via):
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2"), channel="broadcast"),
           "consent-scope", "Subject 'Bea' did not consent to videos shown on 'broadcast'")


def test_08_channel_left_unstated_under_a_channel_limited_consent(world, via):
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2"), channel=""),
           "consent-scope", "the job must say where the video will be shown")


def test_09_number_of_videos_used_up(world, via):
    Consent.objects.filter(pk=world.bea_consent.pk).update(max_videos=1)
    first = world.attempt(via, subject=world.bea, photo_path=photo("obama_2"))
    assert first.job.status == "queued"
    for f in stored_job_files():
        f.unlink()
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")), "consent-scope",
           "allows 1 video(s) and all of them have been made or are under way")


# --- identity --------------------------------------------------------------------------------

@pytest.mark.parametrize("other", ["biden_1", "biden_2", "jeff_bezos", "elizabeth_olsen", "woman_white_blouse"])
def test_10_another_persons_photo_under_a_consent(world, via, other):
    """Bea enrolled as obama_1: no photo of anyone else passes under her consent."""
    name = "woman_white_blouse.png" if other == "woman_white_blouse" else f"{other}.jpg"
    denied(world.attempt(via, subject=world.bea, photo_path=corpus_file(f"photos/{name}")),
           "identity-match", "The photo does not show subject 'Bea'")


def test_11_same_person_pair_passes_the_identity_check(world, via):
    """Control: obama_2 under the consent of the person who enrolled as obama_1 is accepted."""
    outcome = world.attempt(via, subject=world.bea, photo_path=photo("obama_2"))
    assert outcome.job.status == "queued", outcome.reasons
    assert outcome.job.decision["rules"][-1] == "rate-limit" and outcome.job.decision["allowed"]
    assert len(stored_job_files()) == 2  # photo and voice stored for the worker: the denials above store none


def test_12_the_other_same_person_pair_under_the_wrong_consent(world, via):
    """eve's subject Cy enrolled as biden_1: obama_2 is refused for him, biden_2 passes."""
    denied(world.attempt(via, user=world.eve, subject=world.cy, photo_path=photo("obama_2")),
           "identity-match", "The photo does not show subject 'Cy'")
    ok = world.attempt(via, user=world.eve, subject=world.cy, photo_path=photo("biden_2"))
    assert ok.job.status == "queued", ok.reasons


def test_13_subject_who_never_enrolled(world, via, make_user):
    legacy = Subject.objects.create(display_name="Ed", created_by=world.ana)  # no face on record
    Consent.objects.create(subject=legacy, creator=world.ana, purposes=["education"])
    denied(world.attempt(via, subject=legacy, photo_path=photo("obama_2"), channel=""),
           "identity-match", "Subject 'Ed' has not enrolled their face")


# --- protected persons -----------------------------------------------------------------------

def test_14_protected_person(world, via, make_user):
    admin = make_user("root", role="admin")
    protect_person(name="Barack Obama", photos=[photo("obama_2").read_bytes()], by=admin, note="public official")
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")),
           "protected-person", "protected list; videos of them need an elevated consent")
    # Control: once a moderator verified the consent, the same request passes.
    elevate_consent(world.bea_consent, by=make_user("mod", role="moderator"), note="confirmed with the office")
    assert world.attempt(via, subject=world.bea, photo_path=photo("obama_2")).job.status == "queued"


# --- accounts ---------------------------------------------------------------------------------

def test_15_unvetted_creator(world, via, make_user, faces):
    newbie = make_user("newbie", vetted=False)
    account = make_user("fay", role="subject", vetted=False)
    fay, _ = join(newbie, account, "Fay")
    enrol(fay, faces("obama_1"))
    consent_to(account, newbie)
    denied(world.attempt(via, user=newbie, subject=fay, photo_path=photo("obama_2")),
           "creator-vetted", "Creator 'newbie' has not been vetted yet")


def test_16_forged_subject_id(world, via):
    forged = Subject.objects.order_by("-pk").first().pk + 1000
    refused(world.attempt(via, subject=forged, photo_path=photo("obama_2")),
            f"Subject {forged} is not one of your subjects." if via == "api"
            else "That subject is not one of your subjects.")


def test_17_another_creators_subject(world, via):
    """Cy consented to eve, not to ana: ana cannot even name him."""
    refused(world.attempt(via, subject=world.cy, photo_path=photo("biden_2")),
            f"Subject {world.cy.pk} is not one of your subjects." if via == "api"
            else "That subject is not one of your subjects.")


def test_18_subject_account_asking_for_a_video(world, via):
    # The API refuses every non-creator account outright (403); the portal form finds no subject of theirs.
    if via == "api":
        refused(world.attempt(via, user=world.bea_account, subject=world.bea, photo_path=photo("obama_2")),
                "This needs a creator account.", status=403)
    else:
        refused(world.attempt(via, user=world.bea_account, subject=world.bea, photo_path=photo("obama_2")),
                "That subject is not one of your subjects.")


def test_19_replayed_consent_link(world, via, make_user):
    """Bea's invitation link, used once, replayed by another account: refused and audited;
    and a replay by Bea herself after revoking does not bring the consent back."""
    from audit.models import AuditEvent
    mallory = make_user("mallory", role="subject", vetted=False)
    if via == "api":
        r = world.api(mallory).post("/api/invitations/accept/", {"token": world.bea_token})
        assert r.status_code == 409 and "already been used" in r.json()["detail"]
    else:
        r = world.portal(mallory).post(f"/consent/invitations/{world.bea_token}/", {"accept": "1"})
        assert r.status_code == 409 and "already been used" in r.content.decode()
    assert not hasattr(mallory, "subject_profile") and not Subject.objects.filter(account=mallory).exists()
    assert AuditEvent.objects.filter(action="invitation.refused", actor="mallory").exists()
    revoke_consent(world.bea_consent, actor=world.bea_account)
    if via == "api":
        assert world.api(world.bea_account).post("/api/invitations/accept/",
                                                 {"token": world.bea_token}).status_code == 409
    else:
        assert world.portal(world.bea_account).post(f"/consent/invitations/{world.bea_token}/",
                                                    {"accept": "1"}).status_code == 409
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")), "consent-active", "was revoked on")


def test_20_creator_granting_consent_for_the_subject(world, via):
    """Only the subject grants: a creator posting a grant, or a signup on a used link, gets nothing."""
    if via == "api":
        r = world.api(world.ana).post("/api/grants/", {"creator": "ana", "purposes": ["education"], "agree": True},
                                      format="json")
        assert r.status_code == 403 and "Only the subject grants consent" in r.json()["detail"]
    else:
        r = world.portal(world.ana).get("/me/consents/new/")
        assert r.status_code == 403
    assert Consent.objects.filter(subject=world.dan).count() == 0
    denied(world.attempt(via, subject=world.dan, photo_path=photo("jeff_bezos")), "consent-active", "No consent")


def test_21_sockpuppet_enrols_someone_elses_face(world, via, make_user):
    """The creator makes a subject account of their own and enrols photos of Bea (obama): refused,
    the face already belongs to Bea's account."""
    puppet = make_user("puppet", role="subject", vetted=False)
    join(world.ana, puppet, "Puppet")
    with open(photo("obama_2"), "rb") as f:
        if via == "api":
            r = world.api(puppet).post("/api/subjects/enrol/", {"selfies": [f]}, format="multipart")
            assert r.status_code == 400 and "already enrolled by another account" in r.json()["selfies"][0]
        else:
            r = world.portal(puppet).post("/me/enrol/", {"selfies": [f]})
            assert r.status_code == 400 and "already enrolled by another account" in r.content.decode()
    assert not Subject.objects.get(account=puppet).enrolled
    assert_nothing_written()


# --- uploads and limits ------------------------------------------------------------------------

def test_22_oversized_photo(world, via, settings):
    settings.VERITALK_MAX_PHOTO_BYTES = 50_000
    refused(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")),
            "the photo file is" if via == "api" else "the limit is 0.048 MB")


def test_23_corrupt_photo(world, via, text_file):
    refused(world.attempt(via, subject=world.bea, photo_path=text_file), "not an image in a supported format")


def test_24_corrupt_audio(world, via, corrupt_audio):
    refused(world.attempt(via, subject=world.bea, photo_path=photo("obama_2"), audio_path=corrupt_audio), "damaged")


def test_25_two_people_in_the_photo(world, via, two_faces_png):
    outcome = world.attempt(via, subject=world.bea, photo_path=two_faces_png)
    denied(outcome, "one-face", "The photo shows 2 faces; it must show exactly one person.")
    assert outcome.job.error["code"] == "multiple_faces" and "shows 2 faces" in outcome.job.error["message"]


def test_26_voice_track_over_the_policy_limit(world, via, settings, tmp_path):
    """A stricter policy file than the upload limits: the input-limits rule refuses."""
    from policies.engine import DEFAULT_POLICY
    strict = tmp_path / "strict.toml"
    strict.write_bytes(DEFAULT_POLICY.read_bytes().replace(b"max_audio_seconds = 120.0", b"max_audio_seconds = 2.0")
                       .replace(b'version = "2026.12-1"', b'version = "test-strict"'))
    settings.VERITALK_POLICY_FILE = str(strict)
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")), "input-limits",
           "The voice track is 2.745 s long; the policy allows at most 2.0 s", version="test-strict")


# --- rate limit -------------------------------------------------------------------------------

def _past_jobs(world, n: int, status: str):
    Job.objects.bulk_create([Job(creator=world.ana, subject=world.bea, status=status, purpose="education",
                                 photo_sha256="0" * 64, audio_sha256="0" * 64) for _ in range(n)])


def test_27_rate_limit_on_videos(world, via):
    _past_jobs(world, 50, "succeeded")
    Consent.objects.filter(pk=world.bea_consent.pk).update(max_videos=None)
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")),
           "rate-limit", "Creator 'ana' has reached the limit of 50 videos in 24 hours")


def test_28_rate_limit_on_refused_requests(world, via):
    """A creator probing the gate (for instance hunting a photo that passes the identity check):
    one real refusal, then the 19 before it recorded as they would have been."""
    world.attempt("api", subject=world.dan, photo_path=photo("jeff_bezos"))
    _past_jobs(world, 19, "denied")
    denied(world.attempt(via, subject=world.bea, photo_path=photo("obama_2")),
           "rate-limit", "Creator 'ana' had 20 refused requests in 24 hours")


def test_29_anonymous(world, via):
    from django.test import Client
    from rest_framework.test import APIClient
    with open(photo("obama_2"), "rb") as p, open(corpus_file("audio/sr_english_en.wav"), "rb") as a:
        if via == "api":
            r = APIClient().post("/api/jobs/", {"subject": world.bea.pk, "photo": p, "audio": a})
            assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"
        else:
            r = Client().post("/jobs/new/", {"subject": world.bea.pk, "photo": p, "audio": a})
            assert r.status_code == 302 and "/login/" in r["Location"]
    assert Job.objects.count() == 0
    assert_nothing_written()
